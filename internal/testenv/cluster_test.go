package testenv

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/workflows"
)

func TestPersistence(t *testing.T) {
	for _, tc := range []struct {
		env, want, err string
	}{
		{"", SQLite, ""},
		{"sqlite", SQLite, ""},
		{"postgres", Postgres, ""},
		{"mysql", "", `INTERLOCK_TEST_PERSISTENCE="mysql": want sqlite or postgres`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(PersistenceEnv, tc.env)
			got, err := Persistence()
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

const clusterQueue = "testenv-cluster"

// clusterWorkflow greets through an activity, then waits for a reply: the state in between is only in
// the cluster's database.
func clusterWorkflow(ctx workflow.Context, name string) (string, error) {
	stage := "greeting"
	if err := workflow.SetQueryHandler(ctx, "stage", func() (string, error) { return stage, nil }); err != nil {
		return "", err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var greeting string
	if err := workflow.ExecuteActivity(ctx, greet, name).Get(ctx, &greeting); err != nil {
		return "", err
	}
	stage = "waiting"
	var reply string
	workflow.GetSignalChannel(ctx, "reply").Receive(ctx, &reply)
	return greeting + " / " + reply, nil
}

func greet(_ context.Context, name string) (string, error) { return "hello " + name, nil }

// A cluster (the Temporal server on PostgreSQL) runs a real workflow with a worker; the Temporal
// server is SIGKILLed and restarted mid-run; the run's state and its search attribute survive, it
// completes, and Stop leaves no process and no folder behind.
func TestClusterWorkflowSurvivesRestart(t *testing.T) {
	t.Parallel()
	skipIfDisabled(t)
	ctx, cancel := context.WithTimeout(t.Context(), StartTimeout)
	defer cancel()
	began := time.Now()
	srv, err := StartCluster(ctx)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(srv.Logs())
		}
		if !stopped {
			_ = srv.Stop(context.Background())
		}
	})
	t.Logf("cluster ready in %s", time.Since(began).Round(time.Millisecond))
	require.Equal(t, Postgres, srv.Persistence)
	require.NotNil(t, srv.Postgres)

	w := sdkworker.New(srv.Client, clusterQueue, sdkworker.Options{})
	w.RegisterWorkflow(clusterWorkflow)
	w.RegisterActivity(greet)
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := srv.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "testenv-cluster-restart",
		TaskQueue:             clusterQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.AttrPlaybook.ValueSet("testenv-cluster")),
	}, clusterWorkflow, "cluster")
	require.NoError(t, err)
	stage := func(c require.TestingT) string {
		v, err := srv.Client.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), "stage")
		require.NoError(c, err)
		var s string
		require.NoError(c, v.Get(&s))
		return s
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) { require.Equal(c, "waiting", stage(c)) },
		30*time.Second, 100*time.Millisecond, "the activity ran")

	oldPID := srv.Process.PID()
	began = time.Now()
	require.NoError(t, srv.Process.Kill())
	require.NoError(t, srv.Process.Restart(ctx))
	t.Logf("temporal server killed and ready again in %s", time.Since(began).Round(time.Millisecond))
	requireGone(t, oldPID)

	// The client reconnects by itself; the worker's pollers too.
	require.Equal(t, "waiting", stage(t), "the run's state survived in PostgreSQL")
	require.NoError(t, srv.Client.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "reply", "after the restart"))
	var result string
	require.NoError(t, run.Get(ctx, &result))
	require.Equal(t, "hello cluster / after the restart", result)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		list, err := srv.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: `InterlockPlaybook = "testenv-cluster"`,
		})
		require.NoError(c, err)
		require.Len(c, list.GetExecutions(), 1)
		require.Equal(c, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, list.GetExecutions()[0].GetStatus())
	}, 10*time.Second, 100*time.Millisecond, "SQL visibility has the run, by its search attribute")

	w.Stop()
	temporalPID, postgresPID, dir := srv.Process.PID(), srv.Postgres.PID(), srv.Dir()
	require.NoError(t, srv.Stop(context.Background()))
	stopped = true
	requireGone(t, temporalPID)
	requireGone(t, postgresPID)
	_, err = os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "Stop removes the cluster's folder")
}

// requireGone asserts that neither the process nor anything in its group is left.
func requireGone(t *testing.T, pid int) {
	t.Helper()
	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "process %d outlived Stop", pid)
	require.ErrorIs(t, syscall.Kill(-pid, 0), syscall.ESRCH, "process group %d outlived Stop", pid)
}

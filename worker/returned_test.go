package worker_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

// TestReturnedRunsTellsOfCompletedRuns: a run whose code returns a result is told of once, with its
// result and incident search attribute; a failing or continuing run is not.
func TestReturnedRunsTellsOfCompletedRuns(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		wf   any
		told bool
	}{
		{"result", func(ctx workflow.Context) (*outcomeResult, error) {
			// The intake sets it at start; the test environment takes it from an upsert.
			if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.AttrIncidentID.ValueSet("inc-42")); err != nil {
				return nil, err
			}
			return &outcomeResult{Outcome: "planned"}, nil
		}, true},
		{"error", func(workflow.Context) (*outcomeResult, error) { return nil, errors.New("boom") }, false},
		{"continue as new", func(ctx workflow.Context) error { return workflow.NewContinueAsNewError(ctx, "Case") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var told []worker.ReturnedRun
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{
				worker.ReturnedRuns(func(r worker.ReturnedRun) { told = append(told, r) }),
			}})
			env.RegisterWorkflowWithOptions(tc.wf, workflow.RegisterOptions{Name: "Case"})
			env.ExecuteWorkflow("Case")
			require.True(t, env.IsWorkflowCompleted())
			if !tc.told {
				require.Empty(t, told)
				return
			}
			require.Len(t, told, 1)
			r := told[0]
			require.Equal(t, "Case", r.WorkflowType)
			require.Equal(t, "inc-42", r.IncidentID)
			require.NotEmpty(t, r.WorkflowID)
			require.NotEmpty(t, r.RunID)
			require.False(t, r.Returned.Before(r.Started))
			require.Equal(t, &outcomeResult{Outcome: "planned"}, r.Result)
		})
	}
}

// TestReturnedRunsSilentOnReplay: replaying committed histories (what a worker does after an
// eviction or a restart) tells of no run, so none is written twice.
func TestReturnedRunsSilentOnReplay(t *testing.T) {
	t.Parallel()
	told := 0
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
		Interceptors: append(worker.Interceptors(), worker.ReturnedRuns(func(worker.ReturnedRun) { told++ })),
	})
	require.NoError(t, err)
	worker.RegisterWorkflows(replayer, playbooks.Shipped(config.Default().Playbooks))
	replayed := 0
	for name, hist := range historyFiles(t) {
		require.NoError(t, replayer.ReplayWorkflowHistory(quiet, hist), name)
		replayed++
	}
	require.Positive(t, replayed)
	require.Zero(t, told)
}

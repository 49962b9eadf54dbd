package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRegisterServesTheTestEnvironment: the Register the worker uses also fills a testsuite environment,
// so a playbook runs by its registered name with the real activities Build made from the config.
func TestRegisterServesTheTestEnvironment(t *testing.T) {
	t.Parallel()
	stub := snowstandin.New(snowstandin.Options{Username: "u", Password: "p"})
	snow := httptest.NewServer(stub)
	t.Cleanup(snow.Close)
	cfg := config.Default()
	cfg.ServiceNow.InstanceURL, cfg.ServiceNow.Username, cfg.ServiceNow.Password = snow.URL, "u", config.NewSecret("p")
	cfg.Intake.AnswerSecret = config.NewSecret(strings.Repeat("s", 32))
	cfg.Sentinel.WriteBack = config.WriteBackLog
	app, err := worker.Build(cfg, discard())
	require.NoError(t, err)

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	require.NoError(t, worker.Register(env, app.Playbooks, app.Activities))
	data, err := os.ReadFile("../testdata/sentinel-incident-new-engineering-station.json")
	require.NoError(t, err)
	var inc incident.Incident
	require.NoError(t, inc.UnmarshalJSON(data))
	env.ExecuteWorkflow(playbooks.NewEngineeringStationName, inc)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res playbooks.NewEngineeringStationResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Len(t, res.Tickets, 1)
	require.Equal(t, 1, stub.CreatedCount("incident"))
}

// slow is an activity that takes a while, to be in flight when the worker is told to stop.
type slow struct {
	started  chan struct{}
	finished chan error
}

func (s *slow) Slow(ctx context.Context) error {
	close(s.started)
	select {
	case <-time.After(time.Second):
		s.finished <- nil
		return nil
	case <-ctx.Done():
		s.finished <- ctx.Err()
		return ctx.Err()
	}
}

func slowWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var s *slow
	return workflow.ExecuteActivity(ctx, s.Slow).Get(ctx, nil)
}

// TestRunStopsGracefully: cancelling Run (what SIGTERM does) lets the in-flight activity attempt
// finish within the shutdown timeout instead of cutting it off.
func TestRunStopsGracefully(t *testing.T) {
	t.Parallel()
	srv := testenv.NewTemporal(t)
	s := &slow{started: make(chan struct{}), finished: make(chan error, 1)}
	cfg := config.Default().Temporal
	cfg.ShutdownTimeout = 10 * time.Second
	w := sdkworker.New(srv.Client, workflows.TaskQueue, worker.Options(cfg))
	w.RegisterWorkflowWithOptions(slowWorkflow, workflow.RegisterOptions{Name: "SlowForTest"})
	w.RegisterActivity(s)

	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- worker.Serve(ctx, w) }()
	run, err := srv.Client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: "graceful", TaskQueue: "interlock-playbooks"}, "SlowForTest")
	require.NoError(t, err)
	select {
	case <-s.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the activity never started")
	}
	stop()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the stop")
	}
	require.NoError(t, <-s.finished, "the in-flight attempt ran to completion")

	// Its completion reached the server: the history holds ActivityTaskCompleted.
	iter := srv.Client.GetWorkflowHistory(t.Context(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	completed := false
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		completed = completed || ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
	}
	require.True(t, completed)
}

// TestBuildNeedsAnExplicitWriteBack: without a Sentinel workspace the worker does not quietly log its
// write-backs; it says which keys to set, and sentinel.writeBack: log is the explicit way to have no SIEM.
func TestBuildNeedsAnExplicitWriteBack(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Intake.AnswerSecret = config.NewSecret(strings.Repeat("s", 32))
	_, err := worker.Build(cfg, discard())
	require.ErrorContains(t, err, "sentinel.subscriptionID")
	require.ErrorContains(t, err, "sentinel.writeBack: log")

	cfg.Sentinel.WriteBack = config.WriteBackLog
	app, err := worker.Build(cfg, discard())
	require.NoError(t, err)
	require.Equal(t, "log", app.Activities.Incidents.Writer.Name())
}

// Every tuning knob of the temporal section reaches the SDK's options: a documented setting that is
// silently ignored (the pollers once were) leaves the worker at the SDK's defaults.
func TestOptionsCarryTheTuning(t *testing.T) {
	cfg := config.Default().Temporal
	cfg.MaxConcurrentActivities, cfg.MaxConcurrentWorkflows = 11, 12
	cfg.WorkflowTaskPollers, cfg.ActivityTaskPollers = 13, 14
	cfg.ShutdownTimeout = 15 * time.Second
	o := worker.Options(cfg)
	for name, c := range map[string]struct{ got, want any }{
		"activity slots":       {o.MaxConcurrentActivityExecutionSize, 11},
		"local activity slots": {o.MaxConcurrentLocalActivityExecutionSize, 11},
		"workflow task slots":  {o.MaxConcurrentWorkflowTaskExecutionSize, 12},
		"workflow pollers":     {o.MaxConcurrentWorkflowTaskPollers, 13},
		"activity pollers":     {o.MaxConcurrentActivityTaskPollers, 14},
		"stop timeout":         {o.WorkerStopTimeout, 15 * time.Second},
	} {
		require.Equal(t, c.want, c.got, name)
	}
	require.GreaterOrEqual(t, config.Default().Temporal.WorkflowTaskPollers, 8, "the measured default")
}

package worker_test

import (
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
)

type outcomeResult struct{ Outcome string }

// TestMetricsCountRunsByStatusAndOutcome: the interceptor counts each closed run once, under the
// result's Outcome field when it has one.
func TestMetricsCountRunsByStatusAndOutcome(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name            string
		wf              any
		status, outcome string
	}{
		{"outcome field", func(workflow.Context) (*outcomeResult, error) { return &outcomeResult{Outcome: "planned"}, nil }, "completed", "planned"},
		{"empty outcome", func(workflow.Context) (outcomeResult, error) { return outcomeResult{}, nil }, "completed", "none"},
		{"no struct", func(workflow.Context) (string, error) { return "done", nil }, "completed", "none"},
		{"error", func(workflow.Context) (*outcomeResult, error) {
			return &outcomeResult{Outcome: "x"}, errors.New("boom")
		}, "failed", "none"},
		{"continue as new", func(ctx workflow.Context) error { return workflow.NewContinueAsNewError(ctx, "Case") }, "continued_as_new", "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			m, err := worker.NewMetrics(reg, playbooks.Shipped(config.Default().Playbooks))
			require.NoError(t, err)
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestWorkflowEnvironment()
			env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{m.Interceptor()}})
			env.RegisterWorkflowWithOptions(tc.wf, workflow.RegisterOptions{Name: "Case"})
			env.ExecuteWorkflow("Case")
			require.True(t, env.IsWorkflowCompleted())
			require.Equal(t, 1, testutil.CollectAndCount(reg, "interlock_playbook_runs_total")-len(playbooks.Shipped(config.Default().Playbooks).Names()),
				"one series besides the zero failure series of every playbook")
			require.InDelta(t, 1, counterValue(t, reg, "Case", tc.status, tc.outcome), 0)
		})
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, playbook, status, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "interlock_playbook_runs_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["playbook"] == playbook && l["status"] == status && l["outcome"] == outcome {
				return s.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestMetricsTimeSideEffects: a real playbook's ServiceNow ticket (against the stand-in's Table API)
// shows in the side-effect histogram, and the run in the outcomes.
func TestMetricsTimeSideEffects(t *testing.T) {
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
	reg := prometheus.NewRegistry()
	m, err := worker.NewMetrics(reg, app.Playbooks)
	require.NoError(t, err)

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{m.Interceptor()}})
	require.NoError(t, worker.Register(env, app.Playbooks, app.Activities))
	data, err := os.ReadFile("../testdata/sentinel-incident-new-engineering-station.json")
	require.NoError(t, err)
	var inc incident.Incident
	require.NoError(t, inc.UnmarshalJSON(data))
	env.ExecuteWorkflow(playbooks.NewEngineeringStationName, inc)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 1, stub.CreatedCount("incident"))

	families, err := reg.Gather()
	require.NoError(t, err)
	tickets := uint64(0)
	for _, f := range families {
		if f.GetName() != "interlock_side_effect_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["kind"] == "servicenow_ticket" && l["result"] == "ok" {
				tickets += s.GetHistogram().GetSampleCount()
			}
		}
	}
	require.Equal(t, uint64(1), tickets, "one ticket attempt timed")
	require.InDelta(t, 1, counterValue(t, reg, playbooks.NewEngineeringStationName, "completed", "none"), 0)
}

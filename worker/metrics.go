package worker

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/playbooks"
)

// Side-effect kinds in interlock_side_effect_duration_seconds: the activities that change something
// outside Interlock. Lookups are left to the SDK's temporal_activity_execution_latency_seconds.
var sideEffectKinds = map[string]string{
	activities.EnsureTicketName:          "servicenow_ticket",
	activities.SendPLCNotificationName:   "email",
	activities.SendLineNotificationName:  "email",
	activities.SendOwnerNotificationName: "email",
	activities.AddIncidentCommentName:    "writeback",
	activities.UpdateIncidentName:        "writeback",
	activities.SyncAlertStatusName:       "writeback",
}

// Run statuses in interlock_playbook_runs_total; outcomeNone when the result names no outcome.
const (
	statusCompleted      = "completed"
	statusFailed         = "failed"
	statusCanceled       = "canceled"
	statusContinuedAsNew = "continued_as_new"
	outcomeNone          = "none"
)

// Metrics are the worker's own Prometheus metrics, recorded by its interceptor so that no workflow's
// commands change.
type Metrics struct {
	runs        *prometheus.CounterVec
	sideEffects *prometheus.HistogramVec
}

// NewMetrics registers the worker's metrics on reg, with a zero series for every playbook's failures
// and every side effect's results, so rate() and absence alerts work before the first run.
func NewMetrics(reg prometheus.Registerer, pbs *playbooks.Registry) (*Metrics, error) {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "interlock_playbook_runs_total",
			Help: "Workflow runs closed by this worker, by playbook (workflow type), status (completed, failed, canceled, continued_as_new) and outcome (the result's Outcome field, none without one).",
		}, []string{"playbook", "status", "outcome"}),
		sideEffects: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "interlock_side_effect_duration_seconds",
			Help:    "Duration of one side-effect activity attempt, by kind (servicenow_ticket, email, writeback), activity type and result (ok, error).",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind", "activity", "result"}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.sideEffects} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register worker metrics: %w", err)
		}
	}
	for _, p := range pbs.All() {
		m.runs.WithLabelValues(p.Name, statusFailed, outcomeNone)
	}
	for name, kind := range sideEffectKinds {
		m.sideEffects.WithLabelValues(kind, name, "ok")
		m.sideEffects.WithLabelValues(kind, name, "error")
	}
	return m, nil
}

// Interceptor records run outcomes and side-effect latencies for a worker's Options.Interceptors.
func (m *Metrics) Interceptor() interceptor.WorkerInterceptor { return &metricsInterceptor{m: m} }

type metricsInterceptor struct {
	interceptor.WorkerInterceptorBase
	m *Metrics
}

func (i *metricsInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityMetrics{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, m: i.m}
}

func (i *metricsInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowMetrics{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, m: i.m}
}

type activityMetrics struct {
	interceptor.ActivityInboundInterceptorBase
	m *Metrics
}

func (a *activityMetrics) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	name := activity.GetInfo(ctx).ActivityType.Name
	kind, ok := sideEffectKinds[name]
	if !ok {
		return a.Next.ExecuteActivity(ctx, in)
	}
	start := time.Now()
	res, err := a.Next.ExecuteActivity(ctx, in)
	result := "ok"
	if err != nil {
		result = "error"
	}
	a.m.sideEffects.WithLabelValues(kind, name, result).Observe(time.Since(start).Seconds())
	return res, err
}

type workflowMetrics struct {
	interceptor.WorkflowInboundInterceptorBase
	m *Metrics
}

// ExecuteWorkflow counts the run when its code returns, never while replaying: a run replayed after
// an eviction or a worker restart has been counted already (the check the SDK's replay-aware
// workflow.GetMetricsHandler makes). Counting schedules no command.
func (w *workflowMetrics) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := w.Next.ExecuteWorkflow(ctx, in)
	if !workflow.IsReplaying(ctx) {
		// runOutcome reads a struct field by reflection, deterministic though the checker cannot tell.
		w.m.runs.WithLabelValues(workflow.GetInfo(ctx).WorkflowType.Name, runStatus(err), runOutcome(res, err)).Inc() //workflowcheck:ignore
	}
	return res, err
}

func runStatus(err error) string {
	var can *workflow.ContinueAsNewError
	switch {
	case err == nil:
		return statusCompleted
	case errors.As(err, &can):
		return statusContinuedAsNew
	case temporal.IsCanceledError(err):
		return statusCanceled
	default:
		return statusFailed
	}
}

// runOutcome is the string field Outcome of a result struct (the playbooks' results name their
// outcome there); outcomeNone otherwise.
func runOutcome(res any, err error) string {
	if err != nil || res == nil {
		return outcomeNone
	}
	v := reflect.ValueOf(res)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return outcomeNone
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return outcomeNone
	}
	f := v.FieldByName("Outcome")
	if !f.IsValid() || f.Kind() != reflect.String || f.String() == "" {
		return outcomeNone
	}
	return f.String()
}

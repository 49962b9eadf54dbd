package sdkmetrics_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/sdkmetrics"
)

// TestHandlerExportsUnderPrometheusNames: counters get _total, timers become _seconds histograms,
// tags merge into the fixed label set, and tags outside it are dropped rather than breaking a family.
func TestHandlerExportsUnderPrometheusNames(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := sdkmetrics.New(reg, slog.New(slog.DiscardHandler))
	root := h.WithTags(map[string]string{"namespace": "default", "client_name": "temporal_go"})
	root.WithTags(map[string]string{"workflow_type": "A"}).Counter("temporal_workflow_completed").Inc(2)
	root.WithTags(map[string]string{"workflow_type": "B", "task_queue": "q"}).Counter("temporal_workflow_completed").Inc(1)
	root.Timer("temporal_workflow_task_execution_latency").Record(30 * time.Millisecond)
	root.Gauge("temporal_num_pollers").Update(4)

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP temporal_workflow_completed_total Temporal Go SDK counter temporal_workflow_completed.
# TYPE temporal_workflow_completed_total counter
temporal_workflow_completed_total{activity_type="",failure_reason="",namespace="default",operation="",poller_type="",status_code="",task_queue="",worker_type="",workflow_type="A"} 2
temporal_workflow_completed_total{activity_type="",failure_reason="",namespace="default",operation="",poller_type="",status_code="",task_queue="q",worker_type="",workflow_type="B"} 1
# HELP temporal_num_pollers Temporal Go SDK gauge temporal_num_pollers.
# TYPE temporal_num_pollers gauge
temporal_num_pollers{activity_type="",failure_reason="",namespace="default",operation="",poller_type="",status_code="",task_queue="",worker_type="",workflow_type=""} 4
`), "temporal_workflow_completed_total", "temporal_num_pollers"))
	families, err := reg.Gather()
	require.NoError(t, err)
	var hist bool
	for _, f := range families {
		if f.GetName() == "temporal_workflow_task_execution_latency_seconds" {
			hist = true
			require.Equal(t, uint64(1), f.GetMetric()[0].GetHistogram().GetSampleCount())
			require.InDelta(t, 0.03, f.GetMetric()[0].GetHistogram().GetSampleSum(), 1e-9)
		}
	}
	require.True(t, hist, "the timer is exported as a histogram in seconds")
}

// TestHandlerDropsAClashingMetric: a name another collector already holds is not exported, and the
// SDK's call still works.
func TestHandlerDropsAClashingMetric(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "temporal_request_total", Help: "taken"}))
	h := sdkmetrics.New(reg, slog.New(slog.DiscardHandler))
	h.Counter("temporal_request").Inc(1)
	h.Counter("temporal_request").Inc(1)
	require.Equal(t, 1, testutil.CollectAndCount(reg, "temporal_request_total"))
}

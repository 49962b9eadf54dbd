// Package sdkmetrics exports the Temporal SDK's own metrics (task latencies, polls, requests) on a
// Prometheus registry, as client.Options.MetricsHandler.
package sdkmetrics

import (
	"errors"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// Labels are the SDK tags kept as labels. Prometheus wants one label set per metric name while the SDK
// tags a metric differently at different call sites, so every metric gets all of these (empty when
// the SDK did not set one, which Prometheus drops) and other tags are dropped.
var Labels = []string{"namespace", "task_queue", "worker_type", "workflow_type", "activity_type", "poller_type", "operation", "failure_reason", "status_code"}

// Buckets suit both sub-millisecond task handling and schedule-to-start waits of a backlog.
var Buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Handler is a client.MetricsHandler. Counters are exported as <name>_total, timers as histograms
// <name>_seconds, gauges under their own name; each is registered on first use.
type Handler struct {
	vecs *vecs
	tags map[string]string
}

type vecs struct {
	reg      prometheus.Registerer
	log      *slog.Logger
	mu       sync.Mutex
	counters map[string]*prometheus.CounterVec
	gauges   map[string]*prometheus.GaugeVec
	timers   map[string]*prometheus.HistogramVec
}

// New returns a handler registering on reg; registration failures (a name taken by another type) are
// logged once per name and that metric is dropped.
func New(reg prometheus.Registerer, logger *slog.Logger) *Handler {
	return &Handler{vecs: &vecs{
		reg: reg, log: logger,
		counters: map[string]*prometheus.CounterVec{},
		gauges:   map[string]*prometheus.GaugeVec{},
		timers:   map[string]*prometheus.HistogramVec{},
	}}
}

// WithTags returns a handler whose metrics carry tags on top of h's.
func (h *Handler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &Handler{vecs: h.vecs, tags: merged}
}

// Counter returns the counter name_total with h's tags.
func (h *Handler) Counter(name string) client.MetricsCounter {
	v := lookup(h.vecs, h.vecs.counters, name+"_total", func(n string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: n, Help: "Temporal Go SDK counter " + name + "."}, Labels)
	})
	if v == nil {
		return client.MetricsNopHandler.Counter(name)
	}
	c := v.With(h.labels())
	return counterFunc(func(d int64) { c.Add(float64(d)) })
}

// Gauge returns the gauge name with h's tags.
func (h *Handler) Gauge(name string) client.MetricsGauge {
	v := lookup(h.vecs, h.vecs.gauges, name, func(n string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: n, Help: "Temporal Go SDK gauge " + name + "."}, Labels)
	})
	if v == nil {
		return client.MetricsNopHandler.Gauge(name)
	}
	g := v.With(h.labels())
	return gaugeFunc(g.Set)
}

// Timer returns the histogram name_seconds with h's tags.
func (h *Handler) Timer(name string) client.MetricsTimer {
	v := lookup(h.vecs, h.vecs.timers, name+"_seconds", func(n string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: n, Help: "Temporal Go SDK timer " + name + ".", Buckets: Buckets}, Labels)
	})
	if v == nil {
		return client.MetricsNopHandler.Timer(name)
	}
	o := v.With(h.labels())
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

func (h *Handler) labels() prometheus.Labels {
	l := make(prometheus.Labels, len(Labels))
	for _, k := range Labels {
		l[k] = h.tags[k]
	}
	return l
}

// lookup returns the vector called name, registering it with mk on first use; nil when it cannot be.
func lookup[V prometheus.Collector](v *vecs, m map[string]V, name string, mk func(string) V) V {
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := m[name]; ok {
		return c
	}
	c := mk(name)
	if err := v.reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		existing, same := c, false
		if errors.As(err, &are) {
			existing, same = are.ExistingCollector.(V)
		}
		if !same {
			v.log.Warn("temporal SDK metric not exported", "metric", name, "err", err)
			var zero V
			m[name] = zero
			return zero
		}
		c = existing
	}
	m[name] = c
	return c
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(x float64) { f(x) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

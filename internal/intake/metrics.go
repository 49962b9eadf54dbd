package intake

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	requests      *prometheus.CounterVec
	requestTime   *prometheus.HistogramVec
	ruleMatches   *prometheus.CounterVec
	starts        *prometheus.CounterVec
	startDuration prometheus.Histogram
	alerts        *prometheus.CounterVec
	alertTime     prometheus.Histogram
	rejections    *prometheus.CounterVec
	recordErrors  prometheus.Counter
	handler       http.Handler
}

// Reasons in interlock_intake_rejections_total.
const (
	rejectBacklog    = "backlog"
	rejectBacklogAge = "backlog_age"
)

// Start results as they appear in interlock_playbook_starts_total.
const (
	resultStarted      = "started"
	resultDeduplicated = "deduplicated"
	resultFailed       = "failed"
)

// newMetrics registers the intake's metrics on reg, or on a private registry (with Go and process
// collectors) when reg is nil. /metrics serves that registry, so reg must also be a Gatherer.
func newMetrics(reg prometheus.Registerer, backlog BacklogReader) (*metrics, error) {
	if reg == nil {
		private := prometheus.NewRegistry()
		private.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg = private
	}
	gatherer, ok := reg.(prometheus.Gatherer)
	if !ok {
		return nil, fmt.Errorf("metrics registerer %T cannot be scraped: pass a *prometheus.Registry or nil", reg)
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "interlock_http_requests_total",
			Help: "Intake HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "interlock_http_request_duration_seconds",
			Help:    "Intake HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		ruleMatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "interlock_rule_matches_total",
			Help: "Automation rule matches by rule.",
		}, []string{"rule"}),
		starts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "interlock_playbook_starts_total",
			Help: "Playbook workflow starts by playbook and result (started, deduplicated, failed).",
		}, []string{"playbook", "result"}),
		startDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "interlock_start_duration_seconds",
			Help:    "Time Temporal took to answer one workflow start.",
			Buckets: prometheus.DefBuckets,
		}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "interlock_alert_records_total",
			Help: "Alert records by outcome (accepted, duplicate, rejected, suppressed, unavailable, failed).",
		}, []string{"status"}),
		alertTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "interlock_alert_delivery_duration_seconds",
			Help:    "Time one incident took to record a batch's records (update-with-start).",
			Buckets: prometheus.DefBuckets,
		}),
	}
	m.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "interlock_intake_rejections_total",
		Help: "Requests answered 503 before anything was started, by route and reason (backlog: the playbook task queue's backlog was at intake.maxBacklog; backlog_age: its oldest task had waited intake.maxBacklogAge).",
	}, []string{"route", "reason"})
	m.recordErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "interlock_workbook_record_errors_total",
		Help: "Accepted incident events the workbook store could not record (the request still succeeded)."})
	collectors := []prometheus.Collector{m.requests, m.requestTime, m.ruleMatches, m.starts, m.startDuration, m.alerts, m.alertTime, m.rejections, m.recordErrors}
	if backlog != nil {
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "interlock_playbook_backlog",
			Help: "Workflow tasks waiting in the playbook task queue, as last read from Temporal (-1 while unknown).",
		}, func() float64 {
			n, _, ok := backlog.Backlog()
			if !ok {
				return -1
			}
			return float64(n)
		}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "interlock_playbook_backlog_age_seconds",
			Help: "How long the oldest task in the playbook task queue has waited, as last read from Temporal (-1 while unknown).",
		}, func() float64 {
			_, oldest, ok := backlog.Backlog()
			if !ok {
				return -1
			}
			return oldest.Seconds()
		}))
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register intake metrics: %w", err)
		}
	}
	m.handler = promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})
	return m, nil
}

func (m *metrics) observeRequest(route string, code int, took time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.requestTime.WithLabelValues(route).Observe(took.Seconds())
}

// statusRecorder remembers the status a handler wrote, for the request metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flush, deadlines) for mounted handlers.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

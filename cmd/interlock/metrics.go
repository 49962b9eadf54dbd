package main

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/interlock-soar/interlock/internal/sdkmetrics"
)

// processMetrics is one process's Prometheus registry: the intake's metrics, the worker's and the
// Temporal SDK's all land on it, so a replica or dev stack has one /metrics.
type processMetrics struct {
	reg *prometheus.Registry
	sdk *sdkmetrics.Handler
}

func newProcessMetrics(logger *slog.Logger) *processMetrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &processMetrics{reg: reg, sdk: sdkmetrics.New(reg, logger)}
}

// handler serves the registry on /metrics, for a process without an intake.
func (m *processMetrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}

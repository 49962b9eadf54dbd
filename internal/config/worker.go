package config

import "net"

// Worker configures the worker process itself (the SDK's tuning knobs live under temporal).
type Worker struct {
	// MetricsListen is off by default: a worker alone has no other listener, and a port it opened
	// unasked could clash with the next worker on the same host. replica and dev serve the worker's
	// metrics on the intake's /metrics instead.
	MetricsListen string `yaml:"metricsListen" doc:"Address on which interlock worker serves its Prometheus metrics (/metrics), e.g. 127.0.0.1:9464; empty serves none. interlock replica and dev serve them on the intake's /metrics whatever this says."`
}

func (w *Worker) validate(errs *Errors) {
	if w.MetricsListen == "" {
		return
	}
	if _, _, err := net.SplitHostPort(w.MetricsListen); err != nil {
		errs.add("worker.metricsListen", "must be host:port, not %q", w.MetricsListen)
	}
}

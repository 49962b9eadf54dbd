package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/worker"
)

func runWorker(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "worker", "worker [--config FILE] [--register-search-attributes]")
	register := fs.Bool("register-search-attributes", false, "register Interlock's search attributes on the namespace first (needs operator rights)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, e.stderr)
	pm := newProcessMetrics(logger)
	c, err := dialForWorker(ctx, e, cfg, pm, *register)
	if err != nil {
		return err
	}
	defer c.Close()
	w, err := startWorker(ctx, c, cfg, pm, logger)
	if err != nil {
		return err
	}
	mctx, stopMetrics := context.WithCancel(ctx)
	defer stopMetrics()
	_, merr, err := serveWorkerMetrics(mctx, cfg.Worker.MetricsListen, pm, logger)
	if err != nil {
		return errors.Join(err, w.Stop())
	}
	select {
	case <-ctx.Done():
	case <-w.Done():
	}
	werr := w.Stop()
	stopMetrics()
	return errors.Join(werr, <-merr)
}

// dialForWorker connects to Temporal with the process's SDK metrics and, when register is set (the
// --register-search-attributes flag), registers Interlock's search attributes first.
func dialForWorker(ctx context.Context, e env, cfg config.Config, pm *processMetrics, register bool) (client.Client, error) {
	c, err := worker.DialWith(ctx, cfg.Temporal, sdkLogger(cfg.Log, e.stderr), pm.sdk)
	if err != nil {
		return nil, err
	}
	if register {
		if err := worker.RegisterSearchAttributes(ctx, c, cfg.Temporal.Namespace); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// serveWorkerMetrics serves /metrics on addr until ctx is done, and says where; with no addr it serves
// nothing. The channel yields the server's error once it has stopped.
func serveWorkerMetrics(ctx context.Context, addr string, pm *processMetrics, logger *slog.Logger) (string, <-chan error, error) {
	done := make(chan error, 1)
	if addr == "" {
		done <- nil
		return "", done, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("worker.metricsListen: %w", err)
	}
	logger.Info("worker metrics listening", "addr", ln.Addr().String())
	go func() { done <- serveHTTP(ctx, ln, pm.handler(), logger) }()
	return ln.Addr().String(), done, nil
}

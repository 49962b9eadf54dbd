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
	profile := profileFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := profile()
	if err != nil {
		return err
	}
	defer stopProfile()
	p, err := startWorkerProcess(ctx, e, *cfgPath, "", *register)
	if err != nil {
		return err
	}
	defer p.client.Close()
	cfg, w, pm, logger := p.cfg, p.worker, p.metrics, p.logger
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

// workerProcess is what a process running the worker holds; the caller closes client.
type workerProcess struct {
	cfg     config.Config
	logger  *slog.Logger
	metrics *processMetrics
	client  client.Client
	worker  *backgroundWorker
}

// startWorkerProcess loads the configuration (listen overriding intake.listen when set), connects to
// Temporal with the process's SDK metrics, registers Interlock's search attributes first when
// register is set (the --register-search-attributes flag), and starts the worker.
func startWorkerProcess(ctx context.Context, e env, cfgPath, listen string, register bool) (*workerProcess, error) {
	cfg, err := loadConfig(e, cfgPath, listen)
	if err != nil {
		return nil, err
	}
	p := &workerProcess{cfg: cfg, logger: newLogger(cfg.Log, e.stderr)}
	p.metrics = newProcessMetrics(p.logger)
	c, err := worker.DialWith(ctx, cfg.Temporal, sdkLogger(cfg.Log, e.stderr), p.metrics.sdk)
	if err != nil {
		return nil, err
	}
	if register {
		err = worker.RegisterSearchAttributes(ctx, c, cfg.Temporal.Namespace)
	}
	if err == nil {
		p.worker, err = startWorker(ctx, c, cfg, p.metrics, p.logger)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	p.client = c
	return p, nil
}

// loadConfig loads the configuration, with the intake's listen address overridden when the --listen
// flag is set.
func loadConfig(e env, path, listen string) (config.Config, error) {
	cfg, err := config.Load(path, e.getenv)
	if err != nil {
		return config.Config{}, err
	}
	if listen != "" {
		cfg.Intake.Listen = listen
	}
	return cfg, nil
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

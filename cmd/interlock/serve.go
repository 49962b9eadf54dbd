package main

import (
	"context"
	"fmt"
	"net"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/worker"
)

func runServe(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "serve", "serve [--config FILE] [--listen ADDR]")
	listen := fs.String("listen", "", "address to listen on (overrides intake.listen)")
	profile := profileFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := profile()
	if err != nil {
		return err
	}
	defer stopProfile()
	cfg, err := loadConfig(e, *cfgPath, *listen)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, e.stderr)
	pm := newProcessMetrics(logger)
	opts, err := worker.ClientOptions(cfg.Temporal, sdkLogger(cfg.Log, e.stderr))
	if err != nil {
		return err
	}
	opts.MetricsHandler = pm.sdk
	// Lazy: the intake starts while Temporal is down and answers 503 until it is back.
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer c.Close()
	app, err := startIntake(ctx, cfg, c, pm, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Intake.Listen)
	if err != nil {
		return fmt.Errorf("intake: %w", err)
	}
	logger.Info("intake listening", "addr", ln.Addr().String(), "temporal", cfg.Temporal.Address)
	return serveHTTP(ctx, ln, app.Handler, logger)
}

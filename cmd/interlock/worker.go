package main

import (
	"context"

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
	c, err := worker.Dial(ctx, cfg.Temporal, sdkLogger(cfg.Log, e.stderr))
	if err != nil {
		return err
	}
	defer c.Close()
	if *register {
		if err := worker.RegisterSearchAttributes(ctx, c, cfg.Temporal.Namespace); err != nil {
			return err
		}
	}
	w, err := startWorker(ctx, c, cfg, logger)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-w.Done():
	}
	return w.Stop()
}

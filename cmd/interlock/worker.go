package main

import (
	"context"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
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
	app, err := worker.Build(cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("worker polling", "taskQueue", workflows.TaskQueue, "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace)
	return worker.Run(ctx, c, cfg.Temporal, app.Playbooks, app.Activities)
}

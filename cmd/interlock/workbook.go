package main

import (
	"context"
	"fmt"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/worker"
)

const workbookSynopsis = `workbook rebuild [--config FILE]

Deletes every row of the workbook's store (workbook.database) and projects again everything Temporal
holds, printing progress: every playbook run, with the incidents, alerts and devices it carries, and
Interlock's own incidents from their incident workflows' state. Sentinel incidents that started no
playbook are known only to the store (the intake records them as it accepts them): a rebuild cannot
restore them.`

func runWorkbook(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "workbook", workbookSynopsis)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || fs.Arg(0) != "rebuild" {
		fs.Usage()
		return fmt.Errorf("workbook takes one subcommand, rebuild; got %q", fs.Args())
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
	p, store, err := newProjector(ctx, c, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	fmt.Fprintf(e.stdout, "rebuilding the workbook store %s from Temporal %s\n", cfg.Workbook.DatabaseOr("."), cfg.Temporal.Address)
	n, err := p.Rebuild(ctx, func(done int) { fmt.Fprintf(e.stdout, "  %d runs and incidents projected\n", done) })
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "done: %d runs and incidents\n", n)
	return nil
}

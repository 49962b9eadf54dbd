package main

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/stack"
	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

// The parts `worker`, `serve`, `replica` and `dev` are made of, so each command composes the same
// worker and the same intake.

// backgroundWorker is a worker polling the task queue in this process until Stop.
type backgroundWorker struct {
	stop context.CancelFunc
	done chan struct{}
	err  error
}

// startWorker builds the worker from cfg (ServiceNow, SMTP, write-back, playbooks) and starts polling
// through c. A bad configuration fails here, before anything polls. The worker outlives ctx until Stop,
// so a command can stop its intake first and let the worker finish what the intake handed it.
func startWorker(ctx context.Context, c client.Client, cfg config.Config, pm *processMetrics, logger *slog.Logger) (*backgroundWorker, error) {
	app, err := worker.Build(cfg, logger)
	if err != nil {
		return nil, err
	}
	m, err := worker.NewMetrics(pm.reg, app.Playbooks)
	if err != nil {
		return nil, err
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	interceptors := []interceptor.WorkerInterceptor{m.Interceptor()}
	if cfg.Workbook.Enabled {
		p, err := startProjector(wctx, c, cfg, logger)
		if err != nil {
			stop()
			return nil, err
		}
		interceptors = append(interceptors, worker.ReturnedRuns(returnedToWorkbook(p)))
	}
	w := &backgroundWorker{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.err = worker.RunWith(wctx, c, cfg.Temporal, app.Playbooks, app.Activities, interceptors...)
	}()
	logger.Info("worker polling", "taskQueue", workflows.TaskQueue, "temporal", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace)
	return w, nil
}

// Done is closed when the worker has stopped, by Stop or by itself (a fatal error from Temporal).
func (w *backgroundWorker) Done() <-chan struct{} { return w.done }

// Stop stops polling, lets in-flight activity attempts finish for temporal.shutdownTimeout, and
// returns the worker's error. It may be called more than once.
func (w *backgroundWorker) Stop() error {
	w.stop()
	<-w.done
	return w.err
}

// startIntake builds the intake on c and, until ctx is done, reloads its rules file on SIGHUP or change
// and reads the task queue's backlog for intake.maxBacklog.
func startIntake(ctx context.Context, cfg config.Config, c client.Client, pm *processMetrics, logger *slog.Logger) (*stack.Intake, error) {
	in, err := stack.NewIntakeOn(cfg, c, pm.reg, logger)
	if err != nil {
		return nil, err
	}
	watchRules(ctx, in, cfg.Intake.RulesFile, logger)
	go in.Backlog.Run(ctx)
	return in, nil
}

// startProjector runs the workbook's projector until ctx ends: a rebuild when the store is new or
// lost, then the changed runs every workbook.pollInterval. Several workers on one PostgreSQL store
// write the same rows, and each skips the rows another wrote, so running one per worker is harmless.
func startProjector(ctx context.Context, c client.Client, cfg config.Config, logger *slog.Logger) (*workbook.Projector, error) {
	p, store, err := newProjector(ctx, c, cfg, logger)
	if err != nil {
		return nil, err
	}
	go func() {
		defer func() { _ = store.Close() }()
		_ = p.Run(ctx)
	}()
	return p, nil
}

// returnedToWorkbook hands the runs this worker completes to the projector, which writes them without
// reading them back from Temporal.
func returnedToWorkbook(p *workbook.Projector) func(worker.ReturnedRun) {
	return func(r worker.ReturnedRun) {
		p.Closed(workbook.ClosedRun{
			WorkflowID: r.WorkflowID, RunID: r.RunID, Playbook: r.WorkflowType, Incident: r.IncidentID,
			Started: r.Started, Closed: r.Returned, Result: r.Result,
		})
	}
}

func newProjector(ctx context.Context, c client.Client, cfg config.Config, logger *slog.Logger) (*workbook.Projector, *workbook.Store, error) {
	store, err := workbook.Open(ctx, workbook.StoreOptions{
		Database: cfg.Workbook.DatabaseOr("."), UIURL: cfg.Temporal.UIURL, Namespace: cfg.Temporal.Namespace,
	})
	if err != nil {
		return nil, nil, err
	}
	p := workbook.NewProjector(store, c, workbook.ProjectorOptions{
		Namespace: cfg.Temporal.Namespace,
		Playbooks: playbooks.Shipped(cfg.Playbooks).Names(),
		Asking:    []string{playbooks.PLCReprogrammingName, playbooks.OwnerApprovalName},
		Interval:  cfg.Workbook.PollInterval,
		Logger:    logger,
	})
	return p, store, nil
}

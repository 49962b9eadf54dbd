package worker

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// Register registers every playbook under its stable name, the engine workflow that writes the rules'
// own changes back, and every activity under its pinned type name. The worker process and the tests (a
// testsuite environment satisfies Registry too) call it, so what runs in production is what the tests
// exercise. It fails only when acts lacks a struct.
func Register(r sdkworker.Registry, pbs *playbooks.Registry, acts Activities) error {
	if err := acts.check(); err != nil {
		return err
	}
	RegisterWorkflows(r, pbs)
	acts.register(r)
	return nil
}

// RegisterWorkflows registers the workflows alone, for a replayer.
func RegisterWorkflows(r sdkworker.WorkflowRegistry, pbs *playbooks.Registry) {
	for _, p := range pbs.All() {
		r.RegisterWorkflowWithOptions(p.Workflow, workflow.RegisterOptions{Name: p.Name})
	}
	r.RegisterWorkflowWithOptions(workflows.ApplyRuleChanges, workflow.RegisterOptions{Name: workflows.RuleChangesName})
	inc := &workflows.Incident{Playbooks: func(name, incidentID, eventKey string) (string, bool) {
		p, ok := pbs.Lookup(name)
		if !ok {
			return "", false
		}
		return playbooks.WorkflowID(p, incidentID, eventKey), true
	}, Priority: func(name string) int {
		p, _ := pbs.Lookup(name)
		return p.Priority
	}}
	r.RegisterWorkflowWithOptions(inc.Run, workflow.RegisterOptions{Name: otincident.WorkflowType})
}

// Options returns the SDK worker options from the configuration.
func Options(cfg config.Temporal) sdkworker.Options {
	return sdkworker.Options{
		// Stopping lets in-flight activity attempts finish for this long; an attempt cut short is
		// retried by Temporal on another worker, and every side effect is idempotent on its key.
		WorkerStopTimeout: cfg.ShutdownTimeout,
		// Names are set explicitly; aliasing would also register the Go function names.
		DisableRegistrationAliasing:             true,
		MaxConcurrentActivityExecutionSize:      cfg.MaxConcurrentActivities,
		MaxConcurrentLocalActivityExecutionSize: cfg.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize:  cfg.MaxConcurrentWorkflows,
		// The SDK splits workflow-task polls between the normal and the sticky queue. With its default
		// of two, under load a sticky task (a PLC run's answer) waited out the 5 s sticky timeout.
		MaxConcurrentWorkflowTaskPollers: cfg.WorkflowTaskPollers,
		MaxConcurrentActivityTaskPollers: cfg.ActivityTaskPollers,
		Interceptors:                     Interceptors(),
	}
}

// Interceptors are the workflow interceptors every worker and replayer needs: the rules' changes a
// playbook run carries are written by one (workflows.RuleChangesInterceptor).
func Interceptors() []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&workflows.RuleChangesInterceptor{}}
}

// Run polls the task queue until ctx is done, then stops gracefully.
func Run(ctx context.Context, c client.Client, cfg config.Temporal, pbs *playbooks.Registry, acts Activities) error {
	return RunWith(ctx, c, cfg, pbs, acts)
}

// RunWith is Run with more worker interceptors after Interceptors (Metrics.Interceptor, ReturnedRuns),
// which observe and schedule no command.
func RunWith(ctx context.Context, c client.Client, cfg config.Temporal, pbs *playbooks.Registry, acts Activities, more ...interceptor.WorkerInterceptor) error {
	opts := Options(cfg)
	opts.Interceptors = append(opts.Interceptors, more...)
	w := sdkworker.New(c, workflows.TaskQueue, opts)
	if err := Register(w, pbs, acts); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return Serve(ctx, w)
}

// Serve runs w until ctx is done, then stops it, letting in-flight activity attempts finish for the
// WorkerStopTimeout of its Options.
func Serve(ctx context.Context, w sdkworker.Worker) error {
	stop := make(chan any)
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	if err := w.Run(stop); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

package bench

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/worker"
)

// ceilingPhase starts n trivial workflows on a private task queue, served by a worker in this
// process, and measures them like the playbook runs.
func (r *runner) ceilingPhase(ctx context.Context, n int, rate float64, notes *[]string) (*CeilingReport, error) {
	shape := r.cfg.Ceiling
	source := "given with --ceiling-shape"
	if !r.cfg.CeilingExplicit {
		shape, source = DefaultShape, "default (no completed NewEngineeringStationTicket run to measure)"
		if r.stationRun != "" {
			s, err := measureShape(ctx, r.tc, r.stationRun)
			if err != nil {
				*notes = append(*notes, "ceiling shape: "+err.Error()+"; using the default")
			} else {
				shape, source = s, "measured from "+r.stationRun
			}
		}
	}
	return r.runCeiling(ctx, n, rate, "c", shape, source)
}

// runCeiling runs n ceiling workflows of shape, their IDs marked with tag.
func (r *runner) runCeiling(ctx context.Context, n int, rate float64, tag string, shape Shape, source string) (*CeilingReport, error) {
	queue := "interlock-bench-" + r.runID + "-" + tag
	stop, err := r.ceilingWorker(queue)
	if err != nil {
		return nil, err
	}
	defer stop()

	items := make([]*item, n)
	for i := range items {
		items[i] = &item{inc: Incident{ID: fmt.Sprintf("bench-%s-%s%d", r.runID, tag, i)}}
	}
	p := newPhase("ceiling", r.runID, tag, items)
	p.effects = false
	p.runQuery = fmt.Sprintf(`WorkflowId STARTS_WITH %q`, p.prefix)
	for _, it := range items {
		it.workflowID = it.inc.ID
		p.byWF[it.workflowID] = it
	}
	cpu0 := r.procs.snapshot()
	r.observe(ctx, p, func(ctx context.Context) {
		r.driveStarts(ctx, p, rate, func(ctx context.Context, it *item) error {
			_, err := r.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: it.workflowID, TaskQueue: queue, WorkflowExecutionTimeout: 10 * time.Minute,
				EnableEagerStart: true, // as the intake starts playbooks
			}, ceilingWorkflowName, shape)
			return err
		}, nil)
	})
	rep := ceilingReport(p, shape, source, rate, r.cfg.Concurrency)
	rep.CPU, rep.HostBusyCores = r.procs.delta(cpu0, r.procs.snapshot())
	if rep.Breakdown, err = breakdown(ctx, r.tc, completedRuns(p, "")); err != nil {
		r.log.Warn("time breakdown failed", "phase", "ceiling", "err", err)
	}
	return rep, nil
}

// ceilingWorker starts a worker for the ceiling workflows on queue, inside the bench, with the stack's
// worker options.
func (r *runner) ceilingWorker(queue string) (stop func(), err error) {
	w := sdkworker.New(r.tc, queue, worker.Options(r.cfg.WorkerTuning))
	w.RegisterWorkflowWithOptions(ceilingWorkflow, workflow.RegisterOptions{Name: ceilingWorkflowName})
	w.RegisterActivityWithOptions(ceilingActivity, activity.RegisterOptions{Name: ceilingActivityName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("ceiling worker: %w", err)
	}
	return w.Stop, nil
}

// driveStarts makes a ceiling phase's starts, at rate or as fast as the concurrency allows, and
// records each like a post: started is called, with p.mu held, after each successful start.
func (r *runner) driveStarts(ctx context.Context, p *phase, rate float64, start func(context.Context, *item) error, started func(*item)) {
	drive(ctx, len(p.items), rate, r.cfg.Concurrency, func(ctx context.Context, i int) {
		it := p.items[i]
		p.posted.Add(1)
		sent := time.Now()
		err := start(ctx, it)
		at := time.Now()
		p.mu.Lock()
		defer p.mu.Unlock()
		it.posts++
		if err != nil {
			it.postErr = err.Error()
			return
		}
		it.sentAt, it.acceptedAt = sent, at
		it.started++
		p.acceptedN.Add(1)
		if started != nil {
			started(it)
		}
	})
}

package bench

// The same-work ceiling. The raw ceiling is one bare workflow per incident, shaped like a ticket run;
// but Interlock asks more of Temporal per incident: a PLC run also takes the engineers' answer (an
// Update, a second workflow task) and what follows it, a default rule's tags are one more workflow
// run, and every run carries its search attributes and memo. This phase makes exactly that Temporal
// work per incident of the same mix, with no I/O, no HTTP and no rules, so the share of it Interlock
// reaches is what Interlock's own code costs, and the share of the raw ceiling what its design costs.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// noteRuns remembers a completed run and a rules' write-back run of each kind of the phase, the first
// time they are seen.
func (r *runner) noteRuns(p *phase) {
	if r.kindRuns == nil {
		r.kindRuns, r.ruleRuns = map[Kind]string{}, map[Kind]string{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range p.items {
		k := it.inc.Kind
		if _, ok := r.kindRuns[k]; !ok && it.closed() && it.workflowID != "" {
			r.kindRuns[k] = it.workflowID
			if k == KindNewEngineeringStation && isNES(it.workflowID) && r.stationRun == "" {
				r.stationRun = it.workflowID
			}
		}
		if _, ok := r.ruleRuns[k]; !ok && it.writeBack != "" {
			r.ruleRuns[k] = it.writeBack
		}
	}
}

// PathShape is the same-work ceiling's shape per incident kind: the playbook run, and the rules'
// write-back run when the load's incidents of that kind had one.
type PathShape struct {
	Runs        map[Kind]Shape `json:"runs"`
	RuleChanges map[Kind]Shape `json:"ruleChanges,omitempty"`
}

// measurePath reads the shapes from the runs the full load left.
func (r *runner) measurePath(ctx context.Context) (PathShape, error) {
	ps := PathShape{Runs: map[Kind]Shape{}, RuleChanges: map[Kind]Shape{}}
	for k := range r.cfg.Mix {
		if r.cfg.Mix[k] == 0 {
			continue
		}
		id, ok := r.kindRuns[k]
		if !ok {
			return PathShape{}, fmt.Errorf("no completed %s run in the full load to measure", k)
		}
		s, err := measureShape(ctx, r.tc, id)
		if err != nil {
			return PathShape{}, err
		}
		ps.Runs[k] = s
		if id, ok := r.ruleRuns[k]; ok {
			if ps.RuleChanges[k], err = measureShape(ctx, r.tc, id); err != nil {
				return PathShape{}, err
			}
		}
	}
	return ps, nil
}

// String lists the shapes, for the report.
func (ps PathShape) String() string {
	var out string
	for _, k := range []Kind{KindNewEngineeringStation, KindPLCReprogramming} {
		s, ok := ps.Runs[k]
		if !ok {
			continue
		}
		if out != "" {
			out += "; "
		}
		out += fmt.Sprintf("%s: %s", k, s)
		if rc, ok := ps.RuleChanges[k]; ok {
			out += fmt.Sprintf(" (+ a write-back run: %s)", rc)
		}
	}
	return out
}

// pathCeilingPhase runs the same-work ceiling: n incidents of the load's mix, each as the workflows
// Interlock starts for it (with the intake's search attributes and memo, eager start), each PLC run
// answered by an Update as soon as it started.
//
// Bare, it is the raw ceiling of a mixed load: each kind's playbook shape alone (its calls, a PLC run's
// answer), without the rules' write-back runs, search attributes, memo, input or priority.
func (r *runner) pathCeilingPhase(ctx context.Context, n int, rate float64, bare bool) (*CeilingReport, error) {
	ps, err := r.measurePath(ctx)
	if err != nil {
		return nil, err
	}
	name, tag := "same-work ceiling", "w"
	if bare {
		name, tag = "ceiling", "c"
		ps.RuleChanges = nil
	}
	items, err := r.newItems(tag, n)
	if err != nil {
		return nil, err
	}
	queue := "interlock-bench-" + r.runID + "-" + tag
	stop, err := r.ceilingWorker(queue)
	if err != nil {
		return nil, err
	}
	defer stop()

	p := newPhase(name, r.runID, tag, items)
	p.effects = false
	p.runQuery = fmt.Sprintf(`WorkflowId STARTS_WITH %q`, p.prefix)
	for _, it := range items {
		it.workflowID = it.inc.ID
		p.byWF[it.workflowID] = it
	}
	answers := make(chan string, n)
	var answering sync.WaitGroup
	for range answerers {
		answering.Go(func() {
			for id := range answers {
				r.answerCeiling(ctx, p, id)
			}
		})
	}
	cpu0 := r.procs.snapshot()
	r.observe(ctx, p, func(ctx context.Context) {
		r.driveStarts(ctx, p, rate, func(ctx context.Context, it *item) error {
			if bare {
				return r.startBare(ctx, queue, it, ps)
			}
			return r.startPath(ctx, queue, it, ps)
		}, func(it *item) {
			if ps.Runs[it.inc.Kind].AfterAnswer != nil {
				answers <- it.workflowID
			}
		})
		close(answers)
	})
	answering.Wait()
	rep := ceilingReport(p, ps.Runs[KindNewEngineeringStation], "measured from the full load's runs: "+ps.String(), rate, r.cfg.Concurrency)
	rep.CPU, rep.HostBusyCores = r.procs.delta(cpu0, r.procs.snapshot())
	if rep.Breakdown, err = breakdown(ctx, r.tc, completedRuns(p, "")); err != nil {
		r.log.Warn("time breakdown failed", "phase", name, "err", err)
	}
	return rep, nil
}

// startPath starts what the intake starts for the incident: the rules' write-back run first, then the
// playbook run, both with the search attributes the intake gives them.
func (r *runner) startPath(ctx context.Context, queue string, it *item, ps PathShape) error {
	ev, err := incident.Parse(it.inc.Body)
	if err != nil {
		return fmt.Errorf("parse the generated incident: %w", err)
	}
	start := func(id, playbook string, s Shape, priority int, memo map[string]any) error {
		_, err := r.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: queue, WorkflowExecutionTimeout: 10 * time.Minute, EnableEagerStart: true,
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SearchAttributesFor(playbook, ev.Incident)...),
			Memo:                  memo, Priority: temporal.Priority{PriorityKey: priority},
		}, ceilingWorkflowName, s)
		return err
	}
	if rc, ok := ps.RuleChanges[it.inc.Kind]; ok {
		if err := start("rc/"+it.workflowID, workflows.RuleChangesName, rc, 0, nil); err != nil {
			return err
		}
	}
	// The playbook's input is the whole incident: the same payload goes into the history.
	s := ps.Runs[it.inc.Kind]
	if s.Input, err = json.Marshal(ev.Incident); err != nil {
		return fmt.Errorf("encode the generated incident: %w", err)
	}
	priority := playbooks.PriorityDefault
	if it.inc.Kind == KindPLCReprogramming {
		priority = playbooks.PriorityUrgent
	}
	memo := map[string]any{"interlockEvent": string(ev.Type), "interlockRules": []string{"bench"}}
	return start(it.workflowID, it.inc.Kind.Playbook(), s, priority, memo)
}

// startBare starts the incident's playbook shape as a bare trivial workflow, as the raw ceiling does.
func (r *runner) startBare(ctx context.Context, queue string, it *item, ps PathShape) error {
	_, err := r.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: it.workflowID, TaskQueue: queue, WorkflowExecutionTimeout: 10 * time.Minute, EnableEagerStart: true,
	}, ceilingWorkflowName, ps.Runs[it.inc.Kind])
	return err
}

// answerCeiling answers a PLC-shaped ceiling run through its Update, retried briefly.
func (r *runner) answerCeiling(ctx context.Context, p *phase, workflowID string) {
	var err error
	for attempt := range 3 {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var h client.WorkflowUpdateHandle
		h, err = r.tc.UpdateWorkflow(actx, client.UpdateWorkflowOptions{
			WorkflowID: workflowID, UpdateName: ceilingAnswerName, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(actx, nil)
		}
		cancel()
		if err == nil || ctx.Err() != nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	if p.pollError("answer", err) {
		r.log.Warn("bench could not answer a ceiling run", "workflowId", workflowID, "err", err)
	}
}

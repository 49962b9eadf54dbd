package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// newItems generates n incidents of the mix, tagged letter+index.
func (r *runner) newItems(letter string, n int) ([]*item, error) {
	kinds := r.cfg.Mix.Sequence(n)
	items := make([]*item, n)
	for i, k := range kinds {
		inc, err := r.gen.New(k, fmt.Sprintf("%s%d", letter, i), r.seq)
		if err != nil {
			return nil, err
		}
		r.seq++
		items[i] = &item{inc: inc}
	}
	return items, nil
}

// incidentPhase posts n incidents at rate (0: closed loop at the configured concurrency) and measures
// them.
func (r *runner) incidentPhase(ctx context.Context, name, letter string, n int, rate float64) (*PhaseReport, error) {
	items, err := r.newItems(letter, n)
	if err != nil {
		return nil, err
	}
	p := newPhase(name, r.runID, letter, items)
	cpu0 := r.procs.snapshot()
	r.observe(ctx, p, func(ctx context.Context) {
		drive(ctx, n, rate, r.cfg.Concurrency, func(ctx context.Context, i int) {
			r.post(ctx, p, items[i])
		})
	})
	rep := phaseReport(p, rate, r.cfg.Concurrency)
	rep.CPU, rep.HostBusyCores = r.procs.delta(cpu0, r.procs.snapshot())
	for k, kr := range rep.Kinds {
		bd, err := breakdown(ctx, r.tc, completedRuns(p, Kind(k)))
		if err != nil {
			r.log.Warn("time breakdown failed", "kind", k, "err", err)
		}
		kr.Breakdown = bd
		rep.Kinds[k] = kr
	}
	r.noteRuns(p)
	return rep, nil
}

// observe runs post (which makes the phase's requests) with the pollers going, then waits for the
// phase to settle or time out, and makes a last full pass so nothing that landed is missed.
func (r *runner) observe(ctx context.Context, p *phase, post func(context.Context)) {
	octx, stopObserving := context.WithCancel(ctx)
	o := &observer{r: r, p: p}
	var wg sync.WaitGroup
	wg.Go(func() { o.run(octx) })
	p.firstSent = time.Now()
	stopProgress := r.prog.start(p)
	post(ctx)
	deadline := time.Now().Add(r.cfg.Timeout)
	for !p.settled() && time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	stopObserving()
	wg.Wait()
	// Duplicates arrive after the first copy, if at all; give them a moment before the final count.
	if p.name == "alert storm" {
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if p.effects && r.needTickets {
		if err := o.pollTickets(fctx, true); err != nil {
			r.log.Warn("final servicenow pass failed", "err", err)
		}
	}
	if p.effects && r.needMail {
		if err := o.pollMail(fctx, true); err != nil {
			r.log.Warn("final mailpit pass failed", "err", err)
		}
		close(p.answerQ)
		// The counts are final; answer what is still waiting (its email never came, or came in the final
		// pass) so no run is left to send escalation emails half an hour later.
		r.answerRest(fctx, p)
	}
	if err := o.pollRuns(fctx, true); err != nil {
		r.log.Warn("final temporal pass failed", "err", err)
	}
	stopProgress()
}

// answerRest answers the phase's PLC runs that are still open and were never answered.
func (r *runner) answerRest(ctx context.Context, p *phase) {
	var rest []string
	p.mu.Lock()
	for it := range p.answerQ {
		it.answering = false
	}
	for _, it := range p.items {
		if it.inc.Kind == KindPLCReprogramming && it.workflowID != "" && !it.closed() && !it.answering {
			rest = append(rest, it.workflowID)
		}
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, answerers)
	for _, id := range rest {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = r.answer(ctx, id) // best effort: the counts are already final
		})
	}
	wg.Wait()
}

// maxPostAttempts bounds the retries of a post that did not get through, or that the intake answered
// 503/429 without a Retry-After.
const maxPostAttempts = 5

// post sends one incident, retrying what Sentinel would retry, and records the answer. A 503 with
// Retry-After (the intake shedding load past intake.maxBacklog, or Temporal unavailable) is waited out
// and sent again for as long as the phase's timeout, as a sender that must not lose an incident does.
func (r *runner) post(ctx context.Context, p *phase, it *item) {
	p.posted.Add(1)
	attempts, plain := 0, 0
	giveUp := time.Now().Add(r.cfg.Timeout)
	for {
		attempts++
		sent := time.Now()
		resp, wait, err := r.intake.post(ctx, it.inc.Body)
		at := time.Now()
		if wait == 0 {
			plain++
			wait = time.Duration(plain) * 250 * time.Millisecond
		}
		if err == nil || !errors.Is(err, errRetryable) || plain == maxPostAttempts || at.Add(wait).After(giveUp) || ctx.Err() != nil {
			if p.recordPost(it, sent, at, resp, err, attempts) {
				p.answerQ <- it
			}
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// drive calls fn(i) for every i below n. With rate > 0 it is an open loop: request i is due at
// i/rate seconds, however slow the stack is, up to concurrency requests in flight (past that the
// arrivals fall behind, which the achieved rate shows). With rate 0 it is a closed loop: concurrency
// workers, each sending its next request when the last was answered.
func drive(ctx context.Context, n int, rate float64, concurrency int, fn func(context.Context, int)) {
	var wg sync.WaitGroup
	if rate > 0 {
		sem := make(chan struct{}, concurrency)
		start := time.Now()
		timer := time.NewTimer(0)
		defer timer.Stop()
		for i := range n {
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
				case <-timer.C:
				}
			}
			select {
			case <-ctx.Done():
			case sem <- struct{}{}:
			}
			if ctx.Err() != nil {
				break
			}
			wg.Go(func() {
				defer func() { <-sem }()
				fn(ctx, i)
			})
		}
		wg.Wait()
		return
	}
	var next atomic.Int64
	for range min(concurrency, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				fn(ctx, i)
			}
		})
	}
	wg.Wait()
}

// stormPhase posts each of StormIncidents incidents Storm times at once.
func (r *runner) stormPhase(ctx context.Context) (*StormReport, error) {
	m, k := r.cfg.StormIncidents, r.cfg.Storm
	items, err := r.newItems("s", m)
	if err != nil {
		return nil, err
	}
	p := newPhase("alert storm", r.runID, "s", items)
	p.totalPosts = m * k
	cpu0 := r.procs.snapshot()
	// Groups in flight: enough that concurrency posts are outstanding, at least one.
	groups := max(1, r.cfg.Concurrency/k)
	r.observe(ctx, p, func(ctx context.Context) {
		drive(ctx, m, 0, groups, func(ctx context.Context, i int) {
			release := make(chan struct{})
			var wg sync.WaitGroup
			for range k {
				wg.Go(func() {
					<-release // all copies leave together, as a storm of redeliveries would
					r.post(ctx, p, items[i])
				})
			}
			close(release)
			wg.Wait()
		})
	})
	rep := stormReport(p, k)
	rep.CPU, _ = r.procs.delta(cpu0, r.procs.snapshot())
	return rep, nil
}

// completedRuns lists the workflow IDs of the phase's completed runs of a kind ("" for all), in post
// order.
func completedRuns(p *phase, kind Kind) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for _, it := range p.items {
		if (kind == "" || it.inc.Kind == kind) && it.closed() && it.closeState == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			ids = append(ids, it.workflowID)
		}
	}
	return ids
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/workflows"
)

// observer polls ServiceNow, Mailpit and Temporal for what a phase's incidents caused, and answers PLC
// runs as their emails arrive.
type observer struct {
	r *runner
	p *phase
}

// Poll intervals. Mail is polled most often because a PLC run's completion waits for the bench to see
// its email and answer; ticket and run polls only feed the progress display and the wait, since
// latencies come from the servers' own timestamps.
const (
	mailEvery   = 250 * time.Millisecond
	ticketEvery = time.Second
	runEvery    = time.Second
	// answerers answer PLC runs at once: engineers do not queue behind each other, and at full load an
	// Update takes a second or more, so fewer would hold the runs' completion back.
	answerers = 256
)

// run polls until ctx is done.
func (o *observer) run(ctx context.Context) {
	var wg sync.WaitGroup
	loop := func(every time.Duration, poll func(context.Context, bool) error, source string) {
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if err := poll(ctx, false); err != nil && ctx.Err() == nil && o.p.pollError(source, err) {
					o.r.log.Warn("bench poll failed; retrying", "source", source, "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	if o.p.effects {
		if o.r.needTickets {
			loop(ticketEvery, o.pollTickets, "servicenow")
		}
		if o.r.needMail {
			loop(mailEvery, o.pollMail, "mailpit")
		}
		for range answerers {
			wg.Go(func() { o.answerLoop(ctx) })
		}
	}
	loop(runEvery, o.pollRuns, "temporal")
	wg.Wait()
}

// pollTickets reads the phase's new tickets; full starts over from the first.
func (o *observer) pollTickets(ctx context.Context, full bool) error {
	o.p.mu.Lock()
	offset := o.p.snowOffset
	o.p.mu.Unlock()
	if full {
		offset = 0
	}
	list, err := o.r.snow.tickets(ctx, o.p.prefix, offset)
	if err != nil {
		return err
	}
	o.p.addTickets(list)
	o.p.mu.Lock()
	o.p.snowOffset = max(o.p.snowOffset, offset+len(list))
	o.p.mu.Unlock()
	return nil
}

// pollMail reads new emails. Between polls it lists the mailbox newest first, down to a little before
// the newest message the last poll saw (an email received a moment earlier can be stored a moment
// later). Two things rule out cheaper-looking ways: Mailpit keeps only its newest 500 messages by
// default, so counts stop growing and cannot say what is new; and a subject search costs Mailpit about
// twice a listing, CPU taken from the stack being measured. The full pass at the end searches the
// phase's subjects instead.
func (o *observer) pollMail(ctx context.Context, full bool) error {
	if full {
		return o.searchMail(ctx)
	}
	o.p.mu.Lock()
	cutoff := o.p.mailNewest.Add(-mailOverlap)
	o.p.mu.Unlock()
	newest := time.Time{}
	// An idle poll reads one small page. Messages arriving meanwhile push older ones to later offsets,
	// so the next page may repeat some (they are skipped by ID) but never misses one.
	for start, page := 0, 25; ; start, page = start+page, 200 {
		list, _, err := o.r.mail.list(ctx, start, page)
		if err != nil {
			return err
		}
		for _, it := range o.p.addEmails(list, false) {
			o.p.answerQ <- it
		}
		done := len(list) < page
		for _, m := range list {
			newest = later(newest, m.Created)
			done = done || m.Created.Before(cutoff)
		}
		if done {
			break
		}
	}
	o.p.mu.Lock()
	o.p.mailNewest = later(o.p.mailNewest, newest)
	o.p.mu.Unlock()
	return nil
}

// mailOverlap is how far before the newest message already seen each incremental mail poll reads.
const mailOverlap = 2 * time.Second

// searchMail pages through every email of the phase.
func (o *observer) searchMail(ctx context.Context) error {
	const page = 500
	for start := 0; ; start += page {
		list, _, err := o.r.mail.search(ctx, o.p.mailQuery, start, page)
		if err != nil {
			return err
		}
		for _, it := range o.p.addEmails(list, true) {
			o.p.answerQ <- it
		}
		if len(list) < page {
			return nil
		}
	}
}

// pollRuns reads the phase's newly closed runs. A count tells whether anything closed since the last
// poll; the list then starts a few seconds before the latest close time seen, and falls back to the
// whole phase when that missed some (visibility records are written asynchronously, not in close
// order).
func (o *observer) pollRuns(ctx context.Context, full bool) error {
	closedQ := o.p.runQuery + ` AND ExecutionStatus != "Running"`
	cnt, err := o.r.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: closedQ})
	if err != nil {
		return fmt.Errorf("temporal count: %w", err)
	}
	if int(cnt.GetCount()) <= o.p.seenRuns() && !full {
		return nil
	}
	o.p.mu.Lock()
	wm := o.p.watermark
	o.p.mu.Unlock()
	q := closedQ
	if !full && !wm.IsZero() {
		q += ` AND CloseTime >= "` + wm.Add(-5*time.Second).UTC().Format(time.RFC3339Nano) + `"`
	}
	if err := o.listRuns(ctx, q); err != nil {
		return err
	}
	if !full && o.p.seenRuns() < int(cnt.GetCount()) && q != closedQ {
		return o.listRuns(ctx, closedQ)
	}
	return nil
}

func (o *observer) listRuns(ctx context.Context, query string) error {
	var token []byte
	for {
		resp, err := o.r.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: 1000, NextPageToken: token, Query: query,
		})
		if err != nil {
			return fmt.Errorf("temporal list: %w", err)
		}
		runs := make([]closedRun, 0, len(resp.GetExecutions()))
		for _, e := range resp.GetExecutions() {
			runs = append(runs, closedRun{
				workflowID: e.GetExecution().GetWorkflowId(),
				closedAt:   e.GetCloseTime().AsTime(),
				status:     e.GetStatus(),
			})
		}
		o.p.addRuns(runs)
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return nil
		}
	}
}

// answerLoop answers PLC runs "planned" as their emails are seen, as a control engineer clicking the
// link would, but through a Temporal Update straight to the run.
func (o *observer) answerLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-o.p.answerQ:
			sent := time.Now()
			err := o.r.answer(ctx, it.workflowID)
			if err == nil {
				o.p.mu.Lock()
				it.answerSent, it.answerDone = sent, time.Now()
				o.p.mu.Unlock()
			}
			if err != nil && ctx.Err() == nil {
				o.p.mu.Lock()
				it.answerErr = err.Error()
				o.p.mu.Unlock()
				if o.p.pollError("answer", err) {
					o.r.log.Warn("bench could not answer a PLC run", "workflowId", it.workflowID, "err", err)
				}
			}
		}
	}
}

// answerRetryFor bounds how long a transient answer failure is retried. Under chaos a run's workflow
// task can stay failed (timed out on a killed worker, retried) for tens of seconds, and Temporal
// refuses Updates meanwhile ("Workflow Task in failed state"); an engineer would click again.
const answerRetryFor = 2 * time.Minute

// answer sends the "planned" answer and waits until the run has accepted it. Transient failures are
// retried for answerRetryFor; a rejected answer (already answered, no longer waiting) is final.
func (r *runner) answer(ctx context.Context, workflowID string) error {
	var err error
	giveUp := time.Now().Add(answerRetryFor)
	for attempt := 0; attempt == 0 || time.Now().Before(giveUp); attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(min(time.Duration(attempt)*500*time.Millisecond, 3*time.Second)):
			}
		}
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var h client.WorkflowUpdateHandle
		h, err = r.tc.UpdateWorkflow(actx, client.UpdateWorkflowOptions{
			WorkflowID:   workflowID,
			UpdateName:   workflows.AnswerName,
			Args:         []any{workflows.Answer{Decision: workflows.DecisionPlanned, By: "bench", Via: "api"}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(actx, nil)
		}
		cancel()
		if err == nil {
			return nil
		}
		if appErr, ok := errors.AsType[*temporal.ApplicationError](err); ok && appErr.Type() == workflows.FailureAlreadyAnswered && attempt > 0 {
			// An earlier attempt's answer got in and its reply was lost (a restart): the bench is the
			// only one answering, so the run has its answer.
			return nil
		}
		if isFinal(err) {
			return err
		}
	}
	return err
}

// isFinal says whether an update error is the workflow's own rejection (an ApplicationError from the
// validator or handler), which a retry cannot change.
func isFinal(err error) bool {
	_, ok := errors.AsType[*temporal.ApplicationError](err)
	return ok
}

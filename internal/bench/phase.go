package bench

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/workflows"
)

// item is one incident (or, in the ceiling phase, one workflow) and what became of it.
type item struct {
	inc Incident

	// Posting. In the storm phase an incident is posted several times: acceptedAt is the first 202.
	sentAt, acceptedAt time.Time
	posts, retries     int
	postFailures       int // posts that got no 202
	started, deduped   int
	postErr            string
	workflowID         string
	writeBack          string // the rules' write-back run the intake started for it, if any
	otherRuns          int    // runs of playbooks other than the kind's

	// Observation.
	effects   int       // tickets created / emails received for this incident
	effectAt  time.Time // the first one
	answering bool      // the run is (being) answered; set once
	answerErr string
	// answerSent and answerDone frame the bench's answer (a PLC run's Update), when it was answered.
	answerSent, answerDone time.Time
	closedAt               time.Time
	closeState             enumspb.WorkflowExecutionStatus
}

func (it *item) accepted() bool { return !it.acceptedAt.IsZero() }
func (it *item) closed() bool   { return !it.closedAt.IsZero() }

// phase tracks the items of one phase and folds in what the pollers find.
type phase struct {
	name string
	// prefix starts every incident ID (or, for the ceiling, workflow ID) of the phase; mailQuery finds
	// its emails in Mailpit.
	prefix, mailQuery string
	// effects says whether items have a side effect to wait for (not in the ceiling phase).
	effects bool
	// runQuery selects the phase's workflows in the visibility store.
	runQuery string
	items    []*item
	plcRe    *regexp.Regexp
	// totalPosts is how many posts the phase makes (more than len(items) in the storm).
	totalPosts int

	mu         sync.Mutex
	byKey      map[string]*item // ticket correlation ID
	byPLC      map[string]*item // PLC name in an email subject
	byWF       map[string]*item // workflow ID
	tickets    map[string]bool  // sys_ids seen
	snowOffset int
	mails      map[string]bool // Mailpit IDs seen
	mailNewest time.Time       // the newest message the incremental polls have seen
	runs       map[string]bool // workflow IDs seen closed
	watermark  time.Time       // latest close time seen
	unexpected struct{ tickets, emails int }
	pollErrors map[string]int

	answerQ chan *item

	posted, acceptedN, effectsN, closedN atomic.Int64
	firstSent                            time.Time
}

// newPhase tracks items whose tags start with letter.
func newPhase(name, runID, letter string, items []*item) *phase {
	p := &phase{
		name: name, prefix: "bench-" + runID + "-" + letter, items: items, effects: true,
		mailQuery: `subject:"PLC-` + runID + "-" + letter + `"`,
		plcRe:     regexp.MustCompile(`PLC-` + regexp.QuoteMeta(runID) + `-[a-z]+[0-9]+`),
		byKey:     map[string]*item{},
		byPLC:     map[string]*item{},
		byWF:      map[string]*item{},
		tickets:   map[string]bool{}, mails: map[string]bool{}, runs: map[string]bool{},
		pollErrors: map[string]int{},
		answerQ:    make(chan *item, len(items)),
		totalPosts: len(items),
	}
	p.runQuery = fmt.Sprintf(`%s STARTS_WITH %q`, workflows.AttrIncidentID.GetName(), p.prefix)
	for _, it := range items {
		for _, k := range it.inc.DeviceKeys {
			if it.inc.Kind == KindNES {
				p.byKey[k] = it
			}
		}
		for _, n := range it.inc.PLCNames {
			p.byPLC[n] = it
		}
	}
	return p
}

// recordPost folds in one intake answer. It reports whether the item's run must be answered now: its
// email was seen before its 202 came back (a fast run on an idle stack beats a slow HTTP answer), so
// the mail poller could not answer it, not knowing the run yet.
func (p *phase) recordPost(it *item, sent, at time.Time, resp intake.Response, err error, attempts int) (answer bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	it.posts++
	it.retries += attempts - 1
	if err != nil {
		it.postFailures++
		if !it.accepted() {
			it.postErr = err.Error()
		}
		return false
	}
	first := !it.accepted()
	if first {
		it.sentAt, it.acceptedAt, it.postErr = sent, at, ""
		p.acceptedN.Add(1)
	}
	if resp.WriteBack != nil && it.writeBack == "" {
		it.writeBack = resp.WriteBack.WorkflowID
	}
	for _, run := range resp.Runs {
		if run.Playbook != it.inc.Kind.Playbook() {
			if first {
				it.otherRuns++
			}
			continue
		}
		if run.Status == "deduplicated" {
			it.deduped++
		} else {
			it.started++
		}
		if it.workflowID == "" {
			it.workflowID = run.WorkflowID
			p.byWF[run.WorkflowID] = it
		}
	}
	return p.needsAnswer(it)
}

// needsAnswer marks a PLC item whose email was seen and whose run is known as being answered; called
// with p.mu held.
func (p *phase) needsAnswer(it *item) bool {
	if it.inc.Kind != KindPLC || it.effects == 0 || it.workflowID == "" || it.answering {
		return false
	}
	it.answering = true
	return true
}

// settled says whether nothing more is to be waited for: every accepted item has its side effect and
// its closed run, and every item was at least tried.
func (p *phase) settled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range p.items {
		if it.posts == 0 {
			return false
		}
		if !it.accepted() {
			continue
		}
		if p.effects && it.effects == 0 {
			return false
		}
		if it.workflowID != "" && !it.closed() {
			return false
		}
	}
	return true
}

func (p *phase) pollError(source string, err error) (first bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pollErrors[source]++
	return p.pollErrors[source] == 1
}

// addTickets folds in tickets, each once however often a poll returns it.
func (p *phase) addTickets(list []ticket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range list {
		if t.SysID != "" && p.tickets[t.SysID] {
			continue
		}
		p.tickets[t.SysID] = true
		it := p.byKey[t.Key]
		if it == nil {
			p.unexpected.tickets++
			continue
		}
		p.effect(it, t.Created)
	}
}

// effect records one side effect of an item; called with p.mu held.
func (p *phase) effect(it *item, at time.Time) {
	it.effects++
	if it.effects == 1 {
		p.effectsN.Add(1)
	}
	if !at.IsZero() && (it.effectAt.IsZero() || at.Before(it.effectAt)) {
		it.effectAt = at
	}
}

// addEmails folds in emails and returns the PLC items to answer. Strict lists come from a search for
// the phase's subjects, so an email naming no known PLC is unexpected; the incremental poll reads the
// whole mailbox and skips what is not the phase's.
func (p *phase) addEmails(list []email, strict bool) (toAnswer []*item) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range list {
		if p.mails[m.ID] {
			continue
		}
		it := p.byPLC[p.plcRe.FindString(m.Subject)]
		if it == nil {
			if strict {
				p.mails[m.ID] = true
				p.unexpected.emails++
			}
			continue
		}
		p.mails[m.ID] = true
		p.effect(it, m.Created)
		if p.needsAnswer(it) {
			toAnswer = append(toAnswer, it)
		}
	}
	return toAnswer
}

// addRuns folds in closed workflow executions.
func (p *phase) addRuns(infos []closedRun) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range infos {
		if p.runs[r.workflowID] {
			continue
		}
		p.runs[r.workflowID] = true
		if r.closedAt.After(p.watermark) {
			p.watermark = r.closedAt
		}
		it := p.byWF[r.workflowID]
		if it == nil {
			continue
		}
		it.closedAt, it.closeState = r.closedAt, r.status
		p.closedN.Add(1)
	}
}

func (p *phase) seenRuns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.runs)
}

type closedRun struct {
	workflowID string
	closedAt   time.Time
	status     enumspb.WorkflowExecutionStatus
}

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

// answer sends the "planned" answer and waits until the run has accepted it. Transient failures are
// retried briefly; a rejected answer (already answered, no longer waiting) is final.
func (r *runner) answer(ctx context.Context, workflowID string) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
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
		if appErr, ok := errors.AsType[*temporal.ApplicationError](err); ok && appErr.Type() == "AlreadyAnswered" && attempt > 0 {
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

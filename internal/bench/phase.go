package bench

import (
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

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
	writeBack          string // the rules' write-back run of its own the intake started for it, if any
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
	// unmatched holds closed runs no item claims yet: a fast run can close, and be listed, before the
	// intake's answer that names its workflow ID is read.
	unmatched  map[string]closedRun
	watermark  time.Time // latest close time seen
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
			if it.inc.Kind == KindNewEngineeringStation {
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
	// A playbook run that carries the rules' changes is not a second run.
	if resp.WriteBack != nil && it.writeBack == "" && resp.WriteBack.Playbook == workflows.RuleChangesName {
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
			if r, ok := p.unmatched[run.WorkflowID]; ok {
				delete(p.unmatched, run.WorkflowID)
				p.closeItem(it, r)
			}
		}
	}
	return p.needsAnswer(it)
}

// needsAnswer marks a PLC item whose email was seen and whose run is known as being answered; called
// with p.mu held.
func (p *phase) needsAnswer(it *item) bool {
	if it.inc.Kind != KindPLCReprogramming || it.effects == 0 || it.workflowID == "" || it.answering {
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
			if p.unmatched == nil {
				p.unmatched = map[string]closedRun{}
			}
			p.unmatched[r.workflowID] = r
			continue
		}
		p.closeItem(it, r)
	}
}

// closeItem records how an item's run closed; called with p.mu held.
func (p *phase) closeItem(it *item, r closedRun) {
	it.closedAt, it.closeState = r.closedAt, r.status
	p.closedN.Add(1)
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

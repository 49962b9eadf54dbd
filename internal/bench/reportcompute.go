package bench

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// phaseTimes are the latencies and last moments phaseReport collects while it walks a phase's items.
type phaseTimes struct {
	acc, eff, done                      []time.Duration
	kindEff, kindDone                   map[Kind][]time.Duration
	toAnswer, answerCall, answerToClose []time.Duration
	lastAccepted, lastEffect, lastClose time.Time
}

// phaseReport computes a phase's figures from its items.
func phaseReport(p *phase, rate float64, concurrency int) *PhaseReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	rep := &PhaseReport{
		Incidents: len(p.items), ByKind: map[string]int{}, TargetRate: rate, Concurrency: concurrency,
		Kinds: map[string]KindReport{}, Errors: []string{},
		UnexpectedTickets: p.unexpected.tickets, UnexpectedEmails: p.unexpected.emails,
	}
	t := &phaseTimes{kindEff: map[Kind][]time.Duration{}, kindDone: map[Kind][]time.Duration{}}
	for _, it := range p.items {
		k := it.inc.Kind
		rep.ByKind[string(k)]++
		kr := rep.Kinds[string(k)]
		kr.Playbook, kr.SideEffect = k.Playbook(), k.SideEffect()
		kr.Incidents++
		rep.Posts += it.posts
		rep.Retries += it.retries
		rep.OtherPlaybookRuns += it.otherRuns
		if it.answerErr != "" {
			rep.AnswerErrors++
			rep.Errors = addError(rep.Errors, "answer: "+it.answerErr)
		}
		if !it.accepted() {
			rep.PostFailures++
			rep.Errors = addError(rep.Errors, it.postErr)
			rep.Kinds[string(k)] = kr
			continue
		}
		rep.Accepted++
		t.acc = append(t.acc, it.acceptedAt.Sub(it.sentAt))
		t.lastAccepted = later(t.lastAccepted, it.acceptedAt)
		if it.effects > 0 {
			rep.SideEffects++
			kr.SideEffects++
			rep.Duplicates += it.effects - 1
			if !it.effectAt.IsZero() {
				d := it.effectAt.Sub(it.acceptedAt)
				t.eff = append(t.eff, d)
				t.kindEff[k] = append(t.kindEff[k], d)
				t.lastEffect = later(t.lastEffect, it.effectAt)
			}
		} else {
			rep.Lost++
		}
		rep.addRun(it, &kr, t)
		rep.Kinds[string(k)] = kr
	}
	for k, kr := range rep.Kinds {
		kr.AcceptedToSideEffect = Summarize(t.kindEff[Kind(k)])
		kr.AcceptedToCompleted = Summarize(t.kindDone[Kind(k)])
		rep.Kinds[k] = kr
	}
	rep.PostToAccepted, rep.AcceptedToSideEffect, rep.AcceptedToCompleted = Summarize(t.acc), Summarize(t.eff), Summarize(t.done)
	if len(t.answerCall) > 0 {
		rep.Answers = &AnswerTimes{EffectToSent: Summarize(t.toAnswer), Call: Summarize(t.answerCall), DoneToClosed: Summarize(t.answerToClose)}
	}
	rep.AcceptedPerSec = perSecond(rep.Accepted, t.lastAccepted.Sub(p.firstSent))
	rep.SideEffectsPerSec = perSecond(rep.SideEffects, t.lastEffect.Sub(p.firstSent))
	rep.CompletedPerSec = perSecond(rep.Completed, t.lastClose.Sub(p.firstSent))
	rep.WallSeconds = round3(later(t.lastClose, later(t.lastEffect, t.lastAccepted)).Sub(p.firstSent).Seconds())
	return rep
}

// addRun counts how an accepted item's run ended, into rep, its kind's kr and t.
func (rep *PhaseReport) addRun(it *item, kr *KindReport, t *phaseTimes) {
	k := it.inc.Kind
	switch {
	case it.workflowID == "":
		rep.NotClosed++
		rep.Errors = addError(rep.Errors, "the intake started no "+k.Playbook()+" run")
	case !it.closed():
		rep.NotClosed++
	case it.closeState == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		rep.Completed++
		kr.Completed++
		d := it.closedAt.Sub(it.acceptedAt)
		t.done = append(t.done, d)
		t.kindDone[k] = append(t.kindDone[k], d)
		t.lastClose = later(t.lastClose, it.closedAt)
		if !it.answerDone.IsZero() && !it.effectAt.IsZero() {
			t.toAnswer = append(t.toAnswer, it.answerSent.Sub(it.effectAt))
			t.answerCall = append(t.answerCall, it.answerDone.Sub(it.answerSent))
			t.answerToClose = append(t.answerToClose, it.closedAt.Sub(it.answerDone))
		}
	default:
		rep.RunsFailed++
		rep.Errors = addError(rep.Errors, "run "+it.workflowID+" closed "+it.closeState.String())
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func stormReport(p *phase, k int) *StormReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	rep := &StormReport{Incidents: len(p.items), PostsPerIncident: k, ByKind: map[string]int{}, Errors: []string{}}
	for _, it := range p.items {
		rep.ByKind[string(it.inc.Kind)]++
		rep.Posts += it.posts
		rep.Started += it.started
		rep.Deduplicated += it.deduped
		rep.PostFailures += it.postFailures
		if it.started > 1 {
			rep.IncidentsStartedTwice++
		}
		if it.postErr != "" {
			rep.Errors = addError(rep.Errors, it.postErr)
		}
		if it.answerErr != "" {
			rep.Errors = addError(rep.Errors, "answer: "+it.answerErr)
		}
		switch it.inc.Kind {
		case KindNewEngineeringStation:
			rep.ExpectedTickets++
			rep.Tickets += it.effects
		case KindPLCReprogramming:
			rep.ExpectedEmails++
			rep.Emails += it.effects
		}
		if it.effects == 0 {
			rep.Lost++
		} else {
			rep.Duplicates += it.effects - 1
		}
	}
	return rep
}

func ceilingReport(p *phase, shape Shape, source string, rateWanted float64, concurrency int) *CeilingReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	rep := &CeilingReport{
		Workflows: len(p.items), Shape: shape, ShapeSource: source, TargetRate: rateWanted,
		Concurrency: concurrency, Errors: []string{},
	}
	var call, done []time.Duration
	var lastStart, lastClose time.Time
	for _, it := range p.items {
		if !it.accepted() {
			rep.StartFailures++
			rep.Errors = addError(rep.Errors, it.postErr)
			continue
		}
		rep.Started++
		call = append(call, it.acceptedAt.Sub(it.sentAt))
		lastStart = later(lastStart, it.acceptedAt)
		if it.closed() && it.closeState == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			rep.Completed++
			done = append(done, it.closedAt.Sub(it.acceptedAt))
			lastClose = later(lastClose, it.closedAt)
		} else {
			rep.NotCompleted++
		}
	}
	rep.StartCall, rep.StartedToCompleted = Summarize(call), Summarize(done)
	rep.StartedPerSec = perSecond(rep.Started, lastStart.Sub(p.firstSent))
	rep.CompletedPerSec = perSecond(rep.Completed, lastClose.Sub(p.firstSent))
	rep.WallSeconds = round3(later(lastClose, lastStart).Sub(p.firstSent).Seconds())
	return rep
}

// The project's performance goals (issue 6; the full-load side-effect bound from issue 11).
const (
	targetCompletedPerSec = 80
	targetCeilingRatio    = 0.8
	targetLowLoadP99Ms    = 100
	targetLoadP99Ms       = 1000
)

func targets(rep Report) []Target {
	out := []Target{}
	if rep.Load != nil {
		out = append(out, Target{
			Name: "runs completed per second at full load", Want: fmt.Sprintf(">= %d", targetCompletedPerSec),
			Value: rep.Load.CompletedPerSec, Unit: "/s", Met: rep.Load.CompletedPerSec >= targetCompletedPerSec,
		})
	}
	if rep.Load != nil {
		p99 := rep.Load.AcceptedToSideEffect.P99Ms
		out = append(out, Target{
			Name: "p99 accepted→side effect at full load", Want: fmt.Sprintf("<= %d ms", targetLoadP99Ms),
			Value: p99, Unit: "ms", Met: rep.Load.AcceptedToSideEffect.Count > 0 && p99 <= targetLoadP99Ms,
		})
	}
	if rep.Ceiling != nil {
		out = append(out, Target{
			Name: "share of the raw Temporal ceiling", Want: fmt.Sprintf(">= %.0f%%", targetCeilingRatio*100),
			Value: round3(rep.CeilingRatio * 100), Unit: "%", Met: rep.CeilingRatio >= targetCeilingRatio,
		})
	}
	if rep.SameWork != nil {
		out = append(out, Target{
			Name: "share of the same-work ceiling", Want: fmt.Sprintf(">= %.0f%%", targetCeilingRatio*100),
			Value: round3(rep.SameWorkRatio * 100), Unit: "%", Met: rep.SameWorkRatio >= targetCeilingRatio,
		})
	}
	if rep.LowLoad != nil {
		p99 := rep.LowLoad.AcceptedToSideEffect.P99Ms
		out = append(out, Target{
			Name: fmt.Sprintf("p99 accepted→side effect at %g/s", rep.LowLoad.TargetRate), Want: fmt.Sprintf("<= %d ms", targetLowLoadP99Ms),
			Value: p99, Unit: "ms", Met: rep.LowLoad.AcceptedToSideEffect.Count > 0 && p99 <= targetLowLoadP99Ms,
		})
	}
	return out
}

// failures are the correctness problems that make the bench exit non-zero. Missed performance
// targets are not among them: they are reported, and judged by people.
func failures(rep Report) []string {
	out := []string{}
	phase := func(name string, p *PhaseReport) {
		if p == nil {
			return
		}
		add := func(n int, what string) {
			if n > 0 {
				out = append(out, fmt.Sprintf("%s: %d %s", name, n, what))
			}
		}
		add(p.PostFailures, "incidents not accepted by the intake")
		add(p.Lost, "incidents lost (no side effect within the timeout)")
		add(p.Duplicates, "duplicate side effects")
		add(p.RunsFailed, "runs failed")
		add(p.NotClosed, "runs not closed within the timeout")
	}
	phase("full load", rep.Load)
	phase("low load", rep.LowLoad)
	out = append(out, alertFailures(rep.Alerts)...)
	if s := rep.Storm; s != nil {
		if s.Duplicates > 0 || s.Lost > 0 || s.IncidentsStartedTwice > 0 {
			out = append(out, fmt.Sprintf("alert storm: %d duplicates, %d lost, %d incidents started twice", s.Duplicates, s.Lost, s.IncidentsStartedTwice))
		}
	}
	return out
}

func notes(rep Report) []string {
	var out []string
	if rep.Load != nil && rep.Load.ByKind[string(KindPLCReprogramming)] > 0 || rep.LowLoad != nil && rep.LowLoad.ByKind[string(KindPLCReprogramming)] > 0 {
		out = append(out, "PLC runs wait for the engineers' answer: the bench answers each \"planned\" with a Temporal Update (WaitForStage Completed) as soon as it sees the run's email in Mailpit (polled every "+mailEvery.String()+"), so their completion includes that delay.")
	}
	out = append(out, "Latencies start when the bench receives the intake's 202. Side effects end at the ServiceNow record's creation (the stand-in's u_interlock_created_at, ns) or Mailpit's receipt time (ms); runs end at Temporal's close time. All clocks are this host's.")
	if rep.Ceiling != nil {
		out = append(out, "The ceiling starts trivial workflows ("+rep.Ceiling.ShapeSource+", no I/O) straight on Temporal, without HTTP, rules, search attributes, memo or input, on a worker inside the bench with Interlock's worker options.")
	}
	if rep.Alerts != nil {
		out = append(out, "Alert intake: the intake answers POST /v1/alerts only once every record's incident workflow has recorded it (update-with-start), so each record's alert→incident latency is the POST latency of its batch (from the batch's first send, when a 503 made the bench resend it). Records/s counts accepted and duplicate records over the wall time from the first POST to the last answer.")
	}
	return out
}

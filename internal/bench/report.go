package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// Report is everything one bench run measured. Its JSON field names are stable: scripts and CI read
// them. Latencies are in milliseconds, rates per second, CPU in seconds, memory in MiB.
type Report struct {
	RunID           string         `json:"runId"`
	StartedAt       time.Time      `json:"startedAt"`
	DurationSeconds float64        `json:"durationSeconds"`
	Stack           StackInfo      `json:"stack"`
	Settings        Settings       `json:"settings"`
	Load            *PhaseReport   `json:"load"`
	Ceiling         *CeilingReport `json:"ceiling"`
	CeilingRatio    float64        `json:"ceilingRatio"` // load completed/s ÷ ceiling completed/s
	// CeilingRegular is the ceiling with regular activities only (--ceiling-regular).
	CeilingRegular *CeilingReport `json:"ceilingRegular,omitempty"`
	// SameWork is the same-work ceiling (--ceiling-same-work); SameWorkRatio load completed/s ÷ its
	// completed/s.
	SameWork      *CeilingReport  `json:"sameWork,omitempty"`
	SameWorkRatio float64         `json:"sameWorkRatio,omitempty"`
	Alerts        *AlertReport    `json:"alerts"`
	Storm         *StormReport    `json:"storm"`
	LowLoad       *PhaseReport    `json:"lowLoad"`
	Processes     []ProcessReport `json:"processes"`
	Host          HostReport      `json:"host"`
	Targets       []Target        `json:"targets"`
	Failures      []string        `json:"failures"`
	Notes         []string        `json:"notes"`
}

// StackInfo says what was measured.
type StackInfo struct {
	// Topology is how the bench launched the stack (split or combined, processes); empty for a
	// stack that was already running.
	Topology        string `json:"topology,omitempty"`
	Intake          string `json:"intake"`
	Temporal        string `json:"temporal"`
	Namespace       string `json:"namespace"`
	Mailpit         string `json:"mailpit"`
	ServiceNow      string `json:"servicenow"`
	ServiceNowTable string `json:"servicenowTable"`
}

// Settings are the run's parameters.
type Settings struct {
	Incidents        int     `json:"incidents"`
	Rate             float64 `json:"rate"`
	Concurrency      int     `json:"concurrency"`
	Mix              string  `json:"mix"`
	Storm            int     `json:"storm"`
	StormIncidents   int     `json:"stormIncidents"`
	LatencyRate      float64 `json:"latencyRate"`
	LatencyIncidents int     `json:"latencyIncidents"`
	TimeoutSeconds   float64 `json:"timeoutSeconds"`
	Alerts           int     `json:"alerts"`
	AlertBatch       int     `json:"alertBatch"`
	AlertRepeat      float64 `json:"alertRepeat"`
	AlertConcurrency int     `json:"alertConcurrency"`
}

// PhaseReport is a load or low-load phase: incidents posted to the intake.
type PhaseReport struct {
	Incidents   int            `json:"incidents"`
	ByKind      map[string]int `json:"byKind"`
	TargetRate  float64        `json:"targetRate"` // 0: as fast as Concurrency allows
	Concurrency int            `json:"concurrency"`

	Posts        int `json:"posts"`
	Retries      int `json:"retries"`
	Accepted     int `json:"accepted"`
	PostFailures int `json:"postFailures"`
	SideEffects  int `json:"sideEffectsDone"`
	Duplicates   int `json:"duplicates"`
	// Lost incidents were accepted but caused no side effect within the timeout.
	Lost              int `json:"lost"`
	Completed         int `json:"completed"`
	RunsFailed        int `json:"runsFailed"`
	NotClosed         int `json:"notClosed"`
	UnexpectedTickets int `json:"unexpectedTickets"`
	UnexpectedEmails  int `json:"unexpectedEmails"`
	// OtherPlaybookRuns are runs of playbooks other than the incident kind's that the rules started.
	OtherPlaybookRuns int `json:"otherPlaybookRuns"`
	AnswerErrors      int `json:"answerErrors"`

	// WallSeconds runs from the first post to the last run closed.
	WallSeconds       float64 `json:"wallSeconds"`
	AcceptedPerSec    float64 `json:"acceptedPerSec"`
	SideEffectsPerSec float64 `json:"sideEffectsPerSec"`
	CompletedPerSec   float64 `json:"completedPerSec"`

	PostToAccepted       Summary               `json:"postToAccepted"`
	AcceptedToSideEffect Summary               `json:"acceptedToSideEffect"`
	AcceptedToCompleted  Summary               `json:"acceptedToCompleted"`
	Kinds                map[string]KindReport `json:"kinds"`
	// Answers times the bench's own answers to PLC runs, which their completion waits for.
	Answers *AnswerTimes `json:"answers,omitempty"`

	CPU           map[string]float64 `json:"cpuSeconds"`
	HostBusyCores float64            `json:"hostBusyCores"`
	Errors        []string           `json:"errors"`
}

// AnswerTimes splits a PLC run's wait for the bench's answer: from its email's arrival to the Update
// sent (the bench's mail poll and queue), the Update call, and from its return to the run's close.
type AnswerTimes struct {
	EffectToSent Summary `json:"effectToSent"`
	Call         Summary `json:"call"`
	DoneToClosed Summary `json:"doneToClosed"`
}

// KindReport is one incident kind within a phase.
type KindReport struct {
	Playbook             string  `json:"playbook"`
	SideEffect           string  `json:"sideEffect"`
	Incidents            int     `json:"incidents"`
	SideEffects          int     `json:"sideEffectsDone"`
	Completed            int     `json:"completed"`
	AcceptedToSideEffect Summary `json:"acceptedToSideEffect"`
	AcceptedToCompleted  Summary `json:"acceptedToCompleted"`
	// Breakdown is where a sample of the completed runs spent their time (nil when none completed).
	Breakdown *Breakdown `json:"breakdown"`
}

// CeilingReport is the raw Temporal ceiling phase.
type CeilingReport struct {
	Workflows       int     `json:"workflows"`
	Shape           Shape   `json:"shape"`
	ShapeSource     string  `json:"shapeSource"`
	TargetRate      float64 `json:"targetRate"`
	Concurrency     int     `json:"concurrency"`
	Started         int     `json:"started"`
	StartFailures   int     `json:"startFailures"`
	Completed       int     `json:"completed"`
	NotCompleted    int     `json:"notCompleted"`
	WallSeconds     float64 `json:"wallSeconds"`
	StartedPerSec   float64 `json:"startedPerSec"`
	CompletedPerSec float64 `json:"completedPerSec"`
	// StartCall is the ExecuteWorkflow call (the counterpart of a post's 202); StartedToCompleted runs
	// from its return to the close.
	StartCall          Summary            `json:"startCall"`
	StartedToCompleted Summary            `json:"startedToCompleted"`
	Breakdown          *Breakdown         `json:"breakdown"`
	CPU                map[string]float64 `json:"cpuSeconds"`
	HostBusyCores      float64            `json:"hostBusyCores"`
	Errors             []string           `json:"errors"`
}

// StormReport is the alert storm: each incident posted several times at once.
type StormReport struct {
	Incidents        int            `json:"incidents"`
	PostsPerIncident int            `json:"postsPerIncident"`
	ByKind           map[string]int `json:"byKind"`
	Posts            int            `json:"posts"`
	Started          int            `json:"started"`
	Deduplicated     int            `json:"deduplicated"`
	PostFailures     int            `json:"postFailures"`
	// IncidentsStartedTwice had more than one post answered "started".
	IncidentsStartedTwice int `json:"incidentsStartedTwice"`
	ExpectedTickets       int `json:"expectedTickets"`
	Tickets               int `json:"tickets"`
	ExpectedEmails        int `json:"expectedEmails"`
	Emails                int `json:"emails"`
	// Duplicates counts side effects beyond the first per incident; Lost, incidents without any.
	Duplicates int                `json:"duplicates"`
	Lost       int                `json:"lost"`
	CPU        map[string]float64 `json:"cpuSeconds"`
	Errors     []string           `json:"errors"`
}

// ProcessReport is one watched process over the whole bench.
type ProcessReport struct {
	Role       string  `json:"role"`
	PID        int     `json:"pid"`
	Covers     string  `json:"covers"`
	CPUSeconds float64 `json:"cpuSeconds"`
	// LoadCPUSeconds is the full-load phase alone; per incident, LoadCPUMsPerIncident.
	LoadCPUSeconds       float64 `json:"loadCpuSeconds"`
	LoadCPUMsPerIncident float64 `json:"loadCpuMsPerIncident"`
	// PeakRSSMB is the highest VmRSS sampled (1/s) during the bench; HWMMB the kernel's VmHWM, the peak
	// since the process started.
	PeakRSSMB float64 `json:"peakRssMiB"`
	HWMMB     float64 `json:"hwmMiB"`
	Error     string  `json:"error,omitempty"`
}

// HostReport is the machine.
type HostReport struct {
	CPUs int `json:"cpus"`
	// BusyCores is the average number of cores busy (anyone's work) over the whole bench.
	BusyCores float64 `json:"busyCores"`
}

// Target is one of the project's performance goals and what this run measured.
type Target struct {
	Name  string  `json:"name"`
	Want  string  `json:"want"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Met   bool    `json:"met"`
}

// maxErrors bounds the distinct error messages a phase keeps.
const maxErrors = 5

func addError(list []string, msg string) []string {
	if msg == "" || slices.Contains(list, msg) || len(list) >= maxErrors {
		return list
	}
	return append(list, msg)
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
	var acc, eff, done []time.Duration
	kindEff, kindDone := map[Kind][]time.Duration{}, map[Kind][]time.Duration{}
	var toAnswer, answerCall, answerToClose []time.Duration
	var lastAccepted, lastEffect, lastClose time.Time
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
		acc = append(acc, it.acceptedAt.Sub(it.sentAt))
		lastAccepted = later(lastAccepted, it.acceptedAt)
		if it.effects > 0 {
			rep.SideEffects++
			kr.SideEffects++
			rep.Duplicates += it.effects - 1
			if !it.effectAt.IsZero() {
				d := it.effectAt.Sub(it.acceptedAt)
				eff = append(eff, d)
				kindEff[k] = append(kindEff[k], d)
				lastEffect = later(lastEffect, it.effectAt)
			}
		} else {
			rep.Lost++
		}
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
			done = append(done, d)
			kindDone[k] = append(kindDone[k], d)
			lastClose = later(lastClose, it.closedAt)
			if !it.answerDone.IsZero() && !it.effectAt.IsZero() {
				toAnswer = append(toAnswer, it.answerSent.Sub(it.effectAt))
				answerCall = append(answerCall, it.answerDone.Sub(it.answerSent))
				answerToClose = append(answerToClose, it.closedAt.Sub(it.answerDone))
			}
		default:
			rep.RunsFailed++
			rep.Errors = addError(rep.Errors, "run "+it.workflowID+" closed "+it.closeState.String())
		}
		rep.Kinds[string(k)] = kr
	}
	for k, kr := range rep.Kinds {
		kr.AcceptedToSideEffect = Summarize(kindEff[Kind(k)])
		kr.AcceptedToCompleted = Summarize(kindDone[Kind(k)])
		rep.Kinds[k] = kr
	}
	rep.PostToAccepted, rep.AcceptedToSideEffect, rep.AcceptedToCompleted = Summarize(acc), Summarize(eff), Summarize(done)
	if len(answerCall) > 0 {
		rep.Answers = &AnswerTimes{EffectToSent: Summarize(toAnswer), Call: Summarize(answerCall), DoneToClosed: Summarize(answerToClose)}
	}
	rep.AcceptedPerSec = perSecond(rep.Accepted, lastAccepted.Sub(p.firstSent))
	rep.SideEffectsPerSec = perSecond(rep.SideEffects, lastEffect.Sub(p.firstSent))
	rep.CompletedPerSec = perSecond(rep.Completed, lastClose.Sub(p.firstSent))
	rep.WallSeconds = round3(later(lastClose, later(lastEffect, lastAccepted)).Sub(p.firstSent).Seconds())
	return rep
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
		case KindNES:
			rep.ExpectedTickets++
			rep.Tickets += it.effects
		case KindPLC:
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
	if rep.Load != nil && rep.Load.ByKind[string(KindPLC)] > 0 || rep.LowLoad != nil && rep.LowLoad.ByKind[string(KindPLC)] > 0 {
		out = append(out, "PLC runs wait for the engineers' answer: the bench answers each \"planned\" with a Temporal Update (WaitForStage Completed) as soon as it sees the run's email in Mailpit (polled every "+mailEvery.String()+"), so their completion includes that delay.")
	}
	out = append(out, "Latencies start when the bench receives the intake's 202. Side effects end at the ServiceNow record's creation (the stand-in's u_interlock_created_at, ns) or Mailpit's receipt time (ms); runs end at Temporal's close time. All clocks are this host's.")
	if rep.Ceiling != nil {
		out = append(out, "The ceiling starts trivial workflows ("+rep.Ceiling.Shape.String()+", no I/O) straight on Temporal, without HTTP, rules or search attributes, on a worker inside the bench with Interlock's worker options.")
	}
	if rep.Alerts != nil {
		out = append(out, "Alert intake: the intake answers POST /v1/alerts only once every record's incident workflow has recorded it (update-with-start), so each record's alert→incident latency is the POST latency of its batch (from the batch's first send, when a 503 made the bench resend it). Records/s counts accepted and duplicate records over the wall time from the first POST to the last answer.")
	}
	return out
}

// Render writes the report as a table, or as one JSON document.
func Render(w io.Writer, rep Report, asJSON bool) error {
	if rep.Targets == nil {
		rep.Targets = []Target{}
	}
	if rep.Failures == nil {
		rep.Failures = []string{}
	}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	if rep.Processes == nil {
		rep.Processes = []ProcessReport{}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	b := &tableWriter{w: w}
	b.header(rep)
	if rep.Load != nil {
		b.phase("Full load", rep.Load)
	}
	if rep.Ceiling != nil {
		b.ceiling(rep.Ceiling, rep.CeilingRatio)
	}
	if c := rep.SameWork; c != nil {
		b.sameWork(c, rep.SameWorkRatio)
	}
	if c := rep.CeilingRegular; c != nil && rep.Ceiling != nil {
		b.printf("\nThe same ceiling with regular activities only (%s): %d completed, %.1f/s, start→closed p50 %s p99 %s;"+
			" the local fast path gives %.2f× its throughput\n", c.Shape, c.Completed, c.CompletedPerSec,
			fmtDur(c.StartedToCompleted.P50Ms), fmtDur(c.StartedToCompleted.P99Ms), safeRatio(rep.Ceiling.CompletedPerSec, c.CompletedPerSec))
	}
	if rep.Alerts != nil {
		b.alerts(rep.Alerts)
	}
	if rep.Storm != nil {
		b.storm(rep.Storm)
	}
	if rep.LowLoad != nil {
		b.phase("Low load", rep.LowLoad)
	}
	b.processes(rep)
	b.targets(rep)
	return b.err
}

type tableWriter struct {
	w   io.Writer
	err error
}

func (b *tableWriter) printf(format string, a ...any) {
	if b.err == nil {
		_, b.err = fmt.Fprintf(b.w, format, a...)
	}
}

func (b *tableWriter) header(rep Report) {
	b.printf("Interlock bench, run %s, %s, %.1f s\n", rep.RunID, rep.StartedAt.Format(time.RFC3339), rep.DurationSeconds)
	b.printf("  intake %s · Temporal %s (%s) · ServiceNow %s · Mailpit %s\n",
		rep.Stack.Intake, rep.Stack.Temporal, rep.Stack.Namespace, rep.Stack.ServiceNow, rep.Stack.Mailpit)
	if rep.Stack.Topology != "" {
		b.printf("  topology %s\n", rep.Stack.Topology)
	}
}

func loadLine(rate float64, concurrency int) string {
	if rate > 0 {
		return fmt.Sprintf("%g/s, up to %d in flight", rate, concurrency)
	}
	return fmt.Sprintf("as fast as possible, %d concurrent posts", concurrency)
}

func kindsLine(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// rows prints (label, count, rate, p50, p95, p99, max) rows under a header, numbers right-aligned.
func (b *tableWriter) rows(rows [][]string) {
	// tabwriter pads the labels to the longest; the numbers are right-aligned in fixed widths.
	tw := tabwriter.NewWriter(b.w, 0, 0, 1, ' ', 0)
	for _, r := range append([][]string{{"", "count", "rate/s", "p50 ms", "p95 ms", "p99 ms", "max ms"}}, rows...) {
		fmt.Fprintf(tw, "  %s\t%7s %8s %8s %8s %8s %8s\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6])
	}
	if err := tw.Flush(); err != nil && b.err == nil {
		b.err = err
	}
}

func row(label string, count int, perSec float64, s Summary) []string {
	r := []string{label, fmt.Sprint(count), "", "", "", "", ""}
	if perSec > 0 {
		r[2] = fmt.Sprintf("%.1f", perSec)
	}
	if s.Count > 0 {
		r[3], r[4], r[5], r[6] = fmtMs(s.P50Ms), fmtMs(s.P95Ms), fmtMs(s.P99Ms), fmtMs(s.MaxMs)
	}
	return r
}

func fmtMs(v float64) string {
	if v >= 100 || v <= -100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func (b *tableWriter) phase(title string, p *PhaseReport) {
	b.printf("\n%s: %d incidents (%s), %s\n", title, p.Incidents, kindsLine(p.ByKind), loadLine(p.TargetRate, p.Concurrency))
	rows := [][]string{row("accepted (POST→202)", p.Accepted, p.AcceptedPerSec, p.PostToAccepted)}
	rows = append(rows, row("side effect done (202→effect)", p.SideEffects, p.SideEffectsPerSec, p.AcceptedToSideEffect))
	for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
		kr := p.Kinds[k]
		rows = append(rows, row("  "+k+": "+kr.SideEffect, kr.SideEffects, 0, kr.AcceptedToSideEffect))
	}
	rows = append(rows, row("run completed (202→closed)", p.Completed, p.CompletedPerSec, p.AcceptedToCompleted))
	for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
		kr := p.Kinds[k]
		label := "  " + k + ": " + kr.Playbook
		if Kind(k) == KindPLC {
			label += " (answered by bench)"
		}
		rows = append(rows, row(label, kr.Completed, 0, kr.AcceptedToCompleted))
	}
	b.rows(rows)
	for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
		b.breakdown(k, p.Kinds[k].Breakdown)
	}
	if a := p.Answers; a != nil {
		b.printf("  plc answers by the bench, p50/p99: email → Update sent %s/%s, Update call %s/%s, Update done → run closed %s/%s\n",
			fmtDur(a.EffectToSent.P50Ms), fmtDur(a.EffectToSent.P99Ms), fmtDur(a.Call.P50Ms), fmtDur(a.Call.P99Ms),
			fmtDur(a.DoneToClosed.P50Ms), fmtDur(a.DoneToClosed.P99Ms))
	}
	b.printf("  posts %d (retries %d), not accepted %d, lost %d, duplicates %d, runs failed %d, not closed %d; wall %.1f s; host busy %.2f cores\n",
		p.Posts, p.Retries, p.PostFailures, p.Lost, p.Duplicates, p.RunsFailed, p.NotClosed, p.WallSeconds, p.HostBusyCores)
	if p.UnexpectedTickets+p.UnexpectedEmails+p.OtherPlaybookRuns+p.AnswerErrors > 0 {
		b.printf("  unexpected: tickets %d, emails %d, runs of other playbooks %d; answer errors %d\n",
			p.UnexpectedTickets, p.UnexpectedEmails, p.OtherPlaybookRuns, p.AnswerErrors)
	}
	b.cpu(p.CPU)
	for _, e := range p.Errors {
		b.printf("  error: %s\n", e)
	}
}

// breakdown prints where the sampled runs' time went, as medians.
func (b *tableWriter) breakdown(name string, bd *Breakdown) {
	if bd == nil {
		return
	}
	b.printf("  %s time, median of %d runs: %s total = %s queued for a worker (first task %s) + %s in the worker + %s other; %.1f tasks/run\n",
		name, bd.SampledRuns, fmtDur(bd.Total.P50Ms), fmtDur(bd.Queued.P50Ms), fmtDur(bd.FirstTaskQueued.P50Ms),
		fmtDur(bd.InWorker.P50Ms), fmtDur(bd.Other.P50Ms), bd.TasksPerRun)
}

func fmtDur(msv float64) string {
	if msv >= 1000 {
		return fmt.Sprintf("%.2f s", msv/1000)
	}
	return fmtMs(msv) + " ms"
}

func (b *tableWriter) cpu(m map[string]float64) {
	if len(m) == 0 {
		return
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %.1f s", k, m[k]))
	}
	b.printf("  CPU: %s\n", strings.Join(parts, ", "))
}

func (b *tableWriter) ceiling(c *CeilingReport, ratio float64) {
	b.printf("\nRaw Temporal ceiling: %d trivial workflows (%s; %s), %s\n", c.Workflows, c.Shape, c.ShapeSource, loadLine(c.TargetRate, c.Concurrency))
	b.rows([][]string{
		row("started (ExecuteWorkflow)", c.Started, c.StartedPerSec, c.StartCall),
		row("completed (start→closed)", c.Completed, c.CompletedPerSec, c.StartedToCompleted),
	})
	b.breakdown("ceiling", c.Breakdown)
	b.printf("  Interlock completed/s ÷ ceiling completed/s = %.2f (%.0f%%); start failures %d, not completed %d\n",
		ratio, ratio*100, c.StartFailures, c.NotCompleted)
	b.cpu(c.CPU)
	for _, e := range c.Errors {
		b.printf("  error: %s\n", e)
	}
}

func (b *tableWriter) sameWork(c *CeilingReport, ratio float64) {
	b.printf("\nSame-work ceiling: %d incidents of the mix as the Temporal work Interlock asks for, no I/O (%s), %s\n",
		c.Workflows, c.ShapeSource, loadLine(c.TargetRate, c.Concurrency))
	b.rows([][]string{
		row("started (ExecuteWorkflow)", c.Started, c.StartedPerSec, c.StartCall),
		row("completed (start→closed)", c.Completed, c.CompletedPerSec, c.StartedToCompleted),
	})
	b.printf("  Interlock completed/s ÷ same-work completed/s = %.2f (%.0f%%); start failures %d, not completed %d\n",
		ratio, ratio*100, c.StartFailures, c.NotCompleted)
	b.cpu(c.CPU)
	for _, e := range c.Errors {
		b.printf("  error: %s\n", e)
	}
}

func (b *tableWriter) storm(s *StormReport) {
	verdict := "OK"
	if s.Duplicates > 0 || s.Lost > 0 || s.IncidentsStartedTwice > 0 {
		verdict = "FAILED"
	}
	b.printf("\nAlert storm: %d incidents (%s), each posted %d times at once\n", s.Incidents, kindsLine(s.ByKind), s.PostsPerIncident)
	b.printf("  posts %d: started %d, deduplicated %d, failed %d; incidents started twice %d\n",
		s.Posts, s.Started, s.Deduplicated, s.PostFailures, s.IncidentsStartedTwice)
	b.printf("  tickets %d for %d incidents, emails %d for %d incidents → duplicates %d, lost %d  %s\n",
		s.Tickets, s.ExpectedTickets, s.Emails, s.ExpectedEmails, s.Duplicates, s.Lost, verdict)
	b.cpu(s.CPU)
	for _, e := range s.Errors {
		b.printf("  error: %s\n", e)
	}
}

func (b *tableWriter) processes(rep Report) {
	if len(rep.Processes) == 0 {
		return
	}
	b.printf("\nProcesses (CPU over the whole bench; full-load CPU per incident; peak RSS sampled 1/s, and VmHWM since start)\n")
	for _, p := range rep.Processes {
		if p.Error != "" {
			b.printf("  %-22s pid %-7d %s\n", p.Role, p.PID, p.Error)
			continue
		}
		perInc := ""
		if p.LoadCPUMsPerIncident > 0 {
			perInc = fmt.Sprintf(", full load %.1f s = %.1f ms/incident", p.LoadCPUSeconds, p.LoadCPUMsPerIncident)
		}
		b.printf("  %-22s pid %-7d CPU %6.1f s%s; RSS peak %.0f MiB (VmHWM %.0f MiB)\n", p.Role, p.PID, p.CPUSeconds, perInc, p.PeakRSSMB, p.HWMMB)
		b.printf("  %-22s %s\n", "", p.Covers)
	}
	b.printf("  host: %d CPUs, %.2f busy on average during the bench (all processes, not only the stack)\n", rep.Host.CPUs, rep.Host.BusyCores)
}

func (b *tableWriter) targets(rep Report) {
	if len(rep.Targets) > 0 {
		b.printf("\nTargets\n")
		for _, t := range rep.Targets {
			verdict := "met"
			if !t.Met {
				verdict = "MISSED"
			}
			b.printf("  %-42s %-10s %8.1f %-3s %s\n", t.Name, t.Want, t.Value, t.Unit, verdict)
		}
	}
	if len(rep.Notes) > 0 {
		b.printf("\nNotes\n")
		for _, n := range rep.Notes {
			b.printf("  - %s\n", n)
		}
	}
	if len(rep.Failures) > 0 {
		b.printf("\nFAILED\n")
		for _, f := range rep.Failures {
			b.printf("  - %s\n", f)
		}
	}
}

func safeRatio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Package bench measures a running Interlock stack from the outside, the way Sentinel uses it: it
// posts generated incidents to the intake and watches the side effects land (tickets in ServiceNow,
// emails in Mailpit) and the playbook runs close in Temporal. In the same run, on the same Temporal
// server, it measures the raw ceiling: a trivial workflow shaped like the playbook, started at the same
// concurrency, with no I/O at all. `interlock bench` is the command around it.
//
// Phases, each waited out before the next:
//
//   - full load: --incidents at --rate (or as fast as --concurrency allows): throughput and latency;
//   - ceiling: as many trivial workflows, same concurrency and rate, on a private task queue served by
//     a worker inside the bench;
//   - alert storm: --storm-incidents incidents, each posted --storm times at once: every incident must
//     cause exactly one ticket or email;
//   - low load: --latency-incidents at a steady --latency-rate: latency without queueing;
//   - alert intake (run last, printed after the ceiling): --alerts Defender for IoT alert records
//     posted to POST /v1/alerts in batches, some repeating earlier alert IDs: records/s, incidents
//     created/s, POST (= alert→incident) latency, and a check that every distinct alert ID made
//     exactly one incident.
package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/snowstub"
	"github.com/interlock-soar/interlock/worker"
)

// ErrChecksFailed is wrapped by Run's error when the bench ran but the stack failed a correctness
// check (duplicates, lost incidents, failed runs). The report is complete and was written.
var ErrChecksFailed = errors.New("bench checks failed")

// Config is one bench run.
type Config struct {
	// Incidents is the full-load phase's size; 0 skips it and the ceiling.
	Incidents int
	// Rate is the arrival rate in incidents per second; 0 posts as fast as Concurrency allows.
	Rate        float64
	Concurrency int
	Mix         Mix
	// Storm is how many times each of StormIncidents incidents is posted at once; 0 skips the storm.
	Storm          int
	StormIncidents int
	// LatencyRate and LatencyIncidents make the low-load phase; 0 incidents skips it.
	LatencyRate      float64
	LatencyIncidents int
	// Alerts is the alert-intake phase's size in records (0 skips it), posted to POST /v1/alerts in
	// batches of AlertBatch records, AlertConcurrency batches in flight. AlertRepeat is the share of
	// records that repeat an earlier alert ID, half as exact re-sends and half as later records.
	Alerts           int
	AlertBatch       int
	AlertRepeat      float64
	AlertConcurrency int
	// AlertShapes and AlertTitles rotate over the alerts; empty means both shapes and
	// DefaultAlertTitles. AlertArray sends JSON arrays instead of NDJSON.
	AlertShapes []AlertShape
	AlertTitles []string
	AlertArray  bool
	// KeepAlertIncidents leaves the run's incident workflows open instead of terminating them after
	// the checks.
	KeepAlertIncidents bool
	// Timeout is how long a phase waits, after its last post, for side effects and closed runs.
	Timeout time.Duration
	// Ceiling is the ceiling workflow's shape when CeilingExplicit, else it is measured from a completed
	// NewEngineeringStationTicket run (DefaultShape when there is none).
	Ceiling         Shape
	CeilingExplicit bool
	// NoCeiling skips the ceiling phase.
	NoCeiling bool
	// CeilingRegular runs the ceiling a second time with every local activity as a regular one: the
	// side effects' design without the local fast path, measured in the same run.
	CeilingRegular bool
	// CeilingSameWork also runs the same-work ceiling: per incident of the mix, the Temporal work
	// Interlock's path asks for (pathceiling.go).
	CeilingSameWork bool
	// WorkerTuning is the Temporal section the stack's worker runs with: the ceiling's worker takes the
	// same worker options, so both sides have the same slots.
	WorkerTuning config.Temporal

	// The stack. IntakeURLs are several intakes (replicas) taken in turn; when empty, IntakeURL alone.
	IntakeURL          string
	IntakeURLs         []string
	IntakeToken        string
	Temporal           client.Client
	TemporalAddress    string // for the report
	Namespace          string // for the report
	MailpitURL         string
	ServiceNowURL      string
	ServiceNowUser     string
	ServiceNowPassword string
	ServiceNowTable    string

	// Processes whose CPU and memory to report. DevStateDir finds a running `interlock dev` (its pid is
	// in dev.lock) and its Temporal and Mailpit children; the PIDs name separately run processes.
	DevStateDir                                           string
	DevPID, WorkerPID, IntakePID, TemporalPID, MailpitPID int
	// Processes, when set, are the stack's processes instead (a topology the bench launched itself).
	Processes []Process
	// Topology says in a line how the stack runs, for the report ("" for a stack already running).
	Topology string

	// JSON renders the report as one JSON document instead of the table.
	JSON bool
	// RunID is the run's unique tag; empty makes a random one.
	RunID  string
	Logger *slog.Logger
	// HTTPClient is used for every HTTP call; nil makes one sized for Concurrency.
	HTTPClient *http.Client
}

// check validates the config and fills defaults.
func (c *Config) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Incidents < 0 || c.StormIncidents < 0 || c.LatencyIncidents < 0 || c.Storm < 0 {
		bad("incident counts must not be negative")
	}
	if c.Incidents+c.StormIncidents+c.LatencyIncidents > maxSeq {
		bad("at most %d incidents per run", maxSeq)
	}
	if c.Rate < 0 || c.LatencyRate < 0 {
		bad("rates must not be negative")
	}
	if c.LatencyIncidents > 0 && c.LatencyRate == 0 {
		bad("the low-load phase needs a latency rate above 0")
	}
	if c.Concurrency < 1 || c.Concurrency > 10000 {
		bad("concurrency must be 1..10000, not %d", c.Concurrency)
	}
	if c.Storm > 1000 {
		bad("storm must be at most 1000 posts per incident")
	}
	if c.Alerts < 0 || c.Alerts > maxSeq {
		bad("alerts must be 0..%d records", maxSeq)
	}
	if c.Alerts > 0 {
		c.AlertBatch = cmp.Or(c.AlertBatch, 500)
		c.AlertConcurrency = cmp.Or(c.AlertConcurrency, 2)
		if len(c.AlertShapes) == 0 {
			c.AlertShapes = AlertShapes
		}
		if len(c.AlertTitles) == 0 {
			c.AlertTitles = DefaultAlertTitles
		}
		if c.AlertBatch < 1 || c.AlertBatch > incident.MaxBatchRecords {
			bad("alert batch must be 1..%d records, not %d", incident.MaxBatchRecords, c.AlertBatch)
		}
		if c.AlertConcurrency < 1 || c.AlertConcurrency > 1000 {
			bad("alert concurrency must be 1..1000, not %d", c.AlertConcurrency)
		}
		if c.AlertRepeat < 0 || c.AlertRepeat > MaxAlertRepeat {
			bad("alert repeat must be 0..%g, not %g", MaxAlertRepeat, c.AlertRepeat)
		}
	}
	if c.Timeout <= 0 {
		bad("timeout must be positive")
	}
	if len(c.Mix) == 0 {
		bad("mix is empty")
	}
	if c.Temporal == nil {
		bad("no Temporal client")
	}
	if len(c.IntakeURLs) == 0 && c.IntakeURL != "" {
		c.IntakeURLs = []string{c.IntakeURL}
	}
	if len(c.IntakeURLs) == 0 {
		bad("no intake URL")
	}
	for i, u := range c.IntakeURLs {
		c.IntakeURLs[i] = strings.TrimRight(u, "/")
	}
	c.IntakeURL = strings.Join(c.IntakeURLs, ", ")
	if c.MailpitURL == "" && c.Mix[KindPLC] > 0 {
		bad("no Mailpit URL (needed for plc incidents)")
	}
	if c.ServiceNowURL == "" && c.Mix[KindNES] > 0 {
		bad("no ServiceNow URL (needed for nes incidents)")
	}
	if c.RunID == "" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		c.RunID = hex.EncodeToString(b[:])
	}
	if !validRunID(c.RunID) {
		bad("run id %q: want 1 to 16 lower-case letters or digits", c.RunID)
	}
	c.MailpitURL = strings.TrimRight(c.MailpitURL, "/")
	c.ServiceNowURL = strings.TrimRight(c.ServiceNowURL, "/")
	c.ServiceNowTable = cmp.Or(c.ServiceNowTable, "incident")
	if c.WorkerTuning.MaxConcurrentWorkflows == 0 {
		c.WorkerTuning = config.Default().Temporal
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return errors.Join(errs...)
}

// runner is one Run's state.
type runner struct {
	cfg         Config
	runID       string
	log         *slog.Logger
	intake      *intakeClient
	snow        *snowClient
	mail        *mailpitClient
	tc          client.Client
	gen         *Generator
	procs       *processes
	prog        *progress
	needTickets bool
	needMail    bool
	seq         int
	nesRun      string // a completed NES run, for the ceiling's shape
	// kindRuns is a completed run of each kind, and ruleRuns a write-back run of the rules for each,
	// from the full load: the same-work ceiling's shapes.
	kindRuns, ruleRuns map[Kind]string
}

// Run benchmarks the stack, writes the report to out (a table, or JSON) and returns it. Progress goes
// to progressW while phases run (redrawn in place on a terminal). The error wraps ErrChecksFailed when the stack lost or duplicated work.
func Run(ctx context.Context, cfg Config, out, progressW io.Writer) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, fmt.Errorf("bench config: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection per concurrent post: the default two idle connections per host would make
		// every other request open a new one and fill the port range with TIME_WAIT at a few hundred /s.
		tr.MaxIdleConnsPerHost = cfg.Concurrency + cfg.Storm + cfg.AlertConcurrency + 16
		hc = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	gen, err := NewGenerator(cfg.RunID)
	if err != nil {
		return Report{}, err
	}
	r := &runner{
		cfg: cfg, runID: cfg.RunID, log: cfg.Logger, tc: cfg.Temporal, gen: gen,
		intake:      newIntakeClient(hc, cfg.IntakeURLs, cfg.IntakeToken),
		snow:        &snowClient{http: hc, url: cfg.ServiceNowURL, table: cfg.ServiceNowTable, user: cfg.ServiceNowUser, password: cfg.ServiceNowPassword},
		mail:        &mailpitClient{http: hc, url: cfg.MailpitURL},
		prog:        newProgress(progressW),
		needTickets: cfg.Mix[KindNES] > 0,
		needMail:    cfg.Mix[KindPLC] > 0,
	}
	rep := Report{
		RunID: r.runID, StartedAt: time.Now().UTC(),
		Stack: StackInfo{
			Topology: cfg.Topology, Intake: cfg.IntakeURL, Temporal: cfg.TemporalAddress, Namespace: cfg.Namespace,
			Mailpit: cfg.MailpitURL, ServiceNow: cfg.ServiceNowURL, ServiceNowTable: cfg.ServiceNowTable,
		},
		Settings: Settings{
			Incidents: cfg.Incidents, Rate: cfg.Rate, Concurrency: cfg.Concurrency, Mix: cfg.Mix.String(),
			Storm: cfg.Storm, StormIncidents: cfg.StormIncidents, LatencyRate: cfg.LatencyRate,
			LatencyIncidents: cfg.LatencyIncidents, TimeoutSeconds: cfg.Timeout.Seconds(),
			Alerts: cfg.Alerts, AlertBatch: cfg.AlertBatch, AlertRepeat: cfg.AlertRepeat, AlertConcurrency: cfg.AlertConcurrency,
		},
	}
	if err := r.preflight(ctx); err != nil {
		return rep, err
	}
	r.procs = discoverProcesses(procFS{root: "/proc"}, cfg, &rep.Notes)
	stopSampler := r.procs.sample(ctx)
	began := time.Now()
	bench0 := r.procs.snapshot()

	// The phases, in order; each is skipped when its size is zero. After an interrupt (Ctrl-C) the
	// remaining phases are skipped and what was measured is still reported.
	steps := []struct {
		skip bool
		run  func() error
	}{
		{cfg.Incidents == 0, func() (err error) {
			rep.Load, err = r.incidentPhase(ctx, "full load", "l", cfg.Incidents, cfg.Rate)
			return err
		}},
		{cfg.Incidents == 0 || cfg.NoCeiling, func() (err error) {
			rep.Ceiling, err = r.ceilingPhase(ctx, cfg.Incidents, cfg.Rate, &rep.Notes)
			if err == nil && rep.Load != nil && rep.Ceiling.CompletedPerSec > 0 {
				rep.CeilingRatio = round3(rep.Load.CompletedPerSec / rep.Ceiling.CompletedPerSec)
			}
			return err
		}},
		{cfg.Incidents == 0 || cfg.NoCeiling || !cfg.CeilingSameWork, func() (err error) {
			rep.SameWork, err = r.pathCeilingPhase(ctx, cfg.Incidents, cfg.Rate)
			if err != nil {
				// A load with no completed run of a kind has nothing to measure; the rest still reports.
				rep.Notes = append(rep.Notes, "same-work ceiling skipped: "+err.Error())
				return nil
			}
			if rep.Load != nil && rep.SameWork.CompletedPerSec > 0 {
				rep.SameWorkRatio = round3(rep.Load.CompletedPerSec / rep.SameWork.CompletedPerSec)
			}
			return nil
		}},
		{cfg.Incidents == 0 || cfg.NoCeiling || !cfg.CeilingRegular, func() (err error) {
			if rep.Ceiling == nil {
				return nil
			}
			regular := rep.Ceiling.Shape
			regular.Activities, regular.LocalActivities = regular.Activities+regular.LocalActivities, 0
			rep.CeilingRegular, err = r.runCeiling(ctx, cfg.Incidents, cfg.Rate, "r", regular, "the ceiling's, local activities as regular ones")
			return err
		}},
		{cfg.Storm == 0 || cfg.StormIncidents == 0, func() (err error) {
			rep.Storm, err = r.stormPhase(ctx)
			return err
		}},
		{cfg.LatencyIncidents == 0, func() (err error) {
			rep.LowLoad, err = r.incidentPhase(ctx, "low load", "p", cfg.LatencyIncidents, cfg.LatencyRate)
			return err
		}},
		// Last: the thousands of incident workflows it creates (and terminates when done) would leave
		// Temporal busy during a later phase. The report prints it next to the ceiling.
		{cfg.Alerts == 0, func() (err error) {
			rep.Alerts, err = r.alertPhase(ctx, rep.Ceiling)
			return err
		}},
	}
	for _, st := range steps {
		if st.skip {
			continue
		}
		if ctx.Err() != nil {
			rep.Notes = append(rep.Notes, "interrupted: the remaining phases were skipped")
			break
		}
		if err := st.run(); err != nil {
			stopSampler()
			return rep, err
		}
	}
	stopSampler()
	rep.DurationSeconds = round3(time.Since(began).Seconds())
	rep.Processes, rep.Host = r.procs.report(bench0, r.procs.snapshot(), cfg.Incidents, rep.Load)
	rep.Targets = targets(rep)
	rep.Failures = failures(rep)
	rep.Notes = append(rep.Notes, notes(rep)...)
	if r.snow.coarse.Load() {
		rep.Notes = append(rep.Notes, "ServiceNow records carry no "+snowstub.CreatedAtField+" (a real instance, or a stand-in older than the bench): ticket times have whole-second resolution, so 202→ticket latencies are off by up to a second, either way.")
	}

	if err := Render(out, rep, cfg.JSON); err != nil {
		return rep, fmt.Errorf("write report: %w", err)
	}
	if ctx.Err() != nil {
		return rep, fmt.Errorf("bench interrupted: %w", context.Cause(ctx))
	}
	if len(rep.Failures) > 0 {
		return rep, fmt.Errorf("%w: %s", ErrChecksFailed, strings.Join(rep.Failures, "; "))
	}
	return rep, nil
}

// preflight fails fast, before anything is posted, when a part of the stack is unreachable.
func (r *runner) preflight(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var errs []error
	if err := r.intake.ready(pctx); err != nil {
		errs = append(errs, fmt.Errorf("intake at %s not ready: %w", r.cfg.IntakeURL, err))
	}
	if _, err := r.tc.CheckHealth(pctx, &client.CheckHealthRequest{}); err != nil {
		errs = append(errs, fmt.Errorf("temporal at %s: %w", r.cfg.TemporalAddress, err))
	}
	if r.needTickets {
		if err := r.snow.check(pctx); err != nil {
			errs = append(errs, fmt.Errorf("servicenow at %s (user %q): %w", r.cfg.ServiceNowURL, r.cfg.ServiceNowUser, err))
		}
	}
	if r.needMail {
		if err := r.mail.check(pctx); err != nil {
			errs = append(errs, fmt.Errorf("mailpit at %s: %w", r.cfg.MailpitURL, err))
		}
	}
	return errors.Join(errs...)
}

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
		if it.inc.Kind == KindPLC && it.workflowID != "" && !it.closed() && !it.answering {
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

// ceilingPhase starts n trivial workflows on a private task queue, served by a worker in this
// process, and measures them like the playbook runs.
func (r *runner) ceilingPhase(ctx context.Context, n int, rate float64, notes *[]string) (*CeilingReport, error) {
	shape := r.cfg.Ceiling
	source := "given with --ceiling-shape"
	if !r.cfg.CeilingExplicit {
		shape, source = DefaultShape, "default (no completed NewEngineeringStationTicket run to measure)"
		if r.nesRun != "" {
			s, err := measureShape(ctx, r.tc, r.nesRun)
			if err != nil {
				*notes = append(*notes, "ceiling shape: "+err.Error()+"; using the default")
			} else {
				shape, source = s, "measured from "+r.nesRun
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

// isTerminal says whether w is a terminal, for the progress display.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// selfCovers says what the bench process's own CPU is, for the report.
var selfCovers = "load generator, pollers and PLC answers; in the ceiling phase also the ceiling worker (GOMAXPROCS " +
	fmt.Sprint(runtime.GOMAXPROCS(0)) + ")"

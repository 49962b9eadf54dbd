// Package bench measures a running Interlock stack from the outside, the way Sentinel uses it: it
// posts generated incidents to the intake and watches the side effects land (tickets in ServiceNow,
// emails in Mailpit) and the playbook runs close in Temporal. In the same run, on the same Temporal
// server, it measures the raw ceiling: a trivial workflow shaped like the playbook, started at the same
// concurrency, with no I/O at all. `interlock bench` is the command around it.
//
// Phases, each waited out before the next:
//
//   - full load: --incidents at --rate (or as fast as --concurrency allows): throughput and latency;
//   - ceiling: as many trivial workflows of the load's mix (each kind's playbook shape, bare), same
//     concurrency and rate, on a private task queue served by a worker inside the bench;
//   - alert storm: --storm-incidents incidents, each posted --storm times at once: every incident must
//     cause exactly one ticket or email;
//   - low load: --latency-incidents at a steady --latency-rate: latency without queueing;
//   - alert intake (run last, printed after the ceiling): --alerts Defender for IoT alert records
//     posted to POST /v1/alerts in batches, some repeating earlier alert IDs: records/s, incidents
//     created/s, POST (= alert→incident) latency, and a check that every distinct alert ID made
//     exactly one incident.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/snowstandin"
)

// ErrChecksFailed is wrapped by Run's error when the bench ran but the stack failed a correctness
// check (duplicates, lost incidents, failed runs). The report is complete and was written.
var ErrChecksFailed = errors.New("bench checks failed")

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
	stationRun  string // a completed NES run, for the ceiling's shape
	// kindRuns is a completed run of each kind, and ruleRuns a write-back run of the rules for each,
	// from the full load: the same-work ceiling's shapes.
	kindRuns, ruleRuns map[Kind]string
	// rep is the report the phases fill in.
	rep Report
}

// Run benchmarks the stack, writes the report to out (a table, or JSON) and returns it. Progress goes
// to progressW while phases run (redrawn in place on a terminal). The error wraps ErrChecksFailed when the stack lost or duplicated work.
func Run(ctx context.Context, cfg Config, out, progressW io.Writer) (Report, error) {
	r, err := newRunner(cfg, progressW)
	if err != nil {
		return Report{}, err
	}
	if err := r.preflight(ctx); err != nil {
		return r.rep, err
	}
	if err := r.run(ctx); err != nil {
		return r.rep, err
	}
	return r.rep, r.close(ctx, out)
}

// newRunner checks cfg and makes the clients and the report's heading.
func newRunner(cfg Config, progressW io.Writer) (*runner, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("bench config: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newHTTPClient(cfg)
	}
	gen, err := NewGenerator(cfg.RunID)
	if err != nil {
		return nil, err
	}
	return &runner{
		cfg: cfg, runID: cfg.RunID, log: cfg.Logger, tc: cfg.Temporal, gen: gen,
		intake:      newIntakeClient(hc, cfg.IntakeURLs, cfg.IntakeToken),
		snow:        &snowClient{http: hc, url: cfg.ServiceNowURL, table: cfg.ServiceNowTable, user: cfg.ServiceNowUser, password: cfg.ServiceNowPassword},
		mail:        &mailpitClient{http: hc, url: cfg.MailpitURL},
		prog:        newProgress(progressW),
		needTickets: cfg.Mix[KindNewEngineeringStation] > 0,
		needMail:    cfg.Mix[KindPLCReprogramming] > 0,
		rep:         newReport(cfg),
	}, nil
}

// newHTTPClient is the client for every HTTP call when the config brings none.
func newHTTPClient(cfg Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per concurrent post: the default two idle connections per host would make
	// every other request open a new one and fill the port range with TIME_WAIT at a few hundred /s.
	tr.MaxIdleConnsPerHost = cfg.Concurrency + cfg.Storm + cfg.AlertConcurrency + 16
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// newReport is the report before any phase: what runs against what, with which settings.
func newReport(cfg Config) Report {
	return Report{
		RunID: cfg.RunID, StartedAt: time.Now().UTC(),
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
}

// step is one phase of the bench: run fills in its part of the report.
type step struct {
	skip bool
	run  func(context.Context) error
}

// steps are the phases, in order; each is skipped when its size is zero.
func (r *runner) steps() []step {
	c := r.cfg
	noCeiling := c.Incidents == 0 || c.NoCeiling
	return []step{
		{c.Incidents == 0, r.loadStep},
		{noCeiling, r.ceilingStep},
		{noCeiling || !c.CeilingSameWork, r.sameWorkStep},
		{noCeiling || !c.CeilingRegular, r.regularStep},
		{c.Storm == 0 || c.StormIncidents == 0, r.stormStep},
		{c.LatencyIncidents == 0, r.lowLoadStep},
		// Last: the thousands of incident workflows it creates (and terminates when done) would leave
		// Temporal busy during a later phase. The report prints it next to the ceiling.
		{c.Alerts == 0, r.alertStep},
	}
}

// run runs the phases with the processes sampled, and adds the whole bench's figures. After an
// interrupt (Ctrl-C) the remaining phases are skipped and what was measured is still reported.
func (r *runner) run(ctx context.Context) error {
	rep := &r.rep
	r.procs = discoverProcesses(procFS{root: "/proc"}, r.cfg, &rep.Notes)
	stopSampler := r.procs.sample(ctx)
	began := time.Now()
	bench0 := r.procs.snapshot()
	for _, st := range r.steps() {
		if st.skip {
			continue
		}
		if ctx.Err() != nil {
			rep.Notes = append(rep.Notes, "interrupted: the remaining phases were skipped")
			break
		}
		if err := st.run(ctx); err != nil {
			stopSampler()
			return err
		}
	}
	stopSampler()
	rep.DurationSeconds = round3(time.Since(began).Seconds())
	rep.Processes, rep.Host = r.procs.report(bench0, r.procs.snapshot(), r.cfg.Incidents, rep.Load)
	rep.Targets = targets(*rep)
	rep.Failures = failures(*rep)
	rep.Notes = append(rep.Notes, notes(*rep)...)
	if r.snow.coarse.Load() {
		rep.Notes = append(rep.Notes, "ServiceNow records carry no "+snowstandin.CreatedAtField+" (a real instance, or a stand-in older than the bench): ticket times have whole-second resolution, so 202→ticket latencies are off by up to a second, either way.")
	}
	return nil
}

// close writes the report and says how the run ended: interrupted, failed checks, or nil.
func (r *runner) close(ctx context.Context, out io.Writer) error {
	if err := Render(out, r.rep, r.cfg.JSON); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("bench interrupted: %w", context.Cause(ctx))
	}
	if len(r.rep.Failures) > 0 {
		return fmt.Errorf("%w: %s", ErrChecksFailed, strings.Join(r.rep.Failures, "; "))
	}
	return nil
}

func (r *runner) loadStep(ctx context.Context) (err error) {
	r.rep.Load, err = r.incidentPhase(ctx, "full load", "l", r.cfg.Incidents, r.cfg.Rate)
	return err
}

func (r *runner) ceilingStep(ctx context.Context) (err error) {
	rep := &r.rep
	// The raw ceiling of the load's own mix, each kind's playbook shape bare, when the load left runs
	// of every kind to measure; else every incident as a new-workstation run.
	if !r.cfg.CeilingExplicit && rep.Load != nil {
		rep.Ceiling, err = r.pathCeilingPhase(ctx, r.cfg.Incidents, r.cfg.Rate, true)
		if err != nil {
			rep.Notes = append(rep.Notes, "ceiling of the load's mix: "+err.Error()+"; every ceiling run is a new-workstation run")
		}
	}
	if rep.Ceiling == nil {
		rep.Ceiling, err = r.ceilingPhase(ctx, r.cfg.Incidents, r.cfg.Rate, &rep.Notes)
	}
	if err == nil && rep.Load != nil && rep.Ceiling.CompletedPerSec > 0 {
		rep.CeilingRatio = round3(rep.Load.CompletedPerSec / rep.Ceiling.CompletedPerSec)
	}
	return err
}

func (r *runner) sameWorkStep(ctx context.Context) (err error) {
	rep := &r.rep
	rep.SameWork, err = r.pathCeilingPhase(ctx, r.cfg.Incidents, r.cfg.Rate, false)
	if err != nil {
		// A load with no completed run of a kind has nothing to measure; the rest still reports.
		rep.Notes = append(rep.Notes, "same-work ceiling skipped: "+err.Error())
		return nil
	}
	if rep.Load != nil && rep.SameWork.CompletedPerSec > 0 {
		rep.SameWorkRatio = round3(rep.Load.CompletedPerSec / rep.SameWork.CompletedPerSec)
	}
	return nil
}

// regularStep runs the ceiling's shape again with every local activity as a regular one.
func (r *runner) regularStep(ctx context.Context) (err error) {
	if r.rep.Ceiling == nil {
		return nil
	}
	regular := r.rep.Ceiling.Shape
	regular.Activities, regular.LocalActivities = regular.Activities+regular.LocalActivities, 0
	r.rep.CeilingRegular, err = r.runCeiling(ctx, r.cfg.Incidents, r.cfg.Rate, "r", regular, "the ceiling's, local activities as regular ones")
	return err
}

func (r *runner) stormStep(ctx context.Context) (err error) {
	r.rep.Storm, err = r.stormPhase(ctx)
	return err
}

func (r *runner) lowLoadStep(ctx context.Context) (err error) {
	r.rep.LowLoad, err = r.incidentPhase(ctx, "low load", "p", r.cfg.LatencyIncidents, r.cfg.LatencyRate)
	return err
}

func (r *runner) alertStep(ctx context.Context) (err error) {
	r.rep.Alerts, err = r.alertPhase(ctx, r.rep.Ceiling)
	return err
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

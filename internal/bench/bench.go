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
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/snowstub"
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

package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/affinity"
	"github.com/interlock-soar/interlock/internal/bench"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/topology"
	"github.com/interlock-soar/interlock/worker"
)

const benchSynopsis = `bench [flags]

Measures the RUNNING stack (by default the dev stack of 'interlock dev' with its default ports and
state dir) through the real intake, and in the same run the raw Temporal ceiling on the same server.

With --topology the bench launches the stack itself instead, as real processes of this binary against
a fresh Temporal dev server (SQLite in a temporary folder, or --topology-dir), with Mailpit and the
ServiceNow stand-in ('interlock standin'), write-backs only logged, and stops it at the end:
  split     --workers 'interlock worker' processes and --intakes 'interlock serve' processes (the
            intake's starts wait in the task queue for a worker: eager start never applies)
  combined  --workers 'interlock replica' processes, each worker and intake in one process
Posts go round robin over the intakes (replicas). --member-env passes settings to every Interlock
process (e.g. --member-env INTERLOCK_INTAKE_MAX_BACKLOG=0).

Phases, each waited out (or --timeout) before the next:
  full load   --incidents generated incidents (--mix of nes: a new engineering workstation, one
              ServiceNow ticket each; plc: unauthorized PLC programming, one email each) posted to
              POST /v1/incidents at --rate, or as fast as --concurrency allows. Reports POST→202,
              202→side effect (ticket created / email accepted) and 202→run closed, with throughput.
              PLC runs wait for the engineers: the bench answers each "planned" through a Temporal
              Update as soon as it sees the run's email, so their completion includes that step.
  ceiling     as many trivial workflows of the load's mix, each its kind's playbook shape (the
              SideEffects and activities measured from a completed run's history; a PLC run's
              answer as an Update at once), bare: no I/O, search attributes, memo or input; started
              at the same rate and concurrency on a private task queue with a worker inside the
              bench. Without a completed run of each kind (or with --ceiling-shape), every ceiling
              run is a new-workstation run.
  same work   (--ceiling-same-work) as many incidents of the mix, each as the Temporal work
              Interlock's path asks for, measured from the full load's runs: the playbook run's
              calls with the incident as input, its search attributes and memo, a PLC run's
              answer as an Update at once, the rules' write-back run; no I/O, no HTTP, no rules.
  alert storm --storm-incidents incidents, each posted --storm times at once: exactly one ticket or
              email per incident is required.
  low load    --latency-incidents at a steady --latency-rate: latency without queueing.
  alerts      (run last, printed after the ceiling) --alerts Defender for IoT alert records
              (SecurityAlert rows and OT sensor alerts, alert IDs unique to the run, titles for which
              the default rules start no playbook) posted to
              POST /v1/alerts as NDJSON, --alert-batch records per POST, --alert-concurrency POSTs
              in flight; --alert-repeat of the records repeat an earlier alert ID, half as exact
              re-sends (duplicates), half as later records moved by 30 or 90 minutes. Reports records/s,
              incidents created/s and the POST latency, which is each record's alert→incident latency
              (the intake answers once the incident workflow recorded it); checks that every alert ID
              made exactly one incident (answers, Temporal visibility count, a sample's state), then
              terminates the run's incident workflows (--alert-keep leaves them).

Every incident is unique to the run (incident IDs bench-<run>-…, device names, MACs, IPs), so runs
never collide with each other or with earlier tickets. CPU seconds and peak RSS are read from /proc for
the dev process (worker + intake + ServiceNow stand-in), its Temporal and Mailpit children, and the
bench itself; pass --*-pid for separately run processes.

Exit status 1 when the stack lost incidents (not accepted, no side effect or run not closed within
--timeout), failed runs, or duplicated side effects, in any phase. Missed performance targets are
reported, not failed.`

// benchArgs are the flags that need parsing or a default from the config before they become part of
// the bench.Config; the rest go into it directly.
type benchArgs struct {
	mix, ceiling, alertShapes, alertTitles string
	temporalAddr, namespace                string
	snowPasswordFile                       string
	topology, topologyDir                  string
	workers, intakes                       int
	persistence                            string
	chaosEvery                             time.Duration
	memberEnv                              envFlag
	profileDir                             string
	temporalCPUs, stackCPUs                string
}

// benchFlags defines the bench's flags on fs, into bc and a.
func benchFlags(fs *flag.FlagSet, e env, bc *bench.Config, a *benchArgs) {
	fs.IntVar(&bc.Incidents, "incidents", 500, "incidents in the full-load phase (0 skips it and the ceiling)")
	fs.Float64Var(&bc.Rate, "rate", 0, "arrival rate of the full-load phase, incidents/s (0: as fast as --concurrency allows)")
	fs.IntVar(&bc.Concurrency, "concurrency", 32, "posts (and ceiling starts) in flight at most")
	fs.StringVar(&a.mix, "mix", "nes=1,plc=1", "share of each incident kind: nes (ServiceNow ticket), plc (email + answer)")
	fs.IntVar(&bc.Storm, "storm", 10, "alert storm: concurrent posts of each storm incident (0 skips the storm)")
	fs.IntVar(&bc.StormIncidents, "storm-incidents", 50, "alert storm: distinct incidents")
	fs.Float64Var(&bc.LatencyRate, "latency-rate", 5, "low-load phase: incidents/s")
	fs.IntVar(&bc.LatencyIncidents, "latency-incidents", 100, "low-load phase: incidents (0 skips it)")
	fs.IntVar(&bc.Alerts, "alerts", 1500, "alert-intake phase: alert records posted to POST /v1/alerts (0 skips it)")
	fs.IntVar(&bc.AlertBatch, "alert-batch", 500, "alert-intake phase: records per POST")
	fs.Float64Var(&bc.AlertRepeat, "alert-repeat", 0.3, "alert-intake phase: share of records repeating an earlier alert ID (half exact re-sends, half moved +30/+90 min), 0..0.6")
	fs.IntVar(&bc.AlertConcurrency, "alert-concurrency", 2, "alert-intake phase: POSTs in flight")
	fs.StringVar(&a.alertShapes, "alert-shapes", "both", "alert-intake phase: record shapes, securityalert, sensor or both (alternating)")
	fs.StringVar(&a.alertTitles, "alert-titles", "", "alert-intake phase: ';'-separated alert titles (default: "+strings.Join(bench.DefaultAlertTitles, "; ")+", which start no playbook)")
	fs.BoolVar(&bc.AlertArray, "alert-array", false, "alert-intake phase: post JSON arrays instead of NDJSON")
	fs.BoolVar(&bc.KeepAlertIncidents, "alert-keep", false, "alert-intake phase: leave the run's incident workflows open instead of terminating them after the checks")
	fs.DurationVar(&bc.Timeout, "timeout", 2*time.Minute, "per phase: how long to wait after the last post for side effects and closed runs")
	fs.BoolVar(&bc.NoCeiling, "no-ceiling", false, "skip the ceiling phase")
	fs.BoolVar(&bc.CeilingSameWork, "ceiling-same-work", true, "also run the same-work ceiling: per incident of the mix, the Temporal work Interlock asks for (the PLC answer as an Update, the rules' write-back run, search attributes, the incident as input), no I/O")
	fs.BoolVar(&bc.CeilingRegular, "ceiling-regular", true, "also run the ceiling with regular activities only: the side effects' design without the local fast path, in the same run")
	fs.StringVar(&a.ceiling, "ceiling-shape", "auto", "ceiling workflow: auto (as a completed NewEngineeringStationTicket run) or sideeffects=N,activities=N,local=N")
	fs.StringVar(&bc.IntakeURL, "intake", "http://127.0.0.1:8480", "intake base URL")
	fs.StringVar(&bc.IntakeToken, "intake-token", e.getenv("INTERLOCK_TOKEN"), "intake bearer token (env INTERLOCK_TOKEN; default: the first of intake.tokens; none in dev)")
	fs.StringVar(&a.temporalAddr, "temporal", "", "Temporal frontend host:port (default: temporal.address, localhost:7233)")
	fs.StringVar(&a.namespace, "namespace", "", "Temporal namespace (default: temporal.namespace, default)")
	fs.StringVar(&bc.MailpitURL, "mailpit", "http://127.0.0.1:8025", "Mailpit web/API base URL (where the stack's SMTP delivers)")
	fs.StringVar(&bc.ServiceNowURL, "servicenow", "", "ServiceNow base URL (default: servicenow.instanceURL, else the dev stand-in http://127.0.0.1:8490)")
	fs.StringVar(&bc.ServiceNowUser, "servicenow-user", "", "ServiceNow user (default: servicenow.username, else interlock for the stand-in)")
	fs.StringVar(&bc.ServiceNowPassword, "servicenow-password", e.getenv("INTERLOCK_BENCH_SERVICENOW_PASSWORD"), "ServiceNow password (env INTERLOCK_BENCH_SERVICENOW_PASSWORD; prefer --servicenow-password-file)")
	fs.StringVar(&a.snowPasswordFile, "servicenow-password-file", "", "file holding the ServiceNow password (default for the stand-in: <dev-state-dir>/servicenow.password)")
	fs.StringVar(&bc.DevStateDir, "dev-state-dir", ".state", "state dir of the running 'interlock dev': its ServiceNow password and process id")
	fs.IntVar(&bc.DevPID, "dev-pid", 0, "pid of 'interlock dev' (default: from <dev-state-dir>/dev.lock)")
	fs.IntVar(&bc.WorkerPID, "worker-pid", 0, "pid of a separately run 'interlock worker'")
	fs.IntVar(&bc.IntakePID, "intake-pid", 0, "pid of a separately run 'interlock serve'")
	fs.IntVar(&bc.TemporalPID, "temporal-pid", 0, "pid of the Temporal server (default: the dev process's child)")
	fs.IntVar(&bc.MailpitPID, "mailpit-pid", 0, "pid of Mailpit (default: the dev process's child)")
	fs.BoolVar(&bc.JSON, "json", false, "print one JSON document instead of the table")
	fs.StringVar(&bc.RunID, "run-id", "", "tag of this run's incidents (lower-case letters and digits; default random)")
	fs.StringVar(&a.topology, "topology", "", "launch the stack as processes instead of measuring a running one: split or combined")
	fs.IntVar(&a.workers, "workers", 1, "with --topology: worker processes (split) or replicas (combined)")
	fs.IntVar(&a.intakes, "intakes", 1, "with --topology split: intake processes")
	fs.StringVar(&a.topologyDir, "topology-dir", "", "with --topology: keep Temporal's state and every process's log here (default: a temporary folder, removed after)")
	fs.StringVar(&a.persistence, "persistence", "sqlite", "with --topology: sqlite (the Temporal CLI's dev server) or postgres (the Temporal server on its own PostgreSQL, as in production)")
	fs.DurationVar(&a.chaosEvery, "chaos-kill-every", 0, "with --topology: SIGKILL a random worker (or replica) this often during the whole bench, restarting it 1 s later; also kills one intake after 5 s and restarts the Temporal server once after 10 s (0: no chaos)")
	fs.Var(&a.memberEnv, "member-env", "with --topology: INTERLOCK_KEY=VALUE for every Interlock process (repeatable)")
	fs.StringVar(&a.temporalCPUs, "temporal-cpus", "", "with --topology and --stack-cpus: pin Temporal (and its PostgreSQL) to these CPUs (e.g. 0), as if on machines of its own")
	fs.StringVar(&a.stackCPUs, "stack-cpus", "", "with --topology and --temporal-cpus: pin the bench, Interlock, Mailpit and the stand-in to these CPUs (e.g. 1)")
	fs.StringVar(&a.profileDir, "member-cpuprofile", "", "with --topology: every Interlock process writes a CPU profile to DIR/<member>.pprof (go tool pprof)")
}

// benchRun is one `interlock bench`: its parsed flags and config, then what it started (a launched
// topology, the Temporal client), which close releases in reverse order.
type benchRun struct {
	e      env
	bc     bench.Config
	a      benchArgs
	layout topology.Shape // "" for a stack already running
	cfg    config.Config
	tcfg   config.Temporal
	logger *slog.Logger

	launched *benchTopology
	client   client.Client
}

func runBench(ctx context.Context, e env, args []string) error {
	b, err := parseBench(e, args)
	if err != nil {
		return err
	}
	defer b.close()
	if err := b.start(ctx); err != nil {
		return err
	}
	return b.run(ctx)
}

// parseBench reads the flags and the config into a benchRun.
func parseBench(e env, args []string) (*benchRun, error) {
	fs, cfgPath := newFlags(e, "bench", benchSynopsis)
	b := &benchRun{e: e}
	benchFlags(fs, e, &b.bc, &b.a)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if b.layout, err = b.a.layout(); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return nil, fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	if b.cfg, err = config.Load(*cfgPath, e.getenv); err != nil {
		return nil, err
	}
	if err := b.a.complete(&b.bc, b.cfg); err != nil {
		return nil, err
	}
	if b.layout == "" {
		if err := serviceNowFromConfig(&b.bc, b.cfg, b.a.snowPasswordFile); err != nil {
			return nil, err
		}
	}
	b.tcfg = b.cfg.Temporal
	b.tcfg.Address, b.tcfg.Namespace = cmp.Or(b.a.temporalAddr, b.tcfg.Address), cmp.Or(b.a.namespace, b.tcfg.Namespace)
	b.logger = newLogger(b.cfg.Log, e.stderr)
	return b, nil
}

// start launches the topology, when one is asked for, and dials Temporal.
func (b *benchRun) start(ctx context.Context) error {
	if b.layout != "" {
		a := b.a
		o := topology.Options{
			Shape: b.layout, Workers: a.workers, Intakes: a.intakes, Env: a.memberEnv, ProfileDir: a.profileDir,
			Dir: a.topologyDir, Logger: b.logger,
		}
		if err := a.pinCPUs(&o); err != nil {
			return err
		}
		launched, err := startBenchTopology(ctx, o, a.persistence == "postgres", b.e.stderr)
		if err != nil {
			return err
		}
		b.launched = launched
		launched.configure(&b.bc, b.layout, a.workers, a.intakes)
		if a.temporalCPUs != "" {
			b.bc.Topology += fmt.Sprintf("; Temporal pinned to CPUs %s, the bench and the rest of the stack to CPUs %s", a.temporalCPUs, a.stackCPUs)
		}
		b.tcfg.Address, b.tcfg.Namespace = b.bc.TemporalAddress, b.bc.Namespace
	}
	c, err := worker.Dial(ctx, b.tcfg, sdkLogger(b.cfg.Log, b.e.stderr))
	if err != nil {
		return err
	}
	b.client = c
	b.bc.Temporal, b.bc.TemporalAddress, b.bc.Namespace, b.bc.WorkerTuning, b.bc.Logger = c, b.tcfg.Address, b.tcfg.Namespace, b.tcfg, b.logger
	return nil
}

// run runs the bench, with the chaos going when asked for.
func (b *benchRun) run(ctx context.Context) error {
	if b.launched != nil && b.a.chaosEvery > 0 {
		endChaos := b.launched.startChaos(ctx, b.a.chaosEvery)
		_, err := bench.Run(ctx, b.bc, b.e.stdout, b.e.stderr)
		return errors.Join(err, reportChaos(b.e.stdout, endChaos()))
	}
	_, err := bench.Run(ctx, b.bc, b.e.stdout, b.e.stderr)
	// On bench.ErrChecksFailed the report has been written; the error repeats what failed on stderr.
	return err
}

// close closes the Temporal client, then stops the topology.
func (b *benchRun) close() {
	if b.client != nil {
		b.client.Close()
	}
	if b.launched != nil {
		if err := b.launched.stop(); err != nil {
			b.logger.Warn("stopping the topology failed", "err", err)
		}
	}
}

// layout is the topology to launch, "" for a stack already running.
func (a *benchArgs) layout() (topology.Shape, error) {
	if a.topology == "" {
		return "", nil
	}
	layout, err := topology.ParseShape(a.topology)
	if err != nil {
		return "", err
	}
	if a.persistence != "sqlite" && a.persistence != "postgres" {
		return "", fmt.Errorf("--persistence must be sqlite or postgres, not %q", a.persistence)
	}
	if a.workers < 1 || a.intakes < 1 {
		return "", fmt.Errorf("--workers and --intakes must be at least 1")
	}
	if layout == topology.Combined {
		a.intakes = 0 // every replica is an intake
	}
	return layout, nil
}

// complete parses what the flags name (mix, shapes, titles) into bc and checks the alert settings.
func (a *benchArgs) complete(bc *bench.Config, cfg config.Config) error {
	var err error
	if bc.Mix, err = bench.ParseMix(a.mix); err != nil {
		return err
	}
	if bc.Ceiling, bc.CeilingExplicit, err = bench.ParseShape(a.ceiling); err != nil {
		return err
	}
	if bc.AlertShapes, err = bench.ParseAlertShapes(a.alertShapes); err != nil {
		return err
	}
	for t := range strings.SplitSeq(a.alertTitles, ";") {
		if t = strings.TrimSpace(t); t != "" {
			bc.AlertTitles = append(bc.AlertTitles, t)
		}
	}
	if bc.AlertRepeat < 0 || bc.AlertRepeat > bench.MaxAlertRepeat {
		return fmt.Errorf("--alert-repeat must be 0..%g, not %g", bench.MaxAlertRepeat, bc.AlertRepeat)
	}
	if bc.AlertBatch < 1 || bc.AlertConcurrency < 1 {
		return fmt.Errorf("--alert-batch and --alert-concurrency must be at least 1")
	}
	if bc.IntakeToken == "" {
		bc.IntakeToken, _, _ = strings.Cut(cfg.Intake.Tokens.Value(), ",")
	}
	bc.IntakeToken = strings.TrimSpace(bc.IntakeToken)
	bc.ServiceNowTable = cfg.Playbooks.NewEngineeringStation.Table
	return nil
}

// serviceNowFromConfig fills the ServiceNow settings the flags left empty: the configured instance,
// else the dev stand-in, whose password lives in the dev state dir.
func serviceNowFromConfig(bc *bench.Config, cfg config.Config, passwordFile string) error {
	standIn := cfg.ServiceNow.InstanceURL == ""
	if bc.ServiceNowURL == "" {
		bc.ServiceNowURL = cfg.ServiceNow.InstanceURL
		if standIn {
			bc.ServiceNowURL = "http://127.0.0.1:8490"
		}
	}
	if bc.ServiceNowUser == "" {
		bc.ServiceNowUser = cfg.ServiceNow.Username
		if standIn {
			bc.ServiceNowUser = "interlock"
		}
	}
	if bc.ServiceNowPassword != "" {
		return nil
	}
	if passwordFile == "" && standIn {
		passwordFile = filepath.Join(bc.DevStateDir, "servicenow.password")
	}
	if passwordFile == "" {
		bc.ServiceNowPassword = cfg.ServiceNow.Password.Value()
		return nil
	}
	b, err := os.ReadFile(passwordFile)
	if err != nil && bc.Mix[bench.KindNewEngineeringStation] > 0 {
		return fmt.Errorf("servicenow password: %w (is 'interlock dev --state-dir %s' running? or pass --servicenow-password-file)", err, bc.DevStateDir)
	}
	bc.ServiceNowPassword = strings.TrimSpace(string(b))
	return nil
}

// pinCPUs splits the machine's CPUs between Temporal and the rest when --temporal-cpus and
// --stack-cpus are given: this process (and so everything it starts) goes on the stack's CPUs, and
// the topology moves Temporal to its own.
func (a *benchArgs) pinCPUs(o *topology.Options) error {
	if (a.temporalCPUs == "") != (a.stackCPUs == "") {
		return errors.New("bench: --temporal-cpus and --stack-cpus go together")
	}
	if a.temporalCPUs == "" {
		return nil
	}
	tset, err := affinity.Parse(a.temporalCPUs)
	if err != nil {
		return fmt.Errorf("--temporal-cpus: %w", err)
	}
	sset, err := affinity.Parse(a.stackCPUs)
	if err != nil {
		return fmt.Errorf("--stack-cpus: %w", err)
	}
	if err := affinity.Pin(0, sset); err != nil {
		return err
	}
	o.TemporalCPUs = &tset
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
  ceiling     as many trivial workflows (the playbook's SideEffects and activities, measured from a
              NewEngineeringStationTicket run's history, no I/O) started at the same rate and
              concurrency on a private task queue with a worker inside the bench.
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

func runBench(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "bench", benchSynopsis)
	incidents := fs.Int("incidents", 500, "incidents in the full-load phase (0 skips it and the ceiling)")
	rate := fs.Float64("rate", 0, "arrival rate of the full-load phase, incidents/s (0: as fast as --concurrency allows)")
	concurrency := fs.Int("concurrency", 32, "posts (and ceiling starts) in flight at most")
	mix := fs.String("mix", "nes=1,plc=1", "share of each incident kind: nes (ServiceNow ticket), plc (email + answer)")
	storm := fs.Int("storm", 10, "alert storm: concurrent posts of each storm incident (0 skips the storm)")
	stormIncidents := fs.Int("storm-incidents", 50, "alert storm: distinct incidents")
	latencyRate := fs.Float64("latency-rate", 5, "low-load phase: incidents/s")
	latencyIncidents := fs.Int("latency-incidents", 100, "low-load phase: incidents (0 skips it)")
	alerts := fs.Int("alerts", 1500, "alert-intake phase: alert records posted to POST /v1/alerts (0 skips it)")
	alertBatch := fs.Int("alert-batch", 500, "alert-intake phase: records per POST")
	alertRepeat := fs.Float64("alert-repeat", 0.3, "alert-intake phase: share of records repeating an earlier alert ID (half exact re-sends, half moved +30/+90 min), 0..0.6")
	alertConcurrency := fs.Int("alert-concurrency", 2, "alert-intake phase: POSTs in flight")
	alertShapes := fs.String("alert-shapes", "both", "alert-intake phase: record shapes, securityalert, sensor or both (alternating)")
	alertTitles := fs.String("alert-titles", "", "alert-intake phase: ';'-separated alert titles (default: "+strings.Join(bench.DefaultAlertTitles, "; ")+", which start no playbook)")
	alertArray := fs.Bool("alert-array", false, "alert-intake phase: post JSON arrays instead of NDJSON")
	alertKeep := fs.Bool("alert-keep", false, "alert-intake phase: leave the run's incident workflows open instead of terminating them after the checks")
	timeout := fs.Duration("timeout", 2*time.Minute, "per phase: how long to wait after the last post for side effects and closed runs")
	noCeiling := fs.Bool("no-ceiling", false, "skip the ceiling phase")
	ceilingRegular := fs.Bool("ceiling-regular", true, "also run the ceiling with regular activities only: the side effects' design without the local fast path, in the same run")
	ceiling := fs.String("ceiling-shape", "auto", "ceiling workflow: auto (as a completed NewEngineeringStationTicket run) or sideeffects=N,activities=N,local=N")
	intakeURL := fs.String("intake", "http://127.0.0.1:8480", "intake base URL")
	token := fs.String("intake-token", e.getenv("INTERLOCK_TOKEN"), "intake bearer token (env INTERLOCK_TOKEN; default: the first of intake.tokens; none in dev)")
	temporalAddr := fs.String("temporal", "", "Temporal frontend host:port (default: temporal.address, localhost:7233)")
	namespace := fs.String("namespace", "", "Temporal namespace (default: temporal.namespace, default)")
	mailpitURL := fs.String("mailpit", "http://127.0.0.1:8025", "Mailpit web/API base URL (where the stack's SMTP delivers)")
	snowURL := fs.String("servicenow", "", "ServiceNow base URL (default: servicenow.instanceURL, else the dev stand-in http://127.0.0.1:8490)")
	snowUser := fs.String("servicenow-user", "", "ServiceNow user (default: servicenow.username, else interlock for the stand-in)")
	snowPassword := fs.String("servicenow-password", e.getenv("INTERLOCK_BENCH_SERVICENOW_PASSWORD"), "ServiceNow password (env INTERLOCK_BENCH_SERVICENOW_PASSWORD; prefer --servicenow-password-file)")
	snowPasswordFile := fs.String("servicenow-password-file", "", "file holding the ServiceNow password (default for the stand-in: <dev-state-dir>/servicenow.password)")
	stateDir := fs.String("dev-state-dir", ".state", "state dir of the running 'interlock dev': its ServiceNow password and process id")
	devPID := fs.Int("dev-pid", 0, "pid of 'interlock dev' (default: from <dev-state-dir>/dev.lock)")
	workerPID := fs.Int("worker-pid", 0, "pid of a separately run 'interlock worker'")
	intakePID := fs.Int("intake-pid", 0, "pid of a separately run 'interlock serve'")
	temporalPID := fs.Int("temporal-pid", 0, "pid of the Temporal server (default: the dev process's child)")
	mailpitPID := fs.Int("mailpit-pid", 0, "pid of Mailpit (default: the dev process's child)")
	asJSON := fs.Bool("json", false, "print one JSON document instead of the table")
	runID := fs.String("run-id", "", "tag of this run's incidents (lower-case letters and digits; default random)")
	topo := fs.String("topology", "", "launch the stack as processes instead of measuring a running one: split or combined")
	workers := fs.Int("workers", 1, "with --topology: worker processes (split) or replicas (combined)")
	intakes := fs.Int("intakes", 1, "with --topology split: intake processes")
	topoDir := fs.String("topology-dir", "", "with --topology: keep Temporal's state and every process's log here (default: a temporary folder, removed after)")
	chaosEvery := fs.Duration("chaos-kill-every", 0, "with --topology: SIGKILL a random worker (or replica) this often during the whole bench, restarting it 1 s later; also kills one intake after 5 s and restarts the Temporal server once after 10 s (0: no chaos)")
	var memberEnv envFlag
	fs.Var(&memberEnv, "member-env", "with --topology: INTERLOCK_KEY=VALUE for every Interlock process (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var layout topology.Shape
	if *topo != "" {
		var err error
		if layout, err = topology.ParseShape(*topo); err != nil {
			return err
		}
		if *workers < 1 || *intakes < 1 {
			return fmt.Errorf("--workers and --intakes must be at least 1")
		}
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("bench takes no arguments, got %q", fs.Args())
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	m, err := bench.ParseMix(*mix)
	if err != nil {
		return err
	}
	shape, explicit, err := bench.ParseShape(*ceiling)
	if err != nil {
		return err
	}
	shapes, err := bench.ParseAlertShapes(*alertShapes)
	if err != nil {
		return err
	}
	var titles []string
	for t := range strings.SplitSeq(*alertTitles, ";") {
		if t = strings.TrimSpace(t); t != "" {
			titles = append(titles, t)
		}
	}
	if *alertRepeat < 0 || *alertRepeat > bench.MaxAlertRepeat {
		return fmt.Errorf("--alert-repeat must be 0..%g, not %g", bench.MaxAlertRepeat, *alertRepeat)
	}
	if *alertBatch < 1 || *alertConcurrency < 1 {
		return fmt.Errorf("--alert-batch and --alert-concurrency must be at least 1")
	}

	// The dev stand-in is what runs when no instance is configured; its password lives in the state dir.
	standIn := cfg.ServiceNow.InstanceURL == ""
	if *snowURL == "" {
		*snowURL = cfg.ServiceNow.InstanceURL
		if standIn {
			*snowURL = "http://127.0.0.1:8490"
		}
	}
	if *snowUser == "" {
		*snowUser = cfg.ServiceNow.Username
		if standIn {
			*snowUser = "interlock"
		}
	}
	password := *snowPassword
	if password == "" && layout == "" { // a launched topology has its own stand-in
		file := *snowPasswordFile
		if file == "" && standIn {
			file = filepath.Join(*stateDir, "servicenow.password")
		}
		if file != "" {
			b, err := os.ReadFile(file)
			if err != nil && m[bench.KindNES] > 0 {
				return fmt.Errorf("servicenow password: %w (is 'interlock dev --state-dir %s' running? or pass --servicenow-password-file)", err, *stateDir)
			}
			password = strings.TrimSpace(string(b))
		} else {
			password = cfg.ServiceNow.Password.Value()
		}
	}
	if *token == "" {
		*token, _, _ = strings.Cut(cfg.Intake.Tokens.Value(), ",")
	}
	tcfg := cfg.Temporal
	if *temporalAddr != "" {
		tcfg.Address = *temporalAddr
	}
	if *namespace != "" {
		tcfg.Namespace = *namespace
	}
	logger := newLogger(cfg.Log, e.stderr)
	var launched *benchTopology
	if layout != "" {
		if layout == topology.Combined {
			*intakes = 0
		}
		if launched, err = startBenchTopology(ctx, layout, *workers, *intakes, *topoDir, memberEnv, e.stderr, logger); err != nil {
			return err
		}
		defer func() {
			if err := launched.stop(); err != nil {
				logger.Warn("stopping the topology failed", "err", err)
			}
		}()
		tcfg.Address, tcfg.Namespace = launched.top.Temporal.Addr(), "default"
	}
	c, err := worker.Dial(ctx, tcfg, sdkLogger(cfg.Log, e.stderr))
	if err != nil {
		return err
	}
	defer c.Close()

	bcfg := bench.Config{
		Incidents: *incidents, Rate: *rate, Concurrency: *concurrency, Mix: m,
		Storm: *storm, StormIncidents: *stormIncidents,
		LatencyRate: *latencyRate, LatencyIncidents: *latencyIncidents,
		Alerts: *alerts, AlertBatch: *alertBatch, AlertRepeat: *alertRepeat, AlertConcurrency: *alertConcurrency,
		AlertShapes: shapes, AlertTitles: titles, AlertArray: *alertArray, KeepAlertIncidents: *alertKeep,
		Timeout: *timeout, Ceiling: shape, CeilingExplicit: explicit, NoCeiling: *noCeiling, CeilingRegular: *ceilingRegular, WorkerTuning: tcfg,
		IntakeURL: *intakeURL, IntakeToken: strings.TrimSpace(*token),
		Temporal: c, TemporalAddress: tcfg.Address, Namespace: tcfg.Namespace,
		MailpitURL:    *mailpitURL,
		ServiceNowURL: *snowURL, ServiceNowUser: *snowUser, ServiceNowPassword: password,
		ServiceNowTable: cfg.Playbooks.NewEngineeringStation.Table,
		DevStateDir:     *stateDir, DevPID: *devPID, WorkerPID: *workerPID, IntakePID: *intakePID,
		TemporalPID: *temporalPID, MailpitPID: *mailpitPID,
		JSON: *asJSON, RunID: *runID, Logger: logger,
	}
	if launched != nil {
		launched.configure(&bcfg, layout, *workers, *intakes)
	}
	var endChaos func() topology.ChaosReport
	if launched != nil && *chaosEvery > 0 {
		endChaos = launched.startChaos(ctx, *chaosEvery)
	}
	_, err = bench.Run(ctx, bcfg, e.stdout, e.stderr)
	if endChaos != nil {
		err = errors.Join(err, reportChaos(e.stdout, endChaos()))
	}
	// On bench.ErrChecksFailed the report has been written; the error repeats what failed on stderr.
	return err
}

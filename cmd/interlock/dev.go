package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/devstack"
	"github.com/interlock-soar/interlock/internal/snowstub"
	"github.com/interlock-soar/interlock/internal/stack"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

// runDev is the embedded default: everything on one machine, installed on first use, stopped on Ctrl-C.
func runDev(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "dev", "dev [flags]\n\nStarts Temporal (the CLI's dev server with its UI, or with --persistence postgres the Temporal server\non a local PostgreSQL, as docker-compose.yml runs it, without a UI), Mailpit, a local ServiceNow stand-in (unless\nservicenow.instanceURL is set), a local Sentinel and Defender for IoT stand-in (unless a Sentinel\nworkspace is configured or sentinel.writeBack is log or none), a local OT sensor stand-in (unless\nsensor.url is set), the worker and the intake; prints their URLs; stops all on Ctrl-C.\n\nWithout a SIEM (INTERLOCK_SENTINEL_WRITE_BACK=none) Interlock is the incident layer: post alerts\nto /v1/alerts. The asset directory is testdata/assets.yaml unless incidents.assetsFile is set.")
	stateDir := fs.String("state-dir", ".state", "folder for the dev stack's state (Temporal's SQLite file or PostgreSQL cluster, Mailpit's mail, tickets, logs)")
	persistence := fs.String("persistence", devSQLite, "Temporal's persistence: "+devSQLite+" (the Temporal CLI's dev server, with the Temporal UI) or "+
		devPostgres+" (the Temporal server "+devstack.TemporalServer().Version+" on PostgreSQL, set up as docker-compose.yml's auto-setup image does; "+
		"no UI; installs the server on first use, and PostgreSQL with apt-get when root); the cluster keeps its state in <state-dir>/temporal-postgres")
	temporalPort := fs.Int("temporal-port", 7233, "Temporal frontend (gRPC) port")
	uiPort := fs.Int("ui-port", 8233, "Temporal UI port (sqlite only)")
	smtpPort := fs.Int("smtp-port", 1025, "Mailpit SMTP port")
	mailPort := fs.Int("mailpit-port", 8025, "Mailpit web UI and API port")
	snowPort := fs.Int("servicenow-port", 8490, "ServiceNow stand-in port (used when no instance is configured)")
	azurePort := fs.Int("azure-port", 8491, "Azure stand-in port: Entra ID sign-in, Sentinel, Defender for IoT alerts (used when no Sentinel workspace is configured)")
	sensorPort := fs.Int("sensor-port", 8492, "OT sensor stand-in port: the on-premises alert API (used when sensor.url is not set)")
	listen := fs.String("listen", "127.0.0.1:8480", "intake listen address")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the worker and intake to this file until the stack stops (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *persistence != devSQLite && *persistence != devPostgres {
		return fmt.Errorf("--persistence %q: want %s or %s", *persistence, devSQLite, devPostgres)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, e.stderr)
	if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	unlock, err := devstack.Lock(*stateDir)
	if err != nil {
		return err
	}
	defer unlock()
	ports := []devPort{
		{"--temporal-port", "Temporal's frontend", "127.0.0.1", *temporalPort},
		{"--smtp-port", "Mailpit's SMTP", "127.0.0.1", *smtpPort},
		{"--mailpit-port", "Mailpit's web UI", "127.0.0.1", *mailPort},
	}
	if *persistence == devSQLite {
		ports = append(ports, devPort{"--ui-port", "the Temporal UI", "127.0.0.1", *uiPort})
	}
	if host, port, err := net.SplitHostPort(*listen); err == nil {
		if n, err := strconv.Atoi(port); err == nil {
			ports = append(ports, devPort{"--listen", "the intake", cmp.Or(host, "0.0.0.0"), n})
		}
	}
	if err := checkPorts(ports); err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(e.stdout, format+"\n", a...) }

	// Everything started is stopped in reverse order, with a fresh context: ctx is already cancelled
	// when Ctrl-C brings us here.
	var stops []func()
	defer func() {
		say("stopping…")
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		say("stopped")
	}()
	stopProcess := func(name string, p *devstack.Process) func() {
		return func() {
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := p.Stop(sctx); err != nil {
				logger.Warn("stop failed", "process", name, "err", err)
			}
		}
	}

	tools, err := devstack.ToolsDir()
	if err != nil {
		return err
	}
	// Everything is installed before anything starts, so a first run's minutes of building come first.
	var (
		temporalBin string
		clusterBins devstack.ClusterBinaries
	)
	if *persistence == devSQLite {
		temporalBin, err = devstack.Ensure(ctx, tools, devstack.Temporal(), e.stdout)
	} else {
		clusterBins, err = devstack.EnsureCluster(ctx, tools, e.stdout)
	}
	if err != nil {
		return err
	}
	mailpitBin, err := devstack.Ensure(ctx, tools, devstack.Mailpit(), e.stdout)
	if err != nil {
		return err
	}
	var attrs []devstack.SearchAttribute
	for _, sa := range workflows.SearchAttributes() {
		attrs = append(attrs, devstack.SearchAttribute{Name: sa.Name, Type: sa.Type})
	}
	var tp *devstack.Process
	var postgres *devstack.Process // the cluster's database; nil on the dev server
	if *persistence == devSQLite {
		say("starting Temporal dev server…")
		tp, err = devstack.StartTemporal(ctx, devstack.TemporalOptions{
			Bin: temporalBin, DBFile: filepath.Join(*stateDir, "temporal.db"), Port: *temporalPort, UIPort: *uiPort,
			Namespace: cfg.Temporal.Namespace, SearchAttributes: attrs, LogFile: filepath.Join(*stateDir, "temporal.log"), Logger: logger,
		})
		if err != nil {
			return fmt.Errorf("temporal dev server: %w", err)
		}
		stops = append(stops, stopProcess("temporal", tp))
	} else {
		if err := devstack.AllowPostgresThrough(*stateDir); err != nil {
			return err
		}
		// The cluster prints its own steps (initdb and schemas on the first run, each server's start).
		cluster, err := devstack.StartCluster(ctx, devstack.ClusterOptions{
			Binaries: clusterBins, Dir: filepath.Join(*stateDir, "temporal-postgres"), Port: *temporalPort,
			Namespace: cfg.Temporal.Namespace, SearchAttributes: attrs, Progress: e.stdout, Logger: logger,
		})
		if err != nil {
			return fmt.Errorf("temporal cluster: %w", err)
		}
		stops = append(stops, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			if err := cluster.Stop(sctx); err != nil {
				logger.Warn("stop failed", "process", "temporal cluster", "err", err)
			}
		})
		tp, postgres = cluster.Temporal, cluster.Postgres
	}
	say("starting Mailpit…")
	mp, err := devstack.StartMailpit(ctx, devstack.MailpitOptions{
		Bin: mailpitBin, SMTPPort: *smtpPort, UIPort: *mailPort,
		DBFile: filepath.Join(*stateDir, "mailpit.db"), LogFile: filepath.Join(*stateDir, "mailpit.log"), Logger: logger,
	})
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	stops = append(stops, stopProcess("mailpit", mp))

	cfg.Temporal.Address = tp.Addr()
	cfg.Temporal.UIURL = tp.UIURL()
	cfg.Temporal.TLS = false
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLSPolicy = "127.0.0.1", *smtpPort, "none"
	cfg.SMTP.Username, cfg.SMTP.Password = "", config.Secret{}

	var wg sync.WaitGroup
	serve := func(name string, ln net.Listener, h http.Handler) {
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serveHTTP(sctx, ln, h, logger); err != nil {
				logger.Error("server stopped", "server", name, "err", err)
			}
		}()
		stops = append(stops, func() { cancel() })
	}

	snowNote := cfg.ServiceNow.InstanceURL
	if cfg.ServiceNow.InstanceURL == "" {
		password, err := stateSecret(*stateDir, "servicenow.password")
		if err != nil {
			return err
		}
		stub, err := snowstub.Open(snowstub.Options{Username: "interlock", Password: password, File: filepath.Join(*stateDir, "servicenow.json")})
		if err != nil {
			return fmt.Errorf("servicenow stand-in: %w", err)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*snowPort)))
		if err != nil {
			return fmt.Errorf("servicenow stand-in: %w", err)
		}
		stops = append(stops, func() { _ = stub.Close() }) // runs after the server stops: stops run in reverse
		serve("servicenow", ln, stub)
		cfg.ServiceNow.InstanceURL = "http://" + ln.Addr().String()
		cfg.ServiceNow.Username, cfg.ServiceNow.Password, cfg.ServiceNow.Token = "interlock", config.NewSecret(password), config.Secret{}
		snowNote = cfg.ServiceNow.InstanceURL + "   (local stand-in, not a real instance; user interlock, password in " + filepath.Join(*stateDir, "servicenow.password") + ")"
	}
	sentinelNote := "workspace " + cfg.Sentinel.SubscriptionID + "/" + cfg.Sentinel.ResourceGroup + "/" + cfg.Sentinel.WorkspaceName + " at " + cfg.Azure.ResourceManagerURL
	var azure *devAzure
	switch {
	case cfg.Sentinel.WriteBack == config.WriteBackLog:
		sentinelNote = "none (sentinel.writeBack: log; write-backs are only logged)"
	case cfg.Sentinel.WriteBack == config.WriteBackNone:
		sentinelNote = "none (sentinel.writeBack: none; Interlock is the incident layer: POST /v1/alerts)"
	case !cfg.Sentinel.Configured():
		if azure, err = startDevAzure(*stateDir, *azurePort, &cfg); err != nil {
			return err
		}
		stops = append(stops, func() { _ = azure.stub.Close() })
		serve("azure", azure.ln, azure.stub)
		sentinelNote = azure.url + "   (local stand-in for Sentinel and Defender for IoT, not Azure; user interlock, password in " +
			filepath.Join(*stateDir, "azure.secret") + ")"
	}
	if cfg.Incidents.AssetsFile == "" {
		if _, err := os.Stat(devAssets); err == nil {
			cfg.Incidents.AssetsFile = devAssets
		}
	}
	sensorNote := cfg.Sensor.URL
	var sensor *devSensor
	if cfg.Sensor.URL == "" {
		if sensor, err = startDevSensor(*stateDir, *sensorPort, &cfg); err != nil {
			return err
		}
		stops = append(stops, func() { _ = sensor.stub.Close() })
		serve("sensor", sensor.ln, sensor.stub)
		sensorNote = sensor.url + "   (local stand-in for an OT sensor's alert API, not an appliance; user interlock, password in " +
			filepath.Join(*stateDir, "sensor.token") + ")"
	}
	if !cfg.Intake.AnswerSecret.IsSet() {
		secret, err := stateSecret(*stateDir, "answer.secret")
		if err != nil {
			return err
		}
		cfg.Intake.AnswerSecret = config.NewSecret(secret)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("intake: %w", err)
	}
	cfg.Intake.Listen = ln.Addr().String()
	cfg.Intake.PublicURL = "http://" + ln.Addr().String()
	authNote := "bearer token or HMAC (from config)"
	if !cfg.Intake.Tokens.IsSet() && !cfg.Intake.HMACSecret.IsSet() {
		cfg.Intake.AllowUnauthenticated = true
		authNote = "none (dev on loopback; set intake.tokens to require a token)"
	}

	c, err := worker.Dial(ctx, cfg.Temporal, sdkLogger(cfg.Log, e.stderr))
	if err != nil {
		ln.Close()
		return err
	}
	stops = append(stops, c.Close)
	w, err := startWorker(ctx, c, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	stops = append(stops, func() {
		if err := w.Stop(); err != nil {
			logger.Warn("worker stopped with error", "err", err)
		}
	})
	in, err := startIntake(ctx, cfg, c, logger)
	if err != nil {
		ln.Close()
		return err
	}
	handler := in.Handler
	if azure != nil {
		handler = stack.MirrorIncidents(handler, azure.stub, cfg.Playbooks.AlertStatusSync.AllowedHosts, cfg.Intake.MaxBodyBytes)
	}
	if sensor != nil {
		handler = stack.MirrorSensorAlerts(handler, sensor.stub, cfg.Incidents.MaxAlertBatchBytes)
	}
	serve("intake", ln, handler)

	say("")
	say("Interlock dev stack is up. Ctrl-C stops everything.")
	if postgres == nil {
		say("  Temporal UI     %s   (namespace %s, task queue %s)", tp.UIURL(), cfg.Temporal.Namespace, workflows.TaskQueue)
		say("  Temporal gRPC   %s", tp.Addr())
	} else {
		say("  Temporal UI     none: the Temporal server has no UI of its own (--persistence sqlite has one; or run the temporalio/ui image against %s)", tp.Addr())
		say("  Temporal gRPC   %s   (Temporal server %s on PostgreSQL %s, user %s; namespace %s, task queue %s)",
			tp.Addr(), devstack.TemporalServer().Version, postgres.Addr(), devstack.PostgresUser, cfg.Temporal.Namespace, workflows.TaskQueue)
	}
	say("  Mailpit         http://127.0.0.1:%d   (emails to control engineers land here; SMTP 127.0.0.1:%d)", *mailPort, *smtpPort)
	say("  ServiceNow      %s", snowNote)
	say("  Sentinel        %s", sentinelNote)
	say("  OT sensor       %s", sensorNote)
	say("  Intake          %s   (POST /v1/incidents, /v1/alerts, /v1/playbooks/{name}/runs; GET /v1/incidents; GET /healthz /readyz /metrics; auth: %s)", cfg.Intake.PublicURL, authNote)
	say("  Assets          %s", cmp.Or(cfg.Incidents.AssetsFile, "none (set incidents.assetsFile for business impact)"))
	say("  State           %s", *stateDir)
	say("")
	self := selfCommand()
	say("Try:  %s trigger %s", self, exampleFile("sentinel-incident-new-engineering-station.json"))
	say("      %s trigger --alerts %s", self, exampleFile("sensor-alert-unauthorized-plc-programming.json"))

	select {
	case <-ctx.Done():
	case <-w.Done():
		if err := w.Stop(); err != nil {
			return fmt.Errorf("worker stopped: %w", err)
		}
		return errors.New("worker stopped")
	case <-tp.Done():
		return errors.New("temporal server exited; see " + tp.LogFile())
	case <-doneOf(postgres):
		return errors.New("postgresql exited; see " + postgres.LogFile())
	case <-mp.Done():
		return errors.New("mailpit exited; see " + mp.LogFile())
	}
	return nil
}

// The choices of --persistence.
const (
	devSQLite   = "sqlite"
	devPostgres = "postgres"
)

// doneOf is p's Done, or a channel that never closes for no process.
func doneOf(p *devstack.Process) <-chan struct{} {
	if p == nil {
		return nil
	}
	return p.Done()
}

// devAssets is the example asset directory the dev stack maps impact with.
const devAssets = "testdata/assets.yaml"

// stateSecret reads a random secret kept in the state dir, making it on first use, so answer links
// and the stand-in's password survive restarts of the dev stack.
func stateSecret(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

// selfCommand is how to run this binary again from the current folder, for lines meant to be pasted:
// "go run ./cmd/interlock" under go run, "interlock" when that is this binary on PATH, else its path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "interlock"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/interlock"
	}
	if onPath, err := exec.LookPath("interlock"); err == nil && sameFile(onPath, exe) {
		return "interlock"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return "." + string(filepath.Separator) + rel
		}
	}
	return exe
}

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// exampleFile is the path of a shipped example payload from the current folder: testdata/NAME in the
// repository root.
func exampleFile(name string) string {
	p := filepath.Join("testdata", name)
	if _, err := os.Stat(p); err != nil {
		return p + " (from the repository's root folder)"
	}
	return p
}

// devPort is a port the dev stack binds, and the flag that moves it.
type devPort struct {
	flag, what, host string
	port             int
}

// checkPorts fails, naming the flag to use, when another process holds one of the ports: a server's
// readiness check would otherwise find the other process answering there (a Temporal developer often
// has a dev server of their own on 7233) and call the stack ready.
func checkPorts(ports []devPort) error {
	var errs []error
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(p.host, strconv.Itoa(p.port)))
		if err != nil {
			errs = append(errs, fmt.Errorf("port %d, for %s, is taken by another process (another Temporal dev server or an earlier stack?): stop it, or pass %s with a free port", p.port, p.what, p.flag))
			continue
		}
		ln.Close()
	}
	return errors.Join(errs...)
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/devservices"
)

// devFlags are interlock dev's flags.
type devFlags struct {
	cfgPath, stateDir, persistence, listen, cpuProfile                        string
	temporalPort, uiPort, smtpPort, mailPort, snowPort, azurePort, sensorPort int
}

// devDefaultListen is the intake's address, where interlock trigger posts by default.
const devDefaultListen = "127.0.0.1:8480"

const devSynopsis = "dev [flags]\n\nStarts Temporal (the CLI's dev server with its UI, or with --persistence postgres the Temporal server\non a local PostgreSQL, as docker-compose.yml runs it, without a UI), Mailpit, a local ServiceNow stand-in (unless\nservicenow.instanceURL is set), a local Sentinel and Defender for IoT stand-in (unless a Sentinel\nworkspace is configured or sentinel.writeBack is log or none), a local OT sensor stand-in (unless\nsensor.url is set), the worker and the intake; prints their URLs; stops all on Ctrl-C.\n\nWithout a SIEM (INTERLOCK_SENTINEL_WRITE_BACK=none) Interlock is the incident layer: post alerts\nto /v1/alerts. The asset directory is testdata/assets.yaml unless incidents.assetsFile is set."

func parseDevFlags(e env, args []string) (devFlags, error) {
	fs, cfgPath := newFlags(e, "dev", devSynopsis)
	var f devFlags
	fs.StringVar(&f.stateDir, "state-dir", ".state", "folder for the dev stack's state (Temporal's SQLite file or PostgreSQL cluster, Mailpit's mail, tickets, logs)")
	fs.StringVar(&f.persistence, "persistence", devSQLite, "Temporal's persistence: "+devSQLite+" (the Temporal CLI's dev server, with the Temporal UI) or "+
		devPostgres+" (the Temporal server "+devservices.TemporalServer().Version+" on PostgreSQL, set up as docker-compose.yml's auto-setup image does; "+
		"no UI; installs the server on first use, and PostgreSQL with apt-get when root); the cluster keeps its state in <state-dir>/temporal-postgres")
	fs.IntVar(&f.temporalPort, "temporal-port", 7233, "Temporal frontend (gRPC) port")
	fs.IntVar(&f.uiPort, "ui-port", 8233, "Temporal UI port (sqlite only)")
	fs.IntVar(&f.smtpPort, "smtp-port", 1025, "Mailpit SMTP port")
	fs.IntVar(&f.mailPort, "mailpit-port", 8025, "Mailpit web UI and API port")
	fs.IntVar(&f.snowPort, "servicenow-port", 8490, "ServiceNow stand-in port (used when no instance is configured)")
	fs.IntVar(&f.azurePort, "azure-port", 8491, "Azure stand-in port: Entra ID sign-in, Sentinel, Defender for IoT alerts (used when no Sentinel workspace is configured)")
	fs.IntVar(&f.sensorPort, "sensor-port", 8492, "OT sensor stand-in port: the on-premises alert API (used when sensor.url is not set)")
	fs.StringVar(&f.listen, "listen", devDefaultListen, "intake listen address")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the worker and intake to this file until the stack stops (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return devFlags{}, err
	}
	f.cfgPath = *cfgPath
	if f.persistence != devSQLite && f.persistence != devPostgres {
		return devFlags{}, fmt.Errorf("--persistence %q: want %s or %s", f.persistence, devSQLite, devPostgres)
	}
	return f, nil
}

// ports lists the ports the stack binds whatever the config says, with the flag that moves each.
func (f devFlags) ports() []devPort {
	ports := []devPort{
		{"--temporal-port", "Temporal's frontend", "127.0.0.1", f.temporalPort},
		{"--smtp-port", "Mailpit's SMTP", "127.0.0.1", f.smtpPort},
		{"--mailpit-port", "Mailpit's web UI", "127.0.0.1", f.mailPort},
	}
	if f.persistence == devSQLite {
		ports = append(ports, devPort{"--ui-port", "the Temporal UI", "127.0.0.1", f.uiPort})
	}
	if host, port, err := net.SplitHostPort(f.listen); err == nil {
		if n, err := strconv.Atoi(port); err == nil {
			ports = append(ports, devPort{"--listen", "the intake", cmp.Or(host, "0.0.0.0"), n})
		}
	}
	return ports
}

// devStack is the embedded default while it runs: what was started, stopped in reverse order.
type devStack struct {
	flags  devFlags
	e      env
	cfg    config.Config
	logger *slog.Logger
	stops  []func()

	temporal, postgres, mailpit *devservices.Process // postgres is nil on the dev server
	azure                       *devAzure
	sensor                      *devSensor
	client                      client.Client
	worker                      *backgroundWorker
	notes                       devNotes
}

// devNotes are the banner's lines about the parts that may be stand-ins.
type devNotes struct{ snow, sentinel, sensor, auth string }

// runDev is the embedded default: everything on one machine, installed on first use, stopped on Ctrl-C.
func runDev(ctx context.Context, e env, args []string) error {
	f, err := parseDevFlags(e, args)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg, err := config.Load(f.cfgPath, e.getenv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.stateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	unlock, err := devservices.Lock(f.stateDir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := checkPorts(f.ports()); err != nil {
		return err
	}
	d := &devStack{flags: f, e: e, cfg: cfg, logger: newLogger(cfg.Log, e.stderr)}
	defer d.close()
	if err := d.start(ctx); err != nil {
		return err
	}
	d.banner()
	return d.wait(ctx)
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func (d *devStack) say(format string, a ...any) { fmt.Fprintf(d.e.stdout, format+"\n", a...) }

// start installs what is missing, then starts every part, in dependency order.
func (d *devStack) start(ctx context.Context) error {
	bins, err := installDev(ctx, d.flags.persistence, d.e)
	if err != nil {
		return err
	}
	if err := d.startTemporal(ctx, bins); err != nil {
		return err
	}
	if err := d.startMailpit(ctx, bins.mailpit); err != nil {
		return err
	}
	if err := d.startStandIns(ctx); err != nil {
		return err
	}
	return d.startInterlock(ctx)
}

// close stops everything started, in reverse order, with a fresh context: ctx is already cancelled
// when Ctrl-C brings us here.
func (d *devStack) close() {
	d.say("stopping…")
	for i := len(d.stops) - 1; i >= 0; i-- {
		d.stops[i]()
	}
	d.say("stopped")
}

// stopProcess is the stop step of a started process.
func (d *devStack) stopProcess(name string, p *devservices.Process, timeout time.Duration) func() {
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := p.Stop(sctx); err != nil {
			d.logger.Warn("stop failed", "process", name, "err", err)
		}
	}
}

// serve runs an HTTP server on ln until the stack stops.
func (d *devStack) serve(ctx context.Context, name string, ln net.Listener, h http.Handler) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		if err := serveHTTP(sctx, ln, h, d.logger); err != nil {
			d.logger.Error("server stopped", "server", name, "err", err)
		}
	}()
	d.stops = append(d.stops, cancel)
}

// wait returns when Ctrl-C stops the stack (nil) or a part of it ends on its own (an error).
func (d *devStack) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-d.worker.Done():
		if err := d.worker.Stop(); err != nil {
			return fmt.Errorf("worker stopped: %w", err)
		}
		return errors.New("worker stopped")
	case <-d.temporal.Done():
		return errors.New("temporal server exited; see " + d.temporal.LogFile())
	case <-doneOf(d.postgres):
		return errors.New("postgresql exited; see " + d.postgres.LogFile())
	case <-d.mailpit.Done():
		return errors.New("mailpit exited; see " + d.mailpit.LogFile())
	}
}

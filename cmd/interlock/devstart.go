package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/devservices"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/internal/stack"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

// devBinaries are the installed servers the dev stack runs.
type devBinaries struct {
	temporal string                      // the CLI, for the dev server
	cluster  devservices.ClusterBinaries // the server and its SQL tool, for --persistence postgres
	mailpit  string
}

// installDev installs what is missing before anything starts, so a first run's minutes of building
// come first.
func installDev(ctx context.Context, persistence string, e env) (devBinaries, error) {
	tools, err := devservices.ToolsDir()
	if err != nil {
		return devBinaries{}, err
	}
	var b devBinaries
	if persistence == devSQLite {
		b.temporal, err = devservices.Ensure(ctx, tools, devservices.Temporal(), e.stdout)
	} else {
		b.cluster, err = devservices.EnsureCluster(ctx, tools, e.stdout)
	}
	if err != nil {
		return devBinaries{}, err
	}
	b.mailpit, err = devservices.Ensure(ctx, tools, devservices.Mailpit(), e.stdout)
	return b, err
}

// startTemporal starts the dev server, or the cluster on PostgreSQL, and points the config at it.
func (d *devStack) startTemporal(ctx context.Context, bins devBinaries) error {
	var attrs []devservices.SearchAttribute
	for _, sa := range workflows.SearchAttributes() {
		attrs = append(attrs, devservices.SearchAttribute{Name: sa.Name, Type: sa.Type})
	}
	f := d.flags
	if f.persistence == devSQLite {
		d.say("starting Temporal dev server…")
		tp, err := devservices.StartTemporal(ctx, devservices.TemporalOptions{
			Bin: bins.temporal, DBFile: filepath.Join(f.stateDir, "temporal.db"), Port: f.temporalPort, UIPort: f.uiPort,
			Namespace: d.cfg.Temporal.Namespace, SearchAttributes: attrs, LogFile: filepath.Join(f.stateDir, "temporal.log"), Logger: d.logger,
		})
		if err != nil {
			return fmt.Errorf("temporal dev server: %w", err)
		}
		d.stops = append(d.stops, d.stopProcess("temporal", tp, 20*time.Second))
		d.temporal = tp
	} else {
		if err := devservices.AllowPostgresThrough(f.stateDir); err != nil {
			return err
		}
		// The cluster prints its own steps (initdb and schemas on the first run, each server's start).
		cluster, err := devservices.StartCluster(ctx, devservices.ClusterOptions{
			Binaries: bins.cluster, Dir: filepath.Join(f.stateDir, "temporal-postgres"), Port: f.temporalPort,
			Namespace: d.cfg.Temporal.Namespace, SearchAttributes: attrs, Progress: d.e.stdout, Logger: d.logger,
		})
		if err != nil {
			return fmt.Errorf("temporal cluster: %w", err)
		}
		d.stops = append(d.stops, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			if err := cluster.Stop(sctx); err != nil {
				d.logger.Warn("stop failed", "process", "temporal cluster", "err", err)
			}
		})
		d.temporal, d.postgres = cluster.Temporal, cluster.Postgres
	}
	d.cfg.Temporal.Address, d.cfg.Temporal.UIURL, d.cfg.Temporal.TLS = d.temporal.Addr(), d.temporal.UIURL(), false
	return nil
}

// startMailpit starts Mailpit and points SMTP at it.
func (d *devStack) startMailpit(ctx context.Context, bin string) error {
	d.say("starting Mailpit…")
	f := d.flags
	mp, err := devservices.StartMailpit(ctx, devservices.MailpitOptions{
		Bin: bin, SMTPPort: f.smtpPort, UIPort: f.mailPort,
		DBFile: filepath.Join(f.stateDir, "mailpit.db"), LogFile: filepath.Join(f.stateDir, "mailpit.log"), Logger: d.logger,
	})
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	d.stops = append(d.stops, d.stopProcess("mailpit", mp, 20*time.Second))
	d.mailpit = mp
	d.cfg.SMTP.Host, d.cfg.SMTP.Port, d.cfg.SMTP.TLSPolicy = "127.0.0.1", f.smtpPort, "none"
	d.cfg.SMTP.Username, d.cfg.SMTP.Password = "", config.Secret{}
	return nil
}

// startStandIns starts a stand-in for each outside system the config does not name: ServiceNow,
// Sentinel with Defender for IoT, the OT sensor.
func (d *devStack) startStandIns(ctx context.Context) error {
	cfg, f := &d.cfg, d.flags
	d.notes.snow = cfg.ServiceNow.InstanceURL
	if cfg.ServiceNow.InstanceURL == "" {
		if err := d.startServiceNow(ctx); err != nil {
			return err
		}
	}
	d.notes.sentinel = "workspace " + cfg.Sentinel.SubscriptionID + "/" + cfg.Sentinel.ResourceGroup + "/" + cfg.Sentinel.WorkspaceName + " at " + cfg.Azure.ResourceManagerURL
	switch {
	case cfg.Sentinel.WriteBack == config.WriteBackLog:
		d.notes.sentinel = "none (sentinel.writeBack: log; write-backs are only logged)"
	case cfg.Sentinel.WriteBack == config.WriteBackNone:
		d.notes.sentinel = "none (sentinel.writeBack: none; Interlock is the incident layer: POST /v1/alerts)"
	case !cfg.Sentinel.Configured():
		azure, err := startDevAzure(f.stateDir, f.azurePort, cfg)
		if err != nil {
			return err
		}
		d.azure = azure
		d.stops = append(d.stops, func() { _ = azure.stub.Close() })
		d.serve(ctx, "azure", azure.ln, azure.stub)
		d.notes.sentinel = azure.url + "   (local stand-in for Sentinel and Defender for IoT, not Azure; user interlock, password in " +
			filepath.Join(f.stateDir, "azure.secret") + ")"
	}
	if cfg.Incidents.AssetsFile == "" {
		if _, err := os.Stat(devAssets); err == nil {
			cfg.Incidents.AssetsFile = devAssets
		}
	}
	d.notes.sensor = cfg.Sensor.URL
	if cfg.Sensor.URL == "" {
		sensor, err := startDevSensor(f.stateDir, f.sensorPort, cfg)
		if err != nil {
			return err
		}
		d.sensor = sensor
		d.stops = append(d.stops, func() { _ = sensor.stub.Close() })
		d.serve(ctx, "sensor", sensor.ln, sensor.stub)
		d.notes.sensor = sensor.url + "   (local stand-in for an OT sensor's alert API, not an appliance; user interlock, password in " +
			filepath.Join(f.stateDir, "sensor.token") + ")"
	}
	return nil
}

// startServiceNow starts the ServiceNow stand-in, its password kept in the state dir.
func (d *devStack) startServiceNow(ctx context.Context) error {
	cfg, dir := &d.cfg, d.flags.stateDir
	if cfg.Workbook.Database == "" { // the workbook's SQLite store lives with the rest of the dev state
		cfg.Workbook.Database = filepath.Join(dir, "workbook.db")
	}
	password, err := stateSecret(dir, "servicenow.password")
	if err != nil {
		return err
	}
	stub, err := snowstandin.Open(snowstandin.Options{Username: "interlock", Password: password, File: filepath.Join(dir, "servicenow.json")})
	if err != nil {
		return fmt.Errorf("servicenow stand-in: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(d.flags.snowPort)))
	if err != nil {
		_ = stub.Close()
		return fmt.Errorf("servicenow stand-in: %w", err)
	}
	d.stops = append(d.stops, func() { _ = stub.Close() }) // runs after the server stops: stops run in reverse
	d.serve(ctx, "servicenow", ln, stub)
	cfg.ServiceNow.InstanceURL = "http://" + ln.Addr().String()
	cfg.ServiceNow.Username, cfg.ServiceNow.Password, cfg.ServiceNow.Token = "interlock", config.NewSecret(password), config.Secret{}
	d.notes.snow = cfg.ServiceNow.InstanceURL + "   (local stand-in, not a real instance; user interlock, password in " + filepath.Join(dir, "servicenow.password") + ")"
	return nil
}

// startInterlock starts the worker and the intake on the stack.
func (d *devStack) startInterlock(ctx context.Context) error {
	cfg := &d.cfg
	if !cfg.Intake.AnswerSecret.IsSet() {
		secret, err := stateSecret(d.flags.stateDir, "answer.secret")
		if err != nil {
			return err
		}
		cfg.Intake.AnswerSecret = config.NewSecret(secret)
	}
	ln, err := net.Listen("tcp", d.flags.listen)
	if err != nil {
		return fmt.Errorf("intake: %w", err)
	}
	cfg.Intake.Listen = ln.Addr().String()
	cfg.Intake.PublicURL = "http://" + ln.Addr().String()
	d.notes.auth = "bearer token or HMAC (from config)"
	if !cfg.Intake.Tokens.IsSet() && !cfg.Intake.HMACSecret.IsSet() {
		cfg.Intake.AllowUnauthenticated = true
		d.notes.auth = "none (dev on loopback; set intake.tokens to require a token)"
	}
	if err := d.startWorkerAndIntake(ctx, ln); err != nil {
		ln.Close()
		return err
	}
	return nil
}

func (d *devStack) startWorkerAndIntake(ctx context.Context, ln net.Listener) error {
	pm := newProcessMetrics(d.logger)
	c, err := worker.DialWith(ctx, d.cfg.Temporal, sdkLogger(d.cfg.Log, d.e.stderr), pm.sdk)
	if err != nil {
		return err
	}
	d.stops = append(d.stops, c.Close)
	d.client = c
	w, err := startWorker(ctx, c, d.cfg, pm, d.logger)
	if err != nil {
		return err
	}
	d.worker = w
	d.stops = append(d.stops, func() {
		if err := w.Stop(); err != nil {
			d.logger.Warn("worker stopped with error", "err", err)
		}
	})
	in, err := startIntake(ctx, d.cfg, c, pm, d.logger)
	if err != nil {
		return err
	}
	handler := in.Handler
	if d.azure != nil {
		handler = stack.MirrorIncidents(handler, d.azure.stub, d.cfg.Playbooks.AlertStatusSync.AllowedHosts, d.cfg.Intake.MaxBodyBytes)
	}
	if d.sensor != nil {
		handler = stack.MirrorSensorAlerts(handler, d.sensor.stub, d.cfg.Incidents.MaxAlertBatchBytes)
	}
	d.serve(ctx, "intake", ln, handler)
	return nil
}

// banner prints what runs where, and two commands to try.
func (d *devStack) banner() {
	cfg, f, tp := d.cfg, d.flags, d.temporal
	d.say("")
	d.say("Interlock dev stack is up. Ctrl-C stops everything.")
	if d.postgres == nil {
		d.say("  Temporal UI     %s   (namespace %s, task queue %s)", tp.UIURL(), cfg.Temporal.Namespace, workflows.TaskQueue)
		d.say("  Temporal gRPC   %s", tp.Addr())
	} else {
		d.say("  Temporal UI     none: the Temporal server has no UI of its own (--persistence sqlite has one; or run the temporalio/ui image against %s)", tp.Addr())
		d.say("  Temporal gRPC   %s   (Temporal server %s on PostgreSQL %s, user %s; namespace %s, task queue %s)",
			tp.Addr(), devservices.TemporalServer().Version, d.postgres.Addr(), devservices.PostgresUser, cfg.Temporal.Namespace, workflows.TaskQueue)
	}
	d.say("  Mailpit         http://127.0.0.1:%d   (emails to control engineers land here; SMTP 127.0.0.1:%d)", f.mailPort, f.smtpPort)
	d.say("  ServiceNow      %s", d.notes.snow)
	d.say("  Sentinel        %s", d.notes.sentinel)
	d.say("  OT sensor       %s", d.notes.sensor)
	d.say("  Intake          %s   (POST /v1/incidents, /v1/alerts, /v1/playbooks/{name}/runs; GET /v1/incidents; GET /healthz /readyz /metrics; auth: %s)", cfg.Intake.PublicURL, d.notes.auth)
	d.say("  Assets          %s", cmp.Or(cfg.Incidents.AssetsFile, "none (set incidents.assetsFile for business impact)"))
	d.say("  State           %s", f.stateDir)
	d.say("")
	trigger := selfCommand() + " trigger"
	if f.listen != devDefaultListen {
		trigger += " --url " + cfg.Intake.PublicURL // trigger's default is the default intake's
	}
	d.say("Try:  %s %s", trigger, exampleFile("sentinel-incident-new-engineering-station.json"))
	d.say("      %s --alerts %s", trigger, exampleFile("sensor-alert-unauthorized-plc-programming.json"))
}

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/internal/stack"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/worker"
)

var env = testenv.New()

func TestMain(m *testing.M) { env.Main(m) }

// serve serves h on a loopback port until the test ends and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestBenchEndToEnd runs a tiny bench against the whole stack as interlock dev wires it (real
// Temporal dev server and Mailpit, the ServiceNow stand-in over HTTP, worker and intake in this
// process) and checks that every phase accounts for every incident.
func TestBenchEndToEnd(t *testing.T) {
	tp, mp := env.Temporal(t), env.Mailpit(t)
	logger := slog.New(slog.DiscardHandler)

	stub := snowstandin.New(snowstandin.Options{Username: "interlock", Password: "stand-in-password"})
	snowURL := serve(t, stub)
	intakeLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Temporal.Address = tp.HostPort
	cfg.Temporal.ShutdownTimeout = time.Second
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLSPolicy = mp.SMTPHost, mp.SMTPPort, "none"
	cfg.ServiceNow.InstanceURL = snowURL
	cfg.ServiceNow.Username, cfg.ServiceNow.Password = "interlock", config.NewSecret("stand-in-password")
	cfg.Intake.AnswerSecret = config.NewSecret(strings.Repeat("k", 40))
	cfg.Intake.Listen = intakeLn.Addr().String()
	cfg.Intake.PublicURL = "http://" + intakeLn.Addr().String()
	cfg.Workbook.Database = filepath.Join(t.TempDir(), "workbook.db") // not the package's folder
	cfg.Intake.AllowUnauthenticated = true
	az := testenv.NewAzure(t, azurestandin.Options{})
	az.Configure(&cfg)

	app, err := worker.Build(cfg, logger)
	require.NoError(t, err)
	wctx, stopWorker := context.WithCancel(context.Background())
	werr := make(chan error, 1)
	go func() { werr <- worker.Run(wctx, tp.Client, cfg.Temporal, app.Playbooks, app.Activities) }()
	t.Cleanup(func() { stopWorker(); <-werr })
	in, err := stack.NewIntake(cfg, tp.Client, logger)
	require.NoError(t, err)
	srv := &http.Server{Handler: stack.MirrorIncidents(in.Handler, az.Stub, cfg.Playbooks.AlertStatusSync.AllowedHosts, cfg.Intake.MaxBodyBytes),
		ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(intakeLn) }()
	t.Cleanup(func() { _ = srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	rep, err := Run(ctx, Config{
		Incidents: 10, Concurrency: 4, Mix: Mix{KindNewEngineeringStation: 1, KindPLCReprogramming: 1},
		Storm: 3, StormIncidents: 2, LatencyRate: 10, LatencyIncidents: 4, Timeout: 30 * time.Second,
		Alerts: 40, AlertBatch: 10, AlertRepeat: 0.3, AlertConcurrency: 2,
		IntakeURL: cfg.Intake.PublicURL, Temporal: tp.Client, TemporalAddress: tp.HostPort, Namespace: tp.Namespace,
		MailpitURL: mp.UIURL, ServiceNowURL: snowURL, ServiceNowUser: "interlock", ServiceNowPassword: "stand-in-password",
		JSON: true, Logger: logger,
	}, &out, io.Discard)
	require.NoError(t, err, out.String())

	var doc Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc), "the output is the JSON report")
	require.Equal(t, rep.RunID, doc.RunID)

	for name, p := range map[string]*PhaseReport{"load": rep.Load, "low load": rep.LowLoad} {
		require.NotNil(t, p, name)
		require.Equal(t, p.Incidents, p.Accepted, name)
		require.Equal(t, p.Incidents, p.SideEffects, name)
		require.Equal(t, p.Incidents, p.Completed, name)
		require.Zero(t, p.Duplicates+p.Lost+p.RunsFailed+p.NotClosed+p.UnexpectedTickets+p.UnexpectedEmails, name)
		require.Equal(t, p.Incidents, p.AcceptedToSideEffect.Count, name)
		require.Positive(t, p.CompletedPerSec, name)
		require.NotNil(t, p.Kinds["nes"].Breakdown, name)
	}
	require.Len(t, stub.Records("incident"), 5+1+2, "one ticket per nes incident: load, storm, low load")

	require.NotNil(t, rep.Ceiling)
	require.Equal(t, 10, rep.Ceiling.Completed)
	// The raw ceiling runs the load's mix, each kind's shape bare: a PLC-shaped run waits for its answer.
	require.Contains(t, rep.Ceiling.ShapeSource, "measured from the full load's runs: nes: ")
	require.Contains(t, rep.Ceiling.ShapeSource, "plc: ")
	require.Contains(t, rep.Ceiling.ShapeSource, "an Update")
	require.NotContains(t, rep.Ceiling.ShapeSource, "write-back run", "the raw ceiling has no rules' runs")
	require.Positive(t, rep.CeilingRatio)

	require.NotNil(t, rep.Storm)
	require.Equal(t, 6, rep.Storm.Posts)
	require.Equal(t, 2, rep.Storm.Started)
	require.Equal(t, 4, rep.Storm.Deduplicated)
	require.Zero(t, rep.Storm.Duplicates)
	require.Zero(t, rep.Storm.Lost)
	require.Equal(t, 1, rep.Storm.Tickets)
	require.Equal(t, 1, rep.Storm.Emails)
	a := rep.Alerts
	require.NotNil(t, a)
	require.Equal(t, 40, a.Records)
	require.Equal(t, 28, a.Alerts)
	require.Equal(t, 40, a.Accepted+a.Duplicates)
	require.Equal(t, 28, a.DistinctIncidents)
	require.Equal(t, 28, a.VisibilityCount)
	require.Equal(t, 28, a.Sampled)
	require.Zero(t, a.SampleMismatches+a.SamplePlaybookRuns+a.Rejected+a.Suppressed+a.Unavailable+a.Failed+a.NotAnswered)
	require.Equal(t, 28, a.Terminated)
	require.Positive(t, a.RecordsPerSec)
	require.Equal(t, a.Posts, a.PostLatency.Count)
	require.Empty(t, rep.Failures)
	require.False(t, errors.Is(err, ErrChecksFailed))
}

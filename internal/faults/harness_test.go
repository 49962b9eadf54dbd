package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/internal/stack"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

// The harness: each test gets its own Temporal dev server (file-backed), Mailpit, ServiceNow stand-in
// over HTTP and intake, and runs the worker either in-process or as the real `interlock worker` binary.
// Incidents come from the testdata fixtures, made unique per incident.

const (
	snowUser     = "interlock"
	snowPassword = "stand-in-password"
	answerSecret = "faults-test-answer-secret-0123456789abcdef"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// interlockBinary builds cmd/interlock once per test binary. `go test` puts its own go first on PATH.
func interlockBinary(t testing.TB) string {
	t.Helper()
	root := testenv.ModuleRoot(t)
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "interlock-faults-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "interlock")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", binPath, "./cmd/interlock")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/interlock: %w\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// stackOptions vary the stack per test.
type stackOptions struct {
	// onCreate is called by the stand-in after each record is created, before it answers.
	onCreate func(table string, rec map[string]string)
	// wrapSnow wraps the stand-in's handler (to inject faults at chosen requests, or its own).
	wrapSnow func(stub *snowstandin.Server) http.Handler
	// tweak changes the config before anything is built.
	tweak func(*config.Config)
}

// fstack is one test's stack. The worker is started separately (in-process or as a child process).
type fstack struct {
	tp        *testenv.Server
	mp        *testenv.MailpitServer
	stub      *snowstandin.Server
	azure     *testenv.Azure
	cfg       config.Config
	intakeURL string
	logs      *logRecorder
	logger    *slog.Logger
}

func newStack(t *testing.T, opts stackOptions) *fstack {
	t.Helper()
	// Mailpit starts while the dev server does; NewTemporal registers its own cleanup.
	type mpResult struct {
		mp  *testenv.MailpitServer
		err error
	}
	mpc := make(chan mpResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testenv.StartTimeout) // a first run installs
		defer cancel()
		mp, err := testenv.StartMailpit(ctx)
		mpc <- mpResult{mp, err}
	}()
	tp := testenv.NewTemporal(t)
	r := <-mpc
	require.NoError(t, r.err)
	t.Cleanup(func() { assert.NoError(t, r.mp.Stop(context.Background())) })

	s := &fstack{tp: tp, mp: r.mp, logs: &logRecorder{}}
	var h slog.Handler = s.logs
	if os.Getenv("INTERLOCK_TEST_LOG") != "" {
		h = teeHandler{s.logs, slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})}
	}
	s.logger = slog.New(h)

	stubOpts := snowstandin.Options{Username: snowUser, Password: snowPassword}
	if opts.onCreate != nil {
		stubOpts.OnCreate = func(table string, rec map[string]string, _ time.Time) { opts.onCreate(table, rec) }
	}
	s.stub = snowstandin.New(stubOpts)
	var snow http.Handler = s.stub
	if opts.wrapSnow != nil {
		snow = opts.wrapSnow(s.stub)
	}
	snowURL := serve(t, snow)

	intakeLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Temporal.Address = tp.HostPort
	cfg.Temporal.ShutdownTimeout = time.Second
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLSPolicy = s.mp.SMTPHost, s.mp.SMTPPort, "none"
	cfg.ServiceNow.InstanceURL = snowURL
	cfg.ServiceNow.Username, cfg.ServiceNow.Password = snowUser, config.NewSecret(snowPassword)
	cfg.Intake.AnswerSecret = config.NewSecret(answerSecret)
	cfg.Intake.Listen = intakeLn.Addr().String()
	cfg.Workbook.Database = filepath.Join(t.TempDir(), "workbook.db") // not the package's folder
	cfg.Intake.PublicURL = "http://" + intakeLn.Addr().String()
	cfg.Intake.AllowUnauthenticated = true
	s.azure = testenv.NewAzure(t, azurestandin.Options{Logger: s.logger})
	s.azure.Configure(&cfg)
	// Short tries, so a hung write-back is given up on and retried within the test's time.
	cfg.Azure.TryTimeout, cfg.Azure.RetryDelay, cfg.Azure.MaxRetryDelay = 3*time.Second, 200*time.Millisecond, 2*time.Second
	if opts.tweak != nil {
		opts.tweak(&cfg)
	}
	s.cfg = cfg

	in, err := stack.NewIntake(cfg, tp.Client, s.logger)
	require.NoError(t, err)
	ih := stack.MirrorIncidents(in.Handler, s.azure.Stub, cfg.Playbooks.AlertStatusSync.AllowedHosts, cfg.Intake.MaxBodyBytes)
	srv := &http.Server{Handler: ih, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(intakeLn) //nolint:errcheck // ends with Close in the cleanup
	t.Cleanup(func() { _ = srv.Close() })
	s.intakeURL = cfg.Intake.PublicURL
	return s
}

// serve serves h on a free loopback port until the test ends and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close in the cleanup
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// startWorker runs the worker in this process, as the stack tests do, until the test ends.
func (s *fstack) startWorker(t *testing.T) {
	t.Helper()
	app, err := worker.Build(s.cfg, s.logger)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx, s.tp.Client, s.cfg.Temporal, app.Playbooks, app.Activities) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second): // ShutdownTimeout is 1 s; this only bounds a hang
			t.Error("in-process worker did not stop within 30 s")
		}
	})
}

// childEnv is the environment of an `interlock worker` child: the test's config as env variables, and
// none of the INTERLOCK_ variables of whoever runs the tests.
func childEnv(cfg config.Config) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "INTERLOCK_") })
	return append(env,
		"INTERLOCK_LOG_FORMAT=json",
		"INTERLOCK_LOG_LEVEL=info",
		"INTERLOCK_TEMPORAL_ADDRESS="+cfg.Temporal.Address,
		"INTERLOCK_TEMPORAL_SHUTDOWN_TIMEOUT="+cfg.Temporal.ShutdownTimeout.String(),
		"INTERLOCK_SMTP_HOST="+cfg.SMTP.Host,
		"INTERLOCK_SMTP_PORT="+strconv.Itoa(cfg.SMTP.Port),
		"INTERLOCK_SMTP_TLS_POLICY="+cfg.SMTP.TLSPolicy,
		"INTERLOCK_SERVICENOW_INSTANCE_URL="+cfg.ServiceNow.InstanceURL,
		"INTERLOCK_SERVICENOW_USERNAME="+cfg.ServiceNow.Username,
		"INTERLOCK_SERVICENOW_PASSWORD="+cfg.ServiceNow.Password.Value(),
		"INTERLOCK_SERVICENOW_TIMEOUT="+cfg.ServiceNow.Timeout.String(),
		"INTERLOCK_INTAKE_LISTEN="+cfg.Intake.Listen,
		"INTERLOCK_INTAKE_PUBLIC_URL="+cfg.Intake.PublicURL,
		"INTERLOCK_INTAKE_ALLOW_UNAUTHENTICATED=true",
		"INTERLOCK_INTAKE_ANSWER_SECRET="+cfg.Intake.AnswerSecret.Value(),
		"INTERLOCK_WORKBOOK_DATABASE="+cfg.Workbook.Database,
		"INTERLOCK_AZURE_TENANT_ID="+cfg.Azure.TenantID,
		"INTERLOCK_AZURE_CLIENT_ID="+cfg.Azure.ClientID,
		"INTERLOCK_AZURE_CLIENT_SECRET="+cfg.Azure.ClientSecret.Value(),
		"INTERLOCK_AZURE_CREDENTIAL="+cfg.Azure.Credential,
		"INTERLOCK_AZURE_AUTHORITY_HOST="+cfg.Azure.AuthorityHost,
		"INTERLOCK_AZURE_RESOURCE_MANAGER_URL="+cfg.Azure.ResourceManagerURL,
		"INTERLOCK_AZURE_CA_FILE="+cfg.Azure.CAFile,
		"INTERLOCK_AZURE_TRY_TIMEOUT="+cfg.Azure.TryTimeout.String(),
		"INTERLOCK_AZURE_RETRY_DELAY="+cfg.Azure.RetryDelay.String(),
		"INTERLOCK_AZURE_MAX_RETRY_DELAY="+cfg.Azure.MaxRetryDelay.String(),
		"INTERLOCK_SENTINEL_WRITE_BACK="+cfg.Sentinel.WriteBack,
		"INTERLOCK_SENTINEL_SUBSCRIPTION_ID="+cfg.Sentinel.SubscriptionID,
		"INTERLOCK_SENTINEL_RESOURCE_GROUP="+cfg.Sentinel.ResourceGroup,
		"INTERLOCK_SENTINEL_WORKSPACE_NAME="+cfg.Sentinel.WorkspaceName,
	)
}

// workerProc is an `interlock worker` child process.
type workerProc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once the process is reaped
	err     error
}

// startWorkerProcess starts `interlock worker` with the stack's config; it is stopped when the test
// ends, and killed with the test binary (Linux: parent-death signal).
func (s *fstack) startWorkerProcess(t *testing.T, name string) *workerProc {
	t.Helper()
	bin := interlockBinary(t)
	w := &workerProc{name: name, logPath: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(w.logPath)
	require.NoError(t, err)
	w.cmd = exec.Command(bin, "worker")
	w.cmd.Env = childEnv(s.cfg)
	w.cmd.Stdout, w.cmd.Stderr = logFile, logFile
	w.cmd.SysProcAttr = childProcAttr()
	started := make(chan error, 1)
	go func() {
		// The parent-death signal follows the thread that forked the child: keep it alive until the
		// child is reaped (see internal/devservices).
		runtime.LockOSThread()
		if err := w.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		w.err = w.cmd.Wait()
		_ = logFile.Close()
		close(w.done)
	}()
	if err := <-started; err != nil {
		_ = logFile.Close()
		require.NoError(t, err, "start %s", name)
	}
	t.Cleanup(func() {
		w.stop()
		if t.Failed() {
			t.Logf("%s log (end):\n%s", name, tail(w.logPath, 30))
		}
	})
	return w
}

// kill sends SIGKILL and waits until the process is reaped.
func (w *workerProc) kill() {
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.done
}

// stop asks the worker to stop (SIGTERM), and kills it if it has not after 10 s.
func (w *workerProc) stop() {
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		w.kill()
	}
}

// logLines returns the JSON log records of the process whose msg is msg.
func (w *workerProc) logLines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	f, err := os.Open(w.logPath)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// incidentRef is one posted incident and what it must end with.
type incidentRef struct {
	plc  bool
	tag  string
	body []byte
	wid  string // the playbook run's workflow ID
	mac  string // NES: the workstation's MAC, found in its ticket's description
}

// makeIncidents makes nNES new-engineering-station and nPLC PLC incidents, interleaved. Tags have a
// fixed width so that no tag is a prefix of another in a subject or description.
func makeIncidents(t *testing.T, prefix string, nNES, nPLC int) []incidentRef {
	t.Helper()
	var out []incidentRef
	for i := range max(nNES, nPLC) {
		if i < nNES {
			tag := fmt.Sprintf("%s-n%03d", prefix, i)
			out = append(out, incidentRef{
				tag: tag, body: testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", tag),
				wid: playbooks.NewEngineeringStationName + "/nes-" + tag, mac: "00:1a:2b:" + testenv.MACTail(tag),
			})
		}
		if i < nPLC {
			tag := fmt.Sprintf("%s-p%03d", prefix, i)
			out = append(out, incidentRef{
				plc: true, tag: tag, body: testenv.Fixture(t, "sentinel-incident-unauthorized-plc-programming.json", tag),
				wid: playbooks.PLCReprogrammingName + "/plc-" + tag,
			})
		}
	}
	return out
}

func split(incs []incidentRef) (nes, plc []incidentRef) {
	for _, in := range incs {
		if in.plc {
			plc = append(plc, in)
		} else {
			nes = append(nes, in)
		}
	}
	return nes, plc
}

type intakeAnswer struct {
	Runs []struct {
		Playbook   string `json:"playbook"`
		WorkflowID string `json:"workflowId"`
		RunID      string `json:"runId"`
		Status     string `json:"status"`
	} `json:"runs"`
}

type postResult struct {
	code       int
	retryAfter string
	answer     intakeAnswer
	err        error
}

// post sends an incident to the intake; safe in goroutines (it never calls t.FailNow).
func (s *fstack) post(body []byte) postResult {
	resp, err := http.Post(s.intakeURL+"/v1/incidents", "application/json", bytes.NewReader(body))
	if err != nil {
		return postResult{err: err}
	}
	defer resp.Body.Close()
	r := postResult{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		r.err = err
		return r
	}
	if resp.StatusCode == http.StatusAccepted {
		r.err = json.Unmarshal(raw, &r.answer)
	}
	return r
}

// postAll posts every incident concurrently and returns the results in order.
func (s *fstack) postAll(incs []incidentRef) []postResult {
	out := make([]postResult, len(incs))
	var wg sync.WaitGroup
	for i, in := range incs {
		wg.Go(func() { out[i] = s.post(in.body) })
	}
	wg.Wait()
	return out
}

// requireStatus checks that each post was accepted with the given status for the expected run.
func requireStatus(t *testing.T, incs []incidentRef, res []postResult, status string) {
	t.Helper()
	for i, r := range res {
		require.NoError(t, r.err, incs[i].tag)
		require.Equal(t, http.StatusAccepted, r.code, incs[i].tag)
		require.Len(t, r.answer.Runs, 1, incs[i].tag)
		require.Equal(t, incs[i].wid, r.answer.Runs[0].WorkflowID, incs[i].tag)
		require.Equal(t, status, r.answer.Runs[0].Status, incs[i].tag)
	}
}

// ticketsByMAC counts the stand-in's incident records per workstation MAC, and those matching none.
func (s *fstack) ticketsByMAC(nes []incidentRef) (per map[string]int, other int) {
	per = map[string]int{}
	for _, r := range s.stub.Records("incident") {
		found := false
		for _, in := range nes {
			if strings.Contains(r["description"], in.mac) {
				per[in.tag]++
				found = true
				break
			}
		}
		if !found {
			other++
		}
	}
	return per, other
}

// emailsByTag counts Mailpit's messages per PLC incident (by the PLC name in the subject), and those
// matching none. It also returns how many distinct Message-IDs each incident's messages carry.
func (s *fstack) emailsByTag(ctx context.Context, plc []incidentRef) (per map[string]int, ids map[string]int, other int, err error) {
	msgs, err := s.mp.Messages(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	per, ids = map[string]int{}, map[string]int{}
	seen := map[string]map[string]bool{}
	for _, m := range msgs {
		found := false
		for _, in := range plc {
			if strings.Contains(m.Subject, "PLC-"+in.tag) {
				per[in.tag]++
				if seen[in.tag] == nil {
					seen[in.tag] = map[string]bool{}
				}
				if !seen[in.tag][m.MessageID] {
					seen[in.tag][m.MessageID] = true
					ids[in.tag]++
				}
				found = true
				break
			}
		}
		if !found {
			other++
		}
	}
	return per, ids, other, nil
}

// requireTicketsDone waits for every NES run to complete and checks that each workstation has exactly
// one ticket, made for its incident, and that no other ticket exists.
func (s *fstack) requireTicketsDone(t *testing.T, nes []incidentRef, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for _, in := range nes {
		var res playbooks.NewEngineeringStationResult
		require.NoError(t, s.tp.Client.GetWorkflow(ctx, in.wid, "").Get(ctx, &res), "NES run %s must complete", in.wid)
		require.Len(t, res.Tickets, 1, in.tag)
		require.True(t, res.Tickets[0].Created, "%s: the ticket was made for this incident", in.tag)
		require.Empty(t, res.Failed, in.tag)
	}
	per, other := s.ticketsByMAC(nes)
	var dups []string
	for _, in := range nes {
		if per[in.tag] != 1 {
			dups = append(dups, fmt.Sprintf("%s: %d (%s)", in.tag, per[in.tag], activities.DeviceKey(incident.Device{MAC: in.mac})))
		}
	}
	require.Empty(t, dups, "every NES incident must have exactly one ticket (incident: tickets)")
	require.Zero(t, other, "no ticket for anything else")
	// The result names the ticket that exists.
	recs := s.stub.Records("incident")
	for _, in := range nes {
		var res playbooks.NewEngineeringStationResult
		require.NoError(t, s.tp.Client.GetWorkflow(ctx, in.wid, "").Get(ctx, &res))
		i := slices.IndexFunc(recs, func(r map[string]string) bool { return strings.Contains(r["description"], in.mac) })
		require.Equal(t, recs[i]["sys_id"], res.Tickets[0].SysID, in.tag)
	}
}

// waitPLCWaiting waits until every PLC run reports (by its status query) that it waits for an answer:
// its email went out and the send is recorded in its history, so no replay sends it again.
func (s *fstack) waitPLCWaiting(t *testing.T, plc []incidentRef, within time.Duration, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within+10*time.Second)
	defer cancel()
	pending := slices.Clone(plc)
	require.Eventually(t, func() bool {
		pending = slices.DeleteFunc(pending, func(in incidentRef) bool {
			qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
			defer qcancel()
			v, err := s.tp.Client.QueryWorkflow(qctx, in.wid, "", playbooks.PLCStatusQuery)
			if err != nil {
				return false
			}
			var st playbooks.PLCStatus
			return v.Get(&st) == nil && st.Phase == "waiting"
		})
		return len(pending) == 0
	}, within, 100*time.Millisecond, "PLC runs still not waiting for an answer (%s): %v", why, tags(pending))
}

// requireOneEmailEach checks that each PLC incident has exactly one email in Mailpit, plus extra
// messages that are not about these incidents.
func (s *fstack) requireOneEmailEach(t *testing.T, plc []incidentRef, extra int) {
	t.Helper()
	per, ids, other, err := s.emailsByTag(context.Background(), plc)
	require.NoError(t, err)
	var wrong []string
	for _, in := range plc {
		if per[in.tag] != 1 {
			wrong = append(wrong, fmt.Sprintf("%s: %d (%d distinct Message-IDs)", in.tag, per[in.tag], ids[in.tag]))
		}
	}
	require.Empty(t, wrong, "every PLC incident must have exactly one email (incident: emails)")
	require.Equal(t, extra, other, "no other email")
	// To the PLC's owners, not to the SOC mailbox that a notice failing for good falls back to.
	msgs, err := s.mp.Messages(context.Background())
	require.NoError(t, err)
	for _, m := range msgs {
		require.Len(t, m.To, 1, m.Subject)
		require.Equal(t, plcOwners, m.To[0].Address, m.Subject)
	}
}

// plcOwners is the owner address of the PLC in the fixture; with no directory configured, its notice
// goes there.
const plcOwners = "ot-line3@rotterdam.example.com"

// answerAll answers every PLC run (planned for even positions, not planned for odd ones) with the
// "answer" Update and checks each completes with that answer and one notification.
func (s *fstack) answerAll(t *testing.T, plc []incidentRef) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, in := range plc {
		decision := workflows.DecisionPlanned
		if i%2 == 1 {
			decision = workflows.DecisionNotPlanned
		}
		s.answer(t, ctx, in, decision)
	}
}

func (s *fstack) answer(t *testing.T, ctx context.Context, in incidentRef, decision string) {
	t.Helper()
	h, err := s.tp.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   in.wid,
		UpdateName:   workflows.AnswerName,
		Args:         []any{workflows.Answer{Decision: decision, By: "faults-test", Via: "api"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err, in.tag)
	require.NoError(t, h.Get(ctx, nil), in.tag)
	s.requireAnswered(t, ctx, in, decision)
}

func (s *fstack) requireAnswered(t *testing.T, ctx context.Context, in incidentRef, decision string) {
	t.Helper()
	var res playbooks.PLCReprogrammingResult
	require.NoError(t, s.tp.Client.GetWorkflow(ctx, in.wid, "").Get(ctx, &res), in.tag)
	want := playbooks.OutcomeAnsweredPlanned
	if decision == workflows.DecisionNotPlanned {
		want = playbooks.OutcomeAnsweredNotPlanned
	}
	require.Equal(t, want, res.Outcome, in.tag)
	require.NotNil(t, res.Answer, in.tag)
	require.Equal(t, decision, res.Answer.Decision, in.tag)
	require.Len(t, res.Notifications, 1, "%s: one email recorded", in.tag)
}

// activityAttempts is the highest attempt of any (regular) activity in a run's history: above 1, an
// attempt was lost (to a dead worker, a timeout) and retried.
func (s *fstack) activityAttempts(t *testing.T, wid string) int32 {
	t.Helper()
	it := s.tp.Client.GetWorkflowHistory(context.Background(), wid, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var most int32
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
			most = max(most, a.GetAttempt())
		}
	}
	return most
}

func tags(incs []incidentRef) []string {
	out := make([]string, len(incs))
	for i, in := range incs {
		out[i] = in.tag
	}
	return out
}

// logRecorder is an slog.Handler that keeps every record's message and attributes, so a test can see
// what the in-process worker did (sends, failed sends).
type logRecorder struct {
	mu   sync.Mutex
	recs []loggedRecord
}

type loggedRecord struct {
	msg   string
	attrs map[string]string
}

type recorderHandler struct {
	r     *logRecorder
	attrs []slog.Attr
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(ctx context.Context, r slog.Record) error {
	return recorderHandler{r: l}.Handle(ctx, r)
}
func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler { return recorderHandler{r: l, attrs: as} }
func (l *logRecorder) WithGroup(string) slog.Handler         { return l }

func (h recorderHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recorderHandler) Handle(_ context.Context, r slog.Record) error {
	rec := loggedRecord{msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.r.mu.Lock()
	h.r.recs = append(h.r.recs, rec)
	h.r.mu.Unlock()
	return nil
}
func (h recorderHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recorderHandler{r: h.r, attrs: append(slices.Clone(h.attrs), as...)}
}
func (h recorderHandler) WithGroup(string) slog.Handler { return h }

// distinct counts the distinct values of key among the records with message msg.
func (l *logRecorder) distinct(msg, key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range l.recs {
		if r.msg == msg {
			seen[r.attrs[key]] = true
		}
	}
	return len(seen)
}

// values lists the distinct values of key among the records with message msg, sorted.
func (l *logRecorder) values(msg, key string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		if r.msg == msg && !slices.Contains(out, r.attrs[key]) {
			out = append(out, r.attrs[key])
		}
	}
	slices.Sort(out)
	return out
}

// count counts the records with message msg.
func (l *logRecorder) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if r.msg == msg {
			n++
		}
	}
	return n
}

type teeHandler [2]slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t[0].Enabled(ctx, l) || t[1].Enabled(ctx, l)
}
func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	return errors.Join(t[0].Handle(ctx, r.Clone()), t[1].Handle(ctx, r.Clone()))
}
func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{t[0].WithAttrs(as), t[1].WithAttrs(as)}
}
func (t teeHandler) WithGroup(g string) slog.Handler {
	return teeHandler{t[0].WithGroup(g), t[1].WithGroup(g)}
}

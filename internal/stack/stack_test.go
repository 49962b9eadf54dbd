package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlock-soar/interlock/internal/workbook"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/sensorstandin"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/internal/stack"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

// These tests run the whole of Interlock as interlock dev wires it: the real Temporal dev server and
// Mailpit, the ServiceNow stand-in over HTTP, the worker and the intake. One stack serves every test;
// each test uses its own incidents and devices.

var env = testenv.New()

func TestMain(m *testing.M) { env.Main(m) }

type harness struct {
	client    client.Client
	stub      *snowstandin.Server
	azure     *testenv.Azure
	sensor    *sensorstandin.Server
	logs      *syncBuffer
	mail      *testenv.MailpitServer
	intakeURL string
	// workbook is the intake's workbook store.
	workbook *workbook.Store
}

// syncBuffer is a log sink the worker's goroutines write to at once.
type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// logText is everything logged so far.
func (h *harness) logText() string {
	h.logs.mu.Lock()
	defer h.logs.mu.Unlock()
	return h.logs.String()
}

var (
	stackOnce sync.Once
	shared    *harness
	stackErr  error
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	tp := env.Temporal(t)
	mp := env.Mailpit(t)
	stackOnce.Do(func() {
		shared, stackErr = startStack(tp, stackOptions{mail: mp, smtpHost: mp.SMTPHost, smtpPort: mp.SMTPPort, configure: withParityWindow})
	})
	require.NoError(t, stackErr)
	return shared
}

// stackOptions says where the stack's mail goes and what differs from the shared stack's configuration.
type stackOptions struct {
	mail      *testenv.MailpitServer // read by harness.email; nil when the SMTP server is another
	smtpHost  string
	smtpPort  int
	configure func(*config.Config)
	// ctx, when set, stops the worker and the intake's listeners when done (a stack of one test's own);
	// nil leaves them running with the test binary.
	ctx context.Context
}

func startStack(tp *testenv.Server, opts stackOptions) (*harness, error) {
	// Every log line of the worker and the intake is kept, for the test that looks for leaked secrets.
	logs := &syncBuffer{}
	var out io.Writer = logs
	if os.Getenv("INTERLOCK_TEST_LOG") != "" {
		out = io.MultiWriter(logs, os.Stderr)
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	az, err := testenv.StartAzure(azurestandin.Options{})
	if err != nil {
		return nil, err
	}
	stub := snowstandin.New(snowstandin.Options{Username: "interlock", Password: "stand-in-password"})
	snowLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go http.Serve(snowLn, stub) //nolint:errcheck // ends with the test binary
	intakeLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.Temporal.Address = tp.HostPort
	wbDir, err := os.MkdirTemp("", "interlock-stack-workbook-")
	if err != nil {
		return nil, err
	}
	cfg.Workbook.Database = filepath.Join(wbDir, "workbook.db")
	cfg.Temporal.ShutdownTimeout = time.Second
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLSPolicy = opts.smtpHost, opts.smtpPort, "none"
	cfg.ServiceNow.InstanceURL = "http://" + snowLn.Addr().String()
	cfg.ServiceNow.Username, cfg.ServiceNow.Password = "interlock", config.NewSecret("stand-in-password")
	cfg.Intake.AnswerSecret = config.NewSecret(strings.Repeat("k", 40))
	cfg.Intake.Listen = intakeLn.Addr().String()
	cfg.Intake.PublicURL = "http://" + intakeLn.Addr().String()
	cfg.Intake.AllowUnauthenticated = true
	az.Configure(&cfg)
	// An on-premises OT sensor, for alerts that never reached Azure.
	sensor := sensorstandin.New(sensorstandin.Options{Token: "sensor-access-token-0123456789"})
	sensorSrv := httptest.NewTLSServer(sensor)
	sensorCA := filepath.Join(os.TempDir(), "interlock-stack-sensor-ca-"+strconv.Itoa(os.Getpid())+".pem")
	if err := os.WriteFile(sensorCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: sensorSrv.Certificate().Raw}), 0o600); err != nil {
		return nil, err
	}
	cfg.Sensor.URL, cfg.Sensor.Token, cfg.Sensor.CAFile = sensorSrv.URL, config.NewSecret("sensor-access-token-0123456789"), sensorCA
	cfg.Incidents.AssetsFile = "../../testdata/assets.yaml"
	// Lists CVEs only for the owner-question fixture's devices (testdata/sentinel-incident-iot-owner.json).
	cfg.Playbooks.CVEAutoWorkflow.FeedFile = "../../testdata/cve-feed.csv"
	if opts.configure != nil {
		opts.configure(&cfg)
	}
	app, err := worker.Build(cfg, logger)
	if err != nil {
		return nil, err
	}
	runCtx := opts.ctx
	if runCtx == nil {
		runCtx = context.Background()
	}
	go func() {
		<-runCtx.Done()
		_ = intakeLn.Close()
		_ = snowLn.Close()
	}()
	go worker.Run(runCtx, tp.Client, cfg.Temporal, app.Playbooks, app.Activities) //nolint:errcheck // ends with ctx or the test binary
	in, err := stack.NewIntake(cfg, tp.Client, logger)
	if err != nil {
		return nil, err
	}
	// As in the dev stack, the stand-in learns each posted incident before the rules run.
	h := stack.MirrorIncidents(in.Handler, az.Stub, cfg.Playbooks.AlertStatusSync.AllowedHosts, cfg.Intake.MaxBodyBytes)
	h = stack.MirrorSensorAlerts(h, sensor, cfg.Incidents.MaxAlertBatchBytes)
	go http.Serve(intakeLn, h) //nolint:errcheck // ends with the test binary
	return &harness{client: tp.Client, stub: stub, azure: az, sensor: sensor, logs: logs, mail: opts.mail, intakeURL: cfg.Intake.PublicURL, workbook: in.Workbook}, nil
}

func (h *harness) ticketsFor(mac string) []map[string]string {
	var out []map[string]string
	for _, r := range h.stub.Records("incident") {
		if strings.Contains(r["description"], mac) {
			out = append(out, r)
		}
	}
	return out
}

// email waits for the one message whose subject contains subject, and reads it whole.
func (h *harness) email(ctx context.Context, t *testing.T, subject string) testenv.Message {
	t.Helper()
	var id string
	require.Eventually(t, func() bool { // the email goes out asynchronously, after the 202
		msgs, err := h.mail.Messages(ctx)
		require.NoError(t, err)
		for _, m := range msgs {
			if strings.Contains(m.Subject, subject) {
				id = m.ID
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond)
	msg, err := h.mail.Message(ctx, id)
	require.NoError(t, err)
	return msg
}

type intakeAnswer struct {
	Runs []struct {
		Playbook   string `json:"playbook"`
		WorkflowID string `json:"workflowId"`
		RunID      string `json:"runId"`
		Status     string `json:"status"`
	} `json:"runs"`
}

func (h *harness) post(t *testing.T, body []byte) (int, intakeAnswer) {
	t.Helper()
	code, a, err := h.postRaw(body)
	require.NoError(t, err)
	return code, a
}

// postRaw is post for goroutines, which must not call t.FailNow.
func (h *harness) postRaw(body []byte) (int, intakeAnswer, error) {
	resp, err := http.Post(h.intakeURL+"/v1/incidents", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, intakeAnswer{}, err
	}
	defer resp.Body.Close()
	var a intakeAnswer
	err = json.NewDecoder(resp.Body).Decode(&a)
	return resp.StatusCode, a, err
}

// TestStartLikeTheTemporalUI starts the playbook the way the UI's Start Workflow form does: one
// json/plain payload holding the pasted Sentinel body. Starting it again by hand finds the ticket.
func TestStartLikeTheTemporalUI(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", "ui1")
	h.azure.Seed(t, body) // the incident exists in Sentinel before anyone starts a playbook on it
	mac := "00:1a:2b:" + testenv.MACTail("ui1")

	var results []playbooks.NewEngineeringStationResult
	for _, id := range []string{"manual-ui-start-1", "manual-ui-start-2"} {
		run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
			playbooks.NewEngineeringStationName, json.RawMessage(body))
		require.NoError(t, err)
		var res playbooks.NewEngineeringStationResult
		require.NoError(t, run.Get(ctx, &res))
		results = append(results, res)
	}
	tickets := h.ticketsFor(mac)
	require.Len(t, tickets, 1, "two manual starts, one device: one ticket")
	for i, res := range results {
		require.Equal(t, int64(4312), res.Number)
		require.Len(t, res.Tickets, 1)
		require.Equal(t, tickets[0]["number"], res.Tickets[0].Number)
		require.Equal(t, tickets[0]["sys_id"], res.Tickets[0].SysID)
		// Created means "made for this incident", so the second start reports the same ticket as its own.
		require.True(t, res.Tickets[0].Created, "start %d", i+1)
		require.Contains(t, res.Comment, tickets[0]["number"], "the incident comment names the ticket")
	}
	require.Equal(t, "interlock-ews-", tickets[0]["correlation_id"][:14])
	require.Equal(t, "Interlock", tickets[0]["correlation_display"])
	require.Contains(t, tickets[0]["short_description"], "ENG-WS-ui1")
	requireReplays(ctx, t, h, "manual-ui-start-1")
}

// TestIntakeRunsTheRightPlaybooksOnce posts each fixture, again, and 20 times at once: the rules pick
// the right playbook, and only the first delivery starts anything.
func TestIntakeRunsTheRightPlaybooksOnce(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		file, tag, playbook string
	}{
		{"sentinel-incident-new-engineering-station.json", "in1", playbooks.NewEngineeringStationName},
		{"sentinel-incident-unauthorized-plc-programming.json", "in2", playbooks.PLCReprogrammingName},
	}
	for _, tc := range cases {
		body := testenv.Fixture(t, tc.file, tc.tag)
		code, first := h.post(t, body)
		require.Equal(t, http.StatusAccepted, code)
		require.Len(t, first.Runs, 1)
		require.Equal(t, tc.playbook, first.Runs[0].Playbook)
		require.Equal(t, "started", first.Runs[0].Status)

		code, again := h.post(t, body)
		require.Equal(t, http.StatusAccepted, code)
		require.Equal(t, "deduplicated", again.Runs[0].Status)
		require.Equal(t, first.Runs[0].RunID, again.Runs[0].RunID)

		var wg sync.WaitGroup
		answers := make([]intakeAnswer, 20)
		errs := make([]error, 20)
		for i := range answers {
			wg.Go(func() { _, answers[i], errs[i] = h.postRaw(body) })
		}
		wg.Wait()
		for i, a := range answers {
			require.NoError(t, errs[i])
			require.Len(t, a.Runs, 1)
			require.Equal(t, "deduplicated", a.Runs[0].Status)
			require.Equal(t, first.Runs[0].WorkflowID, a.Runs[0].WorkflowID)
			require.Equal(t, first.Runs[0].RunID, a.Runs[0].RunID)
		}
	}
	// The NES run completes with exactly one ticket for its device.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res playbooks.NewEngineeringStationResult
	require.NoError(t, h.client.GetWorkflow(ctx, playbooks.NewEngineeringStationName+"/nes-in1", "").Get(ctx, &res))
	require.Len(t, h.ticketsFor("00:1a:2b:"+testenv.MACTail("in1")), 1)
}

var (
	notPlannedLink = regexp.MustCompile(`No, this change was NOT planned:\s+(\S+)`)
	plannedLink    = regexp.MustCompile(`Yes, this change was planned:\s+(\S+)`)
)

// TestPLCEmailAndNotPlannedClick: the fixture incident makes one email to the line's engineers;
// following its "not planned" link as a browser would (GET the confirmation page, POST the form)
// completes the run with that answer.
func TestPLCEmailAndNotPlannedClick(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, a := h.post(t, testenv.Fixture(t, "sentinel-incident-unauthorized-plc-programming.json", "click1"))
	require.Equal(t, http.StatusAccepted, code)
	wid := a.Runs[0].WorkflowID

	msg := h.email(ctx, t, "PLC-click1")
	require.Len(t, msg.To, 1)
	require.Equal(t, "ot-line3@rotterdam.example.com", msg.To[0].Address, "the PLC's owners, as no directory is configured")
	require.Contains(t, msg.Subject, "[High]")
	require.Contains(t, msg.HTML, "No, this change was NOT planned")
	m := notPlannedLink.FindStringSubmatch(msg.Text)
	require.Len(t, m, 2, "the text part carries the not-planned link")
	link := m[1]
	require.True(t, strings.HasPrefix(link, h.intakeURL+"/v1/answers/"), link)

	resp, err := http.Get(link)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(page), "<form")
	desc, err := h.client.DescribeWorkflow(ctx, wid, "")
	require.NoError(t, err)
	require.Nil(t, desc.RawResponse.WorkflowExecutionInfo.CloseTime, "a GET (a mail scanner's prefetch) answers nothing")

	resp, err = http.Post(link, "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var res playbooks.PLCReprogrammingResult
	require.NoError(t, h.client.GetWorkflow(ctx, wid, "").Get(ctx, &res))
	require.Equal(t, playbooks.OutcomeAnsweredNotPlanned, res.Outcome)
	require.NotNil(t, res.Answer)
	require.Equal(t, workflows.DecisionNotPlanned, res.Answer.Decision)
	require.Equal(t, "email-link", res.Answer.Via)
	require.Len(t, res.Notifications, 1, "one email")

	// The same link again (a double click) gets the first answer's outcome; the other link is refused.
	resp, err = http.Post(link, "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	other := plannedLink.FindStringSubmatch(msg.Text)
	require.Len(t, other, 2)
	resp, err = http.Post(other[1], "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusConflict, resp.StatusCode, "the run already has an answer")

	requireReplays(ctx, t, h, wid)
}

// requireReplays replays a finished run's real history against the registered playbooks: a change to
// a playbook that would break running workflows (non-determinism) fails here.
func requireReplays(ctx context.Context, t *testing.T, h *harness, workflowID string) {
	t.Helper()
	var events []*historypb.HistoryEvent
	iter := h.client.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		events = append(events, ev)
	}
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{Interceptors: worker.Interceptors()})
	require.NoError(t, err)
	worker.RegisterWorkflows(replayer, playbooks.Shipped(config.Default().Playbooks))
	require.NoError(t, replayer.ReplayWorkflowHistory(nil, &historypb.History{Events: events}))
}

// readmeInputs returns the README's pasteable Temporal UI inputs, by the playbook named above each.
func readmeInputs(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	out := map[string]json.RawMessage{}
	re := regexp.MustCompile("(?s)`(NewEngineeringStationTicket|PLCReprogrammingNotice)`:\n\n```json\n(.*?)```")
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		out[m[1]] = json.RawMessage(m[2])
	}
	require.Len(t, out, 2, "the README shows one input per playbook")
	return out
}

// TestREADMEInputsStartLikeTheUI pastes the README's inputs as the UI would (one json/plain payload).
func TestREADMEInputsStartLikeTheUI(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inputs := readmeInputs(t)

	// Device and incident as in the README, made unique to this test so other tests' tickets don't count.
	nes := strings.ReplaceAll(string(inputs[playbooks.NewEngineeringStationName]), "00:1a:2b:3c:4d:5e", "00:1a:2b:"+testenv.MACTail("readme"))
	run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "readme-nes", TaskQueue: workflows.TaskQueue},
		playbooks.NewEngineeringStationName, json.RawMessage(nes))
	require.NoError(t, err)
	var stationRes playbooks.NewEngineeringStationResult
	require.NoError(t, run.Get(ctx, &stationRes))
	require.Len(t, stationRes.Tickets, 1)
	require.Len(t, h.ticketsFor("00:1a:2b:"+testenv.MACTail("readme")), 1)

	run, err = h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "readme-plc", TaskQueue: workflows.TaskQueue},
		playbooks.PLCReprogrammingName, inputs[playbooks.PLCReprogrammingName])
	require.NoError(t, err)
	// Answer as the README says the UI can: a signal named "answer".
	require.Eventually(t, func() bool { // answer the email once it is out, as a person would
		resp, err := h.client.QueryWorkflow(ctx, "readme-plc", "", playbooks.PLCStatusQuery)
		if err != nil {
			return false
		}
		var st playbooks.PLCStatus
		return resp.Get(&st) == nil && st.Phase == "waiting"
	}, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, h.client.SignalWorkflow(ctx, "readme-plc", "", workflows.AnswerName,
		json.RawMessage(`{"decision": "not_planned", "by": "alice@example.com"}`)))
	var plcRes playbooks.PLCReprogrammingResult
	require.NoError(t, run.Get(ctx, &plcRes))
	require.Equal(t, playbooks.OutcomeAnsweredNotPlanned, plcRes.Outcome)
	require.Equal(t, "alice@example.com", plcRes.Answer.By)
	require.Equal(t, []string{"PLC-L3-01"}, plcRes.PLCs)
}

// TestHostilePLCNameArrivesInert sends a notice about a PLC whose name (from the alert) carries CR/LF,
// a Bcc header and a script, through the real SMTP server: it adds no header and no recipient, and the
// HTML shows it as text.
func TestHostilePLCNameArrivesInert(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const hostile = `PLC-evil\r\nBcc: attacker@evil.example\r\nX-Injected: yes\r\n<script>alert(1)</script>`
	body := strings.ReplaceAll(string(testenv.Fixture(t, "sentinel-incident-unauthorized-plc-programming.json", "evil")), "PLC-evil", hostile)
	code, _ := h.post(t, []byte(body))
	require.Equal(t, http.StatusAccepted, code)

	msg := h.email(ctx, t, "PLC-evil")
	require.Len(t, msg.To, 1)
	require.Equal(t, "ot-line3@rotterdam.example.com", msg.To[0].Address)
	require.Empty(t, msg.Bcc, "no recipient was added")
	require.Empty(t, msg.Headers.Get("X-Injected"), "no header was added")
	require.NotContains(t, msg.Subject, "\n")
	require.NotContains(t, msg.HTML, "<script>")
	require.Contains(t, msg.HTML, "&lt;script&gt;")
}

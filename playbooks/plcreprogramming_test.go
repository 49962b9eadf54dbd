package playbooks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// testStart is the workflow clock at the start of each test run. It is an hour ahead of the real clock
// because the SDK's test environment checks a local activity retry's deadline (workflow clock + its
// budget) against the real clock: a start in the past would expire every retry at once.
var testStart = time.Now().UTC().Truncate(time.Minute).Add(time.Hour)

// baseSection is the plcReprogramming section most tests run with.
const baseSection = `
socMailbox: soc@corp.example
lines:
  Packaging Line 3: Line 3
directory:
  - match: {line: Line 3}
    engineers: [{name: Alice, email: alice@rotterdam.example.com}]
    escalation: [{name: Shift lead, email: shift-lead@rotterdam.example.com}]
  - match: {sensor: sensor-rtm-l4}
    engineers: [{name: Bob, email: bob@rotterdam.example.com}]
`

const (
	alice = "alice@rotterdam.example.com"
	bob   = "bob@rotterdam.example.com"
	shift = "shift-lead@rotterdam.example.com"
	soc   = "soc@corp.example"
)

// plcConfig parses a plcReprogramming section through the real config loader (defaults, validation).
func plcConfig(t *testing.T, section string) config.PLCReprogramming {
	t.Helper()
	cfg, err := config.Parse([]byte(plcDoc(section)), func(string) string { return "" })
	require.NoError(t, err)
	return cfg.Playbooks.PLCReprogramming
}

func plcDoc(section string) string {
	var b strings.Builder
	b.WriteString("playbooks:\n  plcReprogramming:\n")
	for line := range strings.SplitSeq(strings.Trim(section, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	return b.String()
}

// harness runs the workflow with the real Changes and Directory behind OnActivity mocks and records
// every email, comment, update and timer.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	cfg config.PLCReprogramming

	// send, when set, decides each SendPLCNotification attempt; nil sends.
	send func(req activities.PLCNotification, attempt int) error

	mu         sync.Mutex
	attempts   []activities.PLCNotification
	mails      []activities.PLCNotification
	comments   []string
	updates    []activities.UpdateRequest
	timers     []time.Duration
	fired      int
	recipErr   error
	lookupErr  error
	commentErr error
	// runID is the run ID the notification activity saw.
	runID string
	// incidentID is the incident every write-back must name.
	incidentID string
}

type harnessOption func(*harnessOptions)

type harnessOptions struct {
	requests   activities.ChangeRequests
	writeDelay time.Duration
	mailDelay  time.Duration
}

func withRequests(r activities.ChangeRequests) harnessOption {
	return func(o *harnessOptions) { o.requests = r }
}
func withWriteDelay(d time.Duration) harnessOption {
	return func(o *harnessOptions) { o.writeDelay = d }
}
func withMailDelay(d time.Duration) harnessOption {
	return func(o *harnessOptions) { o.mailDelay = d }
}

func newHarness(t *testing.T, section string, opts ...harnessOption) *harness {
	t.Helper()
	var o harnessOptions
	for _, opt := range opts {
		opt(&o)
	}
	var suite testsuite.WorkflowTestSuite
	h := &harness{t: t, env: suite.NewTestWorkflowEnvironment(), cfg: plcConfig(t, section), incidentID: "inc-1"}
	registerActivityTypes(h.env)
	env := h.env
	env.SetStartTime(testStart)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "PLCReprogrammingNotice/inc-1", TaskQueue: workflows.TaskQueue})
	env.SetOnTimerScheduledListener(func(_ string, d time.Duration) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.timers = append(h.timers, d)
	})
	env.SetOnTimerFiredListener(func(string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.fired++
	})

	chg, dir := plcActivities(t, h.cfg, o.requests)
	onActivity(env, activities.FindPlannedChange).Return(
		func(ctx context.Context, req activities.PlannedChangeRequest) (activities.PlannedChange, error) {
			if h.lookupErr != nil {
				return activities.PlannedChange{}, h.lookupErr
			}
			return chg.FindPlannedChange(ctx, req)
		})
	onActivity(env, activities.LookupRecipients).Return(
		func(ctx context.Context, req activities.RecipientsRequest) (activities.Recipients, error) {
			if h.recipErr != nil {
				return activities.Recipients{}, h.recipErr
			}
			return dir.LookupRecipients(ctx, req)
		})
	onActivity(env, activities.SendPLCNotification).After(o.mailDelay).Return(
		func(ctx context.Context, req activities.PLCNotification) (activities.NotificationResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.runID = activity.GetInfo(ctx).WorkflowExecution.RunID // what the real activity binds links to
			h.attempts = append(h.attempts, req)
			if h.send != nil {
				n := 0
				for _, a := range h.attempts {
					if a.Round == req.Round && a.Change.PLC.Name == req.Change.PLC.Name {
						n++
					}
				}
				if err := h.send(req, n); err != nil {
					return activities.NotificationResult{}, err
				}
			}
			h.mails = append(h.mails, req)
			var to []string
			for _, r := range req.Recipients {
				to = append(to, r.Email)
			}
			return activities.NotificationResult{
				MessageID:  fmt.Sprintf("<%s.%s.%d@interlock>", req.IncidentID, req.Change.PLC.Name, req.Round),
				Recipients: to,
				SentAt:     testStart,
			}, nil
		})
	onActivity(env, activities.AddIncidentComment).After(o.writeDelay).Return(
		func(_ context.Context, req activities.CommentRequest) (activities.WriteResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			require.Equal(t, h.incidentID, req.IncidentID)
			if h.commentErr != nil {
				return activities.WriteResult{}, h.commentErr
			}
			h.comments = append(h.comments, req.Message)
			return activities.WriteResult{Via: "test"}, nil
		})
	onActivity(env, activities.UpdateIncident).After(o.writeDelay).Return(
		func(_ context.Context, req activities.UpdateRequest) (activities.WriteResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.updates = append(h.updates, req)
			return activities.WriteResult{Via: "test"}, nil
		})
	p := NewPLCReprogramming(h.cfg)
	env.RegisterWorkflowWithOptions(p.Run, workflow.RegisterOptions{Name: PLCReprogrammingName})
	return h
}

// run executes the workflow to completion and returns its result and error.
func (h *harness) run(inc incident.Incident) (PLCReprogrammingResult, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(PLCReprogrammingName, inc)
	require.True(h.t, h.env.IsWorkflowCompleted())
	if err := h.env.GetWorkflowError(); err != nil {
		return PLCReprogrammingResult{}, err
	}
	var res PLCReprogrammingResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res, nil
}

// updateOutcome records what happened to one Update.
type updateOutcome struct {
	accepted bool
	rejected error
	result   workflows.Answer
}

// answerAt sends the answer Update after d of workflow time.
func (h *harness) answerAt(d time.Duration, id string, ans workflows.Answer) *updateOutcome {
	out := &updateOutcome{}
	h.env.RegisterDelayedCallback(func() { h.answerNow(out, id, ans) }, d)
	return out
}

// answerNow sends the answer Update and records its outcome in out; call it from a delayed callback.
func (h *harness) answerNow(out *updateOutcome, id string, ans workflows.Answer) {
	h.env.UpdateWorkflow(workflows.AnswerName, id, &testsuite.TestUpdateCallback{
		OnAccept: func() { out.accepted = true },
		OnReject: func(err error) { out.rejected = err },
		OnComplete: func(v any, err error) {
			require.NoError(h.t, err)
			if a, ok := v.(workflows.Answer); ok {
				out.result = a
			}
		},
	}, ans)
}

// signalAt sends the answer Signal after d, as the Temporal UI would (a JSON object).
func (h *harness) signalAt(d time.Duration, payload any) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.AnswerName, payload) }, d)
}

func (h *harness) mailRounds() []int {
	var rounds []int
	for _, m := range h.mails {
		rounds = append(rounds, m.Round)
	}
	return rounds
}

func emailsOf(rs []activities.Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Email)
	}
	return out
}

func plcDevice(name, ip, zone, sensor string, owners ...string) incident.Device {
	octets := strings.Split(ip, ".")
	o3, _ := strconv.Atoi(octets[2])
	o4, _ := strconv.Atoi(octets[3])
	return incident.Device{
		ID: "dev-" + name, Name: name, Type: "PLC", SubType: "Safety PLC", Vendor: "Siemens", Model: "S7-1516F-3 PN/DP",
		IP: ip, MAC: fmt.Sprintf("28:63:36:a1:%02x:%02x", o3, o4), Site: "Rotterdam Plant", Zone: zone, Sensor: sensor,
		Importance: "High", Owners: owners,
	}
}

var workstation = incident.Device{
	ID: "4107", Name: "ENG-WS-07", Type: "Engineering Station", SubType: "Engineering Workstation",
	IP: "10.20.3.45", Site: "Rotterdam Plant", Zone: "Packaging Line 3", Sensor: "sensor-rtm-l3",
}

func plcAlert(title, destIP, destName, sensor string) incident.Alert {
	return incident.Alert{
		ID: "alert-" + destIP, Title: "(MDIoT) " + title, VendorOriginalID: "d4iot-" + destIP,
		StartTime: time.Date(2026, 11, 20, 8, 9, 44, 0, time.UTC), TimeGenerated: time.Date(2026, 11, 20, 8, 13, 58, 0, time.UTC),
		SensorID: sensor, SourceAddress: "10.20.3.45", DestinationAddress: destIP, DestinationDevice: destName,
		Protocol: "Siemens S7 Plus", RemediationSteps: []string{"Verify with the control engineer."}, Techniques: []string{"T0839"},
	}
}

// testIncident is the fixture's incident: ENG-WS-07 programmed PLC-L3-01.
func testIncident() incident.Incident {
	return incident.Incident{
		ID: "inc-1", ARMID: "/subscriptions/x/incidents/inc-1", Number: 4318,
		Title: "(MDIoT) Unauthorized PLC Programming", Severity: incident.SeverityHigh, Status: incident.StatusNew,
		URL: "https://portal.azure.com/#incident/inc-1", Created: time.Date(2026, 11, 20, 8, 15, 2, 0, time.UTC),
		Alerts: []incident.Alert{plcAlert("Unauthorized PLC Programming", "10.20.3.10", "PLC-L3-01", "sensor-rtm-l3")},
		Devices: []incident.Device{
			plcDevice("PLC-L3-01", "10.20.3.10", "Packaging Line 3", "sensor-rtm-l3", "ot-line3@rotterdam.example.com"),
			workstation,
		},
	}
}

func TestPLCReprogrammingPlannedByWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection+`
maintenanceWindows:
  - name: Line 4 works
    zone: Packaging Line 4
    start: "2026-11-20T08:00:00+01:00"
    end: "2026-11-20T12:00:00+01:00"
  - name: Line 3 <shutdown>
    devices: [10.20.3.0/24]
    start: "2026-11-20T08:00:00+01:00"
    end: "2026-11-20T10:00:00+01:00"
`)
	res, err := h.run(testIncident())
	require.NoError(t, err)
	require.Equal(t, OutcomePlanned, res.Outcome)
	require.Equal(t, []string{"PLC-L3-01"}, res.PLCs)
	require.Equal(t, &activities.PlannedChange{Planned: true, Source: "window", Name: "Line 3 <shutdown>",
		Window: "2026-11-20T08:00:00+01:00 – 2026-11-20T10:00:00+01:00"}, res.Planned)
	require.Empty(t, h.attempts, "a planned change sends no email")
	require.Empty(t, h.timers)
	require.Len(t, h.comments, 1)
	require.Contains(t, h.comments[0], "Planned change: maintenance window &quot;Line 3 &lt;shutdown&gt;&quot;")
	require.Contains(t, h.comments[0], "PLC-L3-01")
	require.Equal(t, h.comments, res.Comments)
}

func TestPLCReprogrammingPlannedByChangeRequest(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 8, 9, 44, 0, time.UTC)
	requests := &fakeChangeRequests{list: []activities.ChangeRequest{
		{Number: "CHG0030002", ShortDescription: "PLC-L3-010 recipe", Start: at.Add(-time.Hour), End: at.Add(time.Hour)},
		{Number: "CHG0030001", ShortDescription: "Load new recipe on PLC-L3-01", ConfigurationItem: "Packaging Line 3",
			State: "-1", Start: at.Add(-time.Hour), End: at.Add(time.Hour)},
	}}
	tests := []struct {
		name    string
		section string
		planned bool
	}{
		{"consulted when changeRequests is on", baseSection + "changeRequests: true\n", true},
		{"ignored when changeRequests is off", baseSection, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.section, withRequests(requests))
			h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: alice})
			res, err := h.run(testIncident())
			require.NoError(t, err)
			if !tt.planned {
				require.Equal(t, OutcomeAnsweredPlanned, res.Outcome)
				require.Len(t, h.mails, 1)
				return
			}
			require.Equal(t, OutcomePlanned, res.Outcome)
			require.Equal(t, "CHG0030001", res.Planned.Number)
			require.Equal(t, "change_request", res.Planned.Source)
			require.Empty(t, h.attempts)
			require.Len(t, h.comments, 1)
			require.True(t, strings.HasPrefix(h.comments[0], "Planned change: CHG0030001 &quot;Load new recipe on PLC-L3-01&quot;"), h.comments[0])
		})
	}
}

type fakeChangeRequests struct {
	list []activities.ChangeRequest
}

func (f *fakeChangeRequests) Approved(_ context.Context, at time.Time) ([]activities.ChangeRequest, error) {
	var out []activities.ChangeRequest
	for _, cr := range f.list {
		if !at.Before(cr.Start) && !at.After(cr.End) {
			out = append(out, cr)
		}
	}
	return out, nil
}

func TestPLCReprogrammingNotApplicable(t *testing.T) {
	t.Parallel()
	noPLC := testIncident()
	noPLC.Devices = []incident.Device{workstation}
	noPLC.Alerts[0].DestinationAddress, noPLC.Alerts[0].DestinationDevice = "", ""
	otherAlert := testIncident()
	otherAlert.Alerts = []incident.Alert{plcAlert("New Asset Detected", "10.20.3.10", "PLC-L3-01", "sensor-rtm-l3")}
	otherAlert.Title = "(MDIoT) New Asset Detected"
	tests := []struct {
		name   string
		inc    incident.Incident
		reason string
	}{
		{"no PLC-change alert", otherAlert, "no alert titled as a PLC change"},
		{"PLC-change alert naming no PLC", noPLC, "name no PLC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, baseSection)
			res, err := h.run(tt.inc)
			require.NoError(t, err)
			require.Equal(t, OutcomeNotApplicable, res.Outcome)
			require.Contains(t, res.Reason, tt.reason)
			require.Empty(t, h.attempts)
			require.Empty(t, h.comments)
			require.Empty(t, h.timers)
		})
	}
}

func TestPLCReprogrammingRejectsIncidentWithoutID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection)
	inc := testIncident()
	inc.ID = ""
	// Decoding the input rejects it already; Run's own check guards callers that skip decoding.
	_, err := h.run(inc)
	require.ErrorContains(t, err, "id")
	require.Empty(t, h.attempts)
	require.Empty(t, h.comments)
	require.Empty(t, h.timers)
}

func TestPLCReprogrammingUnplannedEmailsTheEngineers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection)
	h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: alice, Via: "email-link"})
	res, err := h.run(testIncident())
	require.NoError(t, err)
	require.Len(t, h.mails, 1)
	m := h.mails[0]
	require.Equal(t, "PLCReprogrammingNotice/inc-1", m.WorkflowID)
	require.Equal(t, "inc-1", m.IncidentID)
	require.Equal(t, int64(4318), m.IncidentNumber)
	require.Equal(t, 0, m.Round)
	require.Equal(t, []activities.Recipient{{Name: "Alice", Email: alice}}, m.Recipients, "the directory's line entry")
	require.Equal(t, testStart.Add(30*time.Minute), m.AnswerDeadline)
	require.Equal(t, activities.PLCChange{
		PLC: activities.DeviceFacts{Name: "PLC-L3-01", IP: "10.20.3.10", MAC: "28:63:36:a1:03:0a", Type: "Safety PLC",
			Vendor: "Siemens", Model: "S7-1516F-3 PN/DP", Importance: "High"},
		Source:     activities.DeviceFacts{Name: "ENG-WS-07", IP: "10.20.3.45", Type: "Engineering Workstation"},
		AlertTitle: "Unauthorized PLC Programming", AlertID: "d4iot-10.20.3.10", Protocol: "Siemens S7 Plus",
		Time: time.Date(2026, 11, 20, 8, 9, 44, 0, time.UTC), Site: "Rotterdam Plant", Zone: "Packaging Line 3",
		Line: "Line 3", Sensor: "sensor-rtm-l3",
		RemediationSteps: []string{"Verify with the control engineer."}, Techniques: []string{"T0839"},
	}, m.Change)
	require.Equal(t, []activities.NotificationResult{{MessageID: "<inc-1.PLC-L3-01.0@interlock>", Recipients: []string{alice}, SentAt: testStart}}, res.Notifications)
	require.Contains(t, h.comments[0], "Emailed "+alice+" about PLC-L3-01 (from directory:line)")
	require.Contains(t, h.comments[0], "Waiting for an answer until "+stamp(testStart.Add(30*time.Minute))+", then escalating (2 round(s))")
}

func TestPLCReprogrammingAnswered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		section     string
		update      *workflows.Answer
		signal      any
		outcome     string
		via         string
		comment     string
		wantUpdates []activities.UpdateRequest
	}{
		{
			name: "planned, incident left open", section: baseSection,
			update:  &workflows.Answer{Decision: "planned", By: alice, Via: "email-link", Comment: "recipe <v2>"},
			outcome: OutcomeAnsweredPlanned, via: "email-link",
			comment: alice + " confirmed the change to PLC-L3-01 was planned (via email-link at " + stamp(testStart.Add(5*time.Minute)) + "). Comment: &quot;recipe &lt;v2&gt;&quot;",
		},
		{
			name: "planned, closeOnPlanned", section: baseSection + "closeOnPlanned: true\n",
			update:  &workflows.Answer{Decision: "planned", By: alice},
			outcome: OutcomeAnsweredPlanned, via: "api",
			comment: alice + " confirmed the change to PLC-L3-01 was planned (via api at " + stamp(testStart.Add(5*time.Minute)) + "). Closing the incident as BenignPositive (SuspiciousButExpected).",
			wantUpdates: []activities.UpdateRequest{{
				IncidentID: "inc-1", IncidentARMID: "/subscriptions/x/incidents/inc-1", Number: 4318,
				Status: "Closed", Classification: "BenignPositive", ClassificationReason: "SuspiciousButExpected",
				ClassificationComment: "Planned PLC change (PLC-L3-01), confirmed by " + alice + " via Interlock.",
			}},
		},
		{
			name: "not planned", section: baseSection,
			update:  &workflows.Answer{Decision: "not_planned", By: alice, Via: "email-link"},
			outcome: OutcomeAnsweredNotPlanned, via: "email-link",
			comment: alice + " said the change to PLC-L3-01 was NOT planned (via email-link at " + stamp(testStart.Add(5*time.Minute)) + "). Severity raised to High, status Active, tagged &quot;PLC change not planned&quot;.",
			wantUpdates: []activities.UpdateRequest{{
				IncidentID: "inc-1", IncidentARMID: "/subscriptions/x/incidents/inc-1", Number: 4318,
				Severity: "High", Status: "Active", AddTags: []string{"PLC change not planned"},
			}},
		},
		{
			name: "not planned, custom tag", section: baseSection + "notPlannedTag: OT-unplanned\n",
			update:  &workflows.Answer{Decision: "not_planned", By: alice},
			outcome: OutcomeAnsweredNotPlanned, via: "api",
			comment: "tagged &quot;OT-unplanned&quot;.",
			wantUpdates: []activities.UpdateRequest{{
				IncidentID: "inc-1", IncidentARMID: "/subscriptions/x/incidents/inc-1", Number: 4318,
				Severity: "High", Status: "Active", AddTags: []string{"OT-unplanned"},
			}},
		},
		{
			name: "not planned by signal from the Temporal UI", section: baseSection,
			signal:  map[string]any{"decision": "not_planned", "by": "alice"},
			outcome: OutcomeAnsweredNotPlanned, via: "temporal-ui",
			comment: "alice said the change to PLC-L3-01 was NOT planned (via temporal-ui at " + stamp(testStart.Add(5*time.Minute)) + ").",
			wantUpdates: []activities.UpdateRequest{{
				IncidentID: "inc-1", IncidentARMID: "/subscriptions/x/incidents/inc-1", Number: 4318,
				Severity: "High", Status: "Active", AddTags: []string{"PLC change not planned"},
			}},
		},
		{
			name: "planned from a notice to several people", section: baseSection,
			update:  &workflows.Answer{Decision: "planned", By: activities.GroupRecipient, Via: "email-link"},
			outcome: OutcomeAnsweredPlanned, via: "email-link",
			comment: "A recipient of the notice confirmed the change to PLC-L3-01 was planned (via email-link",
		},
		{
			name: "planned by signal, decision spelled loosely", section: baseSection,
			signal:  map[string]any{"decision": " Planned ", "by": "bob", "comment": "ok"},
			outcome: OutcomeAnsweredPlanned, via: "temporal-ui",
			comment: "bob confirmed the change to PLC-L3-01 was planned (via temporal-ui at " + stamp(testStart.Add(5*time.Minute)) + "). Comment: &quot;ok&quot;",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.section)
			var upd *updateOutcome
			if tt.update != nil {
				upd = h.answerAt(5*time.Minute, "a1", *tt.update)
			} else {
				h.signalAt(5*time.Minute, tt.signal)
			}
			res, err := h.run(testIncident())
			require.NoError(t, err)
			require.Equal(t, tt.outcome, res.Outcome)
			require.NotNil(t, res.Answer)
			require.Equal(t, tt.via, res.Answer.Via)
			require.Equal(t, testStart.Add(5*time.Minute), res.Answer.At, "workflow time fills At")
			if upd != nil {
				require.True(t, upd.accepted)
				require.NoError(t, upd.rejected)
				require.Equal(t, *res.Answer, upd.result, "the update returns the recorded answer")
			}
			require.Equal(t, []int{0}, h.mailRounds())
			require.Equal(t, 0, res.EscalationRounds)
			require.Equal(t, []time.Duration{30 * time.Minute}, h.timers)
			require.Zero(t, h.fired, "the answer came before the deadline")
			require.Len(t, h.comments, 2)
			require.Contains(t, h.comments[1], tt.comment)
			require.Equal(t, tt.wantUpdates, h.updates)
			require.Equal(t, h.comments, res.Comments)
		})
	}
}

func TestPLCReprogrammingRejectsBadAndSecondAnswers(t *testing.T) {
	t.Parallel()
	// Write-back takes 10 minutes of workflow time, so the late answers reach a run still writing back.
	h := newHarness(t, baseSection, withWriteDelay(10*time.Minute))
	h.signalAt(time.Minute, map[string]any{"decision": "maybe", "by": "mallory"})
	bad := h.answerAt(2*time.Minute, "a-bad", workflows.Answer{Decision: "yes", By: "mallory"})
	first := h.answerAt(15*time.Minute, "a-first", workflows.Answer{Decision: "not_planned", By: alice})
	second := h.answerAt(22*time.Minute, "a-second", workflows.Answer{Decision: "planned", By: "bob"})
	h.signalAt(23*time.Minute, map[string]any{"decision": "planned", "by": "bob"})

	res, err := h.run(testIncident())
	require.NoError(t, err)

	require.False(t, bad.accepted)
	require.ErrorContains(t, bad.rejected, `decision must be "planned" or "not_planned", not "yes"`)
	require.True(t, first.accepted)
	require.False(t, second.accepted)
	require.ErrorContains(t, second.rejected, "already answered")
	appErr, ok := errors.AsType[*temporal.ApplicationError](second.rejected)
	require.True(t, ok, "%T", second.rejected)
	require.Equal(t, "AlreadyAnswered", appErr.Type())

	require.Equal(t, OutcomeAnsweredNotPlanned, res.Outcome, "the first valid answer decides")
	require.Equal(t, alice, res.Answer.By)
	require.Len(t, h.updates, 1)
	require.Equal(t, "High", h.updates[0].Severity)
}

func TestPLCReprogrammingNoAnswerEscalates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		section string
		rounds  int
		timeout time.Duration
	}{
		{"default: two rounds of 30m", baseSection, 2, 30 * time.Minute},
		{"one round of 45m", baseSection + "escalationRounds: 1\nanswerTimeout: 45m\n", 1, 45 * time.Minute},
		{"no escalation", baseSection + "escalationRounds: 0\n", 0, 30 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.section)
			res, err := h.run(testIncident())
			require.NoError(t, err)
			require.Equal(t, OutcomeNoAnswer, res.Outcome)
			require.Nil(t, res.Answer)
			require.Equal(t, tt.rounds, res.EscalationRounds)

			wantRounds := []int{0}
			wantTimers := []time.Duration{tt.timeout}
			for r := 1; r <= tt.rounds; r++ {
				wantRounds = append(wantRounds, r)
				wantTimers = append(wantTimers, tt.timeout)
			}
			require.Equal(t, wantRounds, h.mailRounds(), "one email per round, each sent once")
			require.Equal(t, wantTimers, h.timers, "every wait is the configured timeout")
			require.Equal(t, tt.rounds+1, h.fired)
			require.Equal(t, testStart.Add(time.Duration(tt.rounds+1)*tt.timeout), h.env.Now().UTC())
			require.Len(t, res.Notifications, tt.rounds+1)

			require.Equal(t, []string{alice}, emailsOf(h.mails[0].Recipients))
			for _, m := range h.mails[1:] {
				require.Equal(t, []string{shift}, emailsOf(m.Recipients), "escalations go to the escalation list")
				require.Equal(t, testStart.Add(time.Duration(m.Round+1)*tt.timeout), m.AnswerDeadline)
			}
			last := h.comments[len(h.comments)-1]
			require.Contains(t, last, "No answer from "+alice)
			require.Contains(t, last, fmt.Sprintf("after %d escalation round(s)", tt.rounds))
			require.Contains(t, last, "handed to the SOC")
			require.Len(t, h.comments, tt.rounds+2, "notice, one per escalation, hand-off")
			require.Empty(t, h.updates)
		})
	}
}

// An answer from an email link is taken only from the current round's email of this run; an answer
// naming no email (the Temporal UI, links sent before links were bound) is taken in any round.
func TestPLCReprogrammingAnswersBoundToTheirRound(t *testing.T) {
	t.Parallel()
	const otherRun = "0193-other-run"
	tests := []struct {
		name     string
		at       time.Duration
		link     func(runID string) *workflows.AnswerLink
		accepted bool
		otherRun bool
	}{
		{"current round", 40 * time.Minute, func(id string) *workflows.AnswerLink { return &workflows.AnswerLink{RunID: id, Round: 1} }, true, false},
		{"round 0 after the escalation", 40 * time.Minute, func(id string) *workflows.AnswerLink { return &workflows.AnswerLink{RunID: id, Round: 0} }, false, false},
		{"round 0 while the escalation is still being sent", 31 * time.Minute, func(id string) *workflows.AnswerLink { return &workflows.AnswerLink{RunID: id, Round: 0} }, true, false},
		{"round 1 before its sending finished", 31 * time.Minute, func(id string) *workflows.AnswerLink { return &workflows.AnswerLink{RunID: id, Round: 1} }, true, false},
		{"another run's link", 10 * time.Minute, func(string) *workflows.AnswerLink { return &workflows.AnswerLink{RunID: otherRun, Round: 0} }, false, true},
		{"old token: no link, a later round", 40 * time.Minute, func(string) *workflows.AnswerLink { return nil }, true, false},
		{"a link minted outside a run names no run", 10 * time.Minute, func(string) *workflows.AnswerLink { return &workflows.AnswerLink{Round: 0} }, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Sending takes 2 minutes: the round-1 email is delivered at 32m.
			h := newHarness(t, baseSection, withMailDelay(2*time.Minute))
			upd := &updateOutcome{}
			h.env.RegisterDelayedCallback(func() {
				h.mu.Lock()
				link := tt.link(h.runID)
				h.mu.Unlock()
				h.answerNow(upd, "a-1", workflows.Answer{Decision: "not_planned", By: alice, Link: link})
			}, tt.at)
			res, err := h.run(testIncident())
			require.NoError(t, err)
			require.NotEmpty(t, h.runID)
			require.NotEqual(t, otherRun, h.runID)
			require.Equal(t, tt.accepted, upd.accepted, "%v", upd.rejected)
			if tt.accepted {
				require.Equal(t, OutcomeAnsweredNotPlanned, res.Outcome)
				require.Equal(t, tt.link(h.runID), res.Answer.Link, "the answer records the email it came from")
				return
			}
			require.Equal(t, OutcomeNoAnswer, res.Outcome)
			appErr, ok := errors.AsType[*temporal.ApplicationError](upd.rejected)
			require.True(t, ok, "%T", upd.rejected)
			require.Equal(t, workflows.FailureOutdatedLink, appErr.Type())
			var d workflows.AnswerRefusal
			require.NoError(t, appErr.Details(&d))
			require.Equal(t, tt.otherRun, d.OtherRun)
			require.NotNil(t, d.Current)
			if tt.otherRun {
				require.Equal(t, 0, d.Current.Round)
				require.Equal(t, emailsOf(h.mails[0].Recipients), d.Current.To)
				return
			}
			require.Equal(t, 1, d.Current.Round, "the refusal names the current email")
			require.Equal(t, testStart, d.Current.SentAt)
			require.Equal(t, emailsOf(h.mails[1].Recipients), d.Current.To)
		})
	}
}

// The refusal of a second answer names who gave the first and when, without its comment.
func TestPLCReprogrammingSecondAnswerSaysWhoAnswered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection, withWriteDelay(10*time.Minute))
	h.answerAt(5*time.Minute, "a-first", workflows.Answer{Decision: "planned", By: alice, Comment: "CHG-7"})
	second := h.answerAt(7*time.Minute, "a-second", workflows.Answer{Decision: "not_planned", By: "bob"})
	_, err := h.run(testIncident())
	require.NoError(t, err)
	appErr, ok := errors.AsType[*temporal.ApplicationError](second.rejected)
	require.True(t, ok, "%T", second.rejected)
	require.Equal(t, workflows.FailureAlreadyAnswered, appErr.Type())
	var d workflows.AnswerRefusal
	require.NoError(t, appErr.Details(&d))
	require.NotNil(t, d.Answer)
	require.Equal(t, alice, d.Answer.By)
	require.Equal(t, workflows.DecisionPlanned, d.Answer.Decision)
	require.Equal(t, testStart.Add(5*time.Minute), d.Answer.At)
	require.Empty(t, d.Answer.Comment)
}

func TestPLCReprogrammingAnswerDuringEscalation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		at    time.Duration
		round int
	}{
		{"while the escalation email is being sent", 31 * time.Minute, 1},
		{"while waiting after the first escalation", 45 * time.Minute, 1},
		{"while waiting after the second escalation", 75 * time.Minute, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Sending takes 2 minutes of workflow time, so an answer at 31m lands mid-send.
			h := newHarness(t, baseSection, withMailDelay(2*time.Minute))
			h.signalAt(tt.at, map[string]any{"decision": "planned", "by": "shift"})
			res, err := h.run(testIncident())
			require.NoError(t, err)
			require.Equal(t, OutcomeAnsweredPlanned, res.Outcome)
			require.Equal(t, tt.round, res.EscalationRounds)
			require.Len(t, h.mails, tt.round+1)
			require.Equal(t, testStart.Add(tt.at), res.Answer.At)
		})
	}
}

func TestPLCReprogrammingRetriedEmailIsSentOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection)
	h.send = func(_ activities.PLCNotification, attempt int) error {
		if attempt == 1 {
			return errors.New("421 4.7.0 try again later")
		}
		return nil
	}
	h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: alice})
	res, err := h.run(testIncident())
	require.NoError(t, err)
	require.Len(t, h.attempts, 2, "Temporal retried the temporary failure")
	require.Len(t, h.mails, 1)
	require.Len(t, res.Notifications, 1, "one notification for the (PLC, round)")
	require.Equal(t, OutcomeAnsweredPlanned, res.Outcome)
}

func TestPLCReprogrammingRejectedEmail(t *testing.T) {
	t.Parallel()
	// As activities.Notifier reports a 5xx reply.
	rejected := temporal.NewNonRetryableApplicationError("SMTP server rejected the notification", activities.FailureSMTPRejected,
		errors.New("550 5.1.1 <alice@rotterdam.example.com>: mailbox unavailable"))

	t.Run("falls back to the SOC mailbox and keeps waiting", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, baseSection)
		h.send = func(req activities.PLCNotification, _ int) error {
			if emailsOf(req.Recipients)[0] == alice {
				return rejected
			}
			return nil
		}
		h.answerAt(10*time.Minute, "a1", workflows.Answer{Decision: "not_planned", By: soc})
		res, err := h.run(testIncident())
		require.NoError(t, err)
		require.Len(t, h.attempts, 2, "no retry of a permanent rejection, one send to the SOC")
		require.Equal(t, []string{soc}, emailsOf(h.mails[0].Recipients))
		require.Equal(t, 0, h.mails[0].Round)
		require.Len(t, res.Notifications, 1)
		require.Contains(t, h.comments[0], "was not delivered (SMTP server rejected the notification: 550 5.1.1 &lt;alice@rotterdam.example.com&gt;: mailbox unavailable). The SOC mailbox "+soc+" got it instead")
		require.Equal(t, OutcomeAnsweredNotPlanned, res.Outcome)
	})

	t.Run("fails with a comment when the SOC mailbox is rejected too", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, baseSection)
		h.send = func(activities.PLCNotification, int) error { return rejected }
		_, err := h.run(testIncident())
		appErr, ok := errors.AsType[*temporal.ApplicationError](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, FailureNotificationFailed, appErr.Type())
		require.ErrorContains(t, err, "could not email anyone about the change to PLC-L3-01")
		require.Len(t, h.attempts, 2)
		require.Empty(t, h.timers, "nothing to wait for")
		require.Len(t, h.comments, 1)
		require.Contains(t, h.comments[0], "Could not email anyone about the change to PLC-L3-01")
		require.Contains(t, h.comments[0], "handed to the SOC")
	})
}

func TestPLCReprogrammingFailingLookups(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection)
	h.lookupErr = temporal.NewNonRetryableApplicationError("servicenow down", "Unavailable", nil)
	h.recipErr = temporal.NewNonRetryableApplicationError("nobody", activities.FailureNoRecipients, nil)
	h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: soc})
	res, err := h.run(testIncident())
	require.NoError(t, err)
	require.Equal(t, []string{soc}, emailsOf(h.mails[0].Recipients), "the SOC is told when the directory fails")
	require.Contains(t, h.comments[0], "Could not check planned changes for PLC-L3-01 (servicenow down).")
	require.Equal(t, OutcomeAnsweredPlanned, res.Outcome)
}

func TestPLCReprogrammingTwoPLCs(t *testing.T) {
	t.Parallel()
	twoPLCs := func() incident.Incident {
		inc := testIncident()
		inc.Alerts = append(inc.Alerts,
			plcAlert("Unauthorized PLC Configuration Write", "10.20.4.10", "PLC-L4-01", "sensor-rtm-l4"),
			plcAlert("PLC Operating Mode Changed", "10.20.3.10", "", "sensor-rtm-l3"), // same PLC again, by IP
		)
		inc.Devices = append(inc.Devices, plcDevice("PLC-L4-01", "10.20.4.10", "Packaging Line 4", "sensor-rtm-l4"))
		return inc
	}

	t.Run("one email per PLC to its engineers, one answer for the incident", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, baseSection)
		h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "not_planned", By: bob})
		res, err := h.run(twoPLCs())
		require.NoError(t, err)
		require.Equal(t, []string{"PLC-L3-01", "PLC-L4-01"}, res.PLCs)
		require.Len(t, h.mails, 2)
		byPLC := map[string][]string{}
		for _, m := range h.mails {
			byPLC[m.Change.PLC.Name] = emailsOf(m.Recipients)
		}
		require.Equal(t, map[string][]string{"PLC-L3-01": {alice}, "PLC-L4-01": {bob}}, byPLC)
		require.Len(t, res.Notifications, 2)
		require.Equal(t, []time.Duration{30 * time.Minute}, h.timers, "one wait for the incident")
		require.Equal(t, OutcomeAnsweredNotPlanned, res.Outcome)
		require.Contains(t, h.comments[len(h.comments)-1], "the change to PLC-L3-01, PLC-L4-01 was NOT planned")
		require.Len(t, h.updates, 1)
	})

	t.Run("no answer: each PLC escalated each round", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, baseSection+"escalationRounds: 1\n")
		res, err := h.run(twoPLCs())
		require.NoError(t, err)
		require.Equal(t, OutcomeNoAnswer, res.Outcome)
		require.Len(t, h.mails, 4)
		require.Equal(t, []int{0, 0, 1, 1}, h.mailRounds())
		// PLC-L4-01's sensor entry has no escalation list: its engineers and the SOC get the escalation.
		require.ElementsMatch(t, []string{shift, bob, soc}, append(emailsOf(h.mails[2].Recipients), emailsOf(h.mails[3].Recipients)...))
	})

	t.Run("one PLC covered by a window, the other asked about", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, baseSection+`
maintenanceWindows:
  - name: Line 4 works
    zone: packaging line 4
    days: [Fri]
    from: "06:00"
    to: "12:00"
    timezone: Europe/Amsterdam
`)
		h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: alice})
		res, err := h.run(twoPLCs())
		require.NoError(t, err)
		require.Equal(t, OutcomeAnsweredPlanned, res.Outcome)
		require.Equal(t, "Line 4 works", res.Planned.Name)
		require.Len(t, h.mails, 1)
		require.Equal(t, "PLC-L3-01", h.mails[0].Change.PLC.Name)
		require.Contains(t, h.comments[0], "Planned change: maintenance window &quot;Line 4 works&quot; (Fri 06:00–12:00 Europe/Amsterdam) covers the change to PLC-L4-01")
		require.Contains(t, h.comments[len(h.comments)-1], "confirmed the change to PLC-L3-01 was planned")
	})
}

func TestPLCReprogrammingFindsThePLC(t *testing.T) {
	t.Parallel()
	byAddressOnly := testIncident()
	byAddressOnly.Alerts[0].DestinationAddress, byAddressOnly.Alerts[0].DestinationDevice = "10.20.3.99", ""
	byAddressOnly.Devices = []incident.Device{workstation}

	byHand := testIncident()
	byHand.Alerts = nil // started from the Temporal UI with a minimal incident

	unknownName := testIncident()
	unknownName.Alerts[0].DestinationAddress, unknownName.Alerts[0].DestinationDevice = "", "PLC-RENAMED"
	unknownName.Alerts[0].StartTime = time.Time{}

	tests := []struct {
		name  string
		inc   incident.Incident
		plc   activities.DeviceFacts
		label string
		at    time.Time
	}{
		{"destination known only by address: place from the workstation", byAddressOnly,
			activities.DeviceFacts{IP: "10.20.3.99"}, "PLC 10.20.3.99", time.Date(2026, 11, 20, 8, 9, 44, 0, time.UTC)},
		{"incident without alerts: its title and PLC devices", byHand,
			activities.DeviceFacts{Name: "PLC-L3-01"}, "PLC-L3-01", time.Date(2026, 11, 20, 8, 15, 2, 0, time.UTC)},
		{"unknown destination name: the incident's PLC devices; time generated", unknownName,
			activities.DeviceFacts{Name: "PLC-L3-01"}, "PLC-L3-01", time.Date(2026, 11, 20, 8, 13, 58, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, baseSection)
			h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: alice})
			res, err := h.run(tt.inc)
			require.NoError(t, err)
			require.Len(t, h.mails, 1)
			c := h.mails[0].Change
			if tt.plc.IP != "" {
				require.Equal(t, tt.plc.IP, c.PLC.IP)
			}
			if tt.plc.Name != "" {
				require.Equal(t, tt.plc.Name, c.PLC.Name)
			}
			require.Equal(t, tt.at, c.Time)
			require.Equal(t, "Line 3", c.Line)
			require.Equal(t, []string{alice}, emailsOf(h.mails[0].Recipients))
			require.Contains(t, res.Comments[len(res.Comments)-1], "confirmed the change to "+tt.label+" was planned")
		})
	}
}

func TestPLCReprogrammingWriteBackFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection)
	h.commentErr = temporal.NewNonRetryableApplicationError("403 forbidden", "Forbidden", nil)
	h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "not_planned", By: alice})
	res, err := h.run(testIncident())
	require.NoError(t, err, "a write-back that fails for good does not stop the engineers' answer loop")
	require.Equal(t, OutcomeAnsweredNotPlanned, res.Outcome)
	require.Len(t, h.mails, 1)
	require.Empty(t, res.Comments, "no comment was written")
	require.Len(t, res.WriteBackErrors, 2, "the notice comment and the answer comment")
	require.Contains(t, res.WriteBackErrors[0], "comment notice/0: ")
	require.Contains(t, res.WriteBackErrors[0], "403 forbidden")
	require.Contains(t, res.WriteBackErrors[1], "comment answer: ")
	require.Len(t, h.updates, 1, "the severity update still went out")
}

func TestPLCReprogrammingCapsEmailsPerIncident(t *testing.T) {
	t.Parallel()
	inc := testIncident()
	// An alert without a destination: every PLC-typed device of the incident is a target.
	inc.Alerts[0].DestinationAddress, inc.Alerts[0].DestinationDevice = "", ""
	inc.Devices = []incident.Device{workstation}
	for i := 1; i <= maxPLCs+2; i++ {
		inc.Devices = append(inc.Devices, plcDevice(fmt.Sprintf("PLC-X-%02d", i), fmt.Sprintf("10.20.9.%d", i), "Packaging Line 3", "sensor-rtm-l3"))
	}
	h := newHarness(t, baseSection)
	h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: alice})
	res, err := h.run(inc)
	require.NoError(t, err)
	require.Len(t, res.PLCs, maxPLCs)
	require.Len(t, h.mails, maxPLCs)
	require.Equal(t, "more than 20 PLCs: 2 not emailed individually", res.Reason)
	require.Contains(t, h.comments[0], "2 more PLCs were not emailed individually: PLC-X-21, PLC-X-22.")
}

func TestPLCReprogrammingStatusQuery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection)
	var during PLCStatus
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(PLCStatusQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&during))
	}, 40*time.Minute)
	h.answerAt(50*time.Minute, "a1", workflows.Answer{Decision: "planned", By: alice})
	_, err := h.run(testIncident())
	require.NoError(t, err)
	require.Equal(t, PLCStatus{
		Phase: "waiting", PLCs: []string{"PLC-L3-01"}, Round: 1,
		WaitingSince: testStart.Add(30 * time.Minute), Deadline: testStart.Add(60 * time.Minute),
	}, during)

	v, err := h.env.QueryWorkflow(PLCStatusQuery)
	require.NoError(t, err)
	var after PLCStatus
	require.NoError(t, v.Get(&after))
	require.Equal(t, "done", after.Phase)
	require.Equal(t, OutcomeAnsweredPlanned, after.Outcome)
	require.Equal(t, alice, after.Answer.By)
}

func TestPLCReprogrammingHostileStrings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseSection)
	inc := testIncident()
	inc.Devices[0].Name = `PLC-<img src=x onerror=alert(1)>`
	inc.Alerts[0].DestinationDevice = inc.Devices[0].Name
	h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "planned", By: "<script>x</script>\r\nBcc: x", Comment: "a\"b<c>" + strings.Repeat("é", 1500)})
	res, err := h.run(inc)
	require.NoError(t, err)
	require.Equal(t, "<script>x</script> Bcc: x", res.Answer.By, "one line")
	require.LessOrEqual(t, utf8.RuneCountInString(res.Answer.Comment), 2000, "bounded in history")
	for _, c := range res.Comments {
		require.NotContains(t, c, "<img")
		require.NotContains(t, c, "<script")
		require.NotContains(t, c, "<c>")
	}
	require.Contains(t, res.Comments[1], "&lt;script&gt;x&lt;/script&gt; Bcc: x confirmed the change to PLC-&lt;img")
}

// TestPLCReprogrammingSentinelFixture runs the playbook on the Sentinel incident-trigger fixture.
func TestPLCReprogrammingSentinelFixture(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/sentinel-incident-unauthorized-plc-programming.json")
	require.NoError(t, err)
	ev, err := incident.ParseEvent(data)
	require.NoError(t, err)

	h := newHarness(t, baseSection)
	h.signalAt(5*time.Minute, map[string]any{"decision": "not_planned", "by": "alice"})
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "PLCReprogrammingNotice/" + ev.Incident.ID})
	h.incidentID = ev.Incident.ID
	res, err := h.run(ev.Incident)
	require.NoError(t, err)
	require.Equal(t, OutcomeAnsweredNotPlanned, res.Outcome)
	require.Equal(t, int64(4318), res.Number)
	require.Len(t, h.mails, 1)
	m := h.mails[0]
	require.Equal(t, []string{alice}, emailsOf(m.Recipients))
	require.Equal(t, "PLC-L3-01", m.Change.PLC.Name)
	require.Equal(t, "10.20.3.10", m.Change.PLC.IP)
	require.Equal(t, "ENG-WS-07", m.Change.Source.Name)
	require.Equal(t, "Unauthorized PLC Programming", m.Change.AlertTitle)
	require.Equal(t, "Siemens S7 Plus", m.Change.Protocol)
	require.Equal(t, time.Date(2026, 11, 20, 8, 9, 44, 0, time.UTC), m.Change.Time)
	require.Equal(t, "Line 3", m.Change.Line)
	require.Equal(t, "sensor-rtm-l3", m.Change.Sensor)
}

func TestPLCReprogrammingZeroSettingsUseDefaults(t *testing.T) {
	t.Parallel()
	s := PLCSettings{}.normalized()
	def := DefaultPLCSettings()
	require.Equal(t, def.AlertTitles, s.AlertTitles)
	require.Equal(t, 30*time.Minute, s.AnswerTimeout)
	require.Equal(t, "soc@localhost", s.SOCMailbox)
	require.Equal(t, 2, def.EscalationRounds)
	require.False(t, def.CloseOnPlanned)
	require.Equal(t, "PLC change not planned", def.NotPlannedTag)

	pb, ok := Shipped(config.Default().Playbooks).Lookup(PLCReprogrammingName)
	require.True(t, ok)
	require.Equal(t, PLCReprogrammingName, pb.Name)
	require.False(t, pb.PerEvent)
	require.NotNil(t, pb.Workflow)
}

func TestPLCConfig(t *testing.T) {
	t.Parallel()
	const k = "playbooks.plcReprogramming."
	tests := []struct {
		name    string
		section string
		want    []string // "key: message" substrings
	}{
		{"unknown time zone", `
maintenanceWindows:
  - {name: a, start: "2026-11-20T08:00:00Z", end: "2026-11-20T09:00:00Z"}
  - {name: b, from: "22:00", to: "02:00", timezone: UTC}
  - {name: c, days: [Mon], from: "22:00", to: "02:00", timezone: Mars/Base}
`, []string{k + `maintenanceWindows[2].timezone: unknown time zone "Mars/Base"`}},
		{"missing time zone", `
maintenanceWindows:
  - {name: a, from: "22:00", to: "02:00"}
`, []string{k + "maintenanceWindows[0].timezone: must be set"}},
		{"start without offset, end before start", `
maintenanceWindows:
  - {name: a, start: "2026-11-20 08:00", end: "2026-11-20T09:00:00Z"}
  - {name: b, start: "2026-11-20T10:00:00+01:00", end: "2026-11-20T09:00:00Z"}
`, []string{k + "maintenanceWindows[0].start: not an RFC 3339 time with an offset", k + "maintenanceWindows[1].end: must be after start"}},
		{"bad weekly hours", `
maintenanceWindows:
  - {days: [Mon, Funday], from: "25:00", to: "24:30", timezone: Europe/Amsterdam}
  - {name: b, from: "10:00", to: "10:00", timezone: UTC}
  - {name: c, start: "2026-11-20T08:00:00Z", end: "2026-11-20T09:00:00Z", days: [Mon]}
  - {name: d}
`, []string{
			k + "maintenanceWindows[0].name: must not be empty",
			k + `maintenanceWindows[0].days[1]: not a weekday (Mon … Sun): "Funday"`,
			k + "maintenanceWindows[0].from: not a time of day",
			k + "maintenanceWindows[0].to: not a time of day",
			k + "maintenanceWindows[1].to: must differ from from",
			k + "maintenanceWindows[2]: use either start/end or days/from/to/timezone, not both",
			k + "maintenanceWindows[3]: needs start and end",
		}},
		{"bad CIDR", `
maintenanceWindows:
  - {name: a, devices: [PLC-1, 10.20.3.0/33, ""], start: "2026-11-20T08:00:00Z", end: "2026-11-20T09:00:00Z"}
`, []string{k + `maintenanceWindows[0].devices[1]: not a CIDR prefix (like 10.20.3.0/24): "10.20.3.0/33"`, k + "maintenanceWindows[0].devices[2]: must not be empty"}},
		{"directory", `
directory:
  - match: {site: A, zone: B}
    engineers: [{email: a@example.com}]
  - match: {line: L}
  - match: {line: l}
    engineers: [{name: X, email: "X <x@example.com>"}]
    escalation: [{email: nope}]
`, []string{
			k + "directory[0].match: set exactly one of sensor, line, zone or site (found 2)",
			k + "directory[1]: needs engineers or escalation",
			k + `directory[2].match: same line "l" as directory[1]`,
			k + `directory[2].engineers[0].email: not an email address`,
			k + `directory[2].escalation[0].email: not an email address (write name@domain, without a display name): "nope"`,
		}},
		{"scalars", `
answerTimeout: 30s
escalationRounds: 11
socMailbox: ""
alertTitles: []
lines: {"Zone A": "", "zone a": "Line A"}
`, []string{
			k + "answerTimeout: must be at least 1m",
			k + "alertTitles: must list at least one alert title",
			k + "escalationRounds: must be between 0 and 10, not 11",
			k + "socMailbox: must not be empty",
			k + `lines["Zone A"]: line name must not be empty`,
			k + `lines["zone a"]: same zone as "Zone A"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte(plcDoc(tt.section)), func(string) string { return "" })
			require.Error(t, err)
			var errs *config.Errors
			require.ErrorAs(t, err, &errs)
			var got []string
			for _, fe := range errs.List {
				got = append(got, fe.Error())
			}
			require.Len(t, got, len(tt.want), "%s", err)
			for i, want := range tt.want {
				require.True(t, strings.HasPrefix(got[i], want), "got %q, want prefix %q", got[i], want)
			}
		})
	}

}

func TestPLCReprogrammingBusinessImpact(t *testing.T) {
	t.Parallel()
	links := activities.AnswerLinks{Planned: "https://soc.example/planned", NotPlanned: "https://soc.example/not-planned"}
	for _, tt := range impactCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, baseSection)
			h.answerAt(5*time.Minute, "a1", workflows.Answer{Decision: "not_planned", By: alice, Via: "email-link"})
			inc := testIncident()
			inc.Impact = tt.impact
			res, err := h.run(inc)
			require.NoError(t, err)
			require.Equal(t, OutcomeAnsweredNotPlanned, res.Outcome)
			require.Len(t, h.mails, 1)
			require.Equal(t, tt.impact, h.mails[0].Impact, "the email request carries the impact")
			_, text, html := activities.RenderPLCNotification(h.mails[0], links)

			require.Len(t, h.comments, 2, "the notice and the answer")
			for _, c := range h.comments {
				require.NotContains(t, c, "<script")
				for _, a := range tt.absent {
					require.NotContains(t, c, a)
				}
			}
			for _, a := range tt.absent {
				require.NotContains(t, text, a)
				require.NotContains(t, html, a)
			}
			if tt.impact == nil {
				require.NotContains(t, h.comments[0], "<br>")
				require.True(t, strings.HasSuffix(h.comments[0], "then escalating (2 round(s))."), h.comments[0])
				return
			}
			for _, w := range tt.want {
				require.True(t, strings.HasSuffix(h.comments[0], "then escalating (2 round(s)).<br>"+w), h.comments[0])
			}
			require.NotContains(t, h.comments[1], "Business impact", "once per run, on the notice")
			require.Contains(t, text, "\nBusiness impact\n  "+tt.impact.Statement+"\n  Production stop risk: "+tt.impact.Risk)
			require.Contains(t, html, ">Business impact</h2>")
			require.Contains(t, html, esc(tt.impact.Statement))
			require.NotContains(t, strings.ToLower(html), "<script")
			if tt.impact.Safety {
				require.Contains(t, html, "<strong style=\"color:#b91c1c;\">Production stop risk high</strong>")
				require.Contains(t, html, ">Safety-relevant asset involved</strong>")
			} else {
				require.NotContains(t, html, "<strong style=\"color:#b91c1c;\">Production stop risk")
			}
		})
	}

	t.Run("planned", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, baseSection+`
maintenanceWindows:
  - name: Line 3 shutdown
    devices: [10.20.3.0/24]
    start: "2026-11-20T08:00:00+01:00"
    end: "2026-11-20T10:00:00+01:00"
`)
		inc := testIncident()
		inc.Impact = impactCases[1].impact
		res, err := h.run(inc)
		require.NoError(t, err)
		require.Equal(t, OutcomePlanned, res.Outcome)
		require.Len(t, h.comments, 1)
		require.Contains(t, h.comments[0], "No email sent.<br>"+impactCases[1].want[0])
	})
}

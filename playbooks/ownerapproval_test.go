package playbooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

const (
	owner1 = "owner1@rotterdam.example.com"
	owner2 = "owner2@rotterdam.example.com"
)

// ownerHarness runs IoTOwnerApproval or CVEAutoWorkflow with mocked activities and records every
// email, comment, update and timer.
type ownerHarness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	name string

	mailErr func(req activities.OwnerNotification) error
	cves    func(req activities.CVERequest) (activities.CVEResult, error)
	// dirOwners are the asset directory's owners by device name; dirErr fails its lookup.
	dirOwners map[string][]string
	dirErr    error
	dirAsked  []string

	mu       sync.Mutex
	mails    []activities.OwnerNotification
	purposes []string
	comments []string
	updates  []activities.UpdateRequest
	timers   []time.Duration
	lookups  int
}

func newOwnerHarness(t *testing.T, name string, wf any) *ownerHarness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	h := &ownerHarness{t: t, env: suite.NewTestWorkflowEnvironment(), name: name}
	registerActivityTypes(h.env)
	env := h.env
	env.SetStartTime(testStart)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: name + "/inc-1", TaskQueue: workflows.TaskQueue})
	env.SetOnTimerScheduledListener(func(_ string, d time.Duration) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.timers = append(h.timers, d)
	})
	onActivity(env, activities.SendOwnerNotification).Return(
		func(_ context.Context, req activities.OwnerNotification) (activities.NotificationResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.mailErr != nil {
				if err := h.mailErr(req); err != nil {
					return activities.NotificationResult{}, err
				}
			}
			h.mails = append(h.mails, req)
			return activities.NotificationResult{
				MessageID: fmt.Sprintf("<%s.%d@interlock>", req.Device.Name, req.Round), Recipients: emailsOf(req.Recipients), SentAt: testStart,
			}, nil
		})
	onActivity(env, activities.FindDeviceCVEs).Return(
		func(_ context.Context, req activities.CVERequest) (activities.CVEResult, error) {
			h.mu.Lock()
			h.lookups++
			h.mu.Unlock()
			if h.cves == nil {
				return activities.CVEResult{}, nil
			}
			return h.cves(req)
		})
	onActivity(env, activities.DeviceOwners).Return(
		func(_ context.Context, req activities.DeviceOwnersRequest) (activities.DeviceOwnersResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.dirErr != nil {
				return activities.DeviceOwnersResult{}, h.dirErr
			}
			var res activities.DeviceOwnersResult
			for _, d := range req.Devices {
				h.dirAsked = append(h.dirAsked, d.Name)
				res.Owners = append(res.Owners, h.dirOwners[d.Name])
			}
			return res, nil
		})
	onActivity(env, activities.AddIncidentComment).Return(
		func(_ context.Context, req activities.CommentRequest) (activities.WriteResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			require.Equal(t, "inc-1", req.IncidentID)
			require.NotContains(t, h.purposes, req.Purpose, "every comment has its own purpose")
			h.purposes = append(h.purposes, req.Purpose)
			h.comments = append(h.comments, req.Message)
			return activities.WriteResult{Via: "test"}, nil
		})
	onActivity(env, activities.UpdateIncident).Return(
		func(_ context.Context, req activities.UpdateRequest) (activities.WriteResult, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.updates = append(h.updates, req)
			return activities.WriteResult{Via: "test"}, nil
		})
	env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: name})
	return h
}

func newOwnerApprovalHarness(t *testing.T, edit func(*config.OwnerApproval)) *ownerHarness {
	t.Helper()
	cfg := config.Default().Playbooks.OwnerApproval
	cfg.SOCMailbox = soc
	if edit != nil {
		edit(&cfg)
	}
	return newOwnerHarness(t, OwnerApprovalName, NewOwnerApproval(cfg).Run)
}

// execute runs the workflow and decodes its result into res; it returns the workflow's error.
func (h *ownerHarness) execute(inc incident.Incident, res any) error {
	h.t.Helper()
	h.env.ExecuteWorkflow(h.name, inc)
	require.True(h.t, h.env.IsWorkflowCompleted())
	if err := h.env.GetWorkflowError(); err != nil {
		return err
	}
	require.NoError(h.t, h.env.GetWorkflowResult(res))
	return nil
}

func (h *ownerHarness) answerAt(d time.Duration, ans workflows.Answer) *updateOutcome {
	out := &updateOutcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(workflows.AnswerName, "u-"+ans.Decision, &testsuite.TestUpdateCallback{
			OnAccept: func() { out.accepted = true },
			OnReject: func(err error) { out.rejected = err },
			OnComplete: func(v any, err error) {
				if a, ok := v.(workflows.Answer); ok {
					out.result = a
				}
			},
		}, ans)
	}, d)
	return out
}

// mailTo lists the recipients of each email about device in round.
func (h *ownerHarness) mailTo(device string, round int) [][]string {
	var out [][]string
	for _, m := range h.mails {
		if m.Device.Name == device && m.Round == round {
			out = append(out, emailsOf(m.Recipients))
		}
	}
	return out
}

// ownerIncident has three IoT devices: two with owners (one of them also with hostile junk owners), and
// one without.
func ownerIncident() incident.Incident {
	return incident.Incident{
		ID: "inc-1", ARMID: "/subscriptions/x/incidents/inc-1", Number: 4320,
		Title: "(MDIoT) Unauthorized HTTP user agent", Description: "An <unauthorized> user agent", Severity: incident.SeverityMedium,
		URL: "https://portal.azure.com/#incident/inc-1",
		Devices: []incident.Device{
			{ID: "dev-20", Name: "HMI-L3-01", IP: "10.20.3.20", Type: "HMI", Site: "Rotterdam Plant", Zone: "Packaging Line 3",
				Owners: []string{owner1, "Mallory <m@evil.example>", "x@evil.example\r\nBcc: y@evil.example", "not an email", " " + owner1 + " "}},
			{ID: "dev-21", Name: "HIST-01", IP: "10.20.3.21", Owners: []string{owner2}},
			{ID: "dev-22", Name: "SWITCH-3", IP: "10.20.3.1"},
		},
	}
}

func TestOwnerApprovalAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ans     workflows.Answer
		signal  bool
		outcome string
		update  activities.UpdateRequest
		comment []string
	}{
		{
			name: "expected closes as a false positive", ans: workflows.Answer{Decision: "expected", By: owner1, Via: "email-link"},
			outcome: OutcomeExpected,
			update: activities.UpdateRequest{Status: incident.StatusClosed, Classification: "FalsePositive", ClassificationReason: "InaccurateData",
				ClassificationComment: ownerResolvedReason, AddTags: []string{"AutoResolved"}},
			comment: []string{"Yes, this is expected. Submitted by " + owner1, "auto resolved as FalsePositive (InaccurateData)"},
		},
		{
			name: "not expected escalates and assigns the responder", ans: workflows.Answer{Decision: " Not_Expected ", By: owner2, Via: "email-link", Comment: "<b>not us</b>"},
			outcome: OutcomeNotExpected,
			update: activities.UpdateRequest{Severity: incident.SeverityHigh, Status: incident.StatusActive,
				AddTags: []string{"True Positive - confirmed by user"}, Owner: &activities.Owner{Email: owner2}},
			comment: []string{owner2 + " confirmed that this is a true positive", "assigned to " + owner2, "&lt;b&gt;not us&lt;/b&gt;"},
		},
		{
			name: "not expected by signal from a name: not assigned", ans: workflows.Answer{Decision: "not_expected", By: "shift lead"}, signal: true,
			outcome: OutcomeNotExpected,
			update: activities.UpdateRequest{Severity: incident.SeverityHigh, Status: incident.StatusActive,
				AddTags: []string{"True Positive - confirmed by user"}},
			comment: []string{"shift lead confirmed", "via temporal-ui"},
		},
		{
			name: "a group answer closes, naming no one", ans: workflows.Answer{Decision: "expected", By: activities.GroupRecipient, Via: "email-link"},
			outcome: OutcomeExpected,
			update: activities.UpdateRequest{Status: incident.StatusClosed, Classification: "FalsePositive", ClassificationReason: "InaccurateData",
				ClassificationComment: ownerResolvedReason, AddTags: []string{"AutoResolved"}},
			comment: []string{"Submitted by A recipient of the email"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newOwnerApprovalHarness(t, nil)
			if tt.signal {
				h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.AnswerName, tt.ans) }, time.Hour)
			} else {
				h.answerAt(time.Hour, tt.ans)
			}
			var res OwnerApprovalResult
			require.NoError(t, h.execute(ownerIncident(), &res))
			require.Equal(t, tt.outcome, res.Outcome)
			require.Equal(t, []string{"HMI-L3-01", "HIST-01"}, res.Devices)
			require.Len(t, h.mails, 2, "one email per device with an owner")
			require.Equal(t, [][]string{{owner1}}, h.mailTo("HMI-L3-01", 0), "hostile owners are never mailed")
			require.Equal(t, [][]string{{owner2}}, h.mailTo("HIST-01", 0))
			require.Equal(t, OwnerApprovalName+"/inc-1", h.mails[0].WorkflowID)
			require.Empty(t, h.mails[0].CVEs)
			require.Equal(t, []time.Duration{24 * time.Hour}, h.timers)
			tt.update.IncidentID, tt.update.IncidentARMID, tt.update.Number = "inc-1", "/subscriptions/x/incidents/inc-1", 4320
			require.Equal(t, []activities.UpdateRequest{tt.update}, h.updates)
			require.Equal(t, []string{"notice/0", "answer"}, h.purposes)
			for _, want := range tt.comment {
				require.Contains(t, h.comments[1], want)
			}
			require.Equal(t, h.comments, res.Comments)
			require.NotNil(t, res.Answer)
		})
	}
}

// Nobody answers: one reminder, copied to the SOC, then a comment; the incident is not closed.
func TestOwnerApprovalNoAnswer(t *testing.T) {
	t.Parallel()
	h := newOwnerApprovalHarness(t, nil)
	var res OwnerApprovalResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.Equal(t, OutcomeNoAnswer, res.Outcome)
	require.Equal(t, 1, res.Reminders)
	require.Len(t, h.mails, 4)
	require.Equal(t, [][]string{{owner1, soc}}, h.mailTo("HMI-L3-01", 1), "the reminder copies the SOC")
	require.Equal(t, [][]string{{owner2, soc}}, h.mailTo("HIST-01", 1))
	require.Equal(t, []time.Duration{24 * time.Hour, 24 * time.Hour}, h.timers)
	require.Empty(t, h.updates, "never closed without an answer")
	require.Equal(t, []string{"notice/0", "notice/1", "no-answer"}, h.purposes)
	require.Contains(t, h.comments[2], "stays open for the SOC")
}

// An answer with a decision of the other question is refused, and a second answer too.
func TestOwnerApprovalRefusesBadAnswers(t *testing.T) {
	t.Parallel()
	h := newOwnerApprovalHarness(t, func(c *config.OwnerApproval) { c.ReminderRounds = 0 })
	bad := h.answerAt(time.Minute, workflows.Answer{Decision: "planned", By: "mallory"})
	first := h.answerAt(2*time.Minute, workflows.Answer{Decision: "not_expected", By: owner1})
	var res OwnerApprovalResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.ErrorContains(t, bad.rejected, `decision must be "expected" or "not_expected", not "planned"`)
	require.True(t, first.accepted)
	require.Equal(t, OutcomeNotExpected, res.Outcome)
}

func TestOwnerApprovalNotApplicable(t *testing.T) {
	t.Parallel()
	noOwners := ownerIncident()
	noOwners.Devices = noOwners.Devices[2:]
	noOwners.Devices[0].Owners = []string{"Mallory <m@evil.example>", "ops@"}
	noDevices := ownerIncident()
	noDevices.Devices = nil
	for name, inc := range map[string]incident.Incident{"no owners": noOwners, "no devices": noDevices} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newOwnerApprovalHarness(t, nil)
			var res OwnerApprovalResult
			require.NoError(t, h.execute(inc, &res))
			require.Equal(t, OutcomeNotApplicable, res.Outcome)
			require.NotEmpty(t, res.Reason)
			require.Empty(t, h.mails)
			require.Empty(t, h.comments, "nothing to say, nothing written")
			require.Empty(t, h.timers)
		})
	}
}

// Every email fails for good: a comment hands the incident to the SOC and the run fails; one failing
// of two is noted and the run waits for the other.
func TestOwnerApprovalMailFailures(t *testing.T) {
	t.Parallel()
	rejected := temporal.NewNonRetryableApplicationError("SMTP server rejected the notification", activities.FailureSMTPRejected, errors.New("550 no such user"))

	h := newOwnerApprovalHarness(t, nil)
	h.mailErr = func(activities.OwnerNotification) error { return rejected }
	err := h.execute(ownerIncident(), &OwnerApprovalResult{})
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, FailureNotificationFailed, ae.Type())
	require.Equal(t, []string{"handoff"}, h.purposes)
	require.Contains(t, h.comments[0], "550 no such user")

	h = newOwnerApprovalHarness(t, func(c *config.OwnerApproval) { c.ReminderRounds = 0 })
	h.mailErr = func(req activities.OwnerNotification) error {
		if req.Device.Name == "HIST-01" {
			return rejected
		}
		return nil
	}
	var res OwnerApprovalResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.Equal(t, OutcomeNoAnswer, res.Outcome)
	require.Len(t, res.Failed, 1)
	require.Contains(t, h.comments[0], "Not delivered: HIST-01")
}

func TestOwnerApprovalNeedsAnIncidentID(t *testing.T) {
	t.Parallel()
	h := newOwnerApprovalHarness(t, nil)
	inc := ownerIncident()
	inc.ID = " "
	err := h.execute(inc, &OwnerApprovalResult{})
	require.ErrorContains(t, err, "id: missing", "the incident decoder refuses it before the run starts")
	require.Empty(t, h.mails)
}

func TestIsBareEmail(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		owner1: true, "a.b+c@x-y.example": true,
		"": false, "a@b": false, "@x.example": false, "a@.example": false, "a@x.example.": false, "a..b@x.example": false,
		"A <a@x.example>": false, "a@x.example\r\nBcc: b@x.example": false, "a b@x.example": false, "a@b@x.example": false,
	} {
		require.Equal(t, want, isBareEmail(s), s)
	}
}

// The status query says when the run waits, and for which round.
func TestOwnerApprovalStatusQuery(t *testing.T) {
	t.Parallel()
	h := newOwnerApprovalHarness(t, nil)
	var during OwnerStatus
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(PLCStatusQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&during))
	}, time.Hour)
	h.answerAt(2*time.Hour, workflows.Answer{Decision: "expected", By: owner1})
	var res OwnerApprovalResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.Equal(t, "waiting", during.Phase)
	require.Zero(t, during.Round)
	require.Equal(t, testStart.Add(24*time.Hour), during.Deadline)
	v, err := h.env.QueryWorkflow(PLCStatusQuery)
	require.NoError(t, err)
	var after OwnerStatus
	require.NoError(t, v.Get(&after))
	require.Equal(t, "done", after.Phase)
	require.Equal(t, OutcomeExpected, after.Outcome)
}

// A device the alert names no owner for is looked up in the asset directory; a failed lookup leaves
// the alert's owners; with every device owned there is no lookup.
func TestOwnerApprovalDirectoryOwners(t *testing.T) {
	t.Parallel()
	const dirOwner = "ot-line3@rotterdam.example.com"
	tests := []struct {
		name    string
		inc     func() incident.Incident
		dir     map[string][]string
		dirErr  error
		devices []string
		asked   []string
	}{
		{"directory owner asked", ownerIncident, map[string][]string{"SWITCH-3": {dirOwner}}, nil,
			[]string{"HMI-L3-01", "HIST-01", "SWITCH-3"}, []string{"SWITCH-3"}},
		{"lookup fails", ownerIncident, nil, errors.New("boom"), []string{"HMI-L3-01", "HIST-01"}, nil},
		{"all owned: no lookup", func() incident.Incident {
			inc := ownerIncident()
			inc.Devices = inc.Devices[:2]
			return inc
		}, nil, nil, []string{"HMI-L3-01", "HIST-01"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newOwnerApprovalHarness(t, func(c *config.OwnerApproval) { c.ReminderRounds = 0 })
			h.dirOwners, h.dirErr = tt.dir, temporal.NewNonRetryableApplicationError("x", "x", tt.dirErr)
			if tt.dirErr == nil {
				h.dirErr = nil
			}
			h.answerAt(time.Hour, workflows.Answer{Decision: "not_expected", By: dirOwner})
			var res OwnerApprovalResult
			require.NoError(t, h.execute(tt.inc(), &res))
			require.Equal(t, tt.devices, res.Devices)
			if tt.dirErr == nil {
				require.Equal(t, tt.asked, h.dirAsked)
			}
			if len(tt.dir) > 0 {
				require.Equal(t, [][]string{{dirOwner}}, h.mailTo("SWITCH-3", 0))
			}
		})
	}
}

// Reminders that all fail are commented as such; the run still waits and ends without an answer.
func TestOwnerApprovalReminderUndelivered(t *testing.T) {
	t.Parallel()
	h := newOwnerApprovalHarness(t, nil)
	h.mailErr = func(req activities.OwnerNotification) error {
		if req.Round > 0 {
			return temporal.NewNonRetryableApplicationError("SMTP server rejected the notification", activities.FailureSMTPRejected, errors.New("552 mailbox full"))
		}
		return nil
	}
	var res OwnerApprovalResult
	require.NoError(t, h.execute(ownerIncident(), &res))
	require.Equal(t, OutcomeNoAnswer, res.Outcome)
	require.Equal(t, []string{"notice/0", "notice/1", "no-answer"}, h.purposes)
	require.Contains(t, h.comments[1], "could not be delivered")
	require.Contains(t, h.comments[1], "552 mailbox full")
	require.Len(t, res.Failed, 2)
}

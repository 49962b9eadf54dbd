package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// End-to-end runs of the parity playbooks (AutoTriageIncident, AutoCloseIncidents,
// MailByProductionLine) on the shared stack, started through the intake's run endpoint (their default
// rules are off), with the fixture of an incident over two production lines: PascalCase and camelCase
// entities, nulls, an entity without additionalData, an unknown laptop with markup in its name.

const linesFixtureID = "6e5d4c3b-2a19-4f8e-8d7c-6b5a49382716"

// parityWindow is Line 1's night maintenance in the plant's time zone: the fixture's alert at 21:30 UTC
// is 22:30 in Rotterdam, inside it (and outside it in UTC).
var parityWindow = config.MaintenanceWindow{Name: "Line 1 night shutdown", Zone: "Filling Line 1", From: "22:00", To: "02:00", Timezone: "Europe/Amsterdam"}

func withParityWindow(cfg *config.Config) {
	pc := &cfg.Playbooks.PLCReprogramming
	pc.MaintenanceWindows = append(pc.MaintenanceWindows, parityWindow)
}

// linesFixture is testdata/sentinel-incident-excessive-logins-lines.json made unique to tag: incident
// "lines-<tag>", its own event ID, and the tag in the title (so each test's emails have their own subject).
func linesFixture(t *testing.T, tag string, edit func(doc map[string]any)) []byte {
	t.Helper()
	body := strings.NewReplacer(
		linesFixtureID, "lines-"+tag,
		"e2b1f7c4-4420-4d0e-8f3a-1b2c3d4e5f60", "ev-"+tag,
		"Excessive Login Attempts", "Excessive Login Attempts "+tag,
	).Replace(string(testenv.Fixture(t, "sentinel-incident-excessive-logins-lines.json", tag)))
	if edit == nil {
		return []byte(body)
	}
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	edit(doc)
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

func incidentProps(doc map[string]any) map[string]any {
	return doc["object"].(map[string]any)["properties"].(map[string]any)
}

// keepEntities leaves only the related entities whose name is listed.
func keepEntities(names ...string) func(map[string]any) {
	return func(doc map[string]any) {
		props := incidentProps(doc)
		var kept []any
		for _, e := range props["relatedEntities"].([]any) {
			for _, n := range names {
				if e.(map[string]any)["name"] == n {
					kept = append(kept, e)
				}
			}
		}
		props["relatedEntities"] = kept
	}
}

// postRun starts one playbook through POST /v1/playbooks/{name}/runs and returns its workflow ID.
func (h *harness) postRun(t *testing.T, name string, body []byte) (int, intakeAnswer) {
	t.Helper()
	resp, err := http.Post(h.intakeURL+"/v1/playbooks/"+name+"/runs", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var a intakeAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	return resp.StatusCode, a
}

// byHand starts a playbook as the Temporal UI does, under its own workflow ID, and waits for its result.
func (h *harness) byHand(ctx context.Context, t *testing.T, name, id string, body []byte, out any) {
	t.Helper()
	run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, name, json.RawMessage(body))
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, out))
}

func TestAutoTriageOnSentinel(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := linesFixture(t, "tri1", nil)
	code, a := h.postRun(t, playbooks.AutoTriageName, body)
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, playbooks.AutoTriageName+"/lines-tri1/ev-tri1", a.Runs[0].WorkflowID, "one run per event")
	var res playbooks.AutoTriageResult
	waitRun(ctx, t, h, a.Runs[0].WorkflowID, &res)
	require.Equal(t, []playbooks.TriagedDevice{
		{Device: "HMI-L1-01 (10.20.1.20)", Why: []string{"importance High"}},
		{Device: "PLC-L1-01 (10.20.1.10)", Why: []string{"importance High"}}, // criticality high in the directory
	}, res.Devices)
	require.Empty(t, res.CommentError)
	require.Empty(t, res.UpdateError)

	arm := incidentARMID("lines-tri1")
	inc, ok := h.azure.Stub.Incident(arm)
	require.True(t, ok)
	require.Equal(t, "High", inc.Properties.Severity)
	require.Equal(t, "Active", inc.Properties.Status)
	require.Equal(t, []azurestandin.Label{{LabelName: "High Importance Device Auto Update", LabelType: "User"}}, inc.Properties.Labels)
	require.Len(t, inc.Comments, 1)
	requireReadableComments(t, inc)
	require.Contains(t, inc.Comments[0].Message, "HMI-L1-01")

	// The same delivery again is recognised; the update Sentinel sends after the write-back finds
	// nothing to do and writes nothing.
	code, again := h.postRun(t, playbooks.AutoTriageName, body)
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "deduplicated", again.Runs[0].Status)
	updated := linesFixture(t, "tri1", func(doc map[string]any) {
		doc["eventUniqueId"], doc["objectEventType"] = "ev-tri1-update", "Update"
		p := incidentProps(doc)
		p["severity"], p["status"] = "High", "Active"
		p["labels"] = []any{map[string]any{"labelName": "High Importance Device Auto Update", "labelType": "User"}}
	})
	_, up := h.postRun(t, playbooks.AutoTriageName, updated)
	var upRes playbooks.AutoTriageResult
	waitRun(ctx, t, h, up.Runs[0].WorkflowID, &upRes)
	require.Equal(t, "already triaged: severity High, status Active, tagged High Importance Device Auto Update", upRes.Reason)
	inc, _ = h.azure.Stub.Incident(arm)
	require.Len(t, inc.Comments, 1)
	require.Equal(t, 1, inc.Comments[0].Writes, "nothing written again")

	// An analyst closes it; a run started by hand from the stale payload neither reopens it nor adds
	// a comment (the one it writes has the same ID).
	h.azure.Stub.EditIncident(arm, func(p *azurestandin.IncidentProperties) {
		p.Status, p.Classification, p.ClassificationReason = "Closed", "TruePositive", "SuspiciousActivity"
	})
	var stale playbooks.AutoTriageResult
	h.byHand(ctx, t, playbooks.AutoTriageName, "manual-triage-tri1", body, &stale)
	require.Empty(t, stale.Changes)
	inc, _ = h.azure.Stub.Incident(arm)
	require.Equal(t, "Closed", inc.Properties.Status, "never reopened")
	require.Len(t, inc.Comments, 1)
	requireReplays(ctx, t, h, a.Runs[0].WorkflowID)
}

func TestAutoCloseOnSentinel(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	line1 := keepEntities("iot-3120", "iot-3110", "ip-10-20-1-10")
	cases := []struct {
		tag    string
		edit   func(map[string]any)
		closed bool
		reason string
	}{
		{"cls1", line1, true, ""},
		{"cls2", nil, false, "not closed: 2 of 4 devices are outside every planned maintenance window or change"},
		{"cls3", func(doc map[string]any) {
			line1(doc)
			incidentProps(doc)["severity"] = "High"
			// The PLC is the line's safety PLC instead.
			for _, e := range incidentProps(doc)["relatedEntities"].([]any) {
				if p := e.(map[string]any)["properties"].(map[string]any); p["deviceName"] == "PLC-L1-01" {
					p["deviceName"], p["ipAddressEntityId"], p["ipAddress"] = "SIS-L1-01", nil, "10.20.1.11"
				}
			}
		}, false, "not closed: SIS-L1-01 (10.20.1.11) is a safety-relevant asset (severity High): never closed automatically"},
	}
	for _, tc := range cases {
		t.Run(tc.tag, func(t *testing.T) {
			code, a := h.postRun(t, playbooks.AutoCloseName, linesFixture(t, tc.tag, tc.edit))
			require.Equal(t, http.StatusAccepted, code)
			var res playbooks.AutoCloseResult
			waitRun(ctx, t, h, a.Runs[0].WorkflowID, &res)
			require.Equal(t, tc.closed, res.Closed)
			require.Equal(t, tc.reason, res.Reason)
			inc, ok := h.azure.Stub.Incident(incidentARMID("lines-" + tc.tag))
			require.True(t, ok)
			if !tc.closed {
				require.Equal(t, "New", inc.Properties.Status)
				require.Empty(t, inc.Comments)
				return
			}
			require.Equal(t, "Closed", inc.Properties.Status)
			require.Equal(t, []string{"BenignPositive", "SuspiciousButExpected"}, []string{inc.Properties.Classification, inc.Properties.ClassificationReason})
			require.Contains(t, inc.Properties.ClassificationComment, "Line 1 night shutdown")
			require.Len(t, inc.Comments, 1)
			requireReadableComments(t, inc)
			require.Contains(t, inc.Comments[0].Message, "Line 1 night shutdown")
			require.Contains(t, inc.Comments[0].Message, "Europe/Amsterdam")
			requireReplays(ctx, t, h, a.Runs[0].WorkflowID)
		})
	}
}

func TestMailByLineOnMailpit(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := linesFixture(t, "mail1", nil)
	code, a := h.postRun(t, playbooks.MailByLineName, body)
	require.Equal(t, http.StatusAccepted, code)
	var res playbooks.MailByLineResult
	waitRun(ctx, t, h, a.Runs[0].WorkflowID, &res)
	require.Len(t, res.Mailed, 2)
	require.Equal(t, []string{"LAPTOP-VISITOR-<b>7</b> (192.168.50.7)"}, res.WithoutLine)
	want := map[string][]string{
		"Line 1 filling":   {"ot-line1@rotterdam.example.com", "HMI-L1-01 (10.20.1.20)", "PLC-L1-01 (10.20.1.10)"},
		"Line 3 packaging": {"ot-line3@rotterdam.example.com", "HMI-L3-01"}, // named by MAC only: the directory gives the name,
	}
	for _, m := range res.Mailed {
		w := want[m.Line]
		require.NotNil(t, w, m.Line)
		require.Equal(t, []string{w[0]}, m.Recipients)
		require.Equal(t, w[1:], m.Devices)
		msg := h.email(ctx, t, "Excessive Login Attempts mail1 detected on "+m.Line)
		require.Equal(t, strings.Trim(m.MessageID, "<>"), msg.MessageID)
		require.Len(t, msg.To, 1)
		require.Equal(t, w[0], msg.To[0].Address)
		require.Empty(t, msg.Cc)
		require.Empty(t, msg.Bcc)
		for _, d := range w[1:] {
			require.Contains(t, msg.Text, d)
		}
		require.NotContains(t, msg.HTML, "<b>and</b>", "the alert's markup arrives escaped")
		require.Contains(t, msg.HTML, "&lt;b&gt;and&lt;/b&gt;")
	}

	// A second run for the incident sends the same messages, Message-IDs included.
	var again playbooks.MailByLineResult
	h.byHand(ctx, t, playbooks.MailByLineName, "manual-mail-mail1", body, &again)
	require.Len(t, again.Mailed, 2)
	for i := range res.Mailed {
		require.Equal(t, res.Mailed[i].MessageID, again.Mailed[i].MessageID)
	}
	requireReplays(ctx, t, h, a.Runs[0].WorkflowID)
}

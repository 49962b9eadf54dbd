package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

const (
	hmiOwner  = "hmi-owner@rotterdam.example.com"
	histOwner = "hist-owner@rotterdam.example.com"
)

var (
	expectedLink    = regexp.MustCompile(`Yes, this is expected:\s+(\S+)`)
	notExpectedLink = regexp.MustCompile(`No, this is NOT expected:\s+(\S+)`)
)

// ownerFixture is testdata/sentinel-incident-iot-owner.json for its own incident (oa-<tag>) and number:
// four IoT devices: one camelCase with additionalData, one PascalCase without it (and a hostile
// owner), one with additionalData null and no owner anywhere, and one whose owner only the asset
// directory (testdata/assets.yaml) knows.
func ownerFixture(t *testing.T, tag, number string) []byte {
	t.Helper()
	return []byte(strings.NewReplacer(
		"5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "oa-"+tag,
		"e2b1f7c4-4401-4d0e-8f3a-1b2c3d4e5f60", "ev-oa-"+tag,
		`"incidentNumber": 4401`, `"incidentNumber": `+number,
	).Replace(string(testenv.Fixture(t, "sentinel-incident-iot-owner.json", tag))))
}

// ownerEmail waits for the email to addr whose subject contains subject.
func (h *harness) ownerEmail(ctx context.Context, t *testing.T, addr, subject string) testenv.Message {
	t.Helper()
	var id string
	require.Eventually(t, func() bool {
		msgs, err := h.mail.Messages(ctx)
		require.NoError(t, err)
		for _, m := range msgs {
			if strings.Contains(m.Subject, subject) && len(m.To) == 1 && m.To[0].Address == addr {
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

// startPlaybook posts body to the intake's run route for one playbook, as an outside automation rule
// would (the default rules leave both owner playbooks off), and returns the run.
func (h *harness) startPlaybook(t *testing.T, name string, body []byte) string {
	t.Helper()
	resp, err := http.Post(h.intakeURL+"/v1/playbooks/"+name+"/runs", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var a intakeAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Len(t, a.Runs, 1)
	require.Equal(t, name, a.Runs[0].Playbook)
	return a.Runs[0].WorkflowID
}

// click follows an answer link as a browser does: the confirmation page, then its form.
func click(t *testing.T, link string) string {
	t.Helper()
	resp, err := http.Get(link)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(link, "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(page)
}

// TestOwnerApprovalByEmail: IoTOwnerApproval started through the intake for the fixture (the default
// rules would not: its rule is opt-in, and the fixture shows it off); each device owner gets one email; a click on "not expected" (or "expected") writes the outcome back to the incident.
func TestOwnerApprovalByEmail(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		tag, number string
		expected    bool
	}{
		{"no", "4402", false},
		{"yes", "4403", true},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			body := ownerFixture(t, tt.tag, tt.number)
			code, a := h.post(t, body)
			require.Equal(t, http.StatusOK, code, "the default rules start nothing for it")
			require.Empty(t, a.Runs)
			wid := h.startPlaybook(t, playbooks.OwnerApprovalName, body)

			subject := "Validate an incident where you are the device owner — incident " + tt.number
			hmi := h.ownerEmail(ctx, t, hmiOwner, subject)
			hist := h.ownerEmail(ctx, t, histOwner, subject)
			require.NotContains(t, hmi.HTML, "<script>x</script>", "the incident description arrives inert")
			require.Contains(t, hmi.Text, "HMI-OA-1")
			require.Contains(t, hist.Text, "HIST-OA-2")
			link := notExpectedLink.FindStringSubmatch(hist.Text)
			if tt.expected {
				link = expectedLink.FindStringSubmatch(hist.Text)
			}
			require.Len(t, link, 2)
			page := click(t, link[1])
			require.Contains(t, page, "device <strong>HIST-OA-2</strong>")

			var res playbooks.OwnerApprovalResult
			require.NoError(t, h.client.GetWorkflow(ctx, wid, "").Get(ctx, &res))
			require.Equal(t, []string{"HMI-OA-1", "HIST-OA-2", "RIO-L3-01"}, res.Devices)
			require.Len(t, res.Notifications, 3, "one email per device with an owner; the hostile owner is not mailed")
			rio := h.ownerEmail(ctx, t, "ot-line3@rotterdam.example.com", subject)
			require.Contains(t, rio.Text, "RIO-L3-01", "the asset directory's owner of RIO-L3-01")
			require.Equal(t, histOwner, res.Answer.By)
			require.Equal(t, "email-link", res.Answer.Via)

			inc, ok := h.azure.Stub.Incident(incidentARMID("oa-" + tt.tag))
			require.True(t, ok)
			require.Len(t, inc.Comments, 2, "the question, then the answer")
			requireReadableComments(t, inc)
			p := inc.Properties
			if tt.expected {
				require.Equal(t, playbooks.OutcomeExpected, res.Outcome)
				require.Equal(t, "Closed", p.Status)
				require.Equal(t, "FalsePositive", p.Classification)
				require.Equal(t, "InaccurateData", p.ClassificationReason)
				require.Equal(t, []azurestandin.Label{{LabelName: "AutoResolved", LabelType: "User"}}, p.Labels)
			} else {
				require.Equal(t, playbooks.OutcomeNotExpected, res.Outcome)
				require.Equal(t, "High", p.Severity)
				require.Equal(t, "Active", p.Status)
				require.Equal(t, histOwner, p.Owner.Email)
				require.Equal(t, []azurestandin.Label{{LabelName: "True Positive - confirmed by user", LabelType: "User"}}, p.Labels)
			}
			requireReplays(ctx, t, h, wid)
		})
	}
}

// TestCVEAutoWorkflowByHand starts CVEAutoWorkflow as the Temporal UI does (its default rule is off):
// the feed's CVEs are commented once each, the critical one raises the severity, tags, and asks the
// owner, whose "expected" is recorded without closing the incident.
func TestCVEAutoWorkflowByHand(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	body := ownerFixture(t, "cve", "4404")
	ev, err := incident.Parse(body)
	require.NoError(t, err)
	require.Len(t, ev.Incident.Devices, 4)
	h.azure.Stub.Mirror(ev, []string{"management.azure.com"}) // the incident exists in "Sentinel"
	run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: playbooks.CVEAutoWorkflowName + "/oa-cve", TaskQueue: workflows.TaskQueue,
	}, playbooks.CVEAutoWorkflowName, json.RawMessage(body))
	require.NoError(t, err)

	msg := h.ownerEmail(ctx, t, hmiOwner, "Validate an incident with critical CVE — incident 4404")
	require.Contains(t, msg.Text, "CVE-2024-38876")
	require.NotContains(t, msg.HTML, "<script>alert(1)</script>")
	link := expectedLink.FindStringSubmatch(msg.Text)
	require.Len(t, link, 2)
	click(t, link[1])

	var res playbooks.CVEAutoWorkflowResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, playbooks.OutcomeCriticalCVE, res.Outcome)
	require.Equal(t, playbooks.OutcomeExpected, res.OwnerOutcome)
	require.Len(t, res.Devices, 2, "HIST-OA-2 has no CVE in the feed")

	inc, ok := h.azure.Stub.Incident(incidentARMID("oa-cve"))
	require.True(t, ok)
	requireReadableComments(t, inc)
	var cves int
	for _, c := range inc.Comments {
		if strings.Contains(c.Message, "active CVE on a device") {
			cves++
			require.NotContains(t, c.Message, "<script>")
		}
	}
	require.Equal(t, 3, cves, "one comment per CVE")
	require.Equal(t, "High", inc.Properties.Severity)
	require.NotEqual(t, "Closed", inc.Properties.Status)
	require.Equal(t, []azurestandin.Label{{LabelName: "AutoTriageCVE", LabelType: "User"}}, inc.Properties.Labels)
	requireReplays(ctx, t, h, run.GetID())
}

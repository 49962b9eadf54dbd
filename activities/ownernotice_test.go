package activities_test

import (
	"mime"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/workflows"
)

func ownerNotice() activities.OwnerNotification {
	return activities.OwnerNotification{
		WorkflowID:          "IoTOwnerApproval/9d8c7b6a",
		IncidentID:          "9d8c7b6a",
		IncidentNumber:      4318,
		IncidentTitle:       "(MDIoT) Unauthorized HTTP user agent",
		IncidentDescription: "An unauthorized user agent was detected.",
		IncidentURL:         "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/x",
		Severity:            "Medium",
		Recipients:          []activities.Recipient{{Email: "owner@plant.example"}},
		Device:              activities.DeviceFacts{Name: "HMI-L3-01", IP: "10.20.3.20", Type: "HMI"},
		Site:                "Rotterdam Plant", Zone: "Packaging Line 3", Sensor: "sensor-rtm-l3",
		AnswerDeadline: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
	}
}

func (r *rig) sendOwner(t *testing.T, req activities.OwnerNotification) (activities.NotificationResult, error) {
	t.Helper()
	val, err := r.env.ExecuteActivity(r.n.SendOwnerNotification, req)
	if err != nil {
		return activities.NotificationResult{}, err
	}
	var res activities.NotificationResult
	require.NoError(t, val.Get(&res))
	return res, nil
}

func TestSendOwnerNotification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(*activities.OwnerNotification)
		subject string
		body    []string
	}{
		{"owner question", func(*activities.OwnerNotification) {},
			"Action required: Validate an incident where you are the device owner — incident 4318",
			[]string{"identified as the device owner", "HMI-L3-01", "An unauthorized user agent was detected."}},
		{"reminder", func(n *activities.OwnerNotification) { n.Round = 1 },
			"REMINDER 1: Action required: Validate an incident where you are the device owner — incident 4318",
			[]string{"This is reminder 1"}},
		{"critical CVE", func(n *activities.OwnerNotification) {
			n.CVEs = []activities.CVE{{ID: "CVE-2024-0001", CVSS: "9.8", Severity: "Critical", Description: "RCE <b>x</b>", Remediation: "Update to V3"}}
		}, "Action required: Validate an incident with critical CVE — incident 4318",
			[]string{"CVE-2024-0001", "CVSS 9.8", "Update to V3", "which has a critical CVE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			req := ownerNotice()
			tt.edit(&req)
			res, err := r.sendOwner(t, req)
			require.NoError(t, err)
			require.Equal(t, []string{"owner@plant.example"}, res.Recipients)
			msgs := r.smtp.Messages()
			require.Len(t, msgs, 1)
			got := parseReceived(t, msgs[0].Data)
			subject, err := new(mime.WordDecoder).DecodeHeader(got.header.Get("Subject"))
			require.NoError(t, err)
			require.Equal(t, tt.subject, subject)
			for _, want := range tt.body {
				require.Contains(t, got.text, want)
			}
			require.NotContains(t, got.html, "<b>x</b>")
			require.Regexp(t, `href="`+regexp.QuoteMeta(publicURL+answer.PathPrefix)+`[^"]+"[^>]*>Yes, this is expected</a>`, got.html)
			require.Regexp(t, `href="`+regexp.QuoteMeta(publicURL+answer.PathPrefix)+`[^"]+"[^>]*>No, this is NOT expected</a>`, got.html)
			var decisions []string
			for _, m := range answerLink.FindAllStringSubmatch(got.text, -1) {
				c, err := r.signer.Verify(m[1])
				require.NoError(t, err)
				require.Equal(t, req.WorkflowID, c.WorkflowID)
				require.Equal(t, "owner@plant.example", c.Recipient)
				require.Equal(t, "HMI-L3-01", c.PLC)
				require.Equal(t, req.Round, c.Round)
				decisions = append(decisions, c.Decision)
			}
			require.Equal(t, []string{workflows.DecisionExpected, workflows.DecisionNotExpected}, decisions)
		})
	}
}

// Hostile strings stay out of the headers and inert in the body; a retry sends the same Message-ID;
// a bad recipient is refused for good.
func TestSendOwnerNotificationHostileAndIdempotent(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	req := ownerNotice()
	req.Device.Name = "HMI\r\nBcc: evil@x.example<script>"
	req.IncidentTitle = "t\r\nBcc: evil2@x.example"
	req.IncidentURL = "javascript:alert(1)"
	a, err := r.sendOwner(t, req)
	require.NoError(t, err)
	b, err := r.sendOwner(t, req)
	require.NoError(t, err)
	require.Equal(t, a.MessageID, b.MessageID)
	msgs := r.smtp.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, []string{"owner@plant.example"}, msgs[0].To)
	got := parseReceived(t, msgs[0].Data)
	require.Empty(t, got.header.Get("Bcc"))
	require.NotContains(t, got.html, "<script")
	require.NotContains(t, got.html, `href="javascript`)

	req.Round = 1
	c, err := r.sendOwner(t, req)
	require.NoError(t, err)
	require.NotEqual(t, a.MessageID, c.MessageID, "another round is another email")

	req.Recipients = []activities.Recipient{{Email: "Owner <owner@plant.example>"}}
	_, err = r.sendOwner(t, req)
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, activities.FailureInvalidRequest, ae.Type())
}

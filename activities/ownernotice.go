package activities

import (
	"context"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/mail"
)

// CVE is one vulnerability of a device, as a vulnerability feed lists it.
type CVE struct {
	ID string `json:"id"`
	// CVSS is the CVSS base score as the feed gives it ("9.8"); empty when unknown.
	CVSS string `json:"cvss,omitempty"`
	// Severity is "Critical", "High", … as the feed gives it.
	Severity    string `json:"severity,omitempty"`
	Description string `json:"description,omitempty"`
	Remediation string `json:"remediation,omitempty"`
}

// OwnerNotification asks a device owner whether what an incident reports about their device was
// expected (Microsoft's AD4IoT-SendEmailtoIoTOwner); with CVEs it is the critical-CVE notice of
// AD4IoT-CVEAutoWorkflow, asking the same question.
type OwnerNotification struct {
	// WorkflowID is the waiting playbook run the answer links point at.
	WorkflowID          string `json:"workflowId"`
	IncidentID          string `json:"incidentId"`
	IncidentNumber      int64  `json:"incidentNumber,omitempty"`
	IncidentTitle       string `json:"incidentTitle,omitempty"`
	IncidentDescription string `json:"incidentDescription,omitempty"`
	IncidentURL         string `json:"incidentUrl,omitempty"`
	Severity            string `json:"severity,omitempty"`
	// Round is 0 for the first notice and n for the n-th reminder.
	Round      int         `json:"round"`
	Recipients []Recipient `json:"recipients"`
	Device     DeviceFacts `json:"device"`
	Site       string      `json:"site,omitempty"`
	Zone       string      `json:"zone,omitempty"`
	Sensor     string      `json:"sensor,omitempty"`
	// CVEs are the device's critical CVEs; empty for a plain owner question.
	CVEs []CVE `json:"cves,omitempty"`
	// AnswerDeadline is when the run reminds or gives up if nobody answers (shown in the email).
	AnswerDeadline time.Time `json:"answerDeadline,omitzero"`
}

// SendOwnerNotification emails one device owner question with signed one-click links to answer
// "expected" or "not expected". Like SendPLCNotification, the links are made here (tokens never enter
// history) and the Message-ID is derived from the run, incident, device, round and recipients, so a
// retried attempt sends the same Message-ID.
func (n *Notifier) SendOwnerNotification(ctx context.Context, req OwnerNotification) (NotificationResult, error) {
	rcpts, err := notificationRecipients(req.WorkflowID, req.Round, req.Recipients)
	if err != nil {
		return NotificationResult{}, temporal.NewNonRetryableApplicationError(err.Error(), FailureInvalidRequest, nil)
	}
	recipient := GroupRecipient
	if len(rcpts) == 1 {
		recipient = rcpts[0].Address
	}
	links, err := n.Links.AnswerLinks(AnswerLinkRequest{
		WorkflowID: req.WorkflowID, IncidentID: req.IncidentID, IncidentNumber: req.IncidentNumber,
		PLC: plcName(req.Device), Recipient: recipient, Round: req.Round, Question: QuestionExpected,
	})
	if err != nil {
		return NotificationResult{}, temporal.NewNonRetryableApplicationError("make answer links", FailureInvalidRequest, err)
	}
	addrs := make([]string, len(rcpts))
	to := make([]string, len(rcpts))
	for i, r := range rcpts {
		addrs[i], to[i] = r.Address, r.String()
	}
	var runID string
	if activity.IsActivity(ctx) {
		runID = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	kind := "owner"
	if len(req.CVEs) > 0 {
		kind = "cve"
	}
	msgID := messageID(kind, req.WorkflowID, runID, req.IncidentID, strconv.FormatInt(req.IncidentNumber, 10),
		req.Device.Name, req.Device.IP, strconv.Itoa(req.Round), sortedLower(addrs))
	subject, text, html := RenderOwnerNotification(req, links)
	err = n.Mailer.Send(ctx, mail.Message{
		To: to, Subject: subject, Text: text, HTML: html, MessageID: msgID,
		Headers: map[string]string{"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
	})
	if err != nil {
		if mail.IsPermanent(err) {
			return NotificationResult{}, temporal.NewNonRetryableApplicationError("SMTP server rejected the notification", FailureSMTPRejected, err)
		}
		return NotificationResult{}, temporal.NewApplicationErrorWithCause("SMTP send failed, will retry", FailureSMTPTemporary, err)
	}
	if activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Info("owner notification sent", "messageId", msgID, "recipients", len(addrs), "round", req.Round)
	}
	return NotificationResult{MessageID: "<" + msgID + ">", Recipients: addrs, SentAt: time.Now().UTC()}, nil
}

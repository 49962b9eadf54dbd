package activities

import (
	"context"
	"strconv"
	"time"
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
	kind := "owner"
	if len(req.CVEs) > 0 {
		kind = "cve"
	}
	return n.sendAnswerable(ctx, answerable{
		what: "owner notification", recipients: req.Recipients, round: req.Round,
		links: AnswerLinkRequest{
			WorkflowID: req.WorkflowID, IncidentID: req.IncidentID, IncidentNumber: req.IncidentNumber,
			PLC: plcName(req.Device), Round: req.Round, Question: QuestionExpected,
		},
		messageID: func(runID string, addrs []string) string {
			return messageID(kind, req.WorkflowID, runID, req.IncidentID, strconv.FormatInt(req.IncidentNumber, 10),
				req.Device.Name, req.Device.IP, strconv.Itoa(req.Round), sortedLower(addrs))
		},
		render: func(links AnswerLinks) (string, string, string) { return RenderOwnerNotification(req, links) },
	})
}

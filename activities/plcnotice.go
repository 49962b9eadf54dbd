package activities

import (
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// The request and result types of the PLC-change notification activities. The workflow fills them
// with facts only; the activity signs the answer links and renders the email, so link tokens never
// enter workflow history.

// Recipient is one person to email.
type Recipient struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// DeviceFacts are what an email says about one device.
type DeviceFacts struct {
	Name       string `json:"name,omitempty"`
	IP         string `json:"ip,omitempty"`
	MAC        string `json:"mac,omitempty"`
	Type       string `json:"type,omitempty"`
	Vendor     string `json:"vendor,omitempty"`
	Model      string `json:"model,omitempty"`
	Firmware   string `json:"firmware,omitempty"`
	Importance string `json:"importance,omitempty"`
	PageLink   string `json:"pageLink,omitempty"`
}

// PLCChange is what happened to one PLC.
type PLCChange struct {
	PLC              DeviceFacts `json:"plc"`
	Source           DeviceFacts `json:"source"`
	AlertTitle       string      `json:"alertTitle"`
	AlertID          string      `json:"alertId,omitempty"` // Defender for IoT alert ID
	Protocol         string      `json:"protocol,omitempty"`
	Time             time.Time   `json:"time"`
	Site             string      `json:"site,omitempty"`
	Zone             string      `json:"zone,omitempty"`
	Line             string      `json:"line,omitempty"`
	Sensor           string      `json:"sensor,omitempty"`
	RemediationSteps []string    `json:"remediationSteps,omitempty"`
	Techniques       []string    `json:"techniques,omitempty"`
}

// PLCNotification asks for one email about one PLC change to one group of recipients.
type PLCNotification struct {
	// WorkflowID is the waiting playbook run the answer links point at.
	WorkflowID     string `json:"workflowId"`
	IncidentID     string `json:"incidentId"`
	IncidentNumber int64  `json:"incidentNumber,omitempty"`
	IncidentTitle  string `json:"incidentTitle,omitempty"`
	IncidentURL    string `json:"incidentUrl,omitempty"`
	Severity       string `json:"severity,omitempty"`
	// Round is 0 for the first notice and n for the n-th escalation.
	Round      int         `json:"round"`
	Recipients []Recipient `json:"recipients"`
	Change     PLCChange   `json:"change"`
	// AnswerDeadline is when the run escalates if nobody answers (shown in the email).
	AnswerDeadline time.Time `json:"answerDeadline,omitzero"`
	// Impact is the incident's business impact from the asset directory; nil shows none.
	Impact *incident.Impact `json:"impact,omitempty"`
}

// NotificationResult says what was sent.
type NotificationResult struct {
	MessageID  string    `json:"messageId"`
	Recipients []string  `json:"recipients"`
	SentAt     time.Time `json:"sentAt"`
}

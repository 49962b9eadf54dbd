package workflows

import "time"

// The engineers' answer to a PLC change notification reaches the waiting playbook as a Temporal Update
// (from the intake's one-click links) or a Signal (the Temporal UI can send either), both named
// AnswerName and carrying an Answer.
const AnswerName = "answer"

// Decisions an engineer can give.
const (
	DecisionPlanned    = "planned"
	DecisionNotPlanned = "not_planned"
)

// Answer is an engineer's verdict on a PLC change.
type Answer struct {
	// Decision is DecisionPlanned or DecisionNotPlanned.
	Decision string `json:"decision"`
	// By is who answered (the recipient email the link was sent to, or the UI user's name).
	By string `json:"by,omitempty"`
	// Via is how the answer came: "email-link", "temporal-ui", "api".
	Via string `json:"via,omitempty"`
	// Comment is optional free text.
	Comment string `json:"comment,omitempty"`
	// At is when the answer was given; the workflow fills it from workflow time when empty.
	At time.Time `json:"at,omitzero"`
}

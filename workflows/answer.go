package workflows

import "time"

// The engineers' answer to a PLC change notification reaches the waiting playbook as a Temporal Update
// (from the intake's one-click links) or a Signal (the Temporal UI can send either), both named
// AnswerName and carrying an Answer.
const AnswerName = "answer"

// Decisions an engineer can give about a PLC change.
const (
	DecisionPlanned    = "planned"
	DecisionNotPlanned = "not_planned"
)

// Decisions a device owner can give about an incident on their device (Microsoft's "Yes this is
// expected" / "No this is NOT expected").
const (
	DecisionExpected    = "expected"
	DecisionNotExpected = "not_expected"
)

// IsDecision says whether d is one of the decisions above.
func IsDecision(d string) bool {
	switch d {
	case DecisionPlanned, DecisionNotPlanned, DecisionExpected, DecisionNotExpected:
		return true
	}
	return false
}

// Answer is an engineer's verdict on a PLC change.
type Answer struct {
	// Decision is one of the Decision constants; each playbook accepts its own pair.
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

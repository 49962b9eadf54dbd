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
	// Link names the email whose link gave the answer. An answer without one (the Temporal UI, the
	// API, links minted before links named their round) answers whichever round is current.
	Link *AnswerLink `json:"link,omitempty"`
}

// The ApplicationError types with which an answer Update's validator refuses an answer.
const (
	// FailureAlreadyAnswered: the run has an answer; the details are an AnswerRefusal naming it.
	FailureAlreadyAnswered = "AlreadyAnswered"
	// FailureNotWaiting: the run is still open but no longer takes answers.
	FailureNotWaiting = "NotWaiting"
	// FailureOutdatedLink: the answer's link came from an older round's email or another run; the
	// details are an AnswerRefusal naming the current notice.
	FailureOutdatedLink = "OutdatedLink"
	// FailureInvalidAnswer: the decision is not one the run accepts.
	FailureInvalidAnswer = "InvalidAnswer"
)

// AnswerLink names the email an answer's link came from: the run that sent it and its round.
type AnswerLink struct {
	RunID string `json:"runId,omitempty"`
	Round int    `json:"round"`
}

// Notice is one round's email as a refusal describes it: when it went out and to whom.
type Notice struct {
	Round  int       `json:"round"`
	SentAt time.Time `json:"sentAt,omitzero"`
	To     []string  `json:"to,omitempty"`
}

// AnswerRefusal is the detail of an AlreadyAnswered refusal (Answer, without its comment) or an
// OutdatedLink one (Current, the newest notice; OtherRun when the link is another run's).
type AnswerRefusal struct {
	Answer   *Answer `json:"answer,omitempty"`
	Current  *Notice `json:"current,omitempty"`
	OtherRun bool    `json:"otherRun,omitempty"`
}

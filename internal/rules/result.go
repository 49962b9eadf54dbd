package rules

import "github.com/interlock-soar/interlock/internal/incident"

// Trigger is the incident event a rule reacts to.
type Trigger string

const (
	TriggerCreated Trigger = "created"
	TriggerUpdated Trigger = "updated"
)

// Result is what evaluating the rules against one event decided.
type Result struct {
	// Incident is the incident after every matching rule's property actions, in rule order.
	Incident incident.Incident
	// Matches are the rules that fired, in evaluation order.
	Matches []Match
	// Playbooks are the playbooks to run, in the order rules asked for them, without repeats.
	Playbooks []string
	// Changes are the incident property changes the matching rules made, in the order they were made.
	// Only real changes are listed (setting a severity the incident already has is not one), so a caller
	// writing the incident back to Sentinel can tell whether there is anything to write.
	Changes []Change
	// Classification is set when the rules closed the incident (the Incident type has no field for it);
	// nil when they did not, or when a later rule reopened it.
	Classification *Classification
	// Errors are the conditions that failed at run time (a rule whose condition errors does not match),
	// each as `rule "NAME": MESSAGE (line:column)`. They are for logs and the dry run; the other rules
	// still ran.
	Errors []string
}

// Match is one rule that fired and the actions it took.
type Match struct {
	Rule    string   `json:"rule"`
	Order   int      `json:"order"`
	Actions []string `json:"actions"` // human-readable, e.g. `set severity High`, `run playbook X`
}

// Change is one incident property a rule changed.
type Change struct {
	Rule string `json:"rule"`
	// Field is "severity", "status", "owner", "labels" (one Change per added tag, From empty) or
	// "classification".
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Classification is how a rule closed an incident, with Sentinel's values.
type Classification struct {
	// Classification is Undetermined, TruePositive, BenignPositive or FalsePositive.
	Classification string `json:"classification"`
	// Reason is SuspiciousActivity, SuspiciousButExpected, IncorrectAlertLogic or InaccurateData; empty for
	// Undetermined.
	Reason  string `json:"classificationReason,omitempty"`
	Comment string `json:"classificationComment,omitempty"`
}

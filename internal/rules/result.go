// Package rules is Interlock's automation-rules engine: ordered rules with expr conditions, modelled on
// Microsoft Sentinel automation rules but kept in a YAML file under version control.
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
}

// Match is one rule that fired and the actions it took.
type Match struct {
	Rule    string   `json:"rule"`
	Order   int      `json:"order"`
	Actions []string `json:"actions"` // human-readable, e.g. `set severity High`, `run playbook X`
}

package playbooks

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// Playbook describes one playbook.
type Playbook struct {
	// Name is the registered workflow type: the stable name the Temporal UI, the rules and the
	// run endpoint use. Never rename it: running executions and saved links depend on it.
	Name string
	// Summary says in a line what it does.
	Summary string
	// PerEvent playbooks run once per trigger event (incident updates included); the others once per
	// incident, however often it is delivered.
	PerEvent bool
	// Workflow is the workflow function or method value registered under Name.
	Workflow any
	// Priority is the Temporal task priority key its runs start with (PriorityUrgent is served
	// first when workflow tasks queue up); zero leaves the server's default.
	Priority int
}

// Task priority keys (Temporal's: 1 is served first; the server's default, 3 of 5, sits between).
const (
	PriorityDefault = 0
	// PriorityUrgent is for runs a person waits on, such as an engineer's PLC notice: a flood of ticket
	// runs must not queue in front of them.
	PriorityUrgent = 1
)

// Registry is the list of playbooks a worker runs and the intake may start.
type Registry struct {
	list []Playbook
}

// NewRegistry makes a registry of the given playbooks.
func NewRegistry(pbs ...Playbook) *Registry { return &Registry{list: pbs} }

// All returns every playbook, in registration order.
func (r *Registry) All() []Playbook { return append([]Playbook(nil), r.list...) }

// Names lists the registered names, in registration order, for validating rules.
func (r *Registry) Names() []string {
	names := make([]string, len(r.list))
	for i, p := range r.list {
		names[i] = p.Name
	}
	return names
}

// Lookup finds a playbook by name (exact) .
func (r *Registry) Lookup(name string) (Playbook, bool) {
	for _, p := range r.list {
		if p.Name == name {
			return p, true
		}
	}
	return Playbook{}, false
}

// WorkflowID is the deterministic workflow ID of a playbook run for an incident (and, for PerEvent
// playbooks, the event). The same delivery always maps to the same ID, which is how a redelivered
// webhook or a second click is recognised.
func WorkflowID(p Playbook, incidentID, eventID string) string {
	id := p.Name + "/" + incidentID
	if p.PerEvent && eventID != "" {
		id += "/" + eventID
	}
	return strings.ToValidUTF8(id, "?")
}

// startRun is every playbook run's preamble: it refuses an incident without an ID (runs, tickets and
// write-backs are keyed on it) and makes the run findable by incident, site and device.
func startRun(ctx workflow.Context, playbook string, inc incident.Incident) error {
	if strings.TrimSpace(inc.ID) == "" {
		return temporal.NewNonRetryableApplicationError(
			"the incident has no id: nothing to key the run and its write-back on; start the run with a Sentinel incident or an Interlock incident with an id",
			FailureInvalidIncident, nil)
	}
	if err := workflows.IndexRun(ctx, playbook, inc); err != nil {
		return fmt.Errorf("set search attributes: %w", err)
	}
	return nil
}

// readSettings records a run's settings in its history through a SideEffect: a replay reads them back,
// so a config change applies to new runs and never makes a running one non-deterministic.
// settings runs inside the SideEffect only: what it reads (the config defaults) stays out of replays.
func readSettings[S any](ctx workflow.Context, settings func() S) (S, error) {
	var s S
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return settings() }).Get(&s); err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	return s, nil
}

// retryBudget fills in a side effect's attempt timeout and retry span from the defaults where the
// settings (from an older history, or built by hand) leave them unusable: the retries span at least
// one attempt.
func retryBudget(attempt, retryFor, defAttempt, defRetryFor time.Duration) (time.Duration, time.Duration) {
	if attempt <= 0 {
		attempt = defAttempt
	}
	if retryFor < attempt {
		retryFor = max(defRetryFor, attempt)
	}
	return attempt, retryFor
}

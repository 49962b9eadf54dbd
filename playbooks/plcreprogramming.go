package playbooks

// The PLC reprogramming playbook: when Defender for IoT reports that a PLC was programmed, had its
// configuration written, changed mode or got new firmware, find out whether the change was planned
// (a maintenance window from the config, or an approved ServiceNow change request); if it was not,
// email the control engineers responsible for the PLC and wait durably for their one-click answer,
// escalating when nobody answers, and write the outcome back to the incident.
//
// It improves on Microsoft's AD4IoT-SendEmailtoIoTOwner (one owner, one approval mail, no planned-change
// check, no escalation) and AD4IoT-MailByProductionLine (a sensor → mail watchlist, no answer at all).
//
// Its design decisions are in doc.go.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// PLCReprogrammingName is the registered workflow type. Never rename it.
const PLCReprogrammingName = "PLCReprogrammingNotice"

// PLCStatusQuery is the query that returns a run's PLCStatus.
const PLCStatusQuery = "status"

// Outcomes of a run.
const (
	OutcomeNotApplicable      = "not_applicable"
	OutcomePlanned            = "planned"
	OutcomeAnsweredPlanned    = "answered_planned"
	OutcomeAnsweredNotPlanned = "answered_not_planned"
	OutcomeNoAnswer           = "no_answer"
)

// Error types a run can fail with.
const (
	FailureInvalidIncident    = "InvalidIncident"
	FailureNotificationFailed = "NotificationFailed"
)

// maxPLCs bounds the emails one incident can cause: past it, the remaining PLCs are only named in the
// incident comment, so a flood of alerts cannot turn into a flood of mail.
const maxPLCs = 20

// Activity timeouts: one attempt, and the total time Temporal keeps retrying.
const (
	lookupAttempt, lookupTotal       = 30 * time.Second, 5 * time.Minute
	mailAttempt, mailTotal           = 30 * time.Second, 15 * time.Minute
	writeBackAttempt, writeBackTotal = 30 * time.Second, 10 * time.Minute
)

// PLCReprogramming is the playbook; make it with NewPLCReprogramming. Settings are read once per run,
// through a SideEffect.
type PLCReprogramming struct {
	Settings PLCSettings
	// comments renders the incident comments, parsed once here rather than in workflow code.
	comments *plcComments
}

// NewPLCReprogramming makes the playbook from the validated config section.
func NewPLCReprogramming(cfg config.PLCReprogramming) *PLCReprogramming {
	return &PLCReprogramming{Settings: PLCSettingsFrom(cfg), comments: newPLCComments()}
}

// PLCReprogrammingResult records what a run found, whom it told, and who answered what and when.
type PLCReprogrammingResult struct {
	Incident string `json:"incident"`
	Number   int64  `json:"number,omitempty"`
	// Outcome is one of the Outcome constants.
	Outcome string `json:"outcome"`
	// PLCs are the affected PLCs, planned or not.
	PLCs []string `json:"plcs,omitempty"`
	// Planned is the planned change that covered a PLC (the first, when several PLCs were covered).
	Planned       *activities.PlannedChange       `json:"planned,omitempty"`
	Notifications []activities.NotificationResult `json:"notifications,omitempty"`
	Answer        *workflows.Answer               `json:"answer,omitempty"`
	// EscalationRounds is how many escalation rounds were sent.
	EscalationRounds int `json:"escalationRounds"`
	// Comments are the incident comments written, in order.
	Comments []string `json:"comments,omitempty"`
	// WriteBackErrors are the incident comments and updates that could not be written, and why.
	WriteBackErrors []string `json:"writeBackErrors,omitempty"`
	Reason          string   `json:"reason,omitempty"`
}

// PLCStatus is what the "status" query returns, for the UI.
type PLCStatus struct {
	// Phase is "checking", "waiting" or "done".
	Phase   string   `json:"phase"`
	Outcome string   `json:"outcome,omitempty"`
	PLCs    []string `json:"plcs,omitempty"`
	// Round is 0 while waiting after the first notice, n after the n-th escalation.
	Round        int               `json:"round"`
	WaitingSince time.Time         `json:"waitingSince,omitzero"`
	Deadline     time.Time         `json:"deadline,omitzero"`
	Answer       *workflows.Answer `json:"answer,omitempty"`
}

// plcTarget is one affected PLC.
type plcTarget struct {
	label   string // "PLC-L3-01" or "PLC 10.20.3.10", for comments
	id      string // Defender for IoT device ID, when known
	change  activities.PLCChange
	owners  []string
	planned *activities.PlannedChange
	to      activities.Recipients
}

// plcRun is one execution's state.
type plcRun struct {
	inc    incident.Incident
	s      PLCSettings
	c      *plcComments
	res    PLCReprogrammingResult
	status PLCStatus
	// ask is the shared answer loop: handlers, the answer, the rounds.
	ask     *askLoop
	targets []*plcTarget
	notes   []string
	// impactSaid is set once a comment has carried the business impact line.
	impactSaid bool
}

// Run is the workflow.
func (p *PLCReprogramming) Run(ctx workflow.Context, inc incident.Incident) (PLCReprogrammingResult, error) {
	if err := startRun(ctx, PLCReprogrammingName, inc); err != nil {
		return PLCReprogrammingResult{}, err
	}
	r := &plcRun{
		inc:    inc,
		c:      p.comments,
		res:    PLCReprogrammingResult{Incident: inc.ID, Number: inc.Number},
		status: PLCStatus{Phase: "checking"},
	}
	r.ask = newAskLoop(ctx, []string{workflows.DecisionPlanned, workflows.DecisionNotPlanned},
		`The engineers' answer: {"decision":"planned"|"not_planned","by":"…","comment":"…"}`,
		func() bool { return r.status.Phase == "done" })
	// Handlers first: an answer that arrives while the run is still checking is kept, not lost.
	if err := r.registerHandlers(ctx); err != nil {
		return PLCReprogrammingResult{}, err
	}
	settings := p.Settings
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return settings.normalized() }).Get(&r.s); err != nil {
		return PLCReprogrammingResult{}, fmt.Errorf("read settings: %w", err)
	}
	res, err := r.run(ctx)
	r.status.Phase, r.status.Outcome = "done", res.Outcome
	return res, err
}

func (r *plcRun) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, PLCStatusQuery, func() (PLCStatus, error) {
		st := r.status
		st.PLCs = slices.Clone(st.PLCs)
		st.Answer = r.ask.answered()
		return st, nil
	}); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	return r.ask.register(ctx)
}

func (r *plcRun) run(ctx workflow.Context) (PLCReprogrammingResult, error) {
	if reason := r.findTargets(ctx); reason != "" {
		r.res.Outcome, r.res.Reason = OutcomeNotApplicable, reason
		return r.res, nil
	}
	for _, t := range r.targets {
		r.res.PLCs = append(r.res.PLCs, t.change.PLC.Name)
	}
	r.status.PLCs = slices.Clone(r.res.PLCs)

	if err := r.checkPlanned(ctx); err != nil {
		return r.res, err
	}
	var open []*plcTarget
	for _, t := range r.targets {
		if t.planned == nil {
			open = append(open, t)
			continue
		}
		if r.res.Planned == nil {
			r.res.Planned = t.planned
		}
		if err := r.comment(ctx, "planned/"+t.label, r.plannedComment(t)); err != nil {
			return r.res, err
		}
	}
	if len(open) == 0 {
		r.res.Outcome = OutcomePlanned
		r.res.Answer = r.ask.answered()
		return r.res, nil
	}
	r.targets = open

	r.findRecipients(ctx)
	answered, err := r.ask.ask(ctx, r.s.AnswerTimeout, r.s.EscalationRounds, delivered(&r.res.Notifications, r.notify))
	r.res.EscalationRounds = r.ask.escalations
	if err != nil {
		return r.res, err
	}
	if answered {
		return r.res, r.finishAnswered(ctx)
	}
	r.res.Outcome = OutcomeNoAnswer
	msg := r.c.render("no-answer", noAnswerView{Asked: strings.Join(r.everyoneAsked(), ", "), PLCs: r.labels(), Rounds: r.res.EscalationRounds, Timeout: r.s.AnswerTimeout})
	return r.res, r.comment(ctx, "no-answer", msg)
}

package playbooks

// The device owner approval playbook, Interlock's AD4IoT-SendEmailtoIoTOwner: email the owners of the
// incident's IoT devices the incident, ask "Yes, this is expected" / "No, this is NOT expected" with one
// click, and write the answer back: yes closes the incident as FalsePositive (InaccurateData) tagged
// AutoResolved, no raises it to High, Active, assigned to the responder, tagged as confirmed.
//
// Its design decisions are in doc.go.

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// OwnerApprovalName is the registered workflow type. Never rename it.
const OwnerApprovalName = "IoTOwnerApproval"

// OwnerApprovalSettings are the workflow's settings. Build them with OwnerApprovalSettingsFrom.
type OwnerApprovalSettings struct {
	ownerSettings
}

// OwnerApprovalSettingsFrom makes the settings from the validated config section.
func OwnerApprovalSettingsFrom(cfg config.OwnerApproval) OwnerApprovalSettings {
	return OwnerApprovalSettings{ownerSettings{
		AnswerTimeout: cfg.AnswerTimeout, ReminderRounds: cfg.ReminderRounds, SOCMailbox: strings.TrimSpace(cfg.SOCMailbox),
		ResolvedTag: strings.TrimSpace(cfg.ResolvedTag), ConfirmedTag: strings.TrimSpace(cfg.ConfirmedTag), Close: true,
	}}
}

// normalized fills what a hand-built value left empty with the defaults.
func (s OwnerApprovalSettings) normalized() ownerSettings {
	def := OwnerApprovalSettingsFrom(config.Default().Playbooks.OwnerApproval).ownerSettings
	out := s.ownerSettings
	if out.AnswerTimeout <= 0 {
		out.AnswerTimeout = def.AnswerTimeout
	}
	out.ReminderRounds = max(out.ReminderRounds, 0)
	if out.ResolvedTag == "" {
		out.ResolvedTag = def.ResolvedTag
	}
	if out.ConfirmedTag == "" {
		out.ConfirmedTag = def.ConfirmedTag
	}
	out.Close = true
	return out
}

// OwnerApproval is the playbook.
type OwnerApproval struct {
	Settings OwnerApprovalSettings
}

// NewOwnerApproval makes the playbook from the validated config section.
func NewOwnerApproval(cfg config.OwnerApproval) *OwnerApproval {
	return &OwnerApproval{Settings: OwnerApprovalSettingsFrom(cfg)}
}

// OwnerApprovalResult records whom the run asked and what they answered.
type OwnerApprovalResult struct {
	Incident string `json:"incident"`
	Number   int64  `json:"number,omitempty"`
	// Outcome is OutcomeNotApplicable, OutcomeExpected, OutcomeNotExpected or OutcomeNoAnswer.
	Outcome string `json:"outcome"`
	// Devices are the devices whose owners were asked.
	Devices []string `json:"devices,omitempty"`
	OwnerAnswerRecord
	Comments        []string `json:"comments,omitempty"`
	WriteBackErrors []string `json:"writeBackErrors,omitempty"`
	Reason          string   `json:"reason,omitempty"`
}

// OwnerStatus is what the "status" query returns, shaped like PLCStatus.
type OwnerStatus struct {
	// Phase is "checking" (before the first email), "waiting" or "done".
	Phase   string `json:"phase"`
	Outcome string `json:"outcome,omitempty"`
	// Round is 0 while waiting after the first email, n after the n-th reminder.
	Round    int               `json:"round"`
	Deadline time.Time         `json:"deadline,omitzero"`
	Answer   *workflows.Answer `json:"answer,omitempty"`
}

// Run is the workflow.
func (p *OwnerApproval) Run(ctx workflow.Context, inc incident.Incident) (OwnerApprovalResult, error) {
	if err := startRun(ctx, OwnerApprovalName, inc); err != nil {
		return OwnerApprovalResult{}, err
	}
	w := &writer{inc: inc}
	a := newOwnerAsk(ctx, inc, w)
	res := OwnerApprovalResult{Incident: inc.ID, Number: inc.Number}
	if err := registerOwnerHandlers(ctx, a, &res.Outcome); err != nil {
		return res, err
	}
	settings := p.Settings
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return settings.normalized() }).Get(&a.s); err != nil {
		return res, fmt.Errorf("read settings: %w", err)
	}
	devs := inc
	devs.Devices = withDirectoryOwners(ctx, inc.Devices)
	a.targets, res.Reason = ownerTargets(devs)
	if len(a.targets) == 0 {
		a.done, res.Outcome = true, OutcomeNotApplicable
		return res, nil
	}
	for _, t := range a.targets {
		res.Devices = append(res.Devices, t.label)
	}
	outcome, err := a.run(ctx)
	res.Outcome, res.OwnerAnswerRecord = outcome, a.rec
	res.Comments, res.WriteBackErrors = w.Comments, w.Errors
	return res, err
}

// registerOwnerHandlers registers the status query and the answer loop's handlers.
func registerOwnerHandlers(ctx workflow.Context, a *ownerAsk, outcome *string) error {
	if err := workflow.SetQueryHandler(ctx, PLCStatusQuery, func() (OwnerStatus, error) {
		st := OwnerStatus{Phase: "checking", Outcome: *outcome, Round: a.round, Deadline: a.deadline, Answer: a.loop.answered()}
		switch {
		case a.done:
			st.Phase = "done"
		case !a.deadline.IsZero():
			st.Phase = "waiting"
		}
		return st, nil
	}); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	return a.loop.register(ctx)
}

// ownerTargets lists the incident's devices that have an owner with an email address; when there are
// none, it says why the playbook does not apply.
func ownerTargets(inc incident.Incident) ([]*ownerTarget, string) {
	var out []*ownerTarget
	skipped := 0
	for _, d := range inc.Devices {
		owners := ownersOf(d)
		if len(owners) == 0 {
			continue
		}
		if len(out) == maxOwnerDevices {
			skipped++
			continue
		}
		out = append(out, &ownerTarget{device: d, label: deviceLabel(d), owners: owners})
	}
	switch {
	case len(inc.Devices) == 0:
		return nil, "the incident names no IoT device"
	case len(out) == 0:
		return nil, "no IoT device of the incident has an owner with an email address (Defender for IoT site owners, or the asset directory's owners)"
	case skipped > 0:
		return out, fmt.Sprintf("more than %d devices with owners: %d not asked", maxOwnerDevices, skipped)
	}
	return out, ""
}

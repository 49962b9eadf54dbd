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
// Decisions:
//
//   - Several PLCs in one incident: every affected PLC gets its own email (the email activity describes
//     one PLCChange) to the engineers responsible for that PLC, but the run waits for one answer for the
//     whole incident. An incident is one change event (Sentinel groups the alerts of one engineering
//     session), the Answer carries no PLC, and the one-click link targets this run; the answer therefore
//     decides for every PLC listed, and the write-back comment names them all. Per-PLC answers would
//     need per-PLC runs; a PLC that a maintenance window or change request covers is left out of the
//     question and gets its own "planned" comment.
//   - Permanent SMTP rejection (or retries running out): the same notice goes to the SOC mailbox, and a
//     comment says the engineers' address was rejected. If the SOC mailbox fails too, a comment hands
//     the incident to the SOC and the run fails with a NotificationFailed error, so it neither hangs nor
//     pretends that someone was told.
//   - Settings enter the run through workflow.SideEffect: the first execution records them in history
//     and every replay reads them back, so a changed config (timeout, rounds, titles) applies to new
//     runs and never breaks the replay of a waiting one. The directory and the maintenance windows stay
//     with the activities, which read them once per lookup; their answers are recorded in history.
//   - One notification per (incident, PLC, round): the workflow ID is per incident (the intake dedupes
//     starts), each (PLC, round) email is exactly one activity, and Temporal's retries of that activity
//     keep its deterministic Message-ID.

import (
	"errors"
	"fmt"
	"html"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
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
	ErrInvalidIncident    = "InvalidIncident"
	ErrNotificationFailed = "NotificationFailed"
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

// PLCSettings are the workflow's settings. Build them with PLCSettingsFrom.
type PLCSettings struct {
	// AlertTitles are the alert titles (without "(MDIoT) ") that mean a PLC change.
	AlertTitles []string `json:"alertTitles"`
	// AnswerTimeout is each wait for an answer.
	AnswerTimeout time.Duration `json:"answerTimeout"`
	// EscalationRounds is how many escalation emails follow an unanswered notice.
	EscalationRounds int  `json:"escalationRounds"`
	CloseOnPlanned   bool `json:"closeOnPlanned"`
	// NotPlannedTag is added to the incident on a "not planned" answer; empty adds none.
	NotPlannedTag string `json:"notPlannedTag,omitempty"`
	// SOCMailbox gets the notice when the engineers' address is rejected.
	SOCMailbox string `json:"socMailbox"`
	// Lines maps a zone to its production line.
	Lines map[string]string `json:"lines,omitempty"`
}

// PLCSettingsFrom makes the settings from the validated config section.
func PLCSettingsFrom(cfg config.PLCReprogramming) PLCSettings {
	return PLCSettings{
		AlertTitles:      slices.Clone(cfg.AlertTitles),
		AnswerTimeout:    cfg.AnswerTimeout,
		EscalationRounds: cfg.EscalationRounds,
		CloseOnPlanned:   cfg.CloseOnPlanned,
		NotPlannedTag:    strings.TrimSpace(cfg.NotPlannedTag),
		SOCMailbox:       strings.TrimSpace(cfg.SOCMailbox),
		Lines:            lowerKeys(cfg.Lines),
	}
}

// DefaultPLCSettings are the settings of the default config.
func DefaultPLCSettings() PLCSettings {
	return PLCSettingsFrom(config.Default().Playbooks.PLCReprogramming)
}

// normalized fills what a hand-built PLCSettings left empty with the defaults (EscalationRounds 0
// stays: no escalation is a valid choice) and lower-cases the zone keys for lookup.
func (s PLCSettings) normalized() PLCSettings {
	def := config.Default().Playbooks.PLCReprogramming
	out := s
	out.AlertTitles = slices.Clone(s.AlertTitles)
	if len(out.AlertTitles) == 0 {
		out.AlertTitles = slices.Clone(def.AlertTitles)
	}
	if out.AnswerTimeout <= 0 {
		out.AnswerTimeout = def.AnswerTimeout
	}
	out.EscalationRounds = max(out.EscalationRounds, 0)
	if strings.TrimSpace(out.SOCMailbox) == "" {
		out.SOCMailbox = def.SOCMailbox
	}
	out.Lines = lowerKeys(s.Lines)
	return out
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return out
}

// NewPLCChanges makes the planned-change activities from the validated config section; requests is
// the change-request source (the ServiceNow client) when cfg.ChangeRequests is on, else nil.
func NewPLCChanges(cfg config.PLCReprogramming, requests activities.ChangeRequests) (*activities.Changes, error) {
	windows := make([]activities.MaintenanceWindow, 0, len(cfg.MaintenanceWindows))
	for i, w := range cfg.MaintenanceWindows {
		s, err := w.Schedule()
		if err != nil {
			return nil, fmt.Errorf("playbooks.plcReprogramming.maintenanceWindows[%d]: %w", i, err)
		}
		windows = append(windows, activities.MaintenanceWindow{
			Name: strings.TrimSpace(w.Name), Site: strings.TrimSpace(w.Site), Zone: strings.TrimSpace(w.Zone),
			Devices: slices.Clone(w.Devices), Start: s.Start, End: s.End,
			Days: s.Days, From: s.From, To: s.To, Location: s.Location,
		})
	}
	if !cfg.ChangeRequests {
		requests = nil
	}
	return activities.NewChanges(windows, requests)
}

// NewPLCDirectory makes the directory activity from the validated config section.
func NewPLCDirectory(cfg config.PLCReprogramming) (*activities.Directory, error) {
	contacts := func(cs []config.Contact) []activities.Recipient {
		out := make([]activities.Recipient, len(cs))
		for i, c := range cs {
			out[i] = activities.Recipient{Name: c.Name, Email: c.Email}
		}
		return out
	}
	entries := make([]activities.DirectoryEntry, len(cfg.Directory))
	for i, e := range cfg.Directory {
		entries[i] = activities.DirectoryEntry{
			Match:     activities.DirectoryMatch{Sensor: e.Match.Sensor, Site: e.Match.Site, Zone: e.Match.Zone, Line: e.Match.Line},
			Engineers: contacts(e.Engineers), Escalation: contacts(e.Escalation),
		}
	}
	return activities.NewDirectory(entries, cfg.SOCMailbox)
}

// PLCReprogramming is the playbook. Settings are read once per run, through a SideEffect.
type PLCReprogramming struct {
	Settings PLCSettings
}

// NewPLCReprogramming makes the playbook from the validated config section.
func NewPLCReprogramming(cfg config.PLCReprogramming) *PLCReprogramming {
	return &PLCReprogramming{Settings: PLCSettingsFrom(cfg)}
}

// Playbook describes the playbook for the registry.
func (p *PLCReprogramming) Playbook() Playbook {
	return Playbook{
		Name:     PLCReprogrammingName,
		Summary:  "Unplanned PLC reprogramming: email the control engineers responsible, wait for their answer, escalate, write the outcome back.",
		PerEvent: false,
		Workflow: p.Run,
		Priority: PriorityUrgent,
	}
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
	if strings.TrimSpace(inc.ID) == "" {
		return PLCReprogrammingResult{}, temporal.NewNonRetryableApplicationError(
			"the incident has no id: nothing to write back to; start the run with a Sentinel incident or an Interlock incident with an id",
			ErrInvalidIncident, nil)
	}
	if err := workflows.Begin(ctx, PLCReprogrammingName, inc); err != nil {
		return PLCReprogrammingResult{}, fmt.Errorf("set search attributes: %w", err)
	}
	r := &plcRun{
		inc:    inc,
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
		if err := r.comment(ctx, "planned/"+t.label, plannedComment(t)+r.impactLine()); err != nil {
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
	answered, err := r.ask.ask(ctx, r.s.AnswerTimeout, r.s.EscalationRounds, r.notify)
	r.res.EscalationRounds = r.ask.escalations
	if err != nil {
		return r.res, err
	}
	if answered {
		return r.res, r.finishAnswered(ctx)
	}
	r.res.Outcome = OutcomeNoAnswer
	msg := fmt.Sprintf("No answer from %s about the change to %s after %d escalation round(s) (%s each); handed to the SOC.",
		esc(strings.Join(r.everyoneAsked(), ", ")), esc(r.labels()), r.res.EscalationRounds, r.s.AnswerTimeout)
	return r.res, r.comment(ctx, "no-answer", msg)
}

// findTargets works out the affected PLCs; it returns why the playbook does not apply, or "".
func (r *plcRun) findTargets(ctx workflow.Context) string {
	alerts := r.inc.Alerts
	if len(alerts) == 0 {
		// Started by hand without alerts: the incident's own title decides, and the PLC-typed devices
		// are the targets.
		alerts = []incident.Alert{{Title: r.inc.Title}}
	}
	matched := 0
	var skipped []string
	for _, a := range alerts {
		if !r.isPLCChange(a) {
			continue
		}
		matched++
		for _, d := range r.plcsOf(a) {
			if t := r.targetFor(ctx, a, d); t != nil {
				if len(r.targets) < maxPLCs {
					r.targets = append(r.targets, t)
				} else if !slices.Contains(skipped, t.label) {
					skipped = append(skipped, t.label)
				}
			}
		}
	}
	switch {
	case matched == 0:
		return "no alert titled as a PLC change (see playbooks.plcReprogramming.alertTitles)"
	case len(r.targets) == 0:
		return "the PLC-change alerts name no PLC: no destination device and no PLC among the incident's devices"
	}
	if len(skipped) > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d more PLCs were not emailed individually: %s.", len(skipped), strings.Join(skipped, ", ")))
		r.res.Reason = fmt.Sprintf("more than %d PLCs: %d not emailed individually", maxPLCs, len(skipped))
	}
	return ""
}

func (r *plcRun) isPLCChange(a incident.Alert) bool {
	title := a.BareTitle()
	return slices.ContainsFunc(r.s.AlertTitles, func(t string) bool { return strings.EqualFold(incident.BareTitle(t), title) })
}

// plcsOf finds the PLCs an alert is about: the destination device, else the incident's PLC-typed
// devices (other than the source), else a device made of the destination address alone.
func (r *plcRun) plcsOf(a incident.Alert) []incident.Device {
	for _, addr := range []string{a.DestinationDevice, a.DestinationAddress} {
		if d, ok := r.inc.DeviceByAddress(addr); ok {
			return []incident.Device{d}
		}
	}
	src, hasSrc := r.inc.DeviceByAddress(a.SourceAddress)
	var plcs []incident.Device
	for _, d := range r.inc.Devices {
		if isPLCDevice(d) && !(hasSrc && sameIncidentDevice(d, src)) {
			plcs = append(plcs, d)
		}
	}
	if len(plcs) > 0 {
		return plcs
	}
	d := incident.Device{Name: strings.TrimSpace(a.DestinationDevice)}
	if addr := strings.TrimSpace(a.DestinationAddress); addr != "" {
		if _, err := netip.ParseAddr(addr); err == nil {
			d.IP = addr
		} else if d.Name == "" {
			d.Name = addr
		}
	}
	if d.Name == "" && d.IP == "" {
		return nil
	}
	return []incident.Device{d}
}

func isPLCDevice(d incident.Device) bool {
	return strings.Contains(strings.ToLower(d.Type), "plc") || strings.Contains(strings.ToLower(d.SubType), "plc")
}

func sameIncidentDevice(a, b incident.Device) bool {
	return (a.ID != "" && a.ID == b.ID) || (a.IP != "" && a.IP == b.IP) ||
		(a.MAC != "" && strings.EqualFold(a.MAC, b.MAC)) || (a.Name != "" && strings.EqualFold(a.Name, b.Name))
}

// targetFor builds the change for PLC d from alert a; nil when the PLC is already a target (one
// notification per PLC, however many alerts name it).
func (r *plcRun) targetFor(ctx workflow.Context, a incident.Alert, d incident.Device) *plcTarget {
	for _, t := range r.targets {
		if sameIncidentDevice(d, incident.Device{ID: t.id, IP: t.change.PLC.IP, MAC: t.change.PLC.MAC, Name: t.change.PLC.Name}) {
			return nil
		}
	}
	src, ok := r.inc.DeviceByAddress(a.SourceAddress)
	source := activities.DeviceFacts{IP: strings.TrimSpace(a.SourceAddress)}
	if ok {
		source = facts(src)
	}
	site, zone, sensor := d.Site, d.Zone, d.Sensor
	if site == "" && zone == "" && ok {
		// A PLC known only by its address: the workstation that reached it is on the same segment.
		site, zone = src.Site, src.Zone
	}
	sensor = firstNonEmpty(sensor, a.SensorID, src.Sensor)
	line := zone
	if l, found := r.s.Lines[strings.ToLower(strings.TrimSpace(zone))]; found && l != "" {
		line = l
	}
	at := a.StartTime
	for _, t := range []time.Time{a.TimeGenerated, r.inc.Created, r.inc.FirstActivity, workflow.Now(ctx)} {
		if at.IsZero() {
			at = t
		}
	}
	plc := facts(d)
	label := plc.Name
	if !strings.HasPrefix(strings.ToLower(label), "plc") {
		label = "PLC " + label
	}
	return &plcTarget{
		label: label,
		id:    d.ID,
		change: activities.PLCChange{
			PLC: plc, Source: source,
			AlertTitle: a.BareTitle(), AlertID: firstNonEmpty(a.VendorOriginalID, a.ID),
			Protocol: a.Protocol, Time: at.UTC(), Site: site, Zone: zone, Line: line, Sensor: sensor,
			RemediationSteps: slices.Clone(a.RemediationSteps), Techniques: slices.Clone(a.Techniques),
		},
		owners: slices.Clone(d.Owners),
	}
}

func facts(d incident.Device) activities.DeviceFacts {
	return activities.DeviceFacts{
		Name: d.DisplayName(), IP: d.IP, MAC: d.MAC, Type: firstNonEmpty(d.SubType, d.Type),
		Vendor: d.Vendor, Model: d.Model, Firmware: d.Firmware, Importance: d.Importance, PageLink: d.PageLink,
	}
}

// checkPlanned asks, for every PLC in parallel, whether a window or change request covers the change.
// A lookup that keeps failing counts as "not known to be planned": the engineers are asked instead.
func (r *plcRun) checkPlanned(ctx workflow.Context) error {
	lctx := workflows.WithSideEffectOptions(ctx, lookupAttempt, lookupTotal)
	futures := make([]workflow.Future, len(r.targets))
	for i, t := range r.targets {
		futures[i] = workflows.ExecuteSideEffect(lctx, activities.FindPlannedChange, activities.PlannedChangeRequest{
			PLC: t.change.PLC, Site: t.change.Site, Zone: t.change.Zone, At: t.change.Time,
		})
	}
	for i, f := range futures {
		var pc activities.PlannedChange
		if err := f.Get(ctx, &pc); err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			workflow.GetLogger(ctx).Warn("planned-change lookup failed; asking the engineers", "plc", r.targets[i].change.PLC.Name, "error", err)
			r.notes = append(r.notes, fmt.Sprintf("Could not check planned changes for %s (%s).", r.targets[i].label, failure(err)))
			continue
		}
		if pc.Planned {
			r.targets[i].planned = &pc
		}
	}
	return nil
}

// findRecipients looks up whom to tell for every open PLC. A failed lookup falls back to the SOC
// mailbox rather than leaving a PLC change untold.
func (r *plcRun) findRecipients(ctx workflow.Context) {
	lctx := workflows.WithSideEffectOptions(ctx, lookupAttempt, lookupTotal)
	futures := make([]workflow.Future, len(r.targets))
	for i, t := range r.targets {
		futures[i] = workflows.ExecuteSideEffect(lctx, activities.LookupRecipients, activities.RecipientsRequest{
			Sensor: t.change.Sensor, Site: t.change.Site, Zone: t.change.Zone, Line: t.change.Line, Owners: t.owners,
		})
	}
	soc := []activities.Recipient{{Name: "SOC", Email: r.s.SOCMailbox}}
	for i, f := range futures {
		if err := f.Get(ctx, &r.targets[i].to); err != nil || len(r.targets[i].to.Engineers) == 0 {
			workflow.GetLogger(ctx).Warn("directory lookup failed; telling the SOC mailbox", "plc", r.targets[i].change.PLC.Name, "error", err)
			r.targets[i].to = activities.Recipients{Engineers: soc, Escalation: soc, Source: activities.RecipientsFromSOC}
		}
		if len(r.targets[i].to.Escalation) == 0 {
			r.targets[i].to.Escalation = slices.Concat(r.targets[i].to.Engineers, soc)
		}
	}
}

// notify sends round's email about every open PLC, in parallel, each exactly once. Round 0 goes to the
// engineers, later rounds to the escalation list. A PLC whose email fails for good is sent to the SOC
// mailbox instead; if that fails too, the incident is handed to the SOC and the run fails.
func (r *plcRun) notify(ctx workflow.Context, round int, deadline time.Time) error {
	mctx := workflows.WithSideEffectOptions(ctx, mailAttempt, mailTotal)
	requests := make([]activities.PLCNotification, len(r.targets))
	futures := make([]workflow.Future, len(r.targets))
	for i, t := range r.targets {
		to := t.to.Engineers
		if round > 0 {
			to = t.to.Escalation
		}
		requests[i] = activities.PLCNotification{
			WorkflowID:     workflow.GetInfo(ctx).WorkflowExecution.ID,
			IncidentID:     r.inc.ID,
			IncidentNumber: r.inc.Number,
			IncidentTitle:  r.inc.Title,
			IncidentURL:    r.inc.URL,
			Severity:       r.inc.Severity,
			Round:          round,
			Recipients:     slices.Clone(to),
			Change:         t.change,
			AnswerDeadline: deadline,
			Impact:         r.inc.Impact,
		}
		futures[i] = workflows.ExecuteSideEffect(mctx, activities.SendPLCNotification, requests[i])
	}
	sent := make([]string, len(r.targets))
	failed := make([]error, len(r.targets))
	for i, f := range futures {
		var nr activities.NotificationResult
		if err := f.Get(ctx, &nr); err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			workflow.GetLogger(ctx).Error("PLC notification failed", "plc", r.targets[i].change.PLC.Name, "round", round, "error", err)
			failed[i] = err
			continue
		}
		r.res.Notifications = append(r.res.Notifications, nr)
		sent[i] = fmt.Sprintf("%s about %s", emails(requests[i].Recipients), r.targets[i].label)
		if round == 0 && r.targets[i].to.Source != "" {
			sent[i] += " (from " + r.targets[i].to.Source + ")"
		}
	}
	// Emails that failed for good (rejected, or retries ran out) go to the SOC mailbox instead.
	soc := []activities.Recipient{{Name: "SOC", Email: r.s.SOCMailbox}}
	var handOffs []error
	for i, err := range failed {
		if err == nil {
			continue
		}
		t, req := r.targets[i], requests[i]
		if sameRecipients(req.Recipients, soc) {
			handOffs = append(handOffs, r.handOff(ctx, t, err))
			continue
		}
		req.Recipients = soc
		var nr activities.NotificationResult
		if err2 := workflows.ExecuteSideEffect(mctx, activities.SendPLCNotification, req).Get(ctx, &nr); err2 != nil {
			if temporal.IsCanceledError(err2) {
				return err2
			}
			handOffs = append(handOffs, r.handOff(ctx, t, errors.Join(err, err2)))
			continue
		}
		r.res.Notifications = append(r.res.Notifications, nr)
		sent[i] = fmt.Sprintf("%s about %s", emails(soc), t.label)
		if err := r.comment(ctx, fmt.Sprintf("rerouted/%d/%s", round, t.label), fmt.Sprintf("The email about the change to %s to %s was not delivered (%s). The SOC mailbox %s got it instead; check the directory entry or the device owners.",
			esc(t.label), esc(emails(requests[i].Recipients)), esc(failure(err)), esc(r.s.SOCMailbox))); err != nil {
			return err
		}
	}
	if len(handOffs) > 0 {
		return handOffs[0] // each has its comment; the first is the run's failure
	}
	r.status.Round, r.status.WaitingSince, r.status.Deadline = round, workflow.Now(ctx), deadline
	r.status.Phase = "waiting"

	var msg string
	if round == 0 {
		first := r.targets[0].change
		msg = fmt.Sprintf("Unplanned change: %s from %s at %s; no maintenance window or change request covers it. Emailed %s. Waiting for an answer until %s",
			esc(first.AlertTitle), esc(firstNonEmpty(first.Source.Name, first.Source.IP, "an unknown device")), stamp(first.Time),
			esc(strings.Join(sent, "; ")), stamp(deadline))
		if r.s.EscalationRounds > 0 {
			msg += fmt.Sprintf(", then escalating (%d round(s))", r.s.EscalationRounds)
		}
		msg += "."
		for _, n := range r.notes {
			msg += " " + esc(n)
		}
		msg += r.impactLine()
	} else {
		msg = fmt.Sprintf("No answer yet: escalation round %d of %d sent to %s. Waiting until %s.",
			round, r.s.EscalationRounds, esc(strings.Join(sent, "; ")), stamp(deadline))
	}
	return r.comment(ctx, fmt.Sprintf("notice/%d", round), msg)
}

// handOff comments that nobody could be emailed about t, and returns the error the run fails with.
func (r *plcRun) handOff(ctx workflow.Context, t *plcTarget, cause error) error {
	what := "could not email anyone about the change to " + t.label + "; handed to the SOC"
	msg := fmt.Sprintf("Could not email anyone about the change to %s (%s); handed to the SOC.", esc(t.label), esc(failure(cause)))
	if err := r.comment(ctx, "handoff/"+t.label, msg); err != nil {
		what += " (and the incident comment saying so failed: " + err.Error() + ")"
	}
	return temporal.NewNonRetryableApplicationError(what, ErrNotificationFailed, cause)
}

// finishAnswered writes the answer back to the incident.
func (r *plcRun) finishAnswered(ctx workflow.Context) error {
	a := *r.ask.answer
	r.res.Answer = &a
	by := a.By
	if by == "" || by == activities.GroupRecipient {
		// A notice to several people carries links that cannot say which of them clicked.
		by = "A recipient of the notice"
	}
	how := fmt.Sprintf(" (via %s at %s)", esc(a.Via), stamp(a.At))
	note := ""
	if a.Comment != "" {
		note = fmt.Sprintf(" Comment: &quot;%s&quot;", esc(a.Comment))
	}
	inc := activities.UpdateRequest{IncidentID: r.inc.ID, IncidentARMID: r.inc.ARMID, Number: r.inc.Number}
	if a.Decision == workflows.DecisionPlanned {
		r.res.Outcome = OutcomeAnsweredPlanned
		msg := fmt.Sprintf("%s confirmed the change to %s was planned%s.%s", esc(by), esc(r.labels()), how, note)
		if r.s.CloseOnPlanned {
			msg += " Closing the incident as BenignPositive (SuspiciousButExpected)."
		}
		if err := r.comment(ctx, "answer", msg); err != nil {
			return err
		}
		if !r.s.CloseOnPlanned {
			return nil
		}
		inc.Status, inc.Classification, inc.ClassificationReason = incident.StatusClosed, "BenignPositive", "SuspiciousButExpected"
		inc.ClassificationComment = truncate(fmt.Sprintf("Planned PLC change (%s), confirmed by %s via Interlock.", r.labels(), by), 1000)
		return r.update(ctx, inc)
	}
	r.res.Outcome = OutcomeAnsweredNotPlanned
	msg := fmt.Sprintf("%s said the change to %s was NOT planned%s.%s Severity raised to High, status Active", esc(by), esc(r.labels()), how, note)
	inc.Severity, inc.Status = incident.SeverityHigh, incident.StatusActive
	if r.s.NotPlannedTag != "" {
		inc.AddTags = []string{r.s.NotPlannedTag}
		msg += fmt.Sprintf(", tagged &quot;%s&quot;", esc(r.s.NotPlannedTag))
	}
	if err := r.comment(ctx, "answer", msg+"."); err != nil {
		return err
	}
	return r.update(ctx, inc)
}

// comment writes a comment on the incident. A write-back that fails for good is recorded in the
// result and the log, and the run goes on: the engineers' answer matters more than the note about it.
func (r *plcRun) comment(ctx workflow.Context, purpose, msg string) error {
	wctx := workflows.WithSideEffectOptions(ctx, writeBackAttempt, writeBackTotal)
	req := activities.CommentRequest{IncidentID: r.inc.ID, IncidentARMID: r.inc.ARMID, Number: r.inc.Number, Message: msg, Purpose: purpose}
	if err := workflows.ExecuteSideEffect(wctx, activities.AddIncidentComment, req).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		workflow.GetLogger(ctx).Error("incident comment failed", "incident", r.inc.ID, "purpose", purpose, "error", err)
		r.res.WriteBackErrors = append(r.res.WriteBackErrors, "comment "+purpose+": "+failure(err))
		return nil
	}
	r.res.Comments = append(r.res.Comments, msg)
	return nil
}

func (r *plcRun) update(ctx workflow.Context, req activities.UpdateRequest) error {
	wctx := workflows.WithSideEffectOptions(ctx, writeBackAttempt, writeBackTotal)
	if err := workflows.ExecuteSideEffect(wctx, activities.UpdateIncident, req).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		workflow.GetLogger(ctx).Error("incident update failed", "incident", r.inc.ID, "error", err)
		r.res.WriteBackErrors = append(r.res.WriteBackErrors, "update: "+failure(err))
	}
	return nil
}

func plannedComment(t *plcTarget) string {
	pc := t.planned
	what := fmt.Sprintf("maintenance window &quot;%s&quot; (%s)", esc(pc.Name), esc(pc.Window))
	if pc.Source == activities.PlannedByChangeRequest {
		what = fmt.Sprintf("%s &quot;%s&quot; (%s)", esc(pc.Number), esc(pc.Name), esc(pc.Window))
	}
	return fmt.Sprintf("Planned change: %s covers the change to %s (%s at %s). No email sent.",
		what, esc(t.label), esc(t.change.AlertTitle), stamp(t.change.Time))
}

// impactLine is the "Business impact: …" line, escaped, for the first comment that describes the
// change (a "planned" comment or the first notice); "" after that, and when the incident has no
// business impact.
func (r *plcRun) impactLine() string {
	s := activities.ImpactSummary(r.inc.Impact)
	if s == "" || r.impactSaid {
		return ""
	}
	r.impactSaid = true
	return "<br>Business impact: " + esc(s)
}

// labels names the open PLCs, for comments.
func (r *plcRun) labels() string {
	names := make([]string, len(r.targets))
	for i, t := range r.targets {
		names[i] = t.label
	}
	return strings.Join(names, ", ")
}

// everyoneAsked lists every address emailed in this run, in order, once each.
func (r *plcRun) everyoneAsked() []string {
	var out []string
	for _, n := range r.res.Notifications {
		for _, a := range n.Recipients {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, a) }) {
				out = append(out, a)
			}
		}
	}
	return out
}

func emails(list []activities.Recipient) string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Email
	}
	return strings.Join(out, ", ")
}

func sameRecipients(a, b []activities.Recipient) bool {
	return slices.EqualFunc(a, b, func(x, y activities.Recipient) bool { return strings.EqualFold(x.Email, y.Email) })
}

func normalizeDecision(d string) string { return strings.ToLower(strings.TrimSpace(d)) }

// failure is the readable part of an activity error: the application error's message and its cause
// (for a rejected email, the SMTP server's reply), without the SDK's wrapping.
func failure(err error) string {
	ae, ok := errors.AsType[*temporal.ApplicationError](err)
	if !ok || ae.Message() == "" {
		return truncate(err.Error(), 300)
	}
	msg := ae.Message()
	if cause := ae.Unwrap(); cause != nil {
		if ce, ok := errors.AsType[*temporal.ApplicationError](cause); ok && ce.Message() != "" {
			msg += ": " + ce.Message()
		} else {
			msg += ": " + cause.Error()
		}
	}
	return truncate(msg, 300)
}

// esc escapes an untrusted string for an HTML comment.
func esc(s string) string { return html.EscapeString(s) }

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

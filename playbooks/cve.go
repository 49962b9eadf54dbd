package playbooks

// The CVE playbook, Interlock's AD4IoT-CVEAutoWorkflow: look up the involved devices' CVEs in the
// vulnerability feed (playbooks.cveAutoWorkflow.feedFile, read again when it changes), comment each CVE
// on the incident, and on a critical one raise the severity to High, tag the incident and ask the device
// owners through the same answer loop as IoTOwnerApproval.
//
// Its design decisions are in doc.go.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// CVEAutoWorkflowName is the registered workflow type. Never rename it.
const CVEAutoWorkflowName = "CVEAutoWorkflow"

// Outcomes of a CVE run (with OutcomeNotApplicable).
const (
	OutcomeNotConfigured = "not_configured"
	OutcomeNoCVEs        = "no_cves"
	OutcomeCVEs          = "cves_commented"
	OutcomeCriticalCVE   = "critical_cve"
)

// FailureCVELookupFailed: the vulnerability feed could not be read.
const FailureCVELookupFailed = "CVELookupFailed"

// Bounds on what one incident can cause.
const (
	maxCVEDevices  = 20
	maxCVEComments = 50
)

// CVESettings are the workflow's settings. Build them with CVESettingsFrom.
type CVESettings struct {
	Owner        ownerSettings `json:"owner"`
	CriticalCVSS float64       `json:"criticalCVSS"`
	Tag          string        `json:"tag"`
	NotifyOwners bool          `json:"notifyOwners"`
}

// CVESettingsFrom makes the settings from the validated config section.
func CVESettingsFrom(cfg config.CVEAutoWorkflow) CVESettings {
	return CVESettings{
		Owner:        ownerSettings{AnswerTimeout: cfg.AnswerTimeout, ReminderRounds: cfg.ReminderRounds},
		CriticalCVSS: cfg.CriticalCVSS, Tag: strings.TrimSpace(cfg.Tag), NotifyOwners: cfg.NotifyOwners,
	}
}

func (s CVESettings) normalized() CVESettings {
	def := CVESettingsFrom(config.Default().Playbooks.CVEAutoWorkflow)
	owner := OwnerApprovalSettingsFrom(config.Default().Playbooks.OwnerApproval).ownerSettings
	out := s
	if out.Owner.AnswerTimeout <= 0 {
		out.Owner.AnswerTimeout = def.Owner.AnswerTimeout
	}
	out.Owner.ReminderRounds = max(out.Owner.ReminderRounds, 0)
	// "Not expected" tags as IoTOwnerApproval does; "expected" never closes here.
	out.Owner.ConfirmedTag, out.Owner.ResolvedTag, out.Owner.Close = owner.ConfirmedTag, owner.ResolvedTag, false
	if out.CriticalCVSS <= 0 {
		out.CriticalCVSS = def.CriticalCVSS
	}
	if out.Tag == "" {
		out.Tag = def.Tag
	}
	return out
}

// CVEAutoWorkflow is the playbook.
type CVEAutoWorkflow struct {
	Settings CVESettings
}

// NewCVEAutoWorkflow makes the playbook from the validated config section.
func NewCVEAutoWorkflow(cfg config.CVEAutoWorkflow) *CVEAutoWorkflow {
	return &CVEAutoWorkflow{Settings: CVESettingsFrom(cfg)}
}

// DeviceCVEs are one device's CVEs.
type DeviceCVEs struct {
	Device   string           `json:"device"`
	CVEs     []activities.CVE `json:"cves,omitempty"`
	Critical int              `json:"critical,omitempty"`
}

// CVEAutoWorkflowResult records the CVEs found, what was written and the owners' answer.
type CVEAutoWorkflowResult struct {
	Incident string `json:"incident"`
	Number   int64  `json:"number,omitempty"`
	// Outcome is one of OutcomeNotApplicable, OutcomeNotConfigured, OutcomeNoCVEs, OutcomeCVEs, OutcomeCriticalCVE.
	Outcome string       `json:"outcome"`
	Devices []DeviceCVEs `json:"devices,omitempty"`
	// OwnerOutcome is the owner question's outcome on a critical CVE (empty when nobody was asked).
	OwnerOutcome string `json:"ownerOutcome,omitempty"`
	OwnerAnswerRecord
	Comments        []string `json:"comments,omitempty"`
	WriteBackErrors []string `json:"writeBackErrors,omitempty"`
	Reason          string   `json:"reason,omitempty"`
}

// cveRun is one execution's state.
type cveRun struct {
	inc  incident.Incident
	s    CVESettings
	w    *writer
	ask  *ownerAsk
	res  CVEAutoWorkflowResult
	devs []incident.Device
}

// Run is the workflow.
func (p *CVEAutoWorkflow) Run(ctx workflow.Context, inc incident.Incident) (CVEAutoWorkflowResult, error) {
	if err := startRun(ctx, CVEAutoWorkflowName, inc); err != nil {
		return CVEAutoWorkflowResult{}, err
	}
	r := &cveRun{inc: inc, w: &writer{inc: inc}, res: CVEAutoWorkflowResult{Incident: inc.ID, Number: inc.Number}}
	r.ask = newOwnerAsk(ctx, inc, r.w)
	if err := registerOwnerHandlers(ctx, r.ask, &r.res.Outcome); err != nil {
		return r.res, err
	}
	settings := p.Settings
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return settings.normalized() }).Get(&r.s); err != nil {
		return r.res, fmt.Errorf("read settings: %w", err)
	}
	r.ask.s = r.s.Owner
	err := r.run(ctx)
	r.ask.done = true
	r.res.Comments, r.res.WriteBackErrors = r.w.Comments, r.w.Errors
	return r.res, err
}

func (r *cveRun) run(ctx workflow.Context) error {
	r.devs = r.inc.Devices
	if len(r.devs) == 0 {
		r.res.Outcome, r.res.Reason = OutcomeNotApplicable, "the incident names no IoT device"
		return nil
	}
	if len(r.devs) > maxCVEDevices {
		r.res.Reason = fmt.Sprintf("more than %d devices: %d not looked up", maxCVEDevices, len(r.devs)-maxCVEDevices)
		r.devs = r.devs[:maxCVEDevices]
	}
	found, err := r.lookup(ctx)
	if err != nil || !found.Configured {
		return err
	}
	var critical []*ownerTarget
	for i, d := range r.devs {
		dc := DeviceCVEs{Device: deviceLabel(d), CVEs: found.Devices[i]}
		var crit []activities.CVE
		for _, c := range dc.CVEs {
			if activities.IsCriticalCVE(c, r.s.CriticalCVSS) {
				crit = append(crit, c)
			}
		}
		dc.Critical = len(crit)
		if len(dc.CVEs) > 0 {
			r.res.Devices = append(r.res.Devices, dc)
		}
		if len(crit) > 0 {
			critical = append(critical, &ownerTarget{device: d, label: dc.Device, cves: crit})
		}
	}
	if len(r.res.Devices) == 0 {
		r.res.Outcome = OutcomeNoCVEs
		r.res.Reason = strings.TrimSpace("the vulnerability feed lists no CVE for the incident's devices. " + r.res.Reason)
		return nil
	}
	if err := r.commentCVEs(ctx); err != nil {
		return err
	}
	r.res.Outcome = OutcomeCVEs
	if len(critical) == 0 {
		return nil
	}
	r.res.Outcome = OutcomeCriticalCVE
	return r.triage(ctx, critical)
}

// lookup reads the devices' CVEs. A feed that stays unreadable is commented and fails the run, so the
// SOC sees it rather than a quiet "no CVEs".
func (r *cveRun) lookup(ctx workflow.Context) (activities.CVEResult, error) {
	req := activities.CVERequest{Devices: make([]activities.CVEDevice, len(r.devs))}
	for i, d := range r.devs {
		req.Devices[i] = activities.CVEDevice{ID: d.ID, Name: d.DisplayName(), IP: d.IP}
	}
	lctx := workflows.WithCallOptions(ctx, lookupAttempt, lookupTotal)
	var found activities.CVEResult
	if err := workflows.CallOutside(lctx, activities.FindDeviceCVEs, req).Get(ctx, &found); err != nil {
		if temporal.IsCanceledError(err) {
			return found, err
		}
		msg := fmt.Sprintf("Could not read the vulnerability feed (%s); the devices' CVEs were not checked.", esc(failure(err)))
		if cerr := r.w.comment(ctx, "cve-lookup-failed", msg); cerr != nil {
			return found, cerr
		}
		return found, temporal.NewNonRetryableApplicationError("vulnerability feed lookup failed", FailureCVELookupFailed, err)
	}
	if !found.Configured {
		r.res.Outcome, r.res.Reason = OutcomeNotConfigured, "no vulnerability feed configured (playbooks.cveAutoWorkflow.feedFile)"
		return found, nil
	}
	if len(found.Devices) != len(r.devs) {
		return found, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("vulnerability feed answered for %d devices, asked for %d", len(found.Devices), len(r.devs)), FailureCVELookupFailed, nil)
	}
	return found, nil
}

// commentCVEs writes one comment per CVE, each under its own purpose; past maxCVEComments one comment
// names the rest.
func (r *cveRun) commentCVEs(ctx workflow.Context) error {
	n := 0
	var rest []string
	for _, dc := range r.res.Devices {
		for _, c := range dc.CVEs {
			if n == maxCVEComments {
				rest = append(rest, dc.Device+": "+c.ID)
				continue
			}
			n++
			if err := r.w.comment(ctx, "cve/"+dc.Device+"/"+c.ID, cveComment(dc.Device, c, activities.IsCriticalCVE(c, r.s.CriticalCVSS))); err != nil {
				return err
			}
		}
	}
	if len(rest) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d more CVEs on the devices of this incident: %s.", len(rest), esc(strings.Join(rest, ", ")))
	return r.w.comment(ctx, "cve/more", msg)
}

func cveComment(device string, c activities.CVE, critical bool) string {
	var b strings.Builder
	b.WriteString("<strong>There is an active CVE on a device involved in this incident</strong>")
	if critical {
		b.WriteString(" <strong>(critical)</strong>")
	}
	for _, row := range [][2]string{
		{"Affected device", device}, {"CVE", c.ID}, {"CVSS", c.CVSS}, {"Severity", c.Severity},
		{"Description", safetext.Clip(c.Description, 2000)}, {"Fix", safetext.Clip(c.Remediation, 2000)},
	} {
		if strings.TrimSpace(row[1]) != "" {
			b.WriteString("<br>" + row[0] + ": " + esc(row[1]))
		}
	}
	return b.String()
}

// triage raises the severity, tags, and asks the owners of the devices with critical CVEs.
func (r *cveRun) triage(ctx workflow.Context, critical []*ownerTarget) error {
	var names []string
	for _, t := range critical {
		names = append(names, t.label)
	}
	if err := r.w.update(ctx, activities.UpdateRequest{
		IncidentID: r.inc.ID, IncidentARMID: r.inc.ARMID, Number: r.inc.Number,
		Severity: incident.SeverityHigh, AddTags: []string{r.s.Tag},
	}); err != nil {
		return err
	}
	if r.s.NotifyOwners {
		devs := make([]incident.Device, len(critical))
		for i, t := range critical {
			devs[i] = t.device
		}
		for i, d := range withDirectoryOwners(ctx, devs) {
			critical[i].owners = ownersOf(d)
		}
	}
	asked := slices.DeleteFunc(slices.Clone(critical), func(t *ownerTarget) bool { return len(t.owners) == 0 })
	msg := fmt.Sprintf("Critical CVE on %s: severity raised to High, tagged &quot;%s&quot;.", esc(strings.Join(names, ", ")), esc(r.s.Tag))
	switch {
	case !r.s.NotifyOwners:
		asked = nil
	case len(asked) == 0:
		msg += " No device owner with an email address to notify."
	}
	if err := r.w.comment(ctx, "cve-triage", msg); err != nil || len(asked) == 0 {
		return err
	}
	if len(asked) > maxOwnerDevices {
		asked = asked[:maxOwnerDevices]
	}
	r.ask.targets = asked
	outcome, err := r.ask.run(ctx)
	r.res.OwnerOutcome, r.res.OwnerAnswerRecord = outcome, r.ask.rec
	return err
}

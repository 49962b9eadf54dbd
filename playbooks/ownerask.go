package playbooks

// The device-owner question shared by IoTOwnerApproval and CVEAutoWorkflow: email each device's owners
// Microsoft's "Yes this is expected / No this is NOT expected" through the answer loop (askloop.go),
// remind, and write the answer back. One answer decides for the whole incident, as in the PLC playbook:
// the links target the run, and the first answer wins.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// Outcomes of an owner question.
const (
	OutcomeExpected    = "answered_expected"
	OutcomeNotExpected = "answered_not_expected"
	OutcomeNotified    = "notified"
)

// maxOwnerDevices bounds the owner emails of one incident, as maxPLCs does for PLC notices.
const maxOwnerDevices = 10

// Microsoft's classification text for an owner's "expected" answer.
const ownerResolvedReason = "Auto resolved by user response that this is a false positive"

// ownerTarget is one device and whom to ask about it.
type ownerTarget struct {
	device incident.Device
	label  string
	owners []activities.Recipient
	cves   []activities.CVE
}

// ownerSettings are what the question needs from a playbook's settings.
type ownerSettings struct {
	AnswerTimeout  time.Duration `json:"answerTimeout"`
	ReminderRounds int           `json:"reminderRounds"`
	SOCMailbox     string        `json:"socMailbox,omitempty"`
	ResolvedTag    string        `json:"resolvedTag"`
	ConfirmedTag   string        `json:"confirmedTag"`
	// Close: an "expected" answer closes the incident as FalsePositive; else it is only commented.
	Close bool `json:"close"`
}

// OwnerAnswerRecord is what a run's result says about the question.
type OwnerAnswerRecord struct {
	Notifications []activities.NotificationResult `json:"notifications,omitempty"`
	Answer        *workflows.Answer               `json:"answer,omitempty"`
	Reminders     int                             `json:"reminders"`
	Failed        []string                        `json:"failed,omitempty"`
}

// ownerAsk is one run's question.
type ownerAsk struct {
	inc     incident.Incident
	s       ownerSettings
	loop    *askLoop
	w       *writer
	targets []*ownerTarget
	rec     OwnerAnswerRecord
	done    bool
	// round and deadline are the current wait's, for the status query.
	round    int
	deadline time.Time
}

func newOwnerAsk(ctx workflow.Context, inc incident.Incident, w *writer) *ownerAsk {
	a := &ownerAsk{inc: inc, w: w}
	a.loop = newAskLoop(ctx, []string{workflows.DecisionExpected, workflows.DecisionNotExpected},
		`The device owner's answer: {"decision":"expected"|"not_expected","by":"…","comment":"…"}`,
		func() bool { return a.done })
	return a
}

// ownersOf returns a device's owners that are bare email addresses, once each. Owners come from the
// alert (or the asset directory) and are hostile: anything else is dropped here, never mailed.
func ownersOf(d incident.Device) []activities.Recipient {
	var out []activities.Recipient
	for _, o := range d.Owners {
		o = strings.TrimSpace(o)
		if !isBareEmail(o) {
			continue
		}
		if !slices.ContainsFunc(out, func(r activities.Recipient) bool { return strings.EqualFold(r.Email, o) }) {
			out = append(out, activities.Recipient{Email: o})
		}
	}
	return out
}

// withDirectoryOwners fills in, from the asset directory (the DeviceOwners activity), the owners of the
// devices the alert names none for; devices with owners are not looked up, and with none to look up
// there is no activity. A failed lookup leaves them without: the alert's owners still count.
func withDirectoryOwners(ctx workflow.Context, devs []incident.Device) []incident.Device {
	var idx []int
	var req activities.DeviceOwnersRequest
	for i, d := range devs {
		if len(ownersOf(d)) == 0 {
			idx = append(idx, i)
			req.Devices = append(req.Devices, d)
		}
	}
	if len(idx) == 0 {
		return devs
	}
	lctx := workflows.WithCallOptions(ctx, lookupAttempt, lookupTotal)
	var res activities.DeviceOwnersResult
	if err := workflows.CallOutside(lctx, activities.DeviceOwners, req).Get(ctx, &res); err != nil || len(res.Owners) != len(idx) {
		workflow.GetLogger(ctx).Warn("asset directory owner lookup failed; using the alert's owners only", "err", err)
		return devs
	}
	out := slices.Clone(devs)
	for j, i := range idx {
		out[i].Owners = slices.Clone(res.Owners[j])
	}
	return out
}

// isBareEmail is a conservative check for a plain name@domain address, made in workflow code without
// net/mail (whose parser the determinism checker cannot clear). The activity parses it strictly again.
func isBareEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(s) > 254 || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range local {
		if !isAtext(r) && r != '.' {
			return false
		}
	}
	for _, r := range domain {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func isAtext(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+/=?^_`{|}~-", r)
}

// deviceLabel names a device in comments.
func deviceLabel(d incident.Device) string {
	return firstNonEmpty(d.DisplayName(), d.ID, "(unnamed device)")
}

// run asks, waits and writes the outcome back; it returns the outcome.
func (a *ownerAsk) run(ctx workflow.Context) (string, error) {
	defer func() { a.done = true }()
	answered, err := a.loop.ask(ctx, a.s.AnswerTimeout, a.s.ReminderRounds, delivered(&a.rec.Notifications, a.send))
	a.rec.Reminders = a.loop.escalations
	if err != nil {
		return "", err
	}
	if !answered {
		msg := fmt.Sprintf("No answer from the device owner(s) %s after %d reminder(s) (%s each). The incident stays open for the SOC.",
			esc(strings.Join(a.everyoneAsked(), ", ")), a.rec.Reminders, a.s.AnswerTimeout)
		return OutcomeNoAnswer, a.w.comment(ctx, "no-answer", msg)
	}
	return a.finish(ctx)
}

// send emails round's question about every target, in parallel, each exactly once. Reminders copy the
// SOC mailbox when one is set. Round 0 with no email delivered ends the run: nobody was asked.
func (a *ownerAsk) send(ctx workflow.Context, round int, deadline time.Time) error {
	mctx := workflows.WithCallOptions(ctx, mailAttempt, mailTotal)
	futures := make([]workflow.Future, len(a.targets))
	for i, t := range a.targets {
		to := slices.Clone(t.owners)
		if round > 0 && a.s.SOCMailbox != "" {
			to = append(to, activities.Recipient{Name: "SOC", Email: a.s.SOCMailbox})
		}
		d := t.device
		futures[i] = workflows.CallOutside(mctx, activities.SendOwnerNotification, activities.OwnerNotification{
			WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, IncidentID: a.inc.ID, IncidentNumber: a.inc.Number,
			IncidentTitle: a.inc.Title, IncidentDescription: a.inc.Description, IncidentURL: a.inc.URL, Severity: a.inc.Severity,
			Round: round, Recipients: to, Device: facts(d), Site: d.Site, Zone: d.Zone, Sensor: d.Sensor,
			CVEs: slices.Clone(t.cves), AnswerDeadline: deadline,
		})
	}
	var sent, failed []string
	for i, f := range futures {
		var nr activities.NotificationResult
		if err := f.Get(ctx, &nr); err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			workflow.GetLogger(ctx).Error("owner notification failed", "device", a.targets[i].label, "round", round, "err", err)
			failed = append(failed, fmt.Sprintf("%s (%s)", a.targets[i].label, failure(err)))
			continue
		}
		a.rec.Notifications = append(a.rec.Notifications, nr)
		sent = append(sent, fmt.Sprintf("%s about %s", strings.Join(nr.Recipients, ", "), a.targets[i].label))
	}
	a.rec.Failed = append(a.rec.Failed, failed...)
	if len(sent) > 0 {
		a.round, a.deadline = round, deadline
	}
	var msg string
	switch {
	case round == 0 && len(sent) == 0:
		msg = fmt.Sprintf("Could not email any device owner (%s); handed to the SOC.", esc(strings.Join(failed, "; ")))
		if err := a.w.comment(ctx, "handoff", msg); err != nil {
			return err
		}
		return temporal.NewNonRetryableApplicationError("could not email any device owner; handed to the SOC", FailureNotificationFailed, nil)
	case round == 0:
		msg = fmt.Sprintf("Asked the device owner(s) whether this incident is expected: emailed %s. Waiting for an answer until %s",
			esc(strings.Join(sent, "; ")), stamp(deadline))
		if a.s.ReminderRounds > 0 {
			msg += fmt.Sprintf(", then reminding (%d round(s))", a.s.ReminderRounds)
		}
		msg += "."
	case len(sent) == 0:
		msg = fmt.Sprintf("No answer yet: reminder %d of %d could not be delivered (%s). Waiting until %s.",
			round, a.s.ReminderRounds, esc(strings.Join(failed, "; ")), stamp(deadline))
	default:
		msg = fmt.Sprintf("No answer yet: reminder %d of %d sent to %s. Waiting until %s.",
			round, a.s.ReminderRounds, esc(strings.Join(sent, "; ")), stamp(deadline))
	}
	if len(failed) > 0 && len(sent) > 0 {
		msg += " Not delivered: " + esc(strings.Join(failed, "; ")) + "."
	}
	return a.w.comment(ctx, fmt.Sprintf("notice/%d", round), msg)
}

// finish writes the answer back: "expected" closes the incident as FalsePositive (InaccurateData) with
// the resolved tag (or only comments, when the playbook does not close); "not expected" raises it to
// High, Active, assigned to the responder when the answer names an address, with the confirmed tag.
func (a *ownerAsk) finish(ctx workflow.Context) (string, error) {
	ans := *a.loop.answer
	a.rec.Answer = &ans
	by := ans.By
	if by == "" || by == activities.GroupRecipient {
		by = "A recipient of the email"
	}
	how := fmt.Sprintf(" (via %s at %s)", esc(ans.Via), stamp(ans.At))
	note := ""
	if ans.Comment != "" {
		note = fmt.Sprintf(" Comment: &quot;%s&quot;", esc(ans.Comment))
	}
	inc := activities.UpdateRequest{IncidentID: a.inc.ID, IncidentARMID: a.inc.ARMID, Number: a.inc.Number}
	if ans.Decision == workflows.DecisionExpected {
		msg := fmt.Sprintf("Device owner response: Yes, this is expected. Submitted by %s%s.%s", esc(by), how, note)
		if !a.s.Close {
			msg += " The incident stays open: a critical CVE on the device still needs the SOC's attention."
			return OutcomeExpected, a.w.comment(ctx, "answer", msg)
		}
		msg += fmt.Sprintf(" Incident is going to be auto resolved as FalsePositive (InaccurateData); tag &quot;%s&quot; is being added.", esc(a.s.ResolvedTag))
		if err := a.w.comment(ctx, "answer", msg); err != nil {
			return "", err
		}
		inc.Status, inc.Classification, inc.ClassificationReason = incident.StatusClosed, "FalsePositive", "InaccurateData"
		inc.ClassificationComment, inc.AddTags = ownerResolvedReason, []string{a.s.ResolvedTag}
		return OutcomeExpected, a.w.update(ctx, inc)
	}
	msg := fmt.Sprintf("%s confirmed that this is a true positive and is NOT expected%s.%s Raising the severity to High, status Active, tag &quot;%s&quot;",
		esc(by), how, note, esc(a.s.ConfirmedTag))
	inc.Severity, inc.Status, inc.AddTags = incident.SeverityHigh, incident.StatusActive, []string{a.s.ConfirmedTag}
	if isBareEmail(ans.By) {
		inc.Owner = &activities.Owner{Email: ans.By}
		msg += ", assigned to " + esc(ans.By)
	}
	if err := a.w.comment(ctx, "answer", msg+"."); err != nil {
		return "", err
	}
	return OutcomeNotExpected, a.w.update(ctx, inc)
}

// everyoneAsked lists every address emailed, in order, once each.
func (a *ownerAsk) everyoneAsked() []string {
	var out []string
	for _, n := range a.rec.Notifications {
		for _, r := range n.Recipients {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, r) }) {
				out = append(out, r)
			}
		}
	}
	return out
}

// writer writes comments and updates back to the incident. A write-back that fails for good is
// recorded and the run goes on, as in the PLC playbook: the answer matters more than the note.
type writer struct {
	inc      incident.Incident
	Comments []string
	Errors   []string
}

func (w *writer) comment(ctx workflow.Context, purpose, msg string) error {
	wctx := workflows.WithCallOptions(ctx, writeBackAttempt, writeBackTotal)
	req := activities.CommentRequest{IncidentID: w.inc.ID, IncidentARMID: w.inc.ARMID, Number: w.inc.Number, Message: msg, Purpose: purpose}
	if err := workflows.CallOutside(wctx, activities.AddIncidentComment, req).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		workflow.GetLogger(ctx).Error("incident comment failed", "incident", w.inc.ID, "purpose", purpose, "err", err)
		w.Errors = append(w.Errors, "comment "+purpose+": "+failure(err))
		return nil
	}
	w.Comments = append(w.Comments, msg)
	return nil
}

func (w *writer) update(ctx workflow.Context, req activities.UpdateRequest) error {
	wctx := workflows.WithCallOptions(ctx, writeBackAttempt, writeBackTotal)
	if err := workflows.CallOutside(wctx, activities.UpdateIncident, req).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		workflow.GetLogger(ctx).Error("incident update failed", "incident", w.inc.ID, "err", err)
		w.Errors = append(w.Errors, "update: "+failure(err))
	}
	return nil
}

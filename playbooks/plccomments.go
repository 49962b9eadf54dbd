package playbooks

import (
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// The PLC playbook's write-back: the comments and updates it writes to the incident, and their text.

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
		inc.ClassificationComment = safetext.Clip(fmt.Sprintf("Planned PLC change (%s), confirmed by %s via Interlock.", r.labels(), by), 1000)
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
	wctx := workflows.WithCallOptions(ctx, writeBackAttempt, writeBackTotal)
	req := activities.CommentRequest{IncidentID: r.inc.ID, IncidentARMID: r.inc.ARMID, Number: r.inc.Number, Message: msg, Purpose: purpose}
	if err := workflows.CallOutside(wctx, activities.AddIncidentComment, req).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		workflow.GetLogger(ctx).Error("incident comment failed", "incident", r.inc.ID, "purpose", purpose, "err", err)
		r.res.WriteBackErrors = append(r.res.WriteBackErrors, "comment "+purpose+": "+failure(err))
		return nil
	}
	r.res.Comments = append(r.res.Comments, msg)
	return nil
}

func (r *plcRun) update(ctx workflow.Context, req activities.UpdateRequest) error {
	wctx := workflows.WithCallOptions(ctx, writeBackAttempt, writeBackTotal)
	if err := workflows.CallOutside(wctx, activities.UpdateIncident, req).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		workflow.GetLogger(ctx).Error("incident update failed", "incident", r.inc.ID, "err", err)
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
		return safetext.Clip(err.Error(), 300)
	}
	msg := ae.Message()
	if cause := ae.Unwrap(); cause != nil {
		if ce, ok := errors.AsType[*temporal.ApplicationError](cause); ok && ce.Message() != "" {
			msg += ": " + ce.Message()
		} else {
			msg += ": " + cause.Error()
		}
	}
	return safetext.Clip(msg, 300)
}

// esc escapes an untrusted string for an HTML comment.
func esc(s string) string { return html.EscapeString(s) }

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

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
	v := answerView{By: by, PLCs: r.labels(), Via: a.Via, At: stamp(a.At), Comment: a.Comment}
	inc := activities.UpdateRequest{IncidentID: r.inc.ID, IncidentARMID: r.inc.ARMID, Number: r.inc.Number}
	if a.Decision == workflows.DecisionPlanned {
		r.res.Outcome = OutcomeAnsweredPlanned
		v.Close = r.s.CloseOnPlanned
		if err := r.comment(ctx, "answer", r.c.render("answer-planned", v)); err != nil {
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
	inc.Severity, inc.Status = incident.SeverityHigh, incident.StatusActive
	if r.s.NotPlannedTag != "" {
		inc.AddTags = []string{r.s.NotPlannedTag}
		v.Tag = r.s.NotPlannedTag
	}
	if err := r.comment(ctx, "answer", r.c.render("answer-not-planned", v)); err != nil {
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

// plannedComment is the comment saying a planned change covers t.
func (r *plcRun) plannedComment(t *plcTarget) string {
	pc := t.planned
	return r.c.render("planned", plannedView{
		ByRequest: pc.Source == activities.PlannedByChangeRequest,
		Number:    pc.Number, Name: pc.Name, Window: pc.Window,
		PLC: t.label, Alert: t.change.AlertTitle, At: stamp(t.change.Time),
		Impact: r.impact(),
	})
}

// impact is the business impact summary, for the first comment that describes the change (a
// "planned" comment or the first notice); "" after that, and when the incident has no business impact.
func (r *plcRun) impact() string {
	s := activities.ImpactSummary(r.inc.Impact)
	if s == "" || r.impactSaid {
		return ""
	}
	r.impactSaid = true
	return s
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

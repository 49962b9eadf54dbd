package playbooks

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/workflows"
)

// The PLC playbook's notify step: one email per PLC and round, and the hand-off when mail fails.

// notify sends round's email about every open PLC, in parallel, each exactly once. Round 0 goes to the
// engineers, later rounds to the escalation list. A PLC whose email fails for good is sent to the SOC
// mailbox instead; if that fails too, the incident is handed to the SOC and the run fails.
func (r *plcRun) notify(ctx workflow.Context, round int, deadline time.Time) error {
	mctx := workflows.WithCallOptions(ctx, mailAttempt, mailTotal)
	requests, futures := r.sendRound(ctx, mctx, round, deadline)
	sent, failed, err := r.collectRound(ctx, round, requests, futures)
	if err != nil {
		return err
	}
	if err := r.reroute(ctx, mctx, round, requests, sent, failed); err != nil {
		return err
	}
	r.status.Round, r.status.WaitingSince, r.status.Deadline = round, workflow.Now(ctx), deadline
	r.status.Phase = "waiting"
	return r.comment(ctx, fmt.Sprintf("notice/%d", round), r.noticeText(round, sent, deadline))
}

// sendRound starts round's email about every target, all at once.
func (r *plcRun) sendRound(ctx, mctx workflow.Context, round int, deadline time.Time) ([]activities.PLCNotification, []workflow.Future) {
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
		futures[i] = workflows.CallOutside(mctx, activities.SendPLCNotification, requests[i])
	}
	return requests, futures
}

// collectRound waits for round's emails, in target order: what each one was sent to, or its failure.
// A cancellation ends the run.
func (r *plcRun) collectRound(ctx workflow.Context, round int, requests []activities.PLCNotification, futures []workflow.Future) (sent []string, failed []error, err error) {
	sent = make([]string, len(r.targets))
	failed = make([]error, len(r.targets))
	for i, f := range futures {
		var nr activities.NotificationResult
		if err := f.Get(ctx, &nr); err != nil {
			if temporal.IsCanceledError(err) {
				return nil, nil, err
			}
			workflow.GetLogger(ctx).Error("PLC notification failed", "plc", r.targets[i].change.PLC.Name, "round", round, "err", err)
			failed[i] = err
			continue
		}
		r.res.Notifications = append(r.res.Notifications, nr)
		sent[i] = fmt.Sprintf("%s about %s", emails(requests[i].Recipients), r.targets[i].label)
		if round == 0 && r.targets[i].to.Source != "" {
			sent[i] += " (from " + r.targets[i].to.Source + ")"
		}
	}
	return sent, failed, nil
}

// reroute sends the emails that failed for good (rejected, or retries ran out) to the SOC mailbox
// instead, one after the other; a target nobody could be emailed about is handed off, and the first
// hand-off is the run's failure (each has its comment).
func (r *plcRun) reroute(ctx, mctx workflow.Context, round int, requests []activities.PLCNotification, sent []string, failed []error) error {
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
		if err2 := workflows.CallOutside(mctx, activities.SendPLCNotification, req).Get(ctx, &nr); err2 != nil {
			if temporal.IsCanceledError(err2) {
				return err2
			}
			handOffs = append(handOffs, r.handOff(ctx, t, errors.Join(err, err2)))
			continue
		}
		r.res.Notifications = append(r.res.Notifications, nr)
		sent[i] = fmt.Sprintf("%s about %s", emails(soc), t.label)
		msg := r.c.render("rerouted", reroutedView{PLC: t.label, To: emails(requests[i].Recipients), Why: failure(err), SOC: r.s.SOCMailbox})
		if err := r.comment(ctx, fmt.Sprintf("rerouted/%d/%s", round, t.label), msg); err != nil {
			return err
		}
	}
	if len(handOffs) > 0 {
		return handOffs[0]
	}
	return nil
}

// noticeText is the incident comment after round's emails went out.
func (r *plcRun) noticeText(round int, sent []string, deadline time.Time) string {
	if round > 0 {
		return r.c.render("escalation", escalationView{Round: round, Rounds: r.s.EscalationRounds, Sent: strings.Join(sent, "; "), Deadline: stamp(deadline)})
	}
	first := r.targets[0].change
	return r.c.render("notice", noticeView{
		Alert: first.AlertTitle, Source: firstNonEmpty(first.Source.Name, first.Source.IP, "an unknown device"), At: stamp(first.Time),
		Sent: strings.Join(sent, "; "), Deadline: stamp(deadline), Rounds: r.s.EscalationRounds,
		Notes: r.notes, Impact: r.impact(),
	})
}

// handOff comments that nobody could be emailed about t, and returns the error the run fails with.
func (r *plcRun) handOff(ctx workflow.Context, t *plcTarget, cause error) error {
	what := "could not email anyone about the change to " + t.label + "; handed to the SOC"
	msg := r.c.render("handoff", handOffView{PLC: t.label, Why: failure(cause)})
	if err := r.comment(ctx, "handoff/"+t.label, msg); err != nil {
		what += " (and the incident comment saying so failed: " + err.Error() + ")"
	}
	return temporal.NewNonRetryableApplicationError(what, FailureNotificationFailed, cause)
}

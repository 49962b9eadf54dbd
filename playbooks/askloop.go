package playbooks

// The answer loop every asking playbook shares: a run emails people a yes/no question with one-click
// links and waits durably for the first answer, escalating in rounds. The answer arrives as a Temporal
// Update (the intake's links, the API) or a Signal (the Temporal UI), both named workflows.AnswerName.
//
// The loop issues exactly the commands the PLC playbook issued before it was extracted (one timer per
// round, cancelled when an answer comes first; no other commands of its own), so the committed PLC
// histories replay unchanged: worker's TestCommittedHistoriesReplay proves it.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/workflows"
)

// askLoop holds one run's question: the decisions it accepts and the answer once given.
type askLoop struct {
	// decisions are the accepted decisions, lower case; the first is the "yes".
	decisions []string
	// description documents the update in the Temporal UI.
	description string
	// closed says the run no longer waits (answers after it are refused).
	closed func() bool
	// answer is set once, by the update handler or a valid signal.
	answer  *workflows.Answer
	signals workflow.ReceiveChannel
	// escalations is how many escalation rounds were sent.
	escalations int
	// current is the newest round whose email reached someone: a link of an older round is refused.
	current *workflows.Notice
	// runIDs are this run's ID and, after a reset, the original run's: links name one of them.
	runIDs [2]string
}

func newAskLoop(ctx workflow.Context, decisions []string, description string, closed func() bool) *askLoop {
	info := workflow.GetInfo(ctx)
	return &askLoop{
		decisions:   decisions,
		description: description,
		closed:      closed,
		signals:     workflow.GetSignalChannel(ctx, workflows.AnswerName),
		runIDs:      [2]string{info.WorkflowExecution.RunID, info.OriginalRunID},
	}
}

// register installs the answer update handler and starts the signal receiver. Call it before the
// run's first blocking call: an answer that arrives while the run is still busy is kept, not lost.
func (l *askLoop) register(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.AnswerName,
		func(ctx workflow.Context, a workflows.Answer) (workflows.Answer, error) {
			return l.record(ctx, a, "api"), nil
		},
		workflow.UpdateHandlerOptions{
			Validator:   func(ctx workflow.Context, a workflows.Answer) error { return l.validate(a) },
			Description: l.description,
		})
	if err != nil {
		return fmt.Errorf("register answer update: %w", err)
	}
	workflow.Go(ctx, l.receiveSignals)
	return nil
}

// validate accepts the first answer with a known decision that came from the current round's email
// of this run (or names no email: the Temporal UI, the API, links of the first format). It only
// reads state: validators must not change it.
func (l *askLoop) validate(a workflows.Answer) error {
	if l.answer != nil {
		given := *l.answer
		given.Comment = "" // the refusal is shown to whoever holds a link; the comment stays in the run
		return temporal.NewApplicationError("already answered", workflows.FailureAlreadyAnswered,
			workflows.AnswerRefusal{Answer: &given})
	}
	if l.closed != nil && l.closed() {
		return temporal.NewApplicationError("this run no longer waits for an answer", workflows.FailureNotWaiting)
	}
	if err := l.outdated(a.Link); err != nil {
		return err
	}
	if slices.Contains(l.decisions, normalizeDecision(a.Decision)) {
		return nil
	}
	quoted := make([]string, len(l.decisions))
	for i, d := range l.decisions {
		quoted[i] = fmt.Sprintf("%q", d)
	}
	return temporal.NewApplicationError(fmt.Sprintf("decision must be %s, not %q",
		strings.Join(quoted, " or "), safetext.Clip(a.Decision, 40)), workflows.FailureInvalidAnswer)
}

// outdated refuses a link of another run, or of a round older than the newest one sent. A link of a
// newer round than the loop knows of is the round being sent right now, and is taken.
func (l *askLoop) outdated(link *workflows.AnswerLink) error {
	if link == nil {
		return nil
	}
	refusal := workflows.AnswerRefusal{Current: l.current}
	if link.RunID != "" && link.RunID != l.runIDs[0] && link.RunID != l.runIDs[1] {
		refusal.OtherRun = true
		return temporal.NewApplicationError("the link is another run's", workflows.FailureOutdatedLink, refusal)
	}
	if l.current != nil && link.Round < l.current.Round {
		return temporal.NewApplicationError(fmt.Sprintf("the link is round %d's; round %d was sent since", link.Round, l.current.Round),
			workflows.FailureOutdatedLink, refusal)
	}
	return nil
}

// record keeps an accepted answer, cleaned, with workflow time when it carries none.
func (l *askLoop) record(ctx workflow.Context, a workflows.Answer, via string) workflows.Answer {
	a.Decision = normalizeDecision(a.Decision)
	a.By = safetext.Line(a.By, 200)
	a.Via = safetext.Line(a.Via, 40)
	if a.Via == "" {
		a.Via = via
	}
	a.Comment = safetext.Block(a.Comment, 2000)
	if a.Link != nil {
		link := workflows.AnswerLink{RunID: safetext.Line(a.Link.RunID, 100), Round: a.Link.Round}
		a.Link = &link
	}
	if a.At.IsZero() {
		a.At = workflow.Now(ctx)
	}
	l.answer = &a
	workflow.GetLogger(ctx).Info("answer received", "decision", a.Decision, "via", a.Via)
	return a
}

// receiveSignals handles answer signals (the UI's "Send Signal" with a JSON Answer) as they arrive, in
// their own coroutine, so an answer given while the run is busy sending email is recorded at once. A
// payload that does not decode is dropped by the SDK; an invalid or late answer is logged and ignored.
func (l *askLoop) receiveSignals(ctx workflow.Context) {
	for {
		var a workflows.Answer
		if !l.signals.Receive(ctx, &a) {
			return
		}
		if err := l.validate(a); err != nil {
			workflow.GetLogger(ctx).Warn("answer signal ignored", "err", err)
			continue
		}
		l.record(ctx, a, "temporal-ui")
	}
}

// answered returns a copy of the answer, or nil.
func (l *askLoop) answered() *workflows.Answer {
	if l.answer == nil {
		return nil
	}
	a := *l.answer
	return &a
}

// ask sends round 0, waits up to timeout for an answer, and sends up to escalations more rounds while
// nobody answers. send emails one round and returns what it delivered; its error ends the loop. An
// answer that came before ask is called sends nothing. It returns whether an answer came.
func (l *askLoop) ask(ctx workflow.Context, timeout time.Duration, escalations int,
	send func(ctx workflow.Context, round int, deadline time.Time) ([]activities.NotificationResult, error)) (bool, error) {
	for round := 0; l.answer == nil; round++ {
		deadline := workflow.Now(ctx).Add(timeout)
		sent, err := send(ctx, round, deadline)
		if err != nil {
			return false, err
		}
		l.noteSent(round, sent)
		if round > 0 {
			l.escalations = round
		}
		answered, err := l.wait(ctx, round, deadline)
		if err != nil {
			return false, err
		}
		if answered || round == escalations {
			break
		}
	}
	return l.answer != nil, nil
}

// noteSent makes round the current one when its email reached anyone: from then on, older rounds'
// links are refused. The notice names the latest send and everyone it went to, once each.
func (l *askLoop) noteSent(round int, sent []activities.NotificationResult) {
	if len(sent) == 0 {
		return
	}
	n := &workflows.Notice{Round: round}
	for _, r := range sent {
		if r.SentAt.After(n.SentAt) {
			n.SentAt = r.SentAt
		}
		for _, to := range r.Recipients {
			if !slices.ContainsFunc(n.To, func(o string) bool { return strings.EqualFold(o, to) }) {
				n.To = append(n.To, to)
			}
		}
	}
	l.current = n
}

// wait waits until the deadline for an answer; it reports whether one came. The timer runs in its own
// context, cancelled on return: an answer before the deadline cancels it (a TimerCanceled event), as
// the SDK's own AwaitWithOptions does only under an SDK flag it does not yet enable by default.
func (l *askLoop) wait(ctx workflow.Context, round int, deadline time.Time) (bool, error) {
	if l.answer != nil {
		return true, nil
	}
	d := deadline.Sub(workflow.Now(ctx))
	if d <= 0 {
		return false, nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	ok, err := workflow.AwaitWithOptions(tctx, workflow.AwaitOptions{
		Timeout:      d,
		TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("answer deadline, round %d", round)},
	}, func() bool { return l.answer != nil })
	if l.answer != nil {
		return true, nil
	}
	return ok, err
}

// delivered adapts a send that appends what it delivers to *log into the loop's send, which returns
// the round's deliveries.
func delivered(log *[]activities.NotificationResult, send func(workflow.Context, int, time.Time) error) func(workflow.Context, int, time.Time) ([]activities.NotificationResult, error) {
	return func(ctx workflow.Context, round int, deadline time.Time) ([]activities.NotificationResult, error) {
		n := len(*log)
		err := send(ctx, round, deadline)
		return slices.Clone((*log)[n:]), err
	}
}

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
}

func newAskLoop(ctx workflow.Context, decisions []string, description string, closed func() bool) *askLoop {
	return &askLoop{
		decisions:   decisions,
		description: description,
		closed:      closed,
		signals:     workflow.GetSignalChannel(ctx, workflows.AnswerName),
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

// validate accepts the first answer with a known decision. It only reads state: validators must not
// change it.
func (l *askLoop) validate(a workflows.Answer) error {
	if l.answer != nil {
		return temporal.NewApplicationError("already answered", "AlreadyAnswered")
	}
	if l.closed != nil && l.closed() {
		return temporal.NewApplicationError("this run no longer waits for an answer", "NotWaiting")
	}
	if slices.Contains(l.decisions, normalizeDecision(a.Decision)) {
		return nil
	}
	quoted := make([]string, len(l.decisions))
	for i, d := range l.decisions {
		quoted[i] = fmt.Sprintf("%q", d)
	}
	return temporal.NewApplicationError(fmt.Sprintf("decision must be %s, not %q",
		strings.Join(quoted, " or "), safetext.Clip(a.Decision, 40)), "InvalidAnswer")
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
// nobody answers. send emails one round; its error ends the loop. An answer that came before ask is
// called sends nothing. It returns whether an answer came.
func (l *askLoop) ask(ctx workflow.Context, timeout time.Duration, escalations int,
	send func(ctx workflow.Context, round int, deadline time.Time) error) (bool, error) {
	for round := 0; l.answer == nil; round++ {
		deadline := workflow.Now(ctx).Add(timeout)
		if err := send(ctx, round, deadline); err != nil {
			return false, err
		}
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

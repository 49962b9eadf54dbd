package answer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/workflows"
)

// AlreadyAnsweredType is the ApplicationError type the playbook's Update validator returns when
// the run already has an answer: temporal.NewApplicationError("already answered", AlreadyAnsweredType).
// A validator error whose message contains "already answered" is understood the same way.
const AlreadyAnsweredType = workflows.FailureAlreadyAnswered

// NotWaitingType is the ApplicationError type a validator returns when the run is still open but no
// longer takes answers (it has moved on); the page treats it like a closed run.
const NotWaitingType = workflows.FailureNotWaiting

// OutdatedType is the ApplicationError type a validator returns for a link of an older round's email
// or of another run; its details are a workflows.AnswerRefusal naming the current notice.
const OutdatedType = workflows.FailureOutdatedLink

// Refusal is a refused answer with what the run said about it (who answered, or which email is
// current), for the page. It unwraps to ErrAlreadyAnswered or ErrOutdated.
type Refusal struct {
	kind   error
	cause  error
	Detail workflows.AnswerRefusal
}

func (r *Refusal) Error() string   { return r.kind.Error() + ": " + r.cause.Error() }
func (r *Refusal) Unwrap() []error { return []error{r.kind, r.cause} }

// TemporalAnswerer sends answers as the workflow's AnswerName Update and waits for the run to take
// (or refuse) it, so the page can tell the engineer what happened.
type TemporalAnswerer struct {
	Client client.Client
}

var _ Answerer = TemporalAnswerer{}

// Answer sends the Update. The Update ID derives from (run, decision, who), so a double-clicked
// Confirm or a browser resubmit is deduplicated by Temporal and gets the first call's outcome
// instead of an "already answered" refusal of the person's own answer.
func (a TemporalAnswerer) Answer(ctx context.Context, workflowID string, ans workflows.Answer) error {
	h, err := a.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     updateID(workflowID, ans),
		WorkflowID:   workflowID,
		UpdateName:   workflows.AnswerName,
		Args:         []any{ans},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return classify(workflowID, err)
	}
	if err := h.Get(ctx, nil); err != nil {
		return classify(workflowID, err)
	}
	return nil
}

func updateID(workflowID string, ans workflows.Answer) string {
	key := workflowID + "\x00" + ans.Decision + "\x00" + ans.By + "\x00" + ans.Via
	if ans.Link != nil {
		// Each email's link is its own answer: a refused round-0 click must not shadow the round-1 one.
		key += "\x00" + ans.Link.RunID + "\x00" + strconv.Itoa(ans.Link.Round)
	}
	sum := sha256.Sum256([]byte(key))
	return "answer-" + hex.EncodeToString(sum[:16])
}

// classify maps Temporal's errors onto the Answerer errors, keeping the cause in the chain.
func classify(workflowID string, err error) error {
	wrap := func(kind error) error { return fmt.Errorf("answer run %s: %w: %w", workflowID, kind, err) }
	if appErr, ok := errors.AsType[*temporal.ApplicationError](err); ok {
		// The Update's validator (or handler) refused it.
		if appErr.Type() == AlreadyAnsweredType || strings.Contains(strings.ToLower(appErr.Error()), "already answered") {
			return fmt.Errorf("answer run %s: %w", workflowID, refusal(ErrAlreadyAnswered, appErr))
		}
		if appErr.Type() == OutdatedType {
			return fmt.Errorf("answer run %s: %w", workflowID, refusal(ErrOutdated, appErr))
		}
		if appErr.Type() == NotWaitingType {
			return wrap(ErrRunClosed)
		}
		return fmt.Errorf("answer run %s: refused: %w", workflowID, err)
	}
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		// No such workflow, "workflow execution already completed", or the Update aborted because
		// the run closed.
		return wrap(ErrRunClosed)
	}
	_, unavailable := errors.AsType[*serviceerror.Unavailable](err)
	_, exhausted := errors.AsType[*serviceerror.ResourceExhausted](err) // includes "workflow is closing"
	_, notReady := errors.AsType[*serviceerror.WorkflowNotReady](err)   // its workflow task keeps failing
	_, deadline := errors.AsType[*serviceerror.DeadlineExceeded](err)
	_, timedOut := errors.AsType[*client.WorkflowUpdateServiceTimeoutOrCanceledError](err)
	if unavailable || exhausted || notReady || deadline || timedOut || errors.Is(err, context.DeadlineExceeded) {
		return wrap(ErrUnavailable)
	}
	return fmt.Errorf("answer run %s: %w", workflowID, err)
}

// refusal keeps the validator's details; a refusal without them (an older worker's) still maps.
func refusal(kind error, appErr *temporal.ApplicationError) *Refusal {
	r := &Refusal{kind: kind, cause: appErr}
	if appErr.HasDetails() {
		if err := appErr.Details(&r.Detail); err != nil {
			r.Detail = workflows.AnswerRefusal{}
		}
	}
	return r
}

package answer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/workflows"
)

// updateClient is a client.Client whose UpdateWorkflow is scripted; every other method panics
// (through the nil embedded interface), so the test proves only UpdateWorkflow is used.
type updateClient struct {
	client.Client
	got       client.UpdateWorkflowOptions
	updateErr error
	getErr    error
}

func (c *updateClient) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	c.got = opts
	if c.updateErr != nil {
		return nil, c.updateErr
	}
	return handle{err: c.getErr}, nil
}

type handle struct{ err error }

func (handle) WorkflowID() string               { return "" }
func (handle) RunID() string                    { return "" }
func (handle) UpdateID() string                 { return "" }
func (h handle) Get(context.Context, any) error { return h.err }

func TestTemporalAnswererSendsTheUpdate(t *testing.T) {
	t.Parallel()
	c := &updateClient{}
	ans := workflows.Answer{Decision: workflows.DecisionPlanned, By: "ada@plant.example", Via: answer.Via, Comment: "CHG-1"}
	require.NoError(t, answer.TemporalAnswerer{Client: c}.Answer(t.Context(), "plc-notify/A", ans))
	require.Equal(t, "plc-notify/A", c.got.WorkflowID)
	require.Equal(t, workflows.AnswerName, c.got.UpdateName)
	require.Equal(t, []any{ans}, c.got.Args)
	require.Equal(t, client.WorkflowUpdateStageCompleted, c.got.WaitForStage)
	require.NotEmpty(t, c.got.UpdateID)

	// the same person's same decision reuses the Update ID (a double click is deduplicated);
	// another decision or person does not
	first := c.got.UpdateID
	ans.Comment = "different comment"
	require.NoError(t, answer.TemporalAnswerer{Client: c}.Answer(t.Context(), "plc-notify/A", ans))
	require.Equal(t, first, c.got.UpdateID)
	ans.Decision = workflows.DecisionNotPlanned
	require.NoError(t, answer.TemporalAnswerer{Client: c}.Answer(t.Context(), "plc-notify/A", ans))
	require.NotEqual(t, first, c.got.UpdateID)
	require.NoError(t, answer.TemporalAnswerer{Client: c}.Answer(t.Context(), "plc-notify/B", ans))
	require.NotEqual(t, first, c.got.UpdateID)
}

func TestTemporalAnswererMapsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		updateErr error
		getErr    error
		want      error
	}{
		{"validator: typed", nil, temporal.NewApplicationError("already answered by bob@plant.example", answer.AlreadyAnsweredType), answer.ErrAlreadyAnswered},
		{"validator: by message", nil, temporal.NewApplicationError("run already answered", ""), answer.ErrAlreadyAnswered},
		{"validator: not waiting", nil, temporal.NewApplicationError("this run no longer waits for an answer", answer.NotWaitingType), answer.ErrRunClosed},
		{"validator: other refusal", nil, temporal.NewApplicationError("decision must be planned or not_planned", "InvalidAnswer"), nil},
		{"no such workflow", serviceerror.NewNotFound("workflow execution not found"), nil, answer.ErrRunClosed},
		{"completed", serviceerror.NewNotFound("workflow execution already completed"), nil, answer.ErrRunClosed},
		{"aborted by closing", nil, serviceerror.NewNotFound("workflow update was aborted by closing workflow"), answer.ErrRunClosed},
		{"unavailable", serviceerror.NewUnavailable("connection refused"), nil, answer.ErrUnavailable},
		{"closing (busy)", &serviceerror.ResourceExhausted{Message: "workflow is closing"}, nil, answer.ErrUnavailable},
		{"timeout", client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded), nil, answer.ErrUnavailable},
		{"deadline on get", nil, context.DeadlineExceeded, answer.ErrUnavailable},
		{"other", errors.New("boom"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &updateClient{updateErr: tt.updateErr, getErr: tt.getErr}
			err := answer.TemporalAnswerer{Client: c}.Answer(t.Context(), "plc-notify/A",
				workflows.Answer{Decision: workflows.DecisionPlanned})
			require.Error(t, err)
			for _, sentinel := range []error{answer.ErrAlreadyAnswered, answer.ErrRunClosed, answer.ErrUnavailable} {
				require.Equal(t, sentinel == tt.want, errors.Is(err, sentinel), "%v vs %v", err, sentinel)
			}
			cause := tt.updateErr
			if cause == nil {
				cause = tt.getErr
			}
			require.ErrorIs(t, err, cause, "the cause stays in the chain")
		})
	}
}

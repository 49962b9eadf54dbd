package intake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/workflows"
)

// recordingClient is a client.Client whose ExecuteWorkflow records its options and answers err, or a
// run with runID. Every other method is the nil embedded interface: calling one fails the test loudly.
type recordingClient struct {
	client.Client
	opts  client.StartWorkflowOptions
	wtype any
	args  []any
	runID string
	err   error
}

func (c *recordingClient) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, wtype any, args ...any) (client.WorkflowRun, error) {
	c.opts, c.wtype, c.args = opts, wtype, args
	if c.err != nil {
		return nil, c.err
	}
	return fakeRun{id: opts.ID, runID: c.runID}, nil
}

type fakeRun struct {
	client.WorkflowRun
	id, runID string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return r.runID }

func TestTemporalStarterOptions(t *testing.T) {
	t.Parallel()
	c := &recordingClient{runID: "r1"}
	s := &TemporalStarter{Client: c}
	res, err := s.Start(t.Context(), StartRequest{
		WorkflowID:       "PB/inc-1",
		WorkflowType:     "PB",
		Input:            "the incident",
		SearchAttributes: workflows.SearchAttributesFor("PB", incidentWithID("inc-1")),
		Memo:             map[string]any{"k": "v"},
	})
	require.NoError(t, err)
	require.Equal(t, StartResult{RunID: "r1"}, res)

	require.Equal(t, "PB/inc-1", c.opts.ID)
	require.Equal(t, workflows.TaskQueue, c.opts.TaskQueue)
	require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, c.opts.WorkflowIDReusePolicy)
	require.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, c.opts.WorkflowIDConflictPolicy)
	require.True(t, c.opts.WorkflowExecutionErrorWhenAlreadyStarted)
	require.Equal(t, 2, c.opts.TypedSearchAttributes.Size())
	require.Equal(t, map[string]any{"k": "v"}, c.opts.Memo)
	require.Equal(t, "PB", c.wtype)
	require.Equal(t, []any{"the incident"}, c.args, "the input is the single workflow argument")
}

func TestTemporalStarterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		err         error
		want        StartResult
		unavailable bool
		wantErr     bool
	}{
		{name: "already started (running or closed)",
			err:  serviceerror.NewWorkflowExecutionAlreadyStarted("Workflow execution is already running.", "req-1", "existing-run"),
			want: StartResult{RunID: "existing-run", Deduplicated: true}},
		{name: "already started, wrapped",
			err:  fmt.Errorf("rpc: %w", serviceerror.NewWorkflowExecutionAlreadyStarted("done", "", "closed-run")),
			want: StartResult{RunID: "closed-run", Deduplicated: true}},
		{name: "unavailable", err: serviceerror.NewUnavailable("connection refused"), unavailable: true, wantErr: true},
		{name: "deadline", err: serviceerror.NewDeadlineExceeded("deadline"), unavailable: true, wantErr: true},
		{name: "namespace unavailable", err: serviceerror.NewNamespaceUnavailable("default"), unavailable: true, wantErr: true},
		{name: "rate limited", err: &serviceerror.ResourceExhausted{Message: "busy"}, unavailable: true, wantErr: true},
		{name: "raw grpc unavailable", err: status.Error(codes.Unavailable, "connection refused"), unavailable: true, wantErr: true},
		{name: "raw grpc deadline", err: status.Error(codes.DeadlineExceeded, "slow"), unavailable: true, wantErr: true},
		{name: "context deadline", err: fmt.Errorf("call: %w", context.DeadlineExceeded), unavailable: true, wantErr: true},
		{name: "connection refused", err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
			unavailable: true, wantErr: true},
		{name: "invalid argument is not retryable", err: serviceerror.NewInvalidArgument("search attribute not defined"), wantErr: true},
		{name: "namespace not found is not retryable", err: serviceerror.NewNamespaceNotFound("prod"), wantErr: true},
		{name: "canceled is not unavailable", err: context.Canceled, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &TemporalStarter{Client: &recordingClient{err: tc.err}, TaskQueue: "q"}
			res, err := s.Start(t.Context(), StartRequest{WorkflowID: "PB/inc-1", WorkflowType: "PB"})
			if !tc.wantErr {
				require.NoError(t, err)
				require.Equal(t, tc.want, res)
				return
			}
			require.Error(t, err)
			require.ErrorIs(t, err, tc.err, "the cause stays inspectable")
			require.Equal(t, tc.unavailable, errors.Is(err, ErrUnavailable))
			require.Contains(t, err.Error(), "PB/inc-1")
		})
	}
}

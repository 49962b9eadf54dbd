package intake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"syscall"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/interlock-soar/interlock/workflows"
)

// ErrUnavailable means Temporal could not be reached or did not answer in time, so nothing is known to
// be recorded. The intake answers 503 with Retry-After; the sender's retry is safe because every start
// uses a deterministic workflow ID.
var ErrUnavailable = errors.New("temporal unavailable")

// Starter starts one workflow run exactly once per workflow ID.
type Starter interface {
	// Start starts the run, or reports the run that already has req.WorkflowID (running or closed) as
	// Deduplicated. An error wrapping ErrUnavailable means the start may be retried.
	Start(ctx context.Context, req StartRequest) (StartResult, error)
}

// StartRequest is one workflow start.
type StartRequest struct {
	WorkflowID   string
	WorkflowType string
	// Input is the single workflow argument.
	Input            any
	SearchAttributes []temporal.SearchAttributeUpdate
	Memo             map[string]any
	// Priority is the run's task priority key (playbooks.PriorityUrgent, ...); zero is the default.
	Priority int
}

// StartResult is what Temporal recorded.
type StartResult struct {
	RunID string
	// Deduplicated says a run with this workflow ID already existed; RunID is that run's.
	Deduplicated bool
}

// TemporalStarter starts playbook runs on a Temporal service.
type TemporalStarter struct {
	Client client.Client
	// TaskQueue defaults to workflows.TaskQueue.
	TaskQueue string
}

var _ Starter = (*TemporalStarter)(nil)

// Start starts the workflow with a policy that makes a workflow ID usable exactly once.
//
// The server resolves a start whose ID is taken in two ways (server
// service/history/api/workflow_id_dedup.go ResolveDuplicateWorkflowID): while a run with the ID is
// RUNNING it applies WorkflowIDConflictPolicy; once that run is CLOSED it applies WorkflowIDReusePolicy.
//   - ConflictPolicy FAIL, not USE_EXISTING: USE_EXISTING answers success with the existing run ID, and
//     the SDK's WorkflowRun does not tell that apart from a fresh start, so the intake could not report
//     "deduplicated". FAIL answers WorkflowExecutionAlreadyStarted carrying the running run's RunId.
//   - ReusePolicy REJECT_DUPLICATE: a playbook that already finished (or failed, or was terminated) for
//     this incident is never run again by a redelivery; the server answers the same error with the
//     closed run's RunId. (The SDK default, ALLOW_DUPLICATE, would start a second run.)
//   - WorkflowExecutionErrorWhenAlreadyStarted: without it the SDK swallows that error and returns the
//     existing run as if it had been started.
//
// Concurrent duplicates are safe because the server takes the ID under one lock: exactly one start
// wins, the others get the error. The SDK's own gRPC retries resend the same request ID, which the
// server recognises as the same start, so a lost response never turns into a second run either.
func (s *TemporalStarter) Start(ctx context.Context, req StartRequest) (StartResult, error) {
	opts := client.StartWorkflowOptions{
		ID:                                       req.WorkflowID,
		TaskQueue:                                cmp.Or(s.TaskQueue, workflows.TaskQueue),
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		Memo:                                     req.Memo,
		// When a worker shares this client (interlock dev), the server hands it the first workflow
		// task in the start's answer, saving a trip through the task queue; otherwise it is ignored.
		EnableEagerStart: true,
		Priority:         temporal.Priority{PriorityKey: req.Priority},
	}
	if len(req.SearchAttributes) > 0 {
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(req.SearchAttributes...)
	}
	run, err := s.Client.ExecuteWorkflow(ctx, opts, req.WorkflowType, req.Input)
	if err == nil {
		return StartResult{RunID: run.GetRunID()}, nil
	}
	if started, ok := errors.AsType[*serviceerror.WorkflowExecutionAlreadyStarted](err); ok {
		return StartResult{RunID: started.RunId, Deduplicated: true}, nil
	}
	if isUnavailable(err) {
		return StartResult{}, fmt.Errorf("%w: start workflow %q: %w", ErrUnavailable, req.WorkflowID, err)
	}
	return StartResult{}, fmt.Errorf("start workflow %q: %w", req.WorkflowID, err)
}

// isUnavailable says whether err means Temporal was not reached or did not answer in time, as opposed
// to Temporal refusing the start (bad search attribute, unknown namespace, ...), which a retry will not
// fix.
func isUnavailable(err error) bool {
	if _, ok := errors.AsType[*serviceerror.Unavailable](err); ok {
		return true
	}
	if _, ok := errors.AsType[*serviceerror.DeadlineExceeded](err); ok {
		return true
	}
	if _, ok := errors.AsType[*serviceerror.NamespaceUnavailable](err); ok {
		return true
	}
	// Rate limiting and "busy workflow" are transient by definition.
	if _, ok := errors.AsType[*serviceerror.ResourceExhausted](err); ok {
		return true
	}
	// Errors that did not pass through the SDK's conversion (or come from a custom client) may still be
	// plain gRPC statuses.
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
			return true
		}
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED)
}

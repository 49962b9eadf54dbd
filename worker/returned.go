package worker

import (
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/workflows"
)

// ReturnedRun is a run whose workflow code returned a result on this worker.
type ReturnedRun struct {
	WorkflowID, RunID, WorkflowType string
	// IncidentID is the run's InterlockIncidentId search attribute ("" for a run started without one).
	IncidentID string
	// Started is the run's start; Returned the workflow time of the task its code returned in.
	Started, Returned time.Time
	// Result is the value the code returned. It is read, never changed, after the code returned.
	Result any
}

// ReturnedRuns tells returned of each run whose code returns a result on this worker, as it returns
// and never while replaying, so a run is told of once (a cheaper source than reading the run's close
// event back from Temporal). A run whose code fails, is canceled or continues as new is not told of.
// The completion is not yet acknowledged by Temporal when returned is called: a reader that needs
// certainty still checks Temporal's record. returned must not block; it runs on the workflow's
// goroutine and schedules no command.
func ReturnedRuns(returned func(ReturnedRun)) interceptor.WorkerInterceptor {
	return &returnedInterceptor{returned: returned}
}

type returnedInterceptor struct {
	interceptor.WorkerInterceptorBase
	returned func(ReturnedRun)
}

func (i *returnedInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &returnedWorkflow{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, returned: i.returned}
}

type returnedWorkflow struct {
	interceptor.WorkflowInboundInterceptorBase
	returned func(ReturnedRun)
}

func (w *returnedWorkflow) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := w.Next.ExecuteWorkflow(ctx, in)
	if err != nil || workflow.IsReplaying(ctx) {
		return res, err
	}
	info := workflow.GetInfo(ctx)
	id, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(workflows.AttrIncidentID)
	w.returned(ReturnedRun{
		WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, WorkflowType: info.WorkflowType.Name,
		IncidentID: id, Started: info.WorkflowStartTime, Returned: workflow.Now(ctx), Result: res,
	})
	return res, err
}

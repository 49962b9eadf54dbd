package workflows

import (
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
)

// RuleChangesName is the registered type of the engine workflow that writes the automation rules'
// own changes (setSeverity, setStatus, setOwner, addTags) to the incident. Never rename it.
const RuleChangesName = "InterlockRuleChanges"

// RuleChanges is its input: the rules that made the changes, and the update they add up to.
type RuleChanges struct {
	Rules  []string                 `json:"rules"`
	Update activities.UpdateRequest `json:"update"`
}

// The rules' update is retried for as long as a playbook's write-back.
const ruleChangesAttempt, ruleChangesTotal = 30 * time.Second, 30 * time.Minute

// ApplyRuleChanges writes the update once. The intake starts it, with a deterministic workflow ID per
// incident event, only when the rules changed something, so a redelivered event changes nothing twice;
// the update itself is idempotent too (what the incident already has is not written).
func ApplyRuleChanges(ctx workflow.Context, in RuleChanges) (activities.WriteResult, error) {
	ctx = WithCallOptions(ctx, ruleChangesAttempt, ruleChangesTotal)
	var res activities.WriteResult
	err := CallOutside(ctx, activities.UpdateIncident, in.Update).Get(ctx, &res)
	return res, err
}

// RuleChangesMemo is the memo key under which the intake hands a playbook run the rules' changes of
// the event that started it (a RuleChanges), instead of starting an InterlockRuleChanges run of their
// own: one workflow per incident instead of two, which is most of what Temporal spends on it.
const RuleChangesMemo = "interlockRuleChanges"

// RuleChangesErrorMemo is the memo key a run sets when the rules' changes it carried could not be
// written, so the failure shows in the Temporal UI beside the playbook's own result.
const RuleChangesErrorMemo = "interlockRuleChangesError"

// RuleChangesInterceptor is the worker interceptor that writes the rules' changes a playbook run
// carries in its memo (RuleChangesMemo), alongside the playbook and without delaying it: the update
// starts before the playbook's first step and the run closes only once it has finished. A run without
// the memo (every run started before the intake did this, and runs started by hand) is left exactly as
// it was, so waiting runs replay unchanged.
type RuleChangesInterceptor struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (RuleChangesInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &ruleChangesInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type ruleChangesInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (i *ruleChangesInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	changes, ok := carriedRuleChanges(ctx)
	if !ok {
		return i.Next.ExecuteWorkflow(ctx, in)
	}
	update := CallOutside(WithCallOptions(ctx, ruleChangesAttempt, ruleChangesTotal), activities.UpdateIncident, changes.Update)
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	var written activities.WriteResult
	if uerr := update.Get(ctx, &written); uerr != nil {
		workflow.GetLogger(ctx).Error("the rules' changes could not be written to the incident", "rules", changes.Rules, "err", uerr)
		if merr := workflow.UpsertMemo(ctx, map[string]any{RuleChangesErrorMemo: uerr.Error()}); merr != nil {
			workflow.GetLogger(ctx).Error("record the rules' write-back failure", "err", merr)
		}
	}
	return res, err
}

// carriedRuleChanges reads the rules' changes from the run's memo; false when it carries none.
func carriedRuleChanges(ctx workflow.Context) (RuleChanges, bool) {
	var rc RuleChanges
	p, ok := workflow.GetInfo(ctx).Memo.GetFields()[RuleChangesMemo]
	if !ok {
		return rc, false
	}
	if err := converter.GetDefaultDataConverter().FromPayload(p, &rc); err != nil {
		// The intake wrote it; a memo that does not decode is not the rules' and is left alone.
		workflow.GetLogger(ctx).Error("the run's rule changes memo does not decode; not written", "err", err)
		return rc, false
	}
	return rc, true
}

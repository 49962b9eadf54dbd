package workflows

import (
	"time"

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

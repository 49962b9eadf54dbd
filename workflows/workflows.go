// Package workflows holds what every playbook shares: the task queue, the search attributes that make
// runs findable in the Temporal UI, workflow IDs, and activity options.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TaskQueue is the task queue every Interlock worker polls and every playbook runs on.
const TaskQueue = "interlock-playbooks"

// Search attributes set on every playbook run (Keyword unless noted). interlock dev registers them on
// its dev server; on another cluster, register them once with
// `temporal operator search-attribute create --name NAME --type TYPE`.
var (
	AttrPlaybook       = temporal.NewSearchAttributeKeyKeyword("InterlockPlaybook")
	AttrIncidentID     = temporal.NewSearchAttributeKeyKeyword("InterlockIncidentId")
	AttrIncidentNumber = temporal.NewSearchAttributeKeyInt64("InterlockIncidentNumber")
	AttrSeverity       = temporal.NewSearchAttributeKeyKeyword("InterlockSeverity")
	AttrSites          = temporal.NewSearchAttributeKeyKeywordList("InterlockSite")
	AttrDevices        = temporal.NewSearchAttributeKeyKeywordList("InterlockDevice")
)

// SearchAttribute describes one custom search attribute for registration on a server.
type SearchAttribute struct {
	Name string
	Type string // as the Temporal CLI spells it: Keyword, Int, KeywordList, ...
}

// SearchAttributes lists every custom search attribute Interlock sets.
func SearchAttributes() []SearchAttribute {
	return []SearchAttribute{
		{AttrPlaybook.GetName(), "Keyword"},
		{AttrIncidentID.GetName(), "Keyword"},
		{AttrIncidentNumber.GetName(), "Int"},
		{AttrSeverity.GetName(), "Keyword"},
		{AttrSites.GetName(), "KeywordList"},
		{AttrDevices.GetName(), "KeywordList"},
	}
}

// WithSideEffectOptions sets the activity options for calls to outside systems (ServiceNow, SMTP,
// Sentinel): a short attempt, retried by Temporal with backoff for up to maxRetryTime. The calls
// themselves are idempotent on their own keys, so a retry after an ambiguous failure is safe.
func WithSideEffectOptions(ctx workflow.Context, attempt, maxRetryTime time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    attempt,
		ScheduleToCloseTimeout: maxRetryTime,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

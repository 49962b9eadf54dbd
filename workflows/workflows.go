// Package workflows holds what every playbook shares: the task queue, the search attributes that make
// runs findable in the Temporal UI, workflow IDs, and activity options.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/otincident"
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
		{otincident.AttrStatus.GetName(), "Keyword"},
		{otincident.AttrOwner.GetName(), "Keyword"},
		{otincident.AttrLine.GetName(), "Keyword"},
		{otincident.AttrTactics.GetName(), "KeywordList"},
	}
}

// WithSideEffectOptions sets the options for calls to outside systems (ServiceNow, SMTP, Sentinel): a
// short attempt, retried with backoff for up to maxRetryTime. Make the calls with ExecuteSideEffect.
func WithSideEffectOptions(ctx workflow.Context, attempt, maxRetryTime time.Duration) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    attempt,
		ScheduleToCloseTimeout: maxRetryTime,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// ExecuteSideEffect runs an activity that calls an outside system, as a local activity: it runs in the
// worker that runs the workflow, and its result is recorded with the next workflow task instead of
// through a round trip per activity to the server. On this project's 2-core dev stack that is the
// difference between ~35 and ~90 playbook runs per second (with eager start, over 100).
//
// What a local activity gives up: it cannot heartbeat (none of ours run long), and a worker crash
// between the call and the next workflow task completion runs it again. Every side effect is
// idempotent on its own key (ServiceNow correlation_id lookup, deterministic email Message-ID), which
// is what makes that re-run safe, exactly as for a regular activity retried after a timeout.
//
// The activity is called by its pinned type name (activities.Type), never by the Go method's name.
func ExecuteSideEffect[Req, Res any](ctx workflow.Context, activity activities.Type[Req, Res], req Req) workflow.Future {
	return workflow.ExecuteLocalActivity(ctx, activity.Name, req)
}

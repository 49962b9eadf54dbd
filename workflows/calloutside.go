package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
)

// Calls to outside systems (ServiceNow, SMTP, Sentinel, the OT sensor) start as local activities: they
// run in the worker that runs the workflow and their result rides on the next workflow task, with no
// round trip per activity to the server. On this project's 2-core dev stack that is the difference
// between ~35 and ~90 playbook runs per second (over 100 with eager start); `interlock bench` prints
// both designs' ceilings side by side.
//
// A local activity is meant to finish well within the workflow task timeout (10 s). A call that fails
// or runs long therefore gets one short local budget and then continues as a regular activity under
// the same pinned name: server-side retries and timeouts, visible under Pending Activities in the
// Temporal UI, for the rest of the caller's retry time. What a local activity gives up otherwise: a
// worker crash between the call and the next workflow task completion runs it again. Every side
// effect is idempotent on its own key (ServiceNow correlation_id lookup, deterministic email
// Message-ID), which makes that re-run safe, as for a regular activity retried after a timeout.
const (
	// localAttempt and localBudget bound the fast path: one attempt, and its retries, well inside the
	// workflow task timeout.
	localAttempt = 3 * time.Second
	localBudget  = 5 * time.Second
	// regularFallback is the change ID of the fallback to regular activities. Runs that made their first
	// side effect before it keep the local-only path on replay (playbooks/doc.go tells the story).
	regularFallback = "side-effect-regular-fallback"
)

// WithCallOptions sets the options for calls to outside systems: each attempt at most attempt
// long, retried with backoff for up to maxRetryTime in all. Make the calls with CallOutside.
func WithCallOptions(ctx workflow.Context, attempt, maxRetryTime time.Duration) workflow.Context {
	retry := &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute}
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: attempt, ScheduleToCloseTimeout: maxRetryTime, RetryPolicy: retry,
	})
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: attempt, ScheduleToCloseTimeout: maxRetryTime, RetryPolicy: retry,
	})
}

// CallOutside calls an outside system through the activity's pinned type name (never the Go
// method's name): first as a local activity within localBudget, then, if that failed with an error
// worth retrying or ran out of time, as a regular activity with the options of WithCallOptions.
// A non-retryable failure (a rejected ticket, a refused recipient) is final at once.
func CallOutside[Req, Res any](ctx workflow.Context, activity activities.Type[Req, Res], req Req) workflow.Future {
	if workflow.GetVersion(ctx, regularFallback, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return workflow.ExecuteLocalActivity(ctx, activity.Name, req)
	}
	start := workflow.Now(ctx)
	lo := workflow.GetLocalActivityOptions(ctx)
	lo.StartToCloseTimeout = min(lo.StartToCloseTimeout, localAttempt)
	lo.ScheduleToCloseTimeout = min(lo.ScheduleToCloseTimeout, localBudget)
	local := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, lo), activity.Name, req)
	result, settle := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var res Res
		err := local.Get(ctx, &res)
		if continuesAsRegular(err) {
			res = *new(Res)
			err = continueAsRegular(ctx, start, err, activity.Name, req, &res)
		}
		settle.Set(res, err)
	})
	return result
}

// continueAsRegular runs the call as a regular activity after a local one failed with localErr: after
// the delay the outside system asked for (Retry-After), within what is left of the caller's retry time.
func continueAsRegular(ctx workflow.Context, start time.Time, localErr error, name string, req, res any) error {
	var appErr *temporal.ApplicationError
	if errors.As(localErr, &appErr) && appErr.NextRetryDelay() > 0 {
		if err := workflow.Sleep(ctx, appErr.NextRetryDelay()); err != nil {
			return err
		}
	}
	ao := workflow.GetActivityOptions(ctx)
	left := ao.ScheduleToCloseTimeout - workflow.Now(ctx).Sub(start)
	if left <= 0 {
		return localErr
	}
	ao.ScheduleToCloseTimeout = max(left, ao.StartToCloseTimeout)
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, ao), name, req).Get(ctx, res)
}

// continuesAsRegular says whether a local attempt's failure is worth the regular activity's retries.
func continuesAsRegular(err error) bool {
	if err == nil || temporal.IsCanceledError(err) {
		return false
	}
	var appErr *temporal.ApplicationError
	return !errors.As(err, &appErr) || !appErr.NonRetryable()
}

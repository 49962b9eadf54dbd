package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
)

// sideEffectRig runs one EnsureTicket call through CallOutside and records each attempt, local
// or regular.
type sideEffectRig struct {
	env      *testsuite.TestWorkflowEnvironment
	mu       sync.Mutex
	attempts []string // "local" or "regular", in order
	answer   func(n int, local bool) (activities.TicketResult, error)
}

func newSideEffectRig(t *testing.T, answer func(n int, local bool) (activities.TicketResult, error)) *sideEffectRig {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	r := &sideEffectRig{env: suite.NewTestWorkflowEnvironment(), answer: answer}
	activities.EnsureTicket.Register(r.env, func(context.Context, activities.EnsureTicketRequest) (activities.TicketResult, error) {
		return activities.TicketResult{}, errors.New("not mocked")
	})
	r.env.OnActivity(activities.EnsureTicketName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.EnsureTicketRequest) (activities.TicketResult, error) {
			local := activity.GetInfo(ctx).IsLocalActivity
			r.mu.Lock()
			r.attempts = append(r.attempts, map[bool]string{true: "local", false: "regular"}[local])
			n := len(r.attempts)
			r.mu.Unlock()
			return r.answer(n, local)
		})
	r.env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (activities.TicketResult, error) {
		var res activities.TicketResult
		ctx = WithCallOptions(ctx, 20*time.Second, time.Hour)
		err := CallOutside(ctx, activities.EnsureTicket, activities.EnsureTicketRequest{Table: "incident"}).Get(ctx, &res)
		return res, err
	}, workflow.RegisterOptions{Name: "SideEffectForTest"})
	return r
}

func (r *sideEffectRig) run(t *testing.T) (activities.TicketResult, error) {
	t.Helper()
	r.env.ExecuteWorkflow("SideEffectForTest")
	require.True(t, r.env.IsWorkflowCompleted())
	var res activities.TicketResult
	if err := r.env.GetWorkflowError(); err != nil {
		return res, err
	}
	require.NoError(t, r.env.GetWorkflowResult(&res))
	return res, nil
}

var ticket = activities.TicketResult{Number: "INC0010001", Created: true}

func TestSideEffectFastPathStaysLocal(t *testing.T) {
	t.Parallel()
	r := newSideEffectRig(t, func(n int, _ bool) (activities.TicketResult, error) {
		if n == 1 {
			return activities.TicketResult{}, errors.New("connection reset") // retried locally, inside the budget
		}
		return ticket, nil
	})
	res, err := r.run(t)
	require.NoError(t, err)
	require.Equal(t, ticket, res)
	require.Equal(t, []string{"local", "local"}, r.attempts)
}

func TestSideEffectFailingPastTheLocalBudgetContinuesAsRegular(t *testing.T) {
	t.Parallel()
	r := newSideEffectRig(t, func(_ int, local bool) (activities.TicketResult, error) {
		if local {
			return activities.TicketResult{}, errors.New("503 service unavailable")
		}
		return ticket, nil
	})
	res, err := r.run(t)
	require.NoError(t, err)
	require.Equal(t, ticket, res)
	require.Equal(t, "regular", r.attempts[len(r.attempts)-1])
	require.GreaterOrEqual(t, len(r.attempts), 3, "local retries (500 ms, 1 s, 2 s) fill the 5 s budget first")
	require.Equal(t, 1, countOf(r.attempts, "regular"))
}

func TestSideEffectHangingCallContinuesAsRegular(t *testing.T) {
	t.Parallel()
	r := newSideEffectRig(t, func(_ int, local bool) (activities.TicketResult, error) {
		if local {
			time.Sleep(localAttempt + 500*time.Millisecond) // real time: the local attempt's timeout cuts it off
		}
		return ticket, nil
	})
	r.env.SetTestTimeout(time.Minute)
	res, err := r.run(t)
	require.NoError(t, err)
	require.Equal(t, ticket, res)
	require.Equal(t, "regular", r.attempts[len(r.attempts)-1])
}

func TestSideEffectNonRetryableIsFinalAtOnce(t *testing.T) {
	t.Parallel()
	r := newSideEffectRig(t, func(int, bool) (activities.TicketResult, error) {
		return activities.TicketResult{}, temporal.NewNonRetryableApplicationError("rejected", activities.FailureServiceNowRejected, nil)
	})
	_, err := r.run(t)
	require.ErrorContains(t, err, "rejected")
	require.Equal(t, []string{"local"}, r.attempts)
}

func TestSideEffectRegularWaitsTheRetryAfter(t *testing.T) {
	t.Parallel()
	var at []time.Time
	var r *sideEffectRig
	r = newSideEffectRig(t, func(_ int, local bool) (activities.TicketResult, error) {
		at = append(at, r.env.Now())
		if local {
			return activities.TicketResult{}, temporal.NewApplicationErrorWithOptions("throttled", activities.FailureServiceNowThrottled,
				temporal.ApplicationErrorOptions{NextRetryDelay: 2 * time.Minute})
		}
		return ticket, nil
	})
	_, err := r.run(t)
	require.NoError(t, err)
	require.Equal(t, []string{"local", "regular"}, r.attempts)
	require.GreaterOrEqual(t, at[1].Sub(at[0]), 2*time.Minute, "ServiceNow's Retry-After, time skipped")
}

// TestSideEffectBeforeTheFallbackStaysLocal: a run that made its first side effect before the change
// (no version marker) keeps the local-only path, retrying locally for its whole budget.
func TestSideEffectBeforeTheFallbackStaysLocal(t *testing.T) {
	t.Parallel()
	r := newSideEffectRig(t, func(n int, _ bool) (activities.TicketResult, error) {
		if n < 6 {
			return activities.TicketResult{}, errors.New("503 service unavailable")
		}
		return ticket, nil
	})
	r.env.OnGetVersion(regularFallback, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	res, err := r.run(t)
	require.NoError(t, err)
	require.Equal(t, ticket, res)
	require.Equal(t, 6, countOf(r.attempts, "local"))
	require.Zero(t, countOf(r.attempts, "regular"))
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

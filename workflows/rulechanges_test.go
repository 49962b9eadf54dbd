package workflows

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
)

// ruleChangesRig runs a stand-in playbook (it makes one local activity call of its own and returns a
// result) under RuleChangesInterceptor, and records every UpdateIncident the interceptor makes.
type ruleChangesRig struct {
	env     *testsuite.TestWorkflowEnvironment
	mu      sync.Mutex
	updates []activities.UpdateRequest
	// order is what ran, in order.
	order []string
}

func newRuleChangesRig(t *testing.T, updateErr error) *ruleChangesRig {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	r := &ruleChangesRig{env: suite.NewTestWorkflowEnvironment()}
	r.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&RuleChangesInterceptor{}}})
	activities.UpdateIncident.Register(r.env, func(_ context.Context, req activities.UpdateRequest) (activities.WriteResult, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.updates = append(r.updates, req)
		r.order = append(r.order, "update")
		return activities.WriteResult{}, updateErr
	})
	activities.EnsureTicket.Register(r.env, func(context.Context, activities.EnsureTicketRequest) (activities.TicketResult, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.order = append(r.order, "playbook")
		return activities.TicketResult{Number: "INC0010001"}, nil
	})
	r.env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (string, error) {
		var res activities.TicketResult
		ctx = WithCallOptions(ctx, ruleChangesAttempt, ruleChangesTotal)
		err := CallOutside(ctx, activities.EnsureTicket, activities.EnsureTicketRequest{Table: "incident"}).Get(ctx, &res)
		return res.Number, err
	}, workflow.RegisterOptions{Name: "PlaybookForTest"})
	return r
}

func (r *ruleChangesRig) run(t *testing.T) string {
	t.Helper()
	r.env.ExecuteWorkflow("PlaybookForTest")
	require.True(t, r.env.IsWorkflowCompleted())
	require.NoError(t, r.env.GetWorkflowError(), "the playbook's own outcome is the run's, whatever the rules' update did")
	var got string
	require.NoError(t, r.env.GetWorkflowResult(&got))
	return got
}

func TestRuleChangesInterceptor(t *testing.T) {
	carried := RuleChanges{Rules: []string{"triage"}, Update: activities.UpdateRequest{
		IncidentID: "inc-1", IncidentARMID: "/subscriptions/s/x/incidents/inc-1", Severity: "High", AddTags: []string{"ot", "new-asset"}}}
	tests := []struct {
		name        string
		memo        map[string]any
		updateErr   error
		wantUpdates []activities.UpdateRequest
	}{
		{name: "no memo: a run started by hand, or before the intake carried changes", wantUpdates: nil},
		{name: "other memo keys only", memo: map[string]any{"interlockEvent": "Create"}, wantUpdates: nil},
		{name: "carried changes are written once", memo: map[string]any{RuleChangesMemo: carried}, wantUpdates: []activities.UpdateRequest{carried.Update}},
		{name: "a refused update leaves the playbook's result", memo: map[string]any{RuleChangesMemo: carried},
			updateErr:   temporal.NewNonRetryableApplicationError("incident not found", "NotFound", nil),
			wantUpdates: []activities.UpdateRequest{carried.Update}},
		{name: "a memo that is not rule changes is left alone", memo: map[string]any{RuleChangesMemo: "tags please"}, wantUpdates: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuleChangesRig(t, tc.updateErr)
			if tc.memo != nil {
				r.env.SetMemoOnStart(tc.memo)
			}
			require.Equal(t, "INC0010001", r.run(t))
			require.Equal(t, tc.wantUpdates, r.updates)
			require.Contains(t, r.order, "playbook")
		})
	}
}

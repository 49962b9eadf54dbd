package worker_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nexus-rpc/sdk-go/nexus"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
)

// names records what is registered, and how.
type names struct {
	workflows, activities []string
	unnamed               int // registrations under the Go name, which a rename would change
}

func (n *names) RegisterWorkflow(any) { n.unnamed++ }
func (n *names) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	n.workflows = append(n.workflows, o.Name)
}
func (n *names) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) { n.unnamed++ }
func (n *names) RegisterActivity(any)                                         { n.unnamed++ }
func (n *names) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	n.activities = append(n.activities, o.Name)
}
func (n *names) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) { n.unnamed++ }
func (n *names) RegisterNexusService(*nexus.Service)                          { n.unnamed++ }

func registered(t *testing.T) *names {
	t.Helper()
	cfg := config.Default()
	cfg.Intake.AnswerSecret = config.NewSecret(strings.Repeat("s", 32))
	cfg.Sentinel.WriteBack = config.WriteBackLog
	app, err := worker.Build(cfg, discard())
	require.NoError(t, err)
	n := &names{}
	require.NoError(t, worker.Register(n, app.Playbooks, app.Activities))
	return n
}

// TestEveryActivityRegisteredByItsPinnedName: each activity type name is registered once, explicitly,
// and nothing is registered under a Go name.
func TestEveryActivityRegisteredByItsPinnedName(t *testing.T) {
	t.Parallel()
	n := registered(t)
	require.Zero(t, n.unnamed)
	require.ElementsMatch(t, activities.Names(), n.activities)
	require.NotContains(t, n.workflows, "")
}

// TestRegisterRefusesAMissingActivity: a worker built without one of the activity structs does not
// start, rather than failing each run that calls it.
func TestRegisterRefusesAMissingActivity(t *testing.T) {
	t.Parallel()
	err := worker.Register(&names{}, playbooks.Shipped(config.Default().Playbooks), worker.Activities{})
	require.ErrorContains(t, err, "Tickets is not set")
	require.ErrorContains(t, err, "Layer is not set")
}

// TestHistoriesCallOnlyRegisteredActivities: every activity a committed history scheduled (regular, or
// local in a marker) and every workflow it ran or started is registered today, so those runs can go on.
func TestHistoriesCallOnlyRegisteredActivities(t *testing.T) {
	t.Parallel()
	n := registered(t)
	calls := map[string]int{}
	for name, hist := range historyFiles(t) {
		for _, ev := range hist.GetEvents() {
			var act, wf string
			switch {
			case ev.GetActivityTaskScheduledEventAttributes() != nil:
				act = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			case ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity":
				act = localActivityType(t, ev.GetMarkerRecordedEventAttributes().GetDetails()["data"])
			case ev.GetWorkflowExecutionStartedEventAttributes() != nil:
				wf = ev.GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
			case ev.GetStartChildWorkflowExecutionInitiatedEventAttributes() != nil:
				wf = ev.GetStartChildWorkflowExecutionInitiatedEventAttributes().GetWorkflowType().GetName()
			}
			if act != "" {
				calls[act]++
				require.True(t, slices.Contains(n.activities, act), "%s event %d calls activity %q, which is not registered", name, ev.GetEventId(), act)
			}
			if wf != "" {
				require.True(t, slices.Contains(n.workflows, wf), "%s event %d runs workflow %q, which is not registered", name, ev.GetEventId(), wf)
			}
		}
	}
	require.Len(t, calls, len(activities.Names()), "the histories call every activity: %v", calls)
}

// localActivityType reads the activity type from a local activity marker's data.
func localActivityType(t *testing.T, data *commonpb.Payloads) string {
	t.Helper()
	var m struct {
		ActivityType string
	}
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(data, &m))
	require.NotEmpty(t, m.ActivityType)
	return m.ActivityType
}

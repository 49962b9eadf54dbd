package workflows_test

import (
	"errors"
	"go.temporal.io/sdk/activity"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/workflows"
)

// fakeRules starts the PLC playbook on create and the status sync on every status change.
type fakeRules struct{}

func (fakeRules) Evaluate(ev incident.Event, _ time.Time) rules.Result {
	switch {
	case ev.Type == incident.EventCreate:
		inc := ev.Incident
		return rules.Result{Incident: inc, Matches: []rules.Match{{Rule: "plc"}}, Playbooks: []string{"PLCReprogrammingNotice"},
			Changes: []rules.Change{{Rule: "plc", Field: "labels", To: "ot"}}}
	case ev.Previous != nil && ev.Previous.Status != ev.Incident.Status:
		return rules.Result{Incident: ev.Incident, Matches: []rules.Match{{Rule: "sync"}}, Playbooks: []string{"AlertStatusSync"}}
	}
	return rules.Result{}
}

type fakeAssets struct{}

func (fakeAssets) Enrich(inc *incident.Incident) {
	for i := range inc.Devices {
		if inc.Devices[i].IP == "10.20.3.10" {
			inc.Devices[i].Name, inc.Devices[i].Type = "PLC-L3-01", "PLC"
		}
	}
}

func (fakeAssets) Impact(incident.Incident) incident.Impact {
	return incident.Impact{Statement: "Line 3: PLC-L3-01; production stop risk high", Site: "Rotterdam Plant", Lines: []string{"Line 3"}, Risk: "high"}
}

func plcRecord(id string, at time.Time) otincident.Record {
	a := incident.Alert{VendorOriginalID: id, Title: "Unauthorized PLC Programming", Severity: "High", ProviderName: incident.ProviderOTSensor, TimeGenerated: at}
	return otincident.Record{
		Alert:       incident.Incident{ID: "d4iot-sensor-" + id, Alerts: []incident.Alert{a}, Devices: []incident.Device{{IP: "10.20.3.10"}}},
		Creation:    otincident.Creation{Rule: "Unauthorized PLC changes", Title: a.Title, Severity: "High"},
		Fingerprint: id + at.String(),
	}
}

type child struct{ names []string }

func newEnv(t *testing.T, settings otincident.Settings) (*testsuite.TestWorkflowEnvironment, *child) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	wf := &workflows.Incident{Playbooks: func(name, id, key string) (string, bool) {
		if name == "Unknown" {
			return "", false
		}
		if name == "AlertStatusSync" {
			return name + "/" + id + "/" + key, true
		}
		return name + "/" + id, true
	}}
	env.RegisterWorkflowWithOptions(wf.Run, workflow.RegisterOptions{Name: otincident.WorkflowType})
	c := &child{}
	for _, name := range []string{"PLCReprogrammingNotice", "AlertStatusSync"} {
		env.RegisterWorkflowWithOptions(func(ctx workflow.Context, inc incident.Incident) (string, error) {
			c.names = append(c.names, name+":"+inc.ID+":"+inc.Status)
			return "done", nil
		}, workflow.RegisterOptions{Name: name})
	}
	layer := &activities.IncidentLayer{Rules: fakeRules{}, Assets: fakeAssets{}, Settings: settings}
	activities.PrepareIncidentEvent.Register(env, layer.PrepareIncidentEvent)
	env.RegisterActivityWithOptions(layer.IncidentSettings, activity.RegisterOptions{Name: activities.IncidentSettingsName})
	return env, c
}

type updateResult struct {
	value any
	err   error
}

func update(env *testsuite.TestWorkflowEnvironment, name string, into any, args ...any) *updateResult {
	r := &updateResult{}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { r.err = err },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			r.value, r.err = v, err
		},
	}, args...)
	return r
}

func TestIncidentLifecycle(t *testing.T) {
	env, c := newEnv(t, otincident.Settings{KeepClosedFor: 24 * time.Hour})
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	env.SetStartTime(t0)
	var first, dup *updateResult
	var refused, closing *updateResult
	env.RegisterDelayedCallback(func() {
		first = update(env, otincident.UpdateAddAlerts, nil, otincident.AddAlerts{Records: []otincident.Record{plcRecord("1-1", t0)}})
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		dup = update(env, otincident.UpdateAddAlerts, nil, otincident.AddAlerts{Records: []otincident.Record{plcRecord("1-1", t0)}})
	}, 2*time.Second)
	env.RegisterDelayedCallback(func() {
		refused = update(env, otincident.UpdateChange, nil, otincident.Change{Actor: "api", Status: "Closed"})
	}, 3*time.Second)
	env.RegisterDelayedCallback(func() {
		update(env, otincident.UpdateChange, nil, otincident.Change{Actor: "api", Status: "Active", Owner: &incident.Owner{Email: "alice@example.com"}})
	}, 4*time.Second)
	env.RegisterDelayedCallback(func() {
		closing = update(env, otincident.UpdateChange, nil, otincident.Change{Actor: "cli", Status: "Closed", Classification: "TruePositive"})
	}, 5*time.Second)
	var mid otincident.State
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(otincident.QueryState)
		require.NoError(t, err)
		require.NoError(t, v.Get(&mid))
	}, 6*time.Second)

	env.ExecuteWorkflow(otincident.WorkflowType, otincident.Input{ID: "ot-sensor-1-1"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "a closed incident's run ends after KeepClosedFor")

	require.NoError(t, first.err)
	require.NoError(t, dup.err)
	require.Error(t, refused.err, "closing without a classification is refused")
	require.ErrorContains(t, refused.err, "closing needs a classification", "the validator says why")
	require.NoError(t, closing.err)

	var st otincident.State
	require.NoError(t, env.GetWorkflowResult(&st))
	require.Equal(t, incident.StatusClosed, st.Incident.Status)
	require.Equal(t, "TruePositive", st.Classification)
	require.Equal(t, []string{"ot"}, st.Incident.Labels, "the rule's tag is applied")
	require.Equal(t, "Line 3: PLC-L3-01; production stop risk high", st.Incident.Impact.Statement)
	require.Equal(t, "PLC-L3-01", st.Incident.Devices[0].Name, "enriched from the directory")
	require.Equal(t, 2, st.Records)
	require.Equal(t, 1, st.Duplicates)
	require.Equal(t, []string{
		"PLCReprogrammingNotice:ot-sensor-1-1:New",
		"AlertStatusSync:ot-sensor-1-1:Active",
		"AlertStatusSync:ot-sensor-1-1:Closed",
	}, c.names, "the PLC playbook once, the status sync once per status change")
	require.Len(t, st.Playbooks, 3)
	for _, p := range st.Playbooks {
		require.Equal(t, "started", p.Status)
	}
	require.Equal(t, incident.StatusClosed, mid.Incident.Status, "the closed incident still answers queries while it is kept")
	require.Equal(t, "alice@example.com", mid.Incident.Owner.Email)
	require.NotEmpty(t, mid.Timeline)
}

func TestIncidentContinuesAsNew(t *testing.T) {
	env, _ := newEnv(t, otincident.Settings{MaxHistoryEvents: 60})
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	env.SetStartTime(t0)
	for i := range 40 {
		env.RegisterDelayedCallback(func() {
			env.SetCurrentHistoryLength(10 + 3*i) // the test environment keeps no history length of its own
			update(env, otincident.UpdateAddAlerts, nil, otincident.AddAlerts{Records: []otincident.Record{plcRecord("1-1", t0.Add(time.Duration(i)*time.Minute))}})
		}, time.Duration(i+1)*time.Second)
	}
	env.ExecuteWorkflow(otincident.WorkflowType, otincident.Input{ID: "ot-sensor-1-1"})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "want continue-as-new, got %v", err)
	var in otincident.Input
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	require.Equal(t, "ot-sensor-1-1", in.ID)
	require.NotNil(t, in.State, "the state travels to the next run")
	require.Equal(t, "ot-sensor-1-1", in.State.Incident.ID)
	require.Positive(t, in.State.Records)
}

func TestIncidentRefusesBadID(t *testing.T) {
	env, _ := newEnv(t, otincident.Settings{})
	env.ExecuteWorkflow(otincident.WorkflowType, otincident.Input{ID: "4312"})
	require.Error(t, env.GetWorkflowError())
}

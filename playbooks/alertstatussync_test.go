package playbooks

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/defender"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
)

const (
	syncSub   = "7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11"
	syncARMID = "/subscriptions/" + syncSub + "/resourceGroups/rg-soc-prod/providers/Microsoft.OperationalInsights/workspaces/law-soc-prod/providers/Microsoft.SecurityInsights/Incidents/inc-9"
)

func alertPath(id string) string {
	return "/subscriptions/" + syncSub + "/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/" + id
}

func alertURI(id string) string {
	return "https://management.azure.com" + alertPath(id) + "?api-version=2021-07-01-preview"
}

// asiAlert is a Defender for IoT alert as a solution analytics rule re-raises it in Sentinel.
func asiAlert(id string) incident.Alert {
	return incident.Alert{ID: "sys-" + id, Title: "(MDIoT) Unauthorized PLC Programming", VendorOriginalID: id,
		AlertType: "ASIScheduledAlerts_5c3e8a1d", Engine: "Scheduled Alerts", ManagementURI: alertURI(id)}
}

// fakeCloud is the Azure alert API in memory: what the activity reads and writes, over the interface.
type fakeCloud struct {
	mu      sync.Mutex
	status  map[string]string
	patches []string
	fail    error
}

func (f *fakeCloud) GetAlert(_ context.Context, ref defender.AlertRef) (defender.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return defender.Alert{}, f.fail
	}
	var a defender.Alert
	a.Properties.Status = f.status[ref.Path()]
	return a, nil
}

func (f *fakeCloud) SetAlertStatus(_ context.Context, ref defender.AlertRef, status string) (defender.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[ref.Path()] = status
	f.patches = append(f.patches, ref.AlertID+"="+status)
	var a defender.Alert
	a.Properties.Status = status
	return a, nil
}

type fakeSensor struct {
	mu      sync.Mutex
	handled map[string]bool
	calls   []string
}

func (f *fakeSensor) HandleAlert(_ context.Context, uuid, action string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, uuid+":"+action)
	if f.handled[uuid] {
		return "Alert was already handled (handle)", nil
	}
	f.handled[uuid] = true
	return "Alert update request finished successfully", nil
}

type fixedStatus string

func (s fixedStatus) IncidentStatus(context.Context, string) (string, error) { return string(s), nil }

type syncRig struct {
	env      *testsuite.TestWorkflowEnvironment
	cloud    *fakeCloud
	sensor   *fakeSensor
	act      *activities.AlertStatus
	mu       sync.Mutex
	requests []activities.AlertSyncRequest
	comments []activities.CommentRequest
}

func newSyncRig(t *testing.T, s SyncSettings) *syncRig {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	r := &syncRig{env: suite.NewTestWorkflowEnvironment(), cloud: &fakeCloud{status: map[string]string{}}, sensor: &fakeSensor{handled: map[string]bool{}}}
	registerActivityTypes(r.env)
	r.act = &activities.AlertStatus{Cloud: r.cloud, Sensor: r.sensor, AllowedHosts: []string{"management.azure.com"}}
	p := &AlertStatusSync{Settings: s}
	r.env.RegisterWorkflowWithOptions(p.Run, workflow.RegisterOptions{Name: AlertStatusSyncName})
	onActivity(r.env, activities.SyncAlertStatus).Return(
		func(ctx context.Context, req activities.AlertSyncRequest) (activities.AlertSyncResult, error) {
			r.mu.Lock()
			r.requests = append(r.requests, req)
			r.mu.Unlock()
			return r.act.SyncAlertStatus(ctx, req)
		})
	onActivity(r.env, activities.AddIncidentComment).Return(
		func(_ context.Context, req activities.CommentRequest) (activities.WriteResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.comments = append(r.comments, req)
			return activities.WriteResult{}, nil
		})
	return r
}

func (r *syncRig) run(t *testing.T, inc incident.Incident) (AlertStatusSyncResult, error) {
	t.Helper()
	r.env.ExecuteWorkflow(AlertStatusSyncName, inc)
	require.True(t, r.env.IsWorkflowCompleted())
	var res AlertStatusSyncResult
	if err := r.env.GetWorkflowError(); err != nil {
		return res, err
	}
	require.NoError(t, r.env.GetWorkflowResult(&res))
	return res, nil
}

func syncIncident(status string, alerts ...incident.Alert) incident.Incident {
	return incident.Incident{ID: "inc-9", ARMID: syncARMID, Number: 4318, Title: "(MDIoT) Unauthorized PLC Programming", Status: status, Alerts: alerts}
}

func defaultSync() SyncSettings { return SyncSettingsFrom(config.Default().Playbooks.AlertStatusSync) }

func TestAlertStatusSyncSetsEveryDefenderAlert(t *testing.T) {
	t.Parallel()
	r := newSyncRig(t, defaultSync())
	r.cloud.status[alertPath("a1")] = "New"
	r.cloud.status[alertPath("a2")] = "InProgress"
	raw := incident.Alert{ID: "sys-a3", Title: "Unauthorized PLC Programming", VendorOriginalID: "a3", ProviderName: "IoTSecurity", ManagementURI: alertURI("a3")}
	r.cloud.status[alertPath("a3")] = "Closed"
	res, err := r.run(t, syncIncident("Active", asiAlert("a1"), asiAlert("a2"), raw, asiAlert("a1")))
	require.NoError(t, err)
	require.Equal(t, "InProgress", res.AlertStatus)
	require.Len(t, res.Alerts, 3, "the repeated alert is listed once")
	require.Equal(t, activities.AlertUpdated, res.Alerts[0].Action)
	require.Equal(t, "New", res.Alerts[0].From)
	require.Equal(t, "InProgress", res.Alerts[0].To)
	require.Equal(t, alertPath("a1"), res.Alerts[0].Target)
	require.Equal(t, incident.ProviderASIScheduled, res.Alerts[0].Provider)
	require.Equal(t, activities.AlertUnchanged, res.Alerts[1].Action, "already InProgress: read, not written")
	require.Equal(t, activities.AlertUpdated, res.Alerts[2].Action)
	require.Equal(t, incident.ProviderIoTSecurity, res.Alerts[2].Provider)
	require.ElementsMatch(t, []string{"a1=InProgress", "a3=InProgress"}, r.cloud.patches)

	require.Len(t, r.comments, 1)
	require.Equal(t, "status-sync", r.comments[0].Purpose)
	require.Equal(t, syncARMID, r.comments[0].IncidentARMID)
	require.Contains(t, r.comments[0].Message, "Defender for IoT alert status <b>InProgress</b>")
	require.Contains(t, r.comments[0].Message, "Unauthorized PLC Programming (a1): set New → InProgress")
	require.Contains(t, r.comments[0].Message, "(a2): already InProgress")
	require.Equal(t, res.Comment, r.comments[0].Message)

	// A second run for the same status changes nothing.
	r2 := newSyncRig(t, defaultSync())
	r2.cloud = r.cloud
	r2.act.Cloud = r.cloud
	before := len(r.cloud.patches)
	res2, err := r2.run(t, syncIncident("Active", asiAlert("a1"), asiAlert("a2"), raw))
	require.NoError(t, err)
	for _, a := range res2.Alerts {
		require.Equal(t, activities.AlertUnchanged, a.Action, a.AlertID)
	}
	require.Len(t, r.cloud.patches, before)
}

func TestAlertStatusSyncRefusesHostileURIsWithoutCalling(t *testing.T) {
	t.Parallel()
	r := newSyncRig(t, defaultSync())
	bad := func(id, uri string) incident.Alert { a := asiAlert(id); a.ManagementURI = uri; return a }
	res, err := r.run(t, syncIncident("Closed",
		bad("h1", "https://evil.example.com"+alertPath("h1")),
		bad("h2", "https://127.0.0.1:8443"+alertPath("h2")),
		bad("h3", "https://management.azure.com/subscriptions/"+syncSub+"/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.IoTSecurity"),
		bad("h4", "https://localhost"+alertPath("h4")),
		asiAlert("ok"),
	))
	require.NoError(t, err)
	require.Len(t, res.Alerts, 5)
	for i, want := range []string{"not on playbooks.alertStatusSync.allowedHosts", "IP address or loopback", "path is not", "IP address or loopback"} {
		require.Equal(t, activities.AlertRefused, res.Alerts[i].Action, res.Alerts[i].AlertID)
		require.Contains(t, res.Alerts[i].Reason, want)
	}
	require.Equal(t, activities.AlertUpdated, res.Alerts[4].Action)
	require.Len(t, r.requests, 1, "no activity ever saw a refused URI")
	require.Equal(t, alertURI("ok"), r.requests[0].Alert.ManagementURI)
	require.Equal(t, []string{"ok=Closed"}, r.cloud.patches)
	require.Contains(t, res.Comment, "<b>not changed</b>: AlertManagementUri refused: host evil.example.com")
}

func TestAlertStatusSyncSkipsWhatIsNotDefender(t *testing.T) {
	t.Parallel()
	r := newSyncRig(t, defaultSync())
	other := incident.Alert{ID: "m1", Title: "Impossible travel", ProductName: "Microsoft Entra ID Protection", ManagementURI: alertURI("m1")}
	noURI := incident.Alert{ID: "n1", Title: "New Asset Detected", ProviderName: "IoTSecurity", VendorOriginalID: "5c3e8a1d"}
	scheduledElsewhere := incident.Alert{ID: "s1", Title: "Custom rule", AlertType: "ASIScheduledAlerts_x"}
	res, err := r.run(t, syncIncident("Active", other, noURI, scheduledElsewhere))
	require.NoError(t, err)
	require.Len(t, res.Alerts, 3)
	require.Equal(t, "not a Defender for IoT alert", res.Alerts[0].Reason)
	require.Contains(t, res.Alerts[1].Reason, "no AlertManagementUri")
	require.Equal(t, "not a Defender for IoT alert", res.Alerts[2].Reason)
	for _, a := range res.Alerts {
		require.Equal(t, activities.AlertSkipped, a.Action)
	}
	require.Empty(t, r.requests)
	require.Len(t, r.comments, 1)
}

func TestAlertStatusSyncOnPremisesSensor(t *testing.T) {
	t.Parallel()
	sensorAlert := incident.Alert{ID: "1-1594550943000", Title: "Unauthorized PLC Programming", VendorOriginalID: "1-1594550943000", ProviderName: incident.ProviderOTSensor}
	r := newSyncRig(t, defaultSync())
	res, err := r.run(t, syncIncident("Active", sensorAlert))
	require.NoError(t, err)
	require.Equal(t, activities.AlertSkipped, res.Alerts[0].Action)
	require.Contains(t, res.Alerts[0].Reason, "can only close")
	require.Empty(t, r.sensor.calls)

	r = newSyncRig(t, defaultSync())
	r.act.LearnOnClose = true
	res, err = r.run(t, syncIncident("Closed", sensorAlert))
	require.NoError(t, err)
	require.Equal(t, activities.AlertUpdated, res.Alerts[0].Action)
	require.Equal(t, activities.AlertViaSensor, res.Alerts[0].Via)
	require.Equal(t, []string{"1-1594550943000:handleAndLearn"}, r.sensor.calls)
	require.Contains(t, res.Comment, "closed on the OT sensor")
}

func TestAlertStatusSyncFollowsTheIncidentAsItIsNow(t *testing.T) {
	t.Parallel()
	r := newSyncRig(t, defaultSync())
	r.act.Incidents = fixedStatus("Closed") // the analyst closed it after the "Active" event was sent
	r.cloud.status[alertPath("a1")] = "New"
	res, err := r.run(t, syncIncident("Active", asiAlert("a1")))
	require.NoError(t, err)
	require.Equal(t, "Closed", res.Alerts[0].To)
	require.Equal(t, []string{"a1=Closed"}, r.cloud.patches)
}

func TestAlertStatusSyncNothingToDo(t *testing.T) {
	t.Parallel()
	r := newSyncRig(t, defaultSync())
	res, err := r.run(t, syncIncident("Resolved", asiAlert("a1")))
	require.NoError(t, err)
	require.Contains(t, res.Reason, `incident status "Resolved" means no alert status`)
	require.Empty(t, r.requests)
	require.Empty(t, r.comments)

	r = newSyncRig(t, defaultSync())
	res, err = r.run(t, syncIncident("Active"))
	require.NoError(t, err)
	require.Equal(t, "the incident has no alerts", res.Reason)
	require.Empty(t, r.comments)

	r = newSyncRig(t, defaultSync())
	_, err = r.run(t, incident.Incident{ID: " ", Status: "Active"})
	require.ErrorContains(t, err, "id: missing", "an incident without an id is refused before the run starts")
}

func TestAlertStatusSyncFailsOnlyWhenEveryAlertFailed(t *testing.T) {
	t.Parallel()
	s := defaultSync()
	s.Comment = true
	r := newSyncRig(t, s)
	r.act.Cloud = nil // no Azure identity: the activity refuses for good
	res, err := r.run(t, syncIncident("Closed", asiAlert("a1"), asiAlert("a2")))
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, FailureAlertSyncFailed, ae.Type())
	require.Contains(t, ae.Message(), "no alert status could be set (2 failed)")
	require.Len(t, r.comments, 1, "the comment says so before the run fails")
	require.Contains(t, r.comments[0].Message, "<b>failed</b>: ")
	require.Contains(t, r.comments[0].Message, "no Azure identity is configured")
	_ = res

	s.Comment = false
	r = newSyncRig(t, s)
	r.cloud.status[alertPath("a1")] = "New"
	res, err = r.run(t, syncIncident("Closed", asiAlert("a1"), incident.Alert{ID: "x", Title: "other"}))
	require.NoError(t, err)
	require.Empty(t, r.comments, "comment: false writes none")
	require.Empty(t, res.Comment)
}

// TestAlertStatusSyncEscapesAlertText: alert titles and IDs are hostile, in the comment too.
func TestAlertStatusSyncEscapesAlertText(t *testing.T) {
	t.Parallel()
	r := newSyncRig(t, defaultSync())
	a := asiAlert("a1")
	a.Title = `<img src=x onerror=alert(1)>`
	a.ManagementURI = `https://evil.example.com/"><script>`
	res, err := r.run(t, syncIncident("Active", a))
	require.NoError(t, err)
	require.NotContains(t, res.Comment, "<img")
	require.NotContains(t, res.Comment, "<script")
	require.True(t, strings.Contains(res.Comment, "&lt;img"))
}

func TestAlertStatusSyncPlaybookMetadata(t *testing.T) {
	t.Parallel()
	meta, ok := Shipped(config.Default().Playbooks).Lookup(AlertStatusSyncName)
	require.True(t, ok)
	require.Equal(t, "AlertStatusSync", meta.Name)
	require.True(t, meta.PerEvent, "each status change is its own run")
	require.Equal(t, "AlertStatusSync/inc-9/ev-2", WorkflowID(meta, "inc-9", "ev-2"))
}

package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/sensorstandin"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// These tests read what the playbooks wrote back on the Sentinel stand-in, over its real API rules.

const fixtureAlertID = "5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47"

func incidentARMID(name string) string {
	return "/subscriptions/" + testenv.FixtureSubscription + "/resourceGroups/" + testenv.FixtureResourceGroup +
		"/providers/Microsoft.OperationalInsights/workspaces/" + testenv.FixtureWorkspace + "/providers/Microsoft.SecurityInsights/Incidents/" + name
}

func alertPath(id string) string {
	return "/subscriptions/" + testenv.FixtureSubscription + "/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/" + id
}

// plcFixture is the PLC fixture made unique to tag, its Defender for IoT alert too.
func plcFixture(t *testing.T, file, tag string) []byte {
	return []byte(strings.ReplaceAll(string(testenv.Fixture(t, file, tag)), fixtureAlertID, "alert-"+tag))
}

// waitRun waits for a run to close and decodes its result.
func waitRun(ctx context.Context, t *testing.T, h *harness, wid string, out any) {
	t.Helper()
	require.NoError(t, h.client.GetWorkflow(ctx, wid, "").Get(ctx, out))
}

func requireReadableComments(t *testing.T, inc azurestandin.Incident) {
	t.Helper()
	for _, c := range inc.Comments {
		require.Empty(t, azurestandin.CommentMarkupProblems(c.Message), "comment %s uses markup Sentinel does not show: %s", c.Name, c.Message)
		require.Equal(t, 1, c.Writes, "comment %s was written once", c.Name)
	}
}

// TestNewWorkstationWriteBackOnSentinel: the ticket comment lands on the incident, once, even when the
// run is started again by hand.
func TestNewWorkstationWriteBackOnSentinel(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, a := h.post(t, testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", "wb1"))
	require.Equal(t, http.StatusAccepted, code)
	var res playbooks.NewEngineeringStationResult
	waitRun(ctx, t, h, a.Runs[0].WorkflowID, &res)
	require.Empty(t, res.CommentError)

	// The default rule's own action (addTags) is written back too, by its own run.
	require.Eventually(t, func() bool {
		inc, _ := h.azure.Stub.Incident(incidentARMID("nes-wb1"))
		return len(inc.Properties.Labels) == 2
	}, 10*time.Second, 20*time.Millisecond)
	inc, ok := h.azure.Stub.Incident(incidentARMID("nes-wb1"))
	require.True(t, ok)
	require.Equal(t, []azurestandin.Label{{LabelName: "ot", LabelType: "User"}, {LabelName: "new-asset", LabelType: "User"}}, inc.Properties.Labels)
	require.Len(t, inc.Comments, 1)
	require.Contains(t, inc.Comments[0].Message, res.Tickets[0].Number)
	require.Contains(t, inc.Comments[0].Message, `<a href="`, "the ticket is a link")
	requireReadableComments(t, inc)
}

// TestPLCWriteBackOnSentinel: the notice comment, then on "not planned" the answer comment and the
// update (severity High, status Active, tag) land on the incident exactly once each.
func TestPLCWriteBackOnSentinel(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := plcFixture(t, "sentinel-incident-unauthorized-plc-programming.json", "wb2")
	h.azure.Seed(t, body)
	armID := incidentARMID("plc-wb2")
	h.azure.Stub.EditIncident(armID, func(p *azurestandin.IncidentProperties) { p.Severity = "Medium" })
	code, a := h.post(t, body)
	require.Equal(t, http.StatusAccepted, code)
	wid := a.Runs[0].WorkflowID
	waitWaiting(ctx, t, h, wid)
	require.Eventually(t, func() bool { // the notice comment follows the email
		inc, _ := h.azure.Stub.Incident(armID)
		return len(inc.Comments) == 1
	}, 10*time.Second, 20*time.Millisecond)

	_, err := h.client.UpdateWorkflow(ctx, clientUpdate(wid, workflows.Answer{Decision: workflows.DecisionNotPlanned, By: "ana.ruiz@example.com"}))
	require.NoError(t, err)
	var res playbooks.PLCReprogrammingResult
	waitRun(ctx, t, h, wid, &res)
	require.Equal(t, playbooks.OutcomeAnsweredNotPlanned, res.Outcome)
	require.Empty(t, res.WriteBackErrors)

	inc, ok := h.azure.Stub.Incident(armID)
	require.True(t, ok)
	require.Equal(t, "High", inc.Properties.Severity)
	require.Equal(t, "Active", inc.Properties.Status)
	require.Equal(t, []azurestandin.Label{{LabelName: "PLC change not planned", LabelType: "User"}}, inc.Properties.Labels)
	require.Equal(t, "(MDIoT) Unauthorized PLC Programming", inc.Properties.Title, "the update kept what it did not change")
	require.Len(t, inc.Comments, 2)
	require.Contains(t, inc.Comments[0].Message, "Unplanned change")
	require.Contains(t, inc.Comments[1].Message, "ana.ruiz@example.com said the change to PLC-wb2 was NOT planned")
	requireReadableComments(t, inc)
}

// TestAlertStatusFollowsTheIncident: the analyst moves the incident New → Active → Closed in Sentinel;
// each update event sets the Defender for IoT alert to InProgress, then Closed. AlertManagementUris on
// another host, of another shape or on loopback are refused, and nothing is sent to them.
func TestAlertStatusFollowsTheIncident(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var loopbackHits atomic.Int32
	loopback := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { loopbackHits.Add(1) }))
	defer loopback.Close()

	created := plcFixture(t, "sentinel-incident-unauthorized-plc-programming.json", "sync1")
	code, _ := h.post(t, created) // the PLC playbook runs; the stand-in now holds the incident and its alert
	require.Equal(t, http.StatusAccepted, code)
	armID := incidentARMID("plc-sync1")
	alert, ok := h.azure.Stub.Alert(alertPath("alert-sync1"))
	require.True(t, ok)
	require.Equal(t, "New", alert.Properties.Status)

	hostile := map[string]string{
		"hostile-host":  "https://evil.example.com" + alertPath("hostile-host"),
		"hostile-shape": "https://management.azure.com/subscriptions/" + testenv.FixtureSubscription + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/hostile-shape",
		"hostile-loop":  loopback.URL + alertPath("hostile-loop"),
	}
	update := func(status, previous, eventID string) []byte {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(plcFixture(t, "sentinel-incident-update-plc-programming.json", "sync1"), &doc))
		doc["eventUniqueId"] = eventID
		props := doc["object"].(map[string]any)["properties"].(map[string]any)
		props["status"] = status
		if status == "Closed" {
			props["classification"] = "TruePositive"
		}
		doc["previous"].(map[string]any)["status"] = previous
		alerts := props["Alerts"].([]any)
		for name, uri := range hostile {
			var copyOf map[string]any
			b, _ := json.Marshal(alerts[0])
			require.NoError(t, json.Unmarshal(b, &copyOf))
			p := copyOf["properties"].(map[string]any)
			p["systemAlertId"], p["vendorOriginalId"] = name, name
			ad := p["additionalData"].(map[string]any)
			ad["AlertManagementUri"] = uri
			delete(ad, "Custom Details")
			alerts = append(alerts, copyOf)
		}
		props["Alerts"] = alerts
		out, err := json.Marshal(doc)
		require.NoError(t, err)
		return out
	}

	for _, step := range []struct{ status, previous, event, want string }{
		{"Active", "New", "sync1-active", "InProgress"},
		{"Closed", "Active", "sync1-closed", "Closed"},
	} {
		// What the analyst did in the portal; then Sentinel's automation rule calls the webhook.
		h.azure.Stub.EditIncident(armID, func(p *azurestandin.IncidentProperties) {
			p.Status = step.status
			if step.status == "Closed" {
				p.Classification = "TruePositive"
			}
		})
		code, a := h.post(t, update(step.status, step.previous, step.event))
		require.Equal(t, http.StatusAccepted, code)
		require.Len(t, a.Runs, 1)
		require.Equal(t, playbooks.AlertStatusSyncName, a.Runs[0].Playbook)
		require.Equal(t, playbooks.AlertStatusSyncName+"/plc-sync1/"+step.event, a.Runs[0].WorkflowID)
		var res playbooks.AlertStatusSyncResult
		waitRun(ctx, t, h, a.Runs[0].WorkflowID, &res)
		require.Equal(t, step.want, res.AlertStatus)
		require.Len(t, res.Alerts, 4)
		byID := map[string]string{}
		for _, r := range res.Alerts {
			byID[r.AlertID] = r.Action + ": " + r.Reason
		}
		require.Equal(t, "updated: ", byID["alert-sync1"])
		require.Contains(t, byID["hostile-host"], "refused: AlertManagementUri refused: host evil.example.com is not on playbooks.alertStatusSync.allowedHosts")
		require.Contains(t, byID["hostile-shape"], "refused: AlertManagementUri refused: path is not")
		require.Contains(t, byID["hostile-loop"], "refused: AlertManagementUri refused: host 127.0.0.1 is an IP address or loopback name")
		alert, _ := h.azure.Stub.Alert(alertPath("alert-sync1"))
		require.Equal(t, step.want, alert.Properties.Status)

		// Delivered again: deduplicated, and a rerun by hand changes nothing.
		code, again := h.post(t, update(step.status, step.previous, step.event))
		require.Equal(t, http.StatusAccepted, code)
		require.Equal(t, "deduplicated", again.Runs[0].Status)
	}
	require.Zero(t, loopbackHits.Load(), "nothing was sent to the loopback URI")
	for _, r := range h.azure.Stub.Requests() {
		require.NotContains(t, r.Path, "hostile", "no request for a refused alert")
	}
	inc, _ := h.azure.Stub.Incident(armID)
	var syncComments int
	for _, c := range inc.Comments {
		if strings.Contains(c.Message, "Defender for IoT alert status") {
			syncComments++
		}
	}
	require.Equal(t, 2, syncComments, "one status-sync comment per status change")
	requireReadableComments(t, inc)
}

// TestNoSecretInHistoriesOrLogs runs every playbook against the stand-ins, then reads the history of
// every run in the namespace and the whole log: neither the client secret nor any access token the
// stand-in handed out appears anywhere.
func TestNoSecretInHistoriesOrLogs(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, a := h.post(t, testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", "sec1"))
	var nes playbooks.NewEngineeringStationResult
	waitRun(ctx, t, h, a.Runs[0].WorkflowID, &nes)
	body := plcFixture(t, "sentinel-incident-unauthorized-plc-programming.json", "sec1")
	_, a = h.post(t, body)
	plcWID := a.Runs[0].WorkflowID
	waitWaiting(ctx, t, h, plcWID)
	_, err := h.client.UpdateWorkflow(ctx, clientUpdate(plcWID, workflows.Answer{Decision: workflows.DecisionPlanned, By: "x@example.com"}))
	require.NoError(t, err)
	var plc playbooks.PLCReprogrammingResult
	waitRun(ctx, t, h, plcWID, &plc)
	upd := strings.Replace(string(plcFixture(t, "sentinel-incident-update-plc-programming.json", "sec1")), "e2b1f7c4-4319-4d0e-8f3a-1b2c3d4e5f60", "sec1-update", 1)
	_, a = h.post(t, []byte(upd))
	var sync playbooks.AlertStatusSyncResult
	waitRun(ctx, t, h, a.Runs[0].WorkflowID, &sync)

	secrets := append([]string{h.azure.ClientSecret}, h.azure.Stub.IssuedTokens()...)
	require.Greater(t, len(secrets), 1, "the worker signed in and got tokens")
	var histories int
	var next []byte
	for {
		resp, err := h.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 200, NextPageToken: next})
		require.NoError(t, err)
		for _, ex := range resp.Executions {
			iter := h.client.GetWorkflowHistory(ctx, ex.Execution.WorkflowId, ex.Execution.RunId, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for iter.HasNext() {
				ev, err := iter.Next()
				require.NoError(t, err)
				text := protojson.Format(ev)
				for _, s := range secrets {
					require.NotContains(t, text, s, "run %s", ex.Execution.WorkflowId)
				}
			}
			histories++
		}
		if next = resp.NextPageToken; len(next) == 0 {
			break
		}
	}
	require.GreaterOrEqual(t, histories, 3)
	logs := h.logText()
	require.NotEmpty(t, logs)
	for _, s := range secrets {
		require.NotContains(t, logs, s)
	}
}

// waitWaiting waits until a PLC run has sent its notice and waits for the answer.
func waitWaiting(ctx context.Context, t *testing.T, h *harness, wid string) {
	t.Helper()
	require.Eventually(t, func() bool { // the notice goes out after the start
		resp, err := h.client.QueryWorkflow(ctx, wid, "", playbooks.PLCStatusQuery)
		if err != nil {
			return false
		}
		var st playbooks.PLCStatus
		return resp.Get(&st) == nil && st.Phase == "waiting"
	}, 30*time.Second, 20*time.Millisecond)
}

func clientUpdate(wid string, a workflows.Answer) client.UpdateWorkflowOptions {
	return client.UpdateWorkflowOptions{WorkflowID: wid, UpdateName: workflows.AnswerName, Args: []any{a}, WaitForStage: client.WorkflowUpdateStageCompleted}
}

// TestAlertStatusClosesOnTheSensor: an alert that came from an on-premises sensor (its ID is the
// sensor's alert UUID) is closed on the sensor when the incident closes, through the sensor's own API
// with its token; Active is only recorded, as that API cannot set it.
func TestAlertStatusClosesOnTheSensor(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const uuid = "3-1764660000123"
	h.sensor.AddAlert(sensorstandin.Alert{UUID: uuid, Title: "Unauthorized PLC Programming", Severity: "Critical", Engine: "Policy Violation"})
	for _, step := range []struct{ status, action string }{{"Active", "skipped"}, {"Closed", "updated"}} {
		run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "onprem-1/" + step.status, TaskQueue: workflows.TaskQueue},
			playbooks.AlertStatusSyncName, json.RawMessage(`{"id":"onprem-1","number":77,"title":"Unauthorized PLC Programming","status":"`+step.status+
				`","alerts":[{"id":"`+uuid+`","vendorOriginalId":"`+uuid+`","providerName":"OTSensor","title":"Unauthorized PLC Programming"}]}`))
		require.NoError(t, err)
		var res playbooks.AlertStatusSyncResult
		require.NoError(t, run.Get(ctx, &res))
		require.Len(t, res.Alerts, 1)
		require.Equal(t, step.action, res.Alerts[0].Action, res.Alerts[0].Reason)
		require.Equal(t, "sensor", res.Alerts[0].Via)
		require.Contains(t, res.CommentError, "has no armId", "an on-premises incident has no Sentinel to comment on")
	}
	a, ok := h.sensor.Alert(uuid)
	require.True(t, ok)
	require.True(t, a.Handled)
	require.False(t, a.Learned)
}

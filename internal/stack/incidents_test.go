package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/playbooks"
)

// sensorAlert is the sensor fixture with its own alert ID, so tests on the shared stack do not meet.
func sensorAlert(t *testing.T, id int, title string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/sensor-alert-unauthorized-plc-programming.json")
	require.NoError(t, err)
	s := strings.ReplaceAll(string(b), "2210-1796198400000", fmt.Sprintf("%d-1796198400000", id))
	s = strings.Replace(s, `"id": 2210`, fmt.Sprintf(`"id": %d`, id), 1)
	s = strings.Replace(s, `"title": "Unauthorized PLC Programming"`, `"title": "`+title+`"`, 1)
	return []byte(s)
}

// TestOnPremisesLifecycle is the plant without a SIEM, end to end on the real stack: a sensor alert
// becomes an incident with its business impact, the PLC playbook runs once however often the alert is
// sent, the incident is investigated and closed through the API, and the close reaches the sensor.
func TestOnPremisesLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := &intake.APIClient{BaseURL: h.intakeURL, Actor: "test:analyst"}
	body := sensorAlert(t, 7001, "Unauthorized PLC Programming")
	id := "ot-sensor-7001-1796198400000"

	first, err := api.PostAlerts(ctx, body, false)
	require.NoError(t, err)
	require.Equal(t, 1, first.Accepted)
	require.True(t, first.Records[0].Created)
	require.Equal(t, id, first.Records[0].Incident)
	for range 3 { // re-sends: the same incident, nothing new
		again, err := api.PostAlerts(ctx, body, false)
		require.NoError(t, err)
		require.Equal(t, "duplicate", again.Records[0].Status)
	}
	// A later record of the alert, 90 minutes on (past the 60-minute re-processing window).
	later := strings.Replace(string(body), `"time": 1796198400000`, `"time": 1796203800000`, 1)
	later = strings.Replace(later, `"severity": "Critical"`, `"severity": "Major"`, 1)
	res, err := api.PostAlerts(ctx, []byte(later), false)
	require.NoError(t, err)
	require.Equal(t, "accepted", res.Records[0].Status)
	require.False(t, res.Records[0].Created)

	var v intake.IncidentView
	require.Eventually(t, func() bool {
		v, err = api.Incident(ctx, id)
		return err == nil && len(v.Playbooks) == 1
	}, 30*time.Second, 100*time.Millisecond, "the PLC playbook starts: %v", err)
	require.Equal(t, playbooks.PLCReprogrammingName, v.Playbooks[0].Playbook)
	require.Equal(t, "started", v.Playbooks[0].Status)
	// The notice is started as a child with the playbook's priority, so a flood of ticket runs does not
	// queue in front of it.
	child, err := h.client.DescribeWorkflow(ctx, v.Playbooks[0].WorkflowID, "")
	require.NoError(t, err)
	require.EqualValues(t, playbooks.PriorityUrgent, child.RawResponse.GetWorkflowExecutionInfo().GetPriority().GetPriorityKey())
	require.Equal(t, 5, v.Records)
	require.Equal(t, 3, v.Duplicates)
	require.Len(t, v.Incident.Alerts, 1)
	require.NotNil(t, v.Incident.Impact)
	require.Contains(t, v.Incident.Impact.Statement, "PLC-L3-01")
	require.Equal(t, "high", v.Incident.Impact.Risk)
	require.Contains(t, v.Summary, "Rotterdam Plant / Line 3 packaging")
	h.email(ctx, t, "PLC-L3-01") // the engineers of the line are told

	// Investigation and closure.
	_, err = api.Patch(ctx, id, map[string]any{"status": "Active", "owner": "analyst@soc.example.com"})
	require.NoError(t, err)
	_, err = api.Patch(ctx, id, map[string]any{"status": "Closed"})
	var apiErr *intake.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.Code, "closing needs a classification")
	_, err = api.Comment(ctx, id, "Confirmed with the line engineer: unplanned download.")
	require.NoError(t, err)
	_, err = api.Patch(ctx, id, map[string]any{"status": "Closed", "classification": "TruePositive"})
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		a, ok := h.sensor.Alert("7001-1796198400000")
		return ok && a.Handled
	}, 30*time.Second, 100*time.Millisecond, "the close reaches the sensor")

	v, err = api.Incident(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "Closed", v.Incident.Status)
	var syncs int
	for _, p := range v.Playbooks {
		if p.Playbook == playbooks.AlertStatusSyncName {
			syncs++
		}
	}
	require.Equal(t, 2, syncs, "one status sync per status change (Active, Closed)")
	var trail []string
	for _, e := range v.Timeline {
		trail = append(trail, e.Actor+": "+e.Text)
	}
	joined := strings.Join(trail, "\n")
	require.Contains(t, joined, "test:analyst: status New → Active")
	require.Contains(t, joined, "test:analyst: status Active → Closed")
	require.Contains(t, joined, "playbook:"+playbooks.AlertStatusSyncName)

	// The Temporal UI lists it by the new search attributes.
	require.Eventually(t, func() bool {
		list, err := api.ListIncidents(ctx, map[string][]string{"status": {"Closed"}, "site": {"Rotterdam Plant"}})
		if err != nil {
			return false
		}
		for _, l := range list {
			if l.ID == id {
				return l.Owner == "analyst@soc.example.com" && l.Line == "Line 3 packaging"
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond)
	requireReplays(ctx, t, h, otincident.WorkflowID(id))
}

// TestAlertIntakeNewWorkstation: a sensor's "New Asset Detected" for a device the asset directory
// knows as an engineering station opens one ServiceNow ticket through the unchanged playbook.
func TestAlertIntakeNewWorkstation(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := &intake.APIClient{BaseURL: h.intakeURL}
	body := sensorAlert(t, 7002, "New Asset Detected")
	for range 2 {
		_, err := api.PostAlerts(ctx, body, false)
		require.NoError(t, err)
	}
	id := "ot-sensor-7002-1796198400000"
	require.Eventually(t, func() bool {
		v, err := api.Incident(ctx, id)
		return err == nil && len(v.Playbooks) == 1 && v.Playbooks[0].Playbook == playbooks.NewEngineeringStationName
	}, 30*time.Second, 100*time.Millisecond)
	var res playbooks.NewEngineeringStationResult
	waitRun(ctx, t, h, playbooks.NewEngineeringStationName+"/"+id, &res)
	require.Len(t, res.Tickets, 1)
}

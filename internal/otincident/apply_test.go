package otincident

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func record(id, title, sev string, at time.Time) Record {
	a := incident.Alert{VendorOriginalID: id, ID: id, Title: title, Severity: sev, ProviderName: incident.ProviderOTSensor,
		TimeGenerated: at, StartTime: at, SourceAddress: "10.20.3.45"}
	inc := incident.Incident{Alerts: []incident.Alert{a}, Devices: []incident.Device{{IP: "10.20.3.45", Site: "Rotterdam Plant"}}, IPs: []string{"10.20.3.45"}}
	return Record{Alert: inc, Creation: Creation{Rule: "r", Title: title, Severity: sev, Tactics: []string{"Persistence"}}, Fingerprint: id + at.String() + sev}
}

func created(t *testing.T) *State {
	t.Helper()
	s := &State{}
	res, ev := s.AddRecords("ot-sensor-1", []Record{record("1-1", "Unauthorized PLC Programming", "High", t0)}, t0)
	require.Equal(t, []RecordOutcome{{Status: OutcomeAccepted, Created: true}}, res.Outcomes)
	require.NotNil(t, ev)
	require.Equal(t, incident.EventCreate, ev.Type)
	return s
}

func TestAddRecords(t *testing.T) {
	s := created(t)
	require.Equal(t, "ot-sensor-1", s.Incident.ID)
	require.Equal(t, incident.StatusNew, s.Incident.Status)
	require.Equal(t, "High", s.Incident.Severity)
	require.Equal(t, []string{"Persistence"}, s.Incident.Tactics)

	// A re-send is a duplicate and fires nothing.
	res, ev := s.AddRecords("ot-sensor-1", []Record{record("1-1", "Unauthorized PLC Programming", "High", t0)}, t0)
	require.Equal(t, OutcomeDuplicate, res.Outcomes[0].Status)
	require.Nil(t, ev)

	// A later record of the same alert (after the 60-minute window) updates the alert, fires nothing.
	later := record("1-1", "Unauthorized PLC Programming", "Medium", t0.Add(90*time.Minute))
	res, ev = s.AddRecords("ot-sensor-1", []Record{later}, t0.Add(time.Hour))
	require.Equal(t, OutcomeAccepted, res.Outcomes[0].Status)
	require.False(t, res.Outcomes[0].Created)
	require.Nil(t, ev)
	require.Len(t, s.Incident.Alerts, 1)
	require.Equal(t, "Medium", s.Incident.Alerts[0].Severity)
	require.Equal(t, "High", s.Incident.Severity, "a later record does not change the incident's severity")

	// An older record than the one held is a duplicate.
	res, _ = s.AddRecords("ot-sensor-1", []Record{record("1-1", "Unauthorized PLC Programming", "Low", t0.Add(30*time.Minute))}, t0)
	require.Equal(t, OutcomeDuplicate, res.Outcomes[0].Status)

	// A new alert grouped here joins and fires an update with the previous state.
	res, ev = s.AddRecords("ot-sensor-1", []Record{record("2-2", "PLC Operating Mode Changed", "Low", t0)}, t0)
	require.Equal(t, "joined the incident", res.Outcomes[0].Reason)
	require.NotNil(t, ev)
	require.Equal(t, incident.EventUpdate, ev.Type)
	require.Len(t, ev.Previous.Alerts, 1)
	require.Len(t, ev.Incident.Alerts, 2)
	require.Len(t, s.Incident.Devices, 1, "the same device is not added twice")
	require.Equal(t, 5, s.Records)
	require.Equal(t, 2, s.Duplicates)
}

func TestAddRecordsBatchCreatesOnce(t *testing.T) {
	s := &State{}
	res, ev := s.AddRecords("ot-x", []Record{record("1", "A", "Low", t0), record("1", "A", "Low", t0), record("2", "B", "High", t0)}, t0)
	require.Equal(t, []string{OutcomeAccepted, OutcomeDuplicate, OutcomeAccepted}, []string{res.Outcomes[0].Status, res.Outcomes[1].Status, res.Outcomes[2].Status})
	require.True(t, res.Outcomes[0].Created)
	require.Equal(t, incident.EventCreate, ev.Type, "one create event, with both alerts")
	require.Len(t, ev.Incident.Alerts, 2)
	require.Equal(t, "High", s.Incident.Severity, "a more severe alert raises the severity")
}

func TestApply(t *testing.T) {
	cases := []struct {
		name    string
		change  Change
		field   string // of the refusal, or "" when accepted
		changes []string
	}{
		{"status", Change{Status: "active"}, "", []string{"status New → Active"}},
		{"severity", Change{Severity: "low"}, "", []string{"severity High → Low"}},
		{"same severity", Change{Severity: "High"}, "", []string{}},
		{"owner", Change{Owner: &incident.Owner{Email: "alice@example.com"}}, "", []string{"owner (none) → alice@example.com"}},
		{"bad owner", Change{Owner: &incident.Owner{Email: "alice"}}, "owner.email", nil},
		{"bad status", Change{Status: "Resolved"}, "status", nil},
		{"close without classification", Change{Status: "Closed"}, "classification", nil},
		{"close", Change{Status: "Closed", Classification: "falsepositive", ClassificationReason: "inaccuratedata"}, "",
			[]string{"classification FalsePositive / InaccurateData", "status New → Closed"}},
		{"close, reason implied", Change{Status: "Closed", Classification: "TruePositive"}, "",
			[]string{"classification TruePositive / SuspiciousActivity", "status New → Closed"}},
		{"reason that does not fit", Change{Status: "Closed", Classification: "BenignPositive", ClassificationReason: "InaccurateData"}, "classificationReason", nil},
		{"false positive needs a reason", Change{Status: "Closed", Classification: "FalsePositive"}, "classificationReason", nil},
		{"classification without closing", Change{Classification: "TruePositive"}, "classification", nil},
		{"tags", Change{AddTags: []string{"ot", "OT", " plc "}}, "", []string{"tag +ot", "tag +plc"}},
		{"control character in tag", Change{AddTags: []string{"a\x1b[31m"}}, "addTags[0]", nil},
		{"comment", Change{Comment: &Comment{Message: "<p>hi</p>"}}, "", []string{"comment c1 added"}},
		{"empty comment", Change{Comment: &Comment{Message: "  "}}, "comment.message", nil},
		{"task", Change{AddTask: &Task{Title: "Isolate ENG-WS-07"}}, "", []string{"task #1 added: Isolate ENG-WS-07"}},
		{"no such task", Change{SetTask: &Task{ID: 3, Status: "Completed"}}, "task", nil},
		{"title too long", Change{Title: strings.Repeat("x", 501)}, "title", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := created(t)
			before := len(s.Timeline)
			res, ev, err := s.Apply(tc.change, t0)
			if tc.field != "" {
				var ice *InvalidChangeError
				require.True(t, errors.As(err, &ice), "want a refusal, got %v", err)
				require.Equal(t, tc.field, ice.Field)
				require.Nil(t, ev)
				require.Len(t, s.Timeline, before, "a refused change leaves no trace")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.changes, res.Changes)
			require.Equal(t, len(tc.changes) > 0, ev != nil)
			if ev != nil {
				require.Equal(t, incident.EventUpdate, ev.Type)
				require.NotNil(t, ev.Previous)
			}
		})
	}
}

func TestRaiseOnly(t *testing.T) {
	s := created(t) // severity High, status New
	res, _, err := s.Apply(Change{Severity: "Medium", Status: "Active", RaiseOnly: true}, t0)
	require.NoError(t, err)
	require.Equal(t, []string{"status New → Active"}, res.Changes, "never lowers the severity")
	_, _, err = s.Apply(Change{Status: "Closed", Classification: "BenignPositive"}, t0)
	require.NoError(t, err)
	res, _, err = s.Apply(Change{Severity: "High", Status: "Active", AddTags: []string{"x"}, RaiseOnly: true}, t0)
	require.NoError(t, err, "a raise-only change to a closed incident is no change, not a refusal")
	require.Empty(t, res.Changes, "never reopens")
	require.Equal(t, incident.StatusClosed, s.Incident.Status)
}

func TestClosedIncident(t *testing.T) {
	s := created(t)
	_, _, err := s.Apply(Change{Status: "Closed", Classification: "BenignPositive"}, t0)
	require.NoError(t, err)
	require.Equal(t, t0, s.Closed)
	_, _, err = s.Apply(Change{Severity: "Low"}, t0)
	require.Error(t, err, "a closed incident takes no changes but reopening")
	_, ev, err := s.Apply(Change{Comment: &Comment{Message: "post-mortem"}}, t0)
	require.NoError(t, err, "comments are taken")
	require.NotNil(t, ev)
	res, _, err := s.Apply(Change{Status: "Active"}, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"status Closed → Active"}, res.Changes)
	require.True(t, s.Closed.IsZero())
	require.Empty(t, s.Classification, "reopening drops the classification")
}

func TestCommentReplacedByID(t *testing.T) {
	s := created(t)
	_, _, err := s.Apply(Change{Comment: &Comment{ID: "x", Message: "one"}}, t0)
	require.NoError(t, err)
	res, ev, err := s.Apply(Change{Comment: &Comment{ID: "x", Message: "one"}}, t0)
	require.NoError(t, err)
	require.Nil(t, ev, "a retried write-back of the same comment changes nothing")
	require.Empty(t, res.Changes)
	require.Len(t, s.Comments, 1)
}

func TestApplyBeforeCreation(t *testing.T) {
	_, _, err := (&State{}).Apply(Change{Status: "Active"}, t0)
	require.ErrorIs(t, err, ErrNotCreated)
}

func TestSnapshotIsolated(t *testing.T) {
	s := created(t)
	_, ev := s.AddRecords("ot-sensor-1", []Record{record("2", "B", "Low", t0)}, t0)
	require.NotNil(t, ev)
	s.Incident.Alerts[0].Title = "changed"
	require.NotEqual(t, "changed", ev.Incident.Alerts[0].Title)
	require.NotEqual(t, "changed", ev.Previous.Alerts[0].Title)
}

func TestIDs(t *testing.T) {
	sensor := incident.Alert{VendorOriginalID: "2210-1796198400000", ProviderName: incident.ProviderOTSensor}
	cloud := incident.Alert{VendorOriginalID: "2210-1796198400000", ProviderName: incident.ProviderIoTSecurity}
	require.Equal(t, "ot-sensor-2210-1796198400000", IncidentID(sensor, ""))
	require.NotEqual(t, IncidentID(sensor, ""), IncidentID(cloud, ""), "providers never share an incident")
	hostile := incident.Alert{VendorOriginalID: "../../x y\n", ProviderName: incident.ProviderOTSensor}
	id := IncidentID(hostile, "")
	require.True(t, IsIncidentID(id), id)
	require.NotContains(t, id, "/")
	require.Equal(t, id, IncidentID(hostile, ""), "deterministic")
	require.Equal(t, "ot-g-eng-session-abc-123", IncidentID(sensor, "eng-session/abc/123"))
	require.Equal(t, "InterlockIncident/ot-g-eng-session-abc-123", WorkflowID("ot-g-eng-session-abc-123"))
	for _, bad := range []string{"", "ot-", "4312", "ot-a/b", "ot-a b"} {
		require.False(t, IsIncidentID(bad), bad)
	}
}

func TestFilterQuery(t *testing.T) {
	q, err := Filter{Site: "Rotterdam Plant", Open: true}.Query()
	require.NoError(t, err)
	require.Equal(t, "WorkflowType = 'InterlockIncident' AND InterlockSite = 'Rotterdam Plant' AND InterlockStatus != 'Closed'", q)
	_, err = Filter{Owner: "x' OR WorkflowType != '"}.Query()
	require.Error(t, err, "a quote cannot break out of the query")
}

func TestSummary(t *testing.T) {
	inc := incident.Incident{Title: "(MDIoT) Unauthorized PLC Programming", Devices: []incident.Device{{Name: "PLC-L3-01", Site: "Rotterdam"}},
		Impact: &incident.Impact{Site: "Rotterdam Plant", Lines: []string{"Line 3"}, Assets: []incident.ImpactAsset{{Name: "PLC-L3-01"}}}}
	require.Equal(t, "Unauthorized PLC Programming — PLC-L3-01 — Rotterdam Plant / Line 3", Summary(inc))
	inc.Title = "**bold** [x](http://evil)\n<b>"
	require.NotContains(t, Summary(inc), "*")
	require.NotContains(t, Summary(inc), "[")
	require.NotContains(t, Summary(inc), "\n")
}

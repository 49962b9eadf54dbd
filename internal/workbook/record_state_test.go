package workbook

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// incidentRow is what the store holds of one incident.
type incidentRow struct {
	status  string
	closed  sql.NullInt64
	alerts  int
	devices int
}

func readRow(t *testing.T, s *Store, id string) incidentRow {
	t.Helper()
	ctx := context.Background()
	var r incidentRow
	if err := s.db.QueryRowContext(ctx, `SELECT status, closed FROM incidents WHERE id = $1`, id).Scan(&r.status, &r.closed); err != nil {
		t.Fatalf("incident %s: %v", id, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE incident_id = $1`, id).Scan(&r.alerts); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE incident_id = $1`, id).Scan(&r.devices); err != nil {
		t.Fatal(err)
	}
	return r
}

// otIncident is an Interlock incident with n alerts about one PLC.
func otIncident(id, status string, created time.Time, n int) incident.Incident {
	inc := incident.Incident{ID: id, Title: "Unauthorized PLC Programming", Severity: "High", Status: status,
		Created: created, LastModified: created.Add(time.Minute), Provider: "Interlock",
		Devices: []incident.Device{{ID: "plc-1", Name: "PLC-L3-01", Type: "PLC", Site: "Rotterdam"}}}
	for i := range n {
		inc.Alerts = append(inc.Alerts, incident.Alert{ID: id + "-a" + string(rune('0'+i)), Title: "Unauthorized PLC Programming",
			TimeGenerated: created.Add(time.Duration(i) * time.Minute)})
	}
	return inc
}

// TestIncidentStateIsTheTruth: an incident workflow's state replaces the row (status and closed time
// included, a reopen too); a playbook's copy of the incident is written only when the store has none,
// whatever the order the two arrive in.
func TestIncidentStateIsTheTruth(t *testing.T) {
	closedAt := t0.Add(3 * time.Hour)
	open := func(n int) incident.Incident { return otIncident("ot-sensor-1", incident.StatusNew, t0, n) }
	closed := func(n int) incident.Incident { return otIncident("ot-sensor-1", incident.StatusClosed, t0, n) }
	type step struct {
		snapshot bool
		inc      incident.Incident
		closed   time.Time
	}
	for _, tc := range []struct {
		name  string
		steps []step
		want  incidentRow
	}{
		{"snapshot alone", []step{{snapshot: true, inc: open(1)}}, incidentRow{status: "New", alerts: 1, devices: 1}},
		{"state closes it", []step{{snapshot: true, inc: open(1)}, {inc: closed(2), closed: closedAt}},
			incidentRow{status: "Closed", closed: sql.NullInt64{Int64: closedAt.Unix(), Valid: true}, alerts: 2, devices: 1}},
		{"a later snapshot does not reopen it", []step{{inc: closed(2), closed: closedAt}, {snapshot: true, inc: open(1)}},
			incidentRow{status: "Closed", closed: sql.NullInt64{Int64: closedAt.Unix(), Valid: true}, alerts: 2, devices: 1}},
		{"the state reopens it", []step{{inc: closed(2), closed: closedAt}, {inc: otIncident("ot-sensor-1", "Active", t0, 2)}},
			incidentRow{status: "Active", alerts: 2, devices: 1}},
		{"closed time from the incident when the state has none", []step{{inc: closed(1)}},
			incidentRow{status: "Closed", closed: sql.NullInt64{Int64: t0.Add(time.Minute).Unix(), Valid: true}, alerts: 1, devices: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTestStore(t)
			ctx := context.Background()
			for _, st := range tc.steps {
				var err error
				if st.snapshot {
					err = s.recordSnapshot(ctx, st.inc)
				} else {
					err = s.RecordState(ctx, st.inc, st.closed)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := readRow(t, s, "ot-sensor-1"); got != tc.want {
				t.Errorf("row = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestDeviceBelongsToNewestIncident: the newest incident naming a device keeps it, in either write
// order, so a projected change of an older incident (or a rebuild's order) does not move it.
func TestDeviceBelongsToNewestIncident(t *testing.T) {
	older, newer := otIncident("ot-sensor-1", "New", t0, 1), otIncident("ot-sensor-2", "New", t0.Add(time.Hour), 1)
	sameSecond := otIncident("ot-sensor-3", "New", t0, 1) // ties on created: the greater ID is the newer
	for _, tc := range []struct {
		name  string
		order []incident.Incident
		owner string
	}{
		{"older first", []incident.Incident{older, newer}, "ot-sensor-2"},
		{"newer first", []incident.Incident{newer, older}, "ot-sensor-2"},
		{"older written again", []incident.Incident{older, newer, older}, "ot-sensor-2"},
		{"same second", []incident.Incident{sameSecond, older}, "ot-sensor-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTestStore(t)
			for _, inc := range tc.order {
				if err := s.RecordState(context.Background(), inc, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			var owner string
			if err := s.db.QueryRow(`SELECT incident_id FROM devices WHERE id = 'plc-1'`).Scan(&owner); err != nil {
				t.Fatal(err)
			}
			if owner != tc.owner {
				t.Errorf("plc-1 belongs to %s, want %s", owner, tc.owner)
			}
		})
	}
}

package workbook

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// openTestStore opens a store on SQLite in a temp dir, or on PostgreSQL (see testPostgresDSN).
func openTestStore(t testing.TB) *Store {
	t.Helper()
	db := filepath.Join(t.TempDir(), "workbook.db")
	if dsn := testPostgresDSN(t); dsn != "" {
		db = dsn
	}
	s, err := Open(context.Background(), StoreOptions{
		Database: db, UIURL: "http://ui.test:8233/", Namespace: "default",
		Now: func() time.Time { return t0.Add(30 * 24 * time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func seed(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	plc := incident.Device{ID: "d1", Name: "PLC-L3-01", Type: "PLC", Vendor: "Siemens", Site: "Rotterdam"}
	ews := incident.Device{ID: "d2", Name: "EWS-7", Type: "Engineering Station", Vendor: "Dell", Site: "Rotterdam"}
	incs := []incident.Incident{
		{ID: "i1", Title: "PLC program change", Severity: "High", Status: "New", Created: t0.Add(1 * time.Hour),
			Devices: []incident.Device{plc},
			Impact:  &incident.Impact{Statement: "line 3 stop risk high", Site: "Rotterdam", Lines: []string{"Line 3"}},
			Alerts: []incident.Alert{
				{ID: "a1", Title: "PLC Program Change", Severity: "High", TimeGenerated: t0.Add(1 * time.Hour),
					Techniques: []string{"T0839, T0889"}, Tactics: []string{"InhibitResponseFunction", "Impair Process Control"}},
				{ID: "a2", Title: "PLC Program Change", Severity: "High", TimeGenerated: t0.Add(25 * time.Hour),
					Techniques: []string{"t0843"}},
			}},
		{ID: "i2", Title: "New EWS", Severity: "Medium", Status: "Closed", Created: t0.Add(26 * time.Hour),
			LastModified: t0.Add(27 * time.Hour), Devices: []incident.Device{ews},
			Alerts: []incident.Alert{{ID: "a3", Title: "New Engineering Station", Severity: "Medium",
				TimeGenerated: t0.Add(26 * time.Hour), Tactics: []string{"LateralMovement"}}}},
		{ID: "i3", Title: "Old", Severity: "Low", Status: "New", Created: t0.Add(-48 * time.Hour),
			Alerts: []incident.Alert{{ID: "a4", Title: "Scan", Severity: "Low", TimeGenerated: t0.Add(-48 * time.Hour)}}},
	}
	for _, inc := range incs {
		if err := s.Record(ctx, inc); err != nil {
			t.Fatal(err)
		}
	}
	runs := []Run{
		{WorkflowID: "w1", RunID: "r1", Playbook: "PLCReprogrammingNotice", Incident: "i1", Status: StatusCompleted,
			Outcome: "answered_planned", Started: t0.Add(time.Hour), Closed: t0.Add(2 * time.Hour), Asked: true,
			AnsweredAt: t0.Add(time.Hour + 100*time.Second), Escalations: 1},
		{WorkflowID: "w2", RunID: "r2", Playbook: "PLCReprogrammingNotice", Incident: "i1", Status: StatusCompleted,
			Outcome: "answered_planned", Started: t0.Add(3 * time.Hour), Asked: true, AnsweredAt: t0.Add(3*time.Hour + 300*time.Second)},
		{WorkflowID: "w3", RunID: "r3", Playbook: "PLCReprogrammingNotice", Incident: "i1", Status: StatusCompleted,
			Outcome: "no_answer", Started: t0.Add(4 * time.Hour), Asked: true, Escalations: 2},
		{WorkflowID: "w4", RunID: "r4", Playbook: "PLCReprogrammingNotice", Incident: "i1", Status: StatusOpen,
			Started: t0.Add(5 * time.Hour), Asked: true, Round: 1, WaitingSince: t0.Add(5 * time.Hour)},
		{WorkflowID: "w5", RunID: "r5", Playbook: "NewEngineeringStationTicket", Incident: "i2", Status: StatusCompleted,
			Outcome: OutcomeTicketCreated, Started: t0.Add(26 * time.Hour)},
		{WorkflowID: "w6", RunID: "r6", Playbook: "NewEngineeringStationTicket", Incident: "i2", Status: StatusFailed,
			Outcome: OutcomeFailed, Started: t0.Add(-72 * time.Hour)},
	}
	for _, r := range runs {
		if err := s.UpsertRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSummaryFromSeededRows(t *testing.T) {
	s := openTestStore(t)
	seed(t, s)
	seed(t, s) // idempotent: the same rows twice count once
	ctx := context.Background()
	sum, err := s.Summary(ctx, Range{From: t0, To: t0.Add(3 * 24 * time.Hour), Bucket: BucketDay})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Totals{Alerts: 3, Incidents: 2, OpenIncidents: 2, Devices: 2, Runs: 5}); sum.Totals != want {
		t.Errorf("totals = %+v, want %+v", sum.Totals, want)
	}
	checkCounts(t, "by type", sum.AlertsByType, []Count{{"PLC Program Change", 2}, {"New Engineering Station", 1}})
	checkCounts(t, "by severity", sum.AlertsBySeverity, []Count{{"High", 2}, {"Medium", 1}})
	checkCounts(t, "by device type", sum.AlertsByDeviceType, []Count{{"PLC", 2}, {"Engineering Station", 1}})
	checkCounts(t, "by vendor", sum.AlertsByVendor, []Count{{"Siemens", 2}, {"Dell", 1}})
	checkPoints(t, "alerts", sum.AlertsOverTime, []int{1, 2, 0})
	checkPoints(t, "incidents", sum.IncidentsOverTime, []int{1, 1, 0})
	if got := sum.AlertsOverTime[1].T; !got.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("second bucket starts %v", got)
	}

	tech := map[string]int{}
	tac := map[string]int{}
	for _, c := range sum.Matrix {
		tac[c.Name] = c.Count
		for _, te := range c.Techniques {
			tech[c.ID+"/"+te.ID] = te.Count
		}
	}
	// Every tactic of the catalogue in its order, every technique under each of its tactics.
	cells := 0
	for _, te := range s.cat.techniques {
		cells += len(te.Tactics)
	}
	if len(sum.Matrix) != len(s.cat.tactics) || sum.Matrix[0].ID != "TA0108" || len(tech) != cells {
		t.Errorf("matrix has %d tactics (first %s), %d cells; the catalogue %d tactics, %d cells",
			len(sum.Matrix), sum.Matrix[0].ID, len(tech), len(s.cat.tactics), cells)
	}
	for i, ta := range s.cat.tactics {
		if i < len(sum.Matrix) && sum.Matrix[i].ID != ta.ID {
			t.Errorf("matrix column %d is %s, want %s", i, sum.Matrix[i].ID, ta.ID)
		}
	}
	// T0839 sits under Persistence and Impair Process Control: it counts in both columns.
	for k, want := range map[string]int{"TA0110/T0839": 1, "TA0106/T0839": 1, "TA0110/T0889": 1, "TA0109/T0843": 1, "TA0108/T0817": 0} {
		if tech[k] != want {
			t.Errorf("technique %s = %d, want %d", k, tech[k], want)
		}
	}
	// a1 names two tactics; a2 has none and counts under T0843's (Lateral Movement); a3 names Lateral Movement.
	for k, want := range map[string]int{"Inhibit Response Function": 1, "Impair Process Control": 1, "Lateral Movement": 2, "Impact": 0} {
		if tac[k] != want {
			t.Errorf("tactic %s = %d, want %d", k, tac[k], want)
		}
	}
	if len(sum.TacticsOverTime) != 3 || sum.TacticsOverTime[0].Name != "Lateral Movement" {
		t.Fatalf("tactics over time = %+v", sum.TacticsOverTime)
	}
	checkPoints(t, "lateral movement", sum.TacticsOverTime[0].Points, []int{0, 2, 0})

	wantOpen := []SiteLine{{Site: "Rotterdam", Line: "Line 3", Count: 1, Highest: "High", Impact: "line 3 stop risk high", Assets: []string{"PLC-L3-01"}},
		{Site: unknownKey, Line: unknownKey, Count: 1, Highest: "Low"}}
	if len(sum.OpenIncidents) != 2 {
		t.Fatalf("open incidents = %+v", sum.OpenIncidents)
	}
	for i, w := range wantOpen {
		g := sum.OpenIncidents[i]
		if g.Site != w.Site || g.Line != w.Line || g.Count != w.Count || g.Highest != w.Highest || g.Impact != w.Impact ||
			len(g.Assets) != len(w.Assets) || g.URL == "" {
			t.Errorf("open incidents[%d] = %+v, want %+v", i, g, w)
		}
	}

	if len(sum.Playbooks) != 2 || sum.Playbooks[1].Playbook != "PLCReprogrammingNotice" || sum.Playbooks[1].Runs != 4 || sum.Playbooks[1].Open != 1 {
		t.Fatalf("playbooks = %+v", sum.Playbooks)
	}
	checkCounts(t, "PLC outcomes", sum.Playbooks[1].Outcomes, []Count{{"answered_planned", 2}, {"no_answer", 1}})
	a := sum.Answers
	if a.Asked != 4 || a.Answered != 2 || a.Escalations != 3 || a.NoAnswer != 1 || a.MedianSecs != 100 || a.P90Secs != 300 {
		t.Errorf("answers = %+v", a)
	}
	if len(a.Pending) != 1 || a.Pending[0].WorkflowID != "w4" || a.Pending[0].Title != "PLC program change" ||
		a.Pending[0].Round != 1 || len(a.Pending[0].Devices) != 1 {
		t.Errorf("pending = %+v", a.Pending)
	}
	if sum.Links.AllRuns == "" {
		t.Error("no links with a UI URL configured")
	}
}

func TestSummaryRanges(t *testing.T) {
	s := openTestStore(t)
	seed(t, s)
	cases := []struct {
		name   string
		r      Range
		points int
		alerts int
	}{
		{"hourly day", Range{From: t0, To: t0.Add(24 * time.Hour), Bucket: BucketHour}, 24, 1},
		{"unaligned from rounds down", Range{From: t0.Add(90 * time.Minute), To: t0.Add(26*time.Hour + time.Second), Bucket: BucketDay}, 2, 2},
		{"empty range zero filled", Range{From: t0.Add(-30 * 24 * time.Hour), To: t0.Add(-20 * 24 * time.Hour), Bucket: BucketDay}, 10, 0},
		{"includes the old incident", Range{From: t0.Add(-3 * 24 * time.Hour), To: t0.Add(3 * 24 * time.Hour)}, 6, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sum, err := s.Summary(context.Background(), c.r)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, p := range sum.AlertsOverTime {
				total += p.Count
			}
			if len(sum.AlertsOverTime) != c.points || total != c.alerts || sum.Totals.Alerts != c.alerts {
				t.Errorf("points %d total %d alerts %d, want %d points %d alerts", len(sum.AlertsOverTime), total, sum.Totals.Alerts, c.points, c.alerts)
			}
		})
	}
}

func checkCounts(t *testing.T, what string, got, want []Count) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s = %+v, want %+v", what, got, want)
			return
		}
	}
}

func checkPoints(t *testing.T, what string, got []Point, want []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s has %d points, want %d", what, len(got), len(want))
		return
	}
	for i, w := range want {
		if got[i].Count != w {
			t.Errorf("%s[%d] = %d, want %d", what, i, got[i].Count, w)
		}
	}
}

package workbook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// seedBulk writes alerts alerts in incidents of 10 alerts each, spread over 60 days from start, one
// run per incident. INTERLOCK_TEST_WORKBOOK_DSN=postgres://... runs it on PostgreSQL.
func seedBulk(b *testing.B, s *Store, alerts int, start time.Time) {
	b.Helper()
	ctx := context.Background()
	types := []string{"PLC", "Engineering Station", "HMI", "RTU"}
	vendors := []string{"Siemens", "Rockwell", "Schneider", "ABB"}
	techs := []string{"T0839, T0889", "T0843", "T0836", "T0855", "T0886"}
	span := int64(60 * 24 * 3600)
	for i := 0; i < alerts/10; i++ {
		at := start.Add(time.Duration(int64(i)*7919%span) * time.Second)
		dev := incident.Device{ID: fmt.Sprintf("d%d", i%500), Name: fmt.Sprintf("DEV-%d", i%500), Type: types[i%4], Vendor: vendors[i/4%4], Site: fmt.Sprintf("Site %d", i%3)}
		inc := incident.Incident{ID: fmt.Sprintf("inc-%d", i), Title: "bulk", Severity: []string{"High", "Medium", "Low"}[i%3],
			Status: []string{"New", "Closed"}[i%2], Created: at, Devices: []incident.Device{dev},
			Impact: &incident.Impact{Site: dev.Site, Lines: []string{fmt.Sprintf("Line %d", i%5)}, Statement: "impact"}}
		for j := 0; j < 10; j++ {
			inc.Alerts = append(inc.Alerts, incident.Alert{ID: fmt.Sprintf("a-%d-%d", i, j), Title: fmt.Sprintf("Alert type %d", j),
				TimeGenerated: at.Add(time.Duration(j) * time.Minute), Techniques: []string{techs[(i+j)%5]}})
		}
		if err := s.Record(ctx, inc); err != nil {
			b.Fatal(err)
		}
		r := Run{WorkflowID: "w" + inc.ID, RunID: "r" + inc.ID, Playbook: "PLCReprogrammingNotice", Incident: inc.ID,
			Status: StatusCompleted, Outcome: "answered_planned", Started: at, Asked: true, AnsweredAt: at.Add(time.Duration(i%900) * time.Second)}
		if err := s.UpsertRun(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSummary100kAlerts(b *testing.B) {
	s := openTestStore(b)
	seedBulk(b, s, 100_000, t0)
	r := Range{From: t0.Add(15 * 24 * time.Hour), To: t0.Add(45 * 24 * time.Hour), Bucket: BucketDay}
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			sum, err := s.Summary(context.Background(), r)
			if err != nil || sum.Totals.Alerts < 40_000 {
				b.Fatalf("%v %d", err, sum.Totals.Alerts)
			}
		}
	})
	b.Run("http", func(b *testing.B) {
		srv := httptest.NewServer(NewAPI(s, APIOptions{}))
		defer srv.Close()
		url := srv.URL + APIPrefix + "summary?from=" + r.From.Format(time.RFC3339) + "&to=" + r.To.Format(time.RFC3339)
		for b.Loop() {
			resp, err := http.Get(url)
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(err)
			}
			_ = resp.Body.Close()
		}
	})
}

// BenchmarkRecord is the intake's write of one incident event: an incident of 2 alerts and a device,
// recorded again (the common case: updates of an incident the store holds).
func BenchmarkRecord(b *testing.B) {
	s := openTestStore(b)
	dev := incident.Device{ID: "d1", Name: "PLC-1", Type: "PLC", Vendor: "Siemens", Site: "Site 1"}
	inc := incident.Incident{ID: "inc-1", Title: "PLC change", Severity: "High", Status: "New", Created: t0,
		Devices: []incident.Device{dev}, Impact: &incident.Impact{Site: "Site 1", Lines: []string{"Line 1"}},
		Alerts: []incident.Alert{{ID: "a1", Title: "Unauthorized PLC Programming", TimeGenerated: t0, Techniques: []string{"T0843"}},
			{ID: "a2", Title: "Unauthorized PLC Programming", TimeGenerated: t0, Techniques: []string{"T0839, T0889"}}}}
	for b.Loop() {
		if err := s.Record(context.Background(), inc); err != nil {
			b.Fatal(err)
		}
	}
}

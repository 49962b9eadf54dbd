package workbook

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// matrixCount is technique's count in the matrix of sum (under its first tactic) and its link.
func matrixCount(sum Summary, technique string) (int, string) {
	for _, c := range sum.Matrix {
		for _, te := range c.Techniques {
			if te.ID == technique {
				return te.Count, te.URL
			}
		}
	}
	return -1, ""
}

func TestTechniqueLinksNameTheLatestIncidents(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	for i := range 25 {
		inc := incident.Incident{ID: fmt.Sprintf("inc-%02d", i), Title: "x", Created: t0.Add(time.Duration(i) * time.Hour),
			Alerts: []incident.Alert{{ID: fmt.Sprintf("a%02d", i), Title: "PLC Program Change",
				TimeGenerated: t0.Add(time.Duration(i) * time.Hour), Techniques: []string{"T0843"}}}}
		if err := s.Record(ctx, inc); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.Summary(ctx, Range{From: t0, To: t0.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	n, url := matrixCount(sum, "T0843")
	if n != 25 {
		t.Fatalf("T0843 counted %d, want 25", n)
	}
	for i := range 25 {
		id := fmt.Sprintf("%%22inc-%02d%%22", i)
		if want := i >= 5; strings.Contains(url, id) != want {
			t.Errorf("link names inc-%02d: %v, want %v (the latest 20): %s", i, !want, want, url)
		}
	}
	if _, url := matrixCount(sum, "T0817"); url != "" {
		t.Errorf("a technique with no alerts links to %s", url)
	}
}

func TestReRecordedAlertMovesItsTags(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	inc := incident.Incident{ID: "i1", Created: t0.Add(time.Hour), Alerts: []incident.Alert{{ID: "a1", Title: "PLC Program Change",
		TimeGenerated: t0.Add(time.Hour), Techniques: []string{"T0843"}}}}
	r := Range{From: t0, To: t0.Add(24 * time.Hour)}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{{t0.Add(time.Hour), 1}, {t0.Add(30 * time.Hour), 0}, {t0.Add(2 * time.Hour), 1}} {
		inc.Alerts[0].TimeGenerated = tc.at
		if err := s.Record(ctx, inc); err != nil {
			t.Fatal(err)
		}
		sum, err := s.Summary(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := matrixCount(sum, "T0843"); n != tc.want || len(sum.TacticsOverTime) != tc.want {
			t.Errorf("alert at %v: T0843 = %d, tactic series %d, want %d", tc.at, n, len(sum.TacticsOverTime), tc.want)
		}
	}
}

// A store written before 0002 gains the tags' times and incidents from its alerts when it opens.
func TestMigrationCopiesAlertTimesToTags(t *testing.T) {
	if testPostgresDSN(t) != "" {
		t.Skip("builds an old SQLite file")
	}
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	body, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(5 * time.Hour).Unix()
	stmts := append(splitSQL(string(body)),
		`CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied BIGINT NOT NULL)`,
		`INSERT INTO schema_migrations VALUES ('0001_init', 1)`,
		fmt.Sprintf(`INSERT INTO incidents (id, created) VALUES ('i1', %d)`, at),
		fmt.Sprintf(`INSERT INTO alerts (id, incident_id, title, time) VALUES ('a1', 'i1', 'PLC Program Change', %d)`, at),
		`INSERT INTO alert_techniques (alert_id, technique) VALUES ('a1', 'T0843')`,
		`INSERT INTO alert_tactics (alert_id, tactic) VALUES ('a1', 'TA0109')`)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_ = db.Close()
	s, err := Open(context.Background(), StoreOptions{Database: path, UIURL: "http://ui.test:8233/"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	sum, err := s.Summary(context.Background(), Range{From: t0, To: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if n, url := matrixCount(sum, "T0843"); n != 1 || !strings.Contains(url, "i1") {
		t.Errorf("after the migration T0843 = %d, link %q; want 1 and a link to i1", n, url)
	}
	if len(sum.TacticsOverTime) != 1 || sum.TacticsOverTime[0].Points[0].Count != 1 {
		t.Errorf("tactics over time after the migration = %+v", sum.TacticsOverTime)
	}
}

package workbook

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"time"
)

type openRow struct {
	id, site, line, severity, impact string
	rank                             int
}

func (s *Store) openIncidents(ctx context.Context, _ Range, out *Summary) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, site, line, severity, sev_rank, impact FROM incidents
		WHERE closed IS NULL ORDER BY sev_rank DESC, created, id`)
	if err != nil {
		return fmt.Errorf("workbook: open incidents: %w", err)
	}
	groups := map[[2]string]*SiteLine{}
	ids := map[[2]string][]string{}
	var order [][2]string
	for rows.Next() {
		var o openRow
		if err := rows.Scan(&o.id, &o.site, &o.line, &o.severity, &o.rank, &o.impact); err != nil {
			_ = rows.Close()
			return fmt.Errorf("workbook: open incidents: %w", err)
		}
		k := [2]string{cmp.Or(o.site, unknownKey), cmp.Or(o.line, unknownKey)}
		g, ok := groups[k]
		if !ok { // rows come most severe first: the first of a group sets Highest and Impact
			g = &SiteLine{Site: k[0], Line: k[1], Highest: o.severity, Impact: o.impact}
			groups[k] = g
			order = append(order, k)
		}
		g.Count++
		ids[k] = append(ids[k], o.id)
	}
	if err := closeRows(rows, "open incidents"); err != nil {
		return err
	}
	if err := s.openAssets(ctx, groups); err != nil {
		return err
	}
	out.OpenIncidents = make([]SiteLine, 0, len(order))
	for _, k := range order {
		g := groups[k]
		g.URL = s.links.incidents(ids[k])
		out.OpenIncidents = append(out.OpenIncidents, *g)
	}
	sort.SliceStable(out.OpenIncidents, func(i, j int) bool {
		a, b := out.OpenIncidents[i], out.OpenIncidents[j]
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Line, b.Line)) < 0
	})
	return nil
}

// openAssets fills each group's affected device names.
func (s *Store) openAssets(ctx context.Context, groups map[[2]string]*SiteLine) error {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT i.site, i.line, d.name FROM devices d
		JOIN incidents i ON i.id = d.incident_id WHERE i.closed IS NULL ORDER BY d.name`)
	if err != nil {
		return fmt.Errorf("workbook: open assets: %w", err)
	}
	for rows.Next() {
		var site, line, name string
		if err := rows.Scan(&site, &line, &name); err != nil {
			_ = rows.Close()
			return fmt.Errorf("workbook: open assets: %w", err)
		}
		g := groups[[2]string{cmp.Or(site, unknownKey), cmp.Or(line, unknownKey)}]
		if g != nil && name != "" && len(g.Assets) < 20 && !slices.Contains(g.Assets, name) {
			g.Assets = append(g.Assets, name)
		}
	}
	return closeRows(rows, "open assets")
}

// Run statuses.
const (
	StatusOpen      = "open"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

func (s *Store) playbooks(ctx context.Context, r Range, out *Summary) error {
	rows, err := s.db.QueryContext(ctx, `SELECT playbook, status, outcome, COUNT(*) FROM runs
		WHERE started >= $1 AND started < $2 GROUP BY playbook, status, outcome`, r.From.Unix(), r.To.Unix())
	if err != nil {
		return fmt.Errorf("workbook: playbook outcomes: %w", err)
	}
	byName := map[string]*PlaybookOutcomes{}
	outcomes := map[string]map[string]int{}
	for rows.Next() {
		var pb, status, outcome string
		var n int
		if err := rows.Scan(&pb, &status, &outcome, &n); err != nil {
			_ = rows.Close()
			return fmt.Errorf("workbook: playbook outcomes: %w", err)
		}
		p := byName[pb]
		if p == nil {
			p = &PlaybookOutcomes{Playbook: pb, URL: s.links.query("WorkflowType = " + quote(pb))}
			byName[pb], outcomes[pb] = p, map[string]int{}
		}
		p.Runs += n
		if status == StatusOpen {
			p.Open += n
			continue
		}
		outcomes[pb][cmp.Or(outcome, status)] += n
	}
	if err := closeRows(rows, "playbook outcomes"); err != nil {
		return err
	}
	out.Playbooks = make([]PlaybookOutcomes, 0, len(byName))
	for pb, p := range byName {
		p.Outcomes = sortedCounts(outcomes[pb])
		out.Playbooks = append(out.Playbooks, *p)
	}
	sort.Slice(out.Playbooks, func(i, j int) bool { return out.Playbooks[i].Playbook < out.Playbooks[j].Playbook })
	return nil
}

func (s *Store) answers(ctx context.Context, r Range, out *Summary) error {
	from, to := r.From.Unix(), r.To.Unix()
	a := &out.Answers
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(asked), 0), COUNT(answer_secs),
		COALESCE(SUM(escalations), 0), COALESCE(SUM(CASE WHEN outcome = 'no_answer' THEN 1 ELSE 0 END), 0)
		FROM runs WHERE started >= $1 AND started < $2`, from, to).Scan(&a.Asked, &a.Answered, &a.Escalations, &a.NoAnswer)
	if err != nil {
		return fmt.Errorf("workbook: answers: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT answer_secs FROM runs WHERE answer_secs IS NOT NULL
		AND started >= $1 AND started < $2 ORDER BY answer_secs`, from, to)
	if err != nil {
		return fmt.Errorf("workbook: answer times: %w", err)
	}
	var secs []float64
	for rows.Next() {
		var v float64
		if err := rows.Scan(&v); err != nil {
			_ = rows.Close()
			return fmt.Errorf("workbook: answer times: %w", err)
		}
		secs = append(secs, v)
	}
	if err := closeRows(rows, "answer times"); err != nil {
		return err
	}
	a.MedianSecs, a.P90Secs = percentile(secs, 50), percentile(secs, 90)
	return s.pending(ctx, a)
}

// pending lists the runs waiting for an answer now, whatever the range: they need someone today.
func (s *Store) pending(ctx context.Context, a *Answers) error {
	rows, err := s.db.QueryContext(ctx, `SELECT r.workflow_id, r.run_id, r.playbook, r.incident_id,
		COALESCE(i.title, ''), r.round, r.waiting_since FROM runs r LEFT JOIN incidents i ON i.id = r.incident_id
		WHERE r.status = 'open' AND r.waiting_since IS NOT NULL ORDER BY r.waiting_since, r.run_id LIMIT 50`)
	if err != nil {
		return fmt.Errorf("workbook: pending answers: %w", err)
	}
	a.Pending = []PendingAnswer{}
	for rows.Next() {
		var p PendingAnswer
		var since sql.NullInt64
		if err := rows.Scan(&p.WorkflowID, &p.RunID, &p.Playbook, &p.Incident, &p.Title, &p.Round, &since); err != nil {
			_ = rows.Close()
			return fmt.Errorf("workbook: pending answers: %w", err)
		}
		p.WaitingSince = time.Unix(since.Int64, 0).UTC()
		if s.links.base != "" {
			p.URL = s.links.base + "/" + urlPath(p.WorkflowID) + "/" + urlPath(p.RunID)
		}
		a.Pending = append(a.Pending, p)
	}
	if err := closeRows(rows, "pending answers"); err != nil {
		return err
	}
	for i := range a.Pending {
		devs, err := s.incidentDevices(ctx, a.Pending[i].Incident)
		if err != nil {
			return err
		}
		a.Pending[i].Devices = devs
	}
	return nil
}

func (s *Store) incidentDevices(ctx context.Context, id string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM devices WHERE incident_id = $1 ORDER BY name`, id)
	if err != nil {
		return nil, fmt.Errorf("workbook: incident devices: %w", err)
	}
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("workbook: incident devices: %w", err)
		}
		out = append(out, n)
	}
	return out, closeRows(rows, "incident devices")
}

func urlPath(s string) string { return url.PathEscape(s) }

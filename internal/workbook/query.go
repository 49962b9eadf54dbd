package workbook

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
)

// Summary computes every tile of the page for r from the store's rows.
func (s *Store) Summary(ctx context.Context, r Range) (Summary, error) {
	r = r.normalized()
	out := Summary{Range: r, GeneratedAt: s.now().UTC(), Links: s.links.tiles()}
	steps := []func(context.Context, Range, *Summary) error{
		s.totals, s.bars, s.overTime, s.matrix, s.tacticsOverTime, s.openIncidents, s.playbooks, s.answers,
	}
	// The steps fill disjoint fields and only read the store: run side by side, on SQLite's WAL
	// readers or PostgreSQL's connections, the page waits for the slowest query instead of the sum.
	g, gctx := errgroup.WithContext(ctx)
	for _, step := range steps {
		g.Go(func() error { return step(gctx, r, &out) })
	}
	if err := g.Wait(); err != nil {
		return Summary{}, err
	}
	return out, nil
}

// width is the bucket's length in seconds.
func (r Range) width() int64 {
	if r.Bucket == BucketHour {
		return 3600
	}
	return 86400
}

// normalized is r in UTC with a known bucket.
func (r Range) normalized() Range {
	r.From, r.To = r.From.UTC(), r.To.UTC()
	if r.Bucket != BucketHour {
		r.Bucket = BucketDay
	}
	return r
}

// origin is the start of the first bucket: From rounded down to the bucket, so buckets fall on whole
// hours and days (UTC).
func (r Range) origin() int64 {
	f := r.From.Unix()
	return f - mod(f, r.width())
}

func mod(a, b int64) int64 { return ((a % b) + b) % b }

// buckets is the number of buckets covering [From, To).
func (r Range) buckets() int {
	span := r.To.Unix() - r.origin()
	return int((span + r.width() - 1) / r.width())
}

// zeroSeries is one zero point per bucket.
func (r Range) zeroSeries() []Point {
	n := r.buckets()
	pts := make([]Point, n)
	for i := range pts {
		pts[i].T = time.Unix(r.origin()+int64(i)*r.width(), 0).UTC()
	}
	return pts
}

func (s *Store) count(ctx context.Context, q string, args ...any) (int, error) {
	var n sql.NullInt64
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("workbook: count: %w", err)
	}
	return int(n.Int64), nil
}

func (s *Store) totals(ctx context.Context, r Range, out *Summary) error {
	from, to := r.From.Unix(), r.To.Unix()
	qs := []struct {
		dst  *int
		q    string
		args []any
	}{
		{&out.Totals.Alerts, `SELECT COUNT(*) FROM alerts WHERE time >= $1 AND time < $2`, []any{from, to}},
		{&out.Totals.Incidents, `SELECT COUNT(*) FROM incidents WHERE created >= $1 AND created < $2`, []any{from, to}},
		{&out.Totals.OpenIncidents, `SELECT COUNT(*) FROM incidents WHERE closed IS NULL`, nil},
		{&out.Totals.Devices, `SELECT COUNT(DISTINCT d.id) FROM devices d JOIN incidents i ON i.id = d.incident_id
			WHERE i.created >= $1 AND i.created < $2`, []any{from, to}},
		{&out.Totals.Runs, `SELECT COUNT(*) FROM runs WHERE started >= $1 AND started < $2`, []any{from, to}},
	}
	for _, q := range qs {
		n, err := s.count(ctx, q.q, q.args...)
		if err != nil {
			return err
		}
		*q.dst = n
	}
	return nil
}

// unknownKey names the bar of alerts without the attribute.
const unknownKey = "Unknown"

// bars counts the alerts of the range by title, severity, device type and vendor in one pass over
// the covering index alerts_bars, rather than one pass per bar chart.
func (s *Store) bars(ctx context.Context, r Range, out *Summary) error {
	rows, err := s.db.QueryContext(ctx, `SELECT title, severity, device_type, vendor, COUNT(*) FROM alerts
		WHERE time >= $1 AND time < $2 GROUP BY title, severity, device_type, vendor`, r.From.Unix(), r.To.Unix())
	if err != nil {
		return fmt.Errorf("workbook: alerts by attribute: %w", err)
	}
	counts := [4]map[string]int{{}, {}, {}, {}}
	for rows.Next() {
		var keys [4]string
		var n int
		if err := rows.Scan(&keys[0], &keys[1], &keys[2], &keys[3], &n); err != nil {
			_ = rows.Close()
			return fmt.Errorf("workbook: alerts by attribute: %w", err)
		}
		for i, k := range keys {
			counts[i][cmp.Or(k, unknownKey)] += n
		}
	}
	if err := closeRows(rows, "alerts by attribute"); err != nil {
		return err
	}
	out.AlertsByType, out.AlertsBySeverity = sortedCounts(counts[0]), sortedCounts(counts[1])
	out.AlertsByDeviceType, out.AlertsByVendor = sortedCounts(counts[2]), sortedCounts(counts[3])
	return nil
}

func closeRows(rows *sql.Rows, what string) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("workbook: %s: %w", what, err)
	}
	return nil
}

// sortedCounts is the bars by count, highest first, then by key.
func sortedCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Key: k, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// series runs a query returning (key, bucket index, count) rows and fills one zero-filled series per key.
func (s *Store) series(ctx context.Context, r Range, q string, args ...any) (map[string][]Point, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("workbook: time series: %w", err)
	}
	out := map[string][]Point{}
	for rows.Next() {
		var key string
		var b int64
		var n int
		if err := rows.Scan(&key, &b, &n); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("workbook: time series: %w", err)
		}
		pts, ok := out[key]
		if !ok {
			pts = r.zeroSeries()
			out[key] = pts
		}
		if b >= 0 && b < int64(len(pts)) {
			pts[b].Count += n
		}
	}
	return out, closeRows(rows, "time series")
}

func (s *Store) overTime(ctx context.Context, r Range, out *Summary) error {
	o, w, from, to := r.origin(), r.width(), r.From.Unix(), r.To.Unix()
	alerts, err := s.series(ctx, r, `SELECT '', (time - $1) / $2 AS b, COUNT(*) FROM alerts
		WHERE time >= $3 AND time < $4 GROUP BY b`, o, w, from, to)
	if err != nil {
		return err
	}
	incs, err := s.series(ctx, r, `SELECT '', (created - $1) / $2 AS b, COUNT(*) FROM incidents
		WHERE created >= $3 AND created < $4 GROUP BY b`, o, w, from, to)
	if err != nil {
		return err
	}
	out.AlertsOverTime, out.IncidentsOverTime = orZero(alerts[""], r), orZero(incs[""], r)
	return nil
}

func (s *Store) tagCounts(ctx context.Context, r Range, table, col string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+col+`, COUNT(*) FROM `+table+`
		WHERE time >= $1 AND time < $2 GROUP BY `+col,
		r.From.Unix(), r.To.Unix())
	if err != nil {
		return nil, fmt.Errorf("workbook: count %s: %w", table, err)
	}
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("workbook: count %s: %w", table, err)
		}
		out[k] = n
	}
	return out, closeRows(rows, "count "+table)
}

func (s *Store) matrix(ctx context.Context, r Range, out *Summary) error {
	tech, err := s.tagCounts(ctx, r, "alert_techniques", "technique")
	if err != nil {
		return err
	}
	tac, err := s.tagCounts(ctx, r, "alert_tactics", "tactic")
	if err != nil {
		return err
	}
	out.Matrix = make([]Tactic, 0, len(s.cat.tactics))
	for _, t := range s.cat.tactics {
		col := Tactic{ID: t.ID, Name: t.Name, Count: tac[t.ID], Techniques: []Technique{}}
		for _, te := range s.cat.techniques {
			if slices.Contains(te.Tactics, t.ID) {
				col.Techniques = append(col.Techniques, Technique{ID: te.ID, Name: te.Name, Count: tech[te.ID]})
			}
		}
		out.Matrix = append(out.Matrix, col)
	}
	return s.techniqueLinks(ctx, r, out)
}

// techniqueLinks links each counted technique to the runs of its latest incidents in the range (the
// link names at most linkIncidents, so reading more would be wasted).
func (s *Store) techniqueLinks(ctx context.Context, r Range, out *Summary) error {
	if s.links.base == "" {
		return nil
	}
	for i := range out.Matrix {
		for j := range out.Matrix[i].Techniques {
			te := &out.Matrix[i].Techniques[j]
			if te.Count == 0 {
				continue
			}
			ids, err := s.techniqueIncidents(ctx, r, te.ID)
			if err != nil {
				return err
			}
			te.URL = s.links.incidents(ids)
		}
	}
	return nil
}

// techniqueIncidents is up to linkIncidents incidents with alerts of technique in r, latest first.
func (s *Store) techniqueIncidents(ctx context.Context, r Range, technique string) ([]string, error) {
	// Alerts come about ten to an incident: five times the IDs needed is enough to find them distinct.
	rows, err := s.db.QueryContext(ctx, `SELECT incident_id FROM alert_techniques
		WHERE technique = $1 AND time >= $2 AND time < $3 ORDER BY time DESC LIMIT $4`,
		technique, r.From.Unix(), r.To.Unix(), 50*linkIncidents)
	if err != nil {
		return nil, fmt.Errorf("workbook: incidents of technique %s: %w", technique, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("workbook: incidents of technique %s: %w", technique, err)
		}
		if len(ids) < linkIncidents && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, closeRows(rows, "incidents of technique "+technique)
}

func (s *Store) tacticsOverTime(ctx context.Context, r Range, out *Summary) error {
	m, err := s.series(ctx, r, `SELECT tactic, (time - $1) / $2 AS b, COUNT(*) FROM alert_tactics
		WHERE time >= $3 AND time < $4 GROUP BY tactic, b`,
		r.origin(), r.width(), r.From.Unix(), r.To.Unix())
	if err != nil {
		return err
	}
	out.TacticsOverTime = []Series{}
	for _, t := range s.cat.tactics {
		if pts, ok := m[t.ID]; ok {
			out.TacticsOverTime = append(out.TacticsOverTime, Series{Name: t.Name, Points: pts})
		}
	}
	return nil
}

func orZero(pts []Point, r Range) []Point {
	if pts == nil {
		return r.zeroSeries()
	}
	return pts
}

// percentile is the nearest-rank percentile p (0..100) of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

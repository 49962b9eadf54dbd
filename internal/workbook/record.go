package workbook

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
)

// HasIncident says whether the store holds the incident id.
func (s *Store) HasIncident(ctx context.Context, id string) (bool, error) {
	var n int
	st, err := s.prepared(ctx, `SELECT COUNT(*) FROM incidents WHERE id = $1`)
	if err == nil {
		err = st.QueryRowContext(ctx, id).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("workbook: look up incident %s: %w", id, err)
	}
	return n > 0, nil
}

// runState is the status and incident of a run the store holds; ok is false when it holds none.
func (s *Store) runState(ctx context.Context, runID string) (status, incidentID string, ok bool, err error) {
	st, err := s.prepared(ctx, `SELECT status, incident_id FROM runs WHERE run_id = $1`)
	if err == nil {
		err = st.QueryRowContext(ctx, runID).Scan(&status, &incidentID)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", "", false, nil
	case err != nil:
		return "", "", false, fmt.Errorf("workbook: look up run %s: %w", runID, err)
	}
	return status, incidentID, true, nil
}

// Record writes an accepted incident (with its alerts and devices) to the store; the same incident
// twice leaves the same rows. It implements intake.Recorder.
func (s *Store) Record(ctx context.Context, inc incident.Incident) error {
	return s.write(ctx, inc, writeMode{})
}

// RecordState writes an Interlock incident as its workflow holds it: the truth, so its status and
// closed time (closed, when its status is Closed) replace what the row had, a reopen included.
func (s *Store) RecordState(ctx context.Context, inc incident.Incident, closed time.Time) error {
	return s.write(ctx, inc, writeMode{closed: closed})
}

// recordSnapshot writes an Interlock incident from the copy a playbook run started with, only when the
// store has no row for it yet: the incident workflow's state is the truth and may be newer (closed).
func (s *Store) recordSnapshot(ctx context.Context, inc incident.Incident) error {
	return s.write(ctx, inc, writeMode{onlyNew: true})
}

// writeMode says how write treats an incident the store already has.
type writeMode struct {
	// onlyNew leaves an existing incident (and its alerts and devices) alone.
	onlyNew bool
	// closed is the closed time of a Closed incident; zero means its LastModified.
	closed time.Time
}

func (s *Store) write(ctx context.Context, inc incident.Incident, mode writeMode) error {
	if inc.ID == "" {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("workbook: begin record: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.recordIncident(ctx, tx, inc, mode); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("workbook: commit incident %s: %w", inc.ID, err)
	}
	return nil
}

// The incident row's writes: the upsert, and onlyNew's insert that leaves an existing row alone.
const (
	incidentInsert = `INSERT INTO incidents
		(id, title, severity, sev_rank, status, created, closed, site, line, impact, provider, source)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`
	incidentUpsert = incidentInsert + `
		ON CONFLICT (id) DO UPDATE SET title=excluded.title, severity=excluded.severity,
		sev_rank=excluded.sev_rank, status=excluded.status, created=incidents.created, closed=excluded.closed,
		site=excluded.site, line=excluded.line, impact=excluded.impact, provider=excluded.provider,
		source=excluded.source`
	incidentInsertNew = incidentInsert + ` ON CONFLICT (id) DO NOTHING`
)

func (s *Store) recordIncident(ctx context.Context, tx *sql.Tx, inc incident.Incident, mode writeMode) error {
	created := cmp.Or(unix(inc.Created), unix(inc.FirstActivity), s.now().Unix())
	var closed any
	if strings.EqualFold(inc.Status, incident.StatusClosed) {
		closed = cmp.Or(unix(mode.closed), unix(inc.LastModified), created)
	}
	site, line, impact := placeOf(inc)
	q := incidentUpsert
	if mode.onlyNew {
		q = incidentInsertNew
	}
	res, err := s.exec(ctx, tx, q,
		inc.ID, inc.Title, inc.Severity, incident.SeverityRank(inc.Severity), inc.Status, created, closed,
		site, line, impact, inc.Provider, sourceOf(inc))
	if err != nil {
		return fmt.Errorf("workbook: upsert incident %s: %w", inc.ID, err)
	}
	if mode.onlyNew {
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("workbook: insert incident %s: %w", inc.ID, err)
		}
		if n == 0 {
			return nil // the store has it already
		}
	}
	if err := s.recordDevices(ctx, tx, inc); err != nil {
		return err
	}
	for i, a := range inc.Alerts {
		if err := s.recordAlert(ctx, tx, inc, i, a, created); err != nil {
			return err
		}
	}
	return nil
}

// placeOf is the incident's site, production line and impact statement, from the impact assessment
// when there is one, else from its devices.
func placeOf(inc incident.Incident) (site, line, impact string) {
	if im := inc.Impact; im != nil {
		site, impact = im.Site, im.Statement
		if len(im.Lines) > 0 {
			line = im.Lines[0]
		}
	}
	for _, d := range inc.Devices {
		site = cmp.Or(site, d.Site)
	}
	return site, line, impact
}

func sourceOf(inc incident.Incident) string {
	if strings.HasPrefix(inc.ID, "INT-") || strings.HasPrefix(inc.ID, "int-") || otincident.IsIncidentID(inc.ID) {
		return "interlock"
	}
	return "sentinel"
}

// lineOf finds a device's production line in the impact assessment.
func lineOf(inc incident.Incident, name string) string {
	if inc.Impact == nil {
		return ""
	}
	for _, a := range inc.Impact.Assets {
		if strings.EqualFold(a.Name, name) || strings.EqualFold(a.Address, name) {
			return a.Line
		}
	}
	return ""
}

func deviceKey(d incident.Device) string {
	return cmp.Or(d.ID, d.Name, d.FriendlyName, d.IP, d.MAC, d.EntityID)
}

// deviceUpsert writes a device row. A device named by several incidents belongs to the newest (by
// created, then ID): an older incident written again (a projected change, a rebuild's order) does not
// take it back, so the rows do not depend on the order incidents are written in.
const deviceUpsert = `INSERT INTO devices
	(id, name, type, vendor, site, zone, line, importance, incident_id)
	VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
	ON CONFLICT (id) DO UPDATE SET name=excluded.name, type=excluded.type, vendor=excluded.vendor,
	site=excluded.site, zone=excluded.zone, line=excluded.line, importance=excluded.importance,
	incident_id=excluded.incident_id
	WHERE NOT EXISTS (SELECT 1 FROM incidents cur, incidents inc
		WHERE cur.id = devices.incident_id AND inc.id = excluded.incident_id AND cur.id <> inc.id
		AND (cur.created > inc.created OR (cur.created = inc.created AND cur.id > inc.id)))`

func (s *Store) recordDevices(ctx context.Context, tx *sql.Tx, inc incident.Incident) error {
	for _, d := range inc.Devices {
		key := deviceKey(d)
		if key == "" {
			continue
		}
		_, err := s.exec(ctx, tx, deviceUpsert,
			key, d.DisplayName(), cmp.Or(d.Type, d.SubType), d.Vendor, d.Site, d.Zone,
			lineOf(inc, d.DisplayName()), d.Importance, inc.ID)
		if err != nil {
			return fmt.Errorf("workbook: upsert device of incident %s: %w", inc.ID, err)
		}
	}
	return nil
}

// alertDevice is the device an alert is about: the one it names, else the incident's first.
func alertDevice(inc incident.Incident, a incident.Alert) incident.Device {
	for _, addr := range []string{a.DestinationDevice, a.DestinationAddress, a.CompromisedEntityID} {
		if d, ok := inc.DeviceByAddress(addr); ok {
			return d
		}
	}
	if len(inc.Devices) > 0 {
		return inc.Devices[0]
	}
	return incident.Device{}
}

func (s *Store) recordAlert(ctx context.Context, tx *sql.Tx, inc incident.Incident, i int, a incident.Alert, created int64) error {
	id := cmp.Or(a.ID, inc.ID+"#"+strconv.Itoa(i))
	at := cmp.Or(unix(a.TimeGenerated), unix(a.StartTime), created)
	d := alertDevice(inc, a)
	_, err := s.exec(ctx, tx, `INSERT INTO alerts
		(id, incident_id, title, severity, time, device_type, vendor, engine)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (id) DO UPDATE SET incident_id=excluded.incident_id, title=excluded.title,
		severity=excluded.severity, time=excluded.time, device_type=excluded.device_type,
		vendor=excluded.vendor, engine=excluded.engine`,
		id, inc.ID, a.Title, cmp.Or(a.Severity, inc.Severity), at, cmp.Or(d.Type, d.SubType), d.Vendor, a.Engine)
	if err != nil {
		return fmt.Errorf("workbook: upsert alert of incident %s: %w", inc.ID, err)
	}
	techniques, tactics := s.tags(inc, a)
	// The tag rows copy the alert's time and incident, which the matrix queries read instead of a join.
	if err := s.replaceTags(ctx, tx, "alert_techniques", `INSERT INTO alert_techniques (alert_id, technique, time, incident_id)
		VALUES ($1, $2, $3, $4)`, id, techniques, at, inc.ID); err != nil {
		return err
	}
	return s.replaceTags(ctx, tx, "alert_tactics", `INSERT INTO alert_tactics (alert_id, tactic, time)
		VALUES ($1, $2, $3)`, id, tactics, at)
}

// tags normalises an alert's ATT&CK tags to catalogue IDs (the incident's when the alert has none); an
// alert with techniques but no tactic counts under its techniques' tactics.
func (s *Store) tags(inc incident.Incident, a incident.Alert) (techniques, tactics []string) {
	cat := s.cat
	rawTech, rawTac := splitTags(a.Techniques), splitTags(a.Tactics)
	if len(rawTech) == 0 && len(rawTac) == 0 {
		rawTech, rawTac = splitTags(inc.Techniques), splitTags(inc.Tactics)
	}
	for _, t := range rawTech {
		if id := cat.technique(t); id != "" && !slices.Contains(techniques, id) {
			techniques = append(techniques, id)
		}
	}
	for _, t := range rawTac {
		if id := cat.tactic(t); id != "" && !slices.Contains(tactics, id) {
			tactics = append(tactics, id)
		}
	}
	if len(tactics) == 0 {
		for _, t := range techniques {
			for _, id := range cat.tacticsOf[t] {
				if !slices.Contains(tactics, id) {
					tactics = append(tactics, id)
				}
			}
		}
	}
	return techniques, tactics
}

// replaceTags sets an alert's rows in table to tags: insert takes the alert ID, the tag, then more.
func (s *Store) replaceTags(ctx context.Context, tx *sql.Tx, table, insert, alertID string, tags []string, more ...any) error {
	if _, err := s.exec(ctx, tx, "DELETE FROM "+table+" WHERE alert_id = $1", alertID); err != nil {
		return fmt.Errorf("workbook: clear %s of alert: %w", table, err)
	}
	for _, t := range tags {
		if _, err := s.exec(ctx, tx, insert, append([]any{alertID, t}, more...)...); err != nil {
			return fmt.Errorf("workbook: insert %s of alert: %w", table, err)
		}
	}
	return nil
}

// Run is one playbook run as the store holds it.
type Run struct {
	WorkflowID, RunID, Playbook, Incident string
	// Status is open, completed, failed, canceled, terminated or timed_out.
	Status       string
	Outcome      string
	Started      time.Time
	Closed       time.Time
	Asked        bool
	AnsweredAt   time.Time
	Escalations  int
	Round        int
	WaitingSince time.Time
}

// UpsertRun writes one run; the same run twice leaves the same row.
func (s *Store) UpsertRun(ctx context.Context, r Run) error {
	return s.upsertRun(ctx, nil, r)
}

// UpsertRuns writes runs in one transaction (a commit per run is most of a write's cost on SQLite).
func (s *Store) UpsertRuns(ctx context.Context, runs []Run) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("workbook: upsert runs: %w", err)
	}
	for _, r := range runs {
		if err := s.upsertRun(ctx, tx, r); err != nil {
			return errors.Join(err, tx.Rollback())
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("workbook: upsert runs: %w", err)
	}
	return nil
}

func (s *Store) upsertRun(ctx context.Context, tx *sql.Tx, r Run) error {
	var answerSecs any
	if !r.AnsweredAt.IsZero() && !r.Started.IsZero() {
		answerSecs = r.AnsweredAt.Sub(r.Started).Seconds()
	}
	asked := 0
	if r.Asked {
		asked = 1
	}
	_, err := s.exec(ctx, tx, `INSERT INTO runs
		(run_id, workflow_id, playbook, incident_id, status, outcome, started, closed, asked, answered_at,
		 answer_secs, escalations, round, waiting_since)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
		ON CONFLICT (run_id) DO UPDATE SET workflow_id=excluded.workflow_id, playbook=excluded.playbook,
		incident_id=excluded.incident_id, status=excluded.status, outcome=excluded.outcome,
		started=excluded.started, closed=excluded.closed, asked=excluded.asked,
		answered_at=excluded.answered_at, answer_secs=excluded.answer_secs,
		escalations=excluded.escalations, round=excluded.round, waiting_since=excluded.waiting_since`,
		r.RunID, r.WorkflowID, r.Playbook, r.Incident, r.Status, r.Outcome, r.Started.Unix(), nullUnix(r.Closed),
		asked, nullUnix(r.AnsweredAt), answerSecs, r.Escalations, r.Round, nullUnix(r.WaitingSince))
	if err != nil {
		return fmt.Errorf("workbook: upsert run %s: %w", r.WorkflowID, err)
	}
	return nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func nullUnix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

package bench

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
)

// The alert fixtures, copies of the repository's testdata (embedded for the same reason as the
// incident fixtures): a Defender for IoT SecurityAlert row and an OT sensor alert.
var (
	//go:embed testdata/alert-securityalert.json
	securityAlertFixture []byte
	//go:embed testdata/alert-sensor.json
	sensorAlertFixture []byte
)

// AlertShape is the form of a generated alert record.
type AlertShape string

// The record shapes, named as on the command line (--alert-shapes).
const (
	// ShapeSecurityAlert is a Log Analytics SecurityAlert row; its alert ID is VendorOriginalId.
	ShapeSecurityAlert AlertShape = "securityalert"
	// ShapeSensor is an OT sensor (management console) alert; its alert ID is uuid.
	ShapeSensor AlertShape = "sensor"
)

// AlertShapes lists the shapes in report order.
var AlertShapes = []AlertShape{ShapeSecurityAlert, ShapeSensor}

// ParseAlertShapes parses "securityalert,sensor" (or "both").
func ParseAlertShapes(s string) ([]AlertShape, error) {
	if strings.TrimSpace(s) == "both" {
		return AlertShapes, nil
	}
	var out []AlertShape
	for part := range strings.SplitSeq(s, ",") {
		sh := AlertShape(strings.ToLower(strings.TrimSpace(part)))
		switch sh {
		case ShapeSecurityAlert, ShapeSensor:
			out = append(out, sh)
		case "":
		default:
			return nil, fmt.Errorf("alert shape %q: unknown (want securityalert, sensor or both)", part)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no alert shape")
	}
	return out, nil
}

// DefaultAlertTitles are alert titles whose incidents the default automation rules start no playbook
// for (they start playbooks only for "New Asset Detected" on an engineering station and for PLC
// changes): the alert phase measures the incident layer, not ServiceNow or SMTP. Each is matched by
// its own incident creation rule.
var DefaultAlertTitles = []string{
	"Excessive Login Attempts",
	"Suspicion of Denial Of Service Attack",
	"Illegal MODBUS Operation (Function Code Zero)",
}

// RecordKind says what a generated record is to its alert.
type RecordKind string

// The record kinds.
const (
	// RecordFirst is an alert's first record: it creates the alert's incident.
	RecordFirst RecordKind = "first"
	// RecordResend is the first record sent again, byte for byte: a duplicate.
	RecordResend RecordKind = "resend"
	// RecordLater30 and RecordLater90 are later records of the alert, TimeGenerated (sensor: time)
	// moved by 30 and 90 minutes: inside and after Sentinel's 60-minute re-processing window. Each
	// updates the alert in its incident.
	RecordLater30 RecordKind = "later30m"
	RecordLater90 RecordKind = "later90m"
)

// GenAlert is one generated alert record.
type GenAlert struct {
	// Alert numbers the distinct alert within the plan; AlertID is its Defender for IoT alert ID.
	Alert      int
	AlertID    string
	IncidentID string // the incident the record must land in
	Shape      AlertShape
	Kind       RecordKind
	Title      string
	// TimeGenerated is the record's time (the first record's, moved for later records).
	TimeGenerated time.Time
	Body          []byte // one JSON object, on one line
}

// AlertBatch is one POST /v1/alerts body.
type AlertBatch struct {
	Records []int // indexes into AlertPlan.Records, in body order
	Body    []byte
}

// AlertPlan is every record of an alert phase, batched.
type AlertPlan struct {
	Records []GenAlert
	Batches []AlertBatch
	NDJSON  bool
	// Alerts is the number of distinct alert IDs; the counts by kind follow.
	Alerts, Resends, Later30, Later90 int
	ByShape                           map[string]int // records by shape
	// PerAlert counts each alert's records and exact re-sends.
	PerAlert []AlertCounts
}

// AlertCounts is what a plan sends for one alert.
type AlertCounts struct {
	Records, Resends int
	// Later says the alert has a later record.
	Later bool
	// Latest is the time of its latest record: the one the incident must hold.
	Latest time.Time
}

// ExpectedAccepted is how many records the intake accepts when every alert's first record arrives
// before its repeats: every first record and every later record. Re-sends are duplicates in any order;
// a later record that overtakes its first record makes the first one the duplicate instead.
func (p *AlertPlan) ExpectedAccepted() int { return p.Alerts + p.Later30 + p.Later90 }

// AlertOptions shape an alert plan.
type AlertOptions struct {
	Records int
	Batch   int
	// Repeat is the share of records that repeat an earlier alert ID (0 ≤ Repeat ≤ MaxAlertRepeat).
	Repeat float64
	Shapes []AlertShape // round robin over the alerts
	Titles []string     // round robin over the alerts
	// Array sends JSON arrays instead of NDJSON.
	Array bool
	// Base is the first alert's TimeGenerated; zero means two hours ago (so that records moved by 90
	// minutes are still in the past).
	Base time.Time
}

// MaxAlertRepeat bounds the repeat share: a quarter of the records each are later records, and every
// alert gets at most one.
const MaxAlertRepeat = 0.6

// alertTemplate is a parsed fixture.
type alertTemplate struct {
	fields map[string]any
	oldID  string // the fixture's alert ID, replaced wherever it occurs
}

// AlertGenerator makes alert records unique to one bench run.
type AlertGenerator struct {
	runID     string
	templates map[AlertShape]alertTemplate
}

// NewAlertGenerator parses the fixtures.
func NewAlertGenerator(runID string) (*AlertGenerator, error) {
	if !validRunID(runID) {
		return nil, fmt.Errorf("run id %q: want 1 to 16 lower-case letters or digits", runID)
	}
	g := &AlertGenerator{runID: runID, templates: map[AlertShape]alertTemplate{}}
	for shape, data := range map[AlertShape][]byte{ShapeSecurityAlert: securityAlertFixture, ShapeSensor: sensorAlertFixture} {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("alert fixture %s: %w", shape, err)
		}
		key := "VendorOriginalId"
		if shape == ShapeSensor {
			key = "uuid"
		}
		id, _ := m[key].(string)
		if id == "" {
			return nil, fmt.Errorf("alert fixture %s: no %s", shape, key)
		}
		g.templates[shape] = alertTemplate{fields: m, oldID: id}
	}
	return g, nil
}

// AlertIDPrefix starts every alert ID of the run; incident IDs are otincident's "ot-<provider>-" and
// the alert ID.
func (g *AlertGenerator) AlertIDPrefix() string { return "bench-" + g.runID + "-a" }

// IncidentWorkflowPrefixes are the workflow-ID prefixes of the run's incidents, one per shape.
func (g *AlertGenerator) IncidentWorkflowPrefixes() []string {
	var out []string
	for _, sh := range AlertShapes {
		out = append(out, otincident.WorkflowID(alertIncidentID(sh, g.AlertIDPrefix())))
	}
	return out
}

// alertIncidentID is the incident an alert of the shape with this ID goes to (no creation rule of the
// defaults groups alerts).
func alertIncidentID(shape AlertShape, alertID string) string {
	a := incident.Alert{ProviderName: incident.ProviderIoTSecurity, VendorOriginalID: alertID}
	if shape == ShapeSensor {
		a.ProviderName = incident.ProviderOTSensor
	}
	return otincident.IncidentID(a, "")
}

// Plan generates the records and batches them.
func (g *AlertGenerator) Plan(o AlertOptions) (*AlertPlan, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	base := o.Base
	if base.IsZero() {
		base = time.Now().Add(-2 * time.Hour)
	}
	sum := sha256.Sum256([]byte(g.runID))
	n := o.Records
	pl := &planner{
		g: g, o: o, base: base.UTC().Truncate(time.Millisecond),
		rng: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16]))),
		p:   &AlertPlan{Records: make([]GenAlert, 0, n), NDJSON: !o.Array, ByShape: map[string]int{}},
	}
	repeats := int(float64(n)*o.Repeat + 0.5)
	for i := range n {
		// Spread the repeats evenly (Bresenham); the first record is never one.
		var err error
		if len(pl.firsts) > 0 && (i+1)*repeats/n > i*repeats/n {
			err = pl.repeat()
		} else {
			err = pl.first()
		}
		if err != nil {
			return nil, err
		}
	}
	p := pl.p
	p.Alerts = len(pl.firsts)
	for _, r := range p.Records {
		p.ByShape[string(r.Shape)]++
	}
	p.Batches = batchAlerts(p.Records, o.Batch, o.Array)
	return p, nil
}

// check validates the options.
func (o AlertOptions) check() error {
	switch {
	case o.Records < 1 || o.Records > maxSeq:
		return fmt.Errorf("alert records must be 1..%d, not %d", maxSeq, o.Records)
	case o.Batch < 1 || o.Batch > incident.MaxBatchRecords:
		return fmt.Errorf("alert batch must be 1..%d records, not %d", incident.MaxBatchRecords, o.Batch)
	case o.Repeat < 0 || o.Repeat > MaxAlertRepeat:
		return fmt.Errorf("alert repeat must be 0..%g, not %g", MaxAlertRepeat, o.Repeat)
	case len(o.Shapes) == 0:
		return errors.New("no alert shape")
	case len(o.Titles) == 0:
		return errors.New("no alert title")
	}
	return nil
}

// planner is Plan's state while it generates the records.
type planner struct {
	g    *AlertGenerator
	o    AlertOptions
	base time.Time
	rng  *rand.Rand
	p    *AlertPlan

	firsts   []int // record index of every alert's first record
	unmoved  []int // alerts without a later record yet
	repeatNo int
}

// first adds the first record of a new alert.
func (pl *planner) first() error {
	p, a := pl.p, len(pl.firsts)
	shape, title := pl.o.Shapes[a%len(pl.o.Shapes)], pl.o.Titles[a%len(pl.o.Titles)]
	id := fmt.Sprintf("%s%d", pl.g.AlertIDPrefix(), a)
	at := pl.base.Add(time.Duration(a) * 10 * time.Millisecond)
	body, err := pl.g.record(shape, id, title, at, at)
	if err != nil {
		return err
	}
	pl.firsts = append(pl.firsts, len(p.Records))
	pl.unmoved = append(pl.unmoved, a)
	p.PerAlert = append(p.PerAlert, AlertCounts{Records: 1, Latest: at})
	p.Records = append(p.Records, GenAlert{
		Alert: a, AlertID: id, IncidentID: alertIncidentID(shape, id), Shape: shape, Kind: RecordFirst,
		Title: title, TimeGenerated: at, Body: body,
	})
	return nil
}

// repeat adds a record repeating an earlier alert: an exact re-send, or a later record of an alert
// that has none yet, moved by 30 or 90 minutes.
func (pl *planner) repeat() error {
	p := pl.p
	kind, a := pl.pickRepeat()
	rec := p.Records[pl.firsts[a]]
	rec.Kind = kind
	pc := &p.PerAlert[a]
	pc.Records++
	switch kind {
	case RecordResend:
		p.Resends++
		pc.Resends++
	default:
		shift := 30 * time.Minute
		p.Later30++
		if kind == RecordLater90 {
			shift = 90 * time.Minute
			p.Later30--
			p.Later90++
		}
		first := rec.TimeGenerated
		rec.TimeGenerated = first.Add(shift)
		pc.Latest, pc.Later = rec.TimeGenerated, true
		body, err := pl.g.record(rec.Shape, rec.AlertID, rec.Title, first, rec.TimeGenerated)
		if err != nil {
			return err
		}
		rec.Body = body
	}
	p.Records = append(p.Records, rec)
	return nil
}

// pickRepeat says what the next repeat is and of which alert: of every four, two are re-sends, one
// is moved by 30 minutes and one by 90; a later record goes to an alert without one, at random.
func (pl *planner) pickRepeat() (kind RecordKind, alert int) {
	kind = RecordResend
	switch pl.repeatNo % 4 {
	case 1:
		kind = RecordLater30
	case 3:
		kind = RecordLater90
	}
	pl.repeatNo++
	if kind != RecordResend && len(pl.unmoved) > 0 {
		k := pl.rng.IntN(len(pl.unmoved))
		alert = pl.unmoved[k]
		pl.unmoved[k] = pl.unmoved[len(pl.unmoved)-1]
		pl.unmoved = pl.unmoved[:len(pl.unmoved)-1]
		return kind, alert
	}
	return RecordResend, pl.rng.IntN(len(pl.firsts))
}

// batchAlerts puts the records into POST bodies of size records each, as JSON arrays or NDJSON.
func batchAlerts(records []GenAlert, size int, array bool) []AlertBatch {
	var batches []AlertBatch
	n := len(records)
	for off := 0; off < n; off += size {
		b := AlertBatch{}
		var buf bytes.Buffer
		if array {
			buf.WriteByte('[')
		}
		for i := off; i < min(off+size, n); i++ {
			if array && i > off {
				buf.WriteByte(',')
			}
			buf.Write(records[i].Body)
			if !array {
				buf.WriteByte('\n')
			}
			b.Records = append(b.Records, i)
		}
		if array {
			buf.WriteByte(']')
		}
		b.Body = buf.Bytes()
		batches = append(batches, b)
	}
	return batches
}

// record renders one record of the alert: started at first, generated at at (later records move
// only the latter).
func (g *AlertGenerator) record(shape AlertShape, id, title string, first, at time.Time) ([]byte, error) {
	t := g.templates[shape]
	m := maps.Clone(t.fields)
	for k, v := range m {
		if s, ok := v.(string); ok && strings.Contains(s, t.oldID) {
			m[k] = strings.ReplaceAll(s, t.oldID, id)
		}
	}
	switch shape {
	case ShapeSecurityAlert:
		m["VendorOriginalId"] = id
		sum := sha256.Sum256([]byte(id))
		h := hex.EncodeToString(sum[:16])
		m["SystemAlertId"] = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		m["DisplayName"], m["AlertName"] = title, title
		m["AlertType"] = "IoT_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, title)
		m["AlertSeverity"] = "Medium"
		m["ProductComponentName"] = "ANOMALY"
		m["Description"] = title + " (interlock bench run " + g.runID + ", alert " + id + ")."
		m["Tactics"], m["Techniques"] = "", ""
		m["StartTime"] = first.Format(time.RFC3339Nano)
		m["EndTime"] = at.Format(time.RFC3339Nano)
		m["TimeGenerated"] = at.Format(time.RFC3339Nano)
		m["ProcessingEndTime"] = at.Add(time.Second).Format(time.RFC3339Nano)
	case ShapeSensor:
		m["uuid"] = id
		m["title"] = title
		m["message"] = title + " (interlock bench run " + g.runID + ", alert " + id + ")."
		m["severity"] = "Major"
		m["engine"] = "Anomaly"
		m["time"] = at.UnixMilli()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("alert record: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

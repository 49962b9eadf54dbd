package bench

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
)

func testPlan(t *testing.T, runID string, o AlertOptions) *AlertPlan {
	t.Helper()
	g, err := NewAlertGenerator(runID)
	require.NoError(t, err)
	if o.Shapes == nil {
		o.Shapes = AlertShapes
	}
	if o.Titles == nil {
		o.Titles = DefaultAlertTitles
	}
	p, err := g.Plan(o)
	require.NoError(t, err)
	return p
}

// TestAlertPlan: unique IDs per run, the repeat share and its two kinds, and every record parsing
// (both shapes) into the alert and incident the plan says.
func TestAlertPlan(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	p := testPlan(t, "r1", AlertOptions{Records: 1000, Batch: 128, Repeat: 0.3, Base: base})
	require.Len(t, p.Records, 1000)
	require.Equal(t, 700, p.Alerts)
	require.Equal(t, 300, p.Resends+p.Later30+p.Later90)
	require.Equal(t, 150, p.Resends, "half the repeats are exact re-sends")
	require.Equal(t, 75, p.Later30)
	require.Equal(t, 75, p.Later90)
	require.Equal(t, 850, p.ExpectedAccepted())
	require.Equal(t, 1000, p.ByShape["securityalert"]+p.ByShape["sensor"])
	firstByShape := map[AlertShape]int{}
	for _, r := range p.Records {
		if r.Kind == RecordFirst {
			firstByShape[r.Shape]++
		}
	}
	require.Equal(t, map[AlertShape]int{ShapeSecurityAlert: 350, ShapeSensor: 350}, firstByShape, "the shapes alternate over the alerts")
	require.Len(t, p.Batches, 8)

	seen := map[string]int{}   // alert ID → its first record's index
	moved := map[string]bool{} // alerts with a later record
	bodies := map[string][]byte{}
	for i, r := range p.Records {
		require.True(t, strings.HasPrefix(r.AlertID, "bench-r1-a"), r.AlertID)
		require.NotContains(t, string(r.Body), "\n", "one line per record")
		switch r.Kind {
		case RecordFirst:
			_, dup := seen[r.AlertID]
			require.False(t, dup, "alert IDs of first records are unique")
			seen[r.AlertID] = i
			bodies[r.AlertID] = r.Body
		case RecordResend:
			require.Contains(t, seen, r.AlertID, "a repeat follows its alert's first record")
			require.Equal(t, bodies[r.AlertID], r.Body, "an exact re-send")
		case RecordLater30, RecordLater90:
			require.Contains(t, seen, r.AlertID)
			require.False(t, moved[r.AlertID], "at most one later record per alert")
			moved[r.AlertID] = true
			first := p.Records[seen[r.AlertID]]
			shift := 30 * time.Minute
			if r.Kind == RecordLater90 {
				shift = 90 * time.Minute
			}
			require.Equal(t, first.TimeGenerated.Add(shift), r.TimeGenerated)
			require.NotEqual(t, first.Body, r.Body)
		}
	}
	require.Len(t, seen, p.Alerts)

	// Every batch parses, as NDJSON, into the records the plan says, in order.
	n := 0
	for _, b := range p.Batches {
		require.True(t, bytes.HasSuffix(b.Body, []byte("\n")))
		recs, err := incident.ParseAlerts(b.Body, true)
		require.NoError(t, err)
		require.Len(t, recs, len(b.Records))
		for j, rec := range recs {
			want := p.Records[b.Records[j]]
			require.Equal(t, n, b.Records[j])
			n++
			require.NoError(t, rec.Err, "record %d (%s)", b.Records[j], want.Shape)
			a := rec.Incident.Alerts[0]
			require.Equal(t, want.AlertID, a.VendorOriginalID)
			require.Equal(t, want.IncidentID, otincident.IncidentID(a, ""))
			require.Equal(t, want.Title, a.Title)
			require.True(t, want.TimeGenerated.Equal(a.TimeGenerated), "%s: %s vs %s", want.Shape, want.TimeGenerated, a.TimeGenerated)
			wantForm := "securityAlert"
			if want.Shape == ShapeSensor {
				wantForm = "sensor"
			}
			require.Equal(t, wantForm, rec.Form)
		}
	}
	require.Equal(t, 1000, n)

	// Another run's IDs never collide with this one's.
	q := testPlan(t, "r2", AlertOptions{Records: 100, Batch: 100, Repeat: 0.3, Base: base})
	for _, r := range q.Records {
		_, clash := seen[r.AlertID]
		require.False(t, clash, r.AlertID)
		require.True(t, strings.HasPrefix(otincident.WorkflowID(r.IncidentID), "InterlockIncident/ot-"))
	}
}

// TestAlertPlanTitlesStartNoPlaybook: the default titles are none of those the default automation
// rules start playbooks for.
func TestAlertPlanTitlesStartNoPlaybook(t *testing.T) {
	t.Parallel()
	for _, title := range DefaultAlertTitles {
		require.NotEqual(t, "New Asset Detected", title)
		require.NotContains(t, strings.ToLower(title), "plc")
		require.NotContains(t, strings.ToLower(title), "firmware")
	}
}

func TestAlertPlanArrayAndOptions(t *testing.T) {
	t.Parallel()
	p := testPlan(t, "r3", AlertOptions{Records: 10, Batch: 4, Array: true, Shapes: []AlertShape{ShapeSensor}})
	require.Len(t, p.Batches, 3)
	require.Equal(t, 10, p.Alerts, "no repeats")
	for _, b := range p.Batches {
		var arr []json.RawMessage
		require.NoError(t, json.Unmarshal(b.Body, &arr))
		require.Len(t, arr, len(b.Records))
		recs, err := incident.ParseAlerts(b.Body, false)
		require.NoError(t, err)
		for _, rec := range recs {
			require.NoError(t, rec.Err)
			require.Equal(t, "sensor", rec.Form)
		}
	}
	// Default base: two hours ago, so records moved by 90 minutes are still in the past.
	require.WithinDuration(t, time.Now().Add(-2*time.Hour), p.Records[0].TimeGenerated, time.Minute)

	g, err := NewAlertGenerator("r4")
	require.NoError(t, err)
	for _, o := range []AlertOptions{
		{Records: 0, Batch: 1, Shapes: AlertShapes, Titles: DefaultAlertTitles},
		{Records: 1, Batch: 0, Shapes: AlertShapes, Titles: DefaultAlertTitles},
		{Records: 1, Batch: 1, Repeat: 0.7, Shapes: AlertShapes, Titles: DefaultAlertTitles},
		{Records: 1, Batch: 1, Titles: DefaultAlertTitles},
		{Records: 1, Batch: 1, Shapes: AlertShapes},
	} {
		_, err := g.Plan(o)
		require.Error(t, err, "%+v", o)
	}
	// The maximum repeat share still gives every later record its own alert.
	p = testPlan(t, "r5", AlertOptions{Records: 1000, Batch: 1000, Repeat: MaxAlertRepeat})
	require.Equal(t, 400, p.Alerts)
	require.Equal(t, 600, p.Resends+p.Later30+p.Later90)
	require.Equal(t, 300, p.Later30+p.Later90)
}

func TestParseAlertShapes(t *testing.T) {
	t.Parallel()
	s, err := ParseAlertShapes("both")
	require.NoError(t, err)
	require.Equal(t, AlertShapes, s)
	s, err = ParseAlertShapes("Sensor")
	require.NoError(t, err)
	require.Equal(t, []AlertShape{ShapeSensor}, s)
	_, err = ParseAlertShapes("syslog")
	require.ErrorContains(t, err, "unknown")
	_, err = ParseAlertShapes("")
	require.Error(t, err)
}

// TestAlertReport: the counts from the answers, the rates, and the checks.
func TestAlertReport(t *testing.T) {
	t.Parallel()
	p := testPlan(t, "r6", AlertOptions{Records: 10, Batch: 5, Repeat: 0.2, Base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ar := &alertRun{plan: p, recs: make([]alertState, len(p.Records)), retriedBatch: make([]bool, 2), firstSent: t0}
	for i, r := range p.Records {
		st := &ar.recs[i]
		st.incident = r.IncidentID
		st.latency = time.Duration(100+10*i) * time.Millisecond
		st.takenAt = t0.Add(st.latency)
		switch r.Kind {
		case RecordFirst:
			st.status, st.created = "accepted", true
		case RecordResend:
			st.status = "duplicate"
		default:
			st.status = "accepted"
		}
	}
	ar.posts = []time.Duration{190 * time.Millisecond, 200 * time.Millisecond}
	ar.postsN.Store(2)
	ar.lastAnswer = t0.Add(2 * time.Second)
	cfg := Config{AlertBatch: 5, AlertConcurrency: 2, AlertTitles: DefaultAlertTitles}
	rep := alertReport(ar, cfg)
	require.Equal(t, p.ExpectedAccepted(), rep.Accepted)
	require.Equal(t, p.Resends, rep.Duplicates)
	require.Equal(t, p.Alerts, rep.IncidentsCreated)
	require.Equal(t, p.Alerts, rep.DistinctIncidents)
	require.Equal(t, 5.0, rep.RecordsPerSec, "10 records in 2 s")
	require.Equal(t, 2, rep.PostLatency.Count)
	require.Equal(t, 10, rep.RecordLatency.Count)
	require.True(t, rep.DefaultTitles)
	rep.VisibilityCount, rep.Sampled = p.Alerts, p.Alerts
	require.Empty(t, alertFailures(rep))

	var out bytes.Buffer
	b := &tableWriter{w: &out}
	rep.CeilingStartedPerSec, rep.CeilingRatio = 100, 0.04
	b.alerts(rep)
	require.NoError(t, b.err)
	s := out.String()
	for _, want := range []string{
		"Alert intake: 10 records (8 alert IDs; repeats: 1 exact re-sends, 1 moved +30 min, 0 moved +90 min; securityalert 5, sensor 5) in 2 POSTs of 5 as ndjson, 2 concurrent",
		"POST /v1/alerts answered",
		"record → incident (its POST)",
		"incidents created",
		"accepted 9 (expected 9), duplicate 1 (expected 1)",
		"Temporal counts 8, for 8 alert IDs",
		"OK\n",
		"incidents created/s ÷ ceiling started/s (100.0) = 0.04 (4%)",
	} {
		require.Contains(t, s, want, s)
	}

	// A lost record, a second incident for an alert and a visibility shortfall all fail.
	ar.recs[0].status, ar.recs[0].created = "", false
	ar.recs[1].incident = "ot-iot-elsewhere"
	rep = alertReport(ar, cfg)
	rep.VisibilityCount = p.Alerts - 1
	f := strings.Join(alertFailures(rep), "\n")
	require.Contains(t, f, "1 records not taken")
	require.Contains(t, f, "another incident")
	require.Contains(t, f, "incidents created")
	require.Contains(t, f, "Temporal counts 7 incident workflows for 8")
	out.Reset()
	b.alerts(rep)
	require.Contains(t, out.String(), "FAILED")
}

// TestAlertReportJSONShape pins the alert phase's JSON field names.
func TestAlertReportJSONShape(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(AlertReport{})
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Equal(t, []string{"accepted", "alerts", "batch", "batches", "batchesNotTaken", "batchesRetried", "byShape",
		"ceilingRatio", "ceilingStartedPerSec", "concurrency", "cpuSeconds", "defaultTitles", "distinctIncidents",
		"duplicates", "errors", "expectedAccepted", "expectedDuplicates", "failed", "format", "hostBusyCores",
		"incidentsCreated", "incidentsPerSec", "later30m", "later90m", "notAnswered", "postLatency", "posts",
		"recordLatency", "records", "recordsPerSec", "rejected", "resends", "retries", "sampleMismatches",
		"samplePlaybookRuns", "sampled", "suppressed", "terminated", "titles", "unavailable", "visibilityCount",
		"visibilityQuery", "wallSeconds", "wrongIncident"}, slices.Sorted(maps.Keys(doc)))
}

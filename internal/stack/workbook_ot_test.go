package stack_test

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/playbooks"
)

// countingTemporal counts the projector's queries by type, to see which runs a pass re-reads.
type countingTemporal struct {
	client.Client
	// only, when set, limits the count to these workflows (other tests' runs share the server).
	only    map[string]bool
	mu      sync.Mutex
	queries map[string]int
}

func (c *countingTemporal) count(workflowID, key string) {
	if c.only != nil && !c.only[workflowID] {
		return
	}
	c.mu.Lock()
	c.queries[key]++
	c.mu.Unlock()
}

func (c *countingTemporal) QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error) {
	c.count(workflowID, queryType)
	return c.Client.QueryWorkflow(ctx, workflowID, runID, queryType, args...)
}

func (c *countingTemporal) DescribeWorkflow(ctx context.Context, workflowID, runID string) (*client.WorkflowExecutionDescription, error) {
	c.count(workflowID, describe)
	return c.Client.DescribeWorkflow(ctx, workflowID, runID)
}

func (c *countingTemporal) GetWorkflowHistory(ctx context.Context, workflowID, runID string, long bool, f enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	key := inputRead
	if f == enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT {
		key = closeRead
	}
	c.count(workflowID, key)
	return c.Client.GetWorkflowHistory(ctx, workflowID, runID, long, f)
}

// describe, inputRead and closeRead count DescribeWorkflow calls and history reads (a run's input,
// its close event) among the queries.
const describe, inputRead, closeRead = "(describe)", "(input)", "(close)"

// take answers the count of queryType since the last take, and starts counting again.
func (c *countingTemporal) take(queryType string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.queries[queryType]
	c.queries[queryType] = 0
	return n
}

// incidentRow is one incident as the store's row has it.
type incidentRow struct {
	Status     string
	Closed     sql.NullInt64
	Site, Line string
}

// TestWorkbookProjectsOTIncidents: Interlock's own incidents (sensor alerts through the alert intake,
// no Sentinel) reach the workbook from their incident workflows, on a stack of the test's own (so the
// summary's numbers are this test's alone) whose incident runs continue as new after a few events.
// Closing one moves it to closed; a re-sent alert and a rebuild leave it closed.
func TestWorkbookProjectsOTIncidents(t *testing.T) {
	w := newOTWorkbook(t)
	ctx, api := w.ctx, w.api
	plc, asset := sensorAlert(t, 7101, "Unauthorized PLC Programming"), sensorAlert(t, 7102, "New Asset Detected")
	idPLC, idAsset := "ot-sensor-7101-1796198400000", "ot-sensor-7102-1796198400000"
	for _, body := range [][]byte{plc, asset} {
		res, err := api.PostAlerts(ctx, body, false)
		require.NoError(t, err)
		require.True(t, res.Records[0].Created)
	}
	for _, id := range []string{idPLC, idAsset} {
		require.Eventually(t, func() bool {
			v, err := api.Incident(ctx, id)
			return err == nil && v.Incident.Impact != nil && len(v.Playbooks) > 0
		}, 30*time.Second, 100*time.Millisecond, "the incident %s has its impact and its playbook", id)
	}

	open := w.syncUntil("both incidents are projected", func(s workbook.Summary) bool { return s.Totals.OpenIncidents == 2 })
	open.Totals.Runs = 0 // the playbook runs are another test's
	require.Equal(t, workbook.Totals{Alerts: 2, Incidents: 2, OpenIncidents: 2, Devices: 2}, open.Totals)
	require.Equal(t, []workbook.Count{{Key: "New Asset Detected", Count: 1}, {Key: "Unauthorized PLC Programming", Count: 1}}, open.AlertsByType)
	require.Equal(t, []workbook.Count{{Key: "High", Count: 2}}, open.AlertsBySeverity)
	require.Equal(t, []workbook.Count{{Key: "PLC", Count: 2}}, open.AlertsByDeviceType)
	require.Equal(t, []workbook.Count{{Key: "Unknown", Count: 2}}, open.AlertsByVendor)
	require.Equal(t, 2, total(open.AlertsOverTime))
	require.Equal(t, 2, total(open.IncidentsOverTime))
	require.Len(t, open.OpenIncidents, 1)
	g := open.OpenIncidents[0]
	require.Equal(t, []string{"Rotterdam Plant", "Line 3 packaging", "High"}, []string{g.Site, g.Line, g.Highest})
	require.Equal(t, 2, g.Count)
	require.Equal(t, []string{"ENG-WS-07", "PLC-L3-01"}, g.Assets)
	require.Contains(t, g.Impact, "PLC-L3-01")
	// The group's Temporal UI link lists both incidents' workflows.
	require.ElementsMatch(t, []string{otincident.WorkflowID(idPLC), otincident.WorkflowID(idAsset)}, w.incidentWorkflows(g.URL))
	for _, id := range []string{idPLC, idAsset} {
		require.Equal(t, incidentRow{Status: "New", Site: "Rotterdam Plant", Line: "Line 3 packaging"}, w.row(id))
	}
	// Once the incidents settle (their playbooks started), a pass queries none of them again.
	w.settle()
	_, err := w.p.Sync(ctx)
	require.NoError(t, err)
	require.Zero(t, w.tc.take(otincident.QueryState), "an unchanged incident is not queried again")

	// Closing through the incident API: the next pass reads the change.
	_, err = api.Patch(ctx, idPLC, map[string]any{"status": "Closed", "classification": "TruePositive"})
	require.NoError(t, err)
	v, err := api.Incident(ctx, idPLC)
	require.NoError(t, err)
	require.False(t, v.Closed.IsZero())
	closed := incidentRow{Status: "Closed", Closed: sql.NullInt64{Int64: v.Closed.Unix(), Valid: true}, Site: "Rotterdam Plant", Line: "Line 3 packaging"}
	after := w.syncUntil("the close is projected", func(s workbook.Summary) bool { return s.Totals.OpenIncidents == 1 })
	require.Positive(t, w.tc.take(otincident.QueryState))
	require.Equal(t, closed, w.row(idPLC))
	require.Equal(t, "New", w.row(idAsset).Status)
	require.Len(t, after.OpenIncidents, 1)
	require.Equal(t, 1, after.OpenIncidents[0].Count)
	require.Equal(t, []string{otincident.WorkflowID(idAsset)}, w.incidentWorkflows(after.OpenIncidents[0].URL))
	// The open-incidents tile's link lists the open incident's workflow, not the closed one's.
	require.Eventually(t, func() bool {
		return slices.Equal([]string{otincident.WorkflowID(idAsset)}, w.incidentWorkflows(after.Links.OpenRuns))
	}, 10*time.Second, 200*time.Millisecond, "the open runs link lists the open incident (visibility lags the close a little)")

	// The same alert again: a duplicate, and the incident stays closed.
	res, err := api.PostAlerts(ctx, plc, false)
	require.NoError(t, err)
	require.Equal(t, otincident.OutcomeDuplicate, res.Records[0].Status)
	w.settle()
	require.Equal(t, closed, w.row(idPLC))
	settled := w.summary()
	require.Equal(t, 1, settled.Totals.OpenIncidents)
	require.Equal(t, 2, settled.Totals.Incidents)
	require.Equal(t, 2, settled.Totals.Alerts)
	require.Positive(t, w.continued(idPLC), "the closed incident's workflow continued as new (maxHistoryEvents)")
	// A pass describes the open incident's run only: the closed one's is checked once a minute.
	require.Eventually(t, func() bool {
		w.tc.take(describe)
		_, err := w.p.Sync(ctx)
		require.NoError(t, err)
		return w.tc.take(describe) == 1
	}, 10*time.Second, 200*time.Millisecond, "a pass describes one incident run")
	// At the default pace a waiting incident is described once, then not again for 10 s.
	paced := workbook.NewProjector(w.s, w.tc, workbook.ProjectorOptions{Playbooks: playbooks.Shipped(config.Default().Playbooks).Names()})
	w.tc.take(describe)
	_, err = paced.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, w.tc.take(describe), "a new projector describes both waiting incident runs")
	_, err = paced.Sync(ctx)
	require.NoError(t, err)
	require.Zero(t, w.tc.take(describe), "the next pass, within IncidentEvery, describes none")

	// A rebuild from Temporal restores the same picture, the closed incident closed.
	_, err = w.p.Rebuild(ctx, nil)
	require.NoError(t, err)
	rebuilt := w.summary()
	require.Equal(t, closed, w.row(idPLC))
	require.Equal(t, incidentRow{Status: "New", Site: "Rotterdam Plant", Line: "Line 3 packaging"}, w.row(idAsset))
	require.Equal(t, settled.Totals, rebuilt.Totals)
	require.Equal(t, settled.AlertsByType, rebuilt.AlertsByType)
	require.Equal(t, settled.AlertsBySeverity, rebuilt.AlertsBySeverity)
	require.Equal(t, settled.OpenIncidents, rebuilt.OpenIncidents)
	require.Equal(t, settled.IncidentsOverTime, rebuilt.IncidentsOverTime)
}

func total(pts []workbook.Point) int {
	n := 0
	for _, p := range pts {
		n += p.Count
	}
	return n
}

// otWorkbook is a stack of one test's own with a projector into a new store.
type otWorkbook struct {
	t   *testing.T
	ctx context.Context
	h   *harness
	api *intake.APIClient
	tc  *countingTemporal
	p   *workbook.Projector
	s   *workbook.Store
	db  *sql.DB
	rng workbook.Range
}

func newOTWorkbook(t *testing.T) *otWorkbook {
	tp := testenv.NewTemporal(t)
	mp := env.Mailpit(t)
	stackCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop) // before the server stops: cleanups run last first
	h, err := startStack(tp, stackOptions{mail: mp, smtpHost: mp.SMTPHost, smtpPort: mp.SMTPPort, ctx: stackCtx,
		configure: func(cfg *config.Config) {
			withParityWindow(cfg)
			cfg.Incidents.MaxHistoryEvents = 30 // below the validated minimum: the runs continue as new
		}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	dbPath := filepath.Join(t.TempDir(), "wb.db")
	store, err := workbook.Open(ctx, workbook.StoreOptions{Database: dbPath, UIURL: "http://ui.test:8233", Namespace: "default"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	tc := &countingTemporal{Client: h.client, queries: map[string]int{}}
	p := workbook.NewProjector(store, tc, workbook.ProjectorOptions{
		Playbooks: playbooks.Shipped(config.Default().Playbooks).Names(),
		Asking:    []string{playbooks.PLCReprogrammingName, playbooks.OwnerApprovalName},
		// Describe waiting incidents every pass: the test counts what each pass reads.
		IncidentEvery: -1,
	})
	return &otWorkbook{
		t: t, ctx: ctx, h: h, api: &intake.APIClient{BaseURL: h.intakeURL, Actor: "test:analyst"}, tc: tc, p: p, s: store, db: db,
		rng: workbook.Range{From: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Now().Add(time.Hour), Bucket: workbook.BucketDay},
	}
}

func (w *otWorkbook) summary() workbook.Summary {
	s, err := w.s.Summary(w.ctx, w.rng)
	require.NoError(w.t, err)
	return s
}

// syncUntil projects until done holds for the summary.
func (w *otWorkbook) syncUntil(msg string, done func(workbook.Summary) bool) workbook.Summary {
	var s workbook.Summary
	require.Eventually(w.t, func() bool {
		_, err := w.p.Sync(w.ctx)
		require.NoError(w.t, err)
		s = w.summary()
		return done(s)
	}, 30*time.Second, 200*time.Millisecond, msg)
	return s
}

// settle projects until a pass queries no incident: every change so far is in the store.
func (w *otWorkbook) settle() {
	w.tc.take(otincident.QueryState)
	require.Eventually(w.t, func() bool {
		_, err := w.p.Sync(w.ctx)
		require.NoError(w.t, err)
		return w.tc.take(otincident.QueryState) == 0
	}, 30*time.Second, 500*time.Millisecond, "the incidents settle")
}

func (w *otWorkbook) row(id string) incidentRow {
	w.t.Helper()
	var r incidentRow
	require.NoError(w.t, w.db.QueryRowContext(w.ctx, `SELECT status, closed, site, line FROM incidents WHERE id = $1`, id).
		Scan(&r.Status, &r.Closed, &r.Site, &r.Line))
	return r
}

// incidentWorkflows are the incident workflows (latest runs) a Temporal UI link of the summary lists.
func (w *otWorkbook) incidentWorkflows(link string) []string {
	w.t.Helper()
	u, err := url.Parse(link)
	require.NoError(w.t, err)
	q := u.Query().Get("query")
	require.NotEmpty(w.t, q, link)
	var ids []string
	for _, e := range w.list(q + ` AND WorkflowType = "` + otincident.WorkflowType + `" AND ExecutionStatus = "Running"`) {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

// continued counts the incident's runs that continued as new.
func (w *otWorkbook) continued(id string) int {
	n := 0
	for _, e := range w.list(`WorkflowId = "` + otincident.WorkflowID(id) + `"`) {
		if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
			n++
		}
	}
	return n
}

func (w *otWorkbook) list(q string) []*workflowpb.WorkflowExecutionInfo {
	resp, err := w.h.client.ListWorkflow(w.ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: q})
	require.NoError(w.t, err)
	return resp.GetExecutions()
}

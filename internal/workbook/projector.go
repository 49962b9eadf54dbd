package workbook

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/workflows"
)

// Temporal is the part of the Temporal client the projector reads with (a client.Client).
type Temporal interface {
	ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filter enumspb.HistoryEventFilterType) client.HistoryEventIterator
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	DescribeWorkflow(ctx context.Context, workflowID, runID string) (*client.WorkflowExecutionDescription, error)
}

// ProjectorOptions configure NewProjector.
type ProjectorOptions struct {
	Namespace string
	// Playbooks are the workflow types to project (the playbook registry's names).
	Playbooks []string
	// Asking are the playbooks that wait for an answer and answer the "status" query with Phase,
	// Round and WaitingSince (PLCReprogrammingNotice, IoTOwnerApproval).
	Asking []string
	// Interval is the poll interval of Run; zero means 2 s.
	Interval time.Duration
	// StatusAfter is how long an asking run must have been open before the projector asks its status
	// (most answers come sooner, and each ask is a query task on a worker); zero means 10 s,
	// negative means at once. StatusEvery is how often it asks again while the run waits (the round
	// moves only at an escalation); zero means 30 s, negative means every pass.
	StatusAfter, StatusEvery time.Duration
	// IncidentEvery is how often a waiting incident workflow is described to see whether it changed
	// (a close or reopen shows in the listing and is read at once); zero means 10 s, negative means
	// every pass.
	IncidentEvery time.Duration
	Logger        *slog.Logger
}

// Projector writes Temporal's playbook runs (and the incidents they carry) and Interlock's own incident
// workflows into the store.
type Projector struct {
	store    *Store
	tc       Temporal
	ns       string
	types    []string
	projects map[string]bool // the playbooks of types
	asking   map[string]bool
	// closed queues the runs the worker saw return (Closed) for writeClosed.
	closed   chan ClosedRun
	interval time.Duration
	// statusAfter and statusEvery pace the status queries of open asking runs (see ProjectorOptions).
	statusAfter, statusEvery, incidentEvery time.Duration
	log                                     *slog.Logger
	dc                                      converter.DataConverter

	mu        sync.Mutex
	seen      map[string]seenRun      // run ID -> what was last projected
	incidents map[string]seenIncident // incident workflow run ID -> what it was when last read
	mark      time.Time               // start of the last complete pass
	sweepMark time.Time               // start of the last complete sweep (see Sync)
}

// Each pass lists the runs closed since a little before the last pass began (visibility records are
// written asynchronously, so a close can show up late), and every sweepEvery one pass, the sweep,
// lists those closed since a minute before the last sweep began, for the closes that showed up later
// still. Listing every close of the last minute on each pass was a tenth of the Temporal server's work
// per incident at full load; now a closed run is listed about (interval+visibilityLag)/interval + 1
// times.
const (
	visibilityLag = 10 * time.Second
	sweepEvery    = 5 * time.Minute
	sweepLag      = time.Minute
)

// NewProjector builds a projector reading tc into store.
func NewProjector(store *Store, tc Temporal, opts ProjectorOptions) *Projector {
	p := &Projector{
		store: store, tc: tc, ns: opts.Namespace, types: opts.Playbooks, asking: map[string]bool{},
		projects: map[string]bool{}, closed: make(chan ClosedRun, closedQueue),
		interval: opts.Interval, log: opts.Logger, dc: converter.GetDefaultDataConverter(), seen: map[string]seenRun{},
		incidents: map[string]seenIncident{},
	}
	if p.ns == "" {
		p.ns = "default"
	}
	if p.interval <= 0 {
		p.interval = 2 * time.Second
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.statusAfter = durationOr(opts.StatusAfter, 10*time.Second)
	p.statusEvery = durationOr(opts.StatusEvery, 30*time.Second)
	p.incidentEvery = durationOr(opts.IncidentEvery, 10*time.Second)
	for _, a := range opts.Asking {
		p.asking[a] = true
	}
	for _, t := range opts.Playbooks {
		p.projects[t] = true
	}
	return p
}

// durationOr is d, def when d is zero, and zero when d is negative.
func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Run projects until ctx ends: everything Temporal holds first (a rebuild when the store is new or
// lost), then what changed since the last pass, every interval; between passes, and before each, it
// writes the runs Closed took, so a pass finds them written. Errors are logged and retried.
func (p *Projector) Run(ctx context.Context) error {
	if err := p.loadSeen(ctx); err != nil {
		p.log.Warn("workbook projector could not read the store", "err", err)
	}
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		p.writeClosed(ctx)
		if _, err := p.Sync(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("workbook projection failed; retrying", "err", err)
		}
		for due := false; !due; {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				due = true
			case c := <-p.closed:
				p.writeClosed(ctx, c)
			}
		}
	}
}

// loadSeen remembers the runs the store holds, so a restart re-reads only what changed.
func (p *Projector) loadSeen(ctx context.Context) error {
	rows, err := p.store.db.QueryContext(ctx, `SELECT run_id, status, incident_id FROM runs`)
	if err != nil {
		return fmt.Errorf("workbook: read runs: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for rows.Next() {
		var id string
		var seen seenRun
		if err := rows.Scan(&id, &seen.status, &seen.incident); err != nil {
			_ = rows.Close()
			return fmt.Errorf("workbook: read runs: %w", err)
		}
		p.seen[id] = seen
	}
	return closeRows(rows, "read runs")
}

// seenRun is what the projector last wrote of a run.
type seenRun struct {
	status   string
	incident string
	// asked is when the run's status query was last answered (zero: never asked).
	asked time.Time
}

// Sync projects the runs that are open or closed since the last pass (all of them on the first) and
// returns how many rows it wrote.
func (p *Projector) Sync(ctx context.Context) (int, error) {
	p.mu.Lock()
	mark, sweepMark := p.mark, p.sweepMark
	p.mu.Unlock()
	began := time.Now()
	q := p.typeQuery()
	sweep := mark.IsZero() || began.Sub(sweepMark) >= sweepEvery
	if !mark.IsZero() {
		// The overlap covers visibility's lag; the known runs are skipped, so re-listing is cheap.
		since := mark.Add(-visibilityLag)
		if sweep {
			since = sweepMark.Add(-sweepLag)
		}
		q += ` AND (ExecutionStatus = "Running" OR CloseTime >= "` + since.UTC().Format(time.RFC3339) + `")`
	}
	n, err := p.project(ctx, q, nil)
	if err != nil {
		return n, err
	}
	p.mu.Lock()
	p.mark = began
	if sweep {
		p.sweepMark = began
	}
	p.mu.Unlock()
	return n, nil
}

// Rebuild empties the store and projects every run Temporal holds, calling progress after each page.
func (p *Projector) Rebuild(ctx context.Context, progress func(done int)) (int, error) {
	if err := p.store.Reset(ctx); err != nil {
		return 0, err
	}
	p.mu.Lock()
	p.seen, p.incidents, p.mark, p.sweepMark = map[string]seenRun{}, map[string]seenIncident{}, time.Time{}, time.Time{}
	p.mu.Unlock()
	return p.project(ctx, p.typeQuery(), progress)
}

func (p *Projector) typeQuery() string {
	q := make([]string, 0, len(p.types)+1)
	for _, t := range append([]string{otincident.WorkflowType}, p.types...) {
		q = append(q, quote(t))
	}
	return "WorkflowType IN (" + strings.Join(q, ", ") + ")"
}

func (p *Projector) project(ctx context.Context, query string, progress func(int)) (int, error) {
	var token []byte
	done := 0
	for {
		resp, err := p.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: p.ns, PageSize: 500, NextPageToken: token, Query: query,
		})
		if err != nil {
			return done, fmt.Errorf("workbook: list workflows: %w", err)
		}
		for _, info := range resp.GetExecutions() {
			wrote, err := p.projectOne(ctx, info)
			if err != nil {
				return done, err
			}
			if wrote {
				done++
			}
		}
		if progress != nil {
			progress(done)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return done, nil
		}
	}
}

func runStatus(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return StatusOpen
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return StatusCompleted
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "canceled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed_out"
	default:
		return StatusFailed
	}
}

// projectOne writes one execution when it is new or changed; open asking runs are asked their status
// now and then (see ProjectorOptions.StatusAfter), since their round moves without their status changing.
func (p *Projector) projectOne(ctx context.Context, info *workflowpb.WorkflowExecutionInfo) (bool, error) {
	ex, typ := info.GetExecution(), info.GetType().GetName()
	if typ == otincident.WorkflowType {
		return p.projectIncident(ctx, info)
	}
	status := runStatus(info.GetStatus())
	prev, known, err := p.seenRun(ctx, ex.GetRunId())
	if err != nil {
		return false, err
	}
	r := Run{
		WorkflowID: ex.GetWorkflowId(), RunID: ex.GetRunId(), Playbook: typ, Status: status,
		Started: info.GetStartTime().AsTime(),
	}
	ask := status == StatusOpen && p.asking[typ] && p.dueForStatus(r.Started, prev.asked)
	if known && prev.status == status && !ask {
		return false, nil
	}
	if status != StatusOpen {
		r.Closed = info.GetCloseTime().AsTime()
	}
	// The input never changes: read it (the run's first history event) only the first time.
	r.Incident = prev.incident
	if !known {
		id, err := p.incidentOf(ctx, info, r)
		if err != nil {
			return false, err
		}
		r.Incident = id
	}
	asked := prev.asked
	if ask {
		p.waiting(ctx, &r)
		asked = time.Now()
	} else if err := p.outcome(ctx, &r); err != nil {
		return false, err
	}
	if err := p.store.UpsertRun(ctx, r); err != nil {
		return false, err
	}
	p.mu.Lock()
	p.seen[r.RunID] = seenRun{status: status, incident: r.Incident, asked: asked}
	p.mu.Unlock()
	return true, nil
}

// seenRun is what was last projected of a run: this projector's memory, else the store's row, which
// this process's worker (Closed) or another worker's projector on the same store may have written since
// the memory was loaded; reading it is far cheaper than reading the run back from Temporal.
func (p *Projector) seenRun(ctx context.Context, runID string) (seenRun, bool, error) {
	p.mu.Lock()
	prev, known := p.seen[runID]
	p.mu.Unlock()
	if known {
		return prev, true, nil
	}
	status, inc, ok, err := p.store.runState(ctx, runID)
	if err != nil || !ok {
		return seenRun{}, false, err
	}
	prev = seenRun{status: status, incident: inc}
	p.mu.Lock()
	if cur, raced := p.seen[runID]; raced {
		prev = cur
	} else {
		p.seen[runID] = prev
	}
	p.mu.Unlock()
	return prev, true, nil
}

// dueForStatus says whether an open asking run started at started, last asked at asked, is to be
// asked its status this pass.
func (p *Projector) dueForStatus(started, asked time.Time) bool {
	now := time.Now()
	if asked.IsZero() {
		return now.Sub(started) >= p.statusAfter
	}
	return now.Sub(asked) >= p.statusEvery
}

// incidentOf is the ID of the incident a run is about, its incident recorded in the store. A run the
// intake started names it in its search attributes, and the intake recorded the incident: then
// nothing is read from Temporal. Otherwise (a run started by hand, a rebuilt store) the run's input
// is read and recorded.
func (p *Projector) incidentOf(ctx context.Context, info *workflowpb.WorkflowExecutionInfo, r Run) (string, error) {
	if pl := info.GetSearchAttributes().GetIndexedFields()[workflows.AttrIncidentID.GetName()]; pl != nil {
		var id string
		if p.dc.FromPayload(pl, &id) == nil && id != "" {
			has, err := p.store.HasIncident(ctx, id)
			if err != nil || has {
				return id, err
			}
		}
	}
	inc, err := p.input(ctx, r)
	if err != nil || inc.ID == "" {
		return "", err
	}
	return inc.ID, p.recordInput(ctx, inc)
}

// recordInput writes the incident a run started with. An Interlock incident's copy is written only
// when the store has none: its workflow's state is the truth, and the copy may be older (a run
// started while the incident was open must not reopen it).
func (p *Projector) recordInput(ctx context.Context, inc incident.Incident) error {
	switch {
	case inc.ID == "":
		return nil
	case otincident.IsIncidentID(inc.ID):
		return p.store.recordSnapshot(ctx, inc)
	}
	return p.store.Record(ctx, inc)
}

// firstEvent is the first event of a run's history with the filter (all events, or the close event).
func (p *Projector) firstEvent(ctx context.Context, r Run, filter enumspb.HistoryEventFilterType) (*historypb.HistoryEvent, error) {
	it := p.tc.GetWorkflowHistory(ctx, r.WorkflowID, r.RunID, false, filter)
	if !it.HasNext() {
		return nil, nil
	}
	ev, err := it.Next()
	if err != nil {
		return nil, fmt.Errorf("workbook: read history of %s: %w", r.WorkflowID, err)
	}
	return ev, nil
}

// input decodes the incident the run started with; a run whose input is no incident yields none.
func (p *Projector) input(ctx context.Context, r Run) (incident.Incident, error) {
	ev, err := p.firstEvent(ctx, r, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if err != nil || ev == nil {
		return incident.Incident{}, err
	}
	var inc incident.Incident
	if !p.decode(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &inc) {
		p.log.Debug("workbook: run input is not an incident", "workflow", r.WorkflowID)
	}
	return inc, nil
}

// decode reads the first payload into v; false when there is none or it does not decode.
func (p *Projector) decode(ps *commonpb.Payloads, v any) bool {
	if len(ps.GetPayloads()) == 0 {
		return false
	}
	return p.dc.FromPayload(ps.GetPayloads()[0], v) == nil
}

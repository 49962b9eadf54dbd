package workbook

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// listTemporal lists a fixed set of executions and answers a close-event read with the result each
// was given; it counts the reads.
type listTemporal struct {
	mu      sync.Mutex
	execs   []*workflowpb.WorkflowExecutionInfo
	results map[string]any // run ID -> result
	reads   int
}

func (f *listTemporal) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: f.execs}, nil
}

func (f *listTemporal) GetWorkflowHistory(_ context.Context, _, runID string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	f.mu.Lock()
	f.reads++
	f.mu.Unlock()
	ps, err := converter.GetDefaultDataConverter().ToPayloads(f.results[runID])
	return &oneEvent{ev: &historypb.HistoryEvent{Attributes: &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{
		WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{Result: ps},
	}}, err: err}
}

func (f *listTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, errors.New("not asked in this test")
}

func (f *listTemporal) DescribeWorkflow(context.Context, string, string) (*client.WorkflowExecutionDescription, error) {
	return nil, errors.New("not asked in this test")
}

func (f *listTemporal) takeReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.reads
	f.reads = 0
	return n
}

type oneEvent struct {
	ev   *historypb.HistoryEvent
	err  error
	done bool
}

func (o *oneEvent) HasNext() bool { return !o.done }
func (o *oneEvent) Next() (*historypb.HistoryEvent, error) {
	o.done = true
	return o.ev, o.err
}

// ticketResult is the shape of a ticketing playbook's result, as the worker's code returns it.
type ticketResult struct {
	Tickets []map[string]string `json:"tickets"`
}

func completedExec(t *testing.T, wf, run, playbook, incidentID string, started time.Time) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	sa, err := converter.GetDefaultDataConverter().ToPayload(incidentID)
	if err != nil {
		t.Fatal(err)
	}
	return &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: wf, RunId: run}, Type: &commonpb.WorkflowType{Name: playbook},
		Status:    enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
		StartTime: timestamppb.New(started), CloseTime: timestamppb.New(started.Add(time.Second)),
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
			workflows.AttrIncidentID.GetName(): sa,
		}},
	}
}

// TestClosedRunsSkipTheCloseRead: a run the worker handed over (Closed) is written with its outcome
// before the next pass, and that pass reads nothing of it from Temporal; a run not handed over is
// read as before. A second projector on the same store (another worker) reads neither: the store's
// rows tell it they are projected.
func TestClosedRunsSkipTheCloseRead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openTestStore(t)
	for _, id := range []string{"inc-a", "inc-b", "inc-manual"} {
		if err := s.Record(ctx, incident.Incident{ID: id, Title: "New engineering station", Severity: "High", Status: "New", Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	const pb = "NewEngineeringStationTicket"
	tc := &listTemporal{
		execs: []*workflowpb.WorkflowExecutionInfo{
			completedExec(t, "wf-a", "run-a", pb, "inc-a", t0),
			completedExec(t, "wf-b", "run-b", pb, "inc-b", t0),
		},
		results: map[string]any{"run-a": ticketResult{Tickets: []map[string]string{{"number": "INC1"}}}, "run-b": ticketResult{}},
	}
	p := NewProjector(s, tc, ProjectorOptions{Playbooks: []string{pb}, Interval: time.Hour})
	// Handed over: run-a. Ignored: a run of a workflow type not projected, and one without an incident.
	p.Closed(ClosedRun{WorkflowID: "wf-a", RunID: "run-a", Playbook: pb, Incident: "inc-a", Started: t0, Closed: t0.Add(time.Second),
		Result: ticketResult{Tickets: []map[string]string{{"number": "INC1"}}}})
	p.Closed(ClosedRun{WorkflowID: "wf-x", RunID: "run-x", Playbook: "Unknown", Incident: "inc-a", Result: ticketResult{}})
	p.Closed(ClosedRun{WorkflowID: "wf-m", RunID: "run-m", Playbook: pb, Result: ticketResult{}})

	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	waitFor(t, func() bool { st, _, ok, _ := s.runState(ctx, "run-b"); return ok && st == StatusCompleted })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := tc.takeReads(); n != 1 {
		t.Fatalf("history reads = %d, want 1 (run-b's close event alone)", n)
	}
	for _, want := range []struct{ run, outcome string }{{"run-a", OutcomeTicketCreated}, {"run-b", OutcomeDone}} {
		var outcome string
		if err := s.db.QueryRowContext(ctx, `SELECT outcome FROM runs WHERE run_id = $1`, want.run).Scan(&outcome); err != nil {
			t.Fatal(err)
		}
		if outcome != want.outcome {
			t.Errorf("%s outcome = %q, want %q", want.run, outcome, want.outcome)
		}
	}
	if n, err := s.count(ctx, `SELECT COUNT(*) FROM runs WHERE run_id IN ('run-x', 'run-m')`); err != nil || n != 0 {
		t.Fatalf("runs written that were not to be: %d (%v)", n, err)
	}

	other := NewProjector(s, tc, ProjectorOptions{Playbooks: []string{pb}})
	if _, err := other.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tc.takeReads(); n != 0 {
		t.Fatalf("a second projector on the same store read %d histories, want 0", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

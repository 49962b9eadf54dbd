package workbook

// Interlock's own OT incidents (for plants without Sentinel) live in their incident workflows
// (otincident.WorkflowType): the workflow's state is the truth, not the alerts the intake was sent, so
// the projector reads them from Temporal like the playbook runs.

import (
	"context"
	"errors"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
)

// incidentQueryTimeout bounds one state query, so a busy worker cannot hold the pass.
const incidentQueryTimeout = 10 * time.Second

// closedRecheck is how often a closed incident's still running workflow (kept for late records) is
// described again. Its late records change only its alerts; a reopen shows in the listing at once.
const closedRecheck = time.Minute

// seenIncident is an incident run as the projector last read it: its status and history length,
// whether the incident was closed, and when the run was last described.
type seenIncident struct {
	status    enumspb.WorkflowExecutionStatus
	length    int64
	closed    bool
	described time.Time
}

// projectIncident writes an incident run's state when the run is new or changed. A run that continued
// as new is skipped: its state travels in the next run's input, and the latest run is the truth.
func (p *Projector) projectIncident(ctx context.Context, info *workflowpb.WorkflowExecutionInfo) (bool, error) {
	runID, now := info.GetExecution().GetRunId(), time.Now()
	p.mu.Lock()
	prev, known := p.incidents[runID]
	p.mu.Unlock()
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		// A describe per waiting incident per pass adds up over thousands of them: each is described
		// again only every incidentEvery (closedRecheck once closed), or at once when the listing's
		// status says it was closed or reopened.
		if known && prev.closed == p.listedClosed(info) && now.Sub(prev.described) < p.recheck(prev.closed) {
			return false, nil
		}
		// Visibility keeps a run's history length only from its close, so the listing cannot say whether
		// a waiting incident changed; its description can, from the server alone. Only a changed one
		// is queried: a query costs a workflow task, a replay of its whole history when not cached.
		d, err := p.tc.DescribeWorkflow(ctx, info.GetExecution().GetWorkflowId(), runID)
		if err == nil && (d == nil || d.RawResponse.GetWorkflowExecutionInfo() == nil) {
			err = errors.New("no execution info in the answer")
		}
		if err != nil {
			p.log.Warn("workbook: incident run not described; trying again next pass",
				"workflow", info.GetExecution().GetWorkflowId(), "err", err)
			return false, nil
		}
		info = d.RawResponse.GetWorkflowExecutionInfo()
	}
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
		return false, nil
	}
	seen := seenIncident{status: info.GetStatus(), length: info.GetHistoryLength(), closed: prev.closed, described: now}
	if known && prev.status == seen.status && prev.length == seen.length {
		p.remember(runID, seen)
		return false, nil
	}
	st, ok, err := p.incidentState(ctx, info)
	if err != nil || !ok {
		return false, err
	}
	if err := p.store.RecordState(ctx, st.Incident, st.Closed); err != nil {
		return false, err
	}
	seen.closed = st.Incident.Status == incident.StatusClosed
	p.remember(runID, seen) // the length read before the state: a change since is read next pass
	return true, nil
}

// recheck is how long a waiting incident run goes undescribed.
func (p *Projector) recheck(closed bool) time.Duration {
	if closed {
		return max(closedRecheck, p.incidentEvery)
	}
	return p.incidentEvery
}

func (p *Projector) remember(runID string, seen seenIncident) {
	p.mu.Lock()
	p.incidents[runID] = seen
	p.mu.Unlock()
}

// listedClosed says the listing's status search attribute has the incident closed.
func (p *Projector) listedClosed(info *workflowpb.WorkflowExecutionInfo) bool {
	var status string
	f := info.GetSearchAttributes().GetIndexedFields()[otincident.AttrStatus.GetName()]
	return f != nil && p.dc.FromPayload(f, &status) == nil && status == incident.StatusClosed
}

// incidentState is the run's incident: a running run's answer to otincident.QueryState, a completed
// run's result, else the state it started with (a continued run's input). ok is false when there is
// none to write yet: no alert created the incident, or the run cannot answer this pass (it is tried
// again on the next).
func (p *Projector) incidentState(ctx context.Context, info *workflowpb.WorkflowExecutionInfo) (otincident.State, bool, error) {
	r := Run{WorkflowID: info.GetExecution().GetWorkflowId(), RunID: info.GetExecution().GetRunId()}
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		st, err := p.queryIncident(ctx, r)
		if err == nil {
			return st, st.Created(), nil
		}
		if errors.Is(err, otincident.ErrNotCreated) {
			return otincident.State{}, false, nil
		}
		// A continued run that has not run its first workflow task cannot answer: its input can.
		if in, ierr := p.incidentInput(ctx, r); ierr == nil && in.State != nil && in.State.Created() {
			return *in.State, true, nil
		}
		p.log.Warn("workbook: incident state query failed; trying again next pass", "workflow", r.WorkflowID, "err", err)
		return otincident.State{}, false, nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		ev, err := p.firstEvent(ctx, r, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		if err != nil || ev == nil {
			return otincident.State{}, false, err
		}
		var st otincident.State
		if p.decode(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult(), &st) && st.Created() {
			return st, true, nil
		}
	}
	// Failed, terminated, timed out or canceled: no result, only what the run started with.
	in, err := p.incidentInput(ctx, r)
	if err != nil || in.State == nil || !in.State.Created() {
		return otincident.State{}, false, err
	}
	return *in.State, true, nil
}

func (p *Projector) queryIncident(ctx context.Context, r Run) (otincident.State, error) {
	qctx, cancel := context.WithTimeout(ctx, incidentQueryTimeout)
	defer cancel()
	v, err := p.tc.QueryWorkflow(qctx, r.WorkflowID, r.RunID, otincident.QueryState)
	if err != nil {
		if strings.Contains(err.Error(), otincident.ErrNotCreated.Error()) {
			return otincident.State{}, otincident.ErrNotCreated
		}
		return otincident.State{}, err
	}
	var st otincident.State
	if v == nil {
		return st, errors.New("empty answer")
	}
	if err := v.Get(&st); err != nil {
		return st, err
	}
	return st, nil
}

// incidentInput decodes the run's input: the incident's ID, and its state when the run continued one.
func (p *Projector) incidentInput(ctx context.Context, r Run) (otincident.Input, error) {
	var in otincident.Input
	ev, err := p.firstEvent(ctx, r, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if err != nil || ev == nil {
		return in, err
	}
	p.decode(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in)
	return in, nil
}

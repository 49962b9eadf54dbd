package otincident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// ErrNotFound is the answer for an incident Interlock does not keep.
var ErrNotFound = errors.New("no such incident")

// ErrEnded means the incident's workflow has ended: it was closed longer ago than incidents are kept
// open for later records. Records of its alerts are duplicates; the incident can no longer change.
var ErrEnded = errors.New("the incident was closed and its workflow has ended")

// FailureInvalidChange is the Temporal error type of a change the incident's validator refused; its
// details hold the field.
const FailureInvalidChange = "InvalidChange"

// Client makes the Temporal calls on incident workflows.
type Client struct {
	Temporal  client.Client
	Namespace string
	TaskQueue string
}

// Start is how a new incident's workflow is started.
type Start struct {
	// Summary and Details are the run's static summary and details in the Temporal UI.
	Summary, Details string
	SearchAttributes []temporal.SearchAttributeUpdate
}

// AddAlerts adds records to the incident by update-with-start: the first record's call starts the
// workflow, every later one reaches the same run. The answer comes once the workflow has recorded
// them, so a record reported accepted is durable.
func (c *Client) AddAlerts(ctx context.Context, incidentID string, start Start, recs []Record) (AddAlertsResult, error) {
	opts := client.StartWorkflowOptions{
		ID:                       WorkflowID(incidentID),
		TaskQueue:                c.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// An incident whose workflow ended stays ended: a late record never opens a second incident.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         start.Summary,
		StaticDetails:         start.Details,
		Memo:                  map[string]any{"title": strings.TrimSpace(start.Summary)},
	}
	if len(start.SearchAttributes) > 0 {
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(start.SearchAttributes...)
	}
	op := c.Temporal.NewWithStartWorkflowOperation(opts, WorkflowType, Input{ID: incidentID})
	h, err := c.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName: UpdateAddAlerts, Args: []any{AddAlerts{Records: recs}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return AddAlertsResult{}, c.wrap("add alerts to incident "+incidentID, err)
	}
	var res AddAlertsResult
	if err := h.Get(ctx, &res); err != nil {
		return AddAlertsResult{}, c.wrap("add alerts to incident "+incidentID, err)
	}
	return res, nil
}

// Change applies a change to the incident and answers what it changed.
func (c *Client) Change(ctx context.Context, incidentID string, ch Change) (ChangeResult, error) {
	if !IsIncidentID(incidentID) {
		return ChangeResult{}, ErrNotFound
	}
	h, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: WorkflowID(incidentID), UpdateName: UpdateChange, Args: []any{ch}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return ChangeResult{}, c.wrap("change incident "+incidentID, err)
	}
	var res ChangeResult
	if err := h.Get(ctx, &res); err != nil {
		return ChangeResult{}, c.wrap("change incident "+incidentID, err)
	}
	return res, nil
}

// State reads the incident's state.
func (c *Client) State(ctx context.Context, incidentID string) (State, error) {
	if !IsIncidentID(incidentID) {
		return State{}, ErrNotFound
	}
	v, err := c.Temporal.QueryWorkflow(ctx, WorkflowID(incidentID), "", QueryState)
	if err != nil {
		return State{}, c.wrap("read incident "+incidentID, err)
	}
	var s State
	if err := v.Get(&s); err != nil {
		return State{}, fmt.Errorf("read incident %s: %w", incidentID, err)
	}
	if !s.Created() {
		return State{}, ErrNotFound
	}
	return s, nil
}

// wrap turns Temporal's answers into this package's errors where one fits.
func (c *Client) wrap(op string, err error) error {
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return ErrNotFound
	}
	if _, ok := errors.AsType[*serviceerror.WorkflowExecutionAlreadyStarted](err); ok {
		return ErrEnded
	}
	if ae, ok := errors.AsType[*temporal.ApplicationError](err); ok && ae.Type() == FailureInvalidChange {
		var field string
		_ = ae.Details(&field)
		return &InvalidChangeError{Field: field, Msg: strings.TrimPrefix(ae.Message(), field+": ")}
	}
	// A workflow no alert has created an incident in (started by hand with no records).
	if strings.Contains(err.Error(), ErrNotCreated.Error()) {
		return ErrNotFound
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Filter selects incidents to list. Empty fields do not filter.
type Filter struct {
	Status, Severity, Site, Line, Device, Owner, Tactic string
	// Open lists only incidents that are not closed.
	Open  bool
	Limit int
}

// Listed is one incident in a list, from its search attributes and memo (no query per incident).
type Listed struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Status   string    `json:"status"`
	Severity string    `json:"severity"`
	Sites    []string  `json:"sites,omitempty"`
	Line     string    `json:"line,omitempty"`
	Devices  []string  `json:"devices,omitempty"`
	Tactics  []string  `json:"tactics,omitempty"`
	Owner    string    `json:"owner,omitempty"`
	Created  time.Time `json:"created"`
	RunID    string    `json:"runId"`
}

var filterValue = regexp.MustCompile(`^[\p{L}\p{N} ._@:/()+-]{1,200}$`)

// Query is the Temporal visibility query for f, or an *InvalidChangeError naming a bad value (values
// are limited to a safe set of characters, so they cannot break out of the query's quotes).
func (f Filter) Query() (string, error) {
	parts := []string{"WorkflowType = '" + WorkflowType + "'"}
	add := func(name, attr, v string) error {
		if v == "" {
			return nil
		}
		if !filterValue.MatchString(v) || strings.ContainsAny(v, `'"\`) {
			return &InvalidChangeError{Field: name, Msg: "may hold only letters, digits, spaces and . _ @ : / ( ) + -"}
		}
		parts = append(parts, attr+" = '"+v+"'")
		return nil
	}
	for _, p := range []struct{ name, attr, v string }{
		{"status", AttrStatus.GetName(), f.Status}, {"severity", "InterlockSeverity", f.Severity}, {"site", "InterlockSite", f.Site},
		{"line", AttrLine.GetName(), f.Line}, {"device", "InterlockDevice", f.Device}, {"owner", AttrOwner.GetName(), f.Owner},
		{"tactic", AttrTactics.GetName(), f.Tactic},
	} {
		if err := add(p.name, p.attr, p.v); err != nil {
			return "", err
		}
	}
	if f.Open {
		parts = append(parts, AttrStatus.GetName()+" != 'Closed'")
	}
	return strings.Join(parts, " AND "), nil
}

// List lists incidents, newest first.
func (c *Client) List(ctx context.Context, f Filter) ([]Listed, error) {
	q, err := f.Query()
	if err != nil {
		return nil, err
	}
	limit := min(max(f.Limit, 1), 1000)
	if f.Limit == 0 {
		limit = 100
	}
	var out []Listed
	var token []byte
	dc := converter.GetDefaultDataConverter()
	for len(out) < limit {
		resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: cmp.Or(c.Namespace, "default"), Query: q, PageSize: int32(min(limit-len(out), 1000)), NextPageToken: token,
		})
		if err != nil {
			return nil, c.wrap("list incidents", err)
		}
		for _, e := range resp.GetExecutions() {
			s := Listed{ID: strings.TrimPrefix(e.GetExecution().GetWorkflowId(), WorkflowIDPrefix), RunID: e.GetExecution().GetRunId()}
			if e.GetStartTime() != nil {
				s.Created = e.GetStartTime().AsTime().UTC()
			}
			fields := e.GetSearchAttributes().GetIndexedFields()
			get := func(name string, into any) { _ = dc.FromPayload(fields[name], into) }
			get(AttrStatus.GetName(), &s.Status)
			get("InterlockSeverity", &s.Severity)
			get("InterlockSite", &s.Sites)
			get(AttrLine.GetName(), &s.Line)
			get("InterlockDevice", &s.Devices)
			get(AttrTactics.GetName(), &s.Tactics)
			get(AttrOwner.GetName(), &s.Owner)
			if m := e.GetMemo().GetFields()["title"]; m != nil {
				_ = dc.FromPayload(m, &s.Title)
			}
			out = append(out, s)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b Listed) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// Input is the incident workflow's argument. State is set when the workflow continues as new.
type Input struct {
	ID    string `json:"id"`
	State *State `json:"state,omitempty"`
}

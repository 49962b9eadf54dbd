package workflows

// The incident workflow: Interlock as the incident layer, for plants whose Defender for IoT sensors
// report to no cloud SIEM. One run holds one incident (see internal/otincident): the alert intake adds
// records to it by update-with-start, people and playbooks change it by update, and each change that
// Sentinel would fire an automation rule for fires Interlock's, so the playbooks run unchanged.
//
// Its design decisions are in doc.go.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
)

// PlaybookResolver gives the workflow ID a playbook run for an incident event has, the one the intake
// would give it; ok is false for a playbook this worker does not know.
type PlaybookResolver func(playbook, incidentID, eventKey string) (workflowID string, ok bool)

// Incident is the incident workflow. Register Run under otincident.WorkflowType.
type Incident struct {
	Playbooks PlaybookResolver
	// Priority gives a playbook's task priority key (0: the default); nil leaves every run at the default.
	Priority func(playbook string) int
}

// How long the prepare step may take: it reads files and runs expressions, nothing remote.
const prepareAttempt, prepareTotal = 30 * time.Second, 10 * time.Minute

// Run is the workflow.
func (f *Incident) Run(ctx workflow.Context, in otincident.Input) (otincident.State, error) {
	if !otincident.IsIncidentID(in.ID) {
		return otincident.State{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%q is not an incident ID (%s…)", in.ID, otincident.IDPrefix), "InvalidIncident", nil)
	}
	r := &incidentRun{f: f, id: in.ID, state: &otincident.State{}}
	if in.State != nil {
		r.state = in.State
	}
	_, r.ownerSet = workflow.GetTypedSearchAttributes(ctx).GetKeyword(otincident.AttrOwner)
	if err := r.register(ctx); err != nil {
		return otincident.State{}, err
	}
	// The settings are configuration: read once per run, through the history.
	if err := workflow.ExecuteLocalActivity(r.prepareOptions(ctx), activities.IncidentSettingsName).Get(ctx, &r.settings); err != nil {
		return *r.state, fmt.Errorf("read settings: %w", err)
	}
	s := r.settings.Normalized()
	r.settings = s
	for {
		wait := func() bool { return len(r.pending) > 0 || r.historyFull(ctx) }
		if closed := r.state.Closed; !closed.IsZero() && r.state.Incident.Status == incident.StatusClosed {
			left := closed.Add(s.KeepClosedFor).Sub(workflow.Now(ctx))
			ok, err := workflow.AwaitWithTimeout(ctx, max(left, time.Second), wait)
			if err != nil {
				return *r.state, err
			}
			if !ok && len(r.pending) == 0 && r.state.Incident.Status == incident.StatusClosed {
				// Kept long enough: end, once no update is half-way through.
				if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
					return *r.state, err
				}
				if len(r.pending) == 0 && r.state.Incident.Status == incident.StatusClosed {
					return *r.state, nil
				}
			}
		} else if err := workflow.Await(ctx, wait); err != nil {
			return *r.state, err
		}
		for len(r.pending) > 0 {
			ev := r.pending[0]
			r.pending = r.pending[1:]
			r.fire(ctx, ev)
		}
		r.publish(ctx)
		if r.historyFull(ctx) && r.state.Created() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return *r.state, err
			}
			if len(r.pending) == 0 {
				return otincident.State{}, workflow.NewContinueAsNewError(ctx, otincident.WorkflowType, otincident.Input{ID: in.ID, State: r.state})
			}
		}
	}
}

// incidentRun is one run's working state.
type incidentRun struct {
	f         *Incident
	id        string
	settings  otincident.Settings
	state     *otincident.State
	pending   []otincident.Event
	published string // the search attributes and details last set, to set them only when they change
	ownerSet  bool
}

func (r *incidentRun) historyFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= r.settings.MaxHistoryEvents
}

func (r *incidentRun) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, otincident.QueryState, func() (otincident.State, error) {
		if !r.state.Created() {
			return otincident.State{}, otincident.ErrNotCreated
		}
		return *r.state, nil
	}); err != nil {
		return fmt.Errorf("query handler: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, otincident.UpdateAddAlerts,
		func(ctx workflow.Context, in otincident.AddAlerts) (otincident.AddAlertsResult, error) {
			res, ev := r.state.AddRecords(r.id, in.Records, workflow.Now(ctx))
			if ev != nil {
				r.pending = append(r.pending, *ev)
			}
			return res, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in otincident.AddAlerts) error {
			if n := len(in.Records); n == 0 || n > otincident.MaxRecordsPerAdd {
				return temporal.NewNonRetryableApplicationError(fmt.Sprintf("want 1 to %d records, got %d", otincident.MaxRecordsPerAdd, n), otincident.FailureInvalidChange, nil, "records")
			}
			for i, rec := range in.Records {
				if len(rec.Alert.Alerts) != 1 {
					return temporal.NewNonRetryableApplicationError(fmt.Sprintf("record %d holds %d alerts, want 1", i, len(rec.Alert.Alerts)), otincident.FailureInvalidChange, nil, "records")
				}
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("update handler: %w", err)
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, otincident.UpdateChange,
		func(ctx workflow.Context, ch otincident.Change) (otincident.ChangeResult, error) {
			res, ev, err := r.state.Apply(ch, workflow.Now(ctx))
			if err != nil {
				return res, refusal(err)
			}
			if ev != nil {
				r.pending = append(r.pending, *ev)
			}
			return res, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, ch otincident.Change) error {
			if !r.state.Created() {
				return temporal.NewNonRetryableApplicationError(otincident.ErrNotCreated.Error(), otincident.FailureInvalidChange, nil, "")
			}
			return refusal(r.state.Validate(&ch))
		}},
	)
}

// refusal is the error an update handler answers for a change the incident refuses.
func refusal(err error) error {
	if err == nil {
		return nil
	}
	if ice, ok := err.(*otincident.InvalidChangeError); ok {
		return temporal.NewNonRetryableApplicationError(ice.Error(), otincident.FailureInvalidChange, nil, ice.Field)
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), otincident.FailureInvalidChange, nil, "")
}

// fire prepares one event (impact, rules) and starts the playbooks the rules chose.
func (r *incidentRun) fire(ctx workflow.Context, ev otincident.Event) {
	lctx := r.prepareOptions(ctx)
	var prep activities.PrepareResult
	if err := workflow.ExecuteLocalActivity(lctx, activities.PrepareIncidentEvent.Name, activities.PrepareRequest{Event: ev}).Get(ctx, &prep); err != nil {
		// The incident stands; only this event's rules did not run. The trail says so.
		r.state.Log(workflow.Now(ctx), "interlock", "rules", "event "+ev.Key()+": impact and rules not evaluated: "+err.Error())
		return
	}
	now := workflow.Now(ctx)
	r.state.SetImpact(prep.Impact, prep.Devices, now)
	for _, e := range prep.Errors {
		r.state.Log(now, "automation rules", "rules", "condition failed: "+e)
	}
	if len(prep.Matches) > 0 {
		names := make([]string, len(prep.Matches))
		for i, m := range prep.Matches {
			names[i] = m.Rule
		}
		r.state.Log(now, "automation rules", "rules", ev.Key()+" ("+strings.ToLower(string(ev.Type))+"): "+strings.Join(names, ", "))
		r.applyRuleChanges(prep, names, now)
	}
	if len(prep.Playbooks) > 0 {
		r.startPlaybooks(ctx, ev, prep)
	}
}

func (r *incidentRun) prepareOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: prepareAttempt, ScheduleToCloseTimeout: prepareTotal,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

// applyRuleChanges makes the rules' own changes to the incident. As with Sentinel's automation rules,
// they fire no further rules.
func (r *incidentRun) applyRuleChanges(prep activities.PrepareResult, names []string, now time.Time) {
	ch := otincident.Change{Actor: "rule:" + strings.Join(names, ", ")}
	for _, c := range prep.Changes {
		switch c.Field {
		case "severity":
			ch.Severity = c.To
		case "status":
			ch.Status = c.To
		case "labels":
			ch.AddTags = append(ch.AddTags, c.To)
		}
	}
	ch.Owner = prep.Owner
	if cl := prep.Classification; cl != nil {
		ch.Classification, ch.ClassificationReason, ch.ClassificationComment = cl.Classification, cl.Reason, cl.Comment
	}
	if ch.Severity == "" && ch.Status == "" && len(ch.AddTags) == 0 && ch.Owner == nil && ch.Classification == "" {
		return
	}
	if _, _, err := r.state.Apply(ch, now); err != nil {
		r.state.Log(now, ch.Actor, "rules", "changes not applied: "+err.Error())
	}
}

// startPlaybooks starts the chosen playbooks as child workflows, in order, each once per incident (or
// per event for playbooks that run per event), and waits until each is started.
func (r *incidentRun) startPlaybooks(ctx workflow.Context, ev otincident.Event, prep activities.PrepareResult) {
	inc := r.state.Incident // as the rules and the directory left it
	type started struct {
		run    otincident.PlaybookRun
		future workflow.ChildWorkflowFuture
	}
	var runs []started
	ruleNames := make([]string, len(prep.Matches))
	for i, m := range prep.Matches {
		ruleNames[i] = m.Rule
	}
	for _, name := range prep.Playbooks {
		run := otincident.PlaybookRun{Playbook: name, Event: ev.Seq}
		wfID, ok := "", false
		if r.f.Playbooks != nil {
			wfID, ok = r.f.Playbooks(name, inc.ID, ev.Key())
		}
		if !ok {
			run.Status, run.Error = "failed", "this worker does not know the playbook"
			r.state.Playbooks = append(r.state.Playbooks, run)
			r.state.Log(workflow.Now(ctx), "automation rules", "playbook", name+": not started, unknown playbook")
			continue
		}
		run.WorkflowID = wfID
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            wfID,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			TypedSearchAttributes: temporal.NewSearchAttributes(SearchAttributesFor(name, inc)...),
			Memo:                  map[string]any{"interlockEvent": string(ev.Type), "interlockRules": ruleNames, "interlockIncident": otincident.WorkflowID(r.id)},
			StaticSummary:         name + " — " + otincident.Summary(inc),
			Priority:              r.playbookPriority(ctx, name),
		})
		runs = append(runs, started{run, workflow.ExecuteChildWorkflow(cctx, name, inc)})
	}
	for _, s := range runs {
		var exec workflow.Execution
		err := s.future.GetChildWorkflowExecution().Get(ctx, &exec)
		switch {
		case err == nil:
			s.run.Status, s.run.RunID = "started", exec.RunID
		case temporal.IsWorkflowExecutionAlreadyStartedError(err):
			s.run.Status = "deduplicated"
		default:
			s.run.Status, s.run.Error = "failed", err.Error()
		}
		r.state.Playbooks = append(r.state.Playbooks, s.run)
		r.state.Log(workflow.Now(ctx), "automation rules", "playbook", s.run.Playbook+": "+s.run.Status)
	}
}

// playbookPriority is the child's task priority. An incident run that started a playbook before
// priorities existed keeps the default for all of them, so its history replays unchanged.
func (r *incidentRun) playbookPriority(ctx workflow.Context, name string) temporal.Priority {
	if workflow.GetVersion(ctx, "playbook-priority", workflow.DefaultVersion, 1) == workflow.DefaultVersion || r.f.Priority == nil {
		return temporal.Priority{}
	}
	return temporal.Priority{PriorityKey: r.f.Priority(name)}
}

// publish sets the search attributes, memo and current details when they changed, so the Temporal UI
// lists the incident by status, severity, site, line, device, tactic and owner.
func (r *incidentRun) publish(ctx workflow.Context) {
	inc := r.state.Incident
	if !r.state.Created() {
		return
	}
	ups := IncidentSearchAttributes(inc)
	if otincident.OwnerName(inc.Owner) == "" && r.ownerSet {
		ups = append(ups, otincident.AttrOwner.ValueUnset())
	}
	r.ownerSet = otincident.OwnerName(inc.Owner) != ""
	details := otincident.Details(*r.state)
	key := fmt.Sprint(ups) + "\x00" + details
	if key == r.published {
		return
	}
	r.published = key
	if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "err", err)
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{"title": otincident.Summary(inc)}); err != nil {
		workflow.GetLogger(ctx).Warn("memo not set", "err", err)
	}
	workflow.SetCurrentDetails(ctx, details)
}

// IncidentSearchAttributes are the search attributes of an incident workflow.
func IncidentSearchAttributes(inc incident.Incident) []temporal.SearchAttributeUpdate {
	ups := SearchAttributesFor(otincident.WorkflowType, inc)
	ups = append(ups, otincident.AttrStatus.ValueSet(inc.Status))
	if o := otincident.OwnerName(inc.Owner); o != "" {
		ups = append(ups, otincident.AttrOwner.ValueSet(o))
	}
	if inc.Impact != nil && len(inc.Impact.Lines) > 0 {
		ups = append(ups, otincident.AttrLine.ValueSet(inc.Impact.Lines[0]))
	}
	if len(inc.Tactics) > 0 {
		ups = append(ups, otincident.AttrTactics.ValueSet(slices.Clone(inc.Tactics)))
	}
	if inc.Impact != nil && inc.Impact.Site != "" && !slices.ContainsFunc(inc.Devices, func(d incident.Device) bool { return d.Site != "" }) {
		ups = append(ups, AttrSites.ValueSet([]string{inc.Impact.Site}))
	}
	return ups
}

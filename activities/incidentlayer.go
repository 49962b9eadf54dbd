package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/rules"
)

// RuleEvaluator runs the automation rules on an incident event (a *rules.Set).
type RuleEvaluator interface {
	Evaluate(ev incident.Event, now time.Time) rules.Result
}

// AssetDirectory maps an incident to its business impact (an *assets.Directory).
type AssetDirectory interface {
	Enrich(inc *incident.Incident)
	Impact(inc incident.Incident) incident.Impact
}

// IncidentLayer is the side of Interlock's own incidents that reads configuration: the asset
// directory and the automation rules, both of which can change while an incident waits, so the
// incident workflow asks for them through this activity instead of reading them itself.
type IncidentLayer struct {
	Rules RuleEvaluator
	// Assets is nil when no asset directory is configured.
	Assets AssetDirectory
	// Places is the same directory's line lookup (DescribeAssets); nil without a directory.
	Places   AssetPlacer
	Settings otincident.Settings
	Now      func() time.Time
}

// IncidentSettings answers the incident workflow's settings.
func (a *IncidentLayer) IncidentSettings(context.Context) (otincident.Settings, error) {
	return a.Settings.Normalized(), nil
}

// PrepareRequest is one incident event to prepare.
type PrepareRequest struct {
	Event otincident.Event `json:"event"`
}

// PrepareResult is the event's business impact and what the automation rules decided for it.
type PrepareResult struct {
	// Impact is nil when no asset directory is configured.
	Impact *incident.Impact `json:"impact,omitempty"`
	// Devices are the incident's devices after enrichment from the directory.
	Devices        []incident.Device     `json:"devices,omitempty"`
	Matches        []rules.Match         `json:"matches,omitempty"`
	Changes        []rules.Change        `json:"changes,omitempty"`
	Classification *rules.Classification `json:"classification,omitempty"`
	Playbooks      []string              `json:"playbooks,omitempty"`
	Errors         []string              `json:"errors,omitempty"`
	// Owner is the owner the rules set (rules.Change carries only its display form).
	Owner *incident.Owner `json:"owner,omitempty"`
}

// PrepareIncidentEvent enriches the incident from the asset directory, maps its impact and runs the
// automation rules on the enriched incident.
func (a *IncidentLayer) PrepareIncidentEvent(ctx context.Context, req PrepareRequest) (PrepareResult, error) {
	if a.Rules == nil {
		return PrepareResult{}, temporal.NewNonRetryableApplicationError("no automation rules are configured", FailureInvalidRequest, nil)
	}
	inc := req.Event.Incident
	var out PrepareResult
	if a.Assets != nil {
		a.Assets.Enrich(&inc)
		impact := a.Assets.Impact(inc)
		inc.Impact = &impact
		out.Impact = &impact
	}
	out.Devices = inc.Devices
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	res := a.Rules.Evaluate(incident.Event{ID: req.Event.Key(), Type: req.Event.Type, Incident: inc, Previous: req.Event.Previous}, now)
	out.Matches, out.Changes, out.Classification, out.Playbooks, out.Errors = res.Matches, res.Changes, res.Classification, res.Playbooks, res.Errors
	for _, c := range res.Changes {
		if c.Field == "owner" {
			o := res.Incident.Owner
			out.Owner = &o
		}
	}
	if activity.IsActivity(ctx) {
		for _, e := range res.Errors {
			activity.GetLogger(ctx).Warn("rule condition failed", "incident", inc.ID, "err", e)
		}
	}
	return out, nil
}

// IncidentChanger changes an incident Interlock keeps (otincident.Client).
type IncidentChanger interface {
	Change(ctx context.Context, incidentID string, ch otincident.Change) (otincident.ChangeResult, error)
}

// InterlockWriter writes playbooks' outcomes to the incidents Interlock keeps itself: each comment
// and update becomes a change in the incident's history.
type InterlockWriter struct {
	Incidents IncidentChanger
}

var _ IncidentWriter = (*InterlockWriter)(nil)

func (w *InterlockWriter) Name() string { return "interlock" }

// changer is Incidents, or else a client on the worker's own Temporal connection.
func (w *InterlockWriter) changer(ctx context.Context) IncidentChanger {
	if w.Incidents != nil {
		return w.Incidents
	}
	return &otincident.Client{Temporal: activity.GetClient(ctx)}
}

func (w *InterlockWriter) AddComment(ctx context.Context, req CommentRequest) (WriteResult, error) {
	res, err := w.changer(ctx).Change(ctx, req.IncidentID, otincident.Change{
		Actor:   actorOf(ctx),
		Comment: &otincident.Comment{ID: req.CommentID, Message: req.Message},
	})
	if err != nil {
		return WriteResult{}, interlockError(err)
	}
	return WriteResult{CommentID: res.CommentID, Changes: res.Changes}, nil
}

func (w *InterlockWriter) Update(ctx context.Context, req UpdateRequest) (WriteResult, error) {
	ch := otincident.Change{
		Actor: actorOf(ctx), Severity: req.Severity, Status: req.Status,
		Classification: req.Classification, ClassificationReason: req.ClassificationReason, ClassificationComment: req.ClassificationComment,
		AddTags: req.AddTags, RaiseOnly: req.RaiseOnly,
	}
	if o := req.Owner; o != nil {
		ch.Owner = &incident.Owner{ObjectID: o.ObjectID, Email: o.Email, UserPrincipalName: o.UserPrincipalName, AssignedTo: o.AssignedTo}
	}
	res, err := w.changer(ctx).Change(ctx, req.IncidentID, ch)
	if err != nil {
		return WriteResult{}, interlockError(err)
	}
	return WriteResult{Changes: res.Changes}, nil
}

// actorOf names the playbook a write-back comes from, for the incident's audit trail.
func actorOf(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return "playbook"
	}
	return "playbook:" + activity.GetInfo(ctx).WorkflowType.Name
}

// Error type of a change the incident refused.
const FailureIncidentRefused = "IncidentChangeRefused"

func interlockError(err error) error {
	if ice, ok := errors.AsType[*otincident.InvalidChangeError](err); ok {
		return temporal.NewNonRetryableApplicationError("the incident refused the change: "+ice.Error(), FailureIncidentRefused, nil)
	}
	if errors.Is(err, otincident.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), FailureIncidentRefused, nil)
	}
	return err
}

// RoutedWriter sends write-backs for Interlock's own incidents to them and every other incident's to
// the SIEM writer (Sentinel, or the log).
type RoutedWriter struct {
	Interlock IncidentWriter
	// Other is nil when no SIEM is configured: write-backs for other incidents are then refused.
	Other IncidentWriter
}

var _ IncidentWriter = (*RoutedWriter)(nil)

func (w *RoutedWriter) Name() string {
	if w.Other == nil {
		return w.Interlock.Name()
	}
	return w.Other.Name()
}

func (w *RoutedWriter) route(id, armID string) (IncidentWriter, error) {
	if armID == "" && otincident.IsIncidentID(id) {
		return w.Interlock, nil
	}
	if w.Other == nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"incident %q is not one Interlock keeps, and no SIEM is configured for write-back (sentinel.writeBack)", safetext.Clip(id, 80)), FailureInvalidRequest, nil)
	}
	return w.Other, nil
}

func (w *RoutedWriter) AddComment(ctx context.Context, req CommentRequest) (WriteResult, error) {
	to, err := w.route(req.IncidentID, req.IncidentARMID)
	if err != nil {
		return WriteResult{}, err
	}
	res, err := to.AddComment(ctx, req)
	res.Via = to.Name()
	return res, err
}

func (w *RoutedWriter) Update(ctx context.Context, req UpdateRequest) (WriteResult, error) {
	to, err := w.route(req.IncidentID, req.IncidentARMID)
	if err != nil {
		return WriteResult{}, err
	}
	res, err := to.Update(ctx, req)
	res.Via = to.Name()
	return res, err
}

// DeviceOwnersRequest asks the asset directory for the owners of devices the alert names none for.
type DeviceOwnersRequest struct {
	Devices []incident.Device `json:"devices"`
}

// DeviceOwnersResult holds each requested device's owners, in request order; a device the directory
// does not know, or every device when no directory is configured, has none.
type DeviceOwnersResult struct {
	Owners [][]string `json:"owners"`
}

// DeviceOwners looks the devices up in the asset directory (by address, MAC or name, as Enrich does)
// and returns their owners: the asset's, else the nearest zone's, line's or site's.
func (a *IncidentLayer) DeviceOwners(_ context.Context, req DeviceOwnersRequest) (DeviceOwnersResult, error) {
	out := DeviceOwnersResult{Owners: make([][]string, len(req.Devices))}
	if a.Assets == nil {
		return out, nil
	}
	inc := incident.Incident{Devices: make([]incident.Device, len(req.Devices))}
	for i, d := range req.Devices {
		d.Owners = nil // only the directory's answer is wanted here
		inc.Devices[i] = d
	}
	a.Assets.Enrich(&inc)
	for i, d := range inc.Devices {
		out.Owners[i] = d.Owners
	}
	return out, nil
}

package playbooks

import (
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// The asset directory is local to the worker: a lookup that fails for a minute is a bug, not an outage.
const assetsAttempt, assetsTotal = 10 * time.Second, time.Minute

// describeAssets asks the asset directory about the incident's devices. When the lookup fails the run
// goes on with the incident's own devices, unplaced, and the error says so in the result.
func describeAssets(ctx workflow.Context, inc incident.Incident) (activities.AssetsResult, string, error) {
	actx := workflows.WithCallOptions(ctx, assetsAttempt, assetsTotal)
	var res activities.AssetsResult
	err := workflows.CallOutside(actx, activities.DescribeAssets, activities.AssetsRequest{Incident: inc}).Get(ctx, &res)
	if err == nil {
		return res, "", nil
	}
	if temporal.IsCanceledError(err) {
		return res, "", err
	}
	workflow.GetLogger(ctx).Warn("asset directory lookup failed", "incident", inc.ID, "err", err)
	res = activities.AssetsResult{}
	for _, d := range inc.Devices {
		res.Devices = append(res.Devices, activities.PlacedDevice{Device: d})
	}
	return res, "asset directory lookup failed: " + ticketFailure(err), nil
}

// stableCommentID is the ID of a playbook's comment on an incident, the same for every run of the
// playbook on the incident: a re-run replaces its comment instead of adding a second one.
func stableCommentID(playbook, incidentID, purpose string) string {
	return activities.CommentID(playbook+"/"+incidentID, activities.CommentRequest{IncidentID: incidentID, Purpose: purpose})
}

// writeComment writes msg under its stable ID; it returns the error text, "" on success.
func writeComment(ctx workflow.Context, inc incident.Incident, playbook, purpose, msg string) (string, error) {
	cctx := workflows.WithCallOptions(ctx, commentAttempt, commentTotal)
	err := workflows.CallOutside(cctx, activities.AddIncidentComment, activities.CommentRequest{
		IncidentID: inc.ID, IncidentARMID: inc.ARMID, Number: inc.Number, Message: msg, Purpose: purpose,
		CommentID: stableCommentID(playbook, inc.ID, purpose),
	}).Get(ctx, nil)
	if err == nil {
		return "", nil
	}
	if temporal.IsCanceledError(err) {
		return "", err
	}
	workflow.GetLogger(ctx).Warn("incident comment failed", "incident", inc.ID, "playbook", playbook, "err", err)
	return ticketFailure(err), nil
}

// writeUpdate writes the update; it returns what changed and the error text, "" on success.
func writeUpdate(ctx workflow.Context, req activities.UpdateRequest) ([]string, string, error) {
	wctx := workflows.WithCallOptions(ctx, writeBackAttempt, writeBackTotal)
	var wr activities.WriteResult
	err := workflows.CallOutside(wctx, activities.UpdateIncident, req).Get(ctx, &wr)
	if err == nil {
		return wr.Changes, "", nil
	}
	if temporal.IsCanceledError(err) {
		return nil, "", err
	}
	workflow.GetLogger(ctx).Warn("incident update failed", "incident", req.IncidentID, "err", err)
	return nil, ticketFailure(err), nil
}

func hasTag(labels []string, tag string) bool {
	for _, l := range labels {
		if equalFoldTrim(l, tag) {
			return true
		}
	}
	return false
}

func equalFoldTrim(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

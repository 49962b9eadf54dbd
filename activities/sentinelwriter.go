package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/arm"
	"github.com/interlock-soar/interlock/activities/sentinel"
	"github.com/interlock-soar/interlock/internal/incident"
)

// SentinelAPI is what the Sentinel writer needs of the incident API (sentinel.Client).
type SentinelAPI interface {
	Ref(armID string) (sentinel.IncidentRef, error)
	GetIncident(ctx context.Context, ref sentinel.IncidentRef) (sentinel.Incident, error)
	PutIncident(ctx context.Context, ref sentinel.IncidentRef, inc sentinel.Incident) (sentinel.Incident, error)
	PutComment(ctx context.Context, ref sentinel.IncidentRef, commentID, message string) error
}

var _ SentinelAPI = (*sentinel.Client)(nil)

// FailureNotSentinelIncident is the error type of a write-back to an incident that is not one of the
// configured workspace's (no armId, or another workspace's).
const FailureNotSentinelIncident = "NotASentinelIncident"

// sentinelResponder is the role a 403 from the incident API points at.
const sentinelResponder = "the Microsoft Sentinel Responder role on the workspace"

// SentinelWriter writes playbook outcomes to Microsoft Sentinel incidents.
//
// Comments are put under IDs derived from (run, purpose), so a retry replaces its own comment. An
// update reads the incident with its etag, changes only what differs, and writes it under If-Match; if
// someone changed the incident in between (412), it reads again and retries, up to UpdateAttempts. An
// incident that already has everything asked is not written at all, which is what makes a retried
// update, or a rerun, a no-op.
type SentinelWriter struct {
	API            SentinelAPI
	UpdateAttempts int
}

var _ IncidentWriter = (*SentinelWriter)(nil)

func (w *SentinelWriter) Name() string { return "sentinel" }

func (w *SentinelWriter) ref(armID string) (sentinel.IncidentRef, error) {
	if strings.TrimSpace(armID) == "" {
		return sentinel.IncidentRef{}, temporal.NewNonRetryableApplicationError(
			"the incident has no armId: it did not come from Microsoft Sentinel (a raw alert or Interlock's own form), so there is nothing to write back to",
			FailureNotSentinelIncident, nil)
	}
	ref, err := w.API.Ref(armID)
	if err != nil {
		return sentinel.IncidentRef{}, temporal.NewNonRetryableApplicationError("incident armId refused: "+err.Error(), FailureNotSentinelIncident, nil)
	}
	return ref, nil
}

// AddComment puts the comment under req.CommentID.
func (w *SentinelWriter) AddComment(ctx context.Context, req CommentRequest) (WriteResult, error) {
	ref, err := w.ref(req.IncidentARMID)
	if err != nil {
		return WriteResult{}, err
	}
	if req.CommentID == "" {
		return WriteResult{}, temporal.NewNonRetryableApplicationError("a Sentinel comment needs an ID", FailureInvalidRequest, nil)
	}
	if n := len([]rune(req.Message)); n > sentinel.MaxCommentLength {
		return WriteResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("comment of %d characters is over Sentinel's %d", n, sentinel.MaxCommentLength), FailureInvalidRequest, nil)
	}
	if err := w.API.PutComment(ctx, ref, req.CommentID, req.Message); err != nil {
		return WriteResult{}, azureError("put comment", sentinelResponder, err)
	}
	return WriteResult{CommentID: req.CommentID}, nil
}

// Update applies the request to the incident.
func (w *SentinelWriter) Update(ctx context.Context, req UpdateRequest) (WriteResult, error) {
	ref, err := w.ref(req.IncidentARMID)
	if err != nil {
		return WriteResult{}, err
	}
	attempts := max(w.UpdateAttempts, 1)
	for attempt := 1; ; attempt++ {
		inc, err := w.API.GetIncident(ctx, ref)
		if err != nil {
			return WriteResult{}, azureError("read incident", sentinelResponder, err)
		}
		changes := applyUpdate(&inc, req)
		if len(changes) == 0 {
			return WriteResult{}, nil
		}
		_, err = w.API.PutIncident(ctx, ref, inc)
		if err == nil {
			return WriteResult{Changes: changes}, nil
		}
		if ae, ok := errors.AsType[*arm.Error](err); ok && (ae.Status == http.StatusPreconditionFailed || ae.Status == http.StatusConflict) && attempt < attempts {
			continue // someone changed it since we read it: read it again
		}
		return WriteResult{}, azureError("write incident", sentinelResponder, err)
	}
}

// applyUpdate changes inc as req asks, returning what changed.
func applyUpdate(inc *sentinel.Incident, req UpdateRequest) []string {
	var changes []string
	if req.RaiseOnly {
		if incident.SeverityRank(req.Severity) <= incident.SeverityRank(inc.Str("severity")) {
			req.Severity = ""
		}
		if strings.EqualFold(inc.Str("status"), incident.StatusClosed) {
			req.Status = ""
		}
	}
	set := func(key, name, want string) {
		if want = strings.TrimSpace(want); want == "" {
			return
		}
		if have := inc.Str(key); have != want {
			inc.SetStr(key, want)
			changes = append(changes, fmt.Sprintf("%s %s → %s", name, orNone(have), want))
		}
	}
	set("severity", "severity", req.Severity)
	set("status", "status", req.Status)
	if strings.EqualFold(inc.Str("status"), "Closed") && inc.Str("classification") == "" && req.Classification == "" {
		// Sentinel does not close an incident without a classification.
		req.Classification = "Undetermined"
	}
	set("classification", "classification", req.Classification)
	set("classificationReason", "classification reason", req.ClassificationReason)
	set("classificationComment", "classification comment", req.ClassificationComment)
	for _, t := range inc.AddLabels(req.AddTags...) {
		changes = append(changes, "tag +"+t)
	}
	if o := req.Owner; o != nil && (o.ObjectID != "" || o.Email != "" || o.UserPrincipalName != "") {
		have := inc.Owner()
		if have.ObjectID != o.ObjectID || have.Email != o.Email || have.UserPrincipalName != o.UserPrincipalName {
			inc.SetOwner(sentinel.Owner{ObjectID: o.ObjectID, Email: o.Email, UserPrincipalName: o.UserPrincipalName, AssignedTo: o.AssignedTo})
			changes = append(changes, "owner "+orNone(cmp.Or(have.UserPrincipalName, have.Email, have.ObjectID))+" → "+
				cmp.Or(o.UserPrincipalName, o.Email, o.ObjectID))
		}
	}
	return changes
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// IncidentStatus reads the incident's status as it is now in Sentinel.
func (w *SentinelWriter) IncidentStatus(ctx context.Context, armID string) (string, error) {
	ref, err := w.ref(armID)
	if err != nil {
		return "", err
	}
	inc, err := w.API.GetIncident(ctx, ref)
	if err != nil {
		return "", azureError("read incident", sentinelResponder, err)
	}
	return inc.Str("status"), nil
}

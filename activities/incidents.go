// Package activities holds Interlock's side effects, each group a struct whose exported methods are
// Temporal activities, with its outside systems behind small interfaces declared here.
package activities

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// CommentRequest adds a comment to an incident.
type CommentRequest struct {
	IncidentID    string `json:"incidentId"`
	IncidentARMID string `json:"incidentArmId,omitempty"`
	Number        int64  `json:"number,omitempty"`
	// Message is HTML, as Sentinel comments are. Callers escape every alert-provided string in it.
	Message string `json:"message"`
	// Purpose names the comment within its run ("tickets", "answer", "notice/0", …). The comment's ID
	// is derived from the run and the purpose, so a retried write-back replaces its own comment instead
	// of adding a second one. Runs started before purposes existed fall back to the message.
	Purpose string `json:"purpose,omitempty"`
	// CommentID, when set, is the ID to write under; empty derives it as described above.
	CommentID string `json:"commentId,omitempty"`
}

// UpdateRequest changes an incident's properties. Empty fields are left alone.
type UpdateRequest struct {
	IncidentID            string   `json:"incidentId"`
	IncidentARMID         string   `json:"incidentArmId,omitempty"`
	Number                int64    `json:"number,omitempty"`
	Severity              string   `json:"severity,omitempty"`
	Status                string   `json:"status,omitempty"`
	Classification        string   `json:"classification,omitempty"`
	ClassificationReason  string   `json:"classificationReason,omitempty"`
	ClassificationComment string   `json:"classificationComment,omitempty"`
	AddTags               []string `json:"addTags,omitempty"`
	// RaiseOnly applies Severity only when it is higher than the incident's at the time of the write, and
	// Status only when the incident is not Closed then: a playbook that triages from the copy it was
	// started with never lowers a severity an analyst raised, nor reopens an incident closed since.
	RaiseOnly bool `json:"raiseOnly,omitempty"`
	// Owner assigns the incident, when set.
	Owner *Owner `json:"owner,omitempty"`
}

// Owner is who an incident is assigned to; one of the fields identifies them.
type Owner struct {
	ObjectID          string `json:"objectId,omitempty"`
	Email             string `json:"email,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	AssignedTo        string `json:"assignedTo,omitempty"`
}

// WriteResult says where a write-back went and what it did.
type WriteResult struct {
	// Via names the adapter that took it ("sentinel", or "log" for the no-SIEM choice that only logs it).
	Via string `json:"via"`
	// CommentID is the ID a comment was written under.
	CommentID string `json:"commentId,omitempty"`
	// Changes lists the properties an update changed ("severity Medium → High", "tag +ot"); empty when
	// the incident already had them, which is what a retried update finds.
	Changes []string `json:"changes,omitempty"`
}

// IncidentWriter writes back to the system the incident lives in (Sentinel or another SIEM).
type IncidentWriter interface {
	AddComment(ctx context.Context, req CommentRequest) (WriteResult, error)
	Update(ctx context.Context, req UpdateRequest) (WriteResult, error)
	Name() string
}

// Incidents are the write-back activities.
type Incidents struct {
	Writer IncidentWriter
}

// FailureInvalidRequest is the error type of requests that can never succeed.
const FailureInvalidRequest = "InvalidRequest"

// AddIncidentComment adds a comment to the incident, under an ID derived from the run and purpose.
func (a *Incidents) AddIncidentComment(ctx context.Context, req CommentRequest) (WriteResult, error) {
	if req.IncidentID == "" || strings.TrimSpace(req.Message) == "" {
		return WriteResult{}, temporal.NewNonRetryableApplicationError("comment needs an incident ID and a message", FailureInvalidRequest, nil)
	}
	if req.CommentID == "" {
		req.CommentID = CommentID(runOf(ctx), req)
	}
	res, err := a.Writer.AddComment(ctx, req)
	if err != nil {
		return WriteResult{}, wrapWriteError(fmt.Sprintf("add comment to incident %s via %s", req.IncidentID, cmp.Or(res.Via, a.Writer.Name())), err)
	}
	res.Via = cmp.Or(res.Via, a.Writer.Name())
	return res, nil
}

// UpdateIncident changes the incident's severity, status, classification, owner or tags.
func (a *Incidents) UpdateIncident(ctx context.Context, req UpdateRequest) (WriteResult, error) {
	if req.IncidentID == "" {
		return WriteResult{}, temporal.NewNonRetryableApplicationError("update needs an incident ID", FailureInvalidRequest, nil)
	}
	res, err := a.Writer.Update(ctx, req)
	if err != nil {
		return WriteResult{}, wrapWriteError(fmt.Sprintf("update incident %s via %s", req.IncidentID, cmp.Or(res.Via, a.Writer.Name())), err)
	}
	res.Via = cmp.Or(res.Via, a.Writer.Name())
	return res, nil
}

// wrapWriteError adds context to a writer's error while keeping whether Temporal may retry it: an
// application error keeps its type, retryability and retry delay.
func wrapWriteError(op string, err error) error {
	if ae, ok := err.(*temporal.ApplicationError); ok {
		return temporal.NewApplicationErrorWithOptions(op+": "+ae.Message(), ae.Type(), temporal.ApplicationErrorOptions{
			NonRetryable: ae.NonRetryable(), Cause: ae.Unwrap(), NextRetryDelay: ae.NextRetryDelay(),
		})
	}
	return fmt.Errorf("%s: %w", op, err)
}

// runOf names the run an activity works for ("workflowID/runID"); "" outside an activity (unit tests).
func runOf(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	info := activity.GetInfo(ctx)
	return info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
}

// CommentID derives a comment's ID from the run and the comment's purpose (its message, for requests
// made before purposes existed), shaped like the GUIDs Sentinel gives comments.
func CommentID(run string, req CommentRequest) string {
	purpose := req.Purpose
	if purpose == "" {
		sum := sha256.Sum256([]byte(req.Message))
		purpose = "message:" + hex.EncodeToString(sum[:])
	}
	sum := sha256.Sum256([]byte("interlock-comment\x00" + req.IncidentID + "\x00" + run + "\x00" + purpose))
	h := hex.EncodeToString(sum[:16])
	// Version 8 (custom) UUID layout: the ID is ours, not random.
	return h[0:8] + "-" + h[8:12] + "-8" + h[13:16] + "-" + string("89ab"[sum[8]&3]) + h[17:20] + "-" + h[20:32]
}

// LogWriter is the explicit no-SIEM choice (sentinel.writeBack: log): it logs each write-back, and the
// playbook's result records it.
type LogWriter struct {
	Logger *slog.Logger
}

var _ IncidentWriter = (*LogWriter)(nil)

func (w *LogWriter) Name() string { return "log" }

func (w *LogWriter) AddComment(ctx context.Context, req CommentRequest) (WriteResult, error) {
	w.Logger.InfoContext(ctx, "incident comment", "incident", req.IncidentID, "number", req.Number, "comment_id", req.CommentID, "message", req.Message)
	return WriteResult{CommentID: req.CommentID}, nil
}

func (w *LogWriter) Update(ctx context.Context, req UpdateRequest) (WriteResult, error) {
	w.Logger.InfoContext(ctx, "incident update", "incident", req.IncidentID, "number", req.Number,
		"severity", req.Severity, "status", req.Status, "classification", req.Classification,
		"reason", req.ClassificationReason, "tags", req.AddTags)
	return WriteResult{}, nil
}

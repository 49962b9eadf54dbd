// Package activities holds Interlock's side effects, each group a struct whose exported methods are
// Temporal activities, with its outside systems behind small interfaces declared here.
package activities

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// CommentRequest adds a comment to an incident.
type CommentRequest struct {
	IncidentID    string `json:"incidentId"`
	IncidentARMID string `json:"incidentArmId,omitempty"`
	Number        int64  `json:"number,omitempty"`
	// Message is HTML, as Sentinel comments are. Callers escape every alert-provided string in it.
	Message string `json:"message"`
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
}

// WriteResult says where a write-back went.
type WriteResult struct {
	// Via names the adapter that took it ("log" for the default that only records it).
	Via string `json:"via"`
}

// IncidentWriter writes back to the system the incident lives in (Sentinel or another SIEM).
type IncidentWriter interface {
	AddComment(ctx context.Context, req CommentRequest) error
	Update(ctx context.Context, req UpdateRequest) error
	Name() string
}

// Incidents are the write-back activities.
type Incidents struct {
	Writer IncidentWriter
}

// ErrInvalidRequest is the error type of requests that can never succeed.
const ErrInvalidRequest = "InvalidRequest"

// AddIncidentComment adds a comment to the incident.
func (a *Incidents) AddIncidentComment(ctx context.Context, req CommentRequest) (WriteResult, error) {
	if req.IncidentID == "" || strings.TrimSpace(req.Message) == "" {
		return WriteResult{}, temporal.NewNonRetryableApplicationError("comment needs an incident ID and a message", ErrInvalidRequest, nil)
	}
	if err := a.Writer.AddComment(ctx, req); err != nil {
		return WriteResult{}, fmt.Errorf("add comment to incident %s via %s: %w", req.IncidentID, a.Writer.Name(), err)
	}
	return WriteResult{Via: a.Writer.Name()}, nil
}

// UpdateIncident changes the incident's severity, status, classification or tags.
func (a *Incidents) UpdateIncident(ctx context.Context, req UpdateRequest) (WriteResult, error) {
	if req.IncidentID == "" {
		return WriteResult{}, temporal.NewNonRetryableApplicationError("update needs an incident ID", ErrInvalidRequest, nil)
	}
	if err := a.Writer.Update(ctx, req); err != nil {
		return WriteResult{}, fmt.Errorf("update incident %s via %s: %w", req.IncidentID, a.Writer.Name(), err)
	}
	return WriteResult{Via: a.Writer.Name()}, nil
}

// LogWriter is the default IncidentWriter until a SIEM adapter is configured: it logs each write-back,
// and the playbook's result records it.
type LogWriter struct {
	Logger *slog.Logger
}

var _ IncidentWriter = (*LogWriter)(nil)

func (w *LogWriter) Name() string { return "log" }

func (w *LogWriter) AddComment(ctx context.Context, req CommentRequest) error {
	w.Logger.InfoContext(ctx, "incident comment", "incident", req.IncidentID, "number", req.Number, "message", req.Message)
	return nil
}

func (w *LogWriter) Update(ctx context.Context, req UpdateRequest) error {
	w.Logger.InfoContext(ctx, "incident update", "incident", req.IncidentID, "number", req.Number,
		"severity", req.Severity, "status", req.Status, "classification", req.Classification,
		"reason", req.ClassificationReason, "tags", req.AddTags)
	return nil
}

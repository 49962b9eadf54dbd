package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/otincident"
)

// Routes of the incidents Interlock keeps:
//
//	GET   /v1/incidents                      list (status, severity, site, line, device, owner, tactic, open, limit)
//	GET   /v1/incidents/{id}                 the incident, its comments, tasks and history
//	PATCH /v1/incidents/{id}                 status, severity, owner, classification, tags, title
//	POST  /v1/incidents/{id}/comments        {"message": "plain text"}
//	POST  /v1/incidents/{id}/tasks           {"title": "...", "description": "..."}
//	PATCH /v1/incidents/{id}/tasks/{n}       {"status": "Completed"}
//
// The actor recorded in the incident's history is the X-Interlock-Actor header ("api" without one).
const (
	incidentsPrefix = routeIncidents + "/"
	routeIncident   = "/v1/incidents/{id}"
	actorHeader     = "X-Interlock-Actor"
	maxChangeBody   = 64 << 10
)

// patchBody is PATCH /v1/incidents/{id}. Owner is an email or UPN, or "" to unassign.
type patchBody struct {
	Title                 string   `json:"title"`
	Status                string   `json:"status"`
	Severity              string   `json:"severity"`
	Owner                 *string  `json:"owner"`
	Classification        string   `json:"classification"`
	ClassificationReason  string   `json:"classificationReason"`
	ClassificationComment string   `json:"classificationComment"`
	AddTags               []string `json:"addTags"`
}

type commentBody struct {
	Message string `json:"message"`
}

type taskBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
}

// IncidentView is GET /v1/incidents/{id}.
type IncidentView struct {
	otincident.State
	// Summary is the incident in one line, as the Temporal UI lists it.
	Summary string `json:"summary"`
}

func (s *Server) serveIncidentList(w http.ResponseWriter, r *http.Request) {
	if s.incidents == nil {
		writeError(w, http.StatusNotFound, "the incident layer is not enabled on this intake", "")
		return
	}
	q := r.URL.Query()
	f := otincident.Filter{
		Status: q.Get("status"), Severity: q.Get("severity"), Site: q.Get("site"), Line: q.Get("line"),
		Device: q.Get("device"), Owner: q.Get("owner"), Tactic: q.Get("tactic"), Open: q.Get("open") == "true",
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 1000", "limit")
			return
		}
		f.Limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.startTimeout)
	defer cancel()
	list, err := s.incidents.List(ctx, f)
	if err != nil {
		s.incidentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Incidents []otincident.Listed `json:"incidents"`
	}{nonNil(list)})
}

// serveIncident routes /v1/incidents/{id}[/comments|/tasks[/{n}]].
func (s *Server) serveIncident(w http.ResponseWriter, r *http.Request, rest string) {
	if s.incidents == nil {
		writeError(w, http.StatusNotFound, "the incident layer is not enabled on this intake", "")
		return
	}
	parts := strings.Split(rest, "/")
	id := parts[0]
	if !otincident.IsIncidentID(id) {
		writeError(w, http.StatusNotFound, "no such incident: Interlock's incident IDs start with "+otincident.IDPrefix, "")
		return
	}
	switch {
	case len(parts) == 1:
		if !allowMethods(w, r, http.MethodGet, http.MethodPatch) {
			return
		}
		if r.Method == http.MethodGet {
			s.getIncident(w, r, id)
			return
		}
		s.patchIncident(w, r, id)
	case len(parts) == 2 && parts[1] == "comments":
		if allowMethods(w, r, http.MethodPost) {
			s.postComment(w, r, id)
		}
	case len(parts) == 2 && parts[1] == "tasks":
		if allowMethods(w, r, http.MethodPost) {
			s.postTask(w, r, id)
		}
	case len(parts) == 3 && parts[1] == "tasks":
		if allowMethods(w, r, http.MethodPatch) {
			s.patchTask(w, r, id, parts[2])
		}
	default:
		writeError(w, http.StatusNotFound, "no such route: "+r.Method+" "+r.URL.Path, "")
	}
}

// patchIncident is PATCH /v1/incidents/{id}.
func (s *Server) patchIncident(w http.ResponseWriter, r *http.Request, id string) {
	var b patchBody
	if !decodeStrict(w, r, &b) {
		return
	}
	ch := otincident.Change{Title: b.Title, Status: b.Status, Severity: b.Severity, Classification: b.Classification,
		ClassificationReason: b.ClassificationReason, ClassificationComment: b.ClassificationComment, AddTags: b.AddTags}
	if b.Owner != nil {
		o := strings.TrimSpace(*b.Owner)
		ch.Owner = &incident.Owner{Email: o, UserPrincipalName: o}
	}
	s.change(w, r, id, ch, http.StatusOK)
}

// postComment is POST /v1/incidents/{id}/comments.
func (s *Server) postComment(w http.ResponseWriter, r *http.Request, id string) {
	var b commentBody
	if !decodeStrict(w, r, &b) {
		return
	}
	if strings.TrimSpace(b.Message) == "" {
		writeError(w, http.StatusBadRequest, "message must not be empty", "message")
		return
	}
	// A person's comment is plain text; incidents hold HTML, as Sentinel's do.
	msg := "<p>" + strings.ReplaceAll(html.EscapeString(b.Message), "\n", "<br>") + "</p>"
	s.change(w, r, id, otincident.Change{Comment: &otincident.Comment{Message: msg}}, http.StatusCreated)
}

// postTask is POST /v1/incidents/{id}/tasks.
func (s *Server) postTask(w http.ResponseWriter, r *http.Request, id string) {
	var b taskBody
	if !decodeStrict(w, r, &b) {
		return
	}
	if b.Status != "" {
		writeError(w, http.StatusBadRequest, "a new task is always New; set its status with PATCH .../tasks/{n}", "status")
		return
	}
	s.change(w, r, id, otincident.Change{AddTask: &otincident.Task{Title: b.Title, Description: b.Description}}, http.StatusCreated)
}

// patchTask is PATCH /v1/incidents/{id}/tasks/{n}.
func (s *Server) patchTask(w http.ResponseWriter, r *http.Request, id, task string) {
	n, err := strconv.Atoi(task)
	if err != nil || n < 1 {
		writeError(w, http.StatusNotFound, "no such task", "")
		return
	}
	var b taskBody
	if !decodeStrict(w, r, &b) {
		return
	}
	if b.Title != "" || b.Description != "" {
		writeError(w, http.StatusBadRequest, "only a task's status can be changed", "title")
		return
	}
	s.change(w, r, id, otincident.Change{SetTask: &otincident.Task{ID: n, Status: b.Status}}, http.StatusOK)
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, id string) {
	ctx, cancel := context.WithTimeout(r.Context(), s.startTimeout)
	defer cancel()
	st, err := s.incidents.State(ctx, id)
	if err != nil {
		s.incidentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, IncidentView{State: st, Summary: otincident.Summary(st.Incident)})
}

func (s *Server) change(w http.ResponseWriter, r *http.Request, id string, ch otincident.Change, code int) {
	ch.Actor = strings.TrimSpace(r.Header.Get(actorHeader))
	if ch.Actor == "" {
		ch.Actor = "api"
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.startTimeout)
	defer cancel()
	res, err := s.incidents.Change(ctx, id, ch)
	if err != nil {
		s.incidentError(w, err)
		return
	}
	s.log.Info("incident changed", "incident", id, "actor", ch.Actor, "changes", len(res.Changes))
	if len(res.Changes) == 0 && code == http.StatusCreated {
		code = http.StatusOK
	}
	writeJSON(w, code, res)
}

func (s *Server) incidentError(w http.ResponseWriter, err error) {
	if ice, ok := errors.AsType[*otincident.InvalidChangeError](err); ok {
		writeError(w, http.StatusBadRequest, ice.Error(), ice.Field)
		return
	}
	switch {
	case errors.Is(err, otincident.ErrNotFound):
		writeError(w, http.StatusNotFound, "no such incident", "")
	case errors.Is(err, otincident.ErrEnded):
		writeError(w, http.StatusConflict, err.Error(), "")
	case errors.Is(err, ErrUnavailable) || isUnavailable(err) || errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", retryAfterUnavailable)
		writeError(w, http.StatusServiceUnavailable, "Temporal or the worker did not answer in time; nothing was changed. Retry", "")
	default:
		s.log.Error("incident request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "the incident request failed; see the intake log", "")
	}
}

// decodeStrict decodes a small JSON body, refusing unknown fields; it answers 400/415 itself.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	if !checkJSON(w, r) {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxChangeBody+1))
	if err != nil || len(body) > maxChangeBody {
		writeError(w, http.StatusRequestEntityTooLarge, "request body too large", "")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := ""
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			field = ute.Field
		}
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
			msg = "unknown field " + f
		}
		writeError(w, http.StatusBadRequest, "invalid body: "+msg, field)
		return false
	}
	return true
}

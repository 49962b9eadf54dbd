package intake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// parseEvent parses the body with incident.Parse, which takes all three forms the intake promises:
// Sentinel's incident-trigger body, a raw Defender for IoT alert record, and Interlock's own form. The
// trigger body alone (incident.ParseEvent) would shut out senders that are not Sentinel.
func parseEvent(w http.ResponseWriter, body []byte) (incident.Event, bool) {
	ev, err := incident.Parse(body)
	if err != nil {
		writeParseError(w, err, "invalid incident: ", "")
		return incident.Event{}, false
	}
	if ev.Incident.ID == "" {
		// Workflow IDs are derived from the incident ID; without one dedupe would be impossible.
		writeError(w, http.StatusBadRequest, "incident has no ID", "incident.id")
		return incident.Event{}, false
	}
	return ev, true
}

// writeParseError answers 400 for a body that did not parse: a field error names its field, any other
// error follows prefix and is put on field.
func writeParseError(w http.ResponseWriter, err error, prefix, field string) {
	if fe, ok := errors.AsType[*incident.FieldError](err); ok {
		writeError(w, http.StatusBadRequest, fe.Error(), fe.Path)
	} else {
		writeError(w, http.StatusBadRequest, prefix+err.Error(), field)
	}
}

// Response is the answer to an accepted incident or run request.
type Response struct {
	Incident string             `json:"incident"`
	Number   int64              `json:"number"`
	Event    incident.EventType `json:"event"`
	EventID  string             `json:"eventId,omitempty"`
	// Rules are the rules that matched, in evaluation order (empty for a named run).
	Rules []rules.Match `json:"rules"`
	// RuleErrors are conditions that failed at run time (those rules did not match; the others ran).
	RuleErrors []string `json:"ruleErrors,omitempty"`
	Runs       []Run    `json:"runs"`
	// WriteBack is the run that writes the rules' own changes (severity, status, owner, tags) to the
	// incident; absent when they changed nothing or Options.RuleChanges is off.
	WriteBack *Run `json:"writeBack,omitempty"`
}

// Run is one playbook run the request resolved to.
type Run struct {
	Playbook   string `json:"playbook"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	// Status is "started", or "deduplicated" when a run with this workflow ID already existed.
	Status string `json:"status"`
	URL    string `json:"url,omitempty"`
}

// serveIncidents runs the rules and starts every selected playbook, in rule order, with the incident
// as the rules left it.
//
// When no playbook is selected the answer is 200, not 202: the request was handled completely and
// nothing was queued. Either way the sender sees 2xx and does not retry.
func (s *Server) serveIncidents(w http.ResponseWriter, r *http.Request, body []byte) {
	if !checkJSON(w, r) {
		return
	}
	ev, ok := parseEvent(w, body)
	if !ok {
		return
	}
	if !s.rulesReady(w, "no automation rules are loaded; nothing was started") {
		return
	}
	res := s.rules.Evaluate(ev, s.now())
	for _, m := range res.Matches {
		s.metrics.ruleMatches.WithLabelValues(m.Rule).Inc()
	}
	for _, e := range res.Errors {
		s.log.Warn("rule condition failed", "incident", ev.Incident.ID, "err", e)
	}
	inc := res.Incident
	if inc.ID == "" {
		// The engine's zero Result (nothing matched) carries no incident: the event's is the unchanged one.
		inc = ev.Incident
	}
	// Resolve every playbook before starting any, so a rule naming an unknown playbook changes nothing.
	pbs := make([]playbooks.Playbook, 0, len(res.Playbooks))
	for _, name := range res.Playbooks {
		p, ok := s.playbooks.Lookup(name)
		if !ok {
			s.log.Error("rules selected a playbook that is not registered", "playbook", name, "incident", inc.ID)
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("rules selected playbook %q, which this intake does not know", name), "")
			return
		}
		pbs = append(pbs, p)
	}
	ruleNames := make([]string, len(res.Matches))
	for i, m := range res.Matches {
		ruleNames[i] = m.Rule
	}
	resp := Response{
		Incident:   inc.ID,
		Number:     inc.Number,
		Event:      ev.Type,
		EventID:    ev.ID,
		Rules:      nonNil(res.Matches),
		RuleErrors: res.Errors,
		Runs:       []Run{},
	}
	if (len(pbs) > 0 || (s.ruleChanges && len(res.Changes) > 0)) && s.shed(w, routeIncidents) {
		return
	}
	var changes *workflows.RuleChanges
	if s.ruleChanges && len(res.Changes) > 0 {
		rc := ruleChanges(inc, res)
		changes = &rc
	}
	if changes != nil && len(pbs) == 0 && !s.startRuleChanges(w, r, ev, inc, *changes, &resp) {
		return
	}
	if !s.startAll(w, r, ev, inc, pbs, ruleNames, changes, &resp) {
		return
	}
	s.record(r.Context(), inc)
	code := http.StatusAccepted
	if len(resp.Runs) == 0 && resp.WriteBack == nil {
		code = http.StatusOK
	}
	s.log.Info("incident handled", "incident", inc.ID, "event", ev.Type, "rules", len(res.Matches), "runs", len(resp.Runs))
	writeJSON(w, code, resp)
}

// serveRun starts one named playbook on the incident exactly as sent: automation rules are not
// applied, so what runs is what the caller asked for. Its workflow ID is the same one the rules would
// use, so a run by hand and a run by rule for the same incident are one run.
func (s *Server) serveRun(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	p, ok := s.playbooks.Lookup(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown playbook %q", name), "")
		return
	}
	if !checkJSON(w, r) {
		return
	}
	ev, ok := parseEvent(w, body)
	if !ok {
		return
	}
	if s.shed(w, routeRuns) {
		return
	}
	resp := Response{
		Incident: ev.Incident.ID,
		Number:   ev.Incident.Number,
		Event:    ev.Type,
		EventID:  ev.ID,
		Rules:    []rules.Match{},
		Runs:     []Run{},
	}
	if !s.startAll(w, r, ev, ev.Incident, []playbooks.Playbook{p}, nil, nil, &resp) {
		return
	}
	s.log.Info("playbook run requested", "playbook", p.Name, "incident", ev.Incident.ID, "status", resp.Runs[0].Status)
	writeJSON(w, http.StatusAccepted, resp)
}

// startAll starts the playbooks in order, appending to resp.Runs. It stops at the first failure and
// answers 503 (Temporal unavailable, with Retry-After) or 500 (Temporal refused the start). Runs
// started before the failure stay started: the sender's retry gets them back as deduplicated and starts
// the rest, which is why a partial failure must never be answered with 2xx.
//
// The rules' changes, when there are any, ride with the first playbook's start (its memo, which
// workflows.RuleChangesInterceptor writes from), saving a workflow per incident. When that start finds
// the run already there (a redelivery, or an update event of a playbook that runs once per incident),
// the new run that would have carried them does not exist, so they get their own run as before.
func (s *Server) startAll(w http.ResponseWriter, r *http.Request, ev incident.Event, inc incident.Incident, pbs []playbooks.Playbook, ruleNames []string, changes *workflows.RuleChanges, resp *Response) bool {
	for i, p := range pbs {
		req := StartRequest{
			WorkflowID:       playbooks.WorkflowID(p, inc.ID, eventKey(ev, inc)),
			WorkflowType:     p.Name,
			Input:            inc,
			SearchAttributes: workflows.SearchAttributesFor(p.Name, inc),
			Memo:             map[string]any{"interlockEvent": string(ev.Type)},
			Priority:         p.Priority,
		}
		if len(ruleNames) > 0 {
			req.Memo["interlockRules"] = ruleNames
		}
		carries := i == 0 && changes != nil
		if carries {
			req.Memo[workflows.RuleChangesMemo] = *changes
		}
		run, ok := s.start(w, r, req, len(resp.Runs))
		if !ok {
			return false
		}
		resp.Runs = append(resp.Runs, run)
		switch {
		case carries && run.Status == resultStarted:
			resp.WriteBack = &run
		case carries && !s.startRuleChanges(w, r, ev, inc, *changes, resp):
			return false
		}
	}
	return true
}

// start makes one start; on failure it has answered the request.
func (s *Server) start(w http.ResponseWriter, r *http.Request, req StartRequest, startedBefore int) (Run, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), s.startTimeout)
	began := time.Now()
	s.inflight.Add(1)
	res, err := s.starter.Start(ctx, req)
	s.inflight.Add(-1)
	cancel()
	s.metrics.startDuration.Observe(time.Since(began).Seconds())
	if err != nil {
		s.metrics.starts.WithLabelValues(req.WorkflowType, resultFailed).Inc()
		s.log.Error("playbook start failed", "playbook", req.WorkflowType, "workflow_id", req.WorkflowID, "started_before", startedBefore, "err", err)
		if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			w.Header().Set("Retry-After", retryAfterUnavailable)
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf(
				"Temporal is unavailable; playbook %q was not started. Retry: runs already started come back as deduplicated", req.WorkflowType), "")
			return Run{}, false
		}
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("Temporal refused to start playbook %q; see the intake log", req.WorkflowType), "")
		return Run{}, false
	}
	status := resultStarted
	if res.Deduplicated {
		status = resultDeduplicated
	}
	s.metrics.starts.WithLabelValues(req.WorkflowType, status).Inc()
	return Run{Playbook: req.WorkflowType, WorkflowID: req.WorkflowID, RunID: res.RunID, Status: status, URL: s.runURL(req.WorkflowID, res.RunID)}, true
}

// shed answers 503 with Retry-After, and returns true, while the playbook task queue is behind: its
// backlog plus this intake's own starts in flight at MaxBacklog, or its oldest task waiting
// MaxBacklogAge. Past either a 202 would promise a side effect that waits behind all of them. Nothing
// has been started when it refuses, so the sender's retry is an ordinary first attempt.
func (s *Server) shed(w http.ResponseWriter, route string) bool {
	if s.backlog == nil || (s.maxBacklog <= 0 && s.maxBacklogAge <= 0) {
		return false
	}
	n, oldest, ok := s.backlog.Backlog()
	if !ok {
		return false
	}
	waiting := n + s.inflight.Load()
	var reason string
	switch {
	case s.maxBacklog > 0 && waiting >= s.maxBacklog:
		s.metrics.rejections.WithLabelValues(route, rejectBacklog).Inc()
		reason = fmt.Sprintf("%d playbook tasks are waiting (limit %d)", waiting, s.maxBacklog)
	case s.maxBacklogAge > 0 && oldest >= s.maxBacklogAge:
		s.metrics.rejections.WithLabelValues(route, rejectBacklogAge).Inc()
		reason = fmt.Sprintf("a playbook task has waited %s (limit %s)", oldest.Round(100*time.Millisecond), s.maxBacklogAge)
	default:
		return false
	}
	w.Header().Set("Retry-After", s.retryAfter)
	writeError(w, http.StatusServiceUnavailable, "Interlock is behind: "+reason+"; nothing was started, retry after "+s.retryAfter+" s", "")
	return true
}

// ruleChanges is the update the rules' own changes (severity, status, owner, tags, classification) add
// up to, with the rules that made them.
func ruleChanges(inc incident.Incident, res rules.Result) workflows.RuleChanges {
	update := activities.UpdateRequest{IncidentID: inc.ID, IncidentARMID: inc.ARMID, Number: inc.Number}
	var names []string
	for _, c := range res.Changes {
		if !slices.Contains(names, c.Rule) {
			names = append(names, c.Rule)
		}
		switch c.Field {
		case "severity":
			update.Severity = inc.Severity
		case "status":
			update.Status = inc.Status
		case "owner":
			update.Owner = &activities.Owner{Email: inc.Owner.Email, UserPrincipalName: inc.Owner.UserPrincipalName, AssignedTo: inc.Owner.AssignedTo}
		case "labels":
			update.AddTags = append(update.AddTags, c.To)
		}
	}
	if cl := res.Classification; cl != nil {
		update.Classification, update.ClassificationReason, update.ClassificationComment = cl.Classification, cl.Reason, cl.Comment
	}
	return workflows.RuleChanges{Rules: names, Update: update}
}

// startRuleChanges starts the rules' changes as a run of their own (workflows.RuleChangesName), once
// per incident event: when no playbook starts to carry them, or the one that would is already running.
func (s *Server) startRuleChanges(w http.ResponseWriter, r *http.Request, ev incident.Event, inc incident.Incident, changes workflows.RuleChanges, resp *Response) bool {
	run, ok := s.start(w, r, StartRequest{
		WorkflowID:       workflows.RuleChangesName + "/" + strings.ToValidUTF8(inc.ID, "?") + "/" + eventKey(ev, inc),
		WorkflowType:     workflows.RuleChangesName,
		Input:            changes,
		SearchAttributes: workflows.SearchAttributesFor(workflows.RuleChangesName, inc),
		Memo:             map[string]any{"interlockEvent": string(ev.Type), "interlockRules": changes.Rules},
	}, len(resp.Runs))
	if ok {
		resp.WriteBack = &run
	}
	return ok
}

// eventKey tells one delivery of an incident event from another, for playbooks that run per event. A
// sender that gives no eventUniqueId still gets one run per status change: the status and the
// incident's last-modified time stand in for it, and a redelivery of the same update repeats both.
func eventKey(ev incident.Event, inc incident.Incident) string {
	if ev.ID != "" {
		return ev.ID
	}
	key := strings.ToLower(string(ev.Type)) + "-" + strings.ToLower(inc.Status)
	if !inc.LastModified.IsZero() {
		key += "@" + inc.LastModified.UTC().Format(time.RFC3339Nano)
	}
	return key
}

// runURL links to the run's history in the Temporal UI. Workflow IDs contain "/", which the UI expects
// percent-encoded within one path segment.
func (s *Server) runURL(workflowID, runID string) string {
	if s.uiURL == "" {
		return ""
	}
	return s.uiURL + "/namespaces/" + url.PathEscape(s.namespace) + "/workflows/" +
		url.PathEscape(workflowID) + "/" + url.PathEscape(runID) + "/history"
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

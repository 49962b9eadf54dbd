// Package intake is Interlock's HTTP front door: it takes incident webhooks (Microsoft Sentinel's
// incident trigger, a raw Defender for IoT alert, or Interlock's own incident form), runs the
// automation rules and starts the selected playbooks on Temporal.
//
// Nothing is accepted (202) until Temporal has durably recorded every start. Every start uses a
// deterministic workflow ID, so a redelivered webhook, a retried request or concurrent duplicates come
// back as "deduplicated" instead of running a playbook twice. That is also what makes the 503 safe to
// retry when one of several starts failed after others succeeded.
//
// Routes:
//
//	POST /v1/incidents              rules decide; 202 with the runs, 200 when no playbook was selected
//	POST /v1/playbooks/{name}/runs  that playbook on the incident as sent (no rules); 202, 404 if unknown
//	POST /v1/alerts                 Defender for IoT alert records (one, a JSON array or NDJSON) become
//	                                Interlock's own incidents, one per alert ID; answered per record
//	GET  /v1/incidents              Interlock's own incidents (see incidents.go for the rest of /v1/incidents/…)
//	GET  /healthz                   process alive
//	GET  /readyz                    rules loaded and Temporal reachable, else 503 with the reason
//	GET  /metrics                   Prometheus
//
// /v1 routes (and mounts not marked Public) need "Authorization: Bearer <token>" or an HMAC signature
// (X-Interlock-Timestamp: <unix seconds>, X-Interlock-Signature: sha256=<hex HMAC-SHA256 of
// timestamp "." body>). Errors are JSON {"error": "...", "field": "..."} and change nothing: 400 bad
// incident (field names it), 401, 404, 405 (with Allow), 413, 415, 500 (Temporal refused a start, or a
// rule names an unregistered playbook), 503 with Retry-After (Temporal unavailable, no rules loaded, or
// the playbook task queue behind, Options.MaxBacklog and MaxBacklogAge: nothing is started then).
package intake

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// RuleEvaluator decides, for one incident event, which rules match, how they change the incident and
// which playbooks to run (a *rules.Set).
type RuleEvaluator interface {
	Evaluate(ev incident.Event, now time.Time) rules.Result
}

// loadedRules is implemented by *rules.Set, whose Current is nil until a rules file has loaded. Without
// rules every incident would be answered "nothing to do", so the intake reports itself not ready and
// answers 503 instead: the sender retries and nothing is silently dropped.
type loadedRules interface {
	Current() *rules.Engine
}

// rulesLoaded says whether the evaluator has rules; evaluators that cannot tell always have them.
func (s *Server) rulesLoaded() bool {
	lr, ok := s.rules.(loadedRules)
	return !ok || lr.Current() != nil
}

// DefaultMaxBodyBytes is the largest body accepted when Options.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// retryAfterUnavailable is what a 503 asks the sender to wait while Temporal (or the rules) are not
// there: long enough for a Temporal frontend restart to be noticed, short enough that Sentinel's own
// retry budget is not used up.
const retryAfterUnavailable = "5"

// DefaultRetryAfter is what a 503 for a backlog past Options.MaxBacklog asks the sender to wait when
// Options.RetryAfter is zero: the workers drain a bounded backlog in seconds, and senders that wait
// longer than it takes leave the workers idle.
const DefaultRetryAfter = 2 * time.Second

// BacklogReader tells how many workflow tasks wait in the playbook task queue (a *backlog.Monitor); ok
// is false while that is not known, and then nothing is held back: an unreachable Temporal is answered
// by the start itself.
type BacklogReader interface {
	Backlog() (count int64, oldest time.Duration, ok bool)
}

// Options are the Server's dependencies and settings.
type Options struct {
	Rules     RuleEvaluator
	Playbooks *playbooks.Registry
	Starter   Starter
	Auth      AuthConfig
	// MaxBodyBytes bounds a request body (413 above); zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Registerer receives the intake's metrics and is served on /metrics, so it must also be a
	// prometheus.Gatherer (a *prometheus.Registry is). Nil means a private registry.
	Registerer prometheus.Registerer
	// UIURL is the Temporal UI base URL for run links; empty leaves links out.
	UIURL string
	// Namespace is the Temporal namespace of the runs, for links; empty means "default".
	Namespace string
	// Ready reports whether Temporal is reachable, for /readyz. Nil means always.
	Ready func(ctx context.Context) error
	// Mounts are extra handlers by path: a key ending in "/" matches that prefix, any other key exactly.
	// They sit behind the same authentication as /v1 unless the handler implements PublicRoute (see
	// Public), as the one-click answer handler does: it checks its own signed token.
	Mounts map[string]http.Handler
	// Now is the clock for rules and signature timestamps; nil means time.Now.
	Now func() time.Time
	// StartTimeout bounds each workflow start; zero means 10 s. Past it the start counts as unavailable.
	StartTimeout time.Duration
	// RuleChanges makes the intake write the rules' own changes to the incident, through the
	// workflows.RuleChangesName engine workflow (a worker must run it).
	RuleChanges bool
	// Incidents holds Interlock's own incidents; nil turns off /v1/alerts and /v1/incidents/{id}.
	Incidents IncidentStore
	// IncidentRules are the incident creation rules (a *rules.Set); required with Incidents.
	IncidentRules IncidentDecider
	// Assets is the asset directory; nil when none is configured.
	Assets AssetDirectory
	// MaxAlertBatchBytes bounds a POST /v1/alerts body; zero means DefaultMaxAlertBatchBytes.
	MaxAlertBatchBytes int64

	// Backlog, MaxBacklog and MaxBacklogAge bound latency under overload: while the backlog plus this
	// intake's starts in flight is at or above MaxBacklog, or its oldest task has waited MaxBacklogAge,
	// new incidents, runs and alert batches are answered 503 with Retry-After before anything is
	// started. A nil Backlog, or zero, turns a check off.
	Backlog       BacklogReader
	MaxBacklog    int
	MaxBacklogAge time.Duration
	// RetryAfter is the Retry-After of a 503 for the backlog, rounded up to whole seconds; zero means
	// DefaultRetryAfter.
	RetryAfter time.Duration
}

// PublicRoute is implemented by a mounted handler that authenticates requests itself and must be
// reachable without intake credentials.
type PublicRoute interface {
	PublicRoute() bool
}

// Public marks h as a public mount: the intake lets requests through to it without credentials.
func Public(h http.Handler) http.Handler { return publicHandler{h} }

type publicHandler struct{ http.Handler }

func (publicHandler) PublicRoute() bool { return true }

// Server is the intake's http.Handler.
type Server struct {
	rules        RuleEvaluator
	playbooks    *playbooks.Registry
	starter      Starter
	auth         authenticator
	maxBody      int64
	log          *slog.Logger
	metrics      *metrics
	uiURL        string
	namespace    string
	ready        func(context.Context) error
	mounts       []mount
	now          func() time.Time
	startTimeout time.Duration
	ruleChanges  bool

	incidents     IncidentStore
	incidentRules IncidentDecider
	assets        AssetDirectory
	maxAlertBody  int64

	backlog       BacklogReader
	maxBacklog    int64
	maxBacklogAge time.Duration
	retryAfter    string // for a backlog past the bounds
	// inflight counts this intake's starts and incident updates waiting for Temporal: work accepted
	// since the last backlog read that the read cannot show yet.
	inflight atomic.Int64
}

type mount struct {
	pattern string
	handler http.Handler
	public  bool
}

var _ http.Handler = (*Server)(nil)

// Routes the server owns; a mount may not shadow them.
const (
	routeIncidents = "/v1/incidents"
	routeAlerts    = "/v1/alerts"
	routeRuns      = "/v1/playbooks/{name}/runs"
	runsPrefix     = "/v1/playbooks/"
	routeHealth    = "/healthz"
	routeReady     = "/readyz"
	routeMetrics   = "/metrics"
)

// New checks opts and builds a Server.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Rules == nil:
		return nil, errors.New("intake: Options.Rules is required")
	case opts.Playbooks == nil:
		return nil, errors.New("intake: Options.Playbooks is required")
	case opts.Starter == nil:
		return nil, errors.New("intake: Options.Starter is required")
	case opts.MaxBodyBytes < 0:
		return nil, fmt.Errorf("intake: Options.MaxBodyBytes must not be negative, got %d", opts.MaxBodyBytes)
	case opts.MaxBacklog < 0 || opts.MaxBacklogAge < 0 || opts.RetryAfter < 0:
		return nil, errors.New("intake: Options.MaxBacklog, MaxBacklogAge and RetryAfter must not be negative")
	}
	m, err := newMetrics(opts.Registerer, opts.Backlog)
	if err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	s := &Server{
		rules:        opts.Rules,
		playbooks:    opts.Playbooks,
		starter:      opts.Starter,
		auth:         newAuthenticator(opts.Auth),
		maxBody:      cmp.Or(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		log:          cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		metrics:      m,
		uiURL:        strings.TrimRight(opts.UIURL, "/"),
		namespace:    cmp.Or(opts.Namespace, "default"),
		ready:        opts.Ready,
		now:          opts.Now,
		startTimeout: cmp.Or(opts.StartTimeout, 10*time.Second),
		ruleChanges:  opts.RuleChanges,

		incidents:     opts.Incidents,
		incidentRules: opts.IncidentRules,
		assets:        opts.Assets,
		maxAlertBody:  cmp.Or(opts.MaxAlertBatchBytes, DefaultMaxAlertBatchBytes),

		backlog:       opts.Backlog,
		maxBacklog:    int64(opts.MaxBacklog),
		maxBacklogAge: opts.MaxBacklogAge,
		retryAfter:    strconv.Itoa(int(math.Ceil(cmp.Or(opts.RetryAfter, DefaultRetryAfter).Seconds()))),
	}
	if opts.Incidents != nil && opts.IncidentRules == nil {
		return nil, errors.New("intake: Options.IncidentRules is required with Options.Incidents")
	}
	if s.now == nil {
		s.now = time.Now
	}
	for pattern, h := range opts.Mounts {
		if !strings.HasPrefix(pattern, "/") || h == nil {
			return nil, fmt.Errorf("intake: mount %q: the path must start with / and the handler must not be nil", pattern)
		}
		for _, own := range []string{routeIncidents, routeAlerts, runsPrefix, routeHealth, routeReady, routeMetrics} {
			if strings.HasPrefix(own, pattern) || strings.HasPrefix(pattern, own) {
				return nil, fmt.Errorf("intake: mount %q overlaps the intake's own route %s", pattern, own)
			}
		}
		pr, ok := h.(PublicRoute)
		s.mounts = append(s.mounts, mount{pattern: pattern, handler: h, public: ok && pr.PublicRoute()})
	}
	// Longest pattern first, so the most specific mount wins.
	slices.SortFunc(s.mounts, func(a, b mount) int { return cmp.Compare(len(b.pattern), len(a.pattern)) })

	switch {
	case opts.Auth.AllowUnauthenticated:
		s.log.Warn("intake accepts unauthenticated /v1 requests; use only on a loopback listener")
	case !s.auth.configured():
		s.log.Warn("intake has no bearer token and no HMAC secret configured; every /v1 request will be refused")
	}
	return s, nil
}

// ServeHTTP routes the request and records its metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	route := s.serve(rec, r)
	s.metrics.observeRequest(route, cmp.Or(rec.code, http.StatusOK), time.Since(began))
}

// serve dispatches and returns the route label for the metrics: a fixed template, never the raw path,
// so hostile paths cannot blow up label cardinality.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == routeHealth:
		if allowMethods(w, r, http.MethodGet, http.MethodHead) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "ok\n")
		}
		return routeHealth
	case p == routeReady:
		if allowMethods(w, r, http.MethodGet, http.MethodHead) {
			s.serveReady(w, r)
		}
		return routeReady
	case p == routeMetrics:
		if allowMethods(w, r, http.MethodGet, http.MethodHead) {
			s.metrics.handler.ServeHTTP(w, r)
		}
		return routeMetrics
	case p == routeIncidents:
		if allowMethods(w, r, http.MethodPost, http.MethodGet) {
			if body, ok := s.admit(w, r, s.maxBody); ok {
				if r.Method == http.MethodGet {
					s.serveIncidentList(w, r)
				} else {
					s.serveIncidents(w, r, body)
				}
			}
		}
		return routeIncidents
	case p == routeAlerts:
		if allowMethods(w, r, http.MethodPost) {
			if body, ok := s.admit(w, r, s.maxAlertBody); ok {
				s.serveAlerts(w, r, body)
			}
		}
		return routeAlerts
	case strings.HasPrefix(p, incidentsPrefix) && len(p) > len(incidentsPrefix):
		if body, ok := s.admit(w, r, maxChangeBody); ok {
			r.Body = io.NopCloser(bytes.NewReader(body))
			s.serveIncident(w, r, strings.TrimPrefix(p, incidentsPrefix))
		}
		return routeIncident
	case strings.HasPrefix(p, runsPrefix):
		name, ok := strings.CutSuffix(strings.TrimPrefix(p, runsPrefix), "/runs")
		if !ok || name == "" || strings.Contains(name, "/") {
			break
		}
		if allowMethods(w, r, http.MethodPost) {
			if body, ok := s.admit(w, r, s.maxBody); ok {
				s.serveRun(w, r, name, body)
			}
		}
		return routeRuns
	}
	for _, m := range s.mounts {
		if p == m.pattern || (strings.HasSuffix(m.pattern, "/") && strings.HasPrefix(p, m.pattern)) {
			if m.public {
				m.handler.ServeHTTP(w, r)
			} else if body, ok := s.admit(w, r, s.maxBody); ok {
				// admit consumed the body to verify a signature; hand the handler the same bytes.
				r.Body = io.NopCloser(bytes.NewReader(body))
				m.handler.ServeHTTP(w, r)
			}
			return m.pattern
		}
	}
	// Unknown /v1 paths still demand credentials, so the API's shape is not probeable anonymously.
	if strings.HasPrefix(p, "/v1/") {
		if _, ok := s.admit(w, r, s.maxBody); !ok {
			return "other"
		}
	}
	writeError(w, http.StatusNotFound, "no such route: "+r.Method+" "+p, "")
	return "other"
}

// allowMethods answers 405 with Allow unless the request uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use "+strings.Join(methods, " or "), "")
	return false
}

// admit authenticates the request and reads its body within the size limit. It answers 401 or 413 and
// returns false when the request must go no further. A bearer token or a valid signature suffices.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	viaBearer := s.auth.open || s.auth.bearer(r)
	var timestamp string
	if !viaBearer {
		if !s.auth.hasSignature(r) {
			s.unauthorized(w, r, "missing or invalid credentials: send Authorization: Bearer <token> or sign the request")
			return nil, false
		}
		ts, fresh := s.auth.checkTimestamp(r, s.now())
		if !fresh {
			s.unauthorized(w, r, TimestampHeader+" must be Unix seconds within the replay window of the intake's clock")
			return nil, false
		}
		timestamp = ts
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit), "")
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "cannot read request body", "")
		return nil, false
	}
	if !viaBearer && !s.auth.verifySignature(r, timestamp, body) {
		s.unauthorized(w, r, "invalid "+SignatureHeader)
		return nil, false
	}
	return body, true
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	// Never log or echo the credentials themselves: only that they failed, and from where.
	s.log.Warn("intake request refused", "reason", msg, "path", r.URL.Path, "remote", r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", `Bearer realm="interlock"`)
	writeError(w, http.StatusUnauthorized, msg, "")
}

// checkJSON answers 415 unless the body is declared application/json (parameters such as charset are
// fine).
func checkJSON(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json", "")
		return false
	}
	return true
}

// parseEvent parses the body with incident.Parse, which takes all three forms the intake promises:
// Sentinel's incident-trigger body, a raw Defender for IoT alert record, and Interlock's own form. The
// trigger body alone (incident.ParseEvent) would shut out senders that are not Sentinel.
func parseEvent(w http.ResponseWriter, body []byte) (incident.Event, bool) {
	ev, err := incident.Parse(body)
	if err != nil {
		if fe, ok := errors.AsType[*incident.FieldError](err); ok {
			writeError(w, http.StatusBadRequest, fe.Error(), fe.Path)
		} else {
			writeError(w, http.StatusBadRequest, "invalid incident: "+err.Error(), "")
		}
		return incident.Event{}, false
	}
	if ev.Incident.ID == "" {
		// Workflow IDs are derived from the incident ID; without one dedupe would be impossible.
		writeError(w, http.StatusBadRequest, "incident has no ID", "incident.id")
		return incident.Event{}, false
	}
	return ev, true
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
	if !s.rulesLoaded() {
		w.Header().Set("Retry-After", retryAfterUnavailable)
		writeError(w, http.StatusServiceUnavailable, "no automation rules are loaded; nothing was started", "")
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
	if s.ruleChanges && len(res.Changes) > 0 && !s.startRuleChanges(w, r, ev, inc, res, &resp) {
		return
	}
	if !s.startAll(w, r, ev, inc, pbs, ruleNames, &resp) {
		return
	}
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
	if !s.startAll(w, r, ev, ev.Incident, []playbooks.Playbook{p}, nil, &resp) {
		return
	}
	s.log.Info("playbook run requested", "playbook", p.Name, "incident", ev.Incident.ID, "status", resp.Runs[0].Status)
	writeJSON(w, http.StatusAccepted, resp)
}

// startAll starts the playbooks in order, appending to resp.Runs. It stops at the first failure and
// answers 503 (Temporal unavailable, with Retry-After) or 500 (Temporal refused the start). Runs
// started before the failure stay started: the sender's retry gets them back as deduplicated and starts
// the rest, which is why a partial failure must never be answered with 2xx.
func (s *Server) startAll(w http.ResponseWriter, r *http.Request, ev incident.Event, inc incident.Incident, pbs []playbooks.Playbook, ruleNames []string, resp *Response) bool {
	for _, p := range pbs {
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
		run, ok := s.start(w, r, req, len(resp.Runs))
		if !ok {
			return false
		}
		resp.Runs = append(resp.Runs, run)
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

// startRuleChanges starts the write-back of the rules' own changes (severity, status, owner, tags,
// classification) to the incident, once per incident event, before the playbooks.
func (s *Server) startRuleChanges(w http.ResponseWriter, r *http.Request, ev incident.Event, inc incident.Incident, res rules.Result, resp *Response) bool {
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
	run, ok := s.start(w, r, StartRequest{
		WorkflowID:       workflows.RuleChangesName + "/" + strings.ToValidUTF8(inc.ID, "?") + "/" + eventKey(ev, inc),
		WorkflowType:     workflows.RuleChangesName,
		Input:            workflows.RuleChanges{Rules: names, Update: update},
		SearchAttributes: workflows.SearchAttributesFor(workflows.RuleChangesName, inc),
		Memo:             map[string]any{"interlockEvent": string(ev.Type), "interlockRules": names},
	}, 0)
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

// serveReady answers 200 when rules are loaded and Temporal is reachable, else 503 with the reason.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if !s.rulesLoaded() {
		w.Header().Set("Retry-After", retryAfterUnavailable)
		writeError(w, http.StatusServiceUnavailable, "not ready: no automation rules are loaded", "")
		return
	}
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Warn("intake not ready", "err", err)
			w.Header().Set("Retry-After", retryAfterUnavailable)
			writeError(w, http.StatusServiceUnavailable, "not ready: Temporal: "+err.Error(), "")
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, code int, msg, field string) {
	writeJSON(w, code, errorBody{Error: msg, Field: field})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

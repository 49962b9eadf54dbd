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
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
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

// rulesReady answers 503 with msg, and returns false, while no rules are loaded.
func (s *Server) rulesReady(w http.ResponseWriter, msg string) bool {
	if s.rulesLoaded() {
		return true
	}
	w.Header().Set("Retry-After", retryAfterUnavailable)
	writeError(w, http.StatusServiceUnavailable, msg, "")
	return false
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
	// Recorder, when set, records every accepted incident event in the workbook's store (best effort).
	Recorder Recorder

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
	recorder      Recorder
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
		recorder:      opts.Recorder,
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

// serveReady answers 200 when rules are loaded and Temporal is reachable, else 503 with the reason.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if !s.rulesReady(w, "not ready: no automation rules are loaded") {
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

// Package azurestandin is a local stand-in for the Azure APIs Interlock calls: the Microsoft Entra ID token
// endpoint (client credentials with a secret or a federated workload-identity assertion, and the App
// Service style managed-identity endpoint), and Azure Resource Manager for Microsoft Sentinel incidents
// and their comments and for Defender for IoT alerts. Tests and `interlock dev` talk to it over real
// HTTPS (azcore's bearer-token policy and MSAL refuse plain http; LocalCertificate makes a certificate).
//
// It holds clients to the real services' documented rules rather than accepting anything: MSAL's
// OpenID discovery and token requests with Entra's error bodies (AADSTS codes, never the secret
// echoed); opaque bearer tokens that expire; ARM's Authorization and api-version checks and its
// {"error":{"code","message"}} bodies; case-insensitive resource IDs; the Sentinel incident schema
// (required properties, enums, read-only properties ignored, closing needs a classification), etags
// with If-Match and 412; comments idempotent by ID and capped at 100; the Defender for IoT alert PATCH.
// Faults (hangs, 429 with Retry-After, 503, an analyst editing the incident just before a write) can
// be injected. GET / shows what it holds as a web page, clearly marked as not Azure.
//
// Clients point azidentity at it with cloud.Configuration{ActiveDirectoryAuthorityHost: URL + "/"} and
// DisableInstanceDiscovery (otherwise MSAL asks login.microsoftonline.com about the host), and send
// Resource Manager requests to URL instead of https://management.azure.com.
package azurestandin

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interlock-soar/interlock/internal/standin"
)

// Options configures a Server.
type Options struct {
	// TenantID, ClientID and ClientSecret are the one app registration the stand-in knows. An empty
	// ClientSecret refuses every secret.
	TenantID     string
	ClientID     string
	ClientSecret string
	// FederatedToken is the workload-identity assertion accepted for ClientID; empty: refused.
	FederatedToken string
	// ManagedIdentityHeader is the X-IDENTITY-HEADER value of /msi/token; empty: no such endpoint.
	ManagedIdentityHeader string
	// Audience is the one resource tokens are issued for (default "https://management.azure.com").
	Audience string
	// TokenTTL is how long an access token is valid (default 1h).
	TokenTTL time.Duration
	// File, when set, holds incidents, comments, alerts and the hashes of live tokens between runs
	// (JSON, written at most once a second and on Close).
	File string
	// Logger receives one debug line per request (never a header value or a body); nil logs nothing.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// PageUser and PagePassword protect the page at GET / with basic auth; both empty: open.
	PageUser     string
	PagePassword string
}

// Faults are misbehaviours the next requests show. Each request takes at most one, in the order of
// the fields; InjectFaults replaces whatever was still pending.
type Faults struct {
	// Match picks the requests that may take a fault. Nil: every Resource Manager request (under
	// /subscriptions/); token and OpenID requests never take faults unless Match says so.
	Match func(*http.Request) bool
	// Hang delays the next Hang requests by HangFor. They are served after the delay and carried out
	// even if the client gave up meanwhile, as a real server would.
	Hang    int
	HangFor time.Duration
	// TooManyRequests answers the next requests 429 (code TooManyRequests) with Retry-After in whole
	// seconds (when RetryAfter > 0), without doing anything.
	TooManyRequests int
	RetryAfter      time.Duration
	// Unavailable answers the next requests 503, without doing anything.
	Unavailable int
	// ConcurrentEdit makes the next incident PUTs find the incident edited by someone else just before
	// (new etag, as an analyst in the portal would): a write under the old etag gets 412.
	ConcurrentEdit int
}

// InjectFaults sets the faults the next requests show.
func (s *Server) InjectFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Request is one request served, as Requests reports it: never a header value or a body.
type Request struct {
	Method string
	Path   string
	Query  string // with the values of secret-looking parameters replaced
	Host   string
	Status int
	At     time.Time // when it was answered
	Fault  string    // the injected fault it took, if any
}

// maxRequests bounds the request log of a long-running dev stack.
const maxRequests = 10000

// Server is the stand-in; it is an http.Handler.
type Server struct {
	opts Options
	log  *slog.Logger
	file *standin.StateFile
	done chan struct{} // closed by Close: pending hangs end
	once sync.Once

	mu       sync.Mutex
	st       *state
	issued   []string
	requests []Request
	faults   Faults
}

// Open makes a Server, loading Options.File when it exists.
func Open(opts Options) (*Server, error) {
	if opts.Audience == "" {
		opts.Audience = "https://management.azure.com"
	}
	opts.Audience = strings.TrimRight(opts.Audience, "/")
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, log: standin.Logger(opts.Logger), st: newState(), done: make(chan struct{})}
	s.file = standin.NewStateFile(opts.File, "azurestandin", s.log, s.snapshot)
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// New is Open for callers that want a server in any case: if the file cannot be loaded, the error is
// logged and the server keeps its state in memory only, leaving the file untouched.
func New(opts Options) *Server {
	return standin.OpenOrMemory(opts, Open, func(o Options) Options { o.File = ""; return o }, opts.Logger, "azurestandin")
}

// Requests returns the requests served, in the order they were answered (the last 10,000).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// IssuedTokens returns every access token this server handed out, for tests that scan for leaks.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// ServeHTTP serves the token endpoints, Resource Manager under /subscriptions/ and the page at /.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := standin.NewStatusRecorder(w)
	route := parseARMPath(r.URL.Path)
	isARM := len(r.URL.Path) >= len("/subscriptions/") && strings.EqualFold(r.URL.Path[:len("/subscriptions/")], "/subscriptions/")
	fault := s.takeFault(r, isARM, r.Method == http.MethodPut && route.kind == routeIncident)
	defer func() {
		s.record(r, rec.Status, fault.name())
		s.log.Debug("azurestandin request", "method", r.Method, "path", r.URL.Path, "status", rec.Status, "fault", fault.name())
	}()

	switch fault.kind {
	case faultHang:
		// Read the body first: net/http notices a client hanging up only once the body is consumed, and
		// the request is to be carried out in any case.
		if data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1)); err == nil {
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		t := time.NewTimer(fault.d)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		}
	case faultTooMany:
		if fault.d > 0 {
			secs := int((fault.d + time.Second - 1) / time.Second) // Retry-After has whole seconds only
			rec.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		writeARMError(rec, http.StatusTooManyRequests, "TooManyRequests", "Too many requests; retry after the interval in the Retry-After header (injected fault).")
		return
	case faultUnavailable:
		writeARMError(rec, http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable (injected fault).")
		return
	}

	switch p := r.URL.Path; {
	case isARM:
		s.serveARM(rec, r, route, fault.kind == faultConcurrentEdit)
	case p == "/msi/token":
		s.serveManagedIdentity(rec, r)
	case strings.HasSuffix(p, "/v2.0/.well-known/openid-configuration"):
		s.serveOpenIDConfiguration(rec, r)
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		s.serveToken(rec, r)
	case p == "/":
		s.servePage(rec, r)
	default:
		writeARMError(rec, http.StatusNotFound, "NotFound", "The stand-in serves /{tenant}/oauth2/v2.0/token, /msi/token, /subscriptions/… and the page at /.")
	}
}

type faultKind int

const (
	faultNone faultKind = iota
	faultHang
	faultTooMany
	faultUnavailable
	faultConcurrentEdit
)

type takenFault struct {
	kind faultKind
	d    time.Duration
}

func (f takenFault) name() string {
	switch f.kind {
	case faultHang:
		return "Hang"
	case faultTooMany:
		return "TooManyRequests"
	case faultUnavailable:
		return "Unavailable"
	case faultConcurrentEdit:
		return "ConcurrentEdit"
	}
	return ""
}

func (s *Server) takeFault(r *http.Request, isARM, incidentPut bool) takenFault {
	s.mu.Lock()
	f := s.faults
	s.mu.Unlock()
	// Match runs outside the lock: it is the caller's code and may be slow or call back.
	eligible := isARM
	if f.Match != nil {
		eligible = f.Match(r)
	}
	if !eligible {
		return takenFault{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &s.faults
	switch {
	case p.Hang > 0:
		p.Hang--
		return takenFault{faultHang, p.HangFor}
	case p.TooManyRequests > 0:
		p.TooManyRequests--
		return takenFault{faultTooMany, p.RetryAfter}
	case p.Unavailable > 0:
		p.Unavailable--
		return takenFault{kind: faultUnavailable}
	case p.ConcurrentEdit > 0 && incidentPut:
		p.ConcurrentEdit--
		return takenFault{kind: faultConcurrentEdit}
	}
	return takenFault{}
}

func (s *Server) record(r *http.Request, status int, fault string) {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: redactQuery(r.URL.RawQuery), Host: r.Host,
		Status: status, At: s.opts.Now().UTC(), Fault: fault}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) >= maxRequests {
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-maxRequests+1:]...)
	}
	s.requests = append(s.requests, req)
}

// redactQuery keeps a query for the log with the values of parameters that could carry a credential
// replaced: no real client sends one in a URL, but a wrong one might.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "[unparsable query]"
	}
	for k := range q {
		lk := strings.ToLower(k)
		for _, word := range []string{"token", "secret", "assertion", "password", "sig", "code", "key", "auth"} {
			if strings.Contains(lk, word) {
				q[k] = []string{"[redacted]"}
				break
			}
		}
	}
	return q.Encode()
}

// Close writes any pending change to the state file and ends pending hangs. The server keeps
// answering; Close is for the end of its life.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.done) })
	return s.file.Close()
}

const maxBodyBytes = 4 << 20 // Resource Manager's request size limit

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatGUID(b[:])
}

// stableGUID derives a GUID from a name, for object IDs that stay the same across runs.
func stableGUID(name string) string {
	sum := sha256.Sum256([]byte("azurestandin:" + name))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return formatGUID(b)
}

func formatGUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func equalSecret(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

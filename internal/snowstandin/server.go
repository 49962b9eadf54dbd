// Package snowstandin is a local stand-in for a ServiceNow instance's Table API: what `interlock dev` runs
// when no instance is configured, and what tests and benchmarks talk to over real HTTP.
//
// It keeps records of any table in memory (optionally in a JSON file), numbers them like the platform
// (INC0010001, CHG0030001, ...), and holds clients to the Table API's rules: basic or bearer auth,
// Accept and Content-Type on writes, a JSON object of string values, {"result": …} bodies, 201 with a
// Location header on create, ServiceNow's {"error":{"message","detail"}} on failure. Queries follow
// the encoded-query subset documented in query.go, including the platform's habit of silently dropping
// invalid parts. Faults (503, 429, hangs, lost responses) can be injected. GET / shows the records as
// a web page, clearly marked as not a real instance.
package snowstandin

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interlock-soar/interlock/internal/standin"
)

// CreatedAtField is a stand-in-only field set on every record at creation: the exact creation time,
// RFC 3339 with nanoseconds (UTC). A real instance has no such field; benchmarks read it to time a
// record's creation more precisely than sys_created_on's whole seconds.
const CreatedAtField = "u_interlock_created_at"

// Options configures a Server.
type Options struct {
	// Username and Password enable basic auth; Token enables bearer auth. With none set, every request
	// is let in (only for a stand-in bound to loopback).
	Username string
	Password string
	Token    string
	// File, when set, holds the records between runs (JSON, written after every change).
	File string
	// Logger receives one debug line per request (never a header value); nil logs nothing.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OnCreate, when set, is called after each record is created, with a copy of it and the time.
	OnCreate func(table string, rec map[string]string, at time.Time)
}

// Faults are misbehaviours the next API requests show. Each request takes at most one, in the order
// of the fields; InjectFaults replaces whatever was still pending.
type Faults struct {
	// Hang delays the next Hang requests by HangFor before they are served. A request whose client
	// gives up meanwhile is still carried out, as a real instance would.
	Hang    int
	HangFor time.Duration
	// Unavailable answers the next requests 503, without doing anything.
	Unavailable int
	// TooManyRequests answers the next requests 429 with Retry-After (whole seconds, if RetryAfter > 0).
	TooManyRequests int
	RetryAfter      time.Duration
	// DropResponse carries out the next writes (POST, PATCH, PUT, DELETE) and then closes the
	// connection without answering: the ambiguous failure that tempts a client into a duplicate.
	DropResponse int
}

// InjectFaults sets the faults the next requests show.
func (s *Server) InjectFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Server is the stand-in; it is an http.Handler.
type Server struct {
	opts Options
	log  *slog.Logger
	file *standin.StateFile

	mu       sync.Mutex
	tables   map[string]*table
	faults   Faults
	requests int
}

var (
	tableNameRe = regexp.MustCompile(`^[a-z0-9_]+$`)
	fieldNameRe = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// Open makes a Server, loading Options.File when it exists.
func Open(opts Options) (*Server, error) {
	s := &Server{opts: opts, log: standin.Logger(opts.Logger), tables: map[string]*table{}}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	s.file = standin.NewStateFile(opts.File, "snowstandin", s.log, s.snapshot)
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// New is Open for callers that want a server in any case: if the file cannot be loaded, the error is
// logged and the server keeps its records in memory only, leaving the file untouched.
func New(opts Options) *Server {
	return standin.OpenOrMemory(opts, Open, func(o Options) Options { o.File = ""; return o }, opts.Logger, "snowstandin")
}

// Requests counts the API requests received, faulted ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Records returns copies of a table's records in creation order, journal fields empty as the API
// shows them.
func (s *Server) Records(tableName string) []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[tableName]
	if t == nil {
		return nil
	}
	out := make([]map[string]string, len(t.Records))
	for i, r := range t.Records {
		out[i] = r.view(nil, false)
	}
	return out
}

// CreatedCount is the number of records in a table.
func (s *Server) CreatedCount(tableName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tables[tableName]; t != nil {
		return len(t.Records)
	}
	return 0
}

// CreatedAt returns when each record of a table was created, in creation order.
func (s *Server) CreatedAt(tableName string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[tableName]
	if t == nil {
		return nil
	}
	out := make([]time.Time, len(t.Records))
	for i, r := range t.Records {
		out[i] = r.Created
	}
	return out
}

// Journal returns the entries of a record's journal field (work_notes, comments), oldest first.
func (s *Server) Journal(tableName, sysID, field string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.tables[tableName].find(sysID)
	if r == nil {
		return nil
	}
	var out []string
	for _, e := range r.Journal {
		if e.Field == field {
			out = append(out, e.Text)
		}
	}
	return out
}

// ServeHTTP serves the Table API under /api/now/table (also /api/now/v1 and /v2) and the web pages.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := standin.NewStatusRecorder(w)
	defer func() {
		s.log.Debug("snowstandin request", "method", r.Method, "path", r.URL.Path, "status", rec.Status)
	}()
	if tableName, sysID, ok := apiPath(r.URL.Path); ok {
		s.serveAPI(rec, r, tableName, sysID)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(rec, http.StatusBadRequest, "Requested URI does not represent any resource", r.URL.Path)
		return
	}
	s.servePage(rec, r)
}

// apiPath splits /api/now[/vN]/table/{table}[/{sys_id}].
func apiPath(p string) (tableName, sysID string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/api/now/")
	if !ok {
		return "", "", false
	}
	if v, after, found := strings.Cut(rest, "/"); found && (v == "v1" || v == "v2") {
		rest = after
	}
	rest, ok = strings.CutPrefix(rest, "table/")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	switch len(parts) {
	case 1:
		return parts[0], "", true
	case 2:
		return parts[0], parts[1], parts[1] != ""
	}
	return "", "", false
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, tableName, sysID string) {
	write := r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut || r.Method == http.MethodDelete
	fault := s.takeFault(write)
	switch fault.kind {
	case faultHang:
		// Read the body first: net/http notices a client hanging up only once the body is consumed.
		if data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1)); err == nil {
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		t := time.NewTimer(fault.d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	case faultUnavailable:
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable", "The instance is not available (injected fault)")
		return
	case faultTooMany:
		if secs := int(fault.d / time.Second); secs > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		writeError(w, http.StatusTooManyRequests, "Rate limit exceeded", "Too many requests (injected fault)")
		return
	case faultDrop:
		s.serveTable(discardWriter{h: http.Header{}}, r, tableName, sysID)
		// Closes the connection with no response; net/http neither logs nor recovers it as a crash.
		panic(http.ErrAbortHandler)
	}
	s.serveTable(w, r, tableName, sysID)
}

type faultKind int

const (
	faultNone faultKind = iota
	faultHang
	faultUnavailable
	faultTooMany
	faultDrop
)

type takenFault struct {
	kind faultKind
	d    time.Duration
}

func (s *Server) takeFault(write bool) takenFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	f := &s.faults
	switch {
	case f.Hang > 0:
		f.Hang--
		return takenFault{faultHang, f.HangFor}
	case f.Unavailable > 0:
		f.Unavailable--
		return takenFault{kind: faultUnavailable}
	case f.TooManyRequests > 0:
		f.TooManyRequests--
		return takenFault{faultTooMany, f.RetryAfter}
	case f.DropResponse > 0 && write:
		f.DropResponse--
		return takenFault{kind: faultDrop}
	}
	return takenFault{}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

func (s *Server) serveTable(w http.ResponseWriter, r *http.Request, tableName, sysID string) {
	user, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="Local ServiceNow stand-in"`)
		writeError(w, http.StatusUnauthorized, "User Not Authenticated", "Required to provide Auth information")
		return
	}
	if !tableNameRe.MatchString(tableName) {
		writeError(w, http.StatusBadRequest, "Invalid table "+tableName, "")
		return
	}
	allowed := []string{http.MethodGet, http.MethodPost}
	if sysID != "" {
		allowed = []string{http.MethodGet, http.MethodPatch, http.MethodPut, http.MethodDelete}
	}
	if !slices.Contains(allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, "Method not Supported", r.Method+" is not supported on "+r.URL.Path)
		return
	}
	if !acceptsJSON(r.Header.Get("Accept"), r.Method != http.MethodGet) {
		writeError(w, http.StatusBadRequest, "Accept header missing or not application/json", "POST, PUT and PATCH need Accept: application/json")
		return
	}
	var body map[string]string
	if r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
		b, status, msg := readBody(r)
		if status != 0 {
			writeError(w, status, msg, "")
			return
		}
		body = b
	}
	q := r.URL.Query()
	fields := splitList(q.Get("sysparm_fields"))
	display := q.Get("sysparm_display_value")
	switch {
	case sysID == "" && r.Method == http.MethodGet:
		s.list(w, tableName, q, fields, display)
	case sysID == "":
		s.create(w, r, tableName, user, body, fields)
	case r.Method == http.MethodGet:
		s.get(w, tableName, sysID, fields, display)
	case r.Method == http.MethodDelete:
		s.delete(w, tableName, sysID)
	default:
		s.update(w, tableName, sysID, user, body, fields)
	}
}

// authenticate checks basic or bearer credentials and returns who the caller is.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	if s.opts.Username == "" && s.opts.Token == "" {
		return "admin", true
	}
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok && s.opts.Token != "" {
		return "oauth.user", subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
	}
	if u, p, ok := r.BasicAuth(); ok && s.opts.Username != "" {
		good := subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.Username)) &
			subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password))
		return u, good == 1
	}
	return "", false
}

func acceptsJSON(accept string, required bool) bool {
	if accept == "" {
		return !required
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/json" || mt == "application/*" || mt == "*/*") {
			return true
		}
	}
	return false
}

const maxBodyBytes = 1 << 20

// readBody reads a write's body: a JSON object whose values are all strings.
func readBody(r *http.Request) (map[string]string, int, string) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, http.StatusBadRequest, "Content-Type header missing; POST, PUT and PATCH need Content-Type: application/json"
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, http.StatusUnsupportedMediaType, "Content-Type must be application/json"
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, http.StatusBadRequest, "Cannot read request body"
	}
	if len(data) > maxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, "Request body too large"
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		return nil, http.StatusBadRequest, "Exception while reading request: body must be a JSON object"
	}
	out := make(map[string]string, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !fieldNameRe.MatchString(k) {
			return nil, http.StatusBadRequest, fmt.Sprintf("Invalid field name %q", k)
		}
		var v string
		// null decodes into a string without error; only a JSON string is a string.
		if err := json.Unmarshal(raw[k], &v); err != nil || !strings.HasPrefix(string(raw[k]), `"`) {
			return nil, http.StatusBadRequest, fmt.Sprintf("Field %q must be a JSON string (the stand-in accepts string values only)", k)
		}
		out[k] = v
	}
	return out, 0, ""
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func writeResult(w http.ResponseWriter, status int, result any) {
	writeJSON(w, status, map[string]any{"result": result})
}

func writeError(w http.ResponseWriter, status int, message, detail string) {
	writeJSON(w, status, map[string]any{
		"error":  map[string]string{"message": message, "detail": detail},
		"status": "failure",
	})
}

func writeNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

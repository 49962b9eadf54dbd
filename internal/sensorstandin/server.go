// Package sensorstandin is a local stand-in for the alert API of a Microsoft Defender for IoT OT network
// sensor or on-premises management console: what `interlock dev` runs instead of an appliance, and
// what tests talk to over real HTTPS.
//
// It follows the documented API (MicrosoftDocs azure-docs, defender-for-iot/organizations/api/
// management-alert-apis.md and references-work-with-defender-for-iot-apis.md): the raw access token
// in the Authorization header (no "Bearer"), GET /external/v1/alerts and /external/v2/alerts with the
// state, fromTime, toTime, siteId, zoneId and sensor filters, and PUT /external/v1/alerts/<UUID> with
// {"action":"handle"|"handleAndLearn"} answering each documented {"content"} or {"error"} — including
// the appliance's habit of answering an invalid action or an unknown UUID with a 500. Faults (503,
// hangs) can be injected. GET / shows the alerts as a web page, clearly marked as not an appliance.
//
// It does not import azurestandin on purpose; the dev stack serves it with azurestandin.LocalCertificate.
package sensorstandin

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"
	"github.com/interlock-soar/interlock/internal/standin"
)

// Options configures a Server.
type Options struct {
	// Token is the access token the API accepts (created on the appliance under System settings →
	// Integrations → Access tokens). Empty refuses every API request: an appliance always needs one.
	Token string
	// Logger receives one debug line per request (never a header value or a body); nil logs nothing.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// PageUser and PagePassword protect the page at GET / with basic auth; both empty: open.
	PageUser     string
	PagePassword string
}

// Alert is an alert on the appliance.
type Alert struct {
	UUID                     string // e.g. "1-1594550943000"; AddAlert makes one from ID and Time when empty
	ID                       int
	Time                     time.Time
	Title, Message           string
	Severity                 string // Warning, Minor, Major or Critical
	Engine                   string // Protocol Violation, Policy Violation, Malware, Anomaly or Operational
	SourceDeviceAddress      string
	DestinationDeviceAddress string
	RemediationSteps         string
	SensorName               string
	ZoneName                 string
	SiteName                 string
	Handled, Learned         bool // Learned implies Handled
}

// Request is one request served: never a header value or a body.
type Request struct {
	Method, Path string
	Status       int
	At           time.Time // when it was answered
	Action       string    // the PUT's action, as sent (clipped)
}

// Faults are misbehaviours the next API requests show. Each request takes at most one, in the order
// of the fields; InjectFaults replaces whatever was still pending.
type Faults struct {
	// Hang delays the next Hang requests by HangFor; they are carried out afterwards even if the
	// client gave up meanwhile, as a real appliance would.
	Hang    int
	HangFor time.Duration
	// Unavailable answers the next requests 503, without doing anything.
	Unavailable int
}

// InjectFaults sets the faults the next API requests show.
func (s *Server) InjectFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

const maxRequests = 10000 // bounds the request log of a long-running dev stack

// Server is the stand-in; it is an http.Handler.
type Server struct {
	opts Options
	log  *slog.Logger
	done chan struct{} // closed by Close: pending hangs end
	once sync.Once

	mu       sync.Mutex
	alerts   []*Alert
	nextID   int
	ids      map[string]map[string]int // kind ("device", "site", "zone", "sensor") → name → numeric ID
	requests []Request
	faults   Faults
}

// New makes a Server with no alerts.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, log: opts.Logger, done: make(chan struct{}), nextID: 1, ids: map[string]map[string]int{
		"device": {}, "site": {}, "zone": {}, "sensor": {},
	}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Close ends pending hangs. The server keeps answering.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

// AddAlert adds an alert, or replaces the one with the same UUID, and returns it as stored: ID, Time
// and UUID filled in when empty, Severity Warning and Engine Operational by default.
func (s *Server) AddAlert(a Alert) Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.ID == 0 {
		a.ID = s.nextID
	}
	s.nextID = max(s.nextID, a.ID+1)
	if a.Time.IsZero() {
		a.Time = s.opts.Now()
	}
	a.Time = a.Time.UTC().Truncate(time.Millisecond) // the API has milliseconds
	a.UUID = cmp.Or(a.UUID, fmt.Sprintf("%d-%d", a.ID, a.Time.UnixMilli()))
	a.Severity = cmp.Or(a.Severity, "Warning")
	a.Engine = cmp.Or(a.Engine, "Operational")
	a.Handled = a.Handled || a.Learned
	for _, addr := range []string{a.SourceDeviceAddress, a.DestinationDeviceAddress} {
		s.idFor("device", addr)
	}
	s.idFor("site", a.SiteName)
	s.idFor("zone", a.ZoneName)
	s.idFor("sensor", a.SensorName)
	stored := a
	if i := slices.IndexFunc(s.alerts, func(x *Alert) bool { return x.UUID == a.UUID }); i >= 0 {
		s.alerts[i] = &stored
	} else {
		s.alerts = append(s.alerts, &stored)
	}
	return a
}

// idFor numbers devices, sites, zones and sensors as the appliance does (from 1; 0 for none); called
// with s.mu held.
func (s *Server) idFor(kind, name string) int {
	if name == "" {
		return 0
	}
	m := s.ids[kind]
	if id, ok := m[name]; ok {
		return id
	}
	m[name] = len(m) + 1
	return m[name]
}

// Alert returns a copy of the alert with the UUID.
func (s *Server) Alert(uuid string) (Alert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.find(uuid); a != nil {
		return *a, true
	}
	return Alert{}, false
}

// Alerts returns copies of all alerts, by ID.
func (s *Server) Alerts() []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Alert, len(s.alerts))
	for i, a := range s.alerts {
		out[i] = *a
	}
	slices.SortStableFunc(out, func(a, b Alert) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (s *Server) find(uuid string) *Alert {
	for _, a := range s.alerts {
		if a.UUID == uuid {
			return a
		}
	}
	return nil
}

// Requests returns the requests served, in the order they were answered (the last 10,000).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ServeHTTP serves the alert API under /external/ and the page at /.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := standin.NewStatusRecorder(w)
	var action string
	defer func() {
		s.record(Request{Method: r.Method, Path: r.URL.Path, Status: rec.Status, Action: action})
		s.log.Debug("sensorstandin request", "method", r.Method, "path", r.URL.Path, "status", rec.Status, "action", action)
	}()
	if !strings.HasPrefix(r.URL.Path, "/external/") {
		s.servePage(rec, r)
		return
	}
	switch fault, hangFor := s.takeFault(); fault {
	case faultHang:
		// Read the body first: net/http notices a client hanging up only once the body is consumed,
		// and the request is to be carried out in any case.
		if data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1)); err == nil {
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		t := time.NewTimer(hangFor)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		}
	case faultUnavailable:
		writeError(rec, http.StatusServiceUnavailable, "Service unavailable (injected fault)")
		return
	}
	if !s.authorized(r) {
		// The documentation does not say what a missing or wrong token gets; a 401 with the API's
		// {"error"} body is what a client has to handle in any case.
		writeError(rec, http.StatusUnauthorized, "Unauthorized: the Authorization header must hold a valid access token")
		return
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/external/v1/alerts" || p == "/external/v2/alerts":
		if r.Method != http.MethodGet {
			rec.Header().Set("Allow", "GET")
			writeError(rec, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		s.list(rec, r, strings.HasPrefix(p, "/external/v2/"))
	case strings.HasPrefix(p, "/external/v1/alerts/") && !strings.Contains(strings.TrimPrefix(p, "/external/v1/alerts/"), "/"):
		if r.Method != http.MethodPut {
			rec.Header().Set("Allow", "PUT")
			writeError(rec, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		action = s.update(rec, r, strings.TrimPrefix(p, "/external/v1/alerts/"))
	default:
		writeError(rec, http.StatusNotFound, "Not found")
	}
}

type faultKind int

const (
	faultNone faultKind = iota
	faultHang
	faultUnavailable
)

func (s *Server) takeFault() (faultKind, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f := &s.faults; {
	case f.Hang > 0:
		f.Hang--
		return faultHang, f.HangFor
	case f.Unavailable > 0:
		f.Unavailable--
		return faultUnavailable, 0
	}
	return faultNone, 0
}

func (s *Server) record(req Request) {
	req.At = s.opts.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) >= maxRequests {
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-maxRequests+1:]...)
	}
	s.requests = append(s.requests, req)
}

// authorized checks the raw token: the appliance takes "Authorization: <token>", so "Bearer <token>"
// is a wrong token.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	return s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(h), []byte(s.opts.Token)) == 1
}

// alertJSON is an alert as GET shows it; v2 adds the address and name fields.
type alertJSON struct {
	ID                       int     `json:"id"`
	UUID                     string  `json:"uuid"`
	Time                     int64   `json:"time"`
	Title                    string  `json:"title"`
	Message                  string  `json:"message"`
	Severity                 string  `json:"severity"`
	Engine                   string  `json:"engine"`
	SourceDevice             int     `json:"sourceDevice"`
	DestinationDevice        int     `json:"destinationDevice"`
	Handled                  bool    `json:"handled"`
	SiteID                   int     `json:"siteId"`
	ZoneID                   int     `json:"zoneId"`
	SensorID                 int     `json:"sensorId"`
	AdditionalInformation    any     `json:"additionalInformation"`
	SourceDeviceAddress      *string `json:"sourceDeviceAddress,omitempty"`
	DestinationDeviceAddress *string `json:"destinationDeviceAddress,omitempty"`
	RemediationSteps         *string `json:"remediationSteps,omitempty"`
	SensorName               *string `json:"sensorName,omitempty"`
	ZoneName                 *string `json:"zoneName,omitempty"`
	SiteName                 *string `json:"siteName,omitempty"`
}

// numberParam reads a numeric filter; empty or unparsable values are ignored, as the documented
// curl example sends empty ones ("state=&zoneId=&fromTime=").
func numberParam(q map[string][]string, name string) (int64, bool) {
	v := strings.TrimSpace(first(q[name]))
	n, err := strconv.ParseInt(v, 10, 64)
	return n, v != "" && err == nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, v2 bool) {
	q := r.URL.Query()
	state := first(q["state"])
	from, hasFrom := numberParam(q, "fromTime")
	to, hasTo := numberParam(q, "toTime")
	site, hasSite := numberParam(q, "siteId")
	zone, hasZone := numberParam(q, "zoneId")
	sensor, hasSensor := numberParam(q, "sensor")

	s.mu.Lock()
	out := []alertJSON{}
	for _, a := range s.alerts {
		ms := a.Time.UnixMilli()
		siteID, zoneID, sensorID := s.idFor("site", a.SiteName), s.idFor("zone", a.ZoneName), s.idFor("sensor", a.SensorName)
		switch {
		case state == "handled" && !a.Handled, state == "unhandled" && a.Handled:
			continue
		case hasFrom && ms < from, hasTo && ms >= to: // "created only before" toTime
			continue
		case hasSite && int64(siteID) != site, hasZone && int64(zoneID) != zone, hasSensor && int64(sensorID) != sensor:
			continue
		}
		j := alertJSON{
			ID: a.ID, UUID: a.UUID, Time: ms, Title: a.Title, Message: a.Message, Severity: a.Severity, Engine: a.Engine,
			SourceDevice: s.idFor("device", a.SourceDeviceAddress), DestinationDevice: s.idFor("device", a.DestinationDeviceAddress),
			Handled: a.Handled, SiteID: siteID, ZoneID: zoneID, SensorID: sensorID,
		}
		if v2 {
			a := *a
			j.SourceDeviceAddress, j.DestinationDeviceAddress, j.RemediationSteps = &a.SourceDeviceAddress, &a.DestinationDeviceAddress, &a.RemediationSteps
			j.SensorName, j.ZoneName, j.SiteName = &a.SensorName, &a.ZoneName, &a.SiteName
		}
		out = append(out, j)
	}
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b alertJSON) int { return cmp.Compare(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, out)
}

const maxBody = 64 << 10

// The documented answers of PUT /external/v1/alerts/<UUID>.
const (
	msgDone              = "Alert update request finished successfully"
	msgAlreadyHandled    = "Alert was already handled (handle)"
	msgAlreadyLearned    = "Alert was already handled and learned (handleAndLearn)"
	msgHandledThenLearn  = "Alert was already handled (handled). Handle and learn (handleAndLearn) was performed on the alert"
	msgLearnedIgnoreHndl = "Alert was already handled and learned (handleAndLearn). Ignored handle request"
	errInvalidAction     = "Invalid action"
	errUnexpected        = "Unexpected error occurred"
	errNoAlert           = "Couldn't execute request because no alert was found for this UUID"
)

// update carries out a handle or handleAndLearn action and returns the action as sent, for the log.
// Like the appliance it reads the body as JSON whatever the Content-Type (the documented curl
// example sends it as a form).
func (s *Server) update(w http.ResponseWriter, r *http.Request, uuid string) string {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(data) > maxBody {
		writeError(w, http.StatusInternalServerError, errUnexpected)
		return ""
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil || body == nil {
		writeError(w, http.StatusInternalServerError, errUnexpected)
		return ""
	}
	var action string
	if err := json.Unmarshal(body["action"], &action); err != nil || (action != "handle" && action != "handleAndLearn") {
		writeError(w, http.StatusInternalServerError, errInvalidAction)
		return safetext.Line(action, 40)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.find(uuid)
	if a == nil {
		writeError(w, http.StatusInternalServerError, errNoAlert)
		return action
	}
	var msg string
	switch {
	case action == "handle" && a.Learned:
		msg = msgLearnedIgnoreHndl
	case action == "handle" && a.Handled:
		msg = msgAlreadyHandled
	case action == "handle":
		msg, a.Handled = msgDone, true
	case a.Learned:
		msg = msgAlreadyLearned
	case a.Handled:
		msg, a.Learned = msgHandledThenLearn, true
	default:
		msg, a.Handled, a.Learned = msgDone, true, true
	}
	writeJSON(w, http.StatusOK, map[string]string{"content": msg})
	return action
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

package azurestandin

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// The Resource Manager part: authentication and api-version as ARM checks them for every request,
// then the Sentinel incident and comment operations and the Defender for IoT alert operations.

const (
	sentinelProvider = "Microsoft.SecurityInsights"
	iotProvider      = "Microsoft.IoTSecurity"
	providerName     = "Azure Sentinel"
	incidentType     = "Microsoft.SecurityInsights/incidents"
	commentType      = "Microsoft.SecurityInsights/incidents/comments"
	alertType        = "Microsoft.IoTSecurity/alerts"
	portalIncident   = "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident"
	// maxComments is Sentinel's limit of comments per incident.
	maxComments = 100
	// maxCommentChars is Sentinel's limit on a comment message, in characters.
	maxCommentChars = 30000
)

// apiVersions are the versions served per provider, newest first.
var apiVersions = map[string][]string{
	sentinelProvider: {"2025-12-01", "2025-09-01", "2025-06-01", "2024-09-01"},
	iotProvider:      {"2021-07-01-preview"},
}

type routeKind int

const (
	routeNone routeKind = iota
	routeIncidentList
	routeIncident
	routeCommentList
	routeComment
	routeAlertList
	routeAlert
)

// armRoute is a parsed Resource Manager path. IDs are rebuilt with the canonical casing of the fixed
// segments and the caller's casing of the names; lookups compare them case-insensitively, as ARM does.
type armRoute struct {
	kind         routeKind
	provider     string
	subscription string
	id           string // incident or alert ID (also for comments); the collection path for lists
	name         string // incident or alert name
	comment      string // comment name
}

// parseARMPath recognises the paths the stand-in serves.
func parseARMPath(p string) armRoute {
	p = strings.TrimSuffix(p, "/")
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	fixed := func(want ...string) bool { // want: "" for a name, else the segment (case-insensitive)
		if len(segs) != len(want) {
			return false
		}
		for i, w := range want {
			if w == "" && segs[i] == "" || w != "" && !strings.EqualFold(segs[i], w) {
				return false
			}
		}
		return true
	}
	inc := []string{"subscriptions", "", "resourceGroups", "", "providers", "Microsoft.OperationalInsights", "workspaces", "", "providers", sentinelProvider, "incidents"}
	alerts := []string{"subscriptions", "", "providers", iotProvider, "locations", "", "deviceGroups", "", "alerts"}
	incBase := func() string {
		return "/subscriptions/" + segs[1] + "/resourceGroups/" + segs[3] + "/providers/Microsoft.OperationalInsights/workspaces/" + segs[7] +
			"/providers/" + sentinelProvider + "/incidents"
	}
	alertBase := func() string {
		return "/subscriptions/" + segs[1] + "/providers/" + iotProvider + "/locations/" + segs[5] + "/deviceGroups/" + segs[7] + "/alerts"
	}
	switch {
	case fixed(inc...):
		return armRoute{kind: routeIncidentList, provider: sentinelProvider, subscription: segs[1], id: incBase()}
	case fixed(append(slices.Clip(inc), "")...):
		return armRoute{kind: routeIncident, provider: sentinelProvider, subscription: segs[1], id: incBase() + "/" + segs[11], name: segs[11]}
	case fixed(append(slices.Clip(inc), "", "comments")...):
		return armRoute{kind: routeCommentList, provider: sentinelProvider, subscription: segs[1], id: incBase() + "/" + segs[11], name: segs[11]}
	case fixed(append(slices.Clip(inc), "", "comments", "")...):
		return armRoute{kind: routeComment, provider: sentinelProvider, subscription: segs[1], id: incBase() + "/" + segs[11], name: segs[11], comment: segs[13]}
	case fixed(alerts...):
		return armRoute{kind: routeAlertList, provider: iotProvider, subscription: segs[1], id: alertBase()}
	case fixed(append(slices.Clip(alerts), "")...):
		return armRoute{kind: routeAlert, provider: iotProvider, subscription: segs[1], id: alertBase() + "/" + segs[9], name: segs[9]}
	}
	return armRoute{}
}

func incidentURL(id string) string { return portalIncident + id }

func (s *Server) serveARM(w http.ResponseWriter, r *http.Request, rt armRoute, concurrentEdit bool) {
	who, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if rt.kind == routeNone {
		writeARMError(w, http.StatusNotFound, "InvalidResourceType",
			"The stand-in serves Microsoft.SecurityInsights incidents and comments and Microsoft.IoTSecurity alerts only; "+safetext.Line(r.URL.Path, 300)+" is none of them.")
		return
	}
	if !isGUID(rt.subscription) {
		writeARMError(w, http.StatusBadRequest, "InvalidSubscriptionId",
			fmt.Sprintf("The provided subscription identifier '%s' is malformed or invalid.", safetext.Line(rt.subscription, 60)))
		return
	}
	v, present := r.URL.Query()["api-version"]
	if !present || len(v) == 0 || v[0] == "" {
		writeARMError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if supported := apiVersions[rt.provider]; !slices.Contains(supported, v[0]) {
		writeARMError(w, http.StatusBadRequest, "InvalidApiVersionParameter",
			fmt.Sprintf("The api-version '%s' is invalid. The supported versions for resource provider '%s' are '%s'.", safetext.Line(v[0], 40), rt.provider, strings.Join(supported, ",")))
		return
	}
	allowed := map[routeKind][]string{
		routeIncidentList: {http.MethodGet},
		routeIncident:     {http.MethodGet, http.MethodPut},
		routeCommentList:  {http.MethodGet},
		routeComment:      {http.MethodGet, http.MethodPut},
		routeAlertList:    {http.MethodGet},
		routeAlert:        {http.MethodGet, http.MethodPatch},
	}[rt.kind]
	if !slices.Contains(allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeARMError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("The method '%s' is not supported on this resource.", r.Method))
		return
	}
	var body map[string]json.RawMessage
	if r.Method == http.MethodPut || r.Method == http.MethodPatch {
		b, status, code, msg := readJSONBody(r)
		if status != 0 {
			writeARMError(w, status, code, msg)
			return
		}
		body = b
	}
	switch rt.kind {
	case routeIncidentList:
		s.listIncidents(w, rt)
	case routeIncident:
		if r.Method == http.MethodGet {
			s.getIncident(w, rt)
		} else {
			s.putIncident(w, r, rt, body, concurrentEdit)
		}
	case routeCommentList:
		s.listComments(w, rt)
	case routeComment:
		if r.Method == http.MethodGet {
			s.getComment(w, rt)
		} else {
			s.putComment(w, rt, body, who)
		}
	case routeAlertList:
		s.listAlerts(w, rt)
	case routeAlert:
		if r.Method == http.MethodGet {
			s.getAlert(w, rt)
		} else {
			s.patchAlert(w, rt, body, who)
		}
	}
}

// authorize checks the bearer token as Resource Manager does, answering 401 itself when it fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (principal, bool) {
	fail := func(code, msg, desc string) (principal, bool) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/%s", error="invalid_token", error_description="%s"`,
			baseURL(r), s.opts.TenantID, desc))
		writeARMError(w, http.StatusUnauthorized, code, msg)
		return principal{}, false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return fail("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
			"The authentication failed because of missing 'Authorization' header.")
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return fail("AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.",
			"The authentication failed because of an invalid 'Authorization' header.")
	}
	now := s.opts.Now()
	s.mu.Lock()
	rec, ok := s.st.token(strings.TrimSpace(tok))
	s.mu.Unlock()
	switch {
	case !ok:
		return fail("InvalidAuthenticationToken", "The access token is invalid.", "The access token is invalid.")
	case !now.Before(rec.Expires):
		return fail("InvalidAuthenticationToken",
			fmt.Sprintf("The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
				rec.Expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)),
			"The access token has expired.")
	case rec.Audience != s.opts.Audience:
		return fail("InvalidAuthenticationToken", "The access token has been obtained for wrong audience or resource '"+rec.Audience+"'.",
			"The access token has a wrong audience.")
	}
	return rec.Principal, true
}

// readJSONBody reads a write's body: Content-Type application/json and a JSON object.
func readJSONBody(r *http.Request) (map[string]json.RawMessage, int, string, string) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			fmt.Sprintf("The content media type '%s' is not supported. Only 'application/json' is supported.", safetext.Line(ct, 80))
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, http.StatusBadRequest, "InvalidRequestContent", "The request content could not be read."
	}
	if len(data) > maxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request content is larger than 4 MB."
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil || body == nil {
		return nil, http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the body must be a JSON object."
	}
	return body, 0, "", ""
}

func writeARMError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func writeNotFound(w http.ResponseWriter, what, id string) {
	writeARMError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("The %s '%s' was not found.", what, safetext.Line(id, 300)))
}

func badRequest(w http.ResponseWriter, msg string) {
	writeARMError(w, http.StatusBadRequest, "BadRequest", msg)
}

// fieldReader reads typed properties out of a JSON object, keeping the first problem.
type fieldReader struct {
	obj    map[string]json.RawMessage
	prefix string
	err    string
}

func (f *fieldReader) fail(msg string) {
	if f.err == "" {
		f.err = msg
	}
}

func isNull(raw json.RawMessage) bool { return raw == nil || strings.TrimSpace(string(raw)) == "null" }

// str reads an optional string; null and absent are "".
func (f *fieldReader) str(name string) string {
	raw, ok := f.obj[name]
	if !ok || isNull(raw) {
		return ""
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		f.fail(fmt.Sprintf("The property '%s%s' must be a string.", f.prefix, name))
	}
	return v
}

func (f *fieldReader) required(name string) string {
	v := f.str(name)
	if strings.TrimSpace(v) == "" {
		f.fail(fmt.Sprintf("The property '%s%s' is required.", f.prefix, name))
	}
	return v
}

func (f *fieldReader) enum(name string, allowed []string, required bool) string {
	var v string
	if required {
		v = f.required(name)
	} else {
		v = f.str(name)
	}
	if v != "" && !slices.Contains(allowed, v) {
		f.fail(fmt.Sprintf("The value '%s' is not valid for property '%s%s'. Allowed values: %s.", safetext.Line(v, 60), f.prefix, name, strings.Join(allowed, ", ")))
	}
	return v
}

func (f *fieldReader) time(name string) time.Time {
	v := f.str(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		f.fail(fmt.Sprintf("The property '%s%s' must be an ISO 8601 date-time.", f.prefix, name))
	}
	return t.UTC()
}

func (f *fieldReader) object(name string) (map[string]json.RawMessage, bool) {
	raw, ok := f.obj[name]
	if !ok || isNull(raw) {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		f.fail(fmt.Sprintf("The property '%s%s' must be an object.", f.prefix, name))
		return nil, false
	}
	return m, true
}

// propertiesOf reads an ARM body's required "properties" object: top keeps a problem with the body,
// f reads the properties.
func propertiesOf(body map[string]json.RawMessage) (top, f *fieldReader) {
	top = &fieldReader{obj: body}
	props, ok := top.object("properties")
	if !ok && top.err == "" {
		top.fail("The property 'properties' is required.")
	}
	return top, &fieldReader{obj: props, prefix: "properties."}
}

// listUnder answers an ARM list with the items (read under the lock) whose ID lies under the route's
// resource.
func listUnder[T any](s *Server, w http.ResponseWriter, rt armRoute, items func() []T, id func(T) string, toJSON func(T) resourceJSON) {
	prefix := strings.ToLower(rt.id) + "/"
	s.mu.Lock()
	value := []resourceJSON{}
	for _, it := range items() {
		if strings.HasPrefix(strings.ToLower(id(it)), prefix) {
			value = append(value, toJSON(it))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

// getOne finds an item under the lock and renders it; false when there is none.
func getOne[T any](s *Server, find func() *T, toJSON func(*T) resourceJSON) (resourceJSON, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := find()
	if it == nil {
		return resourceJSON{}, false
	}
	return toJSON(it), true
}

// lockFound takes the lock and finds an item for a write. When there is none it lets go of the lock,
// answers 404 and returns false; otherwise the caller holds the lock.
func lockFound[T any](s *Server, w http.ResponseWriter, find func() *T, what, name string) (*T, bool) {
	s.mu.Lock()
	it := find()
	if it == nil {
		s.mu.Unlock()
		writeNotFound(w, what, name)
		return nil, false
	}
	return it, true
}

// etagMatches compares an If-Match value (possibly a list, weak, or unquoted) with the current etag.
func etagMatches(ifMatch, current string) bool {
	for cand := range strings.SplitSeq(ifMatch, ",") {
		cand = strings.TrimSpace(cand)
		if cand == "*" || sameEtag(cand, current) {
			return true
		}
	}
	return false
}

func sameEtag(a, b string) bool {
	norm := func(s string) string { return strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`) }
	return norm(a) != "" && norm(a) == norm(b)
}

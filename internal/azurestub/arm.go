package azurestub

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
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
			"The stand-in serves Microsoft.SecurityInsights incidents and comments and Microsoft.IoTSecurity alerts only; "+clip(r.URL.Path, 300)+" is none of them.")
		return
	}
	if !isGUID(rt.subscription) {
		writeARMError(w, http.StatusBadRequest, "InvalidSubscriptionId",
			fmt.Sprintf("The provided subscription identifier '%s' is malformed or invalid.", clip(rt.subscription, 60)))
		return
	}
	v, present := r.URL.Query()["api-version"]
	if !present || len(v) == 0 || v[0] == "" {
		writeARMError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if supported := apiVersions[rt.provider]; !slices.Contains(supported, v[0]) {
		writeARMError(w, http.StatusBadRequest, "InvalidApiVersionParameter",
			fmt.Sprintf("The api-version '%s' is invalid. The supported versions for resource provider '%s' are '%s'.", clip(v[0], 40), rt.provider, strings.Join(supported, ",")))
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
			fmt.Sprintf("The content media type '%s' is not supported. Only 'application/json' is supported.", clip(ct, 80))
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
	writeARMError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("The %s '%s' was not found.", what, clip(id, 300)))
}

func badRequest(w http.ResponseWriter, msg string) {
	writeARMError(w, http.StatusBadRequest, "BadRequest", msg)
}

// --- Incidents ---------------------------------------------------------------------------------

type ownerJSON struct {
	ObjectID          string `json:"objectId,omitempty"`
	Email             string `json:"email,omitempty"`
	AssignedTo        string `json:"assignedTo,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	OwnerType         string `json:"ownerType"`
}

type labelJSON struct {
	LabelName string `json:"labelName"`
	LabelType string `json:"labelType"`
}

type additionalDataJSON struct {
	AlertsCount       int      `json:"alertsCount"`
	BookmarksCount    int      `json:"bookmarksCount"`
	CommentsCount     int      `json:"commentsCount"`
	AlertProductNames []string `json:"alertProductNames"`
	Tactics           []string `json:"tactics"`
}

type incidentPropsJSON struct {
	AdditionalData         additionalDataJSON `json:"additionalData"`
	Classification         string             `json:"classification,omitempty"`
	ClassificationComment  string             `json:"classificationComment,omitempty"`
	ClassificationReason   string             `json:"classificationReason,omitempty"`
	CreatedTimeUtc         string             `json:"createdTimeUtc"`
	Description            string             `json:"description,omitempty"`
	FirstActivityTimeUtc   string             `json:"firstActivityTimeUtc,omitempty"`
	IncidentURL            string             `json:"incidentUrl"`
	IncidentNumber         int                `json:"incidentNumber"`
	Labels                 []labelJSON        `json:"labels"`
	LastActivityTimeUtc    string             `json:"lastActivityTimeUtc,omitempty"`
	LastModifiedTimeUtc    string             `json:"lastModifiedTimeUtc"`
	Owner                  ownerJSON          `json:"owner"`
	ProviderName           string             `json:"providerName"`
	ProviderIncidentID     string             `json:"providerIncidentId"`
	RelatedAnalyticRuleIDs []string           `json:"relatedAnalyticRuleIds"`
	Severity               string             `json:"severity"`
	Status                 string             `json:"status"`
	Title                  string             `json:"title"`
}

type resourceJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Etag       string `json:"etag,omitempty"`
	Properties any    `json:"properties"`
	SystemData any    `json:"systemData,omitempty"`
}

// incidentJSON renders an incident; called with s.mu held.
func incidentJSON(inc *storedIncident) resourceJSON {
	p := inc.Properties
	out := incidentPropsJSON{
		AdditionalData:         additionalDataJSON{CommentsCount: len(inc.Comments), AlertProductNames: []string{}, Tactics: []string{}},
		Classification:         p.Classification,
		ClassificationComment:  p.ClassificationComment,
		ClassificationReason:   p.ClassificationReason,
		CreatedTimeUtc:         fmtTime(p.CreatedTimeUtc),
		Description:            p.Description,
		FirstActivityTimeUtc:   fmtTime(p.FirstActivityTimeUtc),
		IncidentURL:            p.IncidentURL,
		IncidentNumber:         p.IncidentNumber,
		Labels:                 []labelJSON{},
		LastActivityTimeUtc:    fmtTime(p.LastActivityTimeUtc),
		LastModifiedTimeUtc:    fmtTime(p.LastModifiedTimeUtc),
		Owner:                  ownerJSON{ObjectID: p.Owner.ObjectID, Email: p.Owner.Email, AssignedTo: p.Owner.AssignedTo, UserPrincipalName: p.Owner.UserPrincipalName, OwnerType: cmp.Or(p.Owner.OwnerType, "Unknown")},
		ProviderName:           p.ProviderName,
		ProviderIncidentID:     fmt.Sprint(p.IncidentNumber),
		RelatedAnalyticRuleIDs: []string{},
		Severity:               p.Severity,
		Status:                 p.Status,
		Title:                  p.Title,
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, labelJSON{LabelName: l.LabelName, LabelType: cmp.Or(l.LabelType, "User")})
	}
	return resourceJSON{ID: inc.ID, Name: inc.Name, Type: incidentType, Etag: inc.Etag, Properties: out}
}

func (s *Server) listIncidents(w http.ResponseWriter, rt armRoute) {
	prefix := strings.ToLower(rt.id) + "/"
	s.mu.Lock()
	value := []resourceJSON{}
	for _, inc := range s.st.Incidents {
		if strings.HasPrefix(strings.ToLower(inc.ID), prefix) {
			value = append(value, incidentJSON(inc))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) getIncident(w http.ResponseWriter, rt armRoute) {
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	var out resourceJSON
	if inc != nil {
		out = incidentJSON(inc)
	}
	s.mu.Unlock()
	if inc == nil {
		writeNotFound(w, "incident", rt.name)
		return
	}
	w.Header().Set("ETag", out.Etag)
	writeJSON(w, http.StatusOK, out)
}

// incidentWrite is what a PUT may set; everything else is the stand-in's to keep.
type incidentWrite struct {
	etag  string
	props IncidentProperties // writable properties only
}

var (
	severities            = []string{"High", "Medium", "Low", "Informational"}
	incidentStatuses      = []string{"New", "Active", "Closed"}
	classifications       = []string{"Undetermined", "TruePositive", "BenignPositive", "FalsePositive"}
	classificationReasons = []string{"SuspiciousActivity", "SuspiciousButExpected", "IncorrectAlertLogic", "InaccurateData"}
	ownerTypes            = []string{"Unknown", "User", "Group"}
	labelTypes            = []string{"User", "AutoAssigned"}
)

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
		f.fail(fmt.Sprintf("The value '%s' is not valid for property '%s%s'. Allowed values: %s.", clip(v, 60), f.prefix, name, strings.Join(allowed, ", ")))
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

// parseIncidentWrite validates an Incidents_CreateOrUpdate body against the 2025-12-01 schema.
// Read-only properties are ignored (the stored incident keeps its own).
func parseIncidentWrite(body map[string]json.RawMessage) (incidentWrite, string) {
	top := &fieldReader{obj: body}
	var w incidentWrite
	w.etag = top.str("etag")
	props, ok := top.object("properties")
	if top.err != "" {
		return w, top.err
	}
	if !ok {
		return w, "The property 'properties' is required."
	}
	f := &fieldReader{obj: props, prefix: "properties."}
	p := &w.props
	p.Title = f.required("title")
	p.Severity = f.enum("severity", severities, true)
	p.Status = f.enum("status", incidentStatuses, true)
	p.Description = f.str("description")
	p.Classification = f.enum("classification", classifications, false)
	p.ClassificationReason = f.enum("classificationReason", classificationReasons, false)
	p.ClassificationComment = f.str("classificationComment")
	p.FirstActivityTimeUtc = f.time("firstActivityTimeUtc")
	p.LastActivityTimeUtc = f.time("lastActivityTimeUtc")
	if o, ok := f.object("owner"); ok {
		of := &fieldReader{obj: o, prefix: "properties.owner."}
		p.Owner = Owner{
			ObjectID: of.str("objectId"), Email: of.str("email"), UserPrincipalName: of.str("userPrincipalName"),
			AssignedTo: of.str("assignedTo"), OwnerType: of.enum("ownerType", ownerTypes, false),
		}
		if p.Owner.ObjectID != "" && !isGUID(p.Owner.ObjectID) {
			of.fail("The property 'properties.owner.objectId' must be a GUID.")
		}
		f.fail(of.err)
	}
	if raw, ok := props["labels"]; ok && !isNull(raw) {
		var labels []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &labels); err != nil {
			f.fail("The property 'properties.labels' must be an array of objects.")
		}
		for i, l := range labels {
			lf := &fieldReader{obj: l, prefix: fmt.Sprintf("properties.labels[%d].", i)}
			name := lf.required("labelName")
			lf.enum("labelType", labelTypes, false) // read-only: checked, then decided by the stand-in
			f.fail(lf.err)
			p.Labels = append(p.Labels, Label{LabelName: name})
		}
	}
	if f.err != "" {
		return w, f.err
	}
	// Modelled from the documentation: the portal and the API close an incident only with a
	// classification (and Interlock's writer sets one for that reason).
	if p.Status == "Closed" && p.Classification == "" {
		return w, "The property 'properties.classification' is required when 'properties.status' is 'Closed'."
	}
	return w, ""
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

func (s *Server) putIncident(w http.ResponseWriter, r *http.Request, rt armRoute, body map[string]json.RawMessage, concurrentEdit bool) {
	wr, problem := parseIncidentWrite(body)
	now := s.opts.Now().UTC()
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	if concurrentEdit && inc != nil {
		// An analyst saved the incident in the portal a moment before this request arrived.
		inc.Etag = newEtag()
		inc.Properties.LastModifiedTimeUtc = now
		s.save()
	}
	if problem != "" {
		s.mu.Unlock()
		badRequest(w, problem)
		return
	}
	if im := r.Header.Get("If-Match"); im != "" && (inc == nil || !etagMatches(im, inc.Etag)) {
		s.mu.Unlock()
		writeARMError(w, http.StatusPreconditionFailed, "PreconditionFailed",
			"The If-Match etag does not match the incident's current etag: it was changed since it was read (or does not exist). Read it again and retry.")
		return
	}
	if wr.etag != "" && (inc == nil || !sameEtag(wr.etag, inc.Etag)) {
		s.mu.Unlock()
		writeARMError(w, http.StatusPreconditionFailed, "PreconditionFailed",
			"The etag in the request body does not match the incident's current etag: it was changed since it was read (or does not exist). Read it again and retry.")
		return
	}
	status := http.StatusOK
	if inc == nil {
		status = http.StatusCreated
		inc = &storedIncident{ID: rt.id, Name: rt.name}
		inc.Properties.IncidentNumber = s.st.nextNumber()
		inc.Properties.CreatedTimeUtc = now
		inc.Properties.IncidentURL = incidentURL(rt.id)
		inc.Properties.ProviderName = providerName
		s.st.addIncident(inc)
	}
	old := inc.Properties
	p := wr.props
	p.IncidentNumber, p.CreatedTimeUtc, p.IncidentURL, p.ProviderName = old.IncidentNumber, old.CreatedTimeUtc, old.IncidentURL, old.ProviderName
	for i := range p.Labels {
		// labelType is read-only: a label keeps the type it has, a new one is the user's.
		p.Labels[i].LabelType = "User"
		for _, ol := range old.Labels {
			if ol.LabelName == p.Labels[i].LabelName {
				p.Labels[i].LabelType = cmp.Or(ol.LabelType, "User")
			}
		}
	}
	p.LastModifiedTimeUtc = now
	inc.Properties = p
	inc.Etag = newEtag()
	out := incidentJSON(inc)
	s.save()
	s.mu.Unlock()
	w.Header().Set("ETag", out.Etag)
	writeJSON(w, status, out)
}

// --- Comments ----------------------------------------------------------------------------------

func commentJSON(inc *storedIncident, c *storedComment) resourceJSON {
	author := map[string]any{"objectId": c.Author.ObjectID, "name": c.Author.Name, "userPrincipalName": nil, "email": nil}
	return resourceJSON{
		ID: inc.ID + "/comments/" + c.Name, Name: c.Name, Type: commentType, Etag: c.Etag,
		Properties: map[string]any{
			"message": c.Message, "createdTimeUtc": fmtTime(c.Created), "lastModifiedTimeUtc": fmtTime(c.LastModified), "author": author,
		},
	}
}

func (s *Server) listComments(w http.ResponseWriter, rt armRoute) {
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	value := []resourceJSON{}
	if inc != nil {
		for _, c := range inc.Comments {
			value = append(value, commentJSON(inc, c))
		}
	}
	s.mu.Unlock()
	if inc == nil {
		writeNotFound(w, "incident", rt.name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) getComment(w http.ResponseWriter, rt armRoute) {
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	var c *storedComment
	var out resourceJSON
	if inc != nil {
		if c = inc.comment(rt.comment); c != nil {
			out = commentJSON(inc, c)
		}
	}
	s.mu.Unlock()
	switch {
	case inc == nil:
		writeNotFound(w, "incident", rt.name)
	case c == nil:
		writeNotFound(w, "comment", rt.comment)
	default:
		w.Header().Set("ETag", out.Etag)
		writeJSON(w, http.StatusOK, out)
	}
}

// putComment is IncidentComments_CreateOrUpdate: idempotent by comment ID, so a retried PUT replaces
// its own comment and never adds a second one.
func (s *Server) putComment(w http.ResponseWriter, rt armRoute, body map[string]json.RawMessage, who principal) {
	top := &fieldReader{obj: body}
	props, ok := top.object("properties")
	if !ok && top.err == "" {
		top.fail("The property 'properties' is required.")
	}
	f := &fieldReader{obj: props, prefix: "properties."}
	msg := f.required("message")
	if problem := cmp.Or(top.err, f.err); problem != "" {
		badRequest(w, problem)
		return
	}
	if n := len([]rune(msg)); n > maxCommentChars {
		badRequest(w, fmt.Sprintf("The property 'properties.message' has %d characters; a comment has at most %d.", n, maxCommentChars))
		return
	}
	now := s.opts.Now().UTC()
	s.mu.Lock()
	inc := s.st.incident(rt.id)
	if inc == nil {
		s.mu.Unlock()
		writeNotFound(w, "incident", rt.name)
		return
	}
	status := http.StatusOK
	c := inc.comment(rt.comment)
	if c == nil {
		if len(inc.Comments) >= maxComments {
			s.mu.Unlock()
			badRequest(w, fmt.Sprintf("The incident already has the maximum of %d comments.", maxComments))
			return
		}
		status = http.StatusCreated
		c = &storedComment{Comment: Comment{ID: inc.ID + "/comments/" + rt.comment, Name: rt.comment, Created: now}, Author: who}
		inc.Comments = append(inc.Comments, c)
	}
	c.Message, c.LastModified = msg, now
	c.Writes++
	c.Etag = newEtag()
	out := commentJSON(inc, c)
	s.save()
	s.mu.Unlock()
	w.Header().Set("ETag", out.Etag)
	writeJSON(w, status, out)
}

// --- Defender for IoT alerts -------------------------------------------------------------------

var (
	alertStatuses   = []string{"New", "InProgress", "Closed"}
	alertSeverities = []string{"Informational", "Low", "Medium", "High"}
)

func alertJSON(a *storedAlert) resourceJSON {
	p := a.Properties
	props := map[string]any{
		"systemAlertId":      p.SystemAlertID,
		"status":             p.Status,
		"severity":           p.Severity,
		"alertType":          p.AlertType,
		"startTimeUtc":       fmtTime(p.StartTimeUtc),
		"endTimeUtc":         fmtTime(p.EndTimeUtc),
		"entities":           []any{},
		"extendedProperties": map[string]any{},
	}
	if p.DisplayName != "" {
		props["displayName"] = p.DisplayName
	}
	return resourceJSON{
		ID: a.ID, Name: a.Name, Type: alertType, Properties: props,
		SystemData: map[string]string{
			"createdBy": "Microsoft Defender for IoT", "createdByType": "Application", "createdAt": fmtTime(a.Created),
			"lastModifiedBy": a.ModifiedBy, "lastModifiedByType": a.ModifiedByType, "lastModifiedAt": fmtTime(p.LastModified),
		},
	}
}

func (s *Server) listAlerts(w http.ResponseWriter, rt armRoute) {
	prefix := strings.ToLower(rt.id) + "/"
	s.mu.Lock()
	value := []resourceJSON{}
	for _, a := range s.st.Alerts {
		if strings.HasPrefix(strings.ToLower(a.ID), prefix) {
			value = append(value, alertJSON(a))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) getAlert(w http.ResponseWriter, rt armRoute) {
	s.mu.Lock()
	a := s.st.alert(rt.id)
	var out resourceJSON
	if a != nil {
		out = alertJSON(a)
	}
	s.mu.Unlock()
	if a == nil {
		writeNotFound(w, "alert", rt.name)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// patchAlert is IotAlerts_Patch: status and severity are the only writable properties.
func (s *Server) patchAlert(w http.ResponseWriter, rt armRoute, body map[string]json.RawMessage, who principal) {
	top := &fieldReader{obj: body}
	props, ok := top.object("properties")
	if !ok && top.err == "" {
		top.fail("The property 'properties' is required.")
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if k != "status" && k != "severity" {
			top.fail(fmt.Sprintf("The property 'properties.%s' cannot be changed: only status and severity can.", clip(k, 60)))
		}
	}
	f := &fieldReader{obj: props, prefix: "properties."}
	status := f.enum("status", alertStatuses, false)
	severity := f.enum("severity", alertSeverities, false)
	if problem := cmp.Or(top.err, f.err); problem != "" {
		badRequest(w, problem)
		return
	}
	if status == "" && severity == "" {
		badRequest(w, "The request must change 'properties.status' or 'properties.severity'.")
		return
	}
	now := s.opts.Now().UTC()
	s.mu.Lock()
	a := s.st.alert(rt.id)
	if a == nil {
		s.mu.Unlock()
		writeNotFound(w, "alert", rt.name)
		return
	}
	if status != "" {
		a.Properties.Status = status
	}
	if severity != "" {
		a.Properties.Severity = severity
	}
	a.Properties.LastModified = now
	a.ModifiedBy, a.ModifiedByType = who.Name, "Application"
	out := alertJSON(a)
	s.save()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

package azurestandin

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"
)

func TestARMAuthentication(t *testing.T) {
	t.Parallel()
	clk := newClock()
	opts := baseOptions()
	opts.Now = clk.Now
	s, srv := newStub(t, opts)
	s.PutIncident(incPath("1"), IncidentProperties{Title: "t", Severity: "Low", Status: "New"})

	r := rawCall(t, srv, http.MethodGet, incPath("1")+sentinelV, "", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "AuthenticationFailed", r.code())
	require.Equal(t, "Authentication failed. The 'Authorization' header is missing.", r.message())
	require.Contains(t, r.Header.Get("WWW-Authenticate"), `Bearer authorization_uri="`+srv.URL+"/"+tenantID+`"`)
	require.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	r = rawCall(t, srv, http.MethodGet, incPath("1")+sentinelV, "", "", map[string]string{"Authorization": "Basic aW50ZXJsb2NrOnB3"})
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "AuthenticationFailed", r.code())

	r = call(t, newPipeline(srv, staticCred("never-issued"), noRetries), srv, http.MethodGet, incPath("1")+sentinelV, nil, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "InvalidAuthenticationToken", r.code())
	require.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	r = call(t, pl, srv, http.MethodGet, incPath("1")+sentinelV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	// The stand-in's clock passes the token's expiry; MSAL (on the real clock) still sends it.
	clk.Advance(time.Hour)
	r = call(t, pl, srv, http.MethodGet, incPath("1")+sentinelV, nil, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "InvalidAuthenticationToken", r.code())
	require.Contains(t, r.message(), "expiry")
	requireNoSecrets(t, s)
}

func TestARMRequestRules(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	s.PutIncident(incPath("1"), IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	good := incidentBody(nil)
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		body        any
		headers     map[string]string
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{"no api-version", http.MethodGet, incPath("1"), nil, nil, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."},
		{"empty api-version", http.MethodGet, incPath("1") + "?api-version=", nil, nil, http.StatusBadRequest, "MissingApiVersionParameter", ""},
		{"old api-version", http.MethodGet, incPath("1") + "?api-version=2019-01-01-preview", nil, nil, http.StatusBadRequest, "InvalidApiVersionParameter", "2025-12-01,2025-09-01,2025-06-01,2024-09-01"},
		{"Sentinel api-version on IoT", http.MethodGet, alertPath("a") + sentinelV, nil, nil, http.StatusBadRequest, "InvalidApiVersionParameter", "2021-07-01-preview"},
		{"older stable", http.MethodGet, incPath("1") + "?api-version=2024-09-01", nil, nil, http.StatusOK, "", ""},
		{"case-insensitive segments", http.MethodGet, strings.ToLower(incPath("1")) + sentinelV, nil, nil, http.StatusOK, "", ""},
		{"Incidents", http.MethodGet, strings.Replace(incPath("1"), "/incidents/", "/Incidents/", 1) + sentinelV, nil, nil, http.StatusOK, "", ""},
		{"unknown resource type", http.MethodGet, wsBase + "/watchlists/w1" + sentinelV, nil, nil, http.StatusNotFound, "InvalidResourceType", ""},
		{"bad subscription", http.MethodGet, strings.Replace(incPath("1"), sub, "not-a-guid", 1) + sentinelV, nil, nil, http.StatusBadRequest, "InvalidSubscriptionId", ""},
		{"unknown incident", http.MethodGet, incPath("2") + sentinelV, nil, nil, http.StatusNotFound, "NotFound", ""},
		{"DELETE", http.MethodDelete, incPath("1") + sentinelV, nil, nil, http.StatusMethodNotAllowed, "MethodNotAllowed", ""},
		{"text body", http.MethodPut, incPath("1") + sentinelV, `{"properties":{}}`, map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType, "UnsupportedMediaType", ""},
		{"no content type", http.MethodPut, incPath("1") + sentinelV, `{"properties":{}}`, map[string]string{"Content-Type": ""}, http.StatusUnsupportedMediaType, "UnsupportedMediaType", ""},
		{"not JSON", http.MethodPut, incPath("1") + sentinelV, `{"properties":`, nil, http.StatusBadRequest, "InvalidRequestContent", ""},
		{"JSON array", http.MethodPut, incPath("1") + sentinelV, `[]`, nil, http.StatusBadRequest, "InvalidRequestContent", ""},
		{"good PUT", http.MethodPut, incPath("1") + sentinelV, good, nil, http.StatusOK, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, pl, srv, tc.method, tc.path, tc.body, tc.headers)
			require.Equal(t, tc.wantStatus, r.Status, r.Raw)
			require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"))
			require.Equal(t, tc.wantCode, r.code(), r.Raw)
			if tc.wantMessage != "" {
				require.Contains(t, r.message(), tc.wantMessage)
			}
		})
	}
}

func TestIncidentLifecycle(t *testing.T) {
	t.Parallel()
	clk := newClock()
	opts := baseOptions()
	opts.Now = clk.Now
	s, srv := newStub(t, opts)
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	id := incPath("a1b2c3")

	// Create: read-only properties a client sends are ignored.
	r := call(t, pl, srv, http.MethodPut, id+sentinelV, incidentBody(map[string]any{
		"description": "EWS seen on Line 3", "incidentNumber": 7, "providerName": "Forged", "createdTimeUtc": "2001-01-01T00:00:00Z",
		"labels": []any{map[string]any{"labelName": "ot", "labelType": "AutoAssigned"}},
		"owner":  map[string]any{"objectId": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "email": "eng@example.com", "ownerType": "User"},
	}), nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	etag1 := r.str("etag")
	require.Regexp(t, `^"[0-9a-f-]{36}"$`, etag1)
	require.Equal(t, etag1, r.Header.Get("ETag"))
	require.Equal(t, id, r.str("id"))
	require.Equal(t, "a1b2c3", r.str("name"))
	require.Equal(t, "Microsoft.SecurityInsights/incidents", r.str("type"))
	p := r.props()
	require.EqualValues(t, 1000, p["incidentNumber"])
	require.Equal(t, "Azure Sentinel", p["providerName"])
	require.Equal(t, "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident"+id, p["incidentUrl"])
	require.NotEqual(t, "2001-01-01T00:00:00Z", p["createdTimeUtc"])
	require.Equal(t, []any{map[string]any{"labelName": "ot", "labelType": "User"}}, p["labels"], "labelType is read-only")
	require.Equal(t, "eng@example.com", p["owner"].(map[string]any)["email"])
	require.EqualValues(t, 0, p["additionalData"].(map[string]any)["commentsCount"])

	r = call(t, pl, srv, http.MethodPut, incPath("second")+sentinelV, incidentBody(nil), nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	require.EqualValues(t, 1001, r.props()["incidentNumber"])

	// Read it back under other casings of the ID.
	r = call(t, pl, srv, http.MethodGet, strings.ToUpper(id)+sentinelV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Equal(t, id, r.str("id"), "responses keep the ID as created")
	require.Equal(t, etag1, r.Header.Get("ETag"))

	// Update under If-Match: a new etag and modification time; a PUT replaces the writable properties.
	clk.Advance(time.Minute)
	r = call(t, pl, srv, http.MethodPut, id+sentinelV, incidentBody(map[string]any{"severity": "Medium", "status": "Active"}), map[string]string{"If-Match": etag1})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	etag2 := r.str("etag")
	require.NotEqual(t, etag1, etag2)
	inc, ok := s.Incident(id)
	require.True(t, ok)
	require.Equal(t, etag2, inc.Etag)
	require.Equal(t, "Active", inc.Properties.Status)
	require.Empty(t, inc.Properties.Description, "PUT replaces: an omitted description is cleared")
	require.Empty(t, inc.Properties.Labels)
	require.Equal(t, 1000, inc.Properties.IncidentNumber)
	require.True(t, inc.Properties.LastModifiedTimeUtc.After(inc.Properties.CreatedTimeUtc))

	// Optimistic concurrency.
	for _, tc := range []struct {
		name    string
		path    string
		body    map[string]any
		headers map[string]string
	}{
		{"stale If-Match", id, incidentBody(nil), map[string]string{"If-Match": etag1}},
		{"unquoted stale If-Match", id, incidentBody(nil), map[string]string{"If-Match": strings.Trim(etag1, `"`)}},
		{"stale body etag", id, func() map[string]any { b := incidentBody(nil); b["etag"] = etag1; return b }(), nil},
		{"If-Match on a new incident", incPath("new"), incidentBody(nil), map[string]string{"If-Match": etag2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, pl, srv, http.MethodPut, tc.path+sentinelV, tc.body, tc.headers)
			require.Equal(t, http.StatusPreconditionFailed, r.Status, r.Raw)
			require.Equal(t, "PreconditionFailed", r.code())
		})
	}
	inc, _ = s.Incident(id)
	require.Equal(t, etag2, inc.Etag, "a refused write changes nothing")
	_, ok = s.Incident(incPath("new"))
	require.False(t, ok)

	// The current etag, in the body and in If-Match, quoted or not, goes through.
	b := incidentBody(nil)
	b["etag"] = etag2
	r = call(t, pl, srv, http.MethodPut, id+sentinelV, b, map[string]string{"If-Match": strings.Trim(etag2, `"`)})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = call(t, pl, srv, http.MethodPut, id+sentinelV, incidentBody(nil), map[string]string{"If-Match": "*"})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	r = call(t, pl, srv, http.MethodGet, wsBase+"/incidents"+sentinelV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Len(t, r.Body["value"], 2)
	requireNoSecrets(t, s)
}

func TestIncidentValidation(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	id := incPath("v1")
	s.PutIncident(id, IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
	for _, tc := range []struct {
		name  string
		body  any
		want  int
		about string // a word the error message must contain
	}{
		{"no properties", map[string]any{"etag": nil}, http.StatusBadRequest, "properties"},
		{"no title", incidentBody(map[string]any{"title": nil}), http.StatusBadRequest, "title"},
		{"blank title", incidentBody(map[string]any{"title": "  "}), http.StatusBadRequest, "title"},
		{"no severity", incidentBody(map[string]any{"severity": nil}), http.StatusBadRequest, "severity"},
		{"bad severity", incidentBody(map[string]any{"severity": "Critical"}), http.StatusBadRequest, "severity"},
		{"lower-case severity", incidentBody(map[string]any{"severity": "high"}), http.StatusBadRequest, "severity"},
		{"bad status", incidentBody(map[string]any{"status": "Resolved"}), http.StatusBadRequest, "status"},
		{"status not a string", incidentBody(map[string]any{"status": 2}), http.StatusBadRequest, "status"},
		{"bad classification", incidentBody(map[string]any{"classification": "Benign"}), http.StatusBadRequest, "classification"},
		{"bad reason", incidentBody(map[string]any{"classification": "FalsePositive", "classificationReason": "Wrong"}), http.StatusBadRequest, "classificationReason"},
		{"bad owner type", incidentBody(map[string]any{"owner": map[string]any{"ownerType": "Robot"}}), http.StatusBadRequest, "ownerType"},
		{"bad owner objectId", incidentBody(map[string]any{"owner": map[string]any{"objectId": "bob"}}), http.StatusBadRequest, "objectId"},
		{"label without name", incidentBody(map[string]any{"labels": []any{map[string]any{"labelType": "User"}}}), http.StatusBadRequest, "labelName"},
		{"bad label type", incidentBody(map[string]any{"labels": []any{map[string]any{"labelName": "x", "labelType": "Auto"}}}), http.StatusBadRequest, "labelType"},
		{"bad activity time", incidentBody(map[string]any{"firstActivityTimeUtc": "yesterday"}), http.StatusBadRequest, "firstActivityTimeUtc"},
		{"closed without classification", incidentBody(map[string]any{"status": "Closed"}), http.StatusBadRequest, "classification"},
		{"closed with classification", incidentBody(map[string]any{"status": "Closed", "classification": "Undetermined"}), http.StatusOK, ""},
		{"closed as false positive", incidentBody(map[string]any{"status": "Closed", "classification": "FalsePositive", "classificationReason": "InaccurateData", "classificationComment": "sensor misread"}), http.StatusOK, ""},
		{"nulls for optional", incidentBody(map[string]any{"description": nil, "owner": nil, "labels": nil}), http.StatusOK, ""},
		{"unknown property ignored", incidentBody(map[string]any{"somethingNew": true, "additionalData": map[string]any{"commentsCount": 99}}), http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := s.Incident(id)
			r := call(t, pl, srv, http.MethodPut, id+sentinelV, tc.body, nil)
			require.Equal(t, tc.want, r.Status, r.Raw)
			if tc.want == http.StatusOK {
				require.EqualValues(t, 0, r.props()["additionalData"].(map[string]any)["commentsCount"])
				return
			}
			require.Equal(t, "BadRequest", r.code())
			require.Contains(t, r.message(), tc.about)
			after, _ := s.Incident(id)
			require.Equal(t, before, after, "a refused write changes nothing")
		})
	}
}

func TestConcurrentEdit(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	id := incPath("ce")
	s.PutIncident(id, IncidentProperties{Title: "t", Severity: "Low", Status: "New"})

	r := call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status)
	read := r.str("etag")

	s.InjectFaults(Faults{ConcurrentEdit: 1})
	// A GET or a comment PUT does not take the fault: it waits for an incident PUT.
	require.Equal(t, http.StatusOK, call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil).Status)
	require.Equal(t, http.StatusCreated, call(t, pl, srv, http.MethodPut, id+"/comments/c"+sentinelV, map[string]any{"properties": map[string]any{"message": "m"}}, nil).Status)

	r = call(t, pl, srv, http.MethodPut, id+sentinelV, incidentBody(map[string]any{"status": "Active"}), map[string]string{"If-Match": read})
	require.Equal(t, http.StatusPreconditionFailed, r.Status, r.Raw)
	reqs := s.Requests()
	require.Equal(t, "ConcurrentEdit", reqs[len(reqs)-1].Fault)

	// Read again, write again: through.
	r = call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil)
	reread := r.str("etag")
	require.NotEqual(t, read, reread)
	r = call(t, pl, srv, http.MethodPut, id+sentinelV, incidentBody(map[string]any{"status": "Active"}), map[string]string{"If-Match": reread})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)

	// What an analyst does in the portal, through the Go API, makes a held etag stale too.
	held := r.str("etag")
	edited, ok := s.EditIncident(strings.ToLower(id), func(p *IncidentProperties) { p.Severity = "High" })
	require.True(t, ok)
	require.NotEqual(t, held, edited.Etag)
	r = call(t, pl, srv, http.MethodPut, id+sentinelV, incidentBody(nil), map[string]string{"If-Match": held})
	require.Equal(t, http.StatusPreconditionFailed, r.Status, r.Raw)
	_, ok = s.EditIncident(incPath("none"), func(*IncidentProperties) {})
	require.False(t, ok)
}

func commentBody(msg string) map[string]any {
	return map[string]any{"properties": map[string]any{"message": msg}}
}

func TestComments(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	id := incPath("cm")

	r := call(t, pl, srv, http.MethodPut, id+"/comments/run-1-outcome"+sentinelV, commentBody("x"), nil)
	require.Equal(t, http.StatusNotFound, r.Status, "no incident, no comment")
	require.Equal(t, "NotFound", r.code())

	s.PutIncident(id, IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
	before, _ := s.Incident(id)
	r = call(t, pl, srv, http.MethodPut, id+"/comments/run-1-outcome"+sentinelV, commentBody("<p>first</p>"), nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	require.Equal(t, id+"/comments/run-1-outcome", r.str("id"))
	require.Equal(t, "Microsoft.SecurityInsights/incidents/comments", r.str("type"))
	require.Equal(t, r.str("etag"), r.Header.Get("ETag"))
	author := r.props()["author"].(map[string]any)
	require.Equal(t, "Interlock (stand-in app "+clientID+")", author["name"])
	require.True(t, isGUID(author["objectId"].(string)))

	// The retry of the same PUT replaces the comment; it never makes a second one.
	r = call(t, pl, srv, http.MethodPut, id+"/Comments/RUN-1-OUTCOME"+sentinelV, commentBody("<p>second</p>"), nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	inc, _ := s.Incident(id)
	require.Len(t, inc.Comments, 1)
	c := inc.Comments[0]
	require.Equal(t, "run-1-outcome", c.Name)
	require.Equal(t, "<p>second</p>", c.Message)
	require.Equal(t, 2, c.Writes)
	require.Equal(t, before.Etag, inc.Etag, "a comment is its own resource: the incident's etag stays")

	r = call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil)
	require.EqualValues(t, 1, r.props()["additionalData"].(map[string]any)["commentsCount"])

	require.Equal(t, http.StatusCreated, call(t, pl, srv, http.MethodPut, id+"/comments/run-2"+sentinelV, commentBody("two"), nil).Status)
	r = call(t, pl, srv, http.MethodGet, id+"/comments"+sentinelV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	value := r.Body["value"].([]any)
	require.Len(t, value, 2)
	require.Equal(t, "run-1-outcome", value[0].(map[string]any)["name"], "creation order")

	r = call(t, pl, srv, http.MethodGet, id+"/comments/run-2"+sentinelV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "two", r.props()["message"])
	require.Equal(t, http.StatusNotFound, call(t, pl, srv, http.MethodGet, id+"/comments/run-3"+sentinelV, nil, nil).Status)
	require.Equal(t, http.StatusNotFound, call(t, pl, srv, http.MethodGet, incPath("none")+"/comments"+sentinelV, nil, nil).Status)

	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"no message", map[string]any{"properties": map[string]any{}}, http.StatusBadRequest},
		{"empty message", commentBody(""), http.StatusBadRequest},
		{"message not a string", map[string]any{"properties": map[string]any{"message": 5}}, http.StatusBadRequest},
		{"no properties", map[string]any{}, http.StatusBadRequest},
		{"over 30,000 characters", commentBody(strings.Repeat("é", 30001)), http.StatusBadRequest},
		{"30,000 characters", commentBody(strings.Repeat("é", 30000)), http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, pl, srv, http.MethodPut, id+"/comments/"+strings.ReplaceAll(tc.name, " ", "-")+sentinelV, tc.body, nil)
			require.Equal(t, tc.want, r.Status, r.Raw)
		})
	}

	// Sentinel keeps at most 100 comments per incident.
	inc, _ = s.Incident(id)
	for i := len(inc.Comments); i < maxComments; i++ {
		r := call(t, pl, srv, http.MethodPut, id+"/comments/fill-"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+sentinelV, commentBody("f"), nil)
		require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	}
	r = call(t, pl, srv, http.MethodPut, id+"/comments/one-too-many"+sentinelV, commentBody("x"), nil)
	require.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
	require.Contains(t, r.message(), "100")
	require.Equal(t, http.StatusOK, call(t, pl, srv, http.MethodPut, id+"/comments/run-2"+sentinelV, commentBody("still editable"), nil).Status)
	inc, _ = s.Incident(id)
	require.Len(t, inc.Comments, maxComments)
	requireNoSecrets(t, s)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	id := incPath("f")
	setup := func(t *testing.T) (*Server, *httptest.Server) {
		s, srv := newStub(t, baseOptions())
		s.PutIncident(id, IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
		return s, srv
	}

	t.Run("429 with Retry-After, retried by azcore", func(t *testing.T) {
		t.Parallel()
		s, srv := setup(t)
		cred := secretCredential(t, srv, secret)
		s.InjectFaults(Faults{TooManyRequests: 1, RetryAfter: 1500 * time.Millisecond})
		r := call(t, newPipeline(srv, cred, noRetries), srv, http.MethodGet, id+sentinelV, nil, nil)
		require.Equal(t, http.StatusTooManyRequests, r.Status)
		require.Equal(t, "TooManyRequests", r.code())
		require.Equal(t, "2", r.Header.Get("Retry-After"), "whole seconds, rounded up")

		s.InjectFaults(Faults{TooManyRequests: 1, RetryAfter: time.Second})
		retrying := newPipeline(srv, cred, policy.RetryOptions{MaxRetries: 2, RetryDelay: 10 * time.Millisecond})
		start := time.Now()
		r = call(t, retrying, srv, http.MethodPut, id+"/comments/c"+sentinelV, commentBody("m"), nil)
		require.Equal(t, http.StatusCreated, r.Status, r.Raw)
		require.GreaterOrEqual(t, time.Since(start), time.Second, "azcore waited as Retry-After said")
		reqs := s.Requests()
		require.Equal(t, "TooManyRequests", reqs[len(reqs)-2].Fault)
		require.Equal(t, http.StatusTooManyRequests, reqs[len(reqs)-2].Status)
		inc, _ := s.Incident(id)
		require.Equal(t, 1, inc.Comments[0].Writes, "the throttled try did nothing")
	})

	t.Run("503, and tokens never take faults by default", func(t *testing.T) {
		t.Parallel()
		s, srv := setup(t)
		s.InjectFaults(Faults{Unavailable: 1})
		// This credential's first token request comes now: it must not take the fault.
		r := call(t, newPipeline(srv, secretCredential(t, srv, secret), noRetries), srv, http.MethodGet, id+sentinelV, nil, nil)
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		require.Equal(t, "ServiceUnavailable", r.code())
		reqs := s.Requests()
		require.Len(t, reqs, 3, "discovery, token, the GET")
		require.Empty(t, reqs[0].Fault)
		require.Empty(t, reqs[1].Fault)
		require.Equal(t, "Unavailable", reqs[2].Fault)
	})

	t.Run("Match picks the requests", func(t *testing.T) {
		t.Parallel()
		s, srv := setup(t)
		pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
		s.InjectFaults(Faults{Match: func(r *http.Request) bool { return r.Method == http.MethodPut }, Unavailable: 1})
		require.Equal(t, http.StatusOK, call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil).Status)
		require.Equal(t, http.StatusServiceUnavailable, call(t, pl, srv, http.MethodPut, id+"/comments/c"+sentinelV, commentBody("m"), nil).Status)
		require.Equal(t, http.StatusCreated, call(t, pl, srv, http.MethodPut, id+"/comments/c"+sentinelV, commentBody("m"), nil).Status)
	})

	t.Run("a hung write is carried out after the client gave up", func(t *testing.T) {
		t.Parallel()
		s, err := Open(baseOptions())
		require.NoError(t, err)
		s.PutIncident(id, IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
		// The wrapper tells the test when the stand-in has the whole request, so the client gives up
		// during the hang however slow the machine is.
		arrived := make(chan struct{}, 1)
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				data, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(data))
				arrived <- struct{}{}
			}
			s.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
		require.Equal(t, http.StatusOK, call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil).Status) // token in hand
		s.InjectFaults(Faults{Hang: 1, HangFor: 500 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		_, err = send(ctx, pl, srv, http.MethodPut, id+"/comments/late"+sentinelV, commentBody("late"), nil)
		require.ErrorIs(t, err, context.Canceled)
		srv.Close() // waits for the handler to finish (the cleanup's second Close is a no-op)
		inc, _ := s.Incident(id)
		require.Len(t, inc.Comments, 1)
		require.Equal(t, "late", inc.Comments[0].Message)
		reqs := s.Requests()
		require.Equal(t, "Hang", reqs[len(reqs)-1].Fault)
		require.Equal(t, http.StatusCreated, reqs[len(reqs)-1].Status)
	})

	t.Run("Close ends a hang", func(t *testing.T) {
		t.Parallel()
		s, srv := setup(t)
		pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
		require.Equal(t, http.StatusOK, call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil).Status)
		arrived := make(chan struct{})
		s.InjectFaults(Faults{Match: func(*http.Request) bool { close(arrived); return true }, Hang: 1, HangFor: time.Hour})
		done := make(chan reply, 1)
		go func() {
			resp, err := send(context.Background(), pl, srv, http.MethodGet, id+sentinelV, nil, nil)
			if err != nil {
				done <- reply{Status: -1, Raw: err.Error()}
				return
			}
			resp.Body.Close()
			done <- reply{Status: resp.StatusCode}
		}()
		<-arrived
		require.NoError(t, s.Close())
		select {
		case r := <-done:
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
		case <-time.After(30 * time.Second): // a safeguard, not an ordering: the hang is an hour
			t.Fatal("Close did not end the hang")
		}
	})
}

func TestAlerts(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	aid := "903e76ff-17eb-4bac-ac8a-2bc31ab68fd8"
	start := time.Date(2026, 11, 20, 8, 14, 31, 0, time.UTC)
	seeded := s.PutAlert(alertPath(aid), AlertProperties{Severity: "Medium", AlertType: "IoT_UnauthorizedPLCProgramming", DisplayName: "Unauthorized PLC programming", StartTimeUtc: start, EndTimeUtc: start})
	require.Equal(t, "New", seeded.Properties.Status)
	require.Equal(t, aid, seeded.Properties.SystemAlertID)
	require.Equal(t, Alert{}, s.PutAlert("/subscriptions/x/alerts", AlertProperties{}), "not an alert path")

	r := call(t, pl, srv, http.MethodGet, strings.Replace(alertPath(aid), "deviceGroups", "devicegroups", 1)+iotV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Equal(t, alertPath(aid), r.str("id"))
	require.Equal(t, aid, r.str("name"))
	require.Equal(t, "Microsoft.IoTSecurity/alerts", r.str("type"))
	p := r.props()
	require.Equal(t, "New", p["status"])
	require.Equal(t, "Medium", p["severity"])
	require.Equal(t, aid, p["systemAlertId"])
	require.Equal(t, "2026-11-20T08:14:31Z", p["startTimeUtc"])
	require.NotNil(t, r.Body["systemData"].(map[string]any)["lastModifiedAt"])

	r = call(t, pl, srv, http.MethodPatch, alertPath(aid)+iotV, map[string]any{"properties": map[string]any{"status": "Closed"}}, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Equal(t, "Closed", r.props()["status"])
	require.Equal(t, "Medium", r.props()["severity"], "only what the PATCH names changes")
	require.Equal(t, "Interlock (stand-in app "+clientID+")", r.Body["systemData"].(map[string]any)["lastModifiedBy"])
	a, ok := s.Alert(strings.ToUpper(alertPath(aid)))
	require.True(t, ok)
	require.Equal(t, "Closed", a.Properties.Status)

	r = call(t, pl, srv, http.MethodPatch, alertPath(aid)+iotV, map[string]any{"properties": map[string]any{"status": "InProgress", "severity": "High"}}, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	a, _ = s.Alert(alertPath(aid))
	require.Equal(t, "InProgress", a.Properties.Status)
	require.Equal(t, "High", a.Properties.Severity)

	for _, tc := range []struct {
		name string
		path string
		body any
		want int
	}{
		{"bad status", alertPath(aid) + iotV, map[string]any{"properties": map[string]any{"status": "Resolved"}}, http.StatusBadRequest},
		{"bad severity", alertPath(aid) + iotV, map[string]any{"properties": map[string]any{"severity": "Critical"}}, http.StatusBadRequest},
		{"read-only property", alertPath(aid) + iotV, map[string]any{"properties": map[string]any{"status": "Closed", "displayName": "x"}}, http.StatusBadRequest},
		{"nothing to change", alertPath(aid) + iotV, map[string]any{"properties": map[string]any{}}, http.StatusBadRequest},
		{"no properties", alertPath(aid) + iotV, map[string]any{"status": "Closed"}, http.StatusBadRequest},
		{"unknown alert", alertPath("nope") + iotV, map[string]any{"properties": map[string]any{"status": "Closed"}}, http.StatusNotFound},
		{"Sentinel api-version", alertPath(aid) + sentinelV, map[string]any{"properties": map[string]any{"status": "Closed"}}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, pl, srv, http.MethodPatch, tc.path, tc.body, nil)
			require.Equal(t, tc.want, r.Status, r.Raw)
			a, _ := s.Alert(alertPath(aid))
			require.Equal(t, "InProgress", a.Properties.Status, "a refused PATCH changes nothing")
		})
	}
	require.Equal(t, http.StatusNotFound, call(t, pl, srv, http.MethodGet, alertPath("nope")+iotV, nil, nil).Status)
	r = call(t, pl, srv, http.MethodGet, alertsBase+iotV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, r.Body["value"], 1)
	require.Len(t, s.Alerts(), 1)
	requireNoSecrets(t, s)
}

func TestRequestLog(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	tok := func() string {
		require.Equal(t, http.StatusNotFound, call(t, pl, srv, http.MethodGet, incPath("x")+sentinelV, nil, nil).Status)
		return s.IssuedTokens()[0]
	}()
	// A misbehaving client puts credentials in the URL: the log keeps the parameter, not the value.
	r := rawCall(t, srv, http.MethodGet, incPath("x")+sentinelV+"&access_token="+tok+"&client_secret="+secret+"&sig=abc&$top=5", "", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	require.Equal(t, http.MethodGet, last.Method)
	require.Equal(t, incPath("x"), last.Path)
	require.Equal(t, strings.TrimPrefix(srv.URL, "https://"), last.Host)
	require.Equal(t, http.StatusUnauthorized, last.Status)
	require.Equal(t, "%24top=5&access_token=%5Bredacted%5D&api-version=2025-12-01&client_secret=%5Bredacted%5D&sig=%5Bredacted%5D", last.Query)
	requireNoSecrets(t, s)
}

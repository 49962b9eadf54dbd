package intake

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/rules"
)

const (
	testToken   = "t0ken-for-tests-0123456789abcdef"
	testSecret  = "hmac-secret-for-tests"
	testMaxBody = 16 << 10
)

var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

type testEnv struct {
	url     string
	starter *fakeStarter
}

// newTestEnv runs a Server on a loopback httptest server: bearer and HMAC both configured, rules that
// select the station playbook, a fixed clock.
func newTestEnv(t *testing.T, mod func(*Options)) testEnv {
	t.Helper()
	starter := newFakeStarter()
	opts := Options{
		Rules: fakeRules{
			playbooks: []string{pbStation},
			matches:   []rules.Match{{Rule: "new-station", Order: 1, Actions: []string{"run playbook " + pbStation}}},
		},
		Playbooks:    testRegistry(),
		Starter:      starter,
		Auth:         AuthConfig{Tokens: []string{"an-older-token-still-valid", testToken}, HMACSecret: []byte(testSecret)},
		MaxBodyBytes: testMaxBody,
		UIURL:        "http://ui.test:8233/",
		Namespace:    "default",
		Now:          func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&opts)
	}
	srv, err := New(opts)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return testEnv{url: hs.URL, starter: starter}
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "body: %s", a.body)
	return m
}

func (a answer) response(t *testing.T) Response {
	t.Helper()
	var r Response
	require.NoError(t, json.Unmarshal(a.body, &r), "body: %s", a.body)
	return r
}

// do sends one request; prep may set headers (it gets the body for signing).
func do(t *testing.T, method, url string, body []byte, prep func(*http.Request, []byte)) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if prep != nil {
		prep(req, body)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{code: resp.StatusCode, header: resp.Header, body: b}
}

func bearerJSON(r *http.Request, _ []byte) {
	r.Header.Set("Authorization", "Bearer "+testToken)
	r.Header.Set("Content-Type", "application/json")
}

func signedJSON(at time.Time) func(*http.Request, []byte) {
	return func(r *http.Request, body []byte) {
		r.Header.Set("Content-Type", "application/json")
		SignRequest(r, []byte(testSecret), body, at)
	}
}

func TestHTTPStatuses(t *testing.T) {
	t.Parallel()
	station := fixture(t, fixtureStation)
	missingName := []byte(`{"objectSchemaType":"Incident","objectEventType":"Create","object":{"properties":{"title":"x"}}}`)
	unavailable := func(StartRequest, int) error {
		return fmt.Errorf("%w: dial tcp 127.0.0.1:7233: connection refused", ErrUnavailable)
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       []byte
		prep       func(*http.Request, []byte)
		mod        func(*Options)
		wantCode   int
		wantField  string
		wantInBody string
		wantHeader map[string]string
		wantStarts int
	}{
		{name: "no auth", path: "/v1/incidents", body: station,
			prep:     func(r *http.Request, _ []byte) { r.Header.Set("Content-Type", "application/json") },
			wantCode: 401, wantHeader: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "bad token", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, _ []byte) {
				r.Header.Set("Authorization", "Bearer wrong-token-XYZZY")
				r.Header.Set("Content-Type", "application/json")
			},
			wantCode: 401, wantHeader: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "token prefix is not the token", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, _ []byte) {
				r.Header.Set("Authorization", "Bearer "+testToken[:10])
				r.Header.Set("Content-Type", "application/json")
			},
			wantCode: 401},
		{name: "bad signature", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, body []byte) {
				signedJSON(testNow)(r, body)
				r.Header.Set(SignatureHeader, "sha256="+strings.Repeat("ab", 32))
			},
			wantCode: 401, wantInBody: SignatureHeader},
		{name: "signature over another body", path: "/v1/incidents", body: station,
			prep:     func(r *http.Request, _ []byte) { signedJSON(testNow)(r, []byte(`{}`)) },
			wantCode: 401},
		{name: "signature with another secret", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, body []byte) {
				r.Header.Set("Content-Type", "application/json")
				SignRequest(r, []byte("not-the-secret"), body, testNow)
			},
			wantCode: 401},
		{name: "stale timestamp", path: "/v1/incidents", body: station,
			prep: signedJSON(testNow.Add(-DefaultReplayWindow - time.Second)), wantCode: 401, wantInBody: TimestampHeader},
		{name: "timestamp from the future", path: "/v1/incidents", body: station,
			prep: signedJSON(testNow.Add(DefaultReplayWindow + time.Second)), wantCode: 401},
		{name: "timestamp not a number", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, body []byte) {
				signedJSON(testNow)(r, body)
				r.Header.Set(TimestampHeader, testNow.Format(time.RFC3339))
			},
			wantCode: 401},
		{name: "no credentials configured fails closed", path: "/v1/incidents", body: station,
			mod: func(o *Options) { o.Auth = AuthConfig{} }, prep: bearerJSON, wantCode: 401},
		{name: "good bearer", path: "/v1/incidents", body: station, prep: bearerJSON, wantCode: 202, wantStarts: 1},
		{name: "bearer scheme is case-insensitive", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, _ []byte) {
				r.Header.Set("Authorization", "bearer "+testToken)
				r.Header.Set("Content-Type", "application/json")
			},
			wantCode: 202, wantStarts: 1},
		{name: "good HMAC", path: "/v1/incidents", body: station, prep: signedJSON(testNow), wantCode: 202, wantStarts: 1},
		{name: "HMAC inside the window", path: "/v1/incidents", body: station,
			prep: signedJSON(testNow.Add(-DefaultReplayWindow + time.Second)), wantCode: 202, wantStarts: 1},
		{name: "bad bearer but good HMAC", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, body []byte) {
				signedJSON(testNow)(r, body)
				r.Header.Set("Authorization", "Bearer wrong")
			},
			wantCode: 202, wantStarts: 1},
		{name: "HMAC only configured", path: "/v1/incidents", body: station,
			mod:  func(o *Options) { o.Auth = AuthConfig{HMACSecret: []byte(testSecret), ReplayWindow: time.Minute} },
			prep: signedJSON(testNow.Add(-50 * time.Second)), wantCode: 202, wantStarts: 1},
		{name: "HMAC only configured, outside its window", path: "/v1/incidents", body: station,
			mod:  func(o *Options) { o.Auth = AuthConfig{HMACSecret: []byte(testSecret), ReplayWindow: time.Minute} },
			prep: signedJSON(testNow.Add(-70 * time.Second)), wantCode: 401},
		{name: "unauthenticated allowed", path: "/v1/incidents", body: station,
			mod:      func(o *Options) { o.Auth = AuthConfig{AllowUnauthenticated: true} },
			prep:     func(r *http.Request, _ []byte) { r.Header.Set("Content-Type", "application/json") },
			wantCode: 202, wantStarts: 1},
		{name: "charset parameter", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, b []byte) {
				bearerJSON(r, b)
				r.Header.Set("Content-Type", "application/json; charset=utf-8")
			},
			wantCode: 202, wantStarts: 1},
		{name: "body too large", path: "/v1/incidents", body: bytes.Repeat([]byte(" "), testMaxBody+1), prep: bearerJSON,
			wantCode: 413},
		{name: "body too large for a signed request", path: "/v1/incidents", body: bytes.Repeat([]byte(" "), testMaxBody+1),
			prep: signedJSON(testNow), wantCode: 413},
		{name: "wrong content type", path: "/v1/incidents", body: station,
			prep: func(r *http.Request, b []byte) {
				bearerJSON(r, b)
				r.Header.Set("Content-Type", "text/plain")
			},
			wantCode: 415},
		{name: "no content type", path: "/v1/incidents", body: station,
			prep:     func(r *http.Request, _ []byte) { r.Header.Set("Authorization", "Bearer "+testToken) },
			wantCode: 415},
		{name: "malformed JSON", path: "/v1/incidents", body: []byte(`{"object": {`), prep: bearerJSON,
			wantCode: 400, wantField: "body"},
		{name: "missing field", path: "/v1/incidents", body: missingName, prep: bearerJSON,
			wantCode: 400, wantField: "object.name"},
		{name: "unknown playbook", path: "/v1/playbooks/NoSuchPlaybook/runs", body: station, prep: bearerJSON,
			wantCode: 404, wantInBody: "NoSuchPlaybook"},
		{name: "unknown playbook needs auth first", path: "/v1/playbooks/NoSuchPlaybook/runs", body: station,
			prep:     func(r *http.Request, _ []byte) { r.Header.Set("Content-Type", "application/json") },
			wantCode: 401},
		{name: "named run", path: "/v1/playbooks/" + pbPLC + "/runs", body: station, prep: bearerJSON,
			wantCode: 202, wantStarts: 1},
		{name: "named run, malformed JSON", path: "/v1/playbooks/" + pbPLC + "/runs", body: []byte(`nope`), prep: bearerJSON,
			wantCode: 400, wantField: "body"},
		{name: "wrong method", method: http.MethodPut, path: "/v1/incidents", prep: bearerJSON,
			wantCode: 405, wantHeader: map[string]string{"Allow": "POST, GET"}},
		{name: "wrong method on runs", method: http.MethodPut, path: "/v1/playbooks/" + pbPLC + "/runs", body: station, prep: bearerJSON,
			wantCode: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "wrong method on healthz", method: http.MethodPost, path: "/healthz",
			wantCode: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "Temporal unavailable", path: "/v1/incidents", body: station, prep: bearerJSON,
			mod: func(o *Options) { o.Starter.(*fakeStarter).fail = unavailable }, wantCode: 503,
			wantHeader: map[string]string{"Retry-After": "5"}, wantInBody: pbStation},
		{name: "start deadline", path: "/v1/incidents", body: station, prep: bearerJSON,
			mod: func(o *Options) {
				o.Starter.(*fakeStarter).fail = func(StartRequest, int) error { return fmt.Errorf("start: %w", context.DeadlineExceeded) }
			},
			wantCode: 503, wantHeader: map[string]string{"Retry-After": "5"}},
		{name: "Temporal refuses the start", path: "/v1/incidents", body: station, prep: bearerJSON,
			mod: func(o *Options) {
				o.Starter.(*fakeStarter).fail = func(StartRequest, int) error { return errors.New("search attribute InterlockSite is not defined") }
			},
			wantCode: 500},
		{name: "rules select an unregistered playbook", path: "/v1/incidents", body: station, prep: bearerJSON,
			mod:      func(o *Options) { o.Rules = fakeRules{playbooks: []string{pbStation, "Gone"}} },
			wantCode: 500, wantInBody: "Gone"},
		{name: "no rule matched", path: "/v1/incidents", body: station, prep: bearerJSON,
			mod: func(o *Options) { o.Rules = fakeRules{} }, wantCode: 200},
		{name: "unknown v1 route without auth", path: "/v1/nothing", prep: bearerJSON, method: http.MethodGet, wantCode: 404},
		{name: "unknown v1 route demands auth", path: "/v1/nothing", method: http.MethodGet, wantCode: 401},
		{name: "runs path with a slash in the name", path: "/v1/playbooks/a/b/runs", body: station, prep: bearerJSON, wantCode: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, func(o *Options) {
				if tc.mod != nil {
					tc.mod(o)
				}
			})
			a := do(t, cmp.Or(tc.method, http.MethodPost), env.url+tc.path, tc.body, tc.prep)
			require.Equal(t, tc.wantCode, a.code, "body: %s", a.body)
			require.Equal(t, "application/json", a.header.Get("Content-Type"))
			for k, v := range tc.wantHeader {
				require.Contains(t, a.header.Get(k), v, k)
			}
			require.Len(t, env.starter.recorded(), tc.wantStarts)
			m := a.json(t)
			if tc.wantCode >= 400 {
				require.NotEmpty(t, m["error"])
				require.NotContains(t, string(a.body), testToken[:8], "an answer must never echo a token")
				require.NotContains(t, string(a.body), "XYZZY")
			}
			if tc.wantField != "" {
				require.Equal(t, tc.wantField, m["field"])
			}
			if tc.wantInBody != "" {
				require.Contains(t, m["error"], tc.wantInBody)
			}
		})
	}
}

package intake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/rules"
)

// flaky answers the first n requests with 503 and Retry-After: 0 (so the test does not wait), then
// hands over to next.
func flaky(n int32, next http.Handler) (http.Handler, *atomic.Int32) {
	var seen atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			w.Header().Set("Retry-After", "0")
			writeError(w, http.StatusServiceUnavailable, "Temporal is unavailable", "")
			return
		}
		next.ServeHTTP(w, r)
	}), &seen
}

func newIntake(t *testing.T, auth AuthConfig, r RuleEvaluator) (*Server, *fakeStarter) {
	t.Helper()
	starter := newFakeStarter()
	srv, err := New(Options{
		Rules: r, Playbooks: testRegistry(), Starter: starter, Auth: auth,
		UIURL: "http://ui.test:8233", Namespace: "default",
	})
	require.NoError(t, err)
	return srv, starter
}

func TestTrigger(t *testing.T) {
	t.Parallel()
	body := fixture(t, fixtureStation)
	selectStation := fakeRules{playbooks: []string{pbStation}, matches: []rules.Match{{Rule: "new-station", Order: 1}}}
	tests := []struct {
		name      string
		auth      AuthConfig
		rules     RuleEvaluator
		token     string
		secret    string
		fail503   int32
		wantErr   string
		wantOut   []string
		wantTries int32
	}{
		{name: "bearer", auth: AuthConfig{Tokens: []string{testToken}}, rules: selectStation, token: testToken,
			wantOut:   []string{"incident 3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c (#4312); rules matched: new-station", "PLAYBOOK", "STATUS", pbStation, "started", pbStation + "/3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c", "http://ui.test:8233/namespaces/default/workflows/"},
			wantTries: 1},
		{name: "hmac", auth: AuthConfig{HMACSecret: []byte(testSecret)}, rules: selectStation, secret: testSecret,
			wantOut: []string{"started"}, wantTries: 1},
		{name: "retries 503 then succeeds", auth: AuthConfig{Tokens: []string{testToken}}, rules: selectStation, token: testToken,
			fail503: 2, wantOut: []string{"intake unavailable (Temporal is unavailable); retrying in 0s (attempt 2 of 5)", "attempt 3 of 5", "started"},
			wantTries: 3},
		{name: "gives up after the retries", auth: AuthConfig{Tokens: []string{testToken}}, rules: selectStation, token: testToken,
			fail503: 100, wantErr: "still unavailable after 5 attempts: Temporal is unavailable", wantTries: 5},
		{name: "no playbook selected", auth: AuthConfig{Tokens: []string{testToken}}, rules: fakeRules{}, token: testToken,
			wantOut: []string{"no playbook selected"}, wantTries: 1},
		{name: "refused token", auth: AuthConfig{Tokens: []string{testToken}}, rules: selectStation, token: "wrong",
			wantErr: "intake answered 401 Unauthorized: missing or invalid credentials", wantTries: 1},
		{name: "bad body names the field", auth: AuthConfig{Tokens: []string{testToken}}, rules: selectStation, token: testToken,
			wantErr: "(field object.name)", wantTries: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, starter := newIntake(t, tc.auth, tc.rules)
			h, tries := flaky(tc.fail503, srv)
			hs := httptest.NewServer(h)
			t.Cleanup(hs.Close)

			send := body
			if strings.Contains(tc.name, "bad body") {
				send = []byte(`{"object":{"properties":{}}}`)
			}
			var out strings.Builder
			err := Trigger(t.Context(), hs.Client(), hs.URL+"/", tc.token, []byte(tc.secret), send, &out)
			require.Equal(t, tc.wantTries, tries.Load())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Empty(t, starter.recorded())
				return
			}
			require.NoError(t, err)
			for _, want := range tc.wantOut {
				require.Contains(t, out.String(), want)
			}
		})
	}
}

func TestTriggerStopsWaitingOnCancel(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, "down", "")
	}))
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := Trigger(ctx, hs.Client(), hs.URL, "tok", nil, []byte(`{}`), &strings.Builder{})
	require.ErrorContains(t, err, "context deadline exceeded")
	require.Less(t, time.Since(began), 10*time.Second)
}

func TestTriggerSanitisesTerminalOutput(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusAccepted, Response{
			Incident: "inc\x1b[2J", Runs: []Run{{Playbook: "PB", WorkflowID: "PB/inc\x1b]0;pwned\x07", Status: "started"}},
		})
	}))
	t.Cleanup(hs.Close)
	var out strings.Builder
	require.NoError(t, Trigger(t.Context(), hs.Client(), hs.URL, "tok", nil, []byte(`{}`), &out))
	require.NotContains(t, out.String(), "\x1b")
	require.NotContains(t, out.String(), "\x07")
	require.Contains(t, out.String(), "inc?[2J")
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"":       5 * time.Second,
		"0":      0,
		"7":      7 * time.Second,
		"-3":     5 * time.Second,
		"soon":   5 * time.Second,
		"100000": time.Minute,
	} {
		require.Equal(t, want, parseRetryAfter(in), in)
	}
}

func TestRunPlaybook(t *testing.T) {
	t.Parallel()
	srv, starter := newIntake(t, AuthConfig{Tokens: []string{testToken}}, fakeRules{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	var out strings.Builder
	require.NoError(t, RunPlaybook(t.Context(), hs.Client(), hs.URL, pbStation, testToken, nil, fixture(t, fixtureStation), &out))
	require.Contains(t, out.String(), pbStation+"/3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c")
	require.Len(t, starter.recorded(), 1, "the named playbook runs although no rule selects it")

	err := RunPlaybook(t.Context(), hs.Client(), hs.URL, "NoSuchPlaybook", testToken, nil, fixture(t, fixtureStation), &out)
	require.ErrorContains(t, err, "404")
	require.Len(t, starter.recorded(), 1)
}

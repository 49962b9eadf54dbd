package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIncidentsCommands drives each subcommand against an HTTP server that records what the CLI
// asked the intake for.
func TestIncidentsCommands(t *testing.T) {
	type call struct {
		method, path, query, actor string
		body                       map[string]any
	}
	var mu sync.Mutex
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := call{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, actor: r.Header.Get("X-Interlock-Actor")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			require.NoError(t, json.Unmarshal(b, &c.body))
		}
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/incidents":
			_, _ = io.WriteString(w, `{"incidents":[{"id":"ot-sensor-1","title":"Unauthorized PLC Programming \u001b[31m","status":"New","severity":"High"}]}`)
		case r.Method == http.MethodGet:
			_, _ = io.WriteString(w, `{"incident":{"id":"ot-sensor-1","title":"x","status":"Active","severity":"High","impact":{"statement":"Line 3: PLC-L3-01","risk":"high"}},"summary":"x — PLC-L3-01","seq":1,"records":1,"duplicates":0,"timeline":[{"seq":1,"at":"2026-12-02T10:00:00Z","actor":"alert intake","kind":"created","text":"created"}]}`)
		case r.URL.Path == "/v1/incidents/ot-sensor-bad":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"classification: closing needs a classification","field":"classification"}`)
		default:
			_, _ = io.WriteString(w, `{"incident":"ot-sensor-1","status":"Closed","severity":"High","changes":["status Active → Closed"],"commentId":"c1"}`)
		}
	}))
	defer srv.Close()
	env := map[string]string{"USER": "alice"}
	cli := func(args ...string) (string, error) {
		out, _, err := runCmd(t, env, append([]string{"incidents"}, append(args, "--url", srv.URL)...)...)
		return out, err
	}

	out, err := cli("list", "--site", "Rotterdam Plant")
	require.NoError(t, err)
	require.Contains(t, out, "ot-sensor-1")
	require.NotContains(t, out, "\x1b", "alert text cannot drive the terminal")
	out, err = cli("show", "ot-sensor-1")
	require.NoError(t, err)
	require.Contains(t, out, "impact: Line 3: PLC-L3-01")
	_, err = cli("assign", "ot-sensor-1", "bob@example.com")
	require.NoError(t, err)
	_, err = cli("close", "ot-sensor-1", "FalsePositive", "InaccurateData", "--comment", "sensor misconfigured")
	require.NoError(t, err)
	out, err = cli("comment", "ot-sensor-1", "looked at it")
	require.NoError(t, err)
	require.Contains(t, out, "comment c1 added")
	_, err = cli("close", "ot-sensor-bad", "Nope")
	require.ErrorContains(t, err, "closing needs a classification")
	_, err = cli("assign", "ot-sensor-1")
	require.Error(t, err, "assign needs an owner")

	require.Equal(t, "limit=50&open=true&site=Rotterdam+Plant", calls[0].query)
	require.Equal(t, "/v1/incidents/ot-sensor-1", calls[1].path)
	require.Equal(t, call{method: http.MethodPatch, path: "/v1/incidents/ot-sensor-1", actor: "cli:alice", body: map[string]any{"owner": "bob@example.com"}}, calls[2])
	require.Equal(t, map[string]any{"status": "Closed", "classification": "FalsePositive", "classificationReason": "InaccurateData", "classificationComment": "sensor misconfigured"}, calls[3].body)
	require.Equal(t, "/v1/incidents/ot-sensor-1/comments", calls[4].path)
	require.Equal(t, map[string]any{"message": "looked at it"}, calls[4].body)
}

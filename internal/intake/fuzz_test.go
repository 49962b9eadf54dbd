package intake

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// FuzzIncidentsHandler posts arbitrary bodies, with valid auth, to the handler in-process. Whatever the
// body, the handler must not panic, must answer one of the statuses a client error or success can
// produce, and must start a workflow only when it answers 2xx.
func FuzzIncidentsHandler(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, seeds)
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"id":"a","title":"t"}`, `{"object":{"name":"x"}}`, `{"object":{"properties":{}}}`} {
		f.Add([]byte(s))
	}

	// One server for the whole run: the fuzz function runs sequentially within a worker process, so the
	// starter's call count before and after each request shows whether that request started anything.
	starter := newFakeStarter()
	srv, err := New(Options{
		Rules: fakeRules{playbooks: []string{pbStation, pbPLC}}, Playbooks: testRegistry(), Starter: starter,
		Auth: AuthConfig{Tokens: []string{testToken}}, MaxBodyBytes: testMaxBody,
		Registerer: prometheus.NewRegistry(),
	})
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/incidents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		before := starter.callCount()
		srv.ServeHTTP(rec, req)
		calls := starter.callCount() - before

		require.True(t, slices.Contains([]int{200, 202, 400, 413, 415}, rec.Code), "status %d: %s", rec.Code, rec.Body)
		if rec.Code >= 300 {
			require.Zero(t, calls, "no start may happen on %d", rec.Code)
		} else {
			require.Equal(t, 2, calls, "both selected playbooks are started (or found) on %d", rec.Code)
		}
	})
}

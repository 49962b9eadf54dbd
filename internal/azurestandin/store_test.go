package azurestandin

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStateFileRoundTrip(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "state", "azure.json")
	opts := baseOptions()
	opts.File = file

	s1, err := Open(opts)
	require.NoError(t, err)
	srv1 := httptest.NewTLSServer(s1)
	pl := newPipeline(srv1, secretCredential(t, srv1, secret), noRetries)
	r := call(t, pl, srv1, http.MethodPut, incPath("p1")+sentinelV, incidentBody(map[string]any{"labels": []any{map[string]any{"labelName": "ot"}}}), nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	require.Equal(t, http.StatusCreated, call(t, pl, srv1, http.MethodPut, incPath("p1")+"/comments/c1"+sentinelV, commentBody("hello"), nil).Status)
	s1.PutAlert(alertPath("a1"), AlertProperties{Severity: "High", AlertType: "T"})
	token := s1.IssuedTokens()[0]
	before, _ := s1.Incident(incPath("p1"))
	srv1.Close()
	require.NoError(t, s1.Close())

	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NotContains(t, string(data), token, "the state file holds token hashes, never tokens")
	require.NotContains(t, string(data), secret)
	fi, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	s2, srv2 := newStub(t, opts)
	after, ok := s2.Incident(incPath("p1"))
	require.True(t, ok)
	require.Equal(t, before.Etag, after.Etag)
	require.Equal(t, before.Properties.IncidentNumber, after.Properties.IncidentNumber)
	require.True(t, before.Properties.CreatedTimeUtc.Equal(after.Properties.CreatedTimeUtc))
	require.Equal(t, []Label{{LabelName: "ot", LabelType: "User"}}, after.Properties.Labels)
	require.Len(t, after.Comments, 1)
	require.Equal(t, "hello", after.Comments[0].Message)
	a, ok := s2.Alert(alertPath("a1"))
	require.True(t, ok)
	require.Equal(t, "High", a.Properties.Severity)

	// A client that kept its token across the restart is still let in; numbering goes on.
	pl2 := newPipeline(srv2, staticCred(token), noRetries)
	r = call(t, pl2, srv2, http.MethodPut, incPath("p2")+sentinelV, incidentBody(nil), nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	require.EqualValues(t, before.Properties.IncidentNumber+1, r.props()["incidentNumber"])
	r = call(t, pl2, srv2, http.MethodGet, incPath("p1")+"/comments/c1"+sentinelV, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Equal(t, "Interlock (stand-in app "+clientID+")", r.props()["author"].(map[string]any)["name"])
}

func TestOpenRejectsCorruptFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "azure.json")
	require.NoError(t, os.WriteFile(file, []byte("not json"), 0o600))
	_, err := Open(Options{File: file})
	require.ErrorContains(t, err, "not a stand-in state file")
	s := New(Options{File: file})
	require.Equal(t, "in memory", s.file.Storage(), "a file that did not load is never overwritten")
	s.PutIncident(incPath("x"), IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
	require.NoError(t, s.Close())
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Equal(t, "not json", string(data))
}

func TestSeeding(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return at }})

	require.Equal(t, Incident{}, s.PutIncident("/subscriptions/x/not/an/incident", IncidentProperties{}))

	seeded := s.PutIncident(incPath("s1"), IncidentProperties{Title: "t", Severity: "Low", Status: "New", IncidentNumber: 4318,
		Labels: []Label{{LabelName: "ot"}}})
	require.Equal(t, 4318, seeded.Properties.IncidentNumber)
	require.Equal(t, "Azure Sentinel", seeded.Properties.ProviderName)
	require.Equal(t, at, seeded.Properties.CreatedTimeUtc)
	require.Equal(t, "User", seeded.Properties.Labels[0].LabelType)
	next := s.PutIncident(incPath("s2"), IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
	require.Equal(t, 4319, next.Properties.IncidentNumber, "a seeded number is never handed out again")

	// Replacing keeps the number; a new etag every time.
	replaced := s.PutIncident(strings.ToUpper(incPath("s1")), IncidentProperties{Title: "t2", Severity: "High", Status: "Active"})
	require.Equal(t, 4318, replaced.Properties.IncidentNumber)
	require.NotEqual(t, seeded.Etag, replaced.Etag)
	require.Equal(t, incPath("s1"), replaced.ID, "the ID keeps the casing it was created with")

	// Copies: changing what was returned changes nothing stored.
	seeded.Properties.Labels[0].LabelName = "changed"
	got, _ := s.Incident(incPath("s1"))
	require.Empty(t, got.Properties.Labels)
	require.Len(t, s.Incidents(), 2)
	require.Equal(t, "s1", s.Incidents()[0].Name)
}

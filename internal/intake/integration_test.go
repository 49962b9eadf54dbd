package intake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/workflows"
)

// integration shares one real Temporal dev server among this package's integration tests; unit tests
// never start it.
var integration = testenv.New()

func TestMain(m *testing.M) { integration.Main(m) }

// uniqueID keeps workflow IDs apart across -count runs against the same server.
func uniqueID(t *testing.T) string {
	return fmt.Sprintf("%s-%d", t.Name(), time.Now().UnixNano())
}

// TestTemporalStarterOnRealServer proves the reuse/conflict policy against the real server: a second
// start of a running workflow ID and a start after the run closed both come back deduplicated with the
// first run's ID. No worker is needed: a started workflow stays Running until terminated.
func TestTemporalStarterOnRealServer(t *testing.T) {
	t.Parallel()
	srv := integration.Temporal(t)
	ctx := t.Context()
	inc := incident.Incident{ID: uniqueID(t), Number: 7, Title: "t", Severity: incident.SeverityHigh}
	s := &TemporalStarter{Client: srv.Client}
	req := StartRequest{
		WorkflowID:       "IntakeTest/" + inc.ID,
		WorkflowType:     "IntakeTest",
		Input:            inc,
		SearchAttributes: workflows.SearchAttributesFor("IntakeTest", inc),
	}

	first, err := s.Start(ctx, req)
	require.NoError(t, err)
	require.False(t, first.Deduplicated)
	require.NotEmpty(t, first.RunID)

	again, err := s.Start(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StartResult{RunID: first.RunID, Deduplicated: true}, again, "running run")

	require.NoError(t, srv.Client.TerminateWorkflow(ctx, req.WorkflowID, first.RunID, "intake test"))
	afterClose, err := s.Start(ctx, req)
	require.NoError(t, err)
	require.Equal(t, StartResult{RunID: first.RunID, Deduplicated: true}, afterClose, "closed run")

	desc, err := srv.Client.DescribeWorkflow(ctx, req.WorkflowID, "")
	require.NoError(t, err)
	require.Equal(t, first.RunID, desc.RawResponse.WorkflowExecutionInfo.Execution.RunId, "no second run was made")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, desc.RawResponse.WorkflowExecutionInfo.Status)
}

// TestConcurrentDuplicatesOnRealServer posts the same incident 20 times at once through the real
// intake and the real server: exactly one run is started, and every answer names it.
func TestConcurrentDuplicatesOnRealServer(t *testing.T) {
	t.Parallel()
	srv := integration.Temporal(t)
	server, err := New(Options{
		Rules: fakeRules{playbooks: []string{pbStation}}, Playbooks: testRegistry(),
		Starter: &TemporalStarter{Client: srv.Client},
		Auth:    AuthConfig{Tokens: []string{testToken}},
	})
	require.NoError(t, err)
	hs := httptest.NewServer(server)
	t.Cleanup(hs.Close)
	body := fmt.Appendf(nil, `{"id":%q,"title":"(MDIoT) New Asset Detected"}`, uniqueID(t))

	const n = 20
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = do(t, http.MethodPost, hs.URL+"/v1/incidents", body, bearerJSON) })
	}
	wg.Wait()
	started := 0
	first := answers[0].response(t).Runs[0]
	for _, a := range answers {
		require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
		run := a.response(t).Runs[0]
		require.Equal(t, first.WorkflowID, run.WorkflowID)
		require.Equal(t, first.RunID, run.RunID)
		if run.Status == "started" {
			started++
		}
	}
	require.Equal(t, 1, started)
	require.NoError(t, srv.Client.TerminateWorkflow(t.Context(), first.WorkflowID, first.RunID, "intake test"))
}

// TestUnreachableTemporalIs503 points the intake at a port nobody listens on: the answer is 503 with
// Retry-After, never 202.
func TestUnreachableTemporalIs503(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	server, err := New(Options{
		Rules: fakeRules{playbooks: []string{pbStation}}, Playbooks: testRegistry(),
		Starter: &TemporalStarter{Client: c}, Auth: AuthConfig{Tokens: []string{testToken}},
		StartTimeout: 2 * time.Second,
		Ready: func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
	})
	require.NoError(t, err)
	hs := httptest.NewServer(server)
	t.Cleanup(hs.Close)

	a := do(t, http.MethodPost, hs.URL+"/v1/incidents", fixture(t, fixtureStation), bearerJSON)
	require.Equal(t, http.StatusServiceUnavailable, a.code, "body: %s", a.body)
	require.Equal(t, "5", a.header.Get("Retry-After"))
	require.Equal(t, http.StatusServiceUnavailable, do(t, http.MethodGet, hs.URL+"/readyz", nil, nil).code)
}

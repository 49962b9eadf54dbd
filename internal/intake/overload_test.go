package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/backlog"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
)

// fixedBacklog reports a backlog set by the test.
type fixedBacklog struct {
	count atomic.Int64
	age   atomic.Int64 // of the oldest task, ns
	known atomic.Bool
}

func (f *fixedBacklog) Backlog() (int64, time.Duration, bool) {
	return f.count.Load(), time.Duration(f.age.Load()), f.known.Load()
}

func (f *fixedBacklog) set(n int64) {
	f.count.Store(n)
	f.known.Store(true)
}

// TestBacklogSheds: at the bound every route that starts work answers 503 with the configured
// Retry-After and starts nothing; one below it, and while the backlog is unknown, the work is taken.
func TestBacklogSheds(t *testing.T) {
	t.Parallel()
	bl := &fixedBacklog{}
	eng, err := rules.Default([]string{"NewEngineeringStationTicket", "PLCReprogrammingNotice", "AlertStatusSync", "AutoTriageIncident", "AutoCloseIncidents", "MailByProductionLine", "IoTOwnerApproval", "CVEAutoWorkflow"})
	require.NoError(t, err)
	store := newMemStore()
	env := newTestEnv(t, func(o *Options) {
		o.Incidents, o.IncidentRules, o.MaxAlertBatchBytes = store, rules.NewSet(eng), 1<<20
		o.Backlog, o.MaxBacklog, o.MaxBacklogAge, o.RetryAfter = bl, 10, 3*time.Second, 7*time.Second
	})
	starter := env.starter
	sensor := compact(t, readFixture(t, "sensor-alert-unauthorized-plc-programming.json"))
	routes := []struct {
		name string
		path string
		body func(i int) []byte
		prep func(*http.Request, []byte)
	}{
		{"incidents", "/v1/incidents", func(i int) []byte {
			return fmt.Appendf(nil, `{"id":"shed-%d","title":"(MDIoT) New Asset Detected"}`, i)
		}, bearerJSON},
		{"runs", "/v1/playbooks/" + pbPLC + "/runs", func(i int) []byte {
			return fmt.Appendf(nil, `{"id":"shed-run-%d","title":"t"}`, i)
		}, bearerJSON},
		{"alerts", "/v1/alerts", func(i int) []byte {
			return []byte(strings.ReplaceAll(sensor, "2210-1796198400000", fmt.Sprintf("%d-1796198400000", 9000+i)))
		}, withCT("application/x-ndjson")},
	}
	seq := 0
	for _, tc := range routes {
		bl.set(10)
		starts, updates := starter.callCount(), storeCalls(store)
		seq++
		a := do(t, http.MethodPost, env.url+tc.path, tc.body(seq), tc.prep)
		require.Equal(t, http.StatusServiceUnavailable, a.code, "%s at the bound: %s", tc.name, a.body)
		require.Equal(t, "7", a.header.Get("Retry-After"), tc.name)
		require.Contains(t, string(a.body), "nothing was started")
		require.Equal(t, starts, starter.callCount(), "%s: nothing started", tc.name)
		require.Equal(t, updates, storeCalls(store), "%s: no incident touched", tc.name)

		bl.set(9)
		seq++
		a = do(t, http.MethodPost, env.url+tc.path, tc.body(seq), tc.prep)
		require.Equal(t, http.StatusAccepted, a.code, "%s below the bound: %s", tc.name, a.body)
	}
	metrics := do(t, http.MethodGet, env.url+"/metrics", nil, nil)
	for _, route := range []string{routeIncidents, routeRuns, routeAlerts} {
		require.Contains(t, string(metrics.body), fmt.Sprintf(`interlock_intake_rejections_total{reason="backlog",route=%q} 1`, route))
	}
	require.Contains(t, string(metrics.body), "interlock_playbook_backlog 9")

	// Few tasks, but one has waited too long (a worker gone slow, or starved by higher priorities).
	bl.set(1)
	bl.age.Store(int64(3 * time.Second))
	seq++
	a := do(t, http.MethodPost, env.url+"/v1/incidents", routes[0].body(seq), bearerJSON)
	require.Equal(t, http.StatusServiceUnavailable, a.code, "body: %s", a.body)
	require.Contains(t, string(a.body), "has waited 3s")
	bl.age.Store(int64(2900 * time.Millisecond))
	seq++
	a = do(t, http.MethodPost, env.url+"/v1/incidents", routes[0].body(seq), bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
	metrics = do(t, http.MethodGet, env.url+"/metrics", nil, nil)
	require.Contains(t, string(metrics.body), `interlock_intake_rejections_total{reason="backlog_age",route="/v1/incidents"} 1`)
	require.Contains(t, string(metrics.body), "interlock_playbook_backlog_age_seconds 2.9")

	// Bad input is still answered as bad input, not as overload.
	bl.set(1000)
	a = do(t, http.MethodPost, env.url+"/v1/incidents", []byte(`{"title":"no id"}`), bearerJSON)
	require.Equal(t, http.StatusBadRequest, a.code, "body: %s", a.body)
	// While the backlog is unknown (Temporal unreachable), nothing is held back by it.
	bl.known.Store(false)
	seq++
	a = do(t, http.MethodPost, env.url+"/v1/incidents", routes[0].body(seq), bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
}

func storeCalls(m *memStore) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// TestBacklogBoundOnRealServer is the overload path over the wire against the real dev server: runs
// go to a task queue nobody polls until Temporal's own backlog count (or its oldest task's age)
// reaches the bound, then the intake answers 503 with Retry-After and starts nothing; every run it
// acknowledged is recorded. Once a worker drains the queue, the intake takes work again.
func TestBacklogBoundOnRealServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		count    int
		age      time.Duration
		accepted int // at least, before the first refusal
	}{
		{"count", 5, 0, 5},
		{"age", 0, time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			backlogBoundOnRealServer(t, tc.count, tc.age, tc.accepted)
		})
	}
}

func backlogBoundOnRealServer(t *testing.T, bound int, age time.Duration, wantAccepted int) {
	srv := integration.Temporal(t)
	queue := "backlog-" + uniqueID(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	mon := backlog.New(srv.Client.WorkflowService(), backlog.Options{Namespace: srv.Namespace, TaskQueue: queue, Every: 200 * time.Millisecond})
	go mon.Run(ctx)
	server, err := New(Options{
		Rules: fakeRules{}, Playbooks: testRegistry(),
		Starter: &TemporalStarter{Client: srv.Client, TaskQueue: queue},
		Auth:    AuthConfig{Tokens: []string{testToken}},
		Backlog: mon, MaxBacklog: bound, MaxBacklogAge: age, RetryAfter: 3 * time.Second,
	})
	require.NoError(t, err)
	hs := httptest.NewServer(server)
	t.Cleanup(hs.Close)

	var accepted []string
	seq := 0
	post := func() answer {
		seq++
		body := fmt.Appendf(nil, `{"id":"%s-%d","title":"t"}`, queue, seq)
		a := do(t, http.MethodPost, hs.URL+"/v1/playbooks/"+pbStation+"/runs", body, bearerJSON)
		if a.code == http.StatusAccepted {
			accepted = append(accepted, a.response(t).Runs[0].WorkflowID)
		}
		return a
	}
	var refused answer
	// Temporal counts the backlog asynchronously and caches its stats (1 s on the dev stack): posts are
	// taken until what it reports reaches the bound.
	require.Eventually(t, func() bool {
		refused = post()
		require.Contains(t, []int{http.StatusAccepted, http.StatusServiceUnavailable}, refused.code, "body: %s", refused.body)
		return refused.code == http.StatusServiceUnavailable
	}, time.Minute, 50*time.Millisecond)
	require.GreaterOrEqual(t, len(accepted), wantAccepted, "below the bound every post is taken")
	require.Equal(t, "3", refused.header.Get("Retry-After"))
	refusedID := pbStation + "/" + fmt.Sprintf("%s-%d", queue, seq)
	_, err = srv.Client.DescribeWorkflow(t.Context(), refusedID, "")
	_, notFound := errors.AsType[*serviceerror.NotFound](err)
	require.True(t, notFound, "a refused run was not started: %v", err)
	for _, id := range accepted {
		_, err := srv.Client.DescribeWorkflow(t.Context(), id, "")
		require.NoError(t, err, "acknowledged run %s is recorded", id)
	}
	resp, err := http.Get(hs.URL + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	reason := rejectBacklog
	if bound == 0 {
		reason = rejectBacklogAge
	}
	require.Contains(t, string(metrics), `interlock_intake_rejections_total{reason="`+reason+`",route="/v1/playbooks/{name}/runs"}`)

	// A worker drains the queue; the intake takes work again.
	var mu sync.Mutex
	ran := 0
	w := sdkworker.New(srv.Client, queue, sdkworker.Options{DisableRegistrationAliasing: true})
	w.RegisterWorkflowWithOptions(func(workflow.Context, incident.Incident) error {
		mu.Lock()
		ran++
		mu.Unlock()
		return nil
	}, workflow.RegisterOptions{Name: pbStation})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	// The backlog count drops once the worker has taken the tasks and the cached count expires.
	require.Eventually(t, func() bool { return post().code == http.StatusAccepted }, time.Minute, 100*time.Millisecond)
}

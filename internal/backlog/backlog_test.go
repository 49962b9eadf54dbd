package backlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"

	"github.com/interlock-soar/interlock/internal/testenv"
)

var env = testenv.New()

func TestMain(m *testing.M) { env.Main(m) }

// TestBacklogOnRealServer starts workflows on a queue nobody polls: the monitor reads them as backlog
// from the real dev server, and reads zero for a queue that has none.
func TestBacklogOnRealServer(t *testing.T) {
	t.Parallel()
	srv := env.Temporal(t)
	queue := fmt.Sprintf("backlog-test-%d", time.Now().UnixNano())
	m := New(srv.Client.WorkflowService(), Options{Namespace: srv.Namespace, TaskQueue: queue})

	m.Refresh(t.Context())
	n, age, ok := m.Backlog()
	require.True(t, ok)
	require.Zero(t, n)
	require.Zero(t, age)

	const runs = 12
	for i := range runs {
		_, err := srv.Client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
			ID: fmt.Sprintf("%s-%d", queue, i), TaskQueue: queue,
		}, "Unpolled")
		require.NoError(t, err)
	}
	// The server caches task queue stats (matching.TaskQueueInfoByBuildIdTTL, 1 s on the dev stack).
	require.Eventually(t, func() bool {
		m.Refresh(t.Context())
		n, age, ok = m.Backlog()
		return ok && n == runs && age > 0
	}, 30*time.Second, 200*time.Millisecond, "backlog %d (oldest %s), want %d", n, age, runs)
}

// failing answers DescribeTaskQueue with a count or an error, as set.
type failing struct {
	mu    sync.Mutex
	count int64
	err   error
}

func (f *failing) DescribeTaskQueue(context.Context, *workflowservice.DescribeTaskQueueRequest, ...grpc.CallOption) (*workflowservice.DescribeTaskQueueResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return &workflowservice.DescribeTaskQueueResponse{Stats: &taskqueuepb.TaskQueueStats{ApproximateBacklogCount: f.count}}, nil
}

// TestBacklogGoesStale: while reads fail the last count stands for ten intervals, then nothing is
// known, so a Temporal outage does not freeze the intake at an old count.
func TestBacklogGoesStale(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	svc := &failing{count: 42}
	m := New(svc, Options{TaskQueue: "q", Every: time.Second, Now: func() time.Time { return now }})

	_, _, ok := m.Backlog()
	require.False(t, ok, "nothing read yet")
	m.Refresh(t.Context())
	n, _, ok := m.Backlog()
	require.True(t, ok)
	require.EqualValues(t, 42, n)

	svc.mu.Lock()
	svc.err = errors.New("unavailable")
	svc.mu.Unlock()
	now = now.Add(5 * time.Second)
	m.Refresh(t.Context())
	n, _, ok = m.Backlog()
	require.True(t, ok, "a failed read keeps the last count for a while")
	require.EqualValues(t, 42, n)

	now = now.Add(6 * time.Second)
	_, _, ok = m.Backlog()
	require.False(t, ok, "stale after ten intervals")
}

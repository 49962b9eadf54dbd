// Package backlog keeps a cheap estimate of how many workflow tasks wait in a Temporal task queue, so
// the intake can refuse new work while the workers are far behind instead of acknowledging incidents
// that would wait minutes for their side effect.
//
// One DescribeTaskQueue call with report_stats (server 1.26+; in 1.29 the root partition sums every
// partition's ApproximateBacklogCount and takes the oldest ApproximateBacklogAge) per refresh, in the background: a request never waits for it.
// The server caches the answer for matching.TaskQueueInfoByBuildIdTTL (5 s unless configured).
package backlog

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// Describer is the one call of Temporal's workflow service the monitor makes
// (client.Client.WorkflowService() has it).
type Describer interface {
	DescribeTaskQueue(ctx context.Context, in *workflowservice.DescribeTaskQueueRequest, opts ...grpc.CallOption) (*workflowservice.DescribeTaskQueueResponse, error)
}

// DefaultEvery is how often Run reads the backlog when Options.Every is zero.
const DefaultEvery = time.Second

// Options configure a Monitor.
type Options struct {
	Namespace string
	TaskQueue string
	// Every is the time between reads; zero means DefaultEvery.
	Every time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Monitor reads a task queue's workflow-task backlog in the background. Interlock's activities are
// local activities, run inside workflow tasks, so workflow tasks are the whole queue.
type Monitor struct {
	svc   Describer
	opts  Options
	every time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu     sync.Mutex
	count  int64
	age    time.Duration // of the oldest waiting task
	readAt time.Time
	failed bool // the last read failed; logged once per outage
}

// New makes a monitor; nothing is read until Run.
func New(svc Describer, opts Options) *Monitor {
	m := &Monitor{
		svc:   svc,
		opts:  opts,
		every: cmp.Or(opts.Every, DefaultEvery),
		now:   opts.Now,
		log:   cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// Run reads the backlog at once and then every Options.Every until ctx is done.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		m.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh reads the backlog once. A failed read keeps the last count, which goes stale.
func (m *Monitor) Refresh(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, max(m.every, time.Second))
	defer cancel()
	resp, err := m.svc.DescribeTaskQueue(rctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace:     m.opts.Namespace,
		TaskQueue:     &taskqueuepb.TaskQueue{Name: m.opts.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW,
		ReportStats:   true,
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if !m.failed && ctx.Err() == nil {
			m.log.Warn("task queue backlog unknown; new work is not held back until it is read again",
				"taskQueue", m.opts.TaskQueue, "err", err)
		}
		m.failed = true
		return
	}
	if m.failed {
		m.log.Info("task queue backlog read again", "taskQueue", m.opts.TaskQueue)
	}
	m.failed = false
	m.count = resp.GetStats().GetApproximateBacklogCount()
	m.age = resp.GetStats().GetApproximateBacklogAge().AsDuration()
	m.readAt = m.now()
}

// Backlog is what was last read: how many tasks wait and how long the oldest of them has (across
// priorities: a low-priority task starved by higher ones counts). ok is false when no read succeeded
// within the last ten intervals (Temporal down or unreachable), when nothing is known.
func (m *Monitor) Backlog() (count int64, oldest time.Duration, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readAt.IsZero() || m.now().Sub(m.readAt) > 10*m.every {
		return 0, 0, false
	}
	return m.count, m.age, true
}

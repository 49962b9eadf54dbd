package bench

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// Breakdown says where a sample of runs spent their time, from their histories: waiting in task queues
// for a worker to pick a task up, inside the worker (a task's start to its completion; local
// activities run inside a workflow task), and the rest (the run waiting for an answer or a timer, and
// the server's own hand-offs between events). Sums per run, then their distribution over the sample.
type Breakdown struct {
	SampledRuns int `json:"sampledRuns"`
	// TasksPerRun is the mean number of workflow and activity tasks per run.
	TasksPerRun     float64 `json:"tasksPerRun"`
	Total           Summary `json:"total"`
	Queued          Summary `json:"queued"`
	FirstTaskQueued Summary `json:"firstTaskQueued"`
	InWorker        Summary `json:"inWorker"`
	Other           Summary `json:"other"`
}

// breakdownSample bounds the histories read per kind: enough for a median, cheap to fetch after a
// phase (it is read after the measurements, so it cannot disturb them).
const breakdownSample = 20

// runTimes is one history's figures.
type runTimes struct {
	total, queued, firstQueued, inWorker time.Duration
	tasks                                int
}

// historyTimes walks one history.
func historyTimes(events []*historypb.HistoryEvent) runTimes {
	var rt runTimes
	if len(events) == 0 {
		return rt
	}
	scheduled := map[int64]time.Time{} // scheduled event id -> time
	started := map[int64]time.Time{}   // started event id -> time
	first := true
	for _, ev := range events {
		at := ev.GetEventTime().AsTime()
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			scheduled[ev.GetEventId()] = at
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			rt.addQueued(scheduled, ev.GetWorkflowTaskStartedEventAttributes().GetScheduledEventId(), at, &first)
			started[ev.GetEventId()] = at
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			rt.addQueued(scheduled, ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId(), at, &first)
			started[ev.GetEventId()] = at
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			rt.addWork(started, ev.GetWorkflowTaskCompletedEventAttributes().GetStartedEventId(), at)
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			rt.addWork(started, ev.GetWorkflowTaskFailedEventAttributes().GetStartedEventId(), at)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			rt.addWork(started, ev.GetActivityTaskCompletedEventAttributes().GetStartedEventId(), at)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			rt.addWork(started, ev.GetActivityTaskFailedEventAttributes().GetStartedEventId(), at)
		}
	}
	rt.total = events[len(events)-1].GetEventTime().AsTime().Sub(events[0].GetEventTime().AsTime())
	return rt
}

func (rt *runTimes) addQueued(scheduled map[int64]time.Time, id int64, at time.Time, first *bool) {
	s, ok := scheduled[id]
	if !ok {
		return
	}
	rt.tasks++
	rt.queued += at.Sub(s)
	if *first {
		rt.firstQueued = at.Sub(s)
		*first = false
	}
}

func (rt *runTimes) addWork(started map[int64]time.Time, id int64, at time.Time) {
	if s, ok := started[id]; ok {
		rt.inWorker += at.Sub(s)
	}
}

// breakdown reads the histories of up to breakdownSample of the given closed runs, spread over the
// phase (first, last and evenly between), and summarizes them.
func breakdown(ctx context.Context, c client.Client, workflowIDs []string) (*Breakdown, error) {
	if len(workflowIDs) == 0 {
		return nil, nil
	}
	n := min(breakdownSample, len(workflowIDs))
	var total, queued, firstQ, work, other []time.Duration
	tasks := 0
	for i := range n {
		id := workflowIDs[i*(len(workflowIDs)-1)/max(n-1, 1)]
		var events []*historypb.HistoryEvent
		it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", id, err)
			}
			events = append(events, ev)
		}
		rt := historyTimes(events)
		total = append(total, rt.total)
		queued = append(queued, rt.queued)
		firstQ = append(firstQ, rt.firstQueued)
		work = append(work, rt.inWorker)
		other = append(other, max(rt.total-rt.queued-rt.inWorker, 0))
		tasks += rt.tasks
	}
	return &Breakdown{
		SampledRuns: n, TasksPerRun: round3(float64(tasks) / float64(n)),
		Total: Summarize(total), Queued: Summarize(queued), FirstTaskQueued: Summarize(firstQ),
		InWorker: Summarize(work), Other: Summarize(other),
	}, nil
}

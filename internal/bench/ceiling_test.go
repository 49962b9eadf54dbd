package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestParseShape(t *testing.T) {
	for _, tc := range []struct {
		in           string
		want         Shape
		wantExplicit bool
		wantErr      bool
	}{
		{in: "auto"},
		{in: ""},
		{in: "sideeffects=1,activities=2,local=0", want: Shape{SideEffects: 1, Activities: 2}, wantExplicit: true},
		{in: "local=3", want: Shape{LocalActivities: 3}, wantExplicit: true},
		{in: "local=-1", wantErr: true},
		{in: "timers=1", wantErr: true},
		{in: "activities", wantErr: true},
		{in: "activities=101", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, explicit, err := ParseShape(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.wantExplicit, explicit)
		})
	}
	require.Equal(t, "1 SideEffect + 2 local activities", Shape{SideEffects: 1, LocalActivities: 2}.String())
	require.Equal(t, "empty", Shape{}.String())
}

// TestCeilingWorkflowShape runs the ceiling workflow in the test environment and checks it calls what
// the shape says.
func TestCeilingWorkflowShape(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(ceilingActivity, activity.RegisterOptions{Name: ceilingActivityName})
	calls := 0
	env.SetOnActivityCompletedListener(func(*activity.Info, converter.EncodedValue, error) { calls++ })
	env.SetOnLocalActivityCompletedListener(func(*activity.Info, converter.EncodedValue, error) { calls++ })
	env.ExecuteWorkflow(ceilingWorkflow, Shape{SideEffects: 2, Activities: 2, LocalActivities: 3})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 5, calls)
}

// A PLC-shaped ceiling run makes its first calls, waits for the answer, then makes the rest; without
// the answer it never completes.
func TestCeilingWorkflowWaitsForTheAnswer(t *testing.T) {
	for _, answered := range []bool{true, false} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.RegisterActivityWithOptions(ceilingActivity, activity.RegisterOptions{Name: ceilingActivityName})
		calls, callsAtAnswer := 0, -1
		env.SetOnLocalActivityCompletedListener(func(*activity.Info, converter.EncodedValue, error) { calls++ })
		if answered {
			env.RegisterDelayedCallback(func() {
				callsAtAnswer = calls
				env.UpdateWorkflow(ceilingAnswerName, "1", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { t.Errorf("answer rejected: %v", err) },
				})
			}, time.Minute)
		}
		env.ExecuteWorkflow(ceilingWorkflow, Shape{LocalActivities: 2, AfterAnswer: &Shape{LocalActivities: 1}, Input: []byte(`{"id":"x"}`)})
		if !answered {
			// The test environment ends a run that waits forever with a timeout.
			require.Error(t, env.GetWorkflowError(), "no answer, no completion")
			require.Equal(t, 2, calls)
			continue
		}
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, 2, callsAtAnswer, "the first calls before the answer")
		require.Equal(t, 3, calls)
	}
}

func TestShapeString(t *testing.T) {
	require.Equal(t, "1 SideEffect + 4 local activities, an Update, then 1 local activities",
		Shape{SideEffects: 1, LocalActivities: 4, AfterAnswer: &Shape{LocalActivities: 1}}.String())
	require.Equal(t, "empty", Shape{}.String())
}

func event(id int64, typ enumspb.EventType, at time.Time) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventId: id, EventType: typ, EventTime: timestamppb.New(at)}
}

func TestHistoryTimes(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	wftStarted := func(id, sched int64, at time.Time) *historypb.HistoryEvent {
		e := event(id, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, at)
		e.Attributes = &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{ScheduledEventId: sched}}
		return e
	}
	wftDone := func(id, started int64, at time.Time) *historypb.HistoryEvent {
		e := event(id, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, at)
		e.Attributes = &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{StartedEventId: started}}
		return e
	}
	actStarted := func(id, sched int64, at time.Time) *historypb.HistoryEvent {
		e := event(id, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, at)
		e.Attributes = &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{ScheduledEventId: sched}}
		return e
	}
	actDone := func(id, started int64, at time.Time) *historypb.HistoryEvent {
		e := event(id, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, at)
		e.Attributes = &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{StartedEventId: started}}
		return e
	}
	// Start; first workflow task queued 100 ms, worked 10 ms; an activity queued 20 ms, worked 30 ms;
	// second workflow task queued 5 ms, worked 5 ms; closed 2 ms later.
	h := []*historypb.HistoryEvent{
		event(1, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ms(0)),
		event(2, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ms(0)),
		wftStarted(3, 2, ms(100)),
		wftDone(4, 3, ms(110)),
		event(5, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ms(110)),
		actStarted(6, 5, ms(130)),
		actDone(7, 6, ms(160)),
		event(8, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ms(160)),
		wftStarted(9, 8, ms(165)),
		wftDone(10, 9, ms(170)),
		event(11, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, ms(172)),
	}
	rt := historyTimes(h)
	require.Equal(t, runTimes{
		total: 172 * time.Millisecond, queued: 125 * time.Millisecond, firstQueued: 100 * time.Millisecond,
		inWorker: 45 * time.Millisecond, tasks: 3,
	}, rt)
	require.Equal(t, runTimes{}, historyTimes(nil))
}

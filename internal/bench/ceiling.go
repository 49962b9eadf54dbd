package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/playbooks"
)

// Names the ceiling workflow and activity register under, on the bench's private task queue.
const (
	ceilingWorkflowName = "InterlockBenchCeiling"
	ceilingActivityName = "InterlockBenchNoop"
	ceilingAnswerName   = "answer"
)

// Shape is what the ceiling workflow does: the same number of workflow.SideEffect calls, activities
// and local activities as a NewEngineeringStationTicket run, each trivial, one after the other.
type Shape struct {
	SideEffects     int `json:"sideEffects"`
	Activities      int `json:"activities"`
	LocalActivities int `json:"localActivities"`
	// AfterAnswer, when set, makes the workflow wait for an Update (ceilingAnswerName) once the calls
	// above are done, then make these: a PLC run's shape, whose engineers answer.
	AfterAnswer *Shape `json:"afterAnswer,omitempty"`
	// Input pads the workflow's input to a playbook's (the incident), which its history stores.
	Input json.RawMessage `json:"input,omitempty"`
}

// DefaultShape is NewEngineeringStationTicket for one workstation as written when the bench was: the
// settings SideEffect, EnsureTicket and AddIncidentComment. Run measures the real shape from a
// completed run's history whenever it can; this is the fallback.
var DefaultShape = Shape{SideEffects: 1, Activities: 2}

func (s Shape) String() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+what)
		}
	}
	add(s.SideEffects, "SideEffect")
	add(s.Activities, "activities")
	add(s.LocalActivities, "local activities")
	out := strings.Join(parts, " + ")
	if len(parts) == 0 {
		out = "empty"
	}
	if s.AfterAnswer != nil {
		out += ", an Update, then " + s.AfterAnswer.String()
	}
	return out
}

// ParseShape reads "auto" (zero Shape, ok=false) or "sideeffects=1,activities=2,local=0".
func ParseShape(s string) (shape Shape, explicit bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "auto" {
		return Shape{}, false, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, perr := strconv.Atoi(strings.TrimSpace(v))
		if !ok || perr != nil || n < 0 || n > 100 {
			return Shape{}, false, fmt.Errorf("ceiling shape %q: want auto or sideeffects=N,activities=N,local=N (0..100)", s)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "sideeffects":
			shape.SideEffects = n
		case "activities":
			shape.Activities = n
		case "local":
			shape.LocalActivities = n
		default:
			return Shape{}, false, fmt.Errorf("ceiling shape: unknown part %q (sideeffects, activities, local)", k)
		}
	}
	return shape, true, nil
}

// ceilingWorkflow is the raw Temporal ceiling: no I/O, only the workflow tasks, events and activity
// round trips the real playbook needs.
func ceilingWorkflow(ctx workflow.Context, s Shape) error {
	answered := false
	if s.AfterAnswer != nil {
		// Registered before the first call, as a playbook registers its answer handler.
		if err := workflow.SetUpdateHandler(ctx, ceilingAnswerName, func(workflow.Context) error {
			answered = true
			return nil
		}); err != nil {
			return err
		}
	}
	if err := ceilingCalls(ctx, s); err != nil {
		return err
	}
	if s.AfterAnswer == nil {
		return nil
	}
	if err := workflow.Await(ctx, func() bool { return answered }); err != nil {
		return err
	}
	return ceilingCalls(ctx, *s.AfterAnswer)
}

// ceilingCalls makes the shape's calls, one after the other.
func ceilingCalls(ctx workflow.Context, s Shape) error {
	for i := range s.SideEffects {
		var v int
		if err := workflow.SideEffect(ctx, func(workflow.Context) any { return i }).Get(&v); err != nil {
			return err
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	for range s.Activities {
		if err := workflow.ExecuteActivity(actx, ceilingActivityName).Get(ctx, nil); err != nil {
			return err
		}
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second})
	for range s.LocalActivities {
		if err := workflow.ExecuteLocalActivity(lctx, ceilingActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func ceilingActivity(context.Context) error { return nil }

// measureShape counts what a completed run did, from its history, so the ceiling matches the playbook
// as it is now (local or regular activities, extra SideEffects) rather than as it was when this was
// written. What a run did after an accepted Update (an engineer's answer) goes to AfterAnswer.
func measureShape(ctx context.Context, c client.Client, workflowID string) (Shape, error) {
	var before Shape
	s := &before
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return Shape{}, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			if before.AfterAnswer == nil {
				before.AfterAnswer = &Shape{}
				s = before.AfterAnswer
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			s.Activities++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			switch ev.GetMarkerRecordedEventAttributes().GetMarkerName() {
			case "SideEffect":
				s.SideEffects++
			case "LocalActivity":
				s.LocalActivities++
			}
		}
	}
	return before, nil
}

// isNES says whether a workflow ID is a NewEngineeringStationTicket run's.
func isNES(workflowID string) bool {
	return strings.HasPrefix(workflowID, playbooks.NewEngineeringStationName+"/")
}

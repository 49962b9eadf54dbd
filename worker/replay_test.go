package worker_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/worker"
)

// historyFiles are the committed histories (playbooks/testdata), recorded from real runs of every path
// by internal/stack's TestRecordHistories and never recorded over: each is what the code of its day wrote,
// some of them still waiting (for the engineers' answer, an incident still open).
func historyFiles(t *testing.T) map[string]*historypb.History {
	t.Helper()
	files, err := filepath.Glob("../playbooks/testdata/*.history.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := make(map[string]*historypb.History, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		hist, err := client.HistoryFromJSON(strings.NewReader(string(data)), client.HistoryJSONOptions{})
		require.NoError(t, err, f)
		out[filepath.Base(f)] = hist
	}
	return out
}

// quiet drops the SDK's own log of a replay's panic (a long stack); the test reports the error.
var quiet = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))

// TestCommittedHistoriesReplay replays every committed history through the workflows the worker
// registers: a change to a playbook that would break a run already in flight fails here, naming the
// history and the event where the new code parted from it.
func TestCommittedHistoriesReplay(t *testing.T) {
	t.Parallel()
	for name, hist := range historyFiles(t) {
		t.Run(strings.TrimSuffix(name, ".history.json"), func(t *testing.T) {
			t.Parallel()
			if err := replay(hist); err != nil {
				started := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
				t.Fatalf("playbooks/testdata/%s (a %s run, %d events) no longer replays on this code:\n"+
					"  at %s\n  %v\n"+
					"A run in flight would fail the same way. Guard the change with workflow.GetVersion (playbooks/doc.go).",
					name, started.GetWorkflowType().GetName(), len(hist.GetEvents()),
					breakingTask(hist, err), err)
			}
		})
	}
}

func replay(hist *historypb.History) error {
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{Interceptors: worker.Interceptors()})
	if err != nil {
		return err
	}
	worker.RegisterWorkflows(replayer, worker.Playbooks(config.Default().Playbooks))
	return replayer.ReplayWorkflowHistory(quiet, hist)
}

// breakingTask locates where a history stops replaying: the first workflow task whose commands the
// code no longer makes. It replays the history cut after each WorkflowTaskStarted (the history a
// worker sees while a run is in flight); the first cut that fails holds the task, and its command
// events are the ones after that task's WorkflowTaskCompleted. When the SDK's error names a local
// activity's ID, the marker with that ID is the event.
func breakingTask(hist *historypb.History, replayErr error) string {
	events := hist.GetEvents()
	from := 0 // events[:from] replay
	for n := 1; n <= len(events); n++ {
		if n < len(events) && events[n-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
			continue
		}
		if replay(&historypb.History{Events: events[:n]}) == nil {
			from = n
			continue
		}
		var cmds []string
		for _, ev := range events[from:n] {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				continue
			}
			if m := localActivityID.FindStringSubmatch(replayErr.Error()); m != nil && markerActivityID(ev) == m[1] {
				return fmt.Sprintf("event %d (%s, local activity %s)", ev.GetEventId(), eventType(ev), m[1])
			}
			cmds = append(cmds, fmt.Sprintf("%d %s", ev.GetEventId(), eventType(ev)))
		}
		return fmt.Sprintf("the workflow task after event %d, whose events are: %s", events[from-1].GetEventId(), strings.Join(cmds, ", "))
	}
	return "no single event (the whole history replays in parts)"
}

var localActivityID = regexp.MustCompile(`\\"ActivityID\\":\\"(\d+)\\"`)

func markerActivityID(ev *historypb.HistoryEvent) string {
	m := ev.GetMarkerRecordedEventAttributes()
	if m.GetMarkerName() != "LocalActivity" {
		return ""
	}
	var data struct{ ActivityID string }
	if converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["data"], &data) != nil {
		return ""
	}
	return data.ActivityID
}

func eventType(ev *historypb.HistoryEvent) string {
	return strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")
}

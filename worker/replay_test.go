package worker_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/safetext"
	"github.com/interlock-soar/interlock/playbooks"
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
	worker.RegisterWorkflows(replayer, playbooks.Shipped(config.Default().Playbooks))
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

// TestCommittedHistoriesKeepTheirComments replays every finished committed history and checks that the
// incident comments the code writes now are byte for byte those the run recorded in its result: the
// comments are workflow output (each write-back's input, the run's result), so a renderer change that
// altered them would give a run in flight a different text from the one it already wrote.
func TestCommittedHistoriesKeepTheirComments(t *testing.T) {
	t.Parallel()
	checked := 0
	for name, hist := range historyFiles(t) {
		recorded, ok := recordedComments(t, hist)
		if !ok {
			continue
		}
		checked++
		t.Run(strings.TrimSuffix(name, ".history.json"), func(t *testing.T) {
			t.Parallel()
			out := &resultCapture{}
			replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{
				Interceptors: append(worker.Interceptors(), out),
			})
			require.NoError(t, err)
			worker.RegisterWorkflows(replayer, playbooks.Shipped(config.Default().Playbooks))
			require.NoError(t, replayer.ReplayWorkflowHistory(quiet, hist))
			require.NotNil(t, out.result, "the replay returned no result")
			data, err := json.Marshal(out.result)
			require.NoError(t, err)
			var now struct {
				Comments []string `json:"comments"`
			}
			require.NoError(t, json.Unmarshal(data, &now))
			if _, ok := clippedShorter[name]; ok {
				requireSameUpToClip(t, recorded, now.Comments)
				return
			}
			require.Equal(t, recorded, now.Comments)
		})
	}
	require.Positive(t, checked, "no committed history recorded comments")
}

// clippedShorter are the histories recorded before internal/safetext, whose Clip keeps one rune less
// (the ellipsis counts): a clipped error in their comments is one rune shorter now. Replay never
// compares a comment's text, and its ID comes from its purpose, so those runs were not affected.
var clippedShorter = map[string]bool{"plc-mail-rejected.history.json": true}

// requireSameUpToClip checks that got is want but for clipped text ending a rune earlier.
func requireSameUpToClip(t *testing.T, want, got []string) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		if want[i] == got[i] {
			continue
		}
		wHead, wTail, wOK := strings.Cut(want[i], safetext.Ellipsis)
		gHead, gTail, gOK := strings.Cut(got[i], safetext.Ellipsis)
		require.True(t, wOK && gOK, "comment %d differs and is not clipped:\nwant %q\ngot  %q", i, want[i], got[i])
		require.Equal(t, wTail, gTail, "comment %d differs after its clipped part", i)
		require.True(t, strings.HasPrefix(wHead, gHead) && utf8.RuneCountInString(wHead)-utf8.RuneCountInString(gHead) == 1,
			"comment %d differs by more than its clip:\nwant %q\ngot  %q", i, want[i], got[i])
	}
}

// recordedComments are the comments in a finished history's result; false when it has none.
func recordedComments(t *testing.T, hist *historypb.History) ([]string, bool) {
	t.Helper()
	events := hist.GetEvents()
	done := events[len(events)-1].GetWorkflowExecutionCompletedEventAttributes()
	if done == nil {
		return nil, false
	}
	var res struct {
		Comments []string `json:"comments"`
	}
	if converter.GetDefaultDataConverter().FromPayloads(done.GetResult(), &res) != nil || len(res.Comments) == 0 {
		return nil, false
	}
	return res.Comments, true
}

// resultCapture keeps what the replayed workflow function returned.
type resultCapture struct {
	interceptor.WorkerInterceptorBase
	result any
}

func (c *resultCapture) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &resultInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type resultInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *resultCapture
}

func (i *resultInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	i.c.result = res
	return res, err
}

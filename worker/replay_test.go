package worker_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
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

// TestCommittedHistoriesReplay replays every committed history through the workflows the worker
// registers: a change to a playbook that would break a run already in flight fails here, naming the
// history and the event where the new code parted from it.
func TestCommittedHistoriesReplay(t *testing.T) {
	t.Parallel()
	for name, hist := range historyFiles(t) {
		t.Run(strings.TrimSuffix(name, ".history.json"), func(t *testing.T) {
			t.Parallel()
			replayer := sdkworker.NewWorkflowReplayer()
			worker.RegisterWorkflows(replayer, worker.Playbooks(config.Default().Playbooks))
			if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
				started := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
				t.Fatalf("playbooks/testdata/%s (a %s run, %d events) no longer replays on this code: %v\n"+
					"A run in flight would fail the same way. Guard the change with workflow.GetVersion (playbooks/doc.go).",
					name, started.GetWorkflowType().GetName(), len(hist.GetEvents()), err)
			}
		})
	}
}

package worker_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/worker"
)

// TestCommittedHistoriesReplay replays every history in playbooks/testdata, exported from real runs of
// earlier versions of the playbooks (one of them still waiting for the engineers' answer; an incident
// closed and kept for late records, with its playbooks as children), through the
// worker's own Register: a change to a playbook that would break a run already in flight fails here.
func TestCommittedHistoriesReplay(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../playbooks/testdata/*.history.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".history.json"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			hist, err := client.HistoryFromJSON(strings.NewReader(string(data)), client.HistoryJSONOptions{})
			require.NoError(t, err)
			replayer := sdkworker.NewWorkflowReplayer()
			worker.RegisterWorkflows(replayer, worker.Playbooks(config.Default().Playbooks))
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, hist))
		})
	}
}

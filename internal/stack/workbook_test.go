package stack_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/playbooks"
)

// TestWorkbookProjectsRealRunsAndRebuilds runs a real playbook, projects Temporal into a new store,
// then deletes the rows and rebuilds: the summary must come out the same.
func TestWorkbookProjectsRealRunsAndRebuilds(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, a := h.post(t, testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", "wb1"))
	require.Equal(t, http.StatusAccepted, code)
	require.Len(t, a.Runs, 1)
	require.NoError(t, h.client.GetWorkflow(ctx, a.Runs[0].WorkflowID, a.Runs[0].RunID).Get(ctx, nil))

	store, err := workbook.Open(ctx, workbook.StoreOptions{Database: filepath.Join(t.TempDir(), "wb.db")})
	require.NoError(t, err)
	defer store.Close()
	p := workbook.NewProjector(store, h.client, workbook.ProjectorOptions{
		Playbooks: playbooks.Shipped(config.Default().Playbooks).Names(),
		Asking:    []string{playbooks.PLCReprogrammingName, playbooks.OwnerApprovalName},
	})
	// Visibility lags the close a little: sync until the run shows as completed.
	// The fixture's alerts carry their own (old) times: a wide range takes them in.
	rng := workbook.Range{From: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Now().Add(time.Hour), Bucket: workbook.BucketDay}
	var sum workbook.Summary
	require.Eventually(t, func() bool {
		_, err := p.Sync(ctx)
		require.NoError(t, err)
		sum, err = store.Summary(ctx, rng)
		require.NoError(t, err)
		for _, pb := range sum.Playbooks {
			if pb.Playbook == playbooks.NewEngineeringStationName && pb.Runs > pb.Open {
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond)
	require.Positive(t, sum.Totals.Alerts)
	require.Positive(t, sum.Totals.Incidents)
	again, err := p.Sync(ctx) // nothing changed: an idempotent pass writes nothing new
	require.NoError(t, err)
	t.Logf("second pass wrote %d runs", again)

	n, err := p.Rebuild(ctx, nil)
	require.NoError(t, err)
	require.Positive(t, n)
	rebuilt, err := store.Summary(ctx, rng)
	require.NoError(t, err)
	rebuilt.GeneratedAt = sum.GeneratedAt
	require.Equal(t, sum.Totals, rebuilt.Totals)
	require.Equal(t, sum.Playbooks, rebuilt.Playbooks)
	require.Equal(t, sum.Matrix, rebuilt.Matrix)
}

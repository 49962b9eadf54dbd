package stack_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/playbooks"
)

// TestProjectorReadsLittleFromTemporal: on the intake's own store, the projector takes a run's
// incident from its search attributes (the intake recorded the incident) and reads no input; it asks
// a waiting PLC run its status only once the run is StatusAfter old, then at most every StatusEvery.
// A rebuild, whose store holds no incident, reads the inputs again.
func TestProjectorReadsLittleFromTemporal(t *testing.T) {
	h := newHarness(t)
	require.NotNil(t, h.workbook)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, nes := h.post(t, recent(testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", "rl1"), time.Now()))
	require.Equal(t, http.StatusAccepted, code)
	require.NoError(t, h.client.GetWorkflow(ctx, nes.Runs[0].WorkflowID, nes.Runs[0].RunID).Get(ctx, nil))
	posted := time.Now()
	code, plc := h.post(t, recent(testenv.Fixture(t, "sentinel-incident-unauthorized-plc-programming.json", "rl2"), time.Now()))
	require.Equal(t, http.StatusAccepted, code)
	require.Len(t, plc.Runs, 1)

	tc := &countingTemporal{Client: h.client, queries: map[string]int{},
		only: map[string]bool{nes.Runs[0].WorkflowID: true, plc.Runs[0].WorkflowID: true}}
	const after = 3 * time.Second
	p := workbook.NewProjector(h.workbook, tc, workbook.ProjectorOptions{
		Playbooks:   playbooks.Shipped(config.Default().Playbooks).Names(),
		Asking:      []string{playbooks.PLCReprogrammingName, playbooks.OwnerApprovalName},
		StatusAfter: after, StatusEvery: time.Hour,
	})
	// Visibility lags: sync until both runs are in, the ticket run closed.
	closes := 0
	require.Eventually(t, func() bool {
		_, err := p.Sync(ctx)
		require.NoError(t, err)
		closes += tc.take(closeRead)
		return closes >= 1 && runsIn(t, h.workbook) >= 2
	}, 30*time.Second, 100*time.Millisecond)
	require.Zero(t, tc.take(inputRead), "the intake recorded both incidents: no input is read")
	require.Zero(t, tc.take(playbooks.PLCStatusQuery), "the PLC run is younger than StatusAfter: not asked yet")

	// Once it is old enough it is asked, once, and shows as pending; the next passes ask no more.
	time.Sleep(time.Until(posted.Add(after + 100*time.Millisecond)))
	for range 3 {
		_, err := p.Sync(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, 1, tc.take(playbooks.PLCStatusQuery), "asked once per StatusEvery")
	sum, err := h.workbook.Summary(ctx, workbook.Range{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	// Other tests' waiting runs share the server: this one must be among them.
	require.True(t, slices.ContainsFunc(sum.Answers.Pending, func(a workbook.PendingAnswer) bool {
		return a.WorkflowID == plc.Runs[0].WorkflowID
	}), "the waiting PLC run is pending: %+v", sum.Answers.Pending)

	n, err := p.Rebuild(ctx, nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 2)
	require.Equal(t, 2, tc.take(inputRead), "an emptied store reads every run's input")
}

func runsIn(t *testing.T, s *workbook.Store) int {
	t.Helper()
	sum, err := s.Summary(context.Background(), workbook.Range{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	return sum.Totals.Runs
}

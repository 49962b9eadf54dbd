package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/internal/workbook/web/webtest"
	"github.com/interlock-soar/interlock/playbooks"
)

var fixtureTime = regexp.MustCompile(`20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// recent moves every time of a fixture to at, so the page's default range (the last 7 days) holds it.
func recent(body []byte, at time.Time) []byte {
	return fixtureTime.ReplaceAll(body, []byte(at.UTC().Format(time.RFC3339)))
}

// TestWorkbookInBrowser seeds the stack through its intake (new workstations and PLC changes, hours
// apart: tickets, waiting PLC runs), projects Temporal into the intake's store, loads /workbook in
// Chromium at desktop and phone width and checks every chart, table and heat-map cell against the
// store's own summary of the range the page asked for. Then it empties the store, rebuilds it from
// Temporal, and checks the page again: the same numbers.
func TestWorkbookInBrowser(t *testing.T) {
	h := newHarness(t)
	require.NotNil(t, h.workbook, "the stack's intake opens the workbook store")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	now := time.Now()
	var nes []string
	for i, name := range []string{"sentinel-incident-new-engineering-station.json", "sentinel-incident-unauthorized-plc-programming.json"} {
		for j := range 3 {
			tag := fmt.Sprintf("wbb%d%d", i, j)
			code, a := h.post(t, recent(testenv.Fixture(t, name, tag), now.Add(-time.Duration(5*j+i)*time.Hour)))
			require.Equal(t, http.StatusAccepted, code)
			require.Len(t, a.Runs, 1)
			if i == 0 {
				nes = append(nes, a.Runs[0].WorkflowID)
			}
		}
	}
	for _, id := range nes {
		require.NoError(t, h.client.GetWorkflow(ctx, id, "").Get(ctx, nil))
	}
	p := workbook.NewProjector(h.workbook, h.client, workbook.ProjectorOptions{
		Playbooks: playbooks.Shipped(config.Default().Playbooks).Names(),
		Asking:    []string{playbooks.PLCReprogrammingName, playbooks.OwnerApprovalName},
		// Ask the waiting runs at once and every pass: the page must show them pending now.
		StatusAfter: -1, StatusEvery: -1,
	})
	week := workbook.Range{From: now.Add(-7 * 24 * time.Hour), To: now.Add(time.Hour), Bucket: workbook.BucketDay}
	require.Eventually(t, func() bool {
		_, err := p.Sync(ctx)
		require.NoError(t, err)
		sum, err := h.workbook.Summary(ctx, week)
		require.NoError(t, err)
		return completedRuns(sum, playbooks.NewEngineeringStationName) >= len(nes) && len(sum.Answers.Pending) >= 3
	}, time.Minute, 200*time.Millisecond, "the projector took in the runs")

	before := checkPage(ctx, t, h, "stack")
	require.NoError(t, h.workbook.Reset(ctx))
	empty, err := h.workbook.Summary(ctx, before.Range)
	require.NoError(t, err)
	require.Zero(t, empty.Totals.Alerts, "the store is empty before the rebuild")
	_, err = p.Rebuild(ctx, nil)
	require.NoError(t, err)
	after := checkPage(ctx, t, h, "rebuilt")
	// Every seeded incident started a run, so the rebuild restores all of them.
	require.GreaterOrEqual(t, after.Totals.Incidents, 6)
	require.GreaterOrEqual(t, after.Totals.Runs, 6)
	require.GreaterOrEqual(t, len(after.Answers.Pending), 3)
}

// checkPage loads the page at both widths, checks it against the store's summary of the range it
// asked for, saves screenshots, and returns that summary.
func checkPage(ctx context.Context, t *testing.T, h *harness, name string) workbook.Summary {
	t.Helper()
	var want workbook.Summary
	for _, vp := range []webtest.Viewport{webtest.Desktop, webtest.Phone} {
		bctx, dialogs := webtest.Browser(t, vp)
		took := webtest.Load(bctx, t, h.intakeURL+"/workbook")
		rng, err := chromedp.Run(bctx, chromedp.Evaluate[struct{ From, To time.Time }](`({From: window.workbook.summary.range.from, To: window.workbook.summary.range.to})`))
		require.NoError(t, err)
		want, err = h.workbook.Summary(ctx, workbook.Range{From: rng.From, To: rng.To, Bucket: workbook.BucketDay})
		require.NoError(t, err)
		require.Positive(t, want.Totals.Alerts, "seeded alerts are in the page's range")
		diffs, err := webtest.Diff(bctx, want)
		require.NoError(t, err)
		require.Empty(t, diffs, "the page (%s) against the store", vp.Name)
		require.Empty(t, dialogs.Opened(), "no script ran from the data")
		t.Logf("%s page at %s: loaded in %s, screenshot %s", name, vp.Name, took, webtest.Screenshot(bctx, t, "stack-"+name+"-"+vp.Name))
	}
	return want
}

func completedRuns(s workbook.Summary, playbook string) int {
	for _, p := range s.Playbooks {
		if p.Playbook == playbook {
			return p.Runs - p.Open
		}
	}
	return 0
}

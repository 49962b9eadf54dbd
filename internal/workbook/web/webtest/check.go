package webtest

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/interlock-soar/interlock/internal/workbook"
)

// drawn is what the page drew, read back from its Chart instances and its tables.
type drawn struct {
	Charts map[string]struct {
		Labels   []string `json:"labels"`
		Datasets []struct {
			Label string `json:"label"`
			Data  []int  `json:"data"`
		} `json:"datasets"`
	} `json:"charts"`
	Totals  map[string]string `json:"totals"`
	Answers map[string]string `json:"answers"`
	Cells   []struct {
		Tactic, Technique string
		Count             int
		Text, Name        string
	} `json:"cells"`
	TacticCounts map[string]int        `json:"tacticCounts"`
	Tables       map[string][][]string `json:"tables"`
	CSP          []string              `json:"csp"`
	Images       int                   `json:"images"`
	Links        map[string]string     `json:"links"`
	ReadyAt      float64               `json:"readyAt"`
}

// readBack collects every number the page shows, for comparing with the Summary in Go.
const readBack = `(() => {
  const wb = window.workbook, rows = sel => [...document.querySelectorAll(sel + ' tbody tr')]
    .filter(tr => !tr.querySelector('td.empty')).map(tr => [...tr.cells].map(td => td.textContent));
  const charts = {}, tables = {};
  for (const [k, c] of Object.entries(wb.charts)) {
    charts[k] = {labels: c.data.labels.map(String), datasets: c.data.datasets.map(d => ({label: d.label, data: d.data}))};
    tables[k] = rows('#table-' + k);
  }
  tables.open = rows('#open-incidents'); tables.pending = rows('#pending');
  const dl = id => Object.fromEntries([...document.querySelectorAll('#' + id + ' dd')].map(d => [d.dataset.key, d.textContent]));
  const links = {};
  document.querySelectorAll('.tile').forEach(t => { const a = t.querySelector('a.runs'); if (a && !a.hidden) links[t.id || t.dataset.chart] = a.href; });
  return {charts, tables, totals: dl('totals'), answers: dl('answers'), links, csp: wb.cspViolations, readyAt: wb.readyAt,
    images: document.querySelectorAll('img, iframe, object, embed').length,
    tacticCounts: Object.fromEntries([...document.querySelectorAll('#matrix th[data-tactic]')].map(th => [th.dataset.tactic, +th.dataset.count])),
    cells: [...document.querySelectorAll('#matrix td[data-technique]')].map(td => ({Tactic: td.dataset.tactic, Technique: td.dataset.technique,
      Count: +td.dataset.count, Text: td.querySelector('.count').textContent, Name: td.firstChild.textContent}))};
})()`

// Load opens url and waits until the page says every chart is drawn; it returns the time from the
// navigation's start to then, as the page measured it (performance.now at body[data-ready=1]).
func Load(ctx context.Context, t testing.TB, url string) time.Duration {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	state, err := chromedp.Run(ctx, chromedp.Poll[string](
		`document.body && ['1','error'].includes(document.body.dataset.ready) && document.body.dataset.ready`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil || state != "1" {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('status')||{}).textContent||''`))
		t.Fatalf("page %s not ready (%q, %v): status %q", url, state, err, status)
	}
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.workbook.readyAt`))
	if err != nil {
		t.Fatalf("read load time: %v", err)
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// Check loads baseURL/workbook (the browser must be signed in, or the page open) and fails t unless
// every chart, table and cell shows the numbers of want, no hostile string ran or became markup, and
// the page saw no CSP violation. It returns the page's load time.
func Check(ctx context.Context, t testing.TB, baseURL string, want workbook.Summary) time.Duration {
	t.Helper()
	took := Load(ctx, t, strings.TrimRight(baseURL, "/")+"/workbook")
	diffs, err := Diff(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Error(d)
	}
	return took
}

// Diff reads back the page loaded in ctx and returns one line per number it shows differently from want.
func Diff(ctx context.Context, want workbook.Summary) ([]string, error) {
	got, err := chromedp.Run(ctx, chromedp.Evaluate[drawn](readBack))
	if err != nil {
		return nil, fmt.Errorf("read the page back: %w", err)
	}
	return compare(got, want), nil
}

// compare returns one line per difference between what the page drew and want.
func compare(got drawn, want workbook.Summary) []string {
	var diffs []string
	eq := func(what string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s: page shows %v, the summary has %v", what, g, w))
		}
	}
	if len(got.CSP) > 0 {
		diffs = append(diffs, fmt.Sprintf("CSP violations: %v", got.CSP))
	}
	eq("img/iframe/object elements (markup from data)", got.Images, 0)
	for name, counts := range map[string][]workbook.Count{"byType": want.AlertsByType, "bySeverity": want.AlertsBySeverity,
		"byDeviceType": want.AlertsByDeviceType, "byVendor": want.AlertsByVendor} {
		c := got.Charts[name]
		var rows [][]string
		labels, data := []string{}, []int{}
		for _, x := range counts {
			labels, data = append(labels, x.Key), append(data, x.Count)
			rows = append(rows, []string{x.Key, strconv.Itoa(x.Count)})
		}
		eq(name+" labels", c.Labels, labels)
		if len(c.Datasets) != 1 {
			diffs = append(diffs, fmt.Sprintf("%s: %d datasets, want 1", name, len(c.Datasets)))
			continue
		}
		eq(name+" data", c.Datasets[0].Data, data)
		eq(name+" table", nonNil(got.Tables[name]), nonNil(rows))
	}
	diffs = append(diffs, compareSeries(got, want)...)
	diffs = append(diffs, compareMatrix(got, want)...)
	diffs = append(diffs, compareTables(got, want)...)
	return diffs
}

func nonNil(rows [][]string) [][]string {
	if rows == nil {
		return [][]string{}
	}
	return rows
}

func counts(ps []workbook.Point) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.Count
	}
	return out
}

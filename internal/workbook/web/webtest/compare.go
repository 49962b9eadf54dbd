package webtest

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/interlock-soar/interlock/internal/workbook"
)

func diff(what string, got, want any) []string {
	if reflect.DeepEqual(got, want) {
		return nil
	}
	return []string{fmt.Sprintf("%s: page shows %v, the summary has %v", what, got, want)}
}

// compareSeries checks the over-time charts, the tactics' stacked chart and the playbooks' bars.
func compareSeries(got drawn, want workbook.Summary) []string {
	var d []string
	ot := got.Charts["overTime"]
	if len(ot.Datasets) != 2 {
		return append(d, fmt.Sprintf("overTime: %d datasets, want 2 (alerts, incidents)", len(ot.Datasets)))
	}
	d = append(d, diff("alerts over time", ot.Datasets[0].Data, counts(want.AlertsOverTime))...)
	d = append(d, diff("incidents over time", ot.Datasets[1].Data, counts(want.IncidentsOverTime))...)
	d = append(d, diff("over-time buckets", len(ot.Labels), len(want.AlertsOverTime))...)

	tc := got.Charts["tactics"]
	names, series := []string{}, [][]int{}
	for _, s := range want.TacticsOverTime {
		names, series = append(names, s.Name), append(series, counts(s.Points))
	}
	gotNames, gotSeries := []string{}, [][]int{}
	for _, ds := range tc.Datasets {
		gotNames, gotSeries = append(gotNames, ds.Label), append(gotSeries, ds.Data)
	}
	d = append(d, diff("tactics over time: series", gotNames, names)...)
	d = append(d, diff("tactics over time: counts", gotSeries, series)...)

	pb := got.Charts["playbooks"]
	labels, runs, open := []string{}, []int{}, []int{}
	for _, p := range want.Playbooks {
		labels, runs, open = append(labels, p.Playbook), append(runs, p.Runs), append(open, p.Open)
	}
	d = append(d, diff("playbooks", pb.Labels, labels)...)
	if len(pb.Datasets) == 2 {
		d = append(d, diff("playbook runs", pb.Datasets[0].Data, runs)...)
		d = append(d, diff("playbook open runs", pb.Datasets[1].Data, open)...)
	} else {
		d = append(d, fmt.Sprintf("playbooks: %d datasets, want 2", len(pb.Datasets)))
	}
	return d
}

// compareMatrix checks every heat-map cell's count, printed and in its data attribute, in catalogue order.
func compareMatrix(got drawn, want workbook.Summary) []string {
	type cell struct {
		Tactic, Technique, Name string
		Count                   int
	}
	var g, w []cell
	tactics := map[string]int{}
	for _, ta := range want.Matrix {
		tactics[ta.ID] = ta.Count
		for _, te := range ta.Techniques {
			w = append(w, cell{ta.ID, te.ID, te.Name, te.Count})
		}
	}
	var d []string
	for _, c := range got.Cells {
		if c.Text != strconv.Itoa(c.Count) {
			d = append(d, fmt.Sprintf("matrix cell %s/%s prints %q but holds %d", c.Tactic, c.Technique, c.Text, c.Count))
		}
		g = append(g, cell{c.Tactic, c.Technique, c.Name, c.Count})
	}
	// Cells are read row by row (technique i of every tactic); the summary lists them tactic by tactic.
	sortCells := func(cs []cell) map[string]cell {
		m := map[string]cell{}
		for _, c := range cs {
			m[c.Tactic+"/"+c.Technique] = c
		}
		return m
	}
	d = append(d, diff("matrix cells", sortCells(g), sortCells(w))...)
	d = append(d, diff("matrix cell count", len(g), len(w))...)
	return append(d, diff("matrix tactic totals", got.TacticCounts, tactics)...)
}

// compareTables checks totals, answers, open incidents and pending answers, and the tiles' run links.
func compareTables(got drawn, want workbook.Summary) []string {
	t := want.Totals
	d := diff("totals", got.Totals, map[string]string{"alerts": strconv.Itoa(t.Alerts), "incidents": strconv.Itoa(t.Incidents),
		"openIncidents": strconv.Itoa(t.OpenIncidents), "devices": strconv.Itoa(t.Devices), "runs": strconv.Itoa(t.Runs)})
	a := want.Answers
	for k, v := range map[string]int{"asked": a.Asked, "answered": a.Answered, "noAnswer": a.NoAnswer, "escalations": a.Escalations} {
		d = append(d, diff("answers "+k, got.Answers[k], strconv.Itoa(v))...)
	}
	var open [][]string
	for _, o := range want.OpenIncidents {
		open = append(open, []string{o.Site, o.Line, strconv.Itoa(o.Count), o.Highest, o.Impact, strings.Join(o.Assets, ", ")})
	}
	d = append(d, diff("open incidents", nonNil(got.Tables["open"]), nonNil(open))...)
	var pending, gotPending [][]string
	for _, p := range a.Pending {
		pending = append(pending, []string{p.Incident, p.Title, p.Playbook, strings.Join(p.Devices, ", "), strconv.Itoa(p.Round)})
	}
	for _, r := range got.Tables["pending"] {
		if len(r) >= 5 {
			gotPending = append(gotPending, r[:5])
		}
	}
	d = append(d, diff("pending answers", nonNil(gotPending), nonNil(pending))...)
	if want.Links.AllRuns != "" {
		d = append(d, diff("totals' runs link", got.Links["tile-totals"], want.Links.AllRuns)...)
	}
	if want.Links.PendingRuns != "" {
		d = append(d, diff("pending runs link", got.Links["tile-pending"], want.Links.PendingRuns)...)
	}
	return d
}

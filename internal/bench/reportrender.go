package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Render writes the report as a table, or as one JSON document.
func Render(w io.Writer, rep Report, asJSON bool) error {
	if rep.Targets == nil {
		rep.Targets = []Target{}
	}
	if rep.Failures == nil {
		rep.Failures = []string{}
	}
	if rep.Notes == nil {
		rep.Notes = []string{}
	}
	if rep.Processes == nil {
		rep.Processes = []ProcessReport{}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	b := &tableWriter{w: w}
	b.header(rep)
	if rep.Load != nil {
		b.phase("Full load", rep.Load)
	}
	if rep.Ceiling != nil {
		b.ceiling(rep.Ceiling, rep.CeilingRatio)
	}
	if c := rep.SameWork; c != nil {
		b.sameWork(c, rep.SameWorkRatio)
	}
	if c := rep.CeilingRegular; c != nil && rep.Ceiling != nil {
		b.printf("\nThe same ceiling with regular activities only (%s): %d completed, %.1f/s, start→closed p50 %s p99 %s;"+
			" the local fast path gives %.2f× its throughput\n", c.Shape, c.Completed, c.CompletedPerSec,
			fmtDur(c.StartedToCompleted.P50Ms), fmtDur(c.StartedToCompleted.P99Ms), safeRatio(rep.Ceiling.CompletedPerSec, c.CompletedPerSec))
	}
	if rep.Alerts != nil {
		b.alerts(rep.Alerts)
	}
	if rep.Storm != nil {
		b.storm(rep.Storm)
	}
	if rep.LowLoad != nil {
		b.phase("Low load", rep.LowLoad)
	}
	b.processes(rep)
	b.targets(rep)
	return b.err
}

type tableWriter struct {
	w   io.Writer
	err error
}

func (b *tableWriter) printf(format string, a ...any) {
	if b.err == nil {
		_, b.err = fmt.Fprintf(b.w, format, a...)
	}
}

func (b *tableWriter) header(rep Report) {
	b.printf("Interlock bench, run %s, %s, %.1f s\n", rep.RunID, rep.StartedAt.Format(time.RFC3339), rep.DurationSeconds)
	b.printf("  intake %s · Temporal %s (%s) · ServiceNow %s · Mailpit %s\n",
		rep.Stack.Intake, rep.Stack.Temporal, rep.Stack.Namespace, rep.Stack.ServiceNow, rep.Stack.Mailpit)
	if rep.Stack.Topology != "" {
		b.printf("  topology %s\n", rep.Stack.Topology)
	}
}

func loadLine(rate float64, concurrency int) string {
	if rate > 0 {
		return fmt.Sprintf("%g/s, up to %d in flight", rate, concurrency)
	}
	return fmt.Sprintf("as fast as possible, %d concurrent posts", concurrency)
}

func kindsLine(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// rows prints (label, count, rate, p50, p95, p99, max) rows under a header, numbers right-aligned.
func (b *tableWriter) rows(rows [][]string) {
	// tabwriter pads the labels to the longest; the numbers are right-aligned in fixed widths.
	tw := tabwriter.NewWriter(b.w, 0, 0, 1, ' ', 0)
	for _, r := range append([][]string{{"", "count", "rate/s", "p50 ms", "p95 ms", "p99 ms", "max ms"}}, rows...) {
		fmt.Fprintf(tw, "  %s\t%7s %8s %8s %8s %8s %8s\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6])
	}
	if err := tw.Flush(); err != nil && b.err == nil {
		b.err = err
	}
}

func row(label string, count int, perSec float64, s Summary) []string {
	r := []string{label, fmt.Sprint(count), "", "", "", "", ""}
	if perSec > 0 {
		r[2] = fmt.Sprintf("%.1f", perSec)
	}
	if s.Count > 0 {
		r[3], r[4], r[5], r[6] = fmtMs(s.P50Ms), fmtMs(s.P95Ms), fmtMs(s.P99Ms), fmtMs(s.MaxMs)
	}
	return r
}

func fmtMs(v float64) string {
	if v >= 100 || v <= -100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func (b *tableWriter) phase(title string, p *PhaseReport) {
	b.printf("\n%s: %d incidents (%s), %s\n", title, p.Incidents, kindsLine(p.ByKind), loadLine(p.TargetRate, p.Concurrency))
	rows := [][]string{row("accepted (POST→202)", p.Accepted, p.AcceptedPerSec, p.PostToAccepted)}
	rows = append(rows, row("side effect done (202→effect)", p.SideEffects, p.SideEffectsPerSec, p.AcceptedToSideEffect))
	for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
		kr := p.Kinds[k]
		rows = append(rows, row("  "+k+": "+kr.SideEffect, kr.SideEffects, 0, kr.AcceptedToSideEffect))
	}
	rows = append(rows, row("run completed (202→closed)", p.Completed, p.CompletedPerSec, p.AcceptedToCompleted))
	for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
		kr := p.Kinds[k]
		label := "  " + k + ": " + kr.Playbook
		if Kind(k) == KindPLCReprogramming {
			label += " (answered by bench)"
		}
		rows = append(rows, row(label, kr.Completed, 0, kr.AcceptedToCompleted))
	}
	b.rows(rows)
	for _, k := range slices.Sorted(maps.Keys(p.Kinds)) {
		b.breakdown(k, p.Kinds[k].Breakdown)
	}
	if a := p.Answers; a != nil {
		b.printf("  plc answers by the bench, p50/p99: email → Update sent %s/%s, Update call %s/%s, Update done → run closed %s/%s\n",
			fmtDur(a.EffectToSent.P50Ms), fmtDur(a.EffectToSent.P99Ms), fmtDur(a.Call.P50Ms), fmtDur(a.Call.P99Ms),
			fmtDur(a.DoneToClosed.P50Ms), fmtDur(a.DoneToClosed.P99Ms))
	}
	b.printf("  posts %d (retries %d), not accepted %d, lost %d, duplicates %d, runs failed %d, not closed %d; wall %.1f s; host busy %.2f cores\n",
		p.Posts, p.Retries, p.PostFailures, p.Lost, p.Duplicates, p.RunsFailed, p.NotClosed, p.WallSeconds, p.HostBusyCores)
	if p.UnexpectedTickets+p.UnexpectedEmails+p.OtherPlaybookRuns+p.AnswerErrors > 0 {
		b.printf("  unexpected: tickets %d, emails %d, runs of other playbooks %d; answer errors %d\n",
			p.UnexpectedTickets, p.UnexpectedEmails, p.OtherPlaybookRuns, p.AnswerErrors)
	}
	b.cpu(p.CPU)
	for _, e := range p.Errors {
		b.printf("  error: %s\n", e)
	}
}

// breakdown prints where the sampled runs' time went, as medians.
func (b *tableWriter) breakdown(name string, bd *Breakdown) {
	if bd == nil {
		return
	}
	b.printf("  %s time, median of %d runs: %s total = %s queued for a worker (first task %s) + %s in the worker + %s other; %.1f tasks/run\n",
		name, bd.SampledRuns, fmtDur(bd.Total.P50Ms), fmtDur(bd.Queued.P50Ms), fmtDur(bd.FirstTaskQueued.P50Ms),
		fmtDur(bd.InWorker.P50Ms), fmtDur(bd.Other.P50Ms), bd.TasksPerRun)
}

func fmtDur(msv float64) string {
	if msv >= 1000 {
		return fmt.Sprintf("%.2f s", msv/1000)
	}
	return fmtMs(msv) + " ms"
}

func (b *tableWriter) cpu(m map[string]float64) {
	if len(m) == 0 {
		return
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %.1f s", k, m[k]))
	}
	b.printf("  CPU: %s\n", strings.Join(parts, ", "))
}

func (b *tableWriter) ceiling(c *CeilingReport, ratio float64) {
	b.printf("\nRaw Temporal ceiling: %d trivial workflows (%s; %s), %s\n", c.Workflows, c.Shape, c.ShapeSource, loadLine(c.TargetRate, c.Concurrency))
	b.rows([][]string{
		row("started (ExecuteWorkflow)", c.Started, c.StartedPerSec, c.StartCall),
		row("completed (start→closed)", c.Completed, c.CompletedPerSec, c.StartedToCompleted),
	})
	b.breakdown("ceiling", c.Breakdown)
	b.printf("  Interlock completed/s ÷ ceiling completed/s = %.2f (%.0f%%); start failures %d, not completed %d\n",
		ratio, ratio*100, c.StartFailures, c.NotCompleted)
	b.cpu(c.CPU)
	for _, e := range c.Errors {
		b.printf("  error: %s\n", e)
	}
}

func (b *tableWriter) sameWork(c *CeilingReport, ratio float64) {
	b.printf("\nSame-work ceiling: %d incidents of the mix as the Temporal work Interlock asks for, no I/O (%s), %s\n",
		c.Workflows, c.ShapeSource, loadLine(c.TargetRate, c.Concurrency))
	b.rows([][]string{
		row("started (ExecuteWorkflow)", c.Started, c.StartedPerSec, c.StartCall),
		row("completed (start→closed)", c.Completed, c.CompletedPerSec, c.StartedToCompleted),
	})
	b.printf("  Interlock completed/s ÷ same-work completed/s = %.2f (%.0f%%); start failures %d, not completed %d\n",
		ratio, ratio*100, c.StartFailures, c.NotCompleted)
	b.cpu(c.CPU)
	for _, e := range c.Errors {
		b.printf("  error: %s\n", e)
	}
}

func (b *tableWriter) storm(s *StormReport) {
	verdict := "OK"
	if s.Duplicates > 0 || s.Lost > 0 || s.IncidentsStartedTwice > 0 {
		verdict = "FAILED"
	}
	b.printf("\nAlert storm: %d incidents (%s), each posted %d times at once\n", s.Incidents, kindsLine(s.ByKind), s.PostsPerIncident)
	b.printf("  posts %d: started %d, deduplicated %d, failed %d; incidents started twice %d\n",
		s.Posts, s.Started, s.Deduplicated, s.PostFailures, s.IncidentsStartedTwice)
	b.printf("  tickets %d for %d incidents, emails %d for %d incidents → duplicates %d, lost %d  %s\n",
		s.Tickets, s.ExpectedTickets, s.Emails, s.ExpectedEmails, s.Duplicates, s.Lost, verdict)
	b.cpu(s.CPU)
	for _, e := range s.Errors {
		b.printf("  error: %s\n", e)
	}
}

func (b *tableWriter) processes(rep Report) {
	if len(rep.Processes) == 0 {
		return
	}
	b.printf("\nProcesses (CPU over the whole bench; full-load CPU per incident; peak RSS sampled 1/s, and VmHWM since start)\n")
	for _, p := range rep.Processes {
		if p.Error != "" {
			b.printf("  %-22s pid %-7d %s\n", p.Role, p.PID, p.Error)
			continue
		}
		perInc := ""
		if p.LoadCPUMsPerIncident > 0 {
			perInc = fmt.Sprintf(", full load %.1f s = %.1f ms/incident", p.LoadCPUSeconds, p.LoadCPUMsPerIncident)
		}
		b.printf("  %-22s pid %-7d CPU %6.1f s%s; RSS peak %.0f MiB (VmHWM %.0f MiB)\n", p.Role, p.PID, p.CPUSeconds, perInc, p.PeakRSSMB, p.HWMMB)
		b.printf("  %-22s %s\n", "", p.Covers)
	}
	b.printf("  host: %d CPUs, %.2f busy on average during the bench (all processes, not only the stack)\n", rep.Host.CPUs, rep.Host.BusyCores)
}

func (b *tableWriter) targets(rep Report) {
	if len(rep.Targets) > 0 {
		b.printf("\nTargets\n")
		for _, t := range rep.Targets {
			verdict := "met"
			if !t.Met {
				verdict = "MISSED"
			}
			b.printf("  %-42s %-10s %8.1f %-3s %s\n", t.Name, t.Want, t.Value, t.Unit, verdict)
		}
	}
	if len(rep.Notes) > 0 {
		b.printf("\nNotes\n")
		for _, n := range rep.Notes {
			b.printf("  - %s\n", n)
		}
	}
	if len(rep.Failures) > 0 {
		b.printf("\nFAILED\n")
		for _, f := range rep.Failures {
			b.printf("  - %s\n", f)
		}
	}
}

func safeRatio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

package bench

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/interlock-soar/interlock/internal/intake"
)

// sampleReport is a report as a run with every phase makes it.
func sampleReport() Report {
	s := Summary{Count: 10, MinMs: 1, MeanMs: 5, P50Ms: 4, P95Ms: 9, P99Ms: 10, MaxMs: 10}
	phase := &PhaseReport{
		Incidents: 10, ByKind: map[string]int{"nes": 5, "plc": 5}, Concurrency: 32, Posts: 10, Accepted: 10,
		SideEffects: 10, Completed: 10, AcceptedPerSec: 100, SideEffectsPerSec: 90, CompletedPerSec: 85,
		PostToAccepted: s, AcceptedToSideEffect: s, AcceptedToCompleted: s,
		Kinds: map[string]KindReport{
			"nes": {Playbook: KindNewEngineeringStation.Playbook(), SideEffect: KindNewEngineeringStation.SideEffect(), Incidents: 5, SideEffects: 5, Completed: 5, Breakdown: &Breakdown{SampledRuns: 5}},
			"plc": {Playbook: KindPLCReprogramming.Playbook(), SideEffect: KindPLCReprogramming.SideEffect(), Incidents: 5, SideEffects: 5, Completed: 5},
		},
		CPU: map[string]float64{"interlock dev": 1.5}, Errors: []string{},
	}
	low := *phase
	low.TargetRate = 5
	rep := Report{
		RunID: "abc123", StartedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), DurationSeconds: 42,
		Stack:    StackInfo{Intake: "http://127.0.0.1:8480", Temporal: "127.0.0.1:7233", Namespace: "default"},
		Settings: Settings{Incidents: 10, Concurrency: 32, Mix: "nes=1,plc=1"},
		Load:     phase,
		Ceiling: &CeilingReport{Workflows: 10, Shape: DefaultShape, Started: 10, Completed: 10, CompletedPerSec: 100,
			StartCall: s, StartedToCompleted: s, Errors: []string{}},
		CeilingRatio: 0.85,
		Storm:        &StormReport{Incidents: 2, PostsPerIncident: 3, Posts: 6, Started: 2, Deduplicated: 4, ExpectedTickets: 1, Tickets: 1, ExpectedEmails: 1, Emails: 1, Errors: []string{}},
		LowLoad:      &low,
		Processes:    []ProcessReport{{Role: "interlock dev", PID: 1, Covers: "worker", CPUSeconds: 3}},
		Host:         HostReport{CPUs: 2, BusyCores: 1.5},
	}
	rep.Targets, rep.Failures, rep.Notes = targets(rep), failures(rep), notes(rep)
	return rep
}

// TestReportJSONShape pins the JSON field names scripts rely on.
func TestReportJSONShape(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, sampleReport(), true))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc), "one JSON document")
	keys := func(m any) []string { return slices.Sorted(maps.Keys(m.(map[string]any))) }
	require.Equal(t, []string{"alerts", "ceiling", "ceilingRatio", "durationSeconds", "failures", "host", "load", "lowLoad", "notes",
		"processes", "runId", "settings", "stack", "startedAt", "storm", "targets"}, keys(doc))
	require.Equal(t, slices.Sorted(slices.Values([]string{"acceptedPerSec", "acceptedToCompleted", "acceptedToSideEffect", "accepted", "answerErrors",
		"byKind", "completed", "completedPerSec", "concurrency", "cpuSeconds", "duplicates", "errors", "hostBusyCores",
		"incidents", "kinds", "lost", "notClosed", "otherPlaybookRuns", "postFailures", "postToAccepted", "posts", "retries",
		"runsFailed", "sideEffectsDone", "sideEffectsPerSec", "targetRate", "unexpectedEmails", "unexpectedTickets",
		"wallSeconds"})), keys(doc["load"]))
	require.Equal(t, []string{"count", "maxMs", "meanMs", "minMs", "p50Ms", "p95Ms", "p99Ms"}, keys(doc["load"].(map[string]any)["acceptedToSideEffect"]))
	require.Equal(t, []string{"acceptedToCompleted", "acceptedToSideEffect", "breakdown", "completed", "incidents", "playbook",
		"sideEffect", "sideEffectsDone"}, keys(doc["load"].(map[string]any)["kinds"].(map[string]any)["nes"]))
	require.Contains(t, keys(doc["ceiling"]), "completedPerSec")
	require.Contains(t, keys(doc["storm"]), "duplicates")
	require.Contains(t, keys(doc["storm"]), "lost")
	require.Equal(t, []any{}, doc["failures"], "an empty list, not null")

	// A run without phases still has every key, with nulls.
	buf.Reset()
	require.NoError(t, Render(&buf, Report{RunID: "x"}, true))
	doc = nil
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	require.Nil(t, doc["load"])
	require.Equal(t, []any{}, doc["targets"])
}

func TestReportTable(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, sampleReport(), false))
	out := buf.String()
	for _, want := range []string{
		"Interlock bench, run abc123",
		"Full load: 10 incidents (nes 5, plc 5), as fast as possible, 32 concurrent posts",
		"accepted (POST→202)",
		"run completed (202→closed)",
		"plc: PLCReprogrammingNotice (answered by bench)",
		"Raw Temporal ceiling: 10 trivial workflows (1 SideEffect + 2 activities",
		"= 0.85 (85%)",
		"duplicates 0, lost 0  OK",
		"Low load: 10 incidents (nes 5, plc 5), 5/s",
		"runs completed per second at full load",
		"met",
		"interlock dev",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "FAILED")
}

func TestFailuresAndTargets(t *testing.T) {
	rep := sampleReport()
	require.Empty(t, failures(rep))
	require.Len(t, rep.Targets, 4)
	for _, tg := range rep.Targets {
		require.True(t, tg.Met, tg.Name)
	}

	rep.Storm.Duplicates, rep.Storm.Lost = 1, 2
	rep.Load.Lost, rep.Load.RunsFailed = 3, 1
	rep.LowLoad.AcceptedToSideEffect.P99Ms = 150
	rep.Load.AcceptedToSideEffect.P99Ms = 20000 // a queue in front of every run
	rep.Load.CompletedPerSec = 40
	rep.CeilingRatio = 0.5
	require.Equal(t, []string{
		"full load: 3 incidents lost (no side effect within the timeout)",
		"full load: 1 runs failed",
		"alert storm: 1 duplicates, 2 lost, 0 incidents started twice",
	}, failures(rep))
	var missed []string
	for _, tg := range targets(rep) {
		if !tg.Met {
			missed = append(missed, tg.Name)
		}
	}
	require.Equal(t, []string{"runs completed per second at full load", "p99 accepted→side effect at full load", "share of the raw Temporal ceiling", "p99 accepted→side effect at 5/s"}, missed)
	rep.Failures = failures(rep)
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, rep, false))
	require.Contains(t, buf.String(), "FAILED")
}

// TestPhaseReport folds a phase's items into figures.
func TestPhaseReport(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	done := enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	items := []*item{
		{inc: Incident{Kind: KindNewEngineeringStation}, posts: 1, sentAt: at(0), acceptedAt: at(10), workflowID: "a", effects: 1, effectAt: at(30), closedAt: at(50), closeState: done},
		{inc: Incident{Kind: KindPLCReprogramming}, posts: 1, sentAt: at(0), acceptedAt: at(20), workflowID: "b", effects: 2, effectAt: at(60), closedAt: at(1000), closeState: done},
		{inc: Incident{Kind: KindNewEngineeringStation}, posts: 2, retries: 1, sentAt: at(0), acceptedAt: at(40), workflowID: "c", closedAt: at(90), closeState: enumspb.WORKFLOW_EXECUTION_STATUS_FAILED},
		{inc: Incident{Kind: KindPLCReprogramming}, posts: 5, retries: 4, postErr: "intake answered 500"},
	}
	p := newPhase("full load", "abc", "l", items)
	p.firstSent = t0
	rep := phaseReport(p, 0, 8)
	require.Equal(t, 4, rep.Incidents)
	require.Equal(t, map[string]int{"nes": 2, "plc": 2}, rep.ByKind)
	require.Equal(t, 9, rep.Posts)
	require.Equal(t, 5, rep.Retries)
	require.Equal(t, 3, rep.Accepted)
	require.Equal(t, 1, rep.PostFailures)
	require.Equal(t, 2, rep.SideEffects)
	require.Equal(t, 1, rep.Duplicates)
	require.Equal(t, 1, rep.Lost)
	require.Equal(t, 2, rep.Completed)
	require.Equal(t, 1, rep.RunsFailed)
	require.Equal(t, 75.0, rep.AcceptedPerSec, "3 accepted by 40 ms")
	require.Equal(t, 2.0, rep.CompletedPerSec, "2 completed by 1 s")
	require.Equal(t, 20.0, rep.AcceptedToSideEffect.P50Ms)
	require.Equal(t, 40.0, rep.AcceptedToSideEffect.MaxMs)
	require.Equal(t, 980.0, rep.Kinds["plc"].AcceptedToCompleted.P50Ms)
	require.Contains(t, rep.Errors, "intake answered 500")
	require.Equal(t, 1.0, rep.WallSeconds)
}

// TestPhaseFolding feeds a phase what the pollers and the intake report, duplicates and strays
// included.
func TestPhaseFolding(t *testing.T) {
	g, err := NewGenerator("abc")
	require.NoError(t, err)
	nes, err := g.New(KindNewEngineeringStation, "l0", 0)
	require.NoError(t, err)
	plc, err := g.New(KindPLCReprogramming, "l1", 1)
	require.NoError(t, err)
	a, b := &item{inc: nes}, &item{inc: plc}
	p := newPhase("full load", "abc", "l", []*item{a, b})
	require.Equal(t, `InterlockIncidentId STARTS_WITH "bench-abc-l"`, p.runQuery)
	require.Equal(t, `subject:"PLC-abc-l"`, p.mailQuery)
	require.False(t, p.settled(), "nothing posted yet")

	now := time.Now()
	require.False(t, p.recordPost(a, now, now, intake.Response{Runs: []intake.Run{{Playbook: KindNewEngineeringStation.Playbook(), WorkflowID: "NewEngineeringStationTicket/" + nes.ID, Status: "started"}}}, nil, 1))
	p.recordPost(a, now, now.Add(time.Second), intake.Response{Runs: []intake.Run{{Playbook: KindNewEngineeringStation.Playbook(), WorkflowID: "NewEngineeringStationTicket/" + nes.ID, Status: "deduplicated"}}}, nil, 2)
	p.recordPost(b, now, now, intake.Response{Runs: []intake.Run{{Playbook: KindPLCReprogramming.Playbook(), WorkflowID: "PLCReprogrammingNotice/" + plc.ID, Status: "started"}, {Playbook: "Other", WorkflowID: "x"}}}, nil, 1)
	require.Equal(t, now, a.acceptedAt, "the first 202 counts")
	require.Equal(t, 1, a.started)
	require.Equal(t, 1, a.deduped)
	require.Equal(t, 1, a.retries)
	require.Equal(t, 1, b.otherRuns)

	p.addTickets([]ticket{{SysID: "1", Key: nes.DeviceKeys[0], Created: now.Add(50 * time.Millisecond)}, {SysID: "2", Key: "interlock-ews-stray"}})
	p.addTickets([]ticket{{SysID: "1", Key: nes.DeviceKeys[0]}}) // seen again in a full pass
	require.Equal(t, 1, a.effects)
	require.Equal(t, now.Add(50*time.Millisecond), a.effectAt)
	require.Equal(t, 1, p.unexpected.tickets)

	require.Empty(t, p.addEmails([]email{{ID: "m0", Subject: "someone else's mail"}}, false))
	require.Zero(t, p.unexpected.emails, "the whole mailbox is not the phase's")
	toAnswer := p.addEmails([]email{
		{ID: "m1", Subject: "[High] Unplanned change to PLC " + plc.PLCNames[0] + " on Rotterdam Plant / Packaging Line 3 — incident 100001", Created: now},
		{ID: "m2", Subject: "unrelated"},
	}, true)
	require.Equal(t, []*item{b}, toAnswer, "the PLC run is answered once its email is seen")
	require.Empty(t, p.addEmails([]email{{ID: "m3", Subject: "ESCALATION 1: Unplanned change to PLC " + plc.PLCNames[0]}}, true), "answered only once")
	require.Equal(t, 2, b.effects, "a second email for one incident is a duplicate")
	require.Equal(t, 1, p.unexpected.emails, "a phase search finding a stranger is unexpected")

	require.False(t, p.settled())
	p.addRuns([]closedRun{
		{workflowID: "NewEngineeringStationTicket/" + nes.ID, closedAt: now, status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED},
		{workflowID: "PLCReprogrammingNotice/" + plc.ID, closedAt: now.Add(time.Second), status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED},
	})
	require.True(t, p.settled())
	require.Equal(t, now.Add(time.Second), p.watermark)
	require.Equal(t, int64(2), p.closedN.Load())
}

// A fast run can close, and be listed closed, before the intake's answer naming it is read: it
// still counts as closed once the answer arrives (it is listed only once).
func TestPhaseRunClosedBeforeItsAnswer(t *testing.T) {
	g, err := NewGenerator("abc")
	require.NoError(t, err)
	nes, err := g.New(KindNewEngineeringStation, "l0", 0)
	require.NoError(t, err)
	a := &item{inc: nes}
	p := newPhase("full load", "abc", "l", []*item{a})
	p.effects = false
	now := time.Now()
	wid := "NewEngineeringStationTicket/" + nes.ID

	p.addRuns([]closedRun{{workflowID: wid, closedAt: now, status: enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED}})
	require.Zero(t, p.closedN.Load(), "no item claims the run yet")
	require.Equal(t, 1, p.seenRuns())

	p.recordPost(a, now, now, intake.Response{Runs: []intake.Run{{Playbook: KindNewEngineeringStation.Playbook(), WorkflowID: wid, Status: "started"}}}, nil, 1)
	require.True(t, a.closed(), "the run listed before its answer is the item's")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, a.closeState)
	require.Equal(t, int64(1), p.closedN.Load())
	require.True(t, p.settled())
	require.Empty(t, p.unmatched)
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/interlock-soar/interlock/internal/otincident"
)

// alertState is what became of one generated record.
type alertState struct {
	status   string // the first status other than unavailable; "" while unanswered
	reason   string
	created  bool
	incident string
	latency  time.Duration // first send of its batch → the answer that took it
	takenAt  time.Time
}

// alertRun is one alert phase's bookkeeping.
type alertRun struct {
	plan   *AlertPlan
	mu     sync.Mutex
	recs   []alertState
	posts  []time.Duration // every answered POST
	errors []string
	// counters for the progress line
	postsN, retriesN, takenN, createdN atomic.Int64
	unansweredBatches                  int
	firstSent                          time.Time
	lastAnswer                         time.Time
	retriedBatch                       []bool
}

// alertPhase posts the plan's batches, closed loop at AlertConcurrency, then verifies the incidents.
func (r *runner) alertPhase(ctx context.Context, ceiling *CeilingReport) (*AlertReport, error) {
	g, err := NewAlertGenerator(r.runID)
	if err != nil {
		return nil, err
	}
	plan, err := g.Plan(AlertOptions{
		Records: r.cfg.Alerts, Batch: r.cfg.AlertBatch, Repeat: r.cfg.AlertRepeat,
		Shapes: r.cfg.AlertShapes, Titles: r.cfg.AlertTitles, Array: r.cfg.AlertArray,
	})
	if err != nil {
		return nil, err
	}
	ar := &alertRun{plan: plan, recs: make([]alertState, len(plan.Records)), retriedBatch: make([]bool, len(plan.Batches))}
	cpu0 := r.procs.snapshot()
	ar.firstSent = time.Now()
	stopProgress := r.prog.startLine(func() string {
		secs := time.Since(ar.firstSent).Seconds()
		taken := ar.takenN.Load()
		return fmt.Sprintf("%-11s posts %d/%d (retries %d) records taken %d/%d incidents %d  %.1f records/s  %.1fs",
			"alerts", ar.postsN.Load(), len(plan.Batches), ar.retriesN.Load(), taken, len(plan.Records), ar.createdN.Load(),
			float64(taken)/max(secs, 1e-3), secs)
	})
	// A batch is answered only once all its incidents recorded their records, which on a small stack
	// takes far longer than one incident post: no client-wide timeout, a per-POST one instead.
	hc := *r.intake.http
	hc.Timeout = 0
	ic := newIntakeClient(&hc, r.intake.urls, r.intake.token)
	drive(ctx, len(plan.Batches), 0, r.cfg.AlertConcurrency, func(ctx context.Context, i int) {
		r.postAlertBatch(ctx, ic, ar, i)
	})
	stopProgress()
	rep := alertReport(ar, r.cfg)
	rep.CPU, rep.HostBusyCores = r.procs.delta(cpu0, r.procs.snapshot())
	if ceiling != nil && ceiling.StartedPerSec > 0 {
		rep.CeilingStartedPerSec = ceiling.StartedPerSec
		rep.CeilingRatio = round3(rep.IncidentsPerSec / ceiling.StartedPerSec)
	}
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Timeout)
	defer cancel()
	r.verifyAlerts(vctx, g, ar, rep)
	if !r.cfg.KeepAlertIncidents {
		rep.Terminated = r.cleanupAlerts(vctx, ar)
	}
	return rep, nil
}

// maxAlertAttempts bounds the sends of one batch (the first and the resends after 503 / 429).
const maxAlertAttempts = 5

// postAlertBatch sends batch i, resending it after a 503 (as Sentinel's retry would) until every
// record was taken, and records each record's first answer other than "unavailable".
func (r *runner) postAlertBatch(ctx context.Context, ic *intakeClient, ar *alertRun, i int) {
	b := ar.plan.Batches[i]
	first := time.Now()
	for attempt := 1; ; attempt++ {
		sent := time.Now()
		pctx, cancel := context.WithTimeout(ctx, alertPostTimeout(r.cfg.Timeout))
		ans, err := ic.postAlerts(pctx, b.Body, ar.plan.NDJSON)
		cancel()
		at := time.Now()
		ar.postsN.Add(1)
		if attempt > 1 {
			ar.retriesN.Add(1)
		}
		missing := 0
		ar.mu.Lock()
		if ans.resp.Records != nil || err == nil {
			ar.posts = append(ar.posts, at.Sub(sent))
			ar.lastAnswer = later(ar.lastAnswer, at)
		}
		if attempt > 1 {
			ar.retriedBatch[i] = true
		}
		if err != nil {
			ar.errors = addError(ar.errors, err.Error())
		}
		if ans.resp.Records != nil && len(ans.resp.Records) != len(b.Records) {
			ar.errors = addError(ar.errors, fmt.Sprintf("the intake answered %d records for a batch of %d", len(ans.resp.Records), len(b.Records)))
		}
		for _, res := range ans.resp.Records {
			if res.Index < 0 || res.Index >= len(b.Records) {
				continue
			}
			st := &ar.recs[b.Records[res.Index]]
			if st.status != "" && st.status != "unavailable" {
				continue
			}
			st.status, st.reason, st.created, st.incident = res.Status, res.Reason, res.Created, res.Incident
			if res.Error != "" {
				st.reason = res.Error
			}
			if res.Status == "unavailable" {
				continue
			}
			st.latency, st.takenAt = at.Sub(first), at
			ar.takenN.Add(1)
			if res.Created {
				ar.createdN.Add(1)
			}
		}
		for _, idx := range b.Records {
			if s := ar.recs[idx].status; s == "" || s == "unavailable" {
				missing++
			}
		}
		ar.mu.Unlock()
		retry := missing > 0 && (ans.status == 503 || errors.Is(err, errRetryable))
		if !retry || attempt == maxAlertAttempts || ctx.Err() != nil {
			if missing > 0 {
				ar.mu.Lock()
				ar.unansweredBatches++
				ar.mu.Unlock()
			}
			return
		}
		wait := time.Duration(attempt) * 250 * time.Millisecond
		if ans.retryAfter > 0 {
			wait = min(ans.retryAfter, 5*time.Second)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// alertPostTimeout is how long one POST /v1/alerts may take: the phase timeout, at least 5 minutes.
func alertPostTimeout(phase time.Duration) time.Duration { return max(phase, 5*time.Minute) }

// alertReport computes the phase's figures from the answers.
func alertReport(ar *alertRun, cfg Config) *AlertReport {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	p := ar.plan
	rep := &AlertReport{
		Records: len(p.Records), Batch: cfg.AlertBatch, Batches: len(p.Batches), Concurrency: cfg.AlertConcurrency,
		Format: "ndjson", ByShape: p.ByShape, Titles: cfg.AlertTitles, DefaultTitles: slices.Equal(cfg.AlertTitles, DefaultAlertTitles),
		Alerts: p.Alerts, Resends: p.Resends, Later30: p.Later30, Later90: p.Later90,
		ExpectedAccepted: p.ExpectedAccepted(), ExpectedDuplicates: p.Resends,
		Posts: len(ar.posts), Retries: int(ar.retriesN.Load()), BatchesNotTaken: ar.unansweredBatches,
		VisibilityCount: -1, Errors: slices.Clone(ar.errors),
	}
	if !p.NDJSON {
		rep.Format = "json array"
	}
	if rep.Errors == nil {
		rep.Errors = []string{}
	}
	for _, retried := range ar.retriedBatch {
		if retried {
			rep.BatchesRetried++
		}
	}
	rep.Posts = int(ar.postsN.Load())
	var lat []time.Duration
	var lastCreated time.Time
	incidents := map[string]bool{}
	for i, st := range ar.recs {
		switch st.status {
		case otincident.OutcomeAccepted:
			rep.Accepted++
		case otincident.OutcomeDuplicate:
			rep.Duplicates++
		case "rejected":
			rep.Rejected++
		case "suppressed":
			rep.Suppressed++
		case "unavailable":
			rep.Unavailable++
		case "failed":
			rep.Failed++
		case "":
			rep.NotAnswered++
		}
		if st.status == "rejected" || st.status == "failed" || st.status == "suppressed" {
			rep.Errors = addError(rep.Errors, st.status+": "+st.reason)
		}
		if st.status == otincident.OutcomeAccepted || st.status == otincident.OutcomeDuplicate {
			lat = append(lat, st.latency)
			if st.incident != "" {
				incidents[st.incident] = true
			}
			if st.incident != p.Records[i].IncidentID {
				rep.WrongIncident++
			}
		}
		if st.created {
			rep.IncidentsCreated++
			lastCreated = later(lastCreated, st.takenAt)
		}
	}
	rep.DistinctIncidents = len(incidents)
	rep.PostLatency, rep.RecordLatency = Summarize(ar.posts), Summarize(lat)
	wall := ar.lastAnswer.Sub(ar.firstSent)
	rep.WallSeconds = round3(max(wall, 0).Seconds())
	rep.RecordsPerSec = perSecond(rep.Accepted+rep.Duplicates, wall)
	rep.IncidentsPerSec = perSecond(rep.IncidentsCreated, lastCreated.Sub(ar.firstSent))
	return rep
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// alertSample is how many incidents the verification reads the state of.
const alertSample = 50

// verifyAlerts counts the run's incident workflows in the visibility store and reads a sample's state.
func (r *runner) verifyAlerts(ctx context.Context, g *AlertGenerator, ar *alertRun, rep *AlertReport) {
	r.countAlertIncidents(ctx, g, ar.plan.Alerts, rep)
	p := ar.plan
	alertRecord := map[int]GenAlert{}
	for _, rec := range p.Records {
		if rec.Kind == RecordFirst {
			alertRecord[rec.Alert] = rec
		}
	}
	retried := map[int]bool{} // alerts in a batch that was sent more than once
	for bi, b := range p.Batches {
		if ar.retriedBatch[bi] {
			for _, idx := range b.Records {
				retried[p.Records[idx].Alert] = true
			}
		}
	}
	store := &otincident.Client{Temporal: r.tc}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, a := range alertSampleOf(p) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			want := alertRecord[a]
			st, err := store.State(ctx, want.IncidentID)
			mu.Lock()
			defer mu.Unlock()
			rep.Sampled++
			var mismatch string
			if err != nil {
				mismatch = fmt.Sprintf("state: %v", err)
			} else {
				rep.SamplePlaybookRuns += len(st.Playbooks)
				mismatch = alertStateMismatch(st, want, p.PerAlert[a], !retried[a])
			}
			if mismatch != "" {
				rep.SampleMismatches++
				rep.Errors = addError(rep.Errors, fmt.Sprintf("incident %s: ", want.IncidentID)+mismatch)
			}
		})
	}
	wg.Wait()
}

// countAlertIncidents counts the run's incident workflows in the visibility store. Visibility records
// are written asynchronously: it counts until the number reaches want or time is up.
func (r *runner) countAlertIncidents(ctx context.Context, g *AlertGenerator, want int, rep *AlertReport) {
	var parts []string
	for _, p := range g.IncidentWorkflowPrefixes() {
		parts = append(parts, fmt.Sprintf("WorkflowId STARTS_WITH %q", p))
	}
	q := fmt.Sprintf("WorkflowType = %q AND (%s)", otincident.WorkflowType, strings.Join(parts, " OR "))
	rep.VisibilityQuery = q
	deadline := time.Now().Add(min(r.cfg.Timeout, 30*time.Second))
	for {
		resp, err := r.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
		if err != nil {
			rep.Errors = addError(rep.Errors, "visibility count: "+err.Error())
			return
		}
		rep.VisibilityCount = int(resp.GetCount())
		if rep.VisibilityCount >= want || time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// alertSampleOf picks the alerts whose incidents the verification reads: alerts with repeats first
// (the interesting ones), the rest spread over the run.
func alertSampleOf(p *AlertPlan) []int {
	var repeated, single []int
	for a, c := range p.PerAlert {
		if c.Records > 1 {
			repeated = append(repeated, a)
		} else {
			single = append(single, a)
		}
	}
	pick := func(list []int, k int) []int {
		if len(list) <= k {
			return list
		}
		out := make([]int, 0, k)
		for i := range k {
			out = append(out, list[i*len(list)/k])
		}
		return out
	}
	nr := min(len(repeated), alertSample/2)
	return append(pick(repeated, nr), pick(single, alertSample-nr)...)
}

// alertStateMismatch says how an incident's state differs from what was posted for its alert ("" when
// it does not). When the alert's batch was sent more than once (not exact), the intake may have seen
// more records than the plan counts.
func alertStateMismatch(st otincident.State, want GenAlert, counts AlertCounts, exact bool) string {
	switch {
	case st.Incident.ID != want.IncidentID:
		return fmt.Sprintf("holds incident %q", st.Incident.ID)
	case len(st.Incident.Alerts) != 1 || st.Incident.Alerts[0].VendorOriginalID != want.AlertID:
		return fmt.Sprintf("holds %d alerts, not the one alert %s", len(st.Incident.Alerts), want.AlertID)
	case exact && (st.Records != counts.Records || st.Duplicates < counts.Resends || st.Duplicates > counts.Resends+btoi(counts.Later)):
		return fmt.Sprintf("%d records (%d duplicates), posted %d (%d exact re-sends)", st.Records, st.Duplicates, counts.Records, counts.Resends)
	case !exact && (st.Records < counts.Records || st.Duplicates < counts.Resends):
		return fmt.Sprintf("%d records (%d duplicates), posted at least %d (%d exact re-sends)", st.Records, st.Duplicates, counts.Records, counts.Resends)
	case !st.Incident.Alerts[0].TimeGenerated.Equal(counts.Latest):
		return fmt.Sprintf("holds the alert's record of %s, not the latest (%s)", st.Incident.Alerts[0].TimeGenerated.Format(time.RFC3339Nano), counts.Latest.Format(time.RFC3339Nano))
	}
	return ""
}

// cleanupAlerts terminates the run's incident workflows, which would otherwise stay open (an incident
// keeps its run until it is closed) and fill the stack's incident list.
func (r *runner) cleanupAlerts(ctx context.Context, ar *alertRun) int {
	ids := map[string]bool{}
	for _, rec := range ar.plan.Records {
		ids[rec.IncidentID] = true
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := r.tc.TerminateWorkflow(ctx, otincident.WorkflowID(id), "", "interlock bench "+r.runID+": cleanup"); err == nil {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return int(n.Load())
}

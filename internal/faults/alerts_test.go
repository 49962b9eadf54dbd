package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
)

// The acceptance test of the alert intake (POST /v1/alerts) under faults: a stream of Defender for IoT
// alert records, 30 % of them repeats of earlier alerts (exact re-sends, and later records of the
// alert with the record time moved +30 min and +90 min, inside and past Sentinel's 60-minute
// re-processing window), posted in batches by several senders at once, which resend a batch that
// answered 503 or failed in transit until it answers 2xx (the sender's contract). Every alert ID must
// end with exactly one incident holding its newest record, no record answered accepted or duplicate may
// be missing from its incident's count, and each playbook must run exactly once per incident that
// should run it, with its one ticket or email.

const (
	// alertRecordsDefault is the record count of a normal run: `go test ./...` stays within minutes.
	alertRecordsDefault = 2000
	// alertRecordsFull is the acceptance's count, run with INTERLOCK_FAULTS_FULL=1.
	alertRecordsFull = 10000
	alertBatchSize   = 500
	alertSenders     = 3
	// alertPlaybookEach is how many PLC-programming and how many new-engineering-station alerts the
	// stream holds; the rest have titles that start no playbook.
	alertPlaybookEach = 20
	alertRepeatPct    = 30
)

// alertRecordCount is alertRecordsFull with INTERLOCK_FAULTS_FULL=1, else alertRecordsDefault.
func alertRecordCount() int {
	if os.Getenv("INTERLOCK_FAULTS_FULL") == "1" {
		return alertRecordsFull
	}
	return alertRecordsDefault
}

// plainAlertTitles start no playbook under the default rules (each still makes an incident).
var plainAlertTitles = []string{
	"Excessive Login Attempts",
	"Suspicion of Denial Of Service Attack",
	"Illegal MODBUS Operation (Function Code Zero)",
}

type alertKind int

const (
	alertPlain alertKind = iota
	alertPLC
	alertNES
)

// alertDef is one distinct alert of the stream.
type alertDef struct {
	id       string // VendorOriginalId, or the sensor's uuid
	incident string // the incident it must land in
	kind     alertKind
	sensor   bool
	ref      incidentRef    // PLC and NES alerts: for the harness's ticket and email checks
	fields   map[string]any // the record's fields, before the record time is set
	base     time.Time      // the time of its first record
}

func (d *alertDef) playbook() string {
	switch d.kind {
	case alertPLC:
		return playbooks.PLCReprogrammingName
	case alertNES:
		return playbooks.NewEngineeringStationName
	}
	return ""
}

// alertRec is one record of the stream.
type alertRec struct {
	def   int           // index in the alert list
	shift time.Duration // record time after the alert's first record: 0, 30 or 90 minutes
	first bool          // the alert's first record (not a repeat)
	body  []byte
}

// recordTime is the record's time as the intake reads it.
func (r alertRec) recordTime(defs []*alertDef) time.Time { return defs[r.def].base.Add(r.shift) }

// alertStream is the alerts and the records posting them, in posting order.
type alertStream struct {
	defs    []*alertDef
	recs    []alertRec
	repeats int
	byShift map[time.Duration]int // repeats by record time moved
	exact   int                   // repeats that are byte-for-byte re-sends of an earlier record
}

// makeAlertStream makes n records: 70 % first records of distinct alerts (alertPlaybookEach of them
// PLC programming, as many new engineering stations, every fourth of the rest an OT sensor alert, the
// rest SecurityAlert rows), 30 % repeats of earlier alerts placed after the alert's first record.
func makeAlertStream(t *testing.T, n int, seed uint64) *alertStream {
	t.Helper()
	root := testenv.ModuleRoot(t)
	secFixture, err := os.ReadFile(filepath.Join(root, "testdata", "d4iot-securityalert-unauthorized-plc-programming.json"))
	require.NoError(t, err)
	sensorFixture, err := os.ReadFile(filepath.Join(root, "testdata", "sensor-alert-unauthorized-plc-programming.json"))
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	nRepeats := n * alertRepeatPct / 100
	nDistinct := n - nRepeats
	require.Greater(t, nDistinct, 4*alertPlaybookEach)
	kinds := make([]alertKind, nDistinct)
	for j := range alertPlaybookEach { // spread over the stream
		kinds[(2*j*nDistinct)/(2*alertPlaybookEach)+1] = alertPLC
		kinds[((2*j+1)*nDistinct)/(2*alertPlaybookEach)+1] = alertNES
	}
	baseSec, err := time.Parse(time.RFC3339, "2026-11-20T08:09:51Z")
	require.NoError(t, err)
	s := &alertStream{byShift: map[time.Duration]int{}}
	var nPLC, nNES, nPlain int
	for i, kind := range kinds {
		d := &alertDef{kind: kind, base: baseSec.Add(time.Duration(i) * time.Second)}
		var tag string
		switch kind {
		case alertPLC:
			tag = fmt.Sprintf("a-p%03d", nPLC)
			nPLC++
		case alertNES:
			tag = fmt.Sprintf("a-n%03d", nNES)
			nNES++
		default:
			d.sensor = nPlain%4 == 3
			nPlain++
		}
		title := plainAlertTitles[i%len(plainAlertTitles)]
		if d.sensor {
			num := 100000 + i
			baseMs := d.base.UnixMilli()
			d.id = fmt.Sprintf("%d-%d", num, baseMs)
			d.incident = otincident.IDPrefix + "sensor-" + d.id
			src := strings.NewReplacer("2210-1796198400000", d.id).Replace(string(sensorFixture))
			require.NoError(t, json.Unmarshal([]byte(src), &d.fields))
			d.fields["id"] = num
			d.fields["title"] = title
		} else {
			d.id = fmt.Sprintf("%08x-2b7f-4e90-8d1a-%012x", uint32(seed), i)
			d.incident = otincident.IDPrefix + "iot-" + d.id
			repl := []string{
				"5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47", d.id,
				"0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", fmt.Sprintf("%08x-4f5a-4b6c-8d7e-%012x", uint32(seed), i),
			}
			switch kind {
			case alertPLC:
				title = "Unauthorized PLC Programming"
				d.ref = incidentRef{plc: true, tag: tag, wid: playbooks.PLCReprogrammingName + "/" + d.incident}
			case alertNES:
				title = "New Asset Detected"
				d.ref = incidentRef{tag: tag, wid: playbooks.NewEngineeringStationName + "/" + d.incident, mac: "00:1a:2b:" + testenv.MACTail(tag)}
			}
			if tag != "" { // the devices of a playbook alert are its own, as in testenv.Fixture
				repl = append(repl, "00:1a:2b:3c:4d:5e", "00:1a:2b:"+testenv.MACTail(tag), "ENG-WS-07", "ENG-WS-"+tag, "PLC-L3-01", "PLC-"+tag)
			}
			src := strings.NewReplacer(repl...).Replace(string(secFixture))
			require.NoError(t, json.Unmarshal([]byte(src), &d.fields))
			d.fields["DisplayName"], d.fields["AlertName"] = title, title
		}
		s.defs = append(s.defs, d)
	}

	// Posting order: each alert's first record at i/n, each repeat at a random later point.
	type placed struct {
		key float64
		rec alertRec
	}
	var order []placed
	for i := range s.defs {
		order = append(order, placed{float64(i) / float64(nDistinct), alertRec{def: i, first: true}})
	}
	shifts := []time.Duration{0, 30 * time.Minute, 90 * time.Minute}
	addRepeat := func(i int, shift time.Duration) {
		k := float64(i) / float64(nDistinct)
		order = append(order, placed{k + rng.Float64()*(1-k), alertRec{def: i, shift: shift}})
	}
	for i, d := range s.defs { // every playbook alert is repeated in all three ways
		if d.kind != alertPlain {
			for _, sh := range shifts {
				addRepeat(i, sh)
			}
		}
	}
	for len(order) < n {
		addRepeat(rng.IntN(nDistinct*9/10), shifts[rng.IntN(len(shifts))])
	}
	sort.SliceStable(order, func(a, b int) bool { return order[a].key < order[b].key })
	sent := map[[2]int64]bool{}
	for _, p := range order {
		r := p.rec
		d := s.defs[r.def]
		at := r.recordTime(s.defs)
		fields := make(map[string]any, len(d.fields))
		for k, v := range d.fields {
			fields[k] = v
		}
		if d.sensor {
			fields["time"] = at.UnixMilli()
		} else {
			fields["TimeGenerated"] = at.UTC().Format(time.RFC3339)
			fields["ProcessingEndTime"] = at.Add(time.Second).UTC().Format(time.RFC3339)
		}
		var err error
		r.body, err = json.Marshal(fields)
		require.NoError(t, err)
		if !r.first {
			s.repeats++
			s.byShift[r.shift]++
			if sent[[2]int64{int64(r.def), int64(r.shift)}] {
				s.exact++
			}
		}
		sent[[2]int64{int64(r.def), int64(r.shift)}] = true
		s.recs = append(s.recs, r)
	}
	return s
}

// newest is the latest record time sent for each alert.
func (s *alertStream) newest() []time.Time {
	out := make([]time.Time, len(s.defs))
	for _, r := range s.recs {
		if at := r.recordTime(s.defs); at.After(out[r.def]) {
			out[r.def] = at
		}
	}
	return out
}

func (s *alertStream) refs(kind alertKind) []incidentRef {
	var out []incidentRef
	for _, d := range s.defs {
		if d.kind == kind {
			out = append(out, d.ref)
		}
	}
	return out
}

// alertBatch is one POST: a slice of the stream.
type alertBatch struct {
	n      int
	recs   []alertRec
	ndjson bool
	body   []byte
}

func (s *alertStream) batches() []*alertBatch {
	var out []*alertBatch
	for off := 0; off < len(s.recs); off += alertBatchSize {
		b := &alertBatch{n: len(out), recs: s.recs[off:min(off+alertBatchSize, len(s.recs))], ndjson: len(out)%2 == 1}
		var buf bytes.Buffer
		if !b.ndjson {
			buf.WriteByte('[')
		}
		for i, r := range b.recs {
			if i > 0 && !b.ndjson {
				buf.WriteByte(',')
			}
			buf.Write(r.body)
			if b.ndjson {
				buf.WriteByte('\n')
			}
		}
		if !b.ndjson {
			buf.WriteByte(']')
		}
		b.body = buf.Bytes()
		out = append(out, b)
	}
	return out
}

// alertTally is what the senders saw, over every attempt of every batch.
type alertTally struct {
	mu        sync.Mutex
	posts     int
	byCode    map[int]int
	transport []string
	statuses  map[string]int // record statuses over all answers
	taken     []int          // per alert: records answered accepted or duplicate
	created   []int          // per alert: records answered created
	problems  []string       // answers the contract does not allow
	longest   time.Duration  // the longest POST
}

func newAlertTally(nDefs int) *alertTally {
	return &alertTally{byCode: map[int]int{}, statuses: map[string]int{}, taken: make([]int, nDefs), created: make([]int, nDefs)}
}

func (ta *alertTally) problem(format string, a ...any) {
	if len(ta.problems) < 50 {
		ta.problems = append(ta.problems, fmt.Sprintf(format, a...))
	}
}

// sendBatch posts b until it answers 2xx, resending after a 503 (its Retry-After) or a transport
// failure. Other answers are problems; they are resent too, at most maxOther times.
func (s *fstack) sendBatch(ctx context.Context, hc *http.Client, st *alertStream, b *alertBatch, ta *alertTally) {
	const maxOther = 5
	other := 0
	ct := "application/json"
	if b.ndjson {
		ct = "application/x-ndjson"
	}
	for attempt := 1; ctx.Err() == nil; attempt++ {
		began := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.intakeURL+"/v1/alerts", bytes.NewReader(b.body))
		if err != nil {
			panic(err)
		}
		req.Header.Set("Content-Type", ct)
		resp, err := hc.Do(req)
		var raw []byte
		if err == nil {
			raw, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		took := time.Since(began)
		ta.mu.Lock()
		ta.posts++
		ta.longest = max(ta.longest, took)
		if err != nil {
			ta.transport = append(ta.transport, fmt.Sprintf("batch %d attempt %d after %v: %v", b.n, attempt, took.Round(time.Millisecond), err))
			ta.mu.Unlock()
			sleepCtx(ctx, time.Second)
			continue
		}
		ta.byCode[resp.StatusCode]++
		var ar intake.AlertsResponse
		if jerr := json.Unmarshal(raw, &ar); jerr != nil || len(ar.Records) != len(b.recs) {
			ta.problem("batch %d attempt %d: %d with %d records in the answer (%v): %.300s", b.n, attempt, resp.StatusCode, len(ar.Records), jerr, raw)
			ar.Records = nil
		}
		for i, res := range ar.Records {
			r := b.recs[i]
			d := st.defs[r.def]
			ta.statuses[res.Status]++
			switch res.Status {
			case "accepted", "duplicate":
				ta.taken[r.def]++
				if res.Incident != d.incident || res.AlertID != d.id {
					ta.problem("batch %d record %d: alert %s answered incident %q alertId %q, want %q", b.n, i, d.id, res.Incident, res.AlertID, d.incident)
				}
				if res.Created {
					ta.created[r.def]++
				}
			case "unavailable":
				if resp.StatusCode != http.StatusServiceUnavailable {
					ta.problem("batch %d record %d: unavailable in a %d answer", b.n, i, resp.StatusCode)
				}
			default:
				ta.problem("batch %d attempt %d record %d (alert %s): %s %s %s", b.n, attempt, i, d.id, res.Status, res.Reason, res.Error)
			}
		}
		ok := resp.StatusCode >= 200 && resp.StatusCode < 300
		ta.mu.Unlock()
		switch {
		case ok:
			return
		case resp.StatusCode == http.StatusServiceUnavailable:
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			sleepCtx(ctx, time.Duration(max(1, wait))*time.Second)
		default:
			ta.mu.Lock()
			ta.problem("batch %d attempt %d: answered %d: %.300s", b.n, attempt, resp.StatusCode, raw)
			ta.mu.Unlock()
			if other++; other >= maxOther {
				return
			}
			sleepCtx(ctx, time.Second)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// sendStream posts every batch, alertSenders at a time, each until it answers 2xx.
func (s *fstack) sendStream(ctx context.Context, st *alertStream, ta *alertTally) {
	hc := &http.Client{Timeout: 5 * time.Minute}
	next := make(chan *alertBatch)
	var wg sync.WaitGroup
	for range alertSenders {
		wg.Go(func() {
			for b := range next {
				s.sendBatch(ctx, hc, st, b, ta)
			}
		})
	}
	for _, b := range st.batches() {
		next <- b
	}
	close(next)
	wg.Wait()
}

// countWorkflows counts the executions the visibility query matches.
func (s *fstack) countWorkflows(ctx context.Context, query string) (int64, error) {
	resp, err := s.tp.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: s.tp.Namespace, Query: query})
	if err != nil {
		return 0, err
	}
	return resp.GetCount(), nil
}

// listedRun is one execution in a visibility list.
type listedRun struct {
	workflowID, runID string
	status            enums.WorkflowExecutionStatus
}

func (s *fstack) listWorkflows(ctx context.Context, query string) ([]listedRun, error) {
	var out []listedRun
	var token []byte
	for {
		resp, err := s.tp.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.tp.Namespace, Query: query, PageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			out = append(out, listedRun{e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), e.GetStatus()})
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// waitCount polls the visibility count until it is want and has stayed so for a second (the dev
// server's visibility is eventually consistent), or within has passed; it returns the last count.
func (s *fstack) waitCount(t *testing.T, query string, want int64, within time.Duration) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last int64 = -1
	var since time.Time
	for {
		n, err := s.countWorkflows(ctx, query)
		if err == nil {
			if n != last {
				last, since = n, time.Now()
			}
			if n == want && time.Since(since) >= time.Second {
				return n
			}
		}
		if ctx.Err() != nil {
			return last
		}
		sleepCtx(ctx, 250*time.Millisecond)
	}
}

// requireRunsOnce checks that the visibility list for query holds exactly one execution for each of
// want's workflow IDs and nothing else, each in one of the allowed states.
func (s *fstack) requireRunsOnce(t *testing.T, what, query string, want []string, allowed ...enums.WorkflowExecutionStatus) {
	t.Helper()
	got := s.waitCount(t, query, int64(len(want)), 90*time.Second)
	runs, err := s.listWorkflows(context.Background(), query)
	require.NoError(t, err)
	per := map[string][]listedRun{}
	for _, r := range runs {
		per[r.workflowID] = append(per[r.workflowID], r)
	}
	var missing, extra, twice, wrongState []string
	for _, id := range want {
		rs := per[id]
		switch {
		case len(rs) == 0:
			missing = append(missing, id)
		case len(rs) > 1:
			twice = append(twice, fmt.Sprintf("%s: %v", id, rs))
		case !slices.Contains(allowed, rs[0].status):
			wrongState = append(wrongState, fmt.Sprintf("%s: %s", id, rs[0].status))
		}
		delete(per, id)
	}
	for id, rs := range per {
		extra = append(extra, fmt.Sprintf("%s: %v", id, rs))
	}
	t.Logf("%s: visibility count %d (want %d), listed %d executions", what, got, len(want), len(runs))
	require.Empty(t, missing, "%s: workflow IDs with no execution (lost)", what)
	require.Empty(t, twice, "%s: workflow IDs with more than one execution", what)
	require.Empty(t, extra, "%s: executions nobody asked for", what)
	require.Empty(t, wrongState, "%s: executions in an unexpected state", what)
	require.Len(t, runs, len(want), what)
}

// alertFault is injected while the stream is being posted.
type alertFault struct {
	name string
	// at is the share of the stream's incidents (by visibility count) at which it is injected.
	at     float64
	inject func(t *testing.T, s *fstack, w **workerProc)
	// must503 says the fault must make some POST answer 503 (and be resent), or it tested nothing.
	must503 bool
}

// runAlertAcceptance posts the stream to a fresh stack with an `interlock worker` process, injecting
// the faults as the incident count passes their marks, and checks the outcome.
func runAlertAcceptance(t *testing.T, seed uint64, faults ...alertFault) {
	n := alertRecordCount()
	s := newStack(t, stackOptions{tweak: func(c *config.Config) {
		c.Sentinel.WriteBack = config.WriteBackNone // a plant without a SIEM: Interlock keeps the incidents
	}})
	interlockBinary(t)
	st := makeAlertStream(t, n, seed)
	nDistinct := len(st.defs)
	plc, nes := st.refs(alertPLC), st.refs(alertNES)
	t.Logf("%d records in batches of %d, %d senders: %d alerts (%d PLC programming, %d new engineering stations, %d sensor alerts), "+
		"%d repeats (%d at the same record time, %d of them byte-for-byte re-sends; %d at +30 min; %d at +90 min)",
		len(st.recs), alertBatchSize, alertSenders, nDistinct, len(plc), len(nes), countSensor(st), st.repeats,
		st.byShift[0], st.exact, st.byShift[30*time.Minute], st.byShift[90*time.Minute])

	w := s.startWorkerProcess(t, "worker-1")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	ta := newAlertTally(nDistinct)
	began := time.Now()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		s.sendStream(ctx, st, ta)
	}()
	query := "WorkflowType = '" + otincident.WorkflowType + "'"
	for _, f := range faults {
		mark := int64(f.at * float64(nDistinct))
		for {
			n, err := s.countWorkflows(ctx, query)
			if err == nil && n >= mark {
				break
			}
			select {
			case <-sent:
				t.Fatalf("the stream was sent before %s could be injected at %d incidents", f.name, mark)
			case <-time.After(20 * time.Millisecond):
			}
		}
		at := time.Since(began)
		f.inject(t, s, &w)
		t.Logf("%s at %d of %d incidents, %v after the first post; back after %v", f.name, mark, nDistinct,
			at.Round(time.Millisecond), (time.Since(began) - at).Round(time.Millisecond))
	}
	<-sent
	sendTime := time.Since(began)
	require.NoError(t, ctx.Err(), "the stream was not taken within the test's time")
	ta.mu.Lock()
	t.Logf("stream taken after %v: %d POSTs (%d batches), answers %v, transport failures %d, record statuses over all answers %v; longest POST %v",
		sendTime.Round(time.Millisecond), ta.posts, len(st.batches()), ta.byCode, len(ta.transport), ta.statuses, ta.longest.Round(time.Millisecond))
	for _, tr := range ta.transport {
		t.Logf("transport: %s", tr)
	}
	problems, unavailable := slices.Clone(ta.problems), ta.byCode[http.StatusServiceUnavailable]
	ta.mu.Unlock()
	require.Empty(t, problems, "answers the sender's contract does not allow")
	for _, f := range faults {
		if f.must503 {
			require.Positive(t, unavailable, "%s: the test must see POSTs answered 503 and resent", f.name)
		}
	}

	// No alert created two incidents, and every alert was answered (accepted or duplicate) at least as
	// often as it was sent.
	var twiceCreated, notCreated []string
	perAlertSent := make([]int, nDistinct)
	for _, r := range st.recs {
		perAlertSent[r.def]++
	}
	for i, d := range st.defs {
		if ta.created[i] > 1 {
			twiceCreated = append(twiceCreated, fmt.Sprintf("%s: %d", d.id, ta.created[i]))
		}
		if ta.created[i] == 0 {
			notCreated = append(notCreated, d.id)
		}
		require.GreaterOrEqual(t, ta.taken[i], perAlertSent[i], "alert %s: every record is answered accepted or duplicate", d.id)
	}
	require.Empty(t, twiceCreated, "alerts answered created more than once")
	t.Logf("alerts with no answer saying created (its answer was lost to a fault, the resend said duplicate): %d", len(notCreated))

	// One incident workflow per alert ID, none lost, none twice, none else.
	wantIncidents := make([]string, nDistinct)
	for i, d := range st.defs {
		wantIncidents[i] = otincident.WorkflowID(d.incident)
	}
	s.requireRunsOnce(t, "incidents", query, wantIncidents, enums.WORKFLOW_EXECUTION_STATUS_RUNNING)
	// Each playbook once per incident that should run it, and for no other.
	var wantPLC, wantNES []string
	for _, in := range plc {
		wantPLC = append(wantPLC, in.wid)
	}
	for _, in := range nes {
		wantNES = append(wantNES, in.wid)
	}
	s.requireRunsOnce(t, "PLC notices", "WorkflowType = '"+playbooks.PLCReprogrammingName+"'", wantPLC, enums.WORKFLOW_EXECUTION_STATUS_RUNNING)
	s.requireRunsOnce(t, "NES tickets", "WorkflowType = '"+playbooks.NewEngineeringStationName+"'", wantNES,
		enums.WORKFLOW_EXECUTION_STATUS_RUNNING, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	all, err := s.listWorkflows(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, all, nDistinct+len(plc)+len(nes), "no other workflow runs (status syncs, rule changes)")

	// The incidents' states: every playbook alert, every repeated alert, and a sample of the others.
	repeated := make([]bool, nDistinct)
	for _, r := range st.recs {
		if !r.first {
			repeated[r.def] = true
		}
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	var check []int
	for i, d := range st.defs {
		if d.kind != alertPlain || repeated[i] || rng.IntN(nDistinct) < 100 {
			check = append(check, i)
		}
	}
	queried := time.Now()
	newest := st.newest()
	s.requireIncidentStates(t, st, check, ta, perAlertSent, newest)
	t.Logf("queried %d incident states in %v", len(check), time.Since(queried).Round(time.Millisecond))

	// The playbooks' effects: one ticket per workstation, one email per PLC.
	s.requireTicketsDone(t, nes, 120*time.Second)
	s.waitPLCWaiting(t, plc, 120*time.Second, "after the stream")
	s.requireOneEmailEach(t, plc, 0)
	t.Logf("all checks passed %v after the first post", time.Since(began).Round(time.Millisecond))
}

func countSensor(st *alertStream) int {
	n := 0
	for _, d := range st.defs {
		if d.sensor {
			n++
		}
	}
	return n
}

// requireIncidentStates queries the incidents of the alerts at idx and checks each holds its alert, at
// its newest record, counts at least the records answered accepted or duplicate, and started its
// playbook exactly once (or none).
func (s *fstack) requireIncidentStates(t *testing.T, st *alertStream, idx []int, ta *alertTally, perAlertSent []int, newest []time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	oc := &otincident.Client{Temporal: s.tp.Client, Namespace: s.tp.Namespace}
	var mu sync.Mutex
	var wrong []string
	var maxRecords, extraRecords int
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				d := st.defs[i]
				var stt otincident.State
				var err error
				var problem string
				deadline := time.Now().Add(60 * time.Second)
				for {
					qctx, qcancel := context.WithTimeout(ctx, 10*time.Second)
					stt, err = oc.State(qctx, d.incident)
					qcancel()
					problem = incidentProblem(d, stt, err, ta.taken[i], newest[i])
					// A playbook's start is recorded once the child has started, after the record's
					// answer: give it time.
					if problem == "" || time.Now().After(deadline) || (err == nil && len(stt.Playbooks) > 0) {
						break
					}
					sleepCtx(ctx, 200*time.Millisecond)
				}
				mu.Lock()
				if problem != "" {
					wrong = append(wrong, problem)
				} else {
					maxRecords = max(maxRecords, stt.Records)
					extraRecords += stt.Records - perAlertSent[i]
				}
				mu.Unlock()
			}
		})
	}
	for _, i := range idx {
		next <- i
	}
	close(next)
	wg.Wait()
	t.Logf("incident states checked: %d; most records in one incident: %d; records counted beyond those sent (taken, answer lost, resent): %d",
		len(idx), maxRecords, extraRecords)
	require.Empty(t, wrong, "incidents that do not hold what was answered")
}

func incidentProblem(d *alertDef, st otincident.State, err error, taken int, newest time.Time) string {
	if err != nil {
		return fmt.Sprintf("%s: %v", d.incident, err)
	}
	var p []string
	if st.Incident.ID != d.incident {
		p = append(p, "incident ID "+st.Incident.ID)
	}
	if len(st.Incident.Alerts) != 1 {
		p = append(p, fmt.Sprintf("%d alerts", len(st.Incident.Alerts)))
	} else {
		a := st.Incident.Alerts[0]
		if a.VendorOriginalID != d.id {
			p = append(p, "holds alert "+a.VendorOriginalID)
		}
		if !a.TimeGenerated.Equal(newest) {
			p = append(p, fmt.Sprintf("holds the record of %s, not the newest (%s)", a.TimeGenerated.Format(time.RFC3339), newest.Format(time.RFC3339)))
		}
	}
	if st.Records < taken {
		p = append(p, fmt.Sprintf("counts %d records, %d were answered accepted or duplicate", st.Records, taken))
	}
	want := d.playbook()
	var runs []string
	ok := false
	for _, r := range st.Playbooks {
		runs = append(runs, r.Playbook+" "+r.WorkflowID+" "+r.Status+" "+r.Error)
		if want != "" && r.Playbook == want && r.Status == "started" && r.WorkflowID == d.ref.wid {
			ok = true
		}
	}
	if (want == "" && len(st.Playbooks) != 0) || (want != "" && (!ok || len(st.Playbooks) != 1)) {
		p = append(p, fmt.Sprintf("playbooks %q, want %q once", runs, want))
	}
	if len(p) == 0 {
		return ""
	}
	return d.incident + ": " + strings.Join(p, "; ")
}

// TestAlertIntakeAcceptance: the stream, with no fault.
// The alert tests run one at a time, before the package's parallel tests: each keeps both cores busy
// for a minute or two, and the other fault tests' timing-sensitive faults (a hang taken by the n-th
// create) must not share the machine with them.
func TestAlertIntakeAcceptance(t *testing.T) {
	runAlertAcceptance(t, 1)
}

// TestAlertIntakeWorkerSIGKILL: the stream, with the `interlock worker` process SIGKILLed at full load
// once a third of the incidents exist, and a second worker process taking over.
func TestAlertIntakeWorkerSIGKILL(t *testing.T) {
	runAlertAcceptance(t, 2, alertFault{name: "worker SIGKILL", at: 1.0 / 3, inject: func(t *testing.T, s *fstack, w **workerProc) {
		(*w).kill()
		*w = s.startWorkerProcess(t, "worker-2")
	}})
}

// alertTemporalDown is how long the dev server stays down: past the intake's wait for an incident's
// update (three 10-second start timeouts), so the records in flight are answered unavailable and their
// batches 503.
const alertTemporalDown = 35 * time.Second

// TestAlertIntakeTemporalRestart: the stream, with the Temporal dev server killed once a third of the
// incidents exist and restarted on its SQLite file alertTemporalDown later. The worker process keeps
// running through the outage.
func TestAlertIntakeTemporalRestart(t *testing.T) {
	runAlertAcceptance(t, 3, alertFault{name: "Temporal kill, " + alertTemporalDown.String() + " down, restart", at: 1.0 / 3, inject: func(t *testing.T, s *fstack, w **workerProc) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		require.NoError(t, s.tp.Process.Kill())
		time.Sleep(alertTemporalDown)
		require.NoError(t, s.tp.Process.Restart(ctx))
		select {
		case <-(*w).done:
			t.Fatalf("the worker process exited while the dev server was down (%v); its log:\n%s", (*w).err, tail((*w).logPath, 30))
		default:
		}
	}, must503: true})
}

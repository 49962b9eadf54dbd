package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/snowstandin"
)

const (
	snowTimeout = 500 * time.Millisecond // servicenow.timeout: one HTTP attempt
	snowHang    = 2 * time.Second        // how long a hung request hangs, well past the timeout
)

// TestServiceNowBurstsAndHangs runs new-engineering-station incidents while the stand-in answers
// bursts of 503 and of 429 (Retry-After: 1), hangs requests past the client's timeout (a hung create
// is still carried out, so the client's failure is ambiguous), and drops the answers of some creates
// it carried out. Every incident ends with exactly one ticket.
func TestServiceNowBurstsAndHangs(t *testing.T) {
	t.Parallel()
	const n = 30
	hang := snowstandin.Faults{Hang: 1, HangFor: snowHang}
	faults := &scheduledFaults{schedule: map[int]snowstandin.Faults{
		// The n-th create to arrive (retries included) injects these before the stand-in takes it:
		// a hang goes to that very create, a dropped answer to it (unless another request arriving at the
		// same instant takes the hang), a burst to it and the requests after it. An injection
		// replaces what was still pending.
		3: hang, 5: {Unavailable: 8}, 9: {DropResponse: 1},
		11: {TooManyRequests: 8, RetryAfter: time.Second}, 15: hang, 17: {DropResponse: 1},
		19: {Unavailable: 4, TooManyRequests: 4, RetryAfter: time.Second}, 23: hang, 25: {DropResponse: 1},
	}}
	s := newStack(t, stackOptions{
		wrapSnow: func(stub *snowstandin.Server) http.Handler { faults.stub = stub; return faults },
		tweak: func(c *config.Config) {
			c.ServiceNow.Timeout = snowTimeout
			c.ServiceNow.CreateSettle = snowHang + time.Second // past the late commit
		},
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stand-in requests:\n%s", faults.journal())
		}
	})
	s.startWorker(t)
	// A first burst hits the lookups that come first.
	s.stub.InjectFaults(snowstandin.Faults{Unavailable: 6})
	incs := makeIncidents(t, "sn", n, 0)
	began := time.Now()
	requireStatus(t, incs, s.postAll(incs), "started")
	s.requireTicketsDone(t, incs, 90*time.Second)

	st := faults.stats()
	t.Logf("all %d tickets after %v; stand-in requests %d: 503 %d, 429 %d, hung past the timeout %d (creates, carried out: %d), creates carried out with the answer dropped %d",
		n, time.Since(began).Round(time.Millisecond), s.stub.Requests(), st.unavailable, st.tooMany, st.hung, st.hungCreates, st.dropped)
	require.Positive(t, st.unavailable, "the test must see 503s")
	require.Positive(t, st.tooMany, "the test must see 429s")
	require.Positive(t, st.hung, "the test must see requests hang past the timeout")
	require.Positive(t, st.dropped, "the test must see creates whose answer was lost")
}

// TestServiceNowCreateCommittedAfterClientTimeout: like a busy instance, this one carries out a hung
// create when its transaction finishes (after 2 s), not when the client gives up (after 500 ms), as
// the stand-in's own Hang fault does. The activity's retry looks the ticket up before the hung create
// has landed, finds nothing and creates it, and then the hung create lands too.
//
// It fails today: EnsureTicket's lookup-before-create cannot see a create still in flight. See the
// fault-test report (issue 6) for the proposed fix.
func TestServiceNowCreateCommittedAfterClientTimeout(t *testing.T) {
	t.Parallel()
	const n = 5
	late := &lateCommit{first: n, delay: snowHang}
	s := newStack(t, stackOptions{
		wrapSnow: func(stub *snowstandin.Server) http.Handler { late.next = stub; return late },
		tweak: func(c *config.Config) {
			c.ServiceNow.Timeout = snowTimeout
			c.ServiceNow.CreateSettle = snowHang + time.Second // past the late commit
		},
	})
	s.startWorker(t)
	incs := makeIncidents(t, "lc", n, 0)
	requireStatus(t, incs, s.postAll(incs), "started")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, in := range incs {
		require.NoError(t, s.tp.Client.GetWorkflow(ctx, in.wid, "").Get(ctx, nil), in.wid)
	}
	// The late creates land snowHang after they arrived: wait until every one has (bounded, as a
	// broken wrapper must not hang the test), then count.
	require.Eventually(t, func() bool { return late.landed.Load() == n }, 30*time.Second, 20*time.Millisecond)
	s.requireTicketsDone(t, incs, 60*time.Second)
}

// scheduledFaults injects stand-in faults when chosen creates arrive, and counts what the requests
// got.
type scheduledFaults struct {
	stub     *snowstandin.Server
	schedule map[int]snowstandin.Faults

	mu          sync.Mutex
	began       time.Time
	posts       int
	unavailable int
	tooMany     int
	hung        int
	hungCreates int
	dropped     int
	events      []string // one line per request, for a failure's log
}

type faultStats struct{ unavailable, tooMany, hung, hungCreates, dropped int }

func (f *scheduledFaults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := correlationKey.FindString(r.URL.RawQuery)
	var hang time.Duration
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		key = correlationKey.FindString(string(body))
		f.mu.Lock()
		f.posts++
		fs, ok := f.schedule[f.posts]
		if ok && fs.Hang > 0 {
			// The hang goes to this very create: left pending in the stand-in, a create arriving at the
			// same instant could take it, or the next injection replace it before anyone did.
			hang, fs.Hang = fs.HangFor, 0
		}
		if ok && fs != (snowstandin.Faults{}) {
			f.stub.InjectFaults(fs)
		}
		f.mu.Unlock()
	}
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	began := time.Now()
	defer func() {
		// A dropped answer unwinds the stand-in with http.ErrAbortHandler: count it, pass it on.
		p := recover()
		f.record(r.Method, key, rec.status, began, p != nil)
		if p != nil {
			panic(p)
		}
	}()
	if hang > 0 {
		time.Sleep(hang) // then carried out, though the client gave up, as a busy instance does
	}
	f.stub.ServeHTTP(rec, r)
}

func (f *scheduledFaults) record(method, key string, status int, began time.Time, dropped bool) {
	took := time.Since(began)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.began.IsZero() {
		f.began = began
	}
	what := strconv.Itoa(status)
	switch {
	case dropped:
		what = "carried out, answer dropped"
		f.dropped++
	case status == http.StatusServiceUnavailable:
		f.unavailable++
	case status == http.StatusTooManyRequests:
		f.tooMany++
	}
	if took >= snowTimeout && !dropped {
		// Hung past the client's timeout, then carried out once the client had given up.
		f.hung++
		if status == http.StatusCreated {
			f.hungCreates++
		}
		what += " after the client gave up"
	}
	f.events = append(f.events, fmt.Sprintf("%8v %-4s %s -> %s in %v", began.Sub(f.began).Round(time.Millisecond),
		method, key, what, took.Round(time.Millisecond)))
}

func (f *scheduledFaults) journal() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.events, "\n")
}

var correlationKey = regexp.MustCompile(`interlock-ews-[0-9a-f]{24}`)

func (f *scheduledFaults) stats() faultStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return faultStats{f.unavailable, f.tooMany, f.hung, f.hungCreates, f.dropped}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// lateCommit holds each of the first creates for delay whatever the client does, then carries it out
// (its answer goes nowhere: the client is long gone).
type lateCommit struct {
	next  http.Handler
	first int
	delay time.Duration

	mu     sync.Mutex
	posts  int
	landed atomic.Int32
}

func (l *lateCommit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		l.next.ServeHTTP(w, r)
		return
	}
	l.mu.Lock()
	l.posts++
	late := l.posts <= l.first
	l.mu.Unlock()
	if !late {
		l.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	time.Sleep(l.delay) // the instance's slow transaction; it does not notice the client leaving
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	l.next.ServeHTTP(discard{}, req)
	l.landed.Add(1)
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

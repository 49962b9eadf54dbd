package faults_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/snowstandin"
)

// TestWorkerSIGKILLWhilePlaybooksRun runs the real `interlock worker` binary, posts a mix of
// new-engineering-station and PLC incidents, and SIGKILLs the worker as soon as Mailpit holds the
// first few emails: other notices are then being sent, and ticket creates are in flight (the stand-in
// takes createLatency per create, as a real instance takes a while, and carries each out whatever the
// client does, so a create in flight at the kill lands with nobody to read its answer). A second
// worker process takes over. Every NES run must complete with exactly one ticket, every PLC run must
// send exactly one email and then wait for its answer, and answering them completes them without
// another email.
//
// A kill after the SMTP server accepted a notice and before the activity's completion reached
// Temporal makes the new worker send the notice again: SMTP has no idempotent send. The re-send carries
// the same deterministic Message-ID, and the dev stack's Mailpit, like mailbox providers that
// deduplicate, keeps one copy; a re-send with another Message-ID would be a second email and fail the
// test. The log line counts the re-sends (notices retried after the kill).
//
// It takes about 35 s when a notice was in flight at the kill: the notice is a regular activity with
// a 30-second start-to-close timeout, and an attempt that died with the worker is retried only once
// that timeout has passed.
func TestWorkerSIGKILLWhilePlaybooksRun(t *testing.T) {
	t.Parallel()
	const nNES, nPLC, killAtEmails = 15, 15, 3
	slow := &slowCreates{delay: createLatency}
	s := newStack(t, stackOptions{wrapSnow: func(stub *snowstandin.Server) http.Handler { slow.next = stub; return slow }})
	interlockBinary(t)
	incs := makeIncidents(t, "k", nNES, nPLC)
	nes, plc := split(incs)

	first := s.startWorkerProcess(t, "worker-1")
	began := time.Now()
	requireStatus(t, incs, s.postAll(incs), "started")
	var emailsAtKill int
	require.Eventually(t, func() bool { // the first emails go out within a second or two of the posts
		per, _, _, err := s.emailsByTag(context.Background(), plc)
		emailsAtKill = total(per)
		return err == nil && emailsAtKill >= killAtEmails
	}, 60*time.Second, 5*time.Millisecond)
	first.kill()
	killedAfter := time.Since(began)
	ticketsAtKill, createsInFlight := s.stub.CreatedCount("incident"), slow.inFlight.Load()

	second := s.startWorkerProcess(t, "worker-2")
	// The dead worker's workflow tasks reach the new worker when they time out (10 s, 5 s on its
	// sticky queue), its notice attempts after their 30-second start-to-close timeout: 120 s bounds
	// both on a loaded machine.
	s.requireTicketsDone(t, nes, 120*time.Second)
	s.waitPLCWaiting(t, plc, 120*time.Second, "after the worker kill")

	per, ids, _, err := s.emailsByTag(context.Background(), plc)
	require.NoError(t, err)
	dups, retried := 0, 0
	for _, in := range plc {
		dups += max(0, per[in.tag]-ids[in.tag]) // copies of a message, with the same Message-ID
		if s.activityAttempts(t, in.wid) > 1 {
			retried++
		}
	}
	t.Logf("worker-1 killed %v after the posts, with %d of %d emails in Mailpit, %d of %d tickets made and %d creates in flight; "+
		"SMTP sends logged: worker-1 %d, worker-2 %d; notices retried after the kill: %d; duplicate emails: %d; tickets: %d",
		killedAfter.Round(time.Millisecond), emailsAtKill, nPLC, ticketsAtKill, nNES, createsInFlight,
		len(first.logLines(t, "smtp message sent")), len(second.logLines(t, "smtp message sent")),
		retried, dups, s.stub.CreatedCount("incident"))
	s.requireOneEmailEach(t, plc, 0)

	s.answerAll(t, plc)
	s.requireOneEmailEach(t, plc, 0)
}

// createLatency is how long the stand-in takes per create in the kill test.
const createLatency = 150 * time.Millisecond

// slowCreates holds each create for delay before the stand-in carries it out, whatever the client
// does meanwhile (the answer to a client that is gone goes nowhere).
type slowCreates struct {
	next     http.Handler
	delay    time.Duration
	inFlight atomic.Int32
}

func (s *slowCreates) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.next.ServeHTTP(w, r)
		return
	}
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	time.Sleep(s.delay) // the instance's own latency, not an ordering device
	req := r.Clone(context.WithoutCancel(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	s.next.ServeHTTP(w, req)
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

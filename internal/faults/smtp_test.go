package faults_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSMTPDownThenBack stops Mailpit, posts PLC incidents whose notices then fail with temporary
// errors, and restarts Mailpit on the same port and store once every notice has failed at least once.
// Temporal's retries deliver every notice exactly once, and the email sent before the outage is still
// there, alone.
func TestSMTPDownThenBack(t *testing.T) {
	t.Parallel()
	const n = 20
	s := newStack(t, stackOptions{})
	s.startWorker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	before := makeIncidents(t, "s0", 0, 1)
	requireStatus(t, before, s.postAll(before), "started")
	s.waitPLCWaiting(t, before, 30*time.Second, "before the outage")

	require.NoError(t, s.mp.Process.Stop(ctx))
	incs := makeIncidents(t, "s", 0, n)
	began := time.Now()
	requireStatus(t, incs, s.postAll(incs), "started")
	// Each notice's first attempt fails at once (connection refused), its retries 0.5, 1.5, 3.5 s
	// later: wait until every notice has failed and there were as many retries (failed too), so the
	// outage lasts a second or two. 30 s bounds a slow machine.
	require.Eventually(t, func() bool {
		return s.logs.distinct("smtp send failed", "messageId") >= n && s.logs.count("smtp send failed") >= 2*n
	}, 30*time.Second, 20*time.Millisecond, "every notice should have failed while Mailpit is down")
	failedAfter := time.Since(began)
	require.NoError(t, s.mp.Process.Restart(ctx))
	down := time.Since(began)

	// Retries come 0.5, 1, 2, 4, 8 s apart: a notice that failed just before the restart is sent
	// within about twice the outage; 60 s bounds a loaded machine.
	s.waitPLCWaiting(t, incs, 60*time.Second, "after Mailpit came back")
	t.Logf("Mailpit down %v (every notice failed once after %v); failed sends %d, sends %d; back to all sent after %v",
		down.Round(time.Millisecond), failedAfter.Round(time.Millisecond), s.logs.count("smtp send failed"),
		s.logs.count("smtp message sent"), time.Since(began).Round(time.Millisecond))
	require.Equal(t, []string{"temporary"}, s.logs.values("smtp send failed", "kind"),
		"a refused connection is a temporary failure: retried, not handed to the SOC mailbox")
	s.requireOneEmailEach(t, append(before, incs...), 0)

	s.answerAll(t, append(before, incs...))
	s.requireOneEmailEach(t, append(before, incs...), 0)
}

package faults_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/interlock-soar/interlock/workflows"
)

var plannedLink = regexp.MustCompile(`Yes, this change was planned:\s+(\S+)`)

// TestTemporalRestartWhileWaiting: PLC runs send their emails and wait for an answer; the dev server
// is killed and restarted on its SQLite file. Every run is then answered, half through the email's
// "planned" link (intake → Update), half with the "answer" Update directly, and completes with that
// answer, without a second email.
func TestTemporalRestartWhileWaiting(t *testing.T) {
	t.Parallel()
	const n = 20
	s := newStack(t, stackOptions{})
	s.startWorker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	incs := makeIncidents(t, "r", 0, n)
	requireStatus(t, incs, s.postAll(incs), "started")
	s.waitPLCWaiting(t, incs, 60*time.Second, "before the restart")
	s.requireOneEmailEach(t, incs, 0)

	links := map[string]string{}
	msgs, err := s.mp.Messages(ctx)
	require.NoError(t, err)
	for _, m := range msgs {
		for _, in := range incs {
			if strings.Contains(m.Subject, "PLC-"+in.tag) {
				full, err := s.mp.Message(ctx, m.ID)
				require.NoError(t, err)
				link := plannedLink.FindStringSubmatch(full.Text)
				require.Len(t, link, 2, in.tag)
				links[in.tag] = link[1]
			}
		}
	}

	began := time.Now()
	require.NoError(t, s.tp.Process.Kill())
	require.NoError(t, s.tp.Process.Restart(ctx))
	t.Logf("dev server killed and back after %v", time.Since(began).Round(time.Millisecond))

	for i, in := range incs {
		if i%2 == 1 {
			s.answer(t, ctx, in, workflows.DecisionNotPlanned)
			continue
		}
		// Right after the restart the intake's client may still be reconnecting; the page then
		// answers 503 and the engineer clicks again. 30 s bounds the reconnect.
		require.Eventually(t, func() bool {
			resp, err := http.Post(links[in.tag], "application/x-www-form-urlencoded", nil)
			if err != nil {
				return false
			}
			resp.Body.Close()
			require.NotEqual(t, http.StatusConflict, resp.StatusCode, "%s: the run refused its first answer", in.tag)
			return resp.StatusCode == http.StatusOK
		}, 30*time.Second, 200*time.Millisecond, in.tag)
		s.requireAnswered(t, ctx, in, workflows.DecisionPlanned)
	}
	t.Logf("all %d runs answered %v after the restart", n, time.Since(began).Round(time.Millisecond))
	s.requireOneEmailEach(t, incs, 0)
}

// TestIntakeWhileTemporalDown: with the dev server killed, the intake answers each incident 503 with
// Retry-After and starts nothing; once the server is back, the sender's retry of the same bodies is
// accepted and each playbook runs once (one ticket, one email each), and a further redelivery comes
// back as deduplicated, starting nothing more.
func TestIntakeWhileTemporalDown(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	incs := makeIncidents(t, "d", 10, 10)
	nes, plc := split(incs)

	require.NoError(t, s.tp.Process.Kill())
	began := time.Now()
	for i, r := range s.postAll(incs) { // each waits out the intake's 10 s start timeout
		require.NoError(t, r.err, incs[i].tag)
		require.Equal(t, http.StatusServiceUnavailable, r.code, incs[i].tag)
		require.Equal(t, "5", r.retryAfter, incs[i].tag)
	}
	t.Logf("%d posts answered 503 after %v", len(incs), time.Since(began).Round(time.Millisecond))
	require.NoError(t, s.tp.Process.Restart(ctx))
	// The worker starts now: a worker starting while the server is down exits ("failed reaching
	// server"), as `interlock worker` does for its supervisor to restart it.
	s.startWorker(t)

	for _, in := range incs {
		_, err := s.tp.Client.DescribeWorkflow(ctx, in.wid, "")
		var notFound *serviceerror.NotFound
		require.True(t, errors.As(err, &notFound), "%s: nothing may be started by a 503; got %v", in.wid, err)
	}
	list, err := s.tp.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{})
	require.NoError(t, err)
	require.Empty(t, list.GetExecutions(), "no run at all on this server yet")

	accepted := s.postAll(incs)
	requireStatus(t, incs, accepted, "started")
	s.requireTicketsDone(t, nes, 60*time.Second)
	s.waitPLCWaiting(t, plc, 60*time.Second, "after the retried posts")
	s.requireOneEmailEach(t, plc, 0)

	again := s.postAll(incs)
	requireStatus(t, incs, again, "deduplicated")
	for i := range incs {
		require.Equal(t, accepted[i].answer.Runs[0].RunID, again[i].answer.Runs[0].RunID, incs[i].tag)
	}
	s.requireTicketsDone(t, nes, 10*time.Second)
	s.requireOneEmailEach(t, plc, 0)
	s.answerAll(t, plc)
	s.requireOneEmailEach(t, plc, 0)
}

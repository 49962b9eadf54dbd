package faults_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

func armIDOf(name string) string {
	return "/subscriptions/" + testenv.FixtureSubscription + "/resourceGroups/" + testenv.FixtureResourceGroup +
		"/providers/Microsoft.OperationalInsights/workspaces/" + testenv.FixtureWorkspace + "/providers/Microsoft.SecurityInsights/Incidents/" + name
}

func incidentName(in incidentRef) string {
	if in.plc {
		return "plc-" + in.tag
	}
	return "nes-" + in.tag
}

func isCommentPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(strings.ToLower(r.URL.Path), "/comments/")
}

func isIncidentPut(r *http.Request) bool {
	return r.Method == http.MethodPut && !strings.Contains(strings.ToLower(r.URL.Path), "/comments/")
}

// requireOneCommentPerPurpose checks each incident holds exactly want comments, each made once (a
// comment may have been PUT more than once, under its one ID).
func (s *fstack) requireComments(t *testing.T, incs []incidentRef, want func(incidentRef) int) {
	t.Helper()
	for _, in := range incs {
		inc, ok := s.azure.Stub.Incident(armIDOf(incidentName(in)))
		require.True(t, ok, in.tag)
		require.Len(t, inc.Comments, want(in), "%s: %v", in.tag, commentNames(inc))
		for _, c := range inc.Comments {
			require.Empty(t, azurestandin.CommentMarkupProblems(c.Message), in.tag)
		}
	}
}

func commentNames(inc azurestandin.Incident) []string {
	var out []string
	for _, c := range inc.Comments {
		out = append(out, c.Name+": "+c.Message[:min(60, len(c.Message))])
	}
	return out
}

// TestSentinelWriteBackUnderFaults: the first incident update meets someone else's edit (412) and is
// re-read and retried; comment writes meet a 10-second hang (the client gives up after 3 s, the
// stand-in still carries the write out) and then bursts of 429 with Retry-After; then the status
// sync's alert PATCH and comment meet 429s and a hang too. Every write-back lands exactly once: one
// comment per purpose, the severity, status and tag once, the alert status set.
func TestSentinelWriteBackUnderFaults(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	s.startWorker(t)
	incs := makeIncidents(t, "wf", 3, 2)
	nes, plc := split(incs)

	s.azure.Stub.InjectFaults(azurestandin.Faults{Match: isCommentPut, Hang: 1, HangFor: 10 * time.Second})
	requireStatus(t, nes, s.postAll(nes), "started")
	s.requireTicketsDone(t, nes, 90*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, in := range nes {
		var res playbooks.NewEngineeringStationResult
		require.NoError(t, s.tp.Client.GetWorkflow(ctx, in.wid, "").Get(ctx, &res), in.tag)
		require.Empty(t, res.CommentError, in.tag)
	}
	s.requireComments(t, nes, func(incidentRef) int { return 1 })

	s.azure.Stub.InjectFaults(azurestandin.Faults{Match: isCommentPut, TooManyRequests: 6, RetryAfter: time.Second})
	requireStatus(t, plc, s.postAll(plc), "started")
	s.waitPLCWaiting(t, plc, 90*time.Second, "with comment writes throttled")
	require.Eventually(t, func() bool { // the notice comment is written after the email, while the run waits
		for _, in := range plc {
			if inc, _ := s.azure.Stub.Incident(armIDOf(incidentName(in))); len(inc.Comments) != 1 {
				return false
			}
		}
		return true
	}, 60*time.Second, 50*time.Millisecond)

	s.azure.Stub.InjectFaults(azurestandin.Faults{Match: isIncidentPut, ConcurrentEdit: 1})
	for _, in := range plc {
		s.answer(t, ctx, in, workflows.DecisionNotPlanned)
		var res playbooks.PLCReprogrammingResult
		require.NoError(t, s.tp.Client.GetWorkflow(ctx, in.wid, "").Get(ctx, &res), in.tag)
		require.Empty(t, res.WriteBackErrors, in.tag)
		inc, _ := s.azure.Stub.Incident(armIDOf(incidentName(in)))
		require.Equal(t, "High", inc.Properties.Severity, in.tag)
		require.Equal(t, "Active", inc.Properties.Status, in.tag)
		require.Equal(t, []azurestandin.Label{{LabelName: "PLC change not planned", LabelType: "User"}}, inc.Properties.Labels, in.tag)
	}
	s.requireComments(t, plc, func(incidentRef) int { return 2 }) // the notice, the answer

	// The status sync under the same weather: its alert PATCH and its comment are throttled, then hang.
	s.azure.Stub.InjectFaults(azurestandin.Faults{
		Match:           func(r *http.Request) bool { return r.Method == http.MethodPatch || isCommentPut(r) },
		TooManyRequests: 2, RetryAfter: time.Second, Hang: 1, HangFor: 10 * time.Second,
	})
	in := plc[0]
	upd := strings.NewReplacer("e2b1f7c4-4319-4d0e-8f3a-1b2c3d4e5f60", "wf-update").
		Replace(string(testenv.Fixture(t, "sentinel-incident-update-plc-programming.json", in.tag)))
	r := s.post([]byte(upd))
	require.NoError(t, r.err)
	require.Equal(t, http.StatusAccepted, r.code)
	require.Len(t, r.answer.Runs, 1)
	var sync playbooks.AlertStatusSyncResult
	require.NoError(t, s.tp.Client.GetWorkflow(ctx, r.answer.Runs[0].WorkflowID, "").Get(ctx, &sync))
	require.Len(t, sync.Alerts, 1)
	require.Contains(t, []string{"updated", "unchanged"}, sync.Alerts[0].Action, sync.Alerts[0].Reason)
	require.Empty(t, sync.CommentError)
	alert, ok := s.azure.Stub.Alert(sync.Alerts[0].Target)
	require.True(t, ok)
	require.Equal(t, "InProgress", alert.Properties.Status)
	s.requireComments(t, plc[:1], func(incidentRef) int { return 3 }) // and the status sync's

	count := func(fault string, status int) int {
		n := 0
		for _, r := range s.azure.Stub.Requests() {
			if r.Fault == fault && (status == 0 || r.Status == status) {
				n++
			}
		}
		return n
	}
	require.Equal(t, 8, count("TooManyRequests", http.StatusTooManyRequests), "every injected 429 was met")
	require.Equal(t, 1, count("ConcurrentEdit", http.StatusPreconditionFailed), "the one concurrent edit was met, and the update tried again")
	// The hung comment is served 10 s after it arrived, long after its client gave up and retried.
	require.Eventually(t, func() bool { return count("Hang", 0) == 2 }, 20*time.Second, 50*time.Millisecond)
	s.requireComments(t, nes, func(incidentRef) int { return 1 })
}

// TestSentinelWriteBackWorkerSIGKILL kills the `interlock worker` process while its incident comments
// hang in the stand-in (which carries them out anyway, 10 s later); a second worker replays the runs
// and writes the comments again under the same IDs. Each incident ends with exactly one comment per
// purpose.
func TestSentinelWriteBackWorkerSIGKILL(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	interlockBinary(t)
	incs := makeIncidents(t, "wk", 4, 0)
	var commentPuts atomic.Int32
	s.azure.Stub.InjectFaults(azurestandin.Faults{
		Match: func(r *http.Request) bool {
			if !isCommentPut(r) {
				return false
			}
			commentPuts.Add(1)
			return true
		},
		Hang: len(incs), HangFor: 10 * time.Second,
	})

	first := s.startWorkerProcess(t, "worker-1")
	requireStatus(t, incs, s.postAll(incs), "started")
	require.Eventually(t, func() bool { return commentPuts.Load() >= 2 }, 60*time.Second, 5*time.Millisecond) // comments are in flight
	first.kill()
	s.startWorkerProcess(t, "worker-2")
	s.requireTicketsDone(t, incs, 120*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, in := range incs {
		var res playbooks.NewEngineeringStationResult
		require.NoError(t, s.tp.Client.GetWorkflow(ctx, in.wid, "").Get(ctx, &res), in.tag)
		require.Empty(t, res.CommentError, in.tag)
	}
	require.Eventually(t, func() bool { // the hung writes, the dead worker's among them, land 10 s late
		hung := 0
		for _, r := range s.azure.Stub.Requests() {
			if r.Fault == "Hang" {
				hung++
			}
		}
		return hung == len(incs)
	}, 60*time.Second, 50*time.Millisecond)
	s.requireComments(t, incs, func(incidentRef) int { return 1 })
	var rewritten int
	for _, in := range incs {
		inc, _ := s.azure.Stub.Incident(armIDOf(incidentName(in)))
		if inc.Comments[0].Writes > 1 {
			rewritten++
		}
	}
	t.Logf("comment PUTs seen: %d; comments written more than once under their ID: %d of %d", commentPuts.Load(), rewritten, len(incs))
}

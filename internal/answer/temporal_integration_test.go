package answer_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/workflows"
)

// escalated is the notice waitForAnswer says is current: round 1, sent to the escalation list.
var escalated = workflows.Notice{Round: 1, SentAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC), To: []string{"lead@plant.example"}}

// waitForAnswer behaves like the playbooks' answer loop: an "answer" Update whose validator refuses
// a second answer with the agreed AlreadyAnswered error (naming the answer), and a link of a round
// before escalated with the OutdatedLink error (naming escalated), and a "finish" signal that ends
// the run.
func waitForAnswer(ctx workflow.Context) (workflows.Answer, error) {
	var got *workflows.Answer
	err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.AnswerName,
		func(_ workflow.Context, a workflows.Answer) error { got = &a; return nil },
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, a workflows.Answer) error {
			if got != nil {
				given := *got
				return temporal.NewApplicationError("already answered", answer.AlreadyAnsweredType, workflows.AnswerRefusal{Answer: &given})
			}
			if a.Link != nil && a.Link.Round < escalated.Round {
				return temporal.NewApplicationError("outdated", answer.OutdatedType, workflows.AnswerRefusal{Current: &escalated})
			}
			return nil
		}})
	if err != nil {
		return workflows.Answer{}, err
	}
	finish := workflow.GetSignalChannel(ctx, "finish")
	if err := workflow.Await(ctx, func() bool { return got != nil }); err != nil {
		return workflows.Answer{}, err
	}
	finish.Receive(ctx, nil)
	return *got, nil
}

// TestTemporalAnswererOnDevServer runs against the pinned Temporal CLI dev server (installed on
// first use).
func TestTemporalAnswererOnDevServer(t *testing.T) {
	c := testenv.NewTemporal(t).Client // first: a first run installs the CLI, which takes minutes
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	const queue = "answer-it"
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(waitForAnswer, workflow.RegisterOptions{Name: "waitForAnswer"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	start := func(id string) client.WorkflowRun {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, "waitForAnswer")
		require.NoError(t, err)
		return run
	}
	a := answer.TemporalAnswerer{Client: c}
	ada := workflows.Answer{Decision: workflows.DecisionPlanned, By: "ada@plant.example", Via: answer.Via}
	bob := workflows.Answer{Decision: workflows.DecisionNotPlanned, By: "bob@plant.example", Via: answer.Via}

	t.Run("answer, double click, second opinion, closed run", func(t *testing.T) {
		run := start("plc-notify/it-1")
		require.NoError(t, a.Answer(ctx, run.GetID(), ada))
		require.NoError(t, a.Answer(ctx, run.GetID(), ada), "a double click gets the first outcome")
		require.ErrorIs(t, a.Answer(ctx, run.GetID(), bob), answer.ErrAlreadyAnswered)

		require.NoError(t, c.SignalWorkflow(ctx, run.GetID(), "", "finish", nil))
		var got workflows.Answer
		require.NoError(t, run.Get(ctx, &got))
		require.Equal(t, ada, got, "the run took exactly the first answer")

		require.ErrorIs(t, a.Answer(ctx, run.GetID(), bob), answer.ErrRunClosed)
		require.NoError(t, a.Answer(ctx, run.GetID(), ada), "the first answerer still sees success after the run closed")
	})
	t.Run("no such run", func(t *testing.T) {
		require.ErrorIs(t, a.Answer(ctx, "plc-notify/never-started", ada), answer.ErrRunClosed)
	})
	t.Run("through the HTTP handler", func(t *testing.T) {
		run := start("plc-notify/it-2")
		s := newSigner(t, secret, &clock{time.Now()})
		base, _ := server(t, s, a, nil)
		tokenFor := func(by, decision string, round int) string {
			tok, err := s.Sign(answer.Claims{WorkflowID: run.GetID(), Decision: decision, Recipient: by, PLC: "PLC-L3-01", Round: round})
			require.NoError(t, err)
			return base + answer.PathPrefix + tok
		}
		res := do(t, http.MethodPost, tokenFor("ada@plant.example", workflows.DecisionNotPlanned, 0), url.Values{"comment": {"round 0"}})
		require.Equal(t, http.StatusConflict, res.Status, res.Body)
		require.Contains(t, res.Body, "This link is from an older message")
		require.Contains(t, res.Body, "A newer message was sent on Friday 20 November 2026, 09:15 UTC to lead@plant.example; use the link in it.")

		res = do(t, http.MethodPost, tokenFor("ada@plant.example", workflows.DecisionNotPlanned, 1), url.Values{"comment": {"not ours"}})
		require.Equal(t, http.StatusOK, res.Status, "the same person's current link is not shadowed by the refused one: %s", res.Body)
		res = do(t, http.MethodPost, tokenFor("bob@plant.example", workflows.DecisionPlanned, 1), url.Values{})
		require.Equal(t, http.StatusConflict, res.Status)
		require.Contains(t, res.Body, "ada@plant.example answered <strong>Not planned</strong> for PLC")
		require.NotContains(t, res.Body, "not ours", "the answer's comment stays in the run")

		require.NoError(t, c.SignalWorkflow(ctx, run.GetID(), "", "finish", nil))
		var got workflows.Answer
		require.NoError(t, run.Get(ctx, &got))
		require.Equal(t, workflows.Answer{Decision: workflows.DecisionNotPlanned, By: "ada@plant.example", Via: answer.Via, Comment: "not ours",
			Link: &workflows.AnswerLink{Round: 1}}, got)
	})
}

// TestTemporalAnswererUnreachable uses a real SDK client against a port nobody listens on.
func TestTemporalAnswererUnreachable(t *testing.T) {
	t.Parallel()
	c, err := client.NewLazyClient(client.Options{
		HostPort: "127.0.0.1:" + freePort(t),
		Logger:   sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err = answer.TemporalAnswerer{Client: c}.Answer(ctx, "plc-notify/A", workflows.Answer{Decision: workflows.DecisionPlanned})
	require.ErrorIs(t, err, answer.ErrUnavailable, "%v", err)
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return strconv.Itoa(port)
}

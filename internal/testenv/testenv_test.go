package testenv

import (
	"context"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/workflows"
)

var env = New()

func TestMain(m *testing.M) { env.Main(m) }

func TestSharedTemporal(t *testing.T) {
	t.Parallel()
	srv := env.Temporal(t)
	require.Same(t, srv, env.Temporal(t), "one server per test binary")

	resp, err := srv.Client.OperatorService().ListSearchAttributes(t.Context(),
		&operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace})
	require.NoError(t, err)
	for _, sa := range workflows.SearchAttributes() {
		require.Equal(t, sa.Type, resp.GetCustomAttributes()[sa.Name].String(), sa.Name)
	}

	// A run carrying Interlock's search attributes can be found by them. No worker runs, so the
	// execution just stays open.
	id := "testenv-" + t.Name()
	_, err = srv.Client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             "testenv-no-worker",
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.AttrPlaybook.ValueSet("testenv-playbook")),
	}, "NoSuchWorkflow")
	require.NoError(t, err)
	// Visibility is written after the start returns, so the query may need a moment.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		list, err := srv.Client.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: `InterlockPlaybook = "testenv-playbook"`,
		})
		require.NoError(c, err)
		require.Len(c, list.GetExecutions(), 1)
	}, 10*time.Second, 100*time.Millisecond)
}

// A dedicated server can be restarted under a test; its client reconnects and the state survives.
func TestNewTemporalRestart(t *testing.T) {
	t.Parallel()
	srv := NewTemporal(t)
	require.NotSame(t, srv, env.Temporal(t))
	run, err := srv.Client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID: "testenv-restart", TaskQueue: "testenv-no-worker",
	}, "NoSuchWorkflow")
	require.NoError(t, err)

	require.NoError(t, srv.Process.Kill())
	require.NoError(t, srv.Process.Restart(t.Context()))

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	desc, err := srv.Client.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, "NoSuchWorkflow", desc.RawResponse.GetWorkflowExecutionInfo().GetType().GetName())
}

func TestMailpit(t *testing.T) {
	t.Parallel()
	mp := env.Mailpit(t)
	require.Same(t, mp, env.Mailpit(t), "one server per test binary")

	subject := "testenv " + t.Name()
	send(t, mp, subject)

	msgs, err := mp.Messages(t.Context())
	require.NoError(t, err)
	var id string
	for _, m := range msgs {
		if m.Subject == subject {
			id = m.ID
			require.Equal(t, "interlock@example.com", m.From.Address)
			require.Equal(t, "ops@example.com", m.To[0].Address)
		}
	}
	require.NotEmpty(t, id, "the sent message is listed")

	msg, err := mp.Message(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, subject, msg.Subject)
	require.Equal(t, "Plain body.", strings.TrimSpace(msg.Text))
	require.Contains(t, msg.HTML, "<b>HTML</b> body.")
	require.Equal(t, "INC0010001", msg.Headers.Get("X-Interlock-Incident"))

	_, err = mp.Message(t.Context(), "no-such-id")
	require.ErrorContains(t, err, "404")
}

func TestMailpitDeleteAll(t *testing.T) {
	t.Parallel()
	mp := NewMailpit(t) // its own, so deleting does not disturb the shared mailbox
	send(t, mp, "to be deleted")
	msgs, err := mp.Messages(t.Context())
	require.NoError(t, err)
	require.Len(t, msgs, 1)

	require.NoError(t, mp.DeleteAll(t.Context()))
	msgs, err = mp.Messages(t.Context())
	require.NoError(t, err)
	require.Empty(t, msgs)
}

// Not parallel: t.Setenv.
func TestSkipIntegration(t *testing.T) {
	for name, start := range map[string]func(t *testing.T){
		"shared temporal":    func(t *testing.T) { env.Temporal(t) },
		"dedicated temporal": func(t *testing.T) { NewTemporal(t) },
		"shared mailpit":     func(t *testing.T) { env.Mailpit(t) },
		"dedicated mailpit":  func(t *testing.T) { NewMailpit(t) },
	} {
		var skipped bool
		t.Run(name, func(t *testing.T) {
			t.Setenv("INTERLOCK_SKIP_INTEGRATION", "1")
			defer func() { skipped = t.Skipped() }()
			start(t)
			t.Error("not skipped")
		})
		require.True(t, skipped, name)
	}
}

// send delivers a multipart message over SMTP with AUTH PLAIN, the way Interlock's mailer talks to
// its relay.
func send(t *testing.T, mp *MailpitServer, subject string) {
	t.Helper()
	body := strings.Join([]string{
		"From: Interlock <interlock@example.com>",
		"To: ops@example.com",
		"Subject: " + subject,
		"X-Interlock-Incident: INC0010001",
		"MIME-Version: 1.0",
		`Content-Type: multipart/alternative; boundary="b1"`,
		"",
		"--b1",
		"Content-Type: text/plain; charset=utf-8",
		"",
		"Plain body.",
		"--b1",
		"Content-Type: text/html; charset=utf-8",
		"",
		"<p><b>HTML</b> body.</p>",
		"--b1--",
		"",
	}, "\r\n")
	auth := smtp.PlainAuth("", "interlock", "secret", mp.SMTPHost)
	require.NoError(t, smtp.SendMail(mp.SMTPAddr(), auth, "interlock@example.com",
		[]string{"ops@example.com"}, []byte(body)), fmt.Sprintf("send %q", subject))
}

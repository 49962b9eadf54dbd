package devservices

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// requireGone asserts that neither the process nor anything in its group is left.
func requireGone(t *testing.T, pid int) {
	t.Helper()
	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "process %d outlived Stop", pid)
	// The group's last members (PostgreSQL's background processes) may take a moment to exit after
	// their leader.
	require.Eventually(t, func() bool { return errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH) }, 10*time.Second, 50*time.Millisecond,
		"process group %d outlived Stop", pid)
}

// stopOnCleanup makes a failing test stop its server too.
func stopOnCleanup(t *testing.T, p *Process) {
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
}

func dial(t *testing.T, p *Process) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort: p.Addr(),
		Logger:   sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func customAttributes(t *testing.T, c client.Client) map[string]string {
	t.Helper()
	return customAttributesIn(t, c, "default")
}

func customAttributesIn(t *testing.T, c client.Client, namespace string) map[string]string {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(t.Context(),
		&operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	require.NoError(t, err)
	got := map[string]string{}
	for name, typ := range resp.GetCustomAttributes() {
		got[name] = typ.String()
	}
	return got
}

// The dev server starts healthy with the search attributes, keeps its SQLite state across a graceful
// restart and across a crash, adds search attributes an older state file lacks, and leaves nothing
// behind on Stop.
func TestTemporal(t *testing.T) {
	t.Parallel()
	bin := installed(t, Temporal())
	dir := t.TempDir()
	opts := TemporalOptions{
		Bin:              bin,
		DBFile:           filepath.Join(dir, "temporal.db"),
		LogFile:          filepath.Join(dir, "temporal.log"),
		SearchAttributes: []SearchAttribute{{"InterlockPlaybook", "Keyword"}, {"InterlockSite", "KeywordList"}},
		Logger:           slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	began := time.Now()
	p, err := StartTemporal(t.Context(), opts)
	require.NoError(t, err)
	stopOnCleanup(t, p)
	t.Logf("dev server ready in %s", time.Since(began).Round(time.Millisecond))
	require.Empty(t, p.UIURL(), "headless without a UI port")

	c := dial(t, p)
	require.Equal(t, map[string]string{"InterlockPlaybook": "Keyword", "InterlockSite": "KeywordList"},
		customAttributes(t, c))

	// No worker polls this queue, so the run stays open: only the state file can bring it back.
	run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID: "devservices-restart", TaskQueue: "devservices-test-no-worker",
	}, "NoSuchWorkflow")
	require.NoError(t, err)
	stillThere := func() {
		t.Helper()
		desc, err := c.DescribeWorkflow(t.Context(), run.GetID(), run.GetRunID())
		require.NoError(t, err)
		require.Equal(t, "NoSuchWorkflow", desc.RawResponse.GetWorkflowExecutionInfo().GetType().GetName())
	}

	for _, tc := range []struct {
		name  string
		fault func() error
	}{
		{"graceful restart", func() error { return nil }}, // Restart stops it itself
		{"crash", p.Kill},
	} {
		name := tc.name
		oldPID := p.PID()
		require.NoError(t, tc.fault(), name)
		began := time.Now()
		require.NoError(t, p.Restart(t.Context()), name)
		t.Logf("%s: ready again in %s", name, time.Since(began).Round(time.Millisecond))
		requireGone(t, oldPID)
		stillThere()
	}

	pid := p.PID()
	require.NoError(t, p.Stop(t.Context()))
	requireGone(t, pid)
	require.NoError(t, p.Stop(t.Context()), "stopping twice is harmless")

	// The CLI registers search attributes only when it creates the namespace; a later start on the same
	// file must still end up with a newly added one.
	opts.SearchAttributes = append(opts.SearchAttributes, SearchAttribute{"InterlockIncidentNumber", "Int"})
	p2, err := StartTemporal(t.Context(), opts)
	require.NoError(t, err)
	stopOnCleanup(t, p2)
	c2 := dial(t, p2)
	require.Equal(t, "Int", customAttributes(t, c2)["InterlockIncidentNumber"])
	_, err = c2.DescribeWorkflow(t.Context(), run.GetID(), run.GetRunID())
	require.NoError(t, err)

	// A search attribute whose type changed cannot be fixed by waiting.
	pid = p2.PID()
	require.NoError(t, p2.Stop(t.Context()))
	requireGone(t, pid)
	opts.SearchAttributes = []SearchAttribute{{"InterlockPlaybook", "Text"}}
	_, err = StartTemporal(t.Context(), opts)
	require.ErrorContains(t, err, "search attribute InterlockPlaybook is registered as Keyword")
}

func TestTemporalFailsEarly(t *testing.T) {
	t.Parallel()
	bin := installed(t, Temporal())
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = busy.Close() }) // not defer: the parallel subtests run after this function returns

	for _, tc := range []struct {
		name string
		opts TemporalOptions
		want string
	}{
		{"port taken", TemporalOptions{Bin: bin, Port: busy.Addr().(*net.TCPAddr).Port},
			"exited before it was ready"},
		{"unknown search attribute type", TemporalOptions{Bin: bin, SearchAttributes: []SearchAttribute{{"X", "Number"}}},
			"search attribute X"},
		{"no binary", TemporalOptions{}, "no binary given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			p, err := StartTemporal(t.Context(), tc.opts)
			if err == nil {
				stopOnCleanup(t, p)
			}
			require.ErrorContains(t, err, tc.want)
			require.Less(t, time.Since(began), 10*time.Second, "a dead server must not be waited for")
		})
	}
}

func TestMailpit(t *testing.T) {
	t.Parallel()
	bin := installed(t, Mailpit())
	dir := t.TempDir()
	began := time.Now()
	p, err := StartMailpit(t.Context(), MailpitOptions{
		Bin:     bin,
		DBFile:  filepath.Join(dir, "mailpit.db"),
		LogFile: filepath.Join(dir, "mailpit.log"),
	})
	require.NoError(t, err)
	stopOnCleanup(t, p)
	t.Logf("mailpit ready in %s", time.Since(began).Round(time.Millisecond))

	host, _, err := net.SplitHostPort(p.Addr())
	require.NoError(t, err)
	// Any credentials are accepted, without TLS, as Interlock's SMTP client will send them.
	auth := smtp.PlainAuth("", "interlock", "secret", host)
	msg := "From: interlock@example.com\r\nTo: ops@example.com\r\nSubject: devservices test\r\n\r\nhello\r\n"
	require.NoError(t, smtp.SendMail(p.Addr(), auth, "interlock@example.com", []string{"ops@example.com"}, []byte(msg)))

	count := func() int {
		t.Helper()
		resp, err := http.Get(p.UIURL() + "/api/v1/messages")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var body struct {
			Total int `json:"total"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return body.Total
	}
	require.Equal(t, 1, count())

	oldPID := p.PID()
	require.NoError(t, p.Restart(t.Context()))
	requireGone(t, oldPID)
	require.Equal(t, 1, count(), "the database file keeps mail across restarts")

	pid := p.PID()
	require.NoError(t, p.Stop(t.Context()))
	requireGone(t, pid)
	_, err = http.Get(p.UIURL() + "/readyz")
	require.Error(t, err, "nothing listens after Stop")
}

func TestMailpitFixedPorts(t *testing.T) {
	t.Parallel()
	bin := installed(t, Mailpit())
	smtpPort, err := FreePort()
	require.NoError(t, err)
	uiPort, err := FreePort()
	require.NoError(t, err)
	p, err := StartMailpit(t.Context(), MailpitOptions{Bin: bin, SMTPPort: smtpPort, UIPort: uiPort})
	require.NoError(t, err)
	stopOnCleanup(t, p)
	require.Equal(t, "127.0.0.1:"+strconv.Itoa(smtpPort), p.Addr())
	require.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", uiPort), p.UIURL())
	require.NoError(t, p.Stop(t.Context()))
}

func TestExcerptLeadsWithThePanic(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("starting\npanic: listen tcp 127.0.0.1:7234: bind: address already in use\n\ngoroutine 1 [running]:\n")
	for i := range 100 {
		fmt.Fprintf(&b, "frame %d\n", i)
	}
	got := excerpt(b.String())
	require.True(t, strings.HasPrefix(got, "panic: listen tcp 127.0.0.1:7234: bind: address already in use\n"), got)
	require.Contains(t, got, "frame 99")
	require.Equal(t, "a\nb", excerpt("a\nb"), "short output is shown whole")
}

package activities_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/mail"
	"github.com/interlock-soar/interlock/activities/mail/mailtest"
	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/workflows"
)

const publicURL = "https://interlock.soc.example"

type rig struct {
	smtp   *mailtest.Server
	signer *answer.Signer
	env    *testsuite.TestActivityEnvironment
	n      *activities.Notifier
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSender(mail.Config{
		Host: srv.Host, Port: srv.Port, TLSPolicy: mail.TLSNone,
		From: "Interlock <interlock@soc.example>", Timeout: 5 * time.Second,
	}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	signer, err := answer.NewSigner([]byte("an-answer-secret-of-at-least-32-bytes!"), 72*time.Hour, nil)
	require.NoError(t, err)
	linker, err := answer.NewLinker(signer, publicURL)
	require.NoError(t, err)
	n := &activities.Notifier{Mailer: sender, Links: linker}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(n)
	return &rig{smtp: srv, signer: signer, env: env, n: n}
}

func (r *rig) send(t *testing.T, req activities.PLCNotification) (activities.NotificationResult, error) {
	t.Helper()
	val, err := r.env.ExecuteActivity(r.n.SendPLCNotification, req)
	if err != nil {
		return activities.NotificationResult{}, err
	}
	var res activities.NotificationResult
	require.NoError(t, val.Get(&res))
	return res, nil
}

type received struct {
	header netmail.Header
	names  []string
	text   string
	html   string
}

func parseReceived(t *testing.T, raw []byte) received {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	r := received{header: msg.Header}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for line := range strings.SplitSeq(string(head), "\r\n") {
		if line != "" && line[0] != ' ' && line[0] != '\t' {
			name, _, _ := strings.Cut(line, ":")
			r.names = append(r.names, name)
		}
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			r.text = string(b)
		case "text/html":
			r.html = string(b)
		}
	}
	require.NotEmpty(t, r.text)
	require.NotEmpty(t, r.html)
	return r
}

var answerLink = regexp.MustCompile(regexp.QuoteMeta(publicURL+answer.PathPrefix) + `([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`)

func TestSendPLCNotificationDeliversVerifiableLinks(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	req := plcNotice()
	req.Recipients = append(req.Recipients, activities.Recipient{Email: "ADA@plant.example"}) // a duplicate

	res, err := r.send(t, req)
	require.NoError(t, err)
	require.Equal(t, []string{"ada@plant.example", "line3-controls@plant.example"}, res.Recipients)
	require.Regexp(t, `^<interlock\.[0-9a-f]{32}@interlock>$`, res.MessageID)
	require.WithinDuration(t, time.Now(), res.SentAt, time.Minute)

	msgs := r.smtp.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "interlock@soc.example", msgs[0].From)
	require.Equal(t, []string{"ada@plant.example", "line3-controls@plant.example"}, msgs[0].To)
	got := parseReceived(t, msgs[0].Data)
	require.Equal(t, res.MessageID, got.header.Get("Message-ID"))
	subject, err := new(mime.WordDecoder).DecodeHeader(got.header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "[High] Unplanned change to PLC PLC-L3-01 on Rotterdam Plant / Packaging Line 3 — incident 4318", subject)
	require.Equal(t, "auto-generated", got.header.Get("Auto-Submitted"))

	// Both parts carry both links; each token verifies to this run, incident, round and decision.
	for _, body := range []string{got.text, got.html} {
		m := answerLink.FindAllStringSubmatch(body, -1)
		require.Len(t, m, 2)
		var decisions []string
		for _, link := range m {
			c, err := r.signer.Verify(link[1])
			require.NoError(t, err)
			require.Equal(t, req.WorkflowID, c.WorkflowID)
			require.Equal(t, req.IncidentID, c.IncidentID)
			require.Equal(t, int64(4318), c.IncidentNumber)
			require.Equal(t, "PLC-L3-01", c.PLC)
			require.Equal(t, activities.GroupRecipient, c.Recipient, "two people got it")
			require.Zero(t, c.Round)
			require.True(t, c.Bound, "the link is bound to its round")
			require.NotEmpty(t, c.RunID, "and to the run the activity ran for")
			decisions = append(decisions, c.Decision)
		}
		require.Equal(t, []string{workflows.DecisionPlanned, workflows.DecisionNotPlanned}, decisions)
	}
	require.Regexp(t, `href="`+regexp.QuoteMeta(publicURL+answer.PathPrefix)+`[^"]+"[^>]*>Yes, this change was planned</a>`, got.html)
	require.Regexp(t, `href="`+regexp.QuoteMeta(publicURL+answer.PathPrefix)+`[^"]+"[^>]*>No, this change was NOT planned</a>`, got.html)

	// One recipient: the link names them, so the answer records who gave it.
	req = plcNotice()
	req.Recipients = req.Recipients[:1]
	req.Round = 1
	_, err = r.send(t, req)
	require.NoError(t, err)
	got = parseReceived(t, r.smtp.Messages()[1].Data)
	m := answerLink.FindStringSubmatch(got.text)
	require.NotNil(t, m)
	c, err := r.signer.Verify(m[1])
	require.NoError(t, err)
	require.Equal(t, "ada@plant.example", c.Recipient)
	require.Equal(t, 1, c.Round)
	to, err := got.header.AddressList("To")
	require.NoError(t, err)
	require.Equal(t, []*netmail.Address{{Name: "Ada Engineer", Address: "ada@plant.example"}}, to)
}

func TestSendPLCNotificationKeepsHostileFieldsInert(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	req := plcNotice()
	req.Change.PLC.Name = "PLC-1\r\nBcc: evil@x.example\r\n<script>alert(1)</script>"
	req.Change.Source.Name = "ENG\r\nTo: evil2@x.example"
	req.Recipients[0].Name = "Ada\r\nBcc: evil3@x.example"
	req.IncidentURL = "javascript:alert(1)"
	req.Change.PLC.PageLink = "https://portal.azure.com@evil.example/login"

	_, err := r.send(t, req)
	require.NoError(t, err)
	msgs := r.smtp.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, []string{"ada@plant.example", "line3-controls@plant.example"}, msgs[0].To, "exactly the intended recipients")
	got := parseReceived(t, msgs[0].Data)
	require.ElementsMatch(t, []string{"Date", "MIME-Version", "Message-ID", "Subject", "From", "To", "Content-Type",
		"Auto-Submitted", "X-Auto-Response-Suppress"}, got.names, "no header added")
	require.Empty(t, got.header.Get("Bcc"))
	to, err := got.header.AddressList("To")
	require.NoError(t, err)
	require.Len(t, to, 2)
	require.NotContains(t, got.html, "<script")
	require.Contains(t, got.html, "&lt;script&gt;")
	require.NotContains(t, got.html, `href="javascript`)
	require.NotContains(t, got.html, `href="https://portal.azure.com@`)
	require.Contains(t, got.text, "javascript:alert(1) (not shown as a link")
}

func TestSendPLCNotificationRefusesBadRequests(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*activities.PLCNotification){
		"no workflow ID":      func(n *activities.PLCNotification) { n.WorkflowID = " " },
		"no recipients":       func(n *activities.PLCNotification) { n.Recipients = nil },
		"not an address":      func(n *activities.PLCNotification) { n.Recipients[1].Email = "line3-controls" },
		"crlf in address":     func(n *activities.PLCNotification) { n.Recipients[1].Email = "a@plant.example\r\nBcc: evil@x.example" },
		"list in one address": func(n *activities.PLCNotification) { n.Recipients[1].Email = "a@plant.example, evil@x.example" },
		"name in email field": func(n *activities.PLCNotification) { n.Recipients[1].Email = "Eve <evil@x.example>" },
		"negative round":      func(n *activities.PLCNotification) { n.Round = -1 },
		"too many recipients": func(n *activities.PLCNotification) {
			n.Recipients = nil
			for i := range 51 {
				n.Recipients = append(n.Recipients, activities.Recipient{Email: strings.Repeat("a", i+1) + "@plant.example"})
			}
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			req := plcNotice()
			mutate(&req)
			_, err := r.send(t, req)
			appErr, ok := errors.AsType[*temporal.ApplicationError](err)
			require.True(t, ok, "%v", err)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, activities.FailureInvalidRequest, appErr.Type())
			require.Zero(t, r.smtp.Attempts(mailtest.StageMail), "nothing is sent")
		})
	}
}

func TestSendPLCNotificationClassifiesSMTPFailures(t *testing.T) {
	t.Parallel()
	t.Run("temporary then success", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		r.smtp.Fail(mailtest.StageRcpt, 451)
		_, err := r.send(t, plcNotice())
		appErr, ok := errors.AsType[*temporal.ApplicationError](err)
		require.True(t, ok, "%v", err)
		require.False(t, appErr.NonRetryable())
		require.Equal(t, activities.FailureSMTPTemporary, appErr.Type())

		first := r.smtp.Attempts(mailtest.StageRcpt)
		res, err := r.send(t, plcNotice()) // Temporal's retry
		require.NoError(t, err)
		require.Greater(t, r.smtp.Attempts(mailtest.StageRcpt), first)
		require.Len(t, r.smtp.Messages(), 1)
		require.Equal(t, res.MessageID, parseReceived(t, r.smtp.Messages()[0].Data).header.Get("Message-ID"))
	})
	t.Run("temporary on DATA", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		r.smtp.Fail(mailtest.StageData, 451)
		_, err := r.send(t, plcNotice())
		appErr, ok := errors.AsType[*temporal.ApplicationError](err)
		require.True(t, ok, "%v", err)
		require.False(t, appErr.NonRetryable())
	})
	t.Run("permanent", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		r.smtp.Fail(mailtest.StageRcpt, 550)
		_, err := r.send(t, plcNotice())
		appErr, ok := errors.AsType[*temporal.ApplicationError](err)
		require.True(t, ok, "%v", err)
		require.True(t, appErr.NonRetryable())
		require.Equal(t, activities.FailureSMTPRejected, appErr.Type())
		require.Empty(t, r.smtp.Messages())
	})
}

func TestSendPLCNotificationMessageIDIsDeterministic(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	id := func(mutate func(*activities.PLCNotification)) string {
		req := plcNotice()
		if mutate != nil {
			mutate(&req)
		}
		res, err := r.send(t, req)
		require.NoError(t, err)
		return res.MessageID
	}
	base := id(nil)
	require.Equal(t, base, id(nil), "a retried send has the same Message-ID")
	require.Equal(t, base, id(func(n *activities.PLCNotification) { slices.Reverse(n.Recipients) }), "recipient order does not matter")
	require.Equal(t, base, id(func(n *activities.PLCNotification) { n.Recipients[0].Email = "ADA@Plant.Example" }), "nor address case")
	require.Equal(t, base, id(func(n *activities.PLCNotification) { n.AnswerDeadline = n.AnswerDeadline.Add(time.Hour) }))
	seen := map[string]string{base: "base"}
	for name, mutate := range map[string]func(*activities.PLCNotification){
		"round 1":        func(n *activities.PLCNotification) { n.Round = 1 },
		"round 2":        func(n *activities.PLCNotification) { n.Round = 2 },
		"other PLC":      func(n *activities.PLCNotification) { n.Change.PLC.Name = "PLC-L3-02" },
		"other incident": func(n *activities.PLCNotification) { n.IncidentID = "other" },
		"other people":   func(n *activities.PLCNotification) { n.Recipients = n.Recipients[:1] },
		"other run":      func(n *activities.PLCNotification) { n.WorkflowID += "-2" },
	} {
		got := id(mutate)
		require.NotContains(t, seen, got, "%s collides with %s", name, seen[got])
		seen[got] = name
	}
}

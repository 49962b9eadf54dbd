package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities/mail"
	"github.com/interlock-soar/interlock/activities/mail/mailtest"
)

func newSender(t *testing.T, srv *mailtest.Server, mutate ...func(*mail.Config)) *mail.Sender {
	t.Helper()
	cfg := mail.Config{
		Host: srv.Host, Port: srv.Port, TLSPolicy: mail.TLSNone,
		From: "Interlock <interlock@soc.example>", Timeout: 5 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := mail.NewSender(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return s
}

// parsed is a received message taken apart with the standard library only.
type parsed struct {
	Header netmail.Header
	// Names are the top-level header names in order, as they appear on the wire.
	Names []string
	Text  string
	HTML  string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	var p parsed
	p.Header = msg.Header
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for line := range strings.SplitSeq(string(head), "\r\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a folded header
		}
		name, _, ok := strings.Cut(line, ":")
		require.True(t, ok, "header line without colon: %q", line)
		p.Names = append(p.Names, name)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(part)
		require.NoError(t, err)
		ct, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		require.NoError(t, err)
		switch ct {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		default:
			t.Fatalf("unexpected part %s", ct)
		}
	}
	return p
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	require.NoError(t, err)
	return s
}

func TestSendDeliversMultipartAlternative(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	s := newSender(t, srv)

	err := s.Send(t.Context(), mail.Message{
		To:        []string{"Ada Engineer <ada@plant.example>", "bob@plant.example", "BOB@plant.example"},
		Subject:   "[High] Unplanned change to PLC PLC-L3-01 — incident 4318",
		Text:      "A program was downloaded.\nAnswer below.",
		HTML:      "<p>A program was <b>downloaded</b>.</p>",
		MessageID: "interlock.0123456789abcdef@interlock",
		Headers:   map[string]string{"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
	})
	require.NoError(t, err)

	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "interlock@soc.example", msgs[0].From)
	// the case-insensitive duplicate is sent once
	require.Equal(t, []string{"ada@plant.example", "bob@plant.example"}, msgs[0].To)

	p := parse(t, msgs[0].Data)
	require.Equal(t, `"Interlock" <interlock@soc.example>`, p.Header.Get("From"))
	to, err := p.Header.AddressList("To")
	require.NoError(t, err)
	require.Len(t, to, 2)
	require.Equal(t, "Ada Engineer", to[0].Name)
	require.Equal(t, "[High] Unplanned change to PLC PLC-L3-01 — incident 4318", decodeHeader(t, p.Header.Get("Subject")))
	require.Equal(t, "<interlock.0123456789abcdef@interlock>", p.Header.Get("Message-ID"))
	date, err := p.Header.Date()
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), date, time.Minute)
	require.Equal(t, "auto-generated", p.Header.Get("Auto-Submitted"))
	require.Equal(t, "All", p.Header.Get("X-Auto-Response-Suppress"))
	require.Equal(t, "A program was downloaded.\r\nAnswer below.", p.Text)
	require.Equal(t, "<p>A program was <b>downloaded</b>.</p>", p.HTML)
}

func TestSendKeepsHostileSubjectInert(t *testing.T) {
	t.Parallel()
	for name, subject := range map[string]string{
		"crlf bcc":       "PLC-1\r\nBcc: evil@x.example\r\n<script>alert(1)</script>",
		"lf only":        "PLC-1\nBcc: evil@x.example",
		"cr only":        "PLC-1\rBcc: evil@x.example",
		"nul and del":    "PLC-1\x00\x7fBcc: evil@x.example",
		"unicode breaks": "PLC-1\u2028Bcc: evil@x.example\u2029To: evil@x.example",
		"folded":         "PLC-1\r\n\tBcc: evil@x.example",
		"invalid utf8":   "PLC-1\xff\xfe\r\nBcc: evil@x.example",
		"very long":      strings.Repeat("PLC-1 ", 400) + "\r\nBcc: evil@x.example",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, mailtest.Options{})
			s := newSender(t, srv)
			require.NoError(t, s.Send(t.Context(), mail.Message{
				To: []string{"ada@plant.example"}, Subject: subject, Text: "body",
				HTML: "<p>body</p>", MessageID: "interlock.1@interlock",
			}))
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			require.Equal(t, []string{"ada@plant.example"}, msgs[0].To)
			p := parse(t, msgs[0].Data)
			require.ElementsMatch(t,
				[]string{"Date", "MIME-Version", "Message-ID", "Subject", "From", "To", "Content-Type"},
				p.Names, "no header may be added")
			require.Empty(t, p.Header.Get("Bcc"))
			got := decodeHeader(t, p.Header.Get("Subject"))
			require.NotContainsf(t, got, "\n", "subject %q", got)
			require.NotContains(t, got, "\r")
			require.LessOrEqual(t, len([]rune(got)), 250)
			require.True(t, strings.HasPrefix(got, "PLC-1"), got)
		})
	}
}

func TestSendRefusesInvalidMessages(t *testing.T) {
	t.Parallel()
	valid := mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"}
	tests := map[string]func(*mail.Message){
		"no recipients":          func(m *mail.Message) { m.To = nil },
		"crlf in recipient":      func(m *mail.Message) { m.To = []string{"ada@plant.example\r\nBcc: evil@x.example"} },
		"two addresses in one":   func(m *mail.Message) { m.To = []string{"ada@plant.example, evil@x.example"} },
		"group syntax":           func(m *mail.Message) { m.To = []string{"team: ada@plant.example, evil@x.example;"} },
		"no domain":              func(m *mail.Message) { m.To = []string{"ada@"} },
		"not an address":         func(m *mail.Message) { m.To = []string{"javascript:alert(1)"} },
		"empty text":             func(m *mail.Message) { m.Text = " " },
		"structural header":      func(m *mail.Message) { m.Headers = map[string]string{"Bcc": "evil@x.example"} },
		"structural header case": func(m *mail.Message) { m.Headers = map[string]string{"content-type": "text/html"} },
		"bad header name":        func(m *mail.Message) { m.Headers = map[string]string{"X-A: b\r\nBcc": "c"} },
		"crlf in header value":   func(m *mail.Message) { m.Headers = map[string]string{"X-Interlock": "a\r\nBcc: evil@x.example"} },
		"bad message id":         func(m *mail.Message) { m.MessageID = "<a@b>\r\nBcc: evil@x.example" },
		"message id without at":  func(m *mail.Message) { m.MessageID = "abc" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, mailtest.Options{})
			s := newSender(t, srv)
			m := valid
			mutate(&m)
			err := s.Send(t.Context(), m)
			require.Error(t, err)
			_, ok := errors.AsType[*mail.InvalidMessageError](err)
			require.True(t, ok, "%v", err)
			require.True(t, mail.IsPermanent(err))
			require.Zero(t, srv.Attempts(mailtest.StageMail), "nothing may reach the server")
		})
	}
}

func TestSendClassifiesServerReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		stage     mailtest.Stage
		code      int
		permanent bool
	}{
		{"temporary on MAIL", mailtest.StageMail, 421, false},
		{"temporary on RCPT", mailtest.StageRcpt, 451, false},
		{"temporary on DATA", mailtest.StageData, 451, false},
		{"mailbox full", mailtest.StageRcpt, 452, false},
		{"permanent on MAIL", mailtest.StageMail, 553, true},
		{"unknown user", mailtest.StageRcpt, 550, true},
		{"rejected content", mailtest.StageData, 554, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, mailtest.Options{})
			s := newSender(t, srv)
			srv.Fail(tt.stage, tt.code)
			m := mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t", MessageID: "m.1@interlock"}

			err := s.Send(t.Context(), m)
			require.Error(t, err)
			require.Equal(t, tt.permanent, mail.IsPermanent(err), "%v", err)
			require.Empty(t, srv.Messages())

			// the failure was scripted once: a retry (Temporal's, for a temporary error) goes through
			require.NoError(t, s.Send(t.Context(), m))
			require.Len(t, srv.Messages(), 1)
		})
	}
}

func TestSendNetworkFailuresAreTemporary(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		require.NoError(t, l.Close())
		s, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: port, TLSPolicy: mail.TLSNone,
			From: "interlock@soc.example", Timeout: 2 * time.Second}, nil)
		require.NoError(t, err)
		err = s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"})
		require.Error(t, err)
		require.False(t, mail.IsPermanent(err))
	})
	t.Run("server never answers", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { _ = c.Close() }) // hold the connection open, say nothing
			}
		}()
		s, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port,
			TLSPolicy: mail.TLSNone, From: "interlock@soc.example", Timeout: 300 * time.Millisecond}, nil)
		require.NoError(t, err)
		start := time.Now()
		err = s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"})
		require.Error(t, err)
		require.False(t, mail.IsPermanent(err))
		require.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("context cancelled", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.Start(t, mailtest.Options{})
		s := newSender(t, srv)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.Send(ctx, mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"})
		require.Error(t, err)
		require.False(t, mail.IsPermanent(err))
		require.Empty(t, srv.Messages())
	})
}

func TestSendAuthenticatesOnlyWhenSafe(t *testing.T) {
	t.Parallel()
	users := map[string]string{"relay": "s3cret-password"}
	t.Run("STARTTLS mandatory with PLAIN", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.Start(t, mailtest.Options{Users: users, TLS: true})
		s := newSender(t, srv, func(c *mail.Config) {
			c.TLSPolicy, c.Username, c.Password, c.RootCAs = mail.TLSMandatory, "relay", "s3cret-password", srv.RootCAs
		})
		require.NoError(t, s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"}))
		msgs := srv.Messages()
		require.Len(t, msgs, 1)
		require.True(t, msgs[0].TLS)
		require.Equal(t, "relay", msgs[0].User)
	})
	t.Run("mandatory refuses a server without STARTTLS", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.Start(t, mailtest.Options{})
		s := newSender(t, srv, func(c *mail.Config) { c.TLSPolicy = mail.TLSMandatory })
		err := s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"})
		require.Error(t, err)
		require.False(t, mail.IsPermanent(err))
		require.Zero(t, srv.Attempts(mailtest.StageMail))
	})
	t.Run("mandatory refuses an untrusted certificate", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.Start(t, mailtest.Options{TLS: true})
		s := newSender(t, srv, func(c *mail.Config) { c.TLSPolicy = mail.TLSMandatory })
		err := s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"})
		require.Error(t, err)
		require.Zero(t, srv.Attempts(mailtest.StageMail))
	})
	t.Run("opportunistic never sends the password in clear", func(t *testing.T) {
		t.Parallel()
		// 127.0.0.2: go-mail lets PLAIN through unencrypted to "localhost" and 127.0.0.1 only
		srv := mailtest.Start(t, mailtest.Options{Users: users, AllowInsecureAuth: true, Host: "127.0.0.2"})
		s := newSender(t, srv, func(c *mail.Config) {
			c.TLSPolicy, c.Username, c.Password = mail.TLSOpportunistic, "relay", "s3cret-password"
		})
		err := s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "s3cret-password")
		require.Zero(t, srv.AuthFailures(), "no AUTH may be attempted")
		require.Empty(t, srv.Messages())
	})
	t.Run("policy none uses clear-text PLAIN", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.Start(t, mailtest.Options{Users: users, AllowInsecureAuth: true})
		s := newSender(t, srv, func(c *mail.Config) { c.Username, c.Password = "relay", "s3cret-password" })
		require.NoError(t, s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"}))
		require.Equal(t, "relay", srv.Messages()[0].User)
	})
	t.Run("wrong password is temporary and not echoed", func(t *testing.T) {
		t.Parallel()
		srv := mailtest.Start(t, mailtest.Options{Users: users, AllowInsecureAuth: true})
		s := newSender(t, srv, func(c *mail.Config) { c.Username, c.Password = "relay", "wrong-password" })
		err := s.Send(t.Context(), mail.Message{To: []string{"ada@plant.example"}, Subject: "s", Text: "t"})
		require.Error(t, err)
		require.False(t, mail.IsPermanent(err))
		require.NotContains(t, err.Error(), "wrong-password")
		require.Equal(t, 1, srv.AuthFailures())
	})
}

func TestNewSenderValidatesConfig(t *testing.T) {
	t.Parallel()
	valid := mail.Config{Host: "smtp.example", Port: 587, TLSPolicy: mail.TLSMandatory, From: "interlock@soc.example", Timeout: time.Second}
	tests := map[string]func(*mail.Config){
		"no host":        func(c *mail.Config) { c.Host = "" },
		"port zero":      func(c *mail.Config) { c.Port = 0 },
		"port too big":   func(c *mail.Config) { c.Port = 70000 },
		"no timeout":     func(c *mail.Config) { c.Timeout = 0 },
		"bad policy":     func(c *mail.Config) { c.TLSPolicy = "starttls" },
		"bad from":       func(c *mail.Config) { c.From = "interlock" },
		"crlf in from":   func(c *mail.Config) { c.From = "interlock@soc.example\r\nBcc: evil@x.example" },
		"list as sender": func(c *mail.Config) { c.From = "a@soc.example, b@soc.example" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := valid
			mutate(&c)
			_, err := mail.NewSender(c, nil)
			require.Error(t, err)
		})
	}
	for _, policy := range []string{mail.TLSMandatory, mail.TLSOpportunistic, mail.TLSNone, mail.TLSImplicit} {
		c := valid
		c.TLSPolicy, c.Username, c.Password = policy, "u", "p"
		_, err := mail.NewSender(c, nil)
		require.NoError(t, err, policy)
	}
}

func TestConfigNeverPrintsPassword(t *testing.T) {
	t.Parallel()
	c := mail.Config{Host: "smtp.example", Port: 587, Username: "relay", Password: "hunter2-very-secret", From: "a@b.example"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "smtp", c)
	js, err := json.Marshal(struct{ S string }{fmt.Sprint(c)})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), logged.String(), string(js)} {
		require.NotContains(t, out, "hunter2")
		require.Contains(t, out, "relay")
	}
}

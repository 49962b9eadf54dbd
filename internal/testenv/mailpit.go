package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/devservices"
)

// MailpitServer is a running Mailpit accepting any SMTP credentials on 127.0.0.1, with helpers for its
// REST API.
type MailpitServer struct {
	SMTPHost string // always 127.0.0.1
	SMTPPort int
	UIURL    string // the web UI, for a human debugging a test
	APIURL   string // REST API base, e.g. http://127.0.0.1:PORT/api/v1
	Process  *devservices.Process
	http     *http.Client
	dir      string
}

// MessageSummary is one entry of Mailpit's message list (GET /api/v1/messages), newest first.
type MessageSummary struct {
	ID          string
	MessageID   string
	Read        bool
	From        *mail.Address
	To          []*mail.Address
	Cc          []*mail.Address
	Bcc         []*mail.Address
	ReplyTo     []*mail.Address
	Subject     string
	Created     time.Time
	Username    string // SMTP AUTH user the message was sent with
	Tags        []string
	Size        uint64
	Attachments int
	Snippet     string
}

// Message is one message in full (GET /api/v1/message/{ID}), plus its headers
// (GET /api/v1/message/{ID}/headers).
type Message struct {
	ID          string
	MessageID   string
	From        *mail.Address
	To          []*mail.Address
	Cc          []*mail.Address
	Bcc         []*mail.Address
	ReplyTo     []*mail.Address
	ReturnPath  string
	Subject     string
	Date        time.Time
	Tags        []string
	Username    string
	Text        string
	HTML        string
	Size        uint64
	Inline      []Attachment
	Attachments []Attachment
	Headers     mail.Header // unfolded but as sent: RFC 2047 encoded words stay encoded
}

// Attachment describes an attached or inline part of a Message.
type Attachment struct {
	PartID      string
	FileName    string
	ContentType string
	ContentID   string
	Size        uint64
}

// StartMailpit installs the pinned Mailpit if needed and starts it on free loopback ports with its
// store in a temporary folder. Stop removes it all.
func StartMailpit(ctx context.Context) (*MailpitServer, error) {
	bin, err := ensure(ctx, devservices.Mailpit())
	if err != nil {
		return nil, err
	}
	smtpPort, err := devservices.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "interlock-mailpit-")
	if err != nil {
		return nil, fmt.Errorf("mailpit test server: %w", err)
	}
	p, err := devservices.StartMailpit(ctx, devservices.MailpitOptions{
		Bin:      bin,
		SMTPPort: smtpPort,
		// A file in our folder instead of Mailpit's own temporary one, which a killed Mailpit would
		// leave behind in /tmp.
		DBFile:  filepath.Join(dir, "mailpit.db"),
		LogFile: filepath.Join(dir, "mailpit.log"),
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &MailpitServer{
		SMTPHost: "127.0.0.1",
		SMTPPort: smtpPort,
		UIURL:    p.UIURL(),
		APIURL:   p.UIURL() + "/api/v1",
		Process:  p,
		http:     &http.Client{Timeout: 10 * time.Second},
		dir:      dir,
	}, nil
}

// Stop stops Mailpit and removes its files.
func (m *MailpitServer) Stop(ctx context.Context) error {
	err := m.Process.Stop(ctx)
	if rmErr := os.RemoveAll(m.dir); err == nil && rmErr != nil {
		err = fmt.Errorf("remove mailpit test files: %w", rmErr)
	}
	return err
}

// NewMailpit starts a Mailpit for this test alone and stops it when the test ends. Use it where a test
// needs an empty mailbox of its own or stops the server.
func NewMailpit(t testing.TB) *MailpitServer {
	t.Helper()
	m := ownServer(t, StartMailpit)
	t.Cleanup(func() { require.NoError(t, m.Stop(context.Background())) })
	return m
}

// SMTPAddr is host:port for an SMTP client.
func (m *MailpitServer) SMTPAddr() string {
	return m.SMTPHost + ":" + strconv.Itoa(m.SMTPPort)
}

// Messages lists every stored message, newest first.
func (m *MailpitServer) Messages(ctx context.Context) ([]MessageSummary, error) {
	var list struct {
		Messages []MessageSummary `json:"messages"`
	}
	// limit=0 lifts the API's default page of 50.
	if err := m.do(ctx, http.MethodGet, "/messages?limit=0", &list); err != nil {
		return nil, err
	}
	return list.Messages, nil
}

// Message returns one message in full, with its headers.
func (m *MailpitServer) Message(ctx context.Context, id string) (Message, error) {
	var msg Message
	path := "/message/" + url.PathEscape(id)
	if err := m.do(ctx, http.MethodGet, path, &msg); err != nil {
		return Message{}, err
	}
	if err := m.do(ctx, http.MethodGet, path+"/headers", &msg.Headers); err != nil {
		return Message{}, err
	}
	return msg, nil
}

// DeleteAll deletes every stored message. On a shared Mailpit this affects tests running in
// parallel; they should rather tell their messages apart by recipient or subject.
func (m *MailpitServer) DeleteAll(ctx context.Context) error {
	return m.do(ctx, http.MethodDelete, "/messages", nil)
}

func (m *MailpitServer) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, m.APIURL+path, nil)
	if err != nil {
		return fmt.Errorf("mailpit %s %s: %w", method, path, err)
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("mailpit %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("mailpit %s %s: decode: %w", method, path, err)
	}
	return nil
}

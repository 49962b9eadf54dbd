// Package mail sends Interlock's emails over SMTP with go-mail. It is a transport adapter: callers
// render the content, this package turns it into one multipart/alternative message, refuses anything
// that could smuggle a header or a recipient, and classifies failures as permanent (SMTP 5xx: a retry
// cannot help) or temporary (4xx, network, timeout: Temporal's retry policy should try again).
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	gomail "github.com/wneessen/go-mail"
)

// TLS policies, as config.SMTP spells them.
const (
	// TLSMandatory requires STARTTLS; a server without it fails the send.
	TLSMandatory = "mandatory"
	// TLSOpportunistic uses STARTTLS when offered and sends in clear text otherwise.
	TLSOpportunistic = "opportunistic"
	// TLSNone never uses TLS (a local relay or Mailpit).
	TLSNone = "none"
	// TLSImplicit is SMTPS: TLS from the first byte (usually port 465).
	TLSImplicit = "implicit"
)

// Limits that keep a hostile or broken caller from building an absurd message.
const (
	maxRecipients   = 100
	maxSubjectRunes = 250
	maxBodyBytes    = 2 << 20
)

// Config says how to reach the SMTP server. Password is a credential: String, GoString and LogValue
// redact it, so a Config that reaches a log line or an error shows nothing.
type Config struct {
	Host string
	Port int
	// TLSPolicy is TLSMandatory, TLSOpportunistic, TLSNone or TLSImplicit.
	TLSPolicy string
	// Username and Password enable SMTP AUTH when Username is set. PLAIN and LOGIN send the password
	// in a form anyone on the path can read, so with a TLS policy they are used only on an encrypted
	// connection (go-mail refuses otherwise); only TLSNone uses the clear-text variants, for a local
	// relay or a tunnel. config.SMTP refuses TLSNone with a password to a non-loopback host.
	Username string
	Password string
	// From is the envelope sender and the From header, e.g. "Interlock <interlock@example.com>".
	From string
	// Timeout bounds one SMTP conversation (dial, every command, the data).
	Timeout time.Duration
	// RootCAs verifies the server's certificate when it is not signed by a system root (a plant's
	// own CA); nil uses the system roots.
	RootCAs *x509.CertPool
}

// String describes the config without the password.
func (c Config) String() string {
	return fmt.Sprintf("smtp://%s (tls=%s, user=%q, password=%s, from=%q, timeout=%s)",
		net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.TLSPolicy, c.Username, redacted(c.Password), c.From, c.Timeout)
}

// GoString is String, so %#v does not print the password either.
func (c Config) GoString() string { return "mail.Config{" + c.String() + "}" }

// LogValue logs the config without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("tlsPolicy", c.TLSPolicy),
		slog.String("username", c.Username),
		slog.String("password", redacted(c.Password)),
		slog.String("from", c.From),
		slog.Duration("timeout", c.Timeout),
	)
}

func redacted(s string) string {
	if s == "" {
		return "(none)"
	}
	return "[redacted]"
}

// Message is one email. Every field may carry alert-derived text except Headers.
type Message struct {
	// To are the recipients, as addresses ("a@example.com" or "Name <a@example.com>").
	To []string
	// Subject is cleaned of control characters and capped before it reaches go-mail.
	Subject string
	// Text is the text/plain part; HTML the text/html alternative (optional).
	Text string
	HTML string
	// MessageID is the Message-ID without angle brackets ("id@domain"); deterministic per notice so a
	// retried send is recognisable as the same message. Empty lets go-mail make a random one.
	MessageID string
	// Headers are extra headers with fixed, non-alert values (Auto-Submitted, ...). A name or value
	// that is not a plain header token, or a header this package sets itself, fails the send.
	Headers map[string]string
}

// Sender sends messages over SMTP. It is safe for concurrent use.
type Sender struct {
	cfg    Config
	from   string
	opts   []gomail.Option
	logger *slog.Logger
}

// NewSender checks the config and prepares the go-mail options. It does not connect.
func NewSender(cfg Config, logger *slog.Logger) (*Sender, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Host == "" {
		return nil, errors.New("mail: host must not be empty")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: port %d is not between 1 and 65535", cfg.Port)
	}
	if cfg.Timeout <= 0 {
		return nil, errors.New("mail: timeout must be positive")
	}
	from, err := ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from: %w", err)
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout)}
	tlsConfig := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	switch cfg.TLSPolicy {
	case TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tlsConfig))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithTLSConfig(tlsConfig))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithTLSConfig(tlsConfig))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("mail: TLS policy must be %s, %s, %s or %s, not %q",
			TLSMandatory, TLSOpportunistic, TLSNone, TLSImplicit, cfg.TLSPolicy)
	}
	if cfg.Username != "" {
		// PLAIN and LOGIN are what relays offer (Exchange Online, Postfix, Mailpit). The plain
		// variants make go-mail refuse to authenticate on an unencrypted connection, so an
		// opportunistic policy against a server without STARTTLS fails instead of leaking the
		// password; if the server offers neither, go-mail falls back to its own discovery, which
		// without TLS picks only challenge-response mechanisms.
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if cfg.TLSPolicy == TLSNone {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(mechs...),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	// Build one client now so a bad option fails at start, not at the first send.
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &Sender{cfg: cfg, from: from.String(), opts: opts, logger: logger}, nil
}

// Send sends one message in its own SMTP conversation.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, rcpts, err := s.build(m)
	if err != nil {
		return err
	}
	// A go-mail Client keeps per-conversation auth state (opportunistic auth rewrites its auth
	// type), so concurrent activities each get their own; creating one does no I/O.
	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: new client: %w", err)
	}
	start := time.Now()
	err = client.DialAndSendWithContext(ctx, msg)
	if err != nil && msg.IsDelivered() {
		// The server took the message; only QUIT failed. Reporting a failure would make Temporal
		// send it again, so the delivery stands and the close error is only logged.
		s.logger.WarnContext(ctx, "smtp close failed after delivery", "messageId", m.MessageID, "err", err)
		err = nil
	}
	if err != nil {
		kind := "temporary"
		if IsPermanent(err) {
			kind = "permanent"
		}
		s.logger.WarnContext(ctx, "smtp send failed", "messageId", m.MessageID, "recipients", len(rcpts),
			"kind", kind, "elapsed", time.Since(start), "err", err)
		return fmt.Errorf("mail: send to %d recipient(s) via %s: %w",
			len(rcpts), net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)), err)
	}
	s.logger.InfoContext(ctx, "smtp message sent", "messageId", m.MessageID, "recipients", len(rcpts),
		"elapsed", time.Since(start))
	return nil
}

// structuralHeaders are set by build itself; Message.Headers may not touch them, so no caller can
// add a recipient or change the MIME structure through the extra headers.
var structuralHeaders = []string{
	"from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date", "message-id",
	"mime-version", "content-type", "content-transfer-encoding", "content-disposition",
	"return-path", "received",
}

func (s *Sender) build(m Message) (*gomail.Msg, []string, error) {
	if len(m.To) == 0 {
		return nil, nil, &InvalidMessageError{Reason: "no recipients"}
	}
	if len(m.To) > maxRecipients {
		return nil, nil, &InvalidMessageError{Reason: fmt.Sprintf("%d recipients, more than %d", len(m.To), maxRecipients)}
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, nil, &InvalidMessageError{Reason: "empty text body"}
	}
	if len(m.Text) > maxBodyBytes || len(m.HTML) > maxBodyBytes {
		return nil, nil, &InvalidMessageError{Reason: "body larger than 2 MiB"}
	}
	rcpts := make([]string, 0, len(m.To))
	seen := make(map[string]bool, len(m.To))
	for i, to := range m.To {
		addr, err := ParseAddress(to)
		if err != nil {
			return nil, nil, &InvalidMessageError{Reason: fmt.Sprintf("recipient %d: %v", i+1, err)}
		}
		key := strings.ToLower(addr.Address)
		if seen[key] {
			continue
		}
		seen[key] = true
		rcpts = append(rcpts, addr.String())
	}
	if m.MessageID != "" && !validMessageID(m.MessageID) {
		return nil, nil, &InvalidMessageError{Reason: "message ID is not of the form id@domain"}
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, nil, &InvalidMessageError{Reason: "from: " + err.Error()}
	}
	if err := msg.To(rcpts...); err != nil {
		return nil, nil, &InvalidMessageError{Reason: "to: " + err.Error()}
	}
	// go-mail encodes header values, but the subject carries a PLC name from the alert: cleaning it
	// here means a CR/LF can never reach any header encoder, whatever its version.
	msg.Subject(safetext.Line(m.Subject, maxSubjectRunes))
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		names = append(names, name)
	}
	slices.Sort(names) // a stable header order makes retried messages byte-comparable
	for _, name := range names {
		value := m.Headers[name]
		if !validHeaderName(name) || slices.Contains(structuralHeaders, strings.ToLower(name)) {
			return nil, nil, &InvalidMessageError{Reason: fmt.Sprintf("header %q may not be set", name)}
		}
		if value != safetext.Line(value, 998) {
			return nil, nil, &InvalidMessageError{Reason: fmt.Sprintf("header %s has control characters or is too long", name)}
		}
		msg.SetGenHeader(gomail.Header(name), value)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, rcpts, nil
}

// InvalidMessageError is a message that can never be sent as given; IsPermanent reports it.
type InvalidMessageError struct {
	Reason string
}

func (e *InvalidMessageError) Error() string { return "mail: invalid message: " + e.Reason }

// IsPermanent says whether a Send error will recur on retry: the server rejected the message with
// a 5xx reply, or the message itself is invalid. Everything else (4xx replies, dial, TLS and auth
// handshakes, timeouts, a dropped connection) is temporary. Handshake failures stay temporary even
// when caused by configuration: the fix is a config change and a worker restart, after which
// Temporal's next retry succeeds without anyone restarting the playbook.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := errors.AsType[*InvalidMessageError](err); ok {
		return true
	}
	se, ok := errors.AsType[*gomail.SendError](err)
	if !ok {
		return false
	}
	if se.IsTemp() {
		return false
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		// Rejected by go-mail before anything went on the wire: the message is at fault.
		return true
	}
	// go-mail marks every error not starting with '4' as not temporary, including a broken pipe
	// in the middle of DATA. Only a real 5xx reply from the server is a rejection.
	code := se.ErrorCode()
	return code >= 500 && code <= 599
}

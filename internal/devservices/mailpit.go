package devservices

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// MailpitOptions configures Mailpit.
type MailpitOptions struct {
	Bin          string        // path of the mailpit binary, as Ensure returns it
	SMTPPort     int           // SMTP port on 127.0.0.1; 0 picks a free one
	UIPort       int           // web UI and REST API port on 127.0.0.1; 0 picks a free one
	DBFile       string        // message store, so mail survives restarts; "" uses a temporary one
	LogFile      string        // Mailpit output (errors only), appended across restarts
	StartTimeout time.Duration // how long to wait until ready; 0 is 30 s
	Logger       *slog.Logger  // nil discards
}

// StartMailpit runs Mailpit on 127.0.0.1 accepting any SMTP credentials over plain SMTP, as a local
// stand-in for the real relay, and returns once its API is ready and its SMTP port accepts
// connections. ctx bounds only the start.
func StartMailpit(ctx context.Context, opts MailpitOptions) (*Process, error) {
	for attempt := 1; ; attempt++ {
		p, err := startMailpit(ctx, opts)
		// As for Temporal: a port picked here can be taken before Mailpit binds it.
		auto := opts.SMTPPort == 0 || opts.UIPort == 0
		if err == nil || !auto || attempt == 3 || !errors.Is(err, errExitedEarly) || ctx.Err() != nil {
			return p, err
		}
	}
}

func startMailpit(ctx context.Context, opts MailpitOptions) (*Process, error) {
	if opts.Bin == "" {
		return nil, fmt.Errorf("start mailpit: no binary given")
	}
	smtpPort, uiPort := opts.SMTPPort, opts.UIPort
	var err error
	if smtpPort == 0 {
		if smtpPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if uiPort == 0 {
		if uiPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	smtpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(smtpPort))
	uiAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(uiPort))
	args := []string{
		"--smtp", smtpAddr,
		"--listen", uiAddr,
		// Interlock's SMTP client authenticates as it would against the real relay; Mailpit takes any
		// credentials, also without STARTTLS on loopback.
		"--smtp-auth-accept-any",
		"--smtp-auth-allow-insecure",
		"--smtp-disable-rdns",     // reverse DNS of 127.0.0.1 only costs time
		"--disable-version-check", // no calls to GitHub from a local dev tool
		"--quiet",                 // errors only; every received message is otherwise logged
		// Like the mailbox providers that drop a message whose Message-ID they already hold: a notice
		// re-sent after a worker crash (SMTP has no idempotent send) carries the same deterministic
		// Message-ID, and the engineer sees it once.
		"--ignore-duplicate-ids",
	}
	if opts.DBFile != "" {
		args = append(args, "--database", opts.DBFile)
	}
	uiURL := "http://" + uiAddr
	p := &Process{
		name:         "mailpit",
		bin:          opts.Bin,
		args:         args,
		addr:         smtpAddr,
		uiURL:        uiURL,
		logFile:      opts.LogFile,
		ready:        mailpitReady(uiURL+"/readyz", smtpAddr),
		startTimeout: cmp.Or(opts.StartTimeout, 30*time.Second),
		log:          cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		tail:         newTailBuffer(32 << 10),
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// mailpitReady checks /readyz, which answers 200 once the web server's routes are set up, and the SMTP
// port, which Mailpit opens separately.
func mailpitReady(readyURL, smtpAddr string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, readyURL, nil)
		if err != nil {
			return permanentError{err}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", readyURL, resp.Status)
		}
		return dialable(ctx, smtpAddr)
	}
}

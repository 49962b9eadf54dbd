package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/worker"
	"github.com/interlock-soar/interlock/workflows"
)

func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// sdkLogger quiets the Temporal SDK's own chatter (one line per poller start) below warn unless the
// user asked for debug.
func sdkLogger(cfg config.Log, w io.Writer) *slog.Logger {
	if cfg.Level == "debug" {
		return newLogger(cfg, w)
	}
	return newLogger(config.Log{Level: "warn", Format: cfg.Format}, w)
}

// intakeApp is the intake with what it needs besides the HTTP server.
type intakeApp struct {
	handler http.Handler
	rules   *rules.Set
	known   []string
}

// newIntake builds the intake: rules, playbook registry, Temporal starter, answer-link handler.
func newIntake(cfg config.Config, c client.Client, logger *slog.Logger) (*intakeApp, error) {
	registry := worker.Playbooks(cfg.Playbooks)
	known := worker.PlaybookNames(registry)
	var eng *rules.Engine
	var err error
	if cfg.Intake.RulesFile == "" {
		eng, err = rules.Default(known)
	} else {
		eng, err = rules.Load(cfg.Intake.RulesFile, known)
	}
	if err != nil {
		return nil, err
	}
	set := rules.NewSet(eng)
	mounts := map[string]http.Handler{}
	if cfg.Intake.AnswerSecret.IsSet() {
		signer, err := worker.AnswerSigner(cfg.Intake)
		if err != nil {
			return nil, err
		}
		mounts["/v1/answers/"] = intake.Public(answer.NewHandler(signer, answer.TemporalAnswerer{Client: c}, logger))
	} else {
		logger.Warn("intake.answerSecret not set: the one-click answer links of PLC notices will not work", "key", "intake.answerSecret")
	}
	var tokens []string
	for t := range strings.SplitSeq(cfg.Intake.Tokens.Value(), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tokens = append(tokens, t)
		}
	}
	if cfg.Intake.AllowUnauthenticated && !loopback(cfg.Intake.Listen) {
		return nil, fmt.Errorf("intake.allowUnauthenticated is only allowed on a loopback listen address, not %s", cfg.Intake.Listen)
	}
	srv, err := intake.New(intake.Options{
		Rules:     set,
		Playbooks: registry,
		Starter:   &intake.TemporalStarter{Client: c, TaskQueue: workflows.TaskQueue},
		Auth: intake.AuthConfig{
			Tokens:               tokens,
			HMACSecret:           []byte(cfg.Intake.HMACSecret.Value()),
			ReplayWindow:         cfg.Intake.ReplayWindow,
			AllowUnauthenticated: cfg.Intake.AllowUnauthenticated,
		},
		MaxBodyBytes: cfg.Intake.MaxBodyBytes,
		Logger:       logger,
		UIURL:        cfg.Temporal.UIURL,
		Namespace:    cfg.Temporal.Namespace,
		Ready: func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		Mounts: mounts,
	})
	if err != nil {
		return nil, err
	}
	return &intakeApp{handler: srv, rules: set, known: known}, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// watchRules reloads the rules file on SIGHUP and when it changes; an invalid file keeps the old rules.
func watchRules(ctx context.Context, app *intakeApp, path string, logger *slog.Logger) {
	if path == "" {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		app.rules.Watch(ctx, path, app.known, logger, hup)
	}()
}

// serveHTTP serves h on a listener until ctx is done, then shuts down gracefully.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

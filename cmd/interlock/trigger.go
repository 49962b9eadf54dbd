package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/intake"
)

func runTrigger(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "trigger", "trigger [flags] FILE\n\nPosts FILE (a Sentinel incident-trigger body, a Defender for IoT alert record or Interlock's\nincident form) to the intake's /v1/incidents and prints the runs the rules started.")
	url := fs.String("url", "", "intake base URL (default: intake.publicURL)")
	token := fs.String("token", e.getenv("INTERLOCK_TOKEN"), "bearer token (env INTERLOCK_TOKEN; default: the first of intake.tokens)")
	playbook := fs.String("playbook", "", "run this one playbook on the payload (POST /v1/playbooks/NAME/runs) instead of the rules")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long (503 answers are retried)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("trigger needs exactly one payload file")
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	base := strings.TrimRight(*url, "/")
	if base == "" {
		base = strings.TrimRight(cfg.Intake.PublicURL, "/")
	}
	if *token == "" {
		*token, _, _ = strings.Cut(cfg.Intake.Tokens.Value(), ",")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second}
	if *playbook != "" {
		return intake.RunPlaybook(ctx, hc, base, *playbook, strings.TrimSpace(*token), []byte(cfg.Intake.HMACSecret.Value()), body, e.stdout)
	}
	if err := intake.Trigger(ctx, hc, base, strings.TrimSpace(*token), []byte(cfg.Intake.HMACSecret.Value()), body, e.stdout); err != nil {
		return fmt.Errorf("trigger %s: %w", fs.Arg(0), err)
	}
	return nil
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/intake"
)

func runTrigger(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "trigger", "trigger [flags] FILE\n\nPosts FILE (a Sentinel incident-trigger body, a Defender for IoT alert record or Interlock's\nincident form) to the intake's /v1/incidents and prints the runs the rules started. With --alerts,\nposts FILE (alert records: one, a JSON array, or NDJSON when the name ends in .ndjson or .jsonl)\nto /v1/alerts and prints which incident each record went to.")
	alerts := fs.Bool("alerts", false, "post FILE to /v1/alerts: Defender for IoT alert records become Interlock's own incidents")
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
	if *alerts {
		return postAlerts(ctx, e, &intake.APIClient{HTTP: hc, BaseURL: base, Token: strings.TrimSpace(*token),
			HMACSecret: []byte(cfg.Intake.HMACSecret.Value()), Progress: e.stdout}, fs.Arg(0), body)
	}
	if *playbook != "" {
		return intake.RunPlaybook(ctx, hc, base, *playbook, strings.TrimSpace(*token), []byte(cfg.Intake.HMACSecret.Value()), body, e.stdout)
	}
	if err := intake.Trigger(ctx, hc, base, strings.TrimSpace(*token), []byte(cfg.Intake.HMACSecret.Value()), body, e.stdout); err != nil {
		return fmt.Errorf("trigger %s: %w", fs.Arg(0), err)
	}
	return nil
}

func postAlerts(ctx context.Context, e env, c *intake.APIClient, name string, body []byte) error {
	l := strings.ToLower(name)
	resp, err := c.PostAlerts(ctx, body, strings.HasSuffix(l, ".ndjson") || strings.HasSuffix(l, ".jsonl"))
	if len(resp.Records) > 0 {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RECORD\tSTATUS\tALERT\tINCIDENT\tDETAIL")
		for _, r := range resp.Records {
			detail := r.Reason
			if r.Created {
				detail = "created by " + r.Rule
			}
			if r.Error != "" {
				detail = r.Error
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Index, intake.TerminalSafe(r.Status), intake.TerminalSafe(r.AlertID), intake.TerminalSafe(cmp.Or(r.Incident, "-")), intake.TerminalSafe(detail))
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "%d accepted, %d duplicate, %d rejected, %d suppressed; %d incident(s)\n",
			resp.Accepted, resp.Duplicates, resp.Rejected, resp.Suppressed, resp.Incidents)
	}
	if err != nil {
		return fmt.Errorf("trigger --alerts %s: %w", name, err)
	}
	return nil
}

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"

	"fmt"
	"io"
	"net/http"
	"net/url"

	"strings"
	"text/tabwriter"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/intake"
)

const incidentsSynopsis = `incidents list|show|assign|activate|close|reopen|comment [flags] [ID] [ARGS]

Works on the incidents Interlock keeps itself (alerts posted to /v1/alerts), through the intake's API:

  list                         open incidents, newest first (--all for closed ones too; filters below)
  show ID                      the incident: impact, alerts, devices, comments, tasks, history
  assign ID OWNER              set the owner (email or UPN); "" unassigns
  activate ID                  status Active: investigation has started
  close ID CLASSIFICATION [REASON] [--comment TEXT]
                               status Closed with Sentinel's classification (Undetermined,
                               TruePositive, BenignPositive, FalsePositive) and reason
  reopen ID                    status Active again
  comment ID TEXT              add a comment (plain text)

Every change is recorded in the incident's history with the actor (--actor, default cli:$USER).`

func runIncidents(ctx context.Context, e env, args []string) error {
	fs, cfgPath := newFlags(e, "incidents", incidentsSynopsis)
	base := fs.String("url", "", "intake base URL (default: intake.publicURL)")
	token := fs.String("token", e.getenv("INTERLOCK_TOKEN"), "bearer token (env INTERLOCK_TOKEN; default: the first of intake.tokens)")
	actor := fs.String("actor", "cli:"+cmp.Or(e.getenv("USER"), "unknown"), "who makes the change, for the incident's history")
	asJSON := fs.Bool("json", false, "print the intake's JSON answer")
	all := fs.Bool("all", false, "list: closed incidents too")
	status := fs.String("status", "", "list: only this status (New, Active, Closed)")
	severity := fs.String("severity", "", "list: only this severity")
	site := fs.String("site", "", "list: only this site")
	line := fs.String("line", "", "list: only this production line")
	owner := fs.String("owner", "", "list: only this owner")
	limit := fs.Int("limit", 50, "list: at most this many")
	comment := fs.String("comment", "", "close: the classification comment")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long (503 answers are retried)")
	if len(args) == 0 {
		fs.Usage()
		return errors.New("incidents needs a subcommand: list, show, assign, activate, close, reopen or comment")
	}
	sub, rest := args[0], args[1:]
	if sub == "-h" || sub == "--help" || sub == "help" {
		fs.SetOutput(e.stdout)
		fs.Usage()
		return nil
	}
	// Flags may come before or after the positional arguments.
	var pos []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) > 0 {
			pos, rest = append(pos, rest[0]), rest[1:]
		}
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	if *token == "" {
		*token, _, _ = strings.Cut(cfg.Intake.Tokens.Value(), ",")
	}
	c := &intake.APIClient{
		HTTP: &http.Client{Timeout: 30 * time.Second}, BaseURL: cmp.Or(strings.TrimRight(*base, "/"), strings.TrimRight(cfg.Intake.PublicURL, "/")),
		Token: strings.TrimSpace(*token), HMACSecret: []byte(cfg.Intake.HMACSecret.Value()), Actor: *actor, Progress: e.stderr,
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	need := func(n int, what string) error {
		if len(pos) != n {
			fs.Usage()
			return fmt.Errorf("incidents %s needs %s", sub, what)
		}
		return nil
	}
	printJSON := func(v any) error {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	patch := func(id string, fields map[string]any) error {
		res, err := c.Patch(ctx, id, fields)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(res)
		}
		if len(res.Changes) == 0 {
			fmt.Fprintf(e.stdout, "%s: nothing to change (status %s)\n", intake.TerminalSafe(id), intake.TerminalSafe(res.Status))
			return nil
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", intake.TerminalSafe(id), intake.TerminalSafe(strings.Join(res.Changes, "; ")))
		return nil
	}
	switch sub {
	case "list":
		if err := need(0, "no arguments"); err != nil {
			return err
		}
		q := url.Values{}
		for k, v := range map[string]string{"status": *status, "severity": *severity, "site": *site, "line": *line, "owner": *owner} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if !*all && *status == "" {
			q.Set("open", "true")
		}
		q.Set("limit", fmt.Sprint(*limit))
		list, err := c.ListIncidents(ctx, q)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(list)
		}
		if len(list) == 0 {
			fmt.Fprintln(e.stdout, "no incidents")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tOWNER\tCREATED\tTITLE")
		for _, in := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", intake.TerminalSafe(in.ID), intake.TerminalSafe(in.Status), intake.TerminalSafe(in.Severity), intake.TerminalSafe(cmp.Or(in.Owner, "-")),
				in.Created.Local().Format("2006-01-02 15:04"), intake.TerminalSafe(in.Title))
		}
		return tw.Flush()
	case "show":
		if err := need(1, "an incident ID"); err != nil {
			return err
		}
		v, err := c.Incident(ctx, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(v)
		}
		return printIncident(e.stdout, v)
	case "assign":
		if err := need(2, "an incident ID and an owner"); err != nil {
			return err
		}
		return patch(pos[0], map[string]any{"owner": pos[1]})
	case "activate", "reopen":
		if err := need(1, "an incident ID"); err != nil {
			return err
		}
		return patch(pos[0], map[string]any{"status": "Active"})
	case "close":
		if len(pos) < 2 || len(pos) > 3 {
			fs.Usage()
			return errors.New("incidents close needs an incident ID and a classification (and optionally a reason)")
		}
		fields := map[string]any{"status": "Closed", "classification": pos[1]}
		if len(pos) == 3 {
			fields["classificationReason"] = pos[2]
		}
		if *comment != "" {
			fields["classificationComment"] = *comment
		}
		return patch(pos[0], fields)
	case "comment":
		if err := need(2, "an incident ID and the comment text"); err != nil {
			return err
		}
		res, err := c.Comment(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(res)
		}
		fmt.Fprintf(e.stdout, "%s: comment %s added\n", intake.TerminalSafe(pos[0]), intake.TerminalSafe(res.CommentID))
		return nil
	}
	fs.Usage()
	return fmt.Errorf("unknown subcommand %q", sub)
}

func printIncident(w io.Writer, v intake.IncidentView) error {
	inc := v.Incident
	fmt.Fprintf(w, "%s  %s\n", intake.TerminalSafe(inc.ID), intake.TerminalSafe(v.Summary))
	fmt.Fprintf(w, "  status %s · severity %s · owner %s", intake.TerminalSafe(inc.Status), intake.TerminalSafe(inc.Severity), intake.TerminalSafe(cmp.Or(cmp.Or(inc.Owner.Email, inc.Owner.UserPrincipalName), "-")))
	if v.Classification != "" {
		fmt.Fprintf(w, " · %s %s", intake.TerminalSafe(v.Classification), intake.TerminalSafe(v.ClassificationReason))
	}
	fmt.Fprintln(w)
	if inc.Impact != nil {
		fmt.Fprintf(w, "  impact: %s\n", intake.TerminalSafe(inc.Impact.Statement))
	}
	if v.Rule != "" {
		fmt.Fprintf(w, "  creation rule: %s\n", intake.TerminalSafe(v.Rule))
	}
	fmt.Fprintf(w, "  alerts (%d):\n", len(inc.Alerts)+v.AlertsDropped)
	for _, a := range inc.Alerts {
		fmt.Fprintf(w, "    %s  %s  %s  %s\n", intake.TerminalSafe(a.VendorOriginalID), intake.TerminalSafe(a.Severity), intake.TerminalSafe(cmp.Or(a.Status, "-")), intake.TerminalSafe(a.BareTitle()))
	}
	if len(inc.Devices) > 0 {
		fmt.Fprintln(w, "  devices:")
		for _, d := range inc.Devices {
			fmt.Fprintf(w, "    %s  %s  %s\n", intake.TerminalSafe(d.DisplayName()), intake.TerminalSafe(cmp.Or(d.Type, "?")), intake.TerminalSafe(strings.Trim(d.Site+" / "+d.Zone, " /")))
		}
	}
	if len(v.Playbooks) > 0 {
		fmt.Fprintln(w, "  playbooks:")
		for _, p := range v.Playbooks {
			fmt.Fprintf(w, "    %s  %s  %s\n", intake.TerminalSafe(p.Playbook), intake.TerminalSafe(p.Status), intake.TerminalSafe(p.WorkflowID))
		}
	}
	if len(v.Tasks) > 0 {
		fmt.Fprintln(w, "  tasks:")
		for _, t := range v.Tasks {
			fmt.Fprintf(w, "    #%d %s  %s\n", t.ID, intake.TerminalSafe(t.Status), intake.TerminalSafe(t.Title))
		}
	}
	fmt.Fprintf(w, "  comments: %d\n  history:\n", len(v.Comments))
	for _, h := range v.Timeline {
		fmt.Fprintf(w, "    %s  %-18s %s\n", h.At.Local().Format("2006-01-02 15:04:05"), intake.TerminalSafe(h.Actor), intake.TerminalSafe(h.Text))
	}
	return nil
}

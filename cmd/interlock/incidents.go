package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
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

// incidentsCmd is one `interlock incidents` call: its flags, the subcommand with its positional
// arguments, and the intake's API.
type incidentsCmd struct {
	e   env
	fs  *flag.FlagSet
	sub string
	pos []string
	c   *intake.APIClient

	asJSON, all                         bool
	status, severity, site, line, owner string
	limit                               int
	comment                             string
	timeout                             time.Duration
}

func runIncidents(ctx context.Context, e env, args []string) error {
	ic, err := parseIncidents(e, args)
	if err != nil || ic == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ic.timeout)
	defer cancel()
	return ic.run(ctx)
}

// parseIncidents reads the subcommand, the flags (before or after the positional arguments) and the
// config; a nil command with a nil error means the help was asked for and printed.
func parseIncidents(e env, args []string) (*incidentsCmd, error) {
	fs, cfgPath := newFlags(e, "incidents", incidentsSynopsis)
	ic := &incidentsCmd{e: e, fs: fs}
	base := fs.String("url", "", "intake base URL (default: intake.publicURL)")
	token := fs.String("token", e.getenv("INTERLOCK_TOKEN"), "bearer token (env INTERLOCK_TOKEN; default: the first of intake.tokens)")
	actor := fs.String("actor", "cli:"+cmp.Or(e.getenv("USER"), "unknown"), "who makes the change, for the incident's history")
	fs.BoolVar(&ic.asJSON, "json", false, "print the intake's JSON answer")
	fs.BoolVar(&ic.all, "all", false, "list: closed incidents too")
	fs.StringVar(&ic.status, "status", "", "list: only this status (New, Active, Closed)")
	fs.StringVar(&ic.severity, "severity", "", "list: only this severity")
	fs.StringVar(&ic.site, "site", "", "list: only this site")
	fs.StringVar(&ic.line, "line", "", "list: only this production line")
	fs.StringVar(&ic.owner, "owner", "", "list: only this owner")
	fs.IntVar(&ic.limit, "limit", 50, "list: at most this many")
	fs.StringVar(&ic.comment, "comment", "", "close: the classification comment")
	fs.DurationVar(&ic.timeout, "timeout", time.Minute, "give up after this long (503 answers are retried)")
	if len(args) == 0 {
		fs.Usage()
		return nil, errors.New("incidents needs a subcommand: list, show, assign, activate, close, reopen or comment")
	}
	sub, rest := args[0], args[1:]
	if sub == "-h" || sub == "--help" || sub == "help" {
		fs.SetOutput(e.stdout)
		fs.Usage()
		return nil, nil
	}
	ic.sub = sub
	// Flags may come before or after the positional arguments.
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		rest = fs.Args()
		if len(rest) > 0 {
			ic.pos, rest = append(ic.pos, rest[0]), rest[1:]
		}
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return nil, err
	}
	if *token == "" {
		*token, _, _ = strings.Cut(cfg.Intake.Tokens.Value(), ",")
	}
	ic.c = &intake.APIClient{
		HTTP: &http.Client{Timeout: 30 * time.Second}, BaseURL: cmp.Or(strings.TrimRight(*base, "/"), strings.TrimRight(cfg.Intake.PublicURL, "/")),
		Token: strings.TrimSpace(*token), HMACSecret: []byte(cfg.Intake.HMACSecret.Value()), Actor: *actor, Progress: e.stderr,
	}
	return ic, nil
}

// run runs the subcommand.
func (ic *incidentsCmd) run(ctx context.Context) error {
	pos := ic.pos
	switch ic.sub {
	case "list":
		if err := ic.need(0, "no arguments"); err != nil {
			return err
		}
		return ic.list(ctx)
	case "show":
		if err := ic.need(1, "an incident ID"); err != nil {
			return err
		}
		v, err := ic.c.Incident(ctx, pos[0])
		return ic.print(v, err, func() error { return printIncident(ic.e.stdout, v) })
	case "assign":
		if err := ic.need(2, "an incident ID and an owner"); err != nil {
			return err
		}
		return ic.patch(ctx, pos[0], map[string]any{"owner": pos[1]})
	case "activate", "reopen":
		if err := ic.need(1, "an incident ID"); err != nil {
			return err
		}
		return ic.patch(ctx, pos[0], map[string]any{"status": "Active"})
	case "close":
		return ic.close(ctx)
	case "comment":
		if err := ic.need(2, "an incident ID and the comment text"); err != nil {
			return err
		}
		res, err := ic.c.Comment(ctx, pos[0], pos[1])
		return ic.print(res, err, func() error {
			fmt.Fprintf(ic.e.stdout, "%s: comment %s added\n", intake.TerminalSafe(pos[0]), intake.TerminalSafe(res.CommentID))
			return nil
		})
	}
	ic.fs.Usage()
	return fmt.Errorf("unknown subcommand %q", ic.sub)
}

// need checks that the subcommand got n positional arguments, what says which.
func (ic *incidentsCmd) need(n int, what string) error {
	if len(ic.pos) != n {
		ic.fs.Usage()
		return fmt.Errorf("incidents %s needs %s", ic.sub, what)
	}
	return nil
}

// print prints the intake's answer v: as JSON with --json, else through text; err is the call's.
func (ic *incidentsCmd) print(v any, err error, text func() error) error {
	if err != nil {
		return err
	}
	if ic.asJSON {
		enc := json.NewEncoder(ic.e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text()
}

// list prints the incidents the filters select, as a table.
func (ic *incidentsCmd) list(ctx context.Context) error {
	q := url.Values{}
	for k, v := range map[string]string{"status": ic.status, "severity": ic.severity, "site": ic.site, "line": ic.line, "owner": ic.owner} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !ic.all && ic.status == "" {
		q.Set("open", "true")
	}
	q.Set("limit", fmt.Sprint(ic.limit))
	list, err := ic.c.ListIncidents(ctx, q)
	return ic.print(list, err, func() error {
		if len(list) == 0 {
			fmt.Fprintln(ic.e.stdout, "no incidents")
			return nil
		}
		tw := tabwriter.NewWriter(ic.e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tOWNER\tCREATED\tTITLE")
		for _, in := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", intake.TerminalSafe(in.ID), intake.TerminalSafe(in.Status), intake.TerminalSafe(in.Severity), intake.TerminalSafe(cmp.Or(in.Owner, "-")),
				in.Created.Local().Format("2006-01-02 15:04"), intake.TerminalSafe(in.Title))
		}
		return tw.Flush()
	})
}

// close closes an incident with a classification, and optionally a reason and a comment.
func (ic *incidentsCmd) close(ctx context.Context) error {
	pos := ic.pos
	if len(pos) < 2 || len(pos) > 3 {
		ic.fs.Usage()
		return errors.New("incidents close needs an incident ID and a classification (and optionally a reason)")
	}
	fields := map[string]any{"status": "Closed", "classification": pos[1]}
	if len(pos) == 3 {
		fields["classificationReason"] = pos[2]
	}
	if ic.comment != "" {
		fields["classificationComment"] = ic.comment
	}
	return ic.patch(ctx, pos[0], fields)
}

// patch changes an incident's fields and prints what changed.
func (ic *incidentsCmd) patch(ctx context.Context, id string, fields map[string]any) error {
	res, err := ic.c.Patch(ctx, id, fields)
	return ic.print(res, err, func() error {
		if len(res.Changes) == 0 {
			fmt.Fprintf(ic.e.stdout, "%s: nothing to change (status %s)\n", intake.TerminalSafe(id), intake.TerminalSafe(res.Status))
			return nil
		}
		fmt.Fprintf(ic.e.stdout, "%s: %s\n", intake.TerminalSafe(id), intake.TerminalSafe(strings.Join(res.Changes, "; ")))
		return nil
	})
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

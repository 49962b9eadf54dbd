package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/worker"
)

const rulesUsage = `Usage:
  interlock rules check [FILE]                    validate a rules file and list its rules
  interlock rules test --incident FILE [RULES]    dry run: which rules match, in which order, what they do
  interlock rules env                             print the condition environment (variables, helpers)
  interlock rules default                         print the built-in default rules

Without a rules file, the built-in default rules are used (or intake.rulesFile from --config).`

func runRules(_ context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, rulesUsage)
		return errors.New("rules needs a subcommand")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "--help", "help":
		fmt.Fprintln(e.stdout, rulesUsage)
		return nil
	case "env":
		fmt.Fprint(e.stdout, rules.EnvironmentDoc())
		return nil
	case "default":
		_, err := e.stdout.Write(rules.DefaultRules())
		return err
	case "check", "test":
	default:
		fmt.Fprintln(e.stderr, rulesUsage)
		return fmt.Errorf("unknown rules subcommand %q", sub)
	}
	fs, cfgPath := newFlags(e, "rules "+sub, "rules "+sub+" [flags] [RULES-FILE]")
	incidentFile := ""
	at := ""
	if sub == "test" {
		fs.StringVar(&incidentFile, "incident", "", "incident payload (Sentinel trigger body, Defender alert record or Interlock's form)")
		fs.StringVar(&at, "at", "", "evaluate as of this time (RFC 3339), for rule expiry; default now")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	known := worker.PlaybookNames(worker.Playbooks(cfg.Playbooks))
	file := cfg.Intake.RulesFile
	if fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	var eng *rules.Engine
	if file == "" {
		eng, err = rules.Default(known)
		file = "(built-in default rules)"
	} else {
		eng, err = rules.Load(file, known)
	}
	if err != nil {
		return err
	}
	if sub == "check" {
		rules.Check(e.stdout, eng)
		fmt.Fprintf(e.stdout, "%s: ok, %d rules (%d enabled)\n", file, eng.Len(), eng.Enabled())
		return nil
	}
	if incidentFile == "" {
		return errors.New("rules test needs --incident FILE")
	}
	data, err := os.ReadFile(incidentFile)
	if err != nil {
		return err
	}
	ev, err := incident.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", incidentFile, err)
	}
	now := time.Now()
	if at != "" {
		if now, err = time.Parse(time.RFC3339, at); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	rules.Explain(e.stdout, eng, ev, now)
	return nil
}

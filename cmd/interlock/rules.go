package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
)

const rulesUsage = `Usage:
  interlock rules check [FILE]                    validate a rules file and list its rules
                                                  (automation rules and incident creation rules)
  interlock rules test --incident FILE [RULES]    dry run: which rules match, in which order, what they do
                                                  (--enable-all: the disabled rules too)
  interlock rules test --alert FILE [RULES]       dry run of the incident creation rules on one Defender
                                                  for IoT alert record: rule, create, title, severity,
                                                  tactics, techniques, group key (--json: as JSON)
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
	incidentFile, alertFile := "", ""
	at := ""
	asJSON, enableAll := false, false
	if sub == "test" {
		fs.BoolVar(&enableAll, "enable-all", false, "evaluate the disabled rules too, as if turned on (the parity playbooks' rules ship disabled)")
		fs.StringVar(&incidentFile, "incident", "", "incident payload (Sentinel trigger body, Defender alert record or Interlock's form)")
		fs.StringVar(&alertFile, "alert", "", "one Defender for IoT alert record (SecurityAlert row); runs the incident creation rules")
		fs.StringVar(&at, "at", "", "evaluate as of this time (RFC 3339), for rule expiry; default now")
		fs.BoolVar(&asJSON, "json", false, "with --alert: print the creation decision as JSON instead of the report")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	file := cfg.Intake.RulesFile
	if fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	eng, file, err := loadRules(cfg, file)
	if err != nil {
		return err
	}
	if enableAll {
		if on := eng.EnableAll(); len(on) > 0 {
			fmt.Fprintf(e.stdout, "Turned on for this dry run: %s\n", strings.Join(on, "; "))
		}
	}
	if sub == "check" {
		rules.Check(e.stdout, eng)
		fmt.Fprintf(e.stdout, "%s: ok, %d rules (%d enabled), %d incident rules\n", file, eng.Len(), eng.Enabled(), len(eng.IncidentRules()))
		return nil
	}
	switch {
	case incidentFile != "" && alertFile != "":
		return errors.New("rules test takes --incident FILE or --alert FILE, not both")
	case alertFile != "":
		return testAlert(e, eng, alertFile, asJSON)
	case incidentFile == "":
		return errors.New("rules test needs --incident FILE or --alert FILE")
	case asJSON:
		return errors.New("--json goes with --alert")
	}
	return testIncident(e, eng, incidentFile, at)
}

// loadRules loads the rules file, or the built-in default rules when file is "", and names what it
// loaded.
func loadRules(cfg config.Config, file string) (eng *rules.Engine, name string, err error) {
	known := playbooks.Shipped(cfg.Playbooks).Names()
	name = file
	if file == "" {
		eng, err = rules.Default(known)
		name = "(built-in default rules)"
	} else {
		eng, err = rules.Load(file, known)
	}
	if err != nil {
		return nil, "", err
	}
	eng.SetEngineeringWorkstationTypes(playbooks.WorkstationTypes(cfg.Playbooks)) // as the worker and intake do
	return eng, name, nil
}

// testIncident is `rules test --incident FILE`: which rules match the incident, as of at ("" for now).
func testIncident(e env, eng *rules.Engine, path, at string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ev, err := incident.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
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

// testAlert is `rules test --alert FILE`: the incident creation rules' decision for one alert record.
func testAlert(e env, eng *rules.Engine, path string, asJSON bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	alert, err := incident.ParseAlertRecord(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !asJSON {
		rules.ExplainIncident(e.stdout, eng, alert)
		return nil
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(eng.DecideIncident(alert))
}

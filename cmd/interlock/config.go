package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/safetext"
)

func runConfig(_ context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "docs") {
		fmt.Fprintln(e.stderr, "Usage: interlock config check [--config FILE] | interlock config docs")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("config needs a subcommand: check or docs")
	}
	if args[0] == "docs" {
		fmt.Fprint(e.stdout, config.MarkdownTable())
		return nil
	}
	fs, path := newFlags(e, "config check", "config check [--config FILE | FILE]")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		*path = fs.Arg(0)
	}
	cfg, err := config.Load(*path, e.getenv)
	if ferrs, ok := errors.AsType[*config.Errors](err); ok {
		for _, fe := range ferrs.List {
			fmt.Fprintf(e.stdout, "%s: %s\n", fe.Key, fe.Msg)
		}
		return fmt.Errorf("%d problem(s) in %s", len(ferrs.List), displayPath(*path))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: ok\n", displayPath(*path))
	if *path == "" {
		fmt.Fprintln(e.stdout, "No config file given (--config, a FILE argument or INTERLOCK_CONFIG): the defaults are in use,")
		fmt.Fprintln(e.stdout, "with the INTERLOCK_* environment variables over them. Effective values ('interlock config docs' explains each):")
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, kv := range config.Values(cfg, e.getenv) {
			v := strconv.Quote(kv.Value)
			if kv.Secret {
				v = kv.Value
			}
			v = safetext.Clip(v, 90)
			if kv.FromEnv {
				v += "  (from env)"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", kv.Key, v)
		}
		return tw.Flush()
	}
	return nil
}

func displayPath(p string) string {
	if p == "" {
		return "(defaults)"
	}
	return p
}

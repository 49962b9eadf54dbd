// Command interlock is Interlock's one binary: the dev stack, the worker, the intake, and the tools
// around them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is what every command gets from the process, so tests can run commands in-process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"dev", "run the whole stack on this machine: Temporal dev server, Mailpit, ServiceNow stand-in, worker, intake", runDev},
		{"worker", "run a worker: poll the task queue and run playbooks and activities", runWorker},
		{"serve", "run the HTTP intake: incident webhooks, playbook runs, answer links, health, metrics", runServe},
		{"replica", "run worker and intake in one process, the production shape: scale out with N identical replicas", runReplica},
		{"trigger", "post an incident payload (or --alerts: alert records) to the intake and print what it started", runTrigger},
		{"incidents", "list, show, assign, close and comment Interlock's own incidents (incidents list|show|assign|close|…)", runIncidents},
		{"rules", "check a rules file, or dry-run the rules against an incident (rules check|test)", runRules},
		{"config", "validate a config file or print the documented keys (config check|docs)", runConfig},
		{"standin", "serve the local ServiceNow stand-in on its own (not a real instance)", runStandin},
		{"workbook", "rebuild the workbook's store from Temporal (workbook rebuild)", runWorkbook},
		{"bench", "measure throughput and latency of the running stack against the raw Temporal ceiling", runBench},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Interlock: OT security playbooks on Temporal.\n\nUsage: interlock <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'interlock <command> --help' for a command's flags.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], env{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr})
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "interlock:", err)
		}
		os.Exit(1)
	}
}

// errReported is returned once the error has been printed, ahead of the usage that follows it.
var errReported = errors.New("reported")

// usageError prints the error first, where a reader looks, then the usage.
func usageError(e env, format string, args ...any) error {
	fmt.Fprintf(e.stderr, "interlock: "+format+"\n\n", args...)
	usage(e.stderr)
	return fmt.Errorf(format+": %w", append(args, errReported)...)
}

func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return usageError(e, "no command given")
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(e.stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return usageError(e, "unknown command %q", args[0])
}

// newFlags makes a command's flag set with a usage line and the common --config flag.
func newFlags(e env, name, synopsis string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("interlock "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfg := fs.String("config", e.getenv("INTERLOCK_CONFIG"), "config file (YAML); env INTERLOCK_CONFIG")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: interlock %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs, cfg
}

// profileFlag adds --cpuprofile to a long-running command; the returned start begins the profile
// when the flag was given and returns the function that ends it (a no-op otherwise).
func profileFlag(fs *flag.FlagSet) (start func() (stop func(), err error)) {
	path := fs.String("cpuprofile", "", "write a CPU profile of this process to this file until it stops (go tool pprof)")
	return func() (func(), error) {
		if *path == "" {
			return func() {}, nil
		}
		return startCPUProfile(*path)
	}
}

func runVersion(_ context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("interlock version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: interlock version\n\nPrints this binary's version: the git description 'make build' stamps in, or \"dev\" for 'go run' and 'go build'.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "interlock", version)
	return nil
}

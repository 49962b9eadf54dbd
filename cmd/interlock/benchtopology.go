package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/bench"
	"github.com/interlock-soar/interlock/internal/devservices"
	"github.com/interlock-soar/interlock/internal/topology"
)

// benchTopology is a deployment the bench launched itself, and how to take it down.
type benchTopology struct {
	top  *topology.Topology
	dir  string
	keep bool
}

// startBenchTopology launches o's shape, workers (replicas) and intakes as processes of this binary
// against a fresh Temporal server, in o.Dir (a temporary folder when empty, removed by stop); it fills
// in the binaries and, with postgres, the cluster.
func startBenchTopology(ctx context.Context, o topology.Options, postgres bool, progress io.Writer) (*benchTopology, error) {
	bin, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("topology: find the interlock binary: %w", err)
	}
	tools, err := devservices.ToolsDir()
	if err != nil {
		return nil, err
	}
	temporalBin, err := devservices.Ensure(ctx, tools, devservices.Temporal(), progress)
	if err != nil {
		return nil, err
	}
	mailpitBin, err := devservices.Ensure(ctx, tools, devservices.Mailpit(), progress)
	if err != nil {
		return nil, err
	}
	var cluster *devservices.ClusterBinaries
	if postgres {
		bins, err := devservices.EnsureCluster(ctx, tools, progress)
		if err != nil {
			return nil, err
		}
		cluster = &bins
	}
	dir := o.Dir
	bt := &benchTopology{dir: dir, keep: dir != ""}
	if dir == "" {
		if bt.dir, err = os.MkdirTemp("", "interlock-bench-"); err != nil {
			return nil, fmt.Errorf("topology: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	temporalKind := "Temporal dev server"
	if postgres {
		temporalKind = "Temporal server on PostgreSQL"
	}
	fmt.Fprintf(progress, "starting the %s topology (%s, Mailpit, ServiceNow stand-in, %s) in %s…\n", o.Shape, temporalKind, members(o.Shape, o.Workers, o.Intakes), bt.dir)
	o.Bin, o.TemporalBin, o.MailpitBin, o.Cluster, o.Dir = bin, temporalBin, mailpitBin, cluster, bt.dir
	bt.top, err = topology.Start(ctx, o)
	if err != nil {
		bt.removeDir()
		return nil, err
	}
	return bt, nil
}

// configure points the bench at the deployment and names its processes for the CPU/RSS report.
func (bt *benchTopology) configure(cfg *bench.Config, shape topology.Shape, workers, intakes int) {
	top := bt.top
	cfg.Topology = fmt.Sprintf("%s: %s, launched by the bench (state and logs in %s)", shape, members(shape, workers, intakes), bt.dir)
	cfg.IntakeURLs, cfg.IntakeToken = top.IntakeURLs(), ""
	cfg.TemporalAddress, cfg.Namespace = top.Temporal.Addr(), "default"
	cfg.MailpitURL = top.Mailpit.UIURL()
	cfg.ServiceNowURL, cfg.ServiceNowUser, cfg.ServiceNowPassword = top.ServiceNowURL, top.ServiceNowUser, top.ServiceNowPassword
	cfg.Processes = []bench.Process{
		temporalProcess(top),
		{Role: "mailpit", Covers: "SMTP server and message store", PID: top.Mailpit.PID()},
		{Role: "servicenow stand-in", Covers: "interlock standin", PID: top.StandIn.PID()},
	}
	covers := map[string]string{
		topology.RoleWorker:  "interlock worker: playbooks + activities",
		topology.RoleIntake:  "interlock serve: HTTP intake, rules, workflow starts",
		topology.RoleReplica: "interlock replica: worker + intake, one process, one Temporal client",
	}
	for _, m := range top.Members() {
		cfg.Processes = append(cfg.Processes, bench.Process{Role: m.Name(), Covers: covers[m.Role], PID: m.PID})
	}
}

// startChaos kills and restarts parts of the deployment while the bench runs (topology.Chaos); the
// function it returns ends the chaos once the deployment is whole again and says what it did.
func (bt *benchTopology) startChaos(ctx context.Context, every time.Duration) func() topology.ChaosReport {
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan topology.ChaosReport, 1)
	go func() {
		done <- bt.top.Chaos(cctx, topology.ChaosOptions{
			KillEvery: every, RestartAfter: time.Second,
			KillIntakeAfter: 5 * time.Second, RestartTemporalAfter: 10 * time.Second,
			Seed: uint64(time.Now().UnixNano()),
		})
	}()
	return func() topology.ChaosReport {
		cancel()
		return <-done
	}
}

// reportChaos prints what the chaos did; a kill or restart that failed fails the bench.
func reportChaos(w io.Writer, rep topology.ChaosReport) error {
	fmt.Fprintf(w, "\nChaos: %s\n", rep)
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	if len(rep.Errors) > 0 {
		return fmt.Errorf("chaos: %d kills or restarts failed", len(rep.Errors))
	}
	return nil
}

// stop takes the deployment down and removes its folder unless it was given.
func (bt *benchTopology) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := bt.top.Stop(ctx)
	bt.removeDir()
	return err
}

func (bt *benchTopology) removeDir() {
	if !bt.keep {
		_ = os.RemoveAll(bt.dir)
	}
}

func temporalProcess(top *topology.Topology) bench.Process {
	if top.Cluster != nil {
		return bench.Process{Role: "temporal server", Covers: "Temporal frontend, history, matching, worker services; persistence in PostgreSQL", PID: top.Temporal.PID()}
	}
	return bench.Process{Role: "temporal dev server", Covers: "Temporal frontend, history, matching and SQLite persistence, one process", PID: top.Temporal.PID()}
}

func members(shape topology.Shape, workers, intakes int) string {
	if shape == topology.Combined {
		return plural(workers, "replica")
	}
	return plural(workers, "worker") + " + " + plural(max(intakes, 1), "intake")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// envFlag collects repeated KEY=VALUE flags.
type envFlag []string

func (f *envFlag) String() string { return strings.Join(*f, " ") }

func (f *envFlag) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || !strings.HasPrefix(k, "INTERLOCK_") {
		return fmt.Errorf("want INTERLOCK_KEY=VALUE, not %q", v)
	}
	*f = append(*f, v)
	return nil
}

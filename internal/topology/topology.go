// Package topology runs an Interlock deployment on this machine as real OS processes of the interlock
// binary, the way docker compose or a cluster runs them, against one Temporal dev server with Mailpit
// and the ServiceNow stand-in: either split (N `interlock worker` and M `interlock serve`) or combined
// (N `interlock replica`). The bench measures the shapes side by side with it, and chaos tests kill
// and restart its members one by one.
package topology

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"golang.org/x/sys/unix"

	"github.com/interlock-soar/interlock/internal/affinity"
	"github.com/interlock-soar/interlock/internal/devservices"
	"github.com/interlock-soar/interlock/workflows"
)

// Shape is how the worker and the intake are laid out over processes.
type Shape string

const (
	// Split runs workers and intakes as separate processes: eager start never applies.
	Split Shape = "split"
	// Combined runs replicas, each worker and intake in one process on one Temporal client.
	Combined Shape = "combined"
)

// ParseShape reads split or combined.
func ParseShape(s string) (Shape, error) {
	switch Shape(s) {
	case Split, Combined:
		return Shape(s), nil
	}
	return "", fmt.Errorf("topology %q: want split or combined", s)
}

// Roles of the members.
const (
	RoleWorker  = "worker"
	RoleIntake  = "intake"
	RoleReplica = "replica"
)

// Options describe the deployment to run.
type Options struct {
	Shape Shape
	// Workers is the number of worker processes (split) or replicas (combined); at least 1.
	Workers int
	// Intakes is the number of intake processes of the split shape; zero means 1.
	Intakes int
	// Bin is the interlock binary; TemporalBin and MailpitBin the pinned tools (devservices.Ensure).
	Bin, TemporalBin, MailpitBin string
	// Cluster, when set, runs Temporal as the production shape does: the Temporal server on its own
	// PostgreSQL (devservices.StartCluster) instead of the CLI's dev server on SQLite.
	Cluster *devservices.ClusterBinaries
	// Dir holds the Temporal and Mailpit state and every process's log.
	Dir string
	// Env is added to every Interlock process's environment after the topology's own settings, so it
	// can override them (INTERLOCK_INTAKE_MAX_BACKLOG=0, tuning).
	Env []string
	// ProfileDir, when set, has every Interlock process write a CPU profile there (--cpuprofile
	// ProfileDir/<member>.pprof), finished when it stops.
	ProfileDir string
	// TemporalCPUs, when set, pins Temporal (and its PostgreSQL) to these CPUs once started, as if it ran
	// on machines of its own; the caller pins itself and so everything else it starts (affinity.Pin).
	TemporalCPUs *unix.CPUSet
	Logger       *slog.Logger
}

// Member is one Interlock process.
type Member struct {
	Role  string
	Index int // within its role
	// URL is the intake's base URL (intakes and replicas), "" for a worker.
	URL string
	PID int
}

// Name is role and index, as the logs are named: worker-0, intake-1, replica-2.
func (m Member) Name() string { return m.Role + "-" + strconv.Itoa(m.Index) }

// Topology is the running deployment.
type Topology struct {
	Temporal *devservices.Process
	// Cluster is the PostgreSQL-backed cluster Temporal belongs to (Options.Cluster), else nil.
	Cluster *devservices.Cluster
	Mailpit *devservices.Process
	StandIn *devservices.Process
	// ServiceNowURL, ServiceNowUser and ServiceNowPassword reach the stand-in.
	ServiceNowURL, ServiceNowUser, ServiceNowPassword string

	opts   Options
	log    *slog.Logger
	client client.Client // for readiness: is a worker polling?
	// secret signs the answer links: every worker signs what every intake verifies.
	secret string
	// publicURL is the first intake's, for the answer links in emails.
	publicURL string

	mu      sync.Mutex
	members []member
}

type member struct {
	Member
	proc *devservices.Process
}

// Start brings the deployment up and returns once every process is ready: Temporal, Mailpit, the
// stand-in, then the workers and intakes (or replicas), each polling or answering /readyz. On error
// what was started is stopped again.
func Start(ctx context.Context, opts Options) (*Topology, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	t := &Topology{opts: opts, log: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))}
	if err := t.start(ctx); err != nil {
		return nil, errors.Join(err, t.Stop(context.WithoutCancel(ctx)))
	}
	return t, nil
}

func (o *Options) check() error {
	if _, err := ParseShape(string(o.Shape)); err != nil {
		return err
	}
	if o.Workers < 1 || o.Intakes < 0 {
		return fmt.Errorf("topology: want at least 1 worker (or replica) and no negative intakes, not %d and %d", o.Workers, o.Intakes)
	}
	if o.Shape == Combined && o.Intakes > 0 {
		return errors.New("topology: a combined shape has no separate intakes; every replica is one")
	}
	if o.Shape == Split {
		o.Intakes = cmp.Or(o.Intakes, 1)
	}
	if o.Bin == "" || o.TemporalBin == "" || o.MailpitBin == "" || o.Dir == "" {
		return errors.New("topology: Bin, TemporalBin, MailpitBin and Dir are required")
	}
	return nil
}

func (t *Topology) start(ctx context.Context) error {
	attrs := workflows.SearchAttributes()
	sas := make([]devservices.SearchAttribute, len(attrs))
	for i, sa := range attrs {
		sas[i] = devservices.SearchAttribute(sa)
	}
	var err error
	if b := t.opts.Cluster; b != nil {
		csas := make([]devservices.SearchAttribute, len(sas))
		copy(csas, sas)
		t.Cluster, err = devservices.StartCluster(ctx, devservices.ClusterOptions{
			// Its own throwaway folder: PostgreSQL runs as another user when root, who cannot enter Dir.
			Binaries: *b, SearchAttributes: csas, Logger: t.log,
		})
		if err != nil {
			return fmt.Errorf("temporal cluster: %w", err)
		}
		t.Temporal = t.Cluster.Temporal
	} else if t.Temporal, err = devservices.StartTemporal(ctx, devservices.TemporalOptions{
		Bin: t.opts.TemporalBin, DBFile: filepath.Join(t.opts.Dir, "temporal.db"), SearchAttributes: sas,
		LogFile: filepath.Join(t.opts.Dir, "temporal.log"), Logger: t.log,
	}); err != nil {
		return fmt.Errorf("temporal dev server: %w", err)
	}
	if err := t.pinTemporal(); err != nil {
		return err
	}
	t.client, err = client.DialContext(ctx, client.Options{
		HostPort: t.Temporal.Addr(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return fmt.Errorf("temporal dev server: %w", err)
	}
	t.Mailpit, err = devservices.StartMailpit(ctx, devservices.MailpitOptions{
		Bin: t.opts.MailpitBin, DBFile: filepath.Join(t.opts.Dir, "mailpit.db"),
		LogFile: filepath.Join(t.opts.Dir, "mailpit.log"), Logger: t.log,
	})
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	if err := t.startStandIn(ctx); err != nil {
		return err
	}
	t.secret = randomSecret()
	plan, err := t.plan()
	if err != nil {
		return err
	}
	for _, m := range plan {
		if t.publicURL == "" && m.URL != "" {
			t.publicURL = m.URL
		}
	}
	for _, m := range plan {
		if err := t.startMember(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// plan lists the members to start with their addresses, workers before intakes so no intake starts
// runs nobody polls for.
func (t *Topology) plan() ([]Member, error) {
	var out []Member
	taken := map[string]bool{strings.TrimPrefix(t.ServiceNowURL, "http://"): true}
	add := func(role string, n int) error {
		for i := range n {
			m := Member{Role: role, Index: i}
			for role != RoleWorker && m.URL == "" {
				// Picked before any binds, so the kernel may hand out one port twice: pick again.
				addr, err := freeAddr()
				if err != nil {
					return err
				}
				if !taken[addr] {
					taken[addr], m.URL = true, "http://"+addr
				}
			}
			out = append(out, m)
		}
		return nil
	}
	if t.opts.Shape == Combined {
		return out, add(RoleReplica, t.opts.Workers)
	}
	if err := add(RoleWorker, t.opts.Workers); err != nil {
		return nil, err
	}
	return out, add(RoleIntake, t.opts.Intakes)
}

func (t *Topology) startStandIn(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	t.ServiceNowURL, t.ServiceNowUser, t.ServiceNowPassword = "http://"+addr, "interlock", randomSecret()
	t.StandIn, err = devservices.Start(ctx, devservices.Command{
		Name: "servicenow stand-in", Bin: t.opts.Bin, Args: []string{"standin", "--listen", addr}, Addr: addr,
		Env:     childEnv("INTERLOCK_SERVICENOW_USERNAME="+t.ServiceNowUser, "INTERLOCK_SERVICENOW_PASSWORD="+t.ServiceNowPassword),
		LogFile: filepath.Join(t.opts.Dir, "servicenow.log"),
		Ready:   func(ctx context.Context, _ int) error { return httpReady(ctx, t.ServiceNowURL+"/", false) },
		Logger:  t.log,
	})
	if err != nil {
		return fmt.Errorf("servicenow stand-in: %w", err)
	}
	return nil
}

// pinTemporal moves Temporal's processes to Options.TemporalCPUs, when set.
func (t *Topology) pinTemporal() error {
	if t.opts.TemporalCPUs == nil {
		return nil
	}
	pids := []int{t.Temporal.PID()}
	if t.Cluster != nil {
		pids = append(pids, t.Cluster.Postgres.PID())
	}
	for _, pid := range pids {
		if err := affinity.Pin(pid, *t.opts.TemporalCPUs); err != nil {
			return fmt.Errorf("topology: %w", err)
		}
	}
	return nil
}

// startMember starts one Interlock process and adds it to the members.
func (t *Topology) startMember(ctx context.Context, m Member) error {
	proc, err := t.launch(ctx, m)
	if err != nil {
		return err
	}
	m.PID = proc.PID()
	t.mu.Lock()
	t.members = append(t.members, member{Member: m, proc: proc})
	t.mu.Unlock()
	return nil
}

func (t *Topology) launch(ctx context.Context, m Member) (*devservices.Process, error) {
	args := []string{m.Role}
	if m.Role == RoleIntake {
		args = []string{"serve"}
	}
	if t.opts.ProfileDir != "" {
		args = append(args, "--cpuprofile", filepath.Join(t.opts.ProfileDir, m.Name()+".pprof"))
	}
	env := t.baseEnv()
	addr := strings.TrimPrefix(m.URL, "http://")
	if addr != "" {
		env = append(env, "INTERLOCK_INTAKE_LISTEN="+addr)
	}
	proc, err := devservices.Start(ctx, devservices.Command{
		Name: "interlock " + m.Name(), Bin: t.opts.Bin, Args: args, Addr: addr,
		Env:     childEnv(append(env, t.opts.Env...)...),
		LogFile: filepath.Join(t.opts.Dir, m.Name()+".log"),
		Ready:   t.memberReady(m),
		Logger:  t.log,
	})
	if err != nil {
		return nil, fmt.Errorf("interlock %s: %w", m.Name(), err)
	}
	return proc, nil
}

// baseEnv is the configuration every Interlock process shares: this Temporal, Mailpit and stand-in,
// write-backs to the log, unauthenticated on loopback, and the answer links of the first intake.
func (t *Topology) baseEnv() []string {
	smtpHost, smtpPort, _ := net.SplitHostPort(t.Mailpit.Addr())
	return []string{
		"INTERLOCK_LOG_FORMAT=json",
		"INTERLOCK_TEMPORAL_ADDRESS=" + t.Temporal.Addr(),
		// A stopped worker's in-flight attempts are retried elsewhere; stopping need not wait 30 s.
		"INTERLOCK_TEMPORAL_SHUTDOWN_TIMEOUT=2s",
		"INTERLOCK_SMTP_HOST=" + smtpHost,
		"INTERLOCK_SMTP_PORT=" + smtpPort,
		"INTERLOCK_SMTP_TLS_POLICY=none",
		"INTERLOCK_SERVICENOW_INSTANCE_URL=" + t.ServiceNowURL,
		"INTERLOCK_SERVICENOW_USERNAME=" + t.ServiceNowUser,
		"INTERLOCK_SERVICENOW_PASSWORD=" + t.ServiceNowPassword,
		"INTERLOCK_SENTINEL_WRITE_BACK=log",
		"INTERLOCK_INTAKE_ALLOW_UNAUTHENTICATED=true",
		"INTERLOCK_INTAKE_ANSWER_SECRET=" + t.secret,
		"INTERLOCK_INTAKE_PUBLIC_URL=" + t.publicURL,
		// One workbook store for the whole topology, in its folder rather than the working one.
		"INTERLOCK_WORKBOOK_DATABASE=" + filepath.Join(t.opts.Dir, "workbook.db"),
	}
}

// memberReady is ready once a worker polls the task queue (its pid is in the poller's identity, the
// SDK's default "pid@host@") and an intake answers /readyz; a replica must be both.
func (t *Topology) memberReady(m Member) func(ctx context.Context, pid int) error {
	return func(ctx context.Context, pid int) error {
		if m.URL != "" {
			if err := httpReady(ctx, m.URL+"/readyz", true); err != nil {
				return err
			}
		}
		if m.Role == RoleIntake {
			return nil
		}
		resp, err := t.client.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace:     "default",
			TaskQueue:     &taskqueuepb.TaskQueue{Name: workflows.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: enumspb.TASK_QUEUE_TYPE_WORKFLOW,
		})
		if err != nil {
			return err
		}
		prefix := strconv.Itoa(pid) + "@"
		if slices.ContainsFunc(resp.GetPollers(), func(p *taskqueuepb.PollerInfo) bool { return strings.HasPrefix(p.GetIdentity(), prefix) }) {
			return nil
		}
		return fmt.Errorf("pid %d does not poll %s yet", pid, workflows.TaskQueue)
	}
}

// Members lists the Interlock processes in start order: workers then intakes, or the replicas. The
// index into it is what Kill and Restart take.
func (t *Topology) Members() []Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Member, len(t.members))
	for i, m := range t.members {
		out[i] = m.Member
	}
	return out
}

// IntakeURLs are the base URLs that take requests (intakes or replicas), for round-robin posts.
func (t *Topology) IntakeURLs() []string {
	var urls []string
	for _, m := range t.Members() {
		if m.URL != "" {
			urls = append(urls, m.URL)
		}
	}
	return urls
}

// LogFile is member i's output.
func (t *Topology) LogFile(i int) string {
	return filepath.Join(t.opts.Dir, t.Members()[i].Name()+".log")
}

func (t *Topology) member(i int) (*devservices.Process, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 || i >= len(t.members) {
		return nil, fmt.Errorf("topology: no member %d (%d members)", i, len(t.members))
	}
	return t.members[i].proc, nil
}

// Kill ends member i with SIGKILL at once, as a crash would, and waits until it is gone.
func (t *Topology) Kill(i int) error {
	p, err := t.member(i)
	if err != nil {
		return err
	}
	return p.Kill()
}

// Restart stops member i if it still runs (SIGTERM, then SIGKILL) and starts it again with the same
// command line and address, returning once it is ready again.
func (t *Topology) Restart(ctx context.Context, i int) error {
	p, err := t.member(i)
	if err != nil {
		return err
	}
	if err := p.Restart(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	t.members[i].PID = p.PID()
	t.mu.Unlock()
	return nil
}

// Stop stops everything, intakes first (so nothing new is started), then workers, the stand-in,
// Mailpit and Temporal.
func (t *Topology) Stop(ctx context.Context) error {
	t.mu.Lock()
	members := slices.Clone(t.members)
	t.mu.Unlock()
	var errs []error
	stop := func(p *devservices.Process) {
		if p != nil {
			errs = append(errs, p.Stop(ctx))
		}
	}
	for i := len(members) - 1; i >= 0; i-- {
		stop(members[i].proc)
	}
	stop(t.StandIn)
	stop(t.Mailpit)
	if t.client != nil {
		t.client.Close()
	}
	if t.Cluster != nil {
		errs = append(errs, t.Cluster.Stop(ctx))
	} else {
		stop(t.Temporal)
	}
	return errors.Join(errs...)
}

// childEnv is this process's environment without its INTERLOCK_ settings (the deployment's config
// must not depend on who runs it), plus kv.
func childEnv(kv ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "INTERLOCK_") })
	return append(env, kv...)
}

// httpReady checks that url answers; with wantOK only a 200 will do.
func httpReady(ctx context.Context, url string, wantOK bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if wantOK && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// freeAddr is a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	port, err := devservices.FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

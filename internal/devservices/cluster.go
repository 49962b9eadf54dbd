package devservices

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// defaultRetention is the retention auto-setup gives the namespace it registers.
const defaultRetention = 24 * time.Hour

// ClusterBinaries are the programs a cluster runs.
type ClusterBinaries struct {
	Server      string // the Temporal server, as Ensure(TemporalServer()) returns it
	SQL         string // its SQL tool, as Ensure(TemporalSQL()) returns it
	PostgresDir string // PostgreSQL's server programs, as EnsurePostgres returns it
}

// EnsureCluster installs what a cluster needs and is missing: the pinned Temporal server and SQL tool
// into toolsDir (a few minutes, once), and PostgreSQL where EnsurePostgres can. Progress gets one line
// per install.
func EnsureCluster(ctx context.Context, toolsDir string, progress io.Writer) (ClusterBinaries, error) {
	var b ClusterBinaries
	var err error
	// PostgreSQL first: when it cannot be installed, say so before minutes of building.
	if b.PostgresDir, err = EnsurePostgres(ctx, toolsDir, progress); err != nil {
		return b, err
	}
	if b.Server, err = Ensure(ctx, toolsDir, TemporalServer(), progress); err != nil {
		return b, err
	}
	if b.SQL, err = Ensure(ctx, toolsDir, TemporalSQL(), progress); err != nil {
		return b, err
	}
	return b, nil
}

// ClusterOptions configures a Temporal cluster on PostgreSQL.
type ClusterOptions struct {
	Binaries ClusterBinaries
	// Dir holds the cluster's state: the database, the server config, the logs. It is created when
	// missing and kept by Stop, so a later start on it finds the same workflows. "" makes a temporary
	// folder, run without fsync (see PostgresOptions.Throwaway), that Stop removes unless KeepDir. When
	// we are root, PostgreSQL runs as another user who must pass through Dir's parents: see
	// AllowPostgresThrough.
	Dir     string
	KeepDir bool
	Port    int // frontend gRPC port on 127.0.0.1; 0 picks a free one. The server's other ports are free ones.
	// Namespace is registered besides "default" (which auto-setup registers) and gets the search
	// attributes; "" is "default".
	Namespace        string
	SearchAttributes []SearchAttribute
	StartTimeout     time.Duration // how long each server may take to get ready; 0 is two minutes
	Progress         io.Writer     // a line per step: initdb, schema, each server's start; nil discards
	Logger           *slog.Logger  // nil discards
}

// Cluster is a Temporal server on its own PostgreSQL. Both are Processes: a fault test can Kill and
// Restart the Temporal server (it comes back on the same ports and the same database) or the database.
type Cluster struct {
	Temporal *Process // frontend at Temporal.Addr()
	Postgres *Process // at Postgres.Addr(), user PostgresUser, password PostgresPassword
	dir      string
	remove   bool // Stop removes dir
}

// Dir is the cluster's state folder.
func (c *Cluster) Dir() string { return c.dir }

// StartCluster starts PostgreSQL (initdb on the first start), creates Temporal's databases and schemas
// when they are missing, starts the Temporal server and returns once its frontend answers, the
// namespaces exist and the search attributes are registered and usable. ctx bounds only the start.
func StartCluster(ctx context.Context, opts ClusterOptions) (_ *Cluster, err error) {
	b := opts.Binaries
	if b.Server == "" || b.SQL == "" || b.PostgresDir == "" {
		return nil, errors.New("start cluster: binaries missing; EnsureCluster finds them")
	}
	namespace := cmp.Or(opts.Namespace, "default")
	attrs, err := searchAttributeTypes(opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	progress := cmp.Or(opts.Progress, io.Discard)
	logger := cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	c := &Cluster{dir: opts.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "interlock-cluster-"); err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		c.remove = !opts.KeepDir
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	defer func() {
		if err != nil {
			_ = c.Stop(context.WithoutCancel(ctx))
		}
	}()
	if err := AllowPostgresThrough(c.dir); err != nil {
		return nil, err
	}

	fmt.Fprintf(progress, "starting PostgreSQL (%s)…\n", b.PostgresDir)
	c.Postgres, err = StartPostgres(ctx, PostgresOptions{
		BinDir:       b.PostgresDir,
		DataDir:      filepath.Join(c.dir, "postgres"),
		Throwaway:    opts.Dir == "",
		LogFile:      filepath.Join(c.dir, "postgres.log"),
		StartTimeout: opts.StartTimeout,
		Progress:     progress,
		Logger:       opts.Logger,
	})
	if err != nil {
		return nil, err
	}
	_, pgPort, _ := net.SplitHostPort(c.Postgres.Addr())
	port, _ := strconv.Atoi(pgPort)
	root := filepath.Join(c.dir, "temporal")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	began := time.Now()
	ran, err := setupSchema(ctx, b.SQL, filepath.Join(root, "schema-version"), port, func() {
		fmt.Fprintf(progress, "creating Temporal's databases and schemas (%s, %s)…\n", temporalDB, visibilityDB)
	})
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if ran {
		logger.Info("temporal schema set up", "took", time.Since(began).Round(time.Millisecond))
	}

	for attempt := 1; ; attempt++ {
		c.Temporal, err = startServer(ctx, opts, root, c.Postgres.Addr(), namespace, attrs, progress)
		// The server's eight other ports are picked here, and each can be taken before it binds it.
		if err == nil || attempt == 3 || !errors.Is(err, errExitedEarly) || ctx.Err() != nil {
			break
		}
		logger.Warn("temporal server exited while starting; retrying on fresh ports", "attempt", attempt, "err", err)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func startServer(ctx context.Context, opts ClusterOptions, root, postgresAddr, namespace string,
	attrs map[string]enumspb.IndexedValueType, progress io.Writer) (*Process, error) {
	free, err := freePorts(5, 0)
	if err != nil {
		return nil, err
	}
	member, err := freePorts(4, maxMembershipPort+1)
	if err != nil {
		return nil, err
	}
	ports := serverPorts{
		Frontend: cmp.Or(opts.Port, free[0]), FrontendHTTP: free[1], FrontendMembership: member[0],
		History: free[2], HistoryMembership: member[1],
		Matching: free[3], MatchingMembership: member[2],
		Worker: free[4], WorkerMembership: member[3],
	}
	if err := writeServerConfig(root, ports, postgresAddr); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports.Frontend))
	namespaces := []string{"default"}
	if namespace != "default" {
		namespaces = append(namespaces, namespace)
	}
	fmt.Fprintf(progress, "starting Temporal server %s on %s…\n", TemporalServer().Version, addr)
	p := &Process{
		name: "temporal server",
		bin:  opts.Binaries.Server,
		// No authorizer, like auto-setup: the frontend listens on loopback only.
		args:         []string{"--root", root, "--config", "config", "--env", "docker", "--allow-no-auth", "start"},
		addr:         addr,
		logFile:      filepath.Join(filepath.Dir(root), "temporal.log"),
		ready:        clusterReady(addr, namespaces, namespace, attrs, progress),
		startTimeout: cmp.Or(opts.StartTimeout, 2*time.Minute),
		log:          cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		tail:         newTailBuffer(32 << 10),
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Stop stops the Temporal server, then PostgreSQL, and removes a temporary folder unless KeepDir.
// Stopping twice is harmless.
func (c *Cluster) Stop(ctx context.Context) error {
	var errs []error
	if c.Temporal != nil {
		errs = append(errs, c.Temporal.Stop(ctx))
	}
	if c.Postgres != nil {
		errs = append(errs, c.Postgres.Stop(ctx))
	}
	if c.remove {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove cluster folder: %w", err))
		}
	}
	return errors.Join(errs...)
}

// clusterReady checks what a worker or starter needs: the frontend answers, the namespaces exist
// (registered as auto-setup registers "default", on the first start), the search attributes are
// registered, and the frontend knows them, and a history shard answers.
func clusterReady(addr string, namespaces []string, namespace string, attrs map[string]enumspb.IndexedValueType,
	progress io.Writer) func(context.Context) error {
	return func(ctx context.Context) error {
		c, err := dialProbe(ctx, addr, namespace)
		if err != nil {
			return err
		}
		defer c.Close()
		for _, ns := range namespaces {
			if err := ensureNamespace(ctx, c.WorkflowService(), ns, progress); err != nil {
				return err
			}
		}
		if err := ensureSearchAttributes(ctx, c.OperatorService(), namespace, attrs); err != nil {
			return err
		}
		if err := searchAttributesKnown(ctx, c, namespace, attrs); err != nil {
			return err
		}
		// A workflow that does not exist is looked up on its history shard: NotFound means the shard is
		// owned and answering, which after a crash takes a moment longer than the frontend.
		_, err = c.WorkflowService().DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
			Namespace: namespace,
			Execution: &commonpb.WorkflowExecution{WorkflowId: "interlock-readiness-probe-" + rand.Text()},
		})
		if _, ok := errors.AsType[*serviceerror.NotFound](err); !ok {
			return fmt.Errorf("history: %w", err)
		}
		return nil
	}
}

// ensureNamespace registers ns when it does not exist.
func ensureNamespace(ctx context.Context, ws workflowservice.WorkflowServiceClient, ns string, progress io.Writer) error {
	_, err := ws.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if _, ok := errors.AsType[*serviceerror.NamespaceNotFound](err); !ok {
		if err != nil {
			return fmt.Errorf("describe namespace %s: %w", ns, err)
		}
		return nil
	}
	fmt.Fprintf(progress, "registering namespace %s (retention %dh)…\n", ns, int(defaultRetention.Hours()))
	_, err = ws.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        ns,
		Description:                      "Registered by Interlock's devservices, as auto-setup registers its default namespace.",
		WorkflowExecutionRetentionPeriod: durationpb.New(defaultRetention),
	})
	if _, ok := errors.AsType[*serviceerror.NamespaceAlreadyExists](err); err != nil && !ok {
		return fmt.Errorf("register namespace %s: %w", ns, err)
	}
	return nil
}

// searchAttributesKnown checks that the frontend accepts a visibility query naming every attribute.
// On SQL visibility a custom attribute is an alias in the namespace record, which the frontend caches
// for a few seconds: until it has reloaded it, a start carrying the attribute is refused.
func searchAttributesKnown(ctx context.Context, c client.Client, namespace string, attrs map[string]enumspb.IndexedValueType) error {
	if len(attrs) == 0 {
		return nil
	}
	var terms []string
	for name := range attrs {
		terms = append(terms, name+" IS NULL")
	}
	_, err := c.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: namespace,
		Query:     strings.Join(terms, " OR "),
	})
	if err != nil {
		return fmt.Errorf("search attributes not usable yet: %w", err)
	}
	return nil
}

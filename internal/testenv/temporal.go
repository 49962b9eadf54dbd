// Package testenv gives integration tests the real Temporal dev server and Mailpit, the same pinned
// binaries `interlock dev` runs, installing them on first use. Tests run against them unless
// INTERLOCK_SKIP_INTEGRATION=1; without that, a missing tool is installed, never skipped, because
// nothing else proves the integration works.
//
// A package with many tests shares one server per test binary through an Env:
//
//	var env = testenv.New()
//
//	func TestMain(m *testing.M) { env.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		srv := env.Temporal(t)
//		... srv.Client ...
//	}
//
// Tests that kill or restart the server take their own with NewTemporal, so they don't disturb the
// others.
//
// INTERLOCK_TEST_PERSISTENCE=postgres runs all of them on a real Temporal cluster instead: the pinned
// Temporal server on its own PostgreSQL, set up as docker-compose.yml's auto-setup image sets it up
// (StartCluster). The default, sqlite, is the CLI's dev server.
package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/interlock-soar/interlock/internal/devservices"
	"github.com/interlock-soar/interlock/workflows"
)

// StartTimeout is how long testenv waits for a server to start. It covers a first run, which installs
// the tools (a few minutes each on two cores, one after the other when parallel test binaries want
// different ones: from a fresh clone with an empty build cache, on a busy 2-core machine, a test
// binary waited 18 minutes for the CLI, Mailpit and the Temporal server), plus the start.
const StartTimeout = 30 * time.Minute

// PersistenceEnv names the environment variable that chooses what env.Temporal, StartTemporal and
// NewTemporal start: "sqlite" (or unset) the CLI's dev server, "postgres" a cluster (StartCluster).
const PersistenceEnv = "INTERLOCK_TEST_PERSISTENCE"

// The persistence choices.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Persistence returns the backend PersistenceEnv asks for.
func Persistence() (string, error) {
	switch v := os.Getenv(PersistenceEnv); v {
	case "", SQLite:
		return SQLite, nil
	case Postgres:
		return Postgres, nil
	default:
		return "", fmt.Errorf("%s=%q: want %s or %s", PersistenceEnv, v, SQLite, Postgres)
	}
}

// Server is a running Temporal server with Interlock's search attributes registered: the CLI's dev
// server on SQLite, or a cluster on PostgreSQL.
type Server struct {
	HostPort  string
	Namespace string
	// Client is connected to the server and shared: don't Close it. It reconnects by itself after a
	// Restart of Process.
	Client  client.Client
	Process *devservices.Process // the Temporal server, for fault tests: Kill, Restart
	// Postgres is a cluster's database, which a fault test may Kill or Restart too; nil on the dev server.
	Postgres    *devservices.Process
	Persistence string // SQLite or Postgres
	DBFile      string // the dev server's SQLite file; "" on a cluster
	LogFile     string // the Temporal server's output
	dir         string
	cluster     *devservices.Cluster
}

// StartTemporal starts what PersistenceEnv asks for, on free loopback ports with fresh state in a
// temporary folder: the dev server (see StartDevServer) or a cluster (see StartCluster). Stop removes
// it all.
func StartTemporal(ctx context.Context) (*Server, error) {
	p, err := Persistence()
	if err != nil {
		return nil, err
	}
	if p == Postgres {
		return StartCluster(ctx)
	}
	return StartDevServer(ctx)
}

// StartDevServer installs the pinned Temporal CLI if needed and starts a dev server on free loopback
// ports with a fresh SQLite file in a temporary folder.
func StartDevServer(ctx context.Context) (*Server, error) {
	bin, err := ensure(ctx, devservices.Temporal())
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "interlock-temporal-")
	if err != nil {
		return nil, fmt.Errorf("temporal test server: %w", err)
	}
	s := &Server{
		Namespace:   "default",
		Persistence: SQLite,
		DBFile:      filepath.Join(dir, "temporal.db"),
		LogFile:     filepath.Join(dir, "temporal.log"),
		dir:         dir,
	}
	s.Process, err = devservices.StartTemporal(ctx, devservices.TemporalOptions{
		Bin:              bin,
		DBFile:           s.DBFile,
		LogFile:          s.LogFile,
		Namespace:        s.Namespace,
		SearchAttributes: searchAttributes(),
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.dial(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// StartCluster installs the pinned Temporal server and SQL tool if needed (and PostgreSQL, as root
// with apt-get) and starts a cluster on free loopback ports in a temporary folder: PostgreSQL without
// fsync, Temporal's databases and schemas, the server, the default namespace with Interlock's search
// attributes.
func StartCluster(ctx context.Context) (*Server, error) {
	tools, err := devservices.ToolsDir()
	if err != nil {
		return nil, err
	}
	// Progress goes to stderr, as for installs: go test shows it with -v or when the package fails.
	bins, err := devservices.EnsureCluster(ctx, tools, os.Stderr)
	if err != nil {
		return nil, err
	}
	c, err := devservices.StartCluster(ctx, devservices.ClusterOptions{
		Binaries:         bins,
		Namespace:        "default",
		SearchAttributes: searchAttributes(),
		Progress:         os.Stderr,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{
		Namespace:   "default",
		Process:     c.Temporal,
		Postgres:    c.Postgres,
		Persistence: Postgres,
		LogFile:     c.Temporal.LogFile(),
		dir:         c.Dir(),
		cluster:     c,
	}
	if err := s.dial(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func searchAttributes() []devservices.SearchAttribute {
	attrs := workflows.SearchAttributes()
	sas := make([]devservices.SearchAttribute, len(attrs))
	for i, sa := range attrs {
		sas[i] = devservices.SearchAttribute(sa)
	}
	return sas
}

// dial connects s.Client, stopping s if it cannot.
func (s *Server) dial(ctx context.Context) error {
	s.HostPort = s.Process.Addr()
	var err error
	s.Client, err = client.DialContext(ctx, client.Options{
		HostPort:  s.HostPort,
		Namespace: s.Namespace,
		// The SDK logs every poll and reconnect at info; a test wants to see only trouble.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr,
			&slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		_ = s.Stop(ctx)
		return fmt.Errorf("temporal test server: dial: %w", err)
	}
	return nil
}

// Stop closes the client, stops the server (and a cluster's database) and removes their files.
func (s *Server) Stop(ctx context.Context) error {
	if s.Client != nil {
		s.Client.Close()
	}
	if s.cluster != nil {
		return s.cluster.Stop(ctx)
	}
	err := s.Process.Stop(ctx)
	if rmErr := os.RemoveAll(s.dir); err == nil && rmErr != nil {
		err = fmt.Errorf("remove temporal test files: %w", rmErr)
	}
	return err
}

// Dir is the folder holding the server's state and logs, which Stop removes.
func (s *Server) Dir() string { return s.dir }

// Logs returns the end of the server's log, and of its database's for a cluster, for a failure report.
func (s *Server) Logs() string {
	out := "temporal server log (end):\n" + logTail(s.LogFile)
	if s.Postgres != nil {
		out += "\npostgresql log (end):\n" + logTail(s.Postgres.LogFile())
	}
	return out
}

// NewTemporal starts a server for this test alone (what StartTemporal starts) and stops it when the
// test ends, printing the end of its logs if the test failed. Use it where a test kills or restarts
// the server.
func NewTemporal(t testing.TB) *Server {
	t.Helper()
	s := ownServer(t, StartTemporal)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.Logs())
		}
		require.NoError(t, s.Stop(context.Background()))
	})
	return s
}

func ensure(ctx context.Context, tool devservices.Tool) (string, error) {
	dir, err := devservices.ToolsDir()
	if err != nil {
		return "", err
	}
	// The install note goes to stderr: go test shows it with -v or when the package fails, which is
	// when a slow first run needs explaining.
	return devservices.Ensure(ctx, dir, tool, os.Stderr)
}

func skipIfDisabled(t testing.TB) {
	t.Helper()
	if os.Getenv("INTERLOCK_SKIP_INTEGRATION") == "1" {
		t.Skip("integration test skipped: INTERLOCK_SKIP_INTEGRATION=1")
	}
}

// logTail returns the last lines of a server log for a failure report.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	const keep = 40
	if len(lines) > keep {
		lines = lines[len(lines)-keep:]
	}
	return strings.Join(lines, "\n")
}

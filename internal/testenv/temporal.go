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

	"github.com/interlock-soar/interlock/internal/devstack"
	"github.com/interlock-soar/interlock/workflows"
)

// startTimeout covers a first run, which installs the tool (a few minutes on two cores), plus the start.
const startTimeout = 10 * time.Minute

// Server is a running Temporal dev server with Interlock's search attributes registered.
type Server struct {
	HostPort  string
	Namespace string
	// Client is connected to the server and shared: don't Close it. It reconnects by itself after a
	// Restart of Process.
	Client  client.Client
	Process *devstack.Process // for fault tests: Kill, Restart
	DBFile  string
	LogFile string
	dir     string
}

// StartTemporal installs the pinned Temporal CLI if needed and starts a dev server on free loopback
// ports with a fresh SQLite file in a temporary folder. Stop removes it all.
func StartTemporal(ctx context.Context) (*Server, error) {
	bin, err := ensure(ctx, devstack.Temporal())
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "interlock-temporal-")
	if err != nil {
		return nil, fmt.Errorf("temporal test server: %w", err)
	}
	attrs := workflows.SearchAttributes()
	sas := make([]devstack.SearchAttribute, len(attrs))
	for i, sa := range attrs {
		sas[i] = devstack.SearchAttribute(sa)
	}
	s := &Server{
		Namespace: "default",
		DBFile:    filepath.Join(dir, "temporal.db"),
		LogFile:   filepath.Join(dir, "temporal.log"),
		dir:       dir,
	}
	s.Process, err = devstack.StartTemporal(ctx, devstack.TemporalOptions{
		Bin:              bin,
		DBFile:           s.DBFile,
		LogFile:          s.LogFile,
		Namespace:        s.Namespace,
		SearchAttributes: sas,
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.HostPort = s.Process.Addr()
	s.Client, err = client.DialContext(ctx, client.Options{
		HostPort:  s.HostPort,
		Namespace: s.Namespace,
		// The SDK logs every poll and reconnect at info; a test wants to see only trouble.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr,
			&slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		_ = s.Stop(ctx)
		return nil, fmt.Errorf("temporal test server: dial: %w", err)
	}
	return s, nil
}

// Stop closes the client, stops the server and removes its files.
func (s *Server) Stop(ctx context.Context) error {
	if s.Client != nil {
		s.Client.Close()
	}
	err := s.Process.Stop(ctx)
	if rmErr := os.RemoveAll(s.dir); err == nil && rmErr != nil {
		err = fmt.Errorf("remove temporal test files: %w", rmErr)
	}
	return err
}

// NewTemporal starts a dev server for this test alone and stops it when the test ends, printing the
// end of the server's log if the test failed. Use it where a test kills or restarts the server.
func NewTemporal(t testing.TB) *Server {
	t.Helper()
	skipIfDisabled(t)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := StartTemporal(ctx)
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("temporal dev server log (end):\n%s", logTail(s.LogFile))
		}
		require.NoError(t, s.Stop(context.Background()))
	})
	return s
}

func ensure(ctx context.Context, tool devstack.Tool) (string, error) {
	dir, err := devstack.ToolsDir()
	if err != nil {
		return "", err
	}
	// The install note goes to stderr: go test shows it with -v or when the package fails, which is
	// when a slow first run needs explaining.
	return devstack.Ensure(ctx, dir, tool, os.Stderr)
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

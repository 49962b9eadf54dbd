package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

func TestDevRejectsUnknownPersistence(t *testing.T) {
	t.Parallel()
	_, _, err := runCmd(t, nil, "dev", "--persistence", "mysql", "--state-dir", t.TempDir())
	require.EqualError(t, err, `--persistence "mysql": want sqlite or postgres`)
	_, stderr, _ := runCmd(t, nil, "dev", "--help")
	require.Contains(t, stderr, "-persistence")
}

// interlock dev --persistence postgres brings the stack up on a cluster kept in the state dir: a run
// started in one session is there in the next, which starts warm (no initdb, no schema setup), and
// each session stops PostgreSQL cleanly.
func TestDevPostgresKeepsStateAcrossRuns(t *testing.T) {
	t.Parallel()
	if os.Getenv("INTERLOCK_SKIP_INTEGRATION") == "1" {
		t.Skip("INTERLOCK_SKIP_INTEGRATION=1")
	}
	// Not t.TempDir: its parent is 0700, and as root PostgreSQL runs as another user who must pass
	// through every folder above its own.
	stateDir, err := os.MkdirTemp("", "interlock-dev-test-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(stateDir) })
	args := []string{"dev", "--persistence", "postgres", "--state-dir", stateDir, "--listen", "127.0.0.1:0"}
	for _, flag := range []string{"temporal-port", "ui-port", "smtp-port", "mailpit-port", "servicenow-port", "azure-port", "sensor-port"} {
		args = append(args, "--"+flag, strconv.Itoa(freePort(t)))
	}
	temporalAddr := "127.0.0.1:" + args[slices.Index(args, "--temporal-port")+1]

	session := func(check func(c client.Client)) string {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &syncBuilder{}
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, args, env{getenv: func(string) string { return "" }, stdout: out, stderr: out})
		}()
		// A first run installs the Temporal server, maybe after waiting for another test binary's install.
		deadline := time.After(30 * time.Minute)
		for !strings.Contains(out.String(), "Interlock dev stack is up") {
			select {
			case err := <-done:
				t.Fatalf("interlock dev ended before it was up: %v\n%s", err, out)
			case <-deadline:
				t.Fatalf("interlock dev not up after 30 minutes:\n%s", out)
			case <-time.After(100 * time.Millisecond):
			}
		}
		c, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		require.NoError(t, err)
		check(c)
		c.Close()
		cancel()
		require.NoError(t, <-done)
		require.Contains(t, out.String(), "stopped")
		require.NoFileExists(t, filepath.Join(stateDir, "temporal-postgres", "postgres", "postmaster.pid"),
			"PostgreSQL removes its pid file on a clean shutdown")
		return out.String()
	}

	var runID string
	first := session(func(c client.Client) {
		run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: "dev-postgres", TaskQueue: "dev-test-no-worker"}, "NoSuchWorkflow")
		require.NoError(t, err)
		runID = run.GetRunID()
	})
	require.Contains(t, first, "initdb")
	require.Contains(t, first, "Temporal UI     none")
	require.Contains(t, first, "Temporal server v1.29.1 on PostgreSQL 127.0.0.1:")

	second := session(func(c client.Client) {
		desc, err := c.DescribeWorkflow(t.Context(), "dev-postgres", runID)
		require.NoError(t, err, "the run started in the first session is in the cluster's database")
		require.Equal(t, "NoSuchWorkflow", desc.RawResponse.GetWorkflowExecutionInfo().GetType().GetName())
	})
	require.NotContains(t, second, "initdb")
	require.NotContains(t, second, "creating Temporal's databases")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuilder is the output of a running interlock dev, written from its goroutines and read by the test.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A port another process holds stops interlock dev before anything starts, naming the flag to move it.
func TestDevRefusesATakenPort(t *testing.T) {
	t.Parallel()
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	freePort := free.Addr().(*net.TCPAddr).Port
	require.NoError(t, free.Close())

	err = checkPorts([]devPort{{"--smtp-port", "Mailpit's SMTP", "127.0.0.1", freePort}, {"--temporal-port", "Temporal's frontend", "127.0.0.1", port}})
	require.ErrorContains(t, err, fmt.Sprintf("port %d, for Temporal's frontend, is taken", port))
	require.ErrorContains(t, err, "pass --temporal-port")
	require.NotContains(t, err.Error(), "--smtp-port")

	_, _, err = runCmd(t, nil, "dev", "--state-dir", t.TempDir(), "--temporal-port", strconv.Itoa(port))
	require.ErrorContains(t, err, "pass --temporal-port", "refused before any install or start")
}

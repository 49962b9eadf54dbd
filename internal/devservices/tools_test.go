package devservices

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// installed returns the path of t's binary, installing it on a fresh machine as a user's first run
// would. The process tests need the real binaries.
func installed(t *testing.T, tool Tool) string {
	t.Helper()
	if os.Getenv("INTERLOCK_SKIP_INTEGRATION") == "1" {
		t.Skip("INTERLOCK_SKIP_INTEGRATION=1")
	}
	dir, err := ToolsDir()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute) // another test binary may hold the install lock for the Temporal server first
	defer cancel()
	bin, err := Ensure(ctx, dir, tool, os.Stderr)
	require.NoError(t, err)
	return bin
}

func TestMatches(t *testing.T) {
	temporal := installed(t, Temporal())
	notGo := filepath.Join(t.TempDir(), "temporal")
	require.NoError(t, os.WriteFile(notGo, []byte("#!/bin/sh\necho v1.5.1\n"), 0o755))

	wrongVersion := Temporal()
	wrongVersion.Version = "v1.5.0"
	wrongModule := Temporal()
	wrongModule.Module = "github.com/temporalio/cli/cmd/other"
	for name, tc := range map[string]struct {
		bin  string
		tool Tool
		want bool
	}{
		"pinned binary":       {temporal, Temporal(), true},
		"other version":       {temporal, wrongVersion, false},
		"other package":       {temporal, wrongModule, false},
		"other tool's binary": {temporal, Mailpit(), false},
		"script, not Go":      {notGo, Temporal(), false},
		"missing":             {filepath.Join(t.TempDir(), "temporal"), Temporal(), false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, matches(tc.bin, tc.tool))
		})
	}
}

// The binary already installed must be used without the go command: PATH is emptied, so any install
// attempt would fail.
func TestEnsureAlreadyInstalled(t *testing.T) {
	bin := installed(t, Temporal())
	t.Setenv("PATH", "")
	var progress bytes.Buffer
	got, err := Ensure(t.Context(), filepath.Dir(bin), Temporal(), &progress)
	require.NoError(t, err)
	require.Equal(t, bin, got)
	require.Empty(t, progress.String(), "nothing to report when nothing is installed")
}

// A binary of another version (here: mailpit posing as temporal) must trigger an install. With PATH
// emptied the install fails at once, which proves it was attempted without installing for real.
func TestEnsureReinstallsOtherVersion(t *testing.T) {
	mailpit := installed(t, Mailpit())
	dir := t.TempDir()
	require.NoError(t, os.Symlink(mailpit, filepath.Join(dir, "temporal")))
	t.Setenv("PATH", "")
	var progress bytes.Buffer
	_, err := Ensure(t.Context(), dir, Temporal(), &progress)
	require.ErrorContains(t, err, "go command is needed")
	require.Contains(t, progress.String(), "installing temporal v1.5.1")
}

// A second caller waits for the install lock and then finds the binary the first one installed.
func TestEnsureWaitsForInstallLock(t *testing.T) {
	temporal := installed(t, Temporal())
	dir := t.TempDir()
	held, err := tryLock(filepath.Join(dir, ".install.lock"))
	require.NoError(t, err)

	progress := &signallingWriter{wrote: make(chan struct{})}
	var (
		wg     sync.WaitGroup
		got    string
		ensure error
	)
	wg.Go(func() { got, ensure = Ensure(t.Context(), dir, Temporal(), progress) })
	<-progress.wrote // the waiter found the lock busy
	// The "installer" finishes while the other caller waits.
	require.NoError(t, os.Symlink(temporal, filepath.Join(dir, "temporal")))
	require.NoError(t, held.Close())
	wg.Wait()
	require.NoError(t, ensure)
	require.Equal(t, filepath.Join(dir, "temporal"), got)
	require.Contains(t, progress.String(), "waiting for another process installing temporal")
	require.NotContains(t, progress.String(), "(first run", "the waiter must not install again")
}

// signallingWriter closes wrote on the first write, so a test can wait for a progress message.
type signallingWriter struct {
	bytes.Buffer
	wrote chan struct{}
	once  sync.Once
}

func (w *signallingWriter) Write(b []byte) (int, error) {
	defer w.once.Do(func() { close(w.wrote) })
	return w.Buffer.Write(b)
}

// A failed install reports go's own output. GOPROXY=off makes it fail offline and at once.
func TestEnsureInstallFailureShowsGoOutput(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	tool := Tool{Name: "mailpit", Module: "github.com/axllent/mailpit", Version: "v0.0.0-no-such-version"}
	_, err := Ensure(t.Context(), t.TempDir(), tool, nil)
	require.ErrorContains(t, err, "go install github.com/axllent/mailpit@v0.0.0-no-such-version")
	require.ErrorContains(t, err, "GOPROXY=off", "the tail of go's output explains the failure")
}

func TestEnsureCancelledWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	held, err := tryLock(filepath.Join(dir, ".install.lock"))
	require.NoError(t, err)
	defer held.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = Ensure(ctx, dir, Temporal(), nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestToolsDir(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, ok := moduleRoot(wd)
	require.True(t, ok, "tests run inside the Interlock module")

	// A nested module inside the checkout must not be taken for the checkout.
	nested := filepath.Join(t.TempDir(), "elsewhere")
	require.NoError(t, os.MkdirAll(filepath.Join(nested, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(nested, "go.mod"), []byte("module example.com/other\n"), 0o644))
	cache := t.TempDir()

	for _, tc := range []struct {
		name string
		env  string
		dir  string
		want string
	}{
		{"env wins", "/opt/tools", wd, "/opt/tools"},
		{"package dir in checkout", "", wd, filepath.Join(root, ".tools", "bin")},
		{"checkout root", "", root, filepath.Join(root, ".tools", "bin")},
		{"outside any checkout", "", filepath.Join(nested, "sub"), filepath.Join(cache, "interlock", "bin")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("INTERLOCK_TOOLS_DIR", tc.env)
			t.Setenv("XDG_CACHE_HOME", cache)
			t.Chdir(tc.dir)
			got, err := ToolsDir()
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// Not parallel: a child forked by a parallel test holds a copy of every open file until it execs,
// flock included, so the re-lock below could see the lock still held for a moment.
func TestLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	unlock, err := Lock(dir)
	require.NoError(t, err)

	// flock conflicts between two opens of the file even within one process, so this stands in for a
	// second `interlock dev`.
	_, err = Lock(dir)
	require.EqualError(t, err, "another interlock dev is running (pid "+strconv.Itoa(os.Getpid())+") with state dir "+dir)

	unlock()
	unlock2, err := Lock(dir)
	require.NoError(t, err, "the lock is free again once released")
	unlock2()
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	port, err := FreePort()
	require.NoError(t, err)
	require.Positive(t, port)
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	require.NoError(t, err, "the port can be bound on loopback")
	require.NoError(t, l.Close())
}

package devservices

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestByVersionDesc(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"9.6", "15", "10", "16"}, []string{"16", "15", "10", "9.6"}},
		{[]string{"9.6", "9.10", "9.2"}, []string{"9.10", "9.6", "9.2"}},
		{[]string{"common", "15", ".cache"}, []string{"15", "common", ".cache"}},
		{nil, nil},
	} {
		require.Equal(t, tc.want, byVersionDesc(tc.in), "%q", tc.in)
	}
}

// The highest major version with both server programs wins; a folder with only some of them (a
// half-removed package) is skipped.
func TestFindPostgres(t *testing.T) {
	t.Setenv("PATH", "") // no pg_config, no initdb on PATH: only the folder given counts
	lib := t.TempDir()
	for version, programs := range map[string][]string{
		"9.6": {"initdb", "postgres"},
		"15":  {"initdb", "postgres"},
		"16":  {"initdb"},
	} {
		dir := filepath.Join(lib, version, "bin")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for _, p := range programs {
			require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\n"), 0o755))
		}
	}
	got, ok := findPostgres(t.Context(), lib)
	require.True(t, ok)
	require.Equal(t, filepath.Join(lib, "15", "bin"), got)

	_, ok = findPostgres(t.Context(), t.TempDir())
	require.False(t, ok, "an empty folder and nothing on PATH")
}

func TestSocketDir(t *testing.T) {
	t.Parallel()
	require.Equal(t, "/tmp/x/postgres", socketDir("/tmp/x/postgres", 5432))
	long := "/" + strings.Repeat("d", 100)
	require.Empty(t, socketDir(long, 5432), "a path too long for a socket address gets no socket")
}

// PostgreSQL comes up on its data folder (as the postgres user when we are root), comes back after a
// crash (all of its processes killed) and after a graceful restart, and leaves no process behind on Stop.
func TestPostgres(t *testing.T) {
	t.Parallel()
	binDir := postgresDir(t)
	dir := filepath.Join(t.TempDir(), "pg")
	if os.Geteuid() == 0 {
		// t.TempDir's folders are 0700; PostgreSQL's user must pass through them.
		for d := filepath.Dir(dir); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
			require.NoError(t, os.Chmod(d, 0o711|fileMode(t, d)))
		}
	}
	began := time.Now()
	p, err := StartPostgres(t.Context(), PostgresOptions{
		BinDir: binDir, DataDir: dir, Throwaway: true, LogFile: dir + ".log",
	})
	require.NoError(t, err)
	stopOnCleanup(t, p)
	t.Logf("initdb and start in %s", time.Since(began).Round(time.Millisecond))
	if os.Geteuid() == 0 {
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		require.NotZero(t, fi.Sys().(*syscall.Stat_t).Uid, "the data folder belongs to PostgreSQL's own user")
	}

	// A crash takes the postmaster's children too, though each runs in a session of its own.
	oldPID, kids := p.PID(), children(p.PID())
	require.NotEmpty(t, kids, "checkpointer, background writer, …")
	require.NoError(t, p.Kill())
	require.ErrorIs(t, syscall.Kill(oldPID, 0), syscall.ESRCH)
	for _, c := range kids {
		require.False(t, alive(c), "postgres child %d outlived the crash", c)
	}
	require.NoError(t, p.Restart(t.Context()), "back after the crash")
	oldPID = p.PID()
	require.NoError(t, p.Restart(t.Context()), "graceful restart")
	requireGone(t, oldPID)
	pid := p.PID()
	began = time.Now()
	require.NoError(t, p.Stop(t.Context()))
	require.Less(t, time.Since(began), 5*time.Second, "a fast shutdown, not the SIGKILL after the grace period")
	requireGone(t, pid)
}

// postgresDir finds PostgreSQL's server programs, installing them where EnsurePostgres can.
func postgresDir(t *testing.T) string {
	t.Helper()
	if os.Getenv("INTERLOCK_SKIP_INTEGRATION") == "1" {
		t.Skip("INTERLOCK_SKIP_INTEGRATION=1")
	}
	tools, err := ToolsDir()
	require.NoError(t, err)
	dir, err := EnsurePostgres(t.Context(), tools, os.Stderr)
	require.NoError(t, err)
	return dir
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

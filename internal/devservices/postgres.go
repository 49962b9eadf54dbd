package devservices

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The PostgreSQL account and Temporal's persistence plugin, as docker-compose.yml's postgresql and
// temporal services set them (compose_test.go checks).
const (
	PostgresUser      = "temporal"
	PostgresPassword  = "temporal"
	TemporalSQLPlugin = "postgres12"
)

// PostgresOptions configures a PostgreSQL server for a Temporal cluster.
type PostgresOptions struct {
	BinDir  string // folder holding initdb and postgres, as EnsurePostgres returns it
	DataDir string // the database cluster; initdb creates it when it holds none yet
	Port    int    // TCP port on 127.0.0.1; 0 picks a free one
	// Throwaway turns fsync off, for test data removed afterwards: an operating system crash or power cut
	// can then corrupt the cluster, a process crash cannot (the data is in the page cache), and the
	// flush per commit that dominates Temporal's write path on a small disk is gone.
	Throwaway    bool
	LogFile      string        // server output, appended across restarts; "" keeps only a tail in memory
	StartTimeout time.Duration // how long to wait until it accepts connections; 0 is one minute
	Progress     io.Writer     // one line when initdb runs; nil discards
	Logger       *slog.Logger  // nil discards
}

// StartPostgres runs PostgreSQL on 127.0.0.1, after initdb when DataDir holds no cluster yet, with the
// superuser PostgresUser authenticating by password over TCP, as the postgres image of compose creates
// it. Its unix socket lives in DataDir, so it never meets a system PostgreSQL's. Run as root it runs as
// the postgres user (or nobody): PostgreSQL refuses to run as root, so DataDir and the folders above it
// must be searchable by that user. ctx bounds only the start.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Process, error) {
	for attempt := 1; ; attempt++ {
		p, err := startPostgres(ctx, opts)
		// As for Temporal: a port picked here can be taken before PostgreSQL binds it.
		if err == nil || opts.Port != 0 || attempt == 3 || !errors.Is(err, errExitedEarly) || ctx.Err() != nil {
			return p, err
		}
		cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)).Warn("postgresql exited while starting; retrying on a fresh port", "attempt", attempt, "err", err)
	}
}

func startPostgres(ctx context.Context, opts PostgresOptions) (*Process, error) {
	if opts.BinDir == "" || opts.DataDir == "" {
		return nil, fmt.Errorf("start postgresql: no binary folder or data folder given")
	}
	cred, userName, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	if err := initPostgres(ctx, opts, cred, userName); err != nil {
		return nil, err
	}
	port := opts.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	args := []string{"-D", opts.DataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(port),
		"-c", "unix_socket_directories=" + socketDir(opts.DataDir, port),
		// Every Temporal service in the one server process keeps its own pools (20 connections for the
		// default store, 10 for visibility): four services can use more than the default 100.
		"-c", "max_connections=200",
	}
	if opts.Throwaway {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := &Process{
		name:         "postgresql",
		bin:          filepath.Join(opts.BinDir, "postgres"),
		args:         args,
		addr:         addr,
		logFile:      opts.LogFile,
		startTimeout: cmp.Or(opts.StartTimeout, time.Minute),
		log:          cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		tail:         newTailBuffer(32 << 10),
		cred:         cred,
		// SIGINT is PostgreSQL's fast shutdown: the postmaster ends the sessions, writes a checkpoint and
		// exits. SIGTERM to the group would be a smart shutdown, waiting for every client to go.
		leaderStop:    syscall.SIGINT,
		childrenLeave: true,
	}
	p.ready = postgresReady(opts.DataDir, addr, p.PID)
	if err := p.start(ctx); err != nil {
		if cred != nil {
			err = fmt.Errorf("%w\n(PostgreSQL runs as user %s here because it refuses to run as root; %s and the folders above it must be searchable by that user)", err, userName, opts.DataDir)
		}
		return nil, err
	}
	return p, nil
}

// socketDir is where the unix socket goes: the data folder, unless its path is too long for a socket
// address (107 bytes on Linux), and then nowhere: the tools and Temporal connect over TCP anyway.
func socketDir(dataDir string, port int) string {
	if len(dataDir)+len("/.s.PGSQL.")+len(strconv.Itoa(port)) >= 107 {
		return ""
	}
	return dataDir
}

// postgresCredential is who PostgreSQL runs as: ourselves, unless we are root, which initdb and
// postgres refuse; then the postgres user Debian's package creates, or nobody.
func postgresCredential() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		return nil, "", nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, uerr := strconv.ParseUint(u.Uid, 10, 32)
		gid, gerr := strconv.ParseUint(u.Gid, 10, 32)
		if uerr != nil || gerr != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, name, nil
	}
	return nil, "", errors.New("start postgresql: running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as (it refuses to run as root)")
}

// AllowPostgresThrough makes dir searchable by everyone (0711: entered, not listed) when PostgreSQL
// runs as another user, i.e. when we are root, so that it reaches a data folder below dir; the files
// in dir keep their own modes. Otherwise it changes nothing.
func AllowPostgresThrough(dir string) error {
	cred, _, err := postgresCredential()
	if err != nil || cred == nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("let postgresql through %s: %w", dir, err)
	}
	if err := os.Chmod(dir, fi.Mode().Perm()|0o111); err != nil {
		return fmt.Errorf("let postgresql through %s: %w", dir, err)
	}
	return nil
}

// initPostgres creates the data folder, owned by the user PostgreSQL runs as, and runs initdb in it
// unless it already holds a cluster.
func initPostgres(ctx context.Context, opts PostgresOptions, cred *syscall.Credential, userName string) error {
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("postgresql data folder: %w", err)
	}
	if cred != nil {
		if err := os.Chown(opts.DataDir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("postgresql data folder: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(opts.DataDir, "PG_VERSION")); err == nil {
		return nil
	}
	// initdb takes the superuser's password only from a file. It must be readable by PostgreSQL's user
	// and must not be in the data folder, which initdb wants empty.
	pw, err := os.CreateTemp("", "interlock-pgpass-")
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	defer os.Remove(pw.Name())
	_, werr := pw.WriteString(PostgresPassword + "\n")
	if cerr := pw.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil && cred != nil {
		werr = os.Chown(pw.Name(), int(cred.Uid), int(cred.Gid))
	}
	if werr != nil {
		return fmt.Errorf("initdb: password file: %w", werr)
	}
	fmt.Fprintf(cmp.Or(opts.Progress, io.Discard), "initializing a PostgreSQL database cluster in %s (initdb)…\n", opts.DataDir)
	args := []string{"-D", opts.DataDir, "-U", PostgresUser, "--pwfile=" + pw.Name(),
		// The socket is in the private data folder; TCP, even on loopback, takes the password.
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"--encoding=UTF8", "--locale=C", "--no-instructions"}
	if opts.Throwaway {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(opts.BinDir, "initdb"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		err = fmt.Errorf("initdb %s: %w\n%s", opts.DataDir, err, lastLines(out.String(), 20))
		if cred != nil {
			err = fmt.Errorf("%w\n(initdb runs as user %s here because it refuses to run as root; %s and the folders above it must be searchable by that user)", err, userName, opts.DataDir)
		}
		return err
	}
	return nil
}

// postgresReady checks what pg_ctl's wait checks: postmaster.pid is this run's (a crashed run leaves
// its own behind) and its status line says "ready", which PostgreSQL writes once it accepts
// connections, after any crash recovery; and the port answers.
func postgresReady(dataDir, addr string, pid func() int) func(context.Context) error {
	return func(ctx context.Context) error {
		data, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
		if err != nil {
			return err
		}
		lines := strings.Split(string(data), "\n")
		// Line 1 is the postmaster's pid, line 8 the status: "starting", "stopping", "ready" or "standby".
		if len(lines) < 8 || strings.TrimSpace(lines[0]) != strconv.Itoa(pid()) || strings.TrimSpace(lines[7]) != "ready" {
			return errors.New("postgresql not ready yet")
		}
		return dialable(ctx, addr)
	}
}

// debianPostgresLib is where Debian and Ubuntu install PostgreSQL's server programs, one folder per
// major version.
const debianPostgresLib = "/usr/lib/postgresql"

// EnsurePostgres returns the folder holding PostgreSQL's server programs (initdb, postgres): Debian's
// /usr/lib/postgresql/<major>/bin of the highest major version, else pg_config --bindir, else the
// folder of an initdb on PATH. When there is none and we run as root with apt-get, it installs Debian's
// postgresql package, writing one line to progress; a file lock in lockDir makes parallel callers wait
// for one install. Otherwise it fails saying what to install.
func EnsurePostgres(ctx context.Context, lockDir string, progress io.Writer) (string, error) {
	if dir, ok := findPostgres(ctx, debianPostgresLib); ok {
		return dir, nil
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil || os.Geteuid() != 0 {
		return "", errors.New("PostgreSQL's server programs (initdb, postgres) are not installed: none in " +
			debianPostgresLib + "/*/bin, from pg_config --bindir or on PATH; install PostgreSQL's server package " +
			"(Debian, Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql)")
	}
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return "", fmt.Errorf("create lock dir: %w", err)
	}
	unlock, err := lockWait(ctx, filepath.Join(lockDir, ".postgres-install.lock"), func() {
		fmt.Fprintln(cmp.Or(progress, io.Discard), "waiting for another process installing PostgreSQL…")
	})
	if err != nil {
		return "", fmt.Errorf("lock for the PostgreSQL install: %w", err)
	}
	defer unlock()
	if dir, ok := findPostgres(ctx, debianPostgresLib); ok {
		return dir, nil // the process we waited for installed it
	}
	fmt.Fprintln(cmp.Or(progress, io.Discard), "installing PostgreSQL with apt-get (Debian's postgresql package; first run only)…")
	if err := aptInstallPostgres(ctx, apt); err != nil {
		return "", err
	}
	if dir, ok := findPostgres(ctx, debianPostgresLib); ok {
		return dir, nil
	}
	return "", errors.New("apt-get installed postgresql, but no initdb and postgres are found in " + debianPostgresLib + "/*/bin")
}

func aptInstallPostgres(ctx context.Context, apt string) error {
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The lock timeout makes apt-get wait for another package manager run instead of failing at once.
	install := []string{"install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300", "postgresql"}
	out, err := run(install...)
	if err != nil {
		// Images that ship without package lists (Debian's container images) know no postgresql yet.
		if uout, uerr := run("update"); uerr != nil {
			return fmt.Errorf("apt-get update: %w\n%s", uerr, lastLines(uout, 20))
		}
		out, err = run(install...)
	}
	if err != nil {
		return fmt.Errorf("apt-get install postgresql: %w\n%s", err, lastLines(out, 20))
	}
	return nil
}

// findPostgres returns the best folder with PostgreSQL's server programs.
func findPostgres(ctx context.Context, lib string) (string, bool) {
	var candidates []string
	if entries, err := os.ReadDir(lib); err == nil {
		var versions []string
		for _, e := range entries {
			versions = append(versions, e.Name())
		}
		for _, v := range byVersionDesc(versions) {
			candidates = append(candidates, filepath.Join(lib, v, "bin"))
		}
	}
	if out, err := exec.CommandContext(ctx, "pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(initdb))
	}
	for _, dir := range candidates {
		if hasPostgresServer(dir) {
			return dir, true
		}
	}
	return "", false
}

// hasPostgresServer reports whether dir holds both server programs. pg_config alone comes with the
// client library's development package, so its --bindir may hold neither.
func hasPostgresServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// byVersionDesc orders version folder names ("9.6", "15", "16") highest first, numerically; names
// that are no version go last.
func byVersionDesc(names []string) []string {
	parse := func(s string) []int {
		var v []int
		for part := range strings.SplitSeq(s, ".") {
			n, err := strconv.Atoi(part)
			if err != nil {
				return nil
			}
			v = append(v, n)
		}
		return v
	}
	sorted := slices.Clone(names)
	slices.SortStableFunc(sorted, func(a, b string) int {
		va, vb := parse(a), parse(b)
		if (va == nil) != (vb == nil) {
			if va == nil {
				return 1
			}
			return -1
		}
		return -slices.Compare(va, vb)
	})
	return sorted
}

package devservices

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before SIGKILL. The dev server drains in about a
// second; Mailpit at once.
const stopGrace = 10 * time.Second

// Process is one child server (the Temporal dev server, Mailpit, a Temporal server, PostgreSQL, or any
// Command). It runs in its own process group, so Stop and Kill reach everything it started, and a
// terminal's Ctrl-C reaches only the parent, which then stops its children in order. On Linux the
// child is also killed if the parent dies without
// stopping it (a crashed `interlock dev`, a test binary killed by -timeout).
type Process struct {
	name         string
	bin          string
	args         []string
	addr         string
	uiURL        string
	logFile      string
	env          []string // nil inherits this process's environment
	ready        func(ctx context.Context) error
	readyPID     func(ctx context.Context, pid int) error // instead of ready, for a check that needs the pid
	startTimeout time.Duration
	log          *slog.Logger
	tail         *tailBuffer
	// cred runs the process as another user: PostgreSQL refuses to run as root. nil is our own user.
	cred *syscall.Credential
	// leaderStop, when set, is what Stop sends instead of SIGTERM to the group, and only to the leader:
	// for a server that shuts its own children down in order (PostgreSQL's postmaster, SIGINT).
	leaderStop syscall.Signal
	// childrenLeave says the leader's children leave its process group (PostgreSQL's each call setsid),
	// so a SIGKILL to the group misses them: Kill finds them as the leader's children instead.
	childrenLeave bool

	mu  sync.Mutex
	run *run // the current (or last) run; replaced by Restart
}

// run is one execution of the process.
type run struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // cmd.Wait's result, valid once done is closed
}

// permanentError stops the readiness polling: waiting longer cannot fix it.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// Addr is the main listening address: the Temporal frontend (gRPC), Mailpit's SMTP server, or
// PostgreSQL's TCP port.
func (p *Process) Addr() string { return p.addr }

// UIURL is the web UI's base URL (Mailpit's API lives under it), or "" for a headless dev server.
func (p *Process) UIURL() string { return p.uiURL }

// LogFile is where the process output goes, appended across restarts ("" if kept only in memory).
func (p *Process) LogFile() string { return p.logFile }

// PID is the process id of the current run, which is also its process group id.
func (p *Process) PID() int {
	return p.current().cmd.Process.Pid
}

// Done is closed when the current run exits, for noticing a crash. After Restart, ask again.
func (p *Process) Done() <-chan struct{} { return p.current().done }

// Wait blocks until the current run exits and returns its exit error (nil on a clean exit, which a
// stop by SIGTERM usually is).
func (p *Process) Wait() error {
	r := p.current()
	<-r.done
	return r.err
}

// Stop ends the process group: SIGTERM (or the leader's own stop signal), then SIGKILL after a grace
// period or when ctx ends. It returns
// once the process has been reaped; stopping an exited process is a no-op.
func (p *Process) Stop(ctx context.Context) error {
	r := p.current()
	pid := r.cmd.Process.Pid
	select {
	case <-r.done:
		killGroup(pid) // anything left in the group by a leader that died on its own
		return nil
	default:
	}
	target, sig := -pid, syscall.SIGTERM
	if p.leaderStop != 0 {
		target, sig = pid, p.leaderStop
	}
	if err := syscall.Kill(target, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
	}
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-r.done:
	case <-timer.C:
		p.log.Warn("process ignored its stop signal, killing it", "name", p.name, "pid", pid, "signal", sig, "grace", stopGrace)
	case <-ctx.Done():
		p.log.Warn("stop cancelled, killing process", "name", p.name, "pid", pid)
	}
	// Also after a clean exit of the leader: a straggler in its group must not outlive Stop.
	p.killAll(r)
	return nil
}

// Kill ends the process group with SIGKILL at once, like a crash, and waits until it is reaped. Fault
// tests use it; the data file is left as a crash leaves it.
func (p *Process) Kill() error {
	p.killAll(p.current())
	return nil
}

// killAll SIGKILLs the run's process group, and the leader's children when they leave it, and waits
// until the leader is reaped and those children have exited.
func (p *Process) killAll(r *run) {
	pid := r.cmd.Process.Pid
	var strays []int
	select {
	case <-r.done: // reaped already: its children have gone to init, and its pid may be reused
	default:
		strays = p.killChildren(pid)
	}
	killGroup(pid)
	<-r.done
	// The children belong to init now, which reaps them when it gets to it; gone or a zombie, a child
	// holds nothing (PostgreSQL's shared memory included) a restart would trip over.
	for _, c := range strays {
		for deadline := time.Now().Add(5 * time.Second); alive(c) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// killChildren SIGKILLs the leader's children when they leave its group, and returns them.
func (p *Process) killChildren(pid int) []int {
	if !p.childrenLeave {
		return nil
	}
	// Stopped, the leader cannot fork while its children are collected; then all die at once, as in a
	// crash of the machine rather than of the leader alone.
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	strays := children(pid)
	for _, c := range strays {
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	return strays
}

// Restart stops the process if it still runs and starts it again with the same command line, so the
// dev server comes back on the same ports and the same SQLite file, then waits until it is ready.
func (p *Process) Restart(ctx context.Context) error {
	if err := p.Stop(ctx); err != nil {
		return err
	}
	return p.start(ctx)
}

func (p *Process) current() *run {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.run
}

func killGroup(pid int) {
	// ESRCH (nothing left) is the expected outcome after a clean exit.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// start launches a run and waits until ready answers or the run exits. A run that never gets ready is
// killed, and the error carries the end of its output, which is where the reason is.
func (p *Process) start(ctx context.Context) error {
	began := time.Now()
	r, err := p.launch()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.run = r
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, p.startTimeout)
	defer cancel()
	ready := p.ready
	if p.readyPID != nil {
		pid := r.cmd.Process.Pid
		ready = func(ctx context.Context) error { return p.readyPID(ctx, pid) }
	}
	if err := waitReady(ctx, r, ready); err != nil {
		p.killAll(r)
		return fmt.Errorf("start %s: %w; last output:\n%s", p.name, err, excerpt(p.tail.String()))
	}
	p.log.Info("process ready", "name", p.name, "pid", r.cmd.Process.Pid, "addr", p.addr,
		"took", time.Since(began).Round(time.Millisecond))
	return nil
}

func (p *Process) launch() (*run, error) {
	out := io.Writer(p.tail)
	var logFile *os.File
	if p.logFile != "" {
		f, err := os.OpenFile(p.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open %s log: %w", p.name, err)
		}
		fmt.Fprintf(f, "=== %s %s %s\n", time.Now().Format(time.RFC3339), p.bin, strings.Join(p.args, " "))
		logFile = f
		out = io.MultiWriter(f, p.tail)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	cmd.SysProcAttr.Credential = p.cred
	r := &run{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Linux delivers the parent-death signal when the thread that forked the child exits, not the
		// process, and the Go runtime may retire threads. Pinning this goroutine to its thread until
		// the child is reaped keeps that thread alive exactly as long as it matters; the runtime ends
		// the thread when the goroutine returns still locked, after the child is gone.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		r.err = cmd.Wait()
		if logFile != nil {
			_ = logFile.Close()
		}
		close(r.done)
	}()
	if err := <-started; err != nil {
		if logFile != nil {
			_ = logFile.Close()
		}
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	return r, nil
}

// Command is any child server to run like the dev server: in its own process group, killed with its
// parent, started again by Restart with the same command line.
type Command struct {
	Name string
	Bin  string
	Args []string
	// Env is the whole environment of the process; nil inherits this process's.
	Env []string
	// Addr is the main listening address, for Addr and the log; "" when it has none.
	Addr    string
	LogFile string // output, appended across restarts; "" keeps only a tail in memory
	// Ready reports whether the process (pid) is ready; Start polls it every 100 ms. Required.
	Ready        func(ctx context.Context, pid int) error
	StartTimeout time.Duration // how long to wait until ready; 0 is one minute
	Logger       *slog.Logger  // nil discards
}

// Start runs the command and returns once Ready says so. ctx bounds only the start.
func Start(ctx context.Context, c Command) (*Process, error) {
	if c.Bin == "" || c.Ready == nil {
		return nil, fmt.Errorf("start %s: a binary and a readiness check are required", c.Name)
	}
	p := &Process{
		name:         c.Name,
		bin:          c.Bin,
		args:         c.Args,
		env:          c.Env,
		addr:         c.Addr,
		logFile:      c.LogFile,
		readyPID:     c.Ready,
		startTimeout: cmp.Or(c.StartTimeout, time.Minute),
		log:          cmp.Or(c.Logger, slog.New(slog.DiscardHandler)),
		tail:         newTailBuffer(32 << 10),
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// errExitedEarly: the process ended before it was ready, e.g. because a port it picked was taken.
var errExitedEarly = errors.New("exited before it was ready")

// waitReady polls ready every 100 ms until it succeeds, fails permanently, ctx ends or the run exits.
func waitReady(ctx context.Context, r *run, ready func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	exited := errExitedEarly
	go func() {
		select {
		case <-r.done:
			cancel(exited)
		case <-ctx.Done():
		}
	}()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		err := ready(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		if _, ok := errors.AsType[permanentError](err); ok {
			return err
		}
		last = err
		select {
		case <-ctx.Done():
			if cause := context.Cause(ctx); errors.Is(cause, exited) {
				<-r.done
				return fmt.Errorf("%w (%v)", exited, r.err)
			}
			return fmt.Errorf("not ready: %w (last check: %v)", context.Cause(ctx), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// dialable is the cheapest readiness probe: something accepts TCP connections on addr.
func dialable(ctx context.Context, addr string) error {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// tailBuffer keeps the last bytes of a process's output in memory for error messages, whether or not
// the output also goes to a log file.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process can take it
// before the caller binds it; on a developer machine or CI runner that race is rare enough.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// excerpt is the end of a process's output, led by the line that says why it panicked, if it did: a
// Go panic's reason is at the top, above a stack trace longer than any tail.
func excerpt(out string) string {
	tail := lastLines(out, 30)
	if i := strings.Index(out, "panic: "); i >= 0 && !strings.Contains(tail, out[i:min(len(out), i+200)]) {
		line, _, _ := strings.Cut(out[i:], "\n")
		return line + "\n…\n" + tail
	}
	return tail
}

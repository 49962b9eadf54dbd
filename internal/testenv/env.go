package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Env shares one Temporal server (see StartTemporal) and one Mailpit among the tests of a test binary. Each starts on the first
// test that asks for it, so a run filtered to unit tests starts nothing; Main stops them after the
// last test. Keep the Env in a package-level variable of the test package, next to TestMain.
type Env struct {
	mu       sync.Mutex
	inMain   bool
	temporal started[*Server]
	mailpit  started[*MailpitServer]
}

// started remembers a start attempt, the failure included, so that after a failed start the remaining
// tests fail at once instead of each waiting out its own timeout. Each server has its own lock, so a
// first-run install of one does not hold up tests of the other.
type started[T any] struct {
	mu    sync.Mutex
	tried bool
	srv   T
	err   error
}

func (s *started[T]) get(start func(context.Context) (T, error)) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tried {
		s.tried = true
		ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
		defer cancel()
		s.srv, s.err = start(ctx)
	}
	return s.srv, s.err
}

// take returns the server to stop, if one was started.
func (s *started[T]) take() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv, s.tried && s.err == nil
}

// New returns an Env with nothing started.
func New() *Env { return &Env{} }

// Main runs the tests, stops whatever they started and exits; call it from TestMain. When a test failed
// it prints the end of the server logs, which are deleted with the servers.
//
// If the test binary dies instead (a panic, -timeout), the kernel kills the servers on Linux; only
// their temporary folders stay behind.
func (e *Env) Main(m *testing.M) {
	os.Exit(e.run(m))
}

func (e *Env) run(m *testing.M) int {
	e.mu.Lock()
	e.inMain = true
	e.mu.Unlock()

	code := m.Run()

	e.mu.Lock()
	e.inMain = false
	e.mu.Unlock()
	if s, ok := e.temporal.take(); ok {
		if code != 0 {
			fmt.Fprintln(os.Stderr, s.Logs())
		}
		if err := s.Stop(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stop temporal server: %v\n", err)
			code = 1
		}
	}
	if s, ok := e.mailpit.take(); ok {
		if err := s.Stop(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stop mailpit: %v\n", err)
			code = 1
		}
	}
	return code
}

// Temporal returns the shared Temporal server, starting it on first use. Tests must not Kill or Restart it
// or close its Client; use NewTemporal for that.
func (e *Env) Temporal(t testing.TB) *Server {
	t.Helper()
	return shared(e, t, &e.temporal, StartTemporal, "temporal server")
}

// Mailpit returns the shared Mailpit, starting it on first use. Tests share its mailbox: tell messages
// apart by recipient or subject rather than deleting them all.
func (e *Env) Mailpit(t testing.TB) *MailpitServer {
	t.Helper()
	return shared(e, t, &e.mailpit, StartMailpit, "mailpit")
}

// shared returns the shared server s, starting it with start on the first call.
func shared[T any](e *Env, t testing.TB, s *started[T], start func(context.Context) (T, error), what string) T {
	t.Helper()
	skipIfDisabled(t)
	e.requireMain(t)
	srv, err := s.get(start)
	require.NoError(t, err, "start shared "+what)
	return srv
}

// ownServer starts a server for one test alone (NewTemporal, NewMailpit), within StartTimeout.
func ownServer[T any](t testing.TB, start func(context.Context) (T, error)) T {
	t.Helper()
	skipIfDisabled(t)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	srv, err := start(ctx)
	require.NoError(t, err)
	return srv
}

// requireMain refuses to start a shared server nothing would stop.
func (e *Env) requireMain(t testing.TB) {
	t.Helper()
	e.mu.Lock()
	inMain := e.inMain
	e.mu.Unlock()
	if !inMain {
		t.Fatal("testenv: shared servers need `func TestMain(m *testing.M) { env.Main(m) }` to stop them; " +
			"or use NewTemporal/NewMailpit")
	}
}

package rules

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

const threeRules = `rules:
  - {name: a, order: 1, trigger: created, actions: [runPlaybook: Other]}
  - {name: b, order: 2, trigger: created, actions: [runPlaybook: Third]}
  - {name: c, order: 3, trigger: created, actions: [runPlaybook: PLCReprogrammingNotice]}
`

// replaceFile writes content the way editors and deployers do: a new file renamed over the old one.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

func TestSetReloadKeepsRunningRulesOnInvalidFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, DefaultRules(), 0o600))
	e, err := Load(path, knownPlaybooks())
	require.NoError(t, err)
	s := NewSet(e)
	require.Same(t, e, s.Current())
	require.Equal(t, []string{"PLCReprogrammingNotice"}, s.Evaluate(plcProgrammingEvent(), testNow).Playbooks)

	replaceFile(t, path, "rules:\n  - name: broken\n")
	err = s.Reload(path, knownPlaybooks())
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	require.Same(t, e, s.Current(), "an invalid file leaves the running rules in place")

	require.NoError(t, os.Remove(path))
	require.ErrorIs(t, s.Reload(path, knownPlaybooks()), os.ErrNotExist)
	require.Same(t, e, s.Current())

	replaceFile(t, path, threeRules)
	require.NoError(t, s.Reload(path, knownPlaybooks()))
	require.Equal(t, 3, s.Current().Len())
	require.Equal(t, []string{"Other", "Third", "PLCReprogrammingNotice"}, s.Evaluate(plcProgrammingEvent(), testNow).Playbooks)

	require.Equal(t, []string{"no rules are loaded"}, NewSet(nil).Evaluate(plcProgrammingEvent(), testNow).Errors)
}

// syncBuffer is a log sink the Watch goroutine and the test can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWatch(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, DefaultRules(), 0o600))
	e, err := Load(path, knownPlaybooks())
	require.NoError(t, err)

	s := NewSet(e)
	reloads := make(chan error, 16)
	s.OnReload = func(err error) { reloads <- err }
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	hup := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Watch(ctx, path, knownPlaybooks(), logger, hup)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	next := func() error {
		t.Helper()
		select {
		case err := <-reloads:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("no reload within 10 s")
			return nil
		}
	}

	// SIGHUP reloads even an unchanged file. Once it has been handled, the directory watch is in place.
	hup <- syscall.SIGHUP
	require.NoError(t, next())
	require.NotSame(t, e, s.Current())
	require.Contains(t, logs.String(), `msg="rules: reloaded"`)
	require.Contains(t, logs.String(), "cause=\"signal hangup\" rules=8 enabled=3 previous_rules=8")

	// A file replaced by rename is picked up.
	replaceFile(t, path, threeRules)
	require.NoError(t, next())
	require.Equal(t, 3, s.Current().Len())
	require.Contains(t, logs.String(), `cause="file change" rules=3 enabled=3 previous_rules=8`)

	// An invalid file is logged and the running rules stay.
	running := s.Current()
	replaceFile(t, path, "rules:\n  - {name: x, order: 5000, trigger: created, actions: [runPlaybook: Other]}\n")
	err = next()
	require.ErrorContains(t, err, "order: 5000 is out of range")
	require.Same(t, running, s.Current())
	require.Contains(t, logs.String(), `msg="rules: reload failed; the running rules stay"`)
	require.Contains(t, logs.String(), "problems=1 running_rules=3")

	// Written in place (not renamed) works too. The truncation may be seen on its own first if the
	// machine is slow enough to split the write across the debounce; that reload fails and keeps rules.
	require.NoError(t, os.WriteFile(path, DefaultRules(), 0o600))
	for err := next(); err != nil; err = next() {
		require.ErrorContains(t, err, "the file is empty")
		require.Same(t, running, s.Current())
	}
	require.NotSame(t, running, s.Current())
	require.Equal(t, 8, s.Current().Len())

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
	require.False(t, strings.Contains(logs.String(), "level=WARN"), logs.String())
}

// The configured engineering workstation types survive a reload: the worker sets them once.
func TestSetKeepsEngineeringWorkstationTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte("rules:\n  - {name: ws, order: 1, trigger: created, condition: hasEngineeringWorkstation(), actions: [runPlaybook: Other]}\n"), 0o600))
	e, err := Load(path, knownPlaybooks())
	require.NoError(t, err)
	s := NewSet(e)
	s.SetEngineeringWorkstationTypes([]string{"Programming Laptop"})
	ev := incident.Event{Type: incident.EventCreate, Incident: incident.Incident{ID: "i", Devices: []incident.Device{{Name: "d", SubType: "programming laptop"}}}}
	require.Equal(t, []string{"Other"}, s.Evaluate(ev, testNow).Playbooks)
	require.NoError(t, s.Reload(path, knownPlaybooks()))
	require.Equal(t, []string{"Other"}, s.Evaluate(ev, testNow).Playbooks, "after a reload")
	ev.Incident.Devices[0].SubType = "Engineering Station"
	require.Empty(t, s.Evaluate(ev, testNow).Playbooks, "the configured list replaces the default")
}

package rules

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/interlock-soar/interlock/internal/incident"
)

// debounce is how long a burst of file events must be quiet before a reload: an editor's save is a
// write, a rename and a chmod in quick succession, and a deploy may write the file in several pieces.
const debounce = 100 * time.Millisecond

// Set holds the running rules and swaps in new ones atomically: an evaluation in flight keeps the Engine
// it started with, the next one sees the new rules.
type Set struct {
	cur atomic.Pointer[Engine]
	mu  sync.Mutex // one reload at a time
	// wsTypes are applied to every engine the set runs (SetEngineeringWorkstationTypes).
	wsTypes *[]string

	// OnReload, when set, is called after every reload attempt with its outcome (nil on success). Set it
	// before calling Watch. Tests use it to wait for a reload instead of sleeping.
	OnReload func(err error)
}

// NewSet starts a Set with e as the running rules.
func NewSet(e *Engine) *Set {
	s := &Set{}
	s.cur.Store(e)
	return s
}

// SetEngineeringWorkstationTypes sets the engineering workstation types of the running rules and of
// every reload (Engine.SetEngineeringWorkstationTypes).
func (s *Set) SetEngineeringWorkstationTypes(types []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if types == nil {
		s.wsTypes = nil
	} else {
		c := append([]string{}, types...)
		s.wsTypes = &c
	}
	if e := s.cur.Load(); e != nil {
		e.SetEngineeringWorkstationTypes(types)
	}
}

// Current returns the running rules.
func (s *Set) Current() *Engine { return s.cur.Load() }

// Evaluate evaluates the event with the running rules (see Engine.Evaluate).
func (s *Set) Evaluate(ev incident.Event, now time.Time) Result {
	e := s.cur.Load()
	if e == nil {
		return Result{Incident: ev.Incident, Errors: []string{"no rules are loaded"}}
	}
	return e.Evaluate(ev, now)
}

// Reload loads the rules file at path and makes it the running rules. When the file cannot be read or is
// invalid, the running rules stay and the error says why.
func (s *Set) Reload(path string, known []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.reloadLocked(path, known, true)
	return err
}

// reloadLocked reloads; unless force, it skips a file whose content is what is running already.
func (s *Set) reloadLocked(path string, known []string, force bool) (bool, error) {
	data, err := readFile(path)
	if err != nil {
		return true, err
	}
	if cur := s.cur.Load(); !force && cur != nil && cur.sum == sha256.Sum256(data) {
		return false, nil
	}
	e, err := Parse(data, path, known)
	if err != nil {
		return true, err
	}
	if s.wsTypes != nil {
		e.SetEngineeringWorkstationTypes(*s.wsTypes)
	}
	s.cur.Store(e)
	return true, nil
}

// Watch reloads the rules file at path whenever a value arrives on reload (pass a channel given to
// signal.Notify for SIGHUP) and when the file changes, until ctx is done. It watches the file's
// directory, not the file: editors and config deployers (Kubernetes ConfigMaps, Ansible) replace a file
// by renaming another over it, which a watch on the old file would miss. A change is acted on once the
// directory has been quiet for 100 ms, and only if the file's content differs from the running rules;
// SIGHUP always reloads. An invalid file is logged and the running rules stay. When the directory cannot
// be watched, Watch logs why and keeps serving SIGHUP. Run it in its own goroutine.
func (s *Set) Watch(ctx context.Context, path string, known []string, logger *slog.Logger, reload <-chan os.Signal) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		events <-chan fsnotify.Event
		errs   <-chan error
	)
	if w, err := fsnotify.NewWatcher(); err != nil {
		logger.Warn("rules: cannot watch the rules file; reload it with SIGHUP", "file", path, "err", err)
	} else {
		defer w.Close()
		if err := w.Add(filepath.Dir(path)); err != nil {
			logger.Warn("rules: cannot watch the rules file's directory; reload it with SIGHUP", "file", path, "err", err)
		} else {
			events, errs = w.Events, w.Errors
		}
	}

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case sig, ok := <-reload:
			if !ok {
				reload = nil
				continue
			}
			s.reloadAndLog(path, known, logger, "signal "+sig.String(), true)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			logger.Debug("rules: file event", "file", path, "event", ev.String())
			timer.Reset(debounce)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			logger.Warn("rules: file watch error", "file", path, "err", err)
		case <-timer.C:
			s.reloadAndLog(path, known, logger, "file change", false)
		}
	}
}

func (s *Set) reloadAndLog(path string, known []string, logger *slog.Logger, cause string, force bool) {
	s.mu.Lock()
	old := s.cur.Load()
	tried, err := s.reloadLocked(path, known, force)
	cur := s.cur.Load()
	s.mu.Unlock()
	if !tried {
		return
	}
	if err != nil {
		running := 0
		if old != nil {
			running = old.Len()
		}
		var fe *FileError
		problems := 1
		if errors.As(err, &fe) {
			problems = len(fe.Problems)
		}
		logger.Error("rules: reload failed; the running rules stay", "file", path, "cause", cause,
			"problems", problems, "running_rules", running, "err", err)
	} else {
		previous := 0
		if old != nil {
			previous = old.Len()
		}
		logger.Info("rules: reloaded", "file", path, "cause", cause,
			"rules", cur.Len(), "enabled", cur.Enabled(), "previous_rules", previous)
	}
	if s.OnReload != nil {
		s.OnReload(err)
	}
}

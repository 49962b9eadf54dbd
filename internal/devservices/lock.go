package devservices

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errLocked reports a non-blocking lock attempt on a lock someone else holds.
var errLocked = errors.New("locked")

// Lock makes sure one `interlock dev` at a time uses stateDir: two would fight over the dev server's
// SQLite file and the ports. It takes a non-blocking flock on stateDir/dev.lock and records the
// holder's pid there for the message the next one gets. The kernel drops the lock when the process
// dies, so a crash never leaves a stale lock behind. Call unlock on shutdown.
func Lock(stateDir string) (unlock func(), err error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state dir: %w", err)
	}
	path := filepath.Join(stateDir, "dev.lock")
	f, err := tryLock(path)
	if errors.Is(err, errLocked) {
		pid := "unknown"
		if data, rerr := os.ReadFile(path); rerr == nil && strings.TrimSpace(string(data)) != "" {
			pid = strings.TrimSpace(string(data))
		}
		return nil, fmt.Errorf("another interlock dev is running (pid %s) with state dir %s", pid, stateDir)
	}
	if err != nil {
		return nil, err
	}
	// Truncate only once the lock is ours, so a loser never wipes the winner's pid.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { _ = f.Close() }, nil
}

// tryLock opens path and takes an exclusive flock without waiting; errLocked means someone holds it.
// The lock belongs to the open file, so it is released by closing the returned file.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return f, nil
}

// lockWait takes the exclusive lock on path, polling instead of a blocking flock so ctx can end the
// wait. waiting is called once if the lock is busy, to tell the user why nothing happens.
func lockWait(ctx context.Context, path string, waiting func()) (unlock func(), err error) {
	told := false
	for {
		f, err := tryLock(path)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, errLocked) {
			return nil, err
		}
		if !told {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

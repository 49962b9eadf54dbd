package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/interlock-soar/interlock/internal/devservices"
)

// The choices of --persistence.
const (
	devSQLite   = "sqlite"
	devPostgres = "postgres"
)

// doneOf is p's Done, or a channel that never closes for no process.
func doneOf(p *devservices.Process) <-chan struct{} {
	if p == nil {
		return nil
	}
	return p.Done()
}

// devAssets is the example asset directory the dev stack maps impact with.
const devAssets = "testdata/assets.yaml"

// stateSecret reads a random secret kept in the state dir, making it on first use, so answer links
// and the stand-in's password survive restarts of the dev stack.
func stateSecret(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

// selfCommand is how to run this binary again from the current folder, for lines meant to be pasted:
// "go run ./cmd/interlock" under go run, "interlock" when that is this binary on PATH, else its path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "interlock"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/interlock"
	}
	if onPath, err := exec.LookPath("interlock"); err == nil && sameFile(onPath, exe) {
		return "interlock"
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return "." + string(filepath.Separator) + rel
		}
	}
	return exe
}

func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// exampleFile is the path of a shipped example payload from the current folder: testdata/NAME in the
// repository root.
func exampleFile(name string) string {
	p := filepath.Join("testdata", name)
	if _, err := os.Stat(p); err != nil {
		return p + " (from the repository's root folder)"
	}
	return p
}

// devPort is a port the dev stack binds, and the flag that moves it.
type devPort struct {
	flag, what, host string
	port             int
}

// checkPorts fails, naming the flag to use, when another process holds one of the ports: a server's
// readiness check would otherwise find the other process answering there (a Temporal developer often
// has a dev server of their own on 7233) and call the stack ready.
func checkPorts(ports []devPort) error {
	var errs []error
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort(p.host, strconv.Itoa(p.port)))
		if err != nil {
			errs = append(errs, fmt.Errorf("port %d, for %s, is taken by another process (another Temporal dev server or an earlier stack?): stop it, or pass %s with a free port", p.port, p.what, p.flag))
			continue
		}
		ln.Close()
	}
	return errors.Join(errs...)
}

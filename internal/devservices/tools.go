// Package devservices runs Interlock's embedded default on one machine: it installs the pinned Temporal CLI
// and Mailpit binaries with `go install` when missing, and runs them as child processes on loopback.
// Besides the CLI's dev server (SQLite) it can run a real Temporal cluster: the pinned Temporal server on
// PostgreSQL, set up as the temporalio/auto-setup image of docker-compose.yml sets it up (StartCluster).
// `interlock dev` and the integration tests (through internal/testenv) share it. It imports nothing else
// from Interlock so either can compose it freely.
package devservices

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// modulePath identifies Interlock's own go.mod when looking for the project-local tools folder.
const modulePath = "github.com/interlock-soar/interlock"

// Tool is a Go-installable binary pinned to one version.
type Tool struct {
	Name    string // binary name, as `go install` names it
	Module  string // package path of the main package
	Version string // module version
}

// Temporal is the pinned Temporal CLI, whose `server start-dev` is the embedded dev server.
func Temporal() Tool {
	return Tool{Name: "temporal", Module: "github.com/temporalio/cli/cmd/temporal", Version: "v1.5.1"}
}

// Mailpit is the pinned Mailpit, the embedded SMTP server with a web UI.
func Mailpit() Tool {
	return Tool{Name: "mailpit", Module: "github.com/axllent/mailpit", Version: "v1.27.11"}
}

// TemporalServer is the pinned Temporal server, the program the temporalio/auto-setup image runs. Its
// version is that image's tag in docker-compose.yml (compose_test.go checks), so the cluster the tests
// run is the one production runs. It installs as a binary named "server".
func TemporalServer() Tool {
	return Tool{Name: "server", Module: "go.temporal.io/server/cmd/server", Version: "v1.29.1"}
}

// TemporalSQL is the Temporal server's SQL tool (temporal-sql-tool in the image), of the same version:
// it creates the databases and applies the schemas embedded in it. It installs as "sql".
func TemporalSQL() Tool {
	return Tool{Name: "sql", Module: "go.temporal.io/server/cmd/tools/sql", Version: TemporalServer().Version}
}

// String returns module@version, the form `go install` takes.
func (t Tool) String() string { return t.Module + "@" + t.Version }

// Ensure returns the path of t's binary in dir, installing it there with `go install` first when it is
// missing or another version. An install writes one line to progress (nil discards it); go's own output
// only appears, trimmed to its last lines, in the error when the install fails. A file lock in dir
// makes concurrent callers (parallel test binaries, a test run beside `interlock dev`) wait for one
// install instead of racing on the same file.
func Ensure(ctx context.Context, dir string, t Tool, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	bin := filepath.Join(dir, t.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create tools dir: %w", err)
	}
	// The check happens under the lock: a binary another process is still writing must not pass for
	// installed, and the second waiter must see the first one's result rather than install again.
	unlock, err := lockWait(ctx, filepath.Join(dir, ".install.lock"), func() {
		fmt.Fprintf(progress, "waiting for another process installing %s %s…\n", t.Name, t.Version)
	})
	if err != nil {
		return "", fmt.Errorf("lock tools dir for %s: %w", t.Name, err)
	}
	defer unlock()

	if matches(bin, t) {
		return bin, nil
	}
	// The package path too: "server" alone does not say which.
	fmt.Fprintf(progress, "installing %s %s (%s) into %s (first run, takes a few minutes)…\n", t.Name, t.Version, t.Module, dir)
	start := time.Now()
	if err := install(ctx, dir, t); err != nil {
		return "", err
	}
	if !matches(bin, t) {
		return "", fmt.Errorf("go install %s succeeded but %s does not report that version", t, bin)
	}
	fmt.Fprintf(progress, "installed %s %s in %s\n", t.Name, t.Version, time.Since(start).Round(time.Second))
	return bin, nil
}

// matches reports whether bin is a Go binary built from t's package at t's version. It reads the build
// info embedded in the binary, the same data `go version -m` prints, so it is exact and needs no go
// command for the common already-installed case.
func matches(bin string, t Tool) bool {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return false // missing, not a Go binary, or truncated by an interrupted install
	}
	return info.Path == t.Module && info.Main.Version == t.Version
}

func install(ctx context.Context, dir string, t Tool) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("install %s: the go command is needed for the first run: %w", t, err)
	}
	cmd := exec.CommandContext(ctx, goBin, "install", t.String())
	// GOBIN wins over any inherited value; the rest of the environment (proxy, cache, toolchain)
	// stays the user's. Outside the module, `go install pkg@version` ignores the current go.mod.
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go install %s: %w\n%s", t, err, lastLines(out.String(), 20))
	}
	return nil
}

// lastLines keeps the end of a long tool output, where the actual failure usually is.
func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ToolsDir is where the pinned binaries live: $INTERLOCK_TOOLS_DIR when set; else .tools/bin in the
// Interlock checkout containing the working directory (gitignored, so each clone keeps its own); else
// interlock/bin in the user's cache directory, for a binary run outside a checkout.
func ToolsDir() (string, error) {
	if dir := os.Getenv("INTERLOCK_TOOLS_DIR"); dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find tools dir: %w", err)
	}
	if root, ok := moduleRoot(wd); ok {
		return filepath.Join(root, ".tools", "bin"), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find tools dir: no Interlock checkout above %s and %w", wd, err)
	}
	return filepath.Join(cache, "interlock", "bin"), nil
}

// moduleRoot walks up from dir to the directory whose go.mod declares Interlock's module. Another
// module's go.mod on the way (a nested example, a vendored copy) does not stop the walk.
func moduleRoot(dir string) (string, bool) {
	for {
		if isInterlockModule(filepath.Join(dir, "go.mod")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isInterlockModule(goMod string) bool {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == modulePath
		}
	}
	return false
}

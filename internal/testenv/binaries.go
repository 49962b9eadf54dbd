package testenv

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/devservices"
)

// Tool returns the path of a pinned tool (devservices.Temporal(), devservices.Mailpit()), installing it on
// first use, for tests that run the tools as processes of their own.
func Tool(t testing.TB, tool devservices.Tool) string {
	t.Helper()
	skipIfDisabled(t)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	bin, err := ensure(ctx, tool)
	require.NoError(t, err)
	return bin
}

// BuildInterlock builds cmd/interlock into the test's temporary folder and returns the binary, for
// tests that run Interlock as real OS processes. `go test` puts its own go first on PATH.
func BuildInterlock(t testing.TB) string {
	t.Helper()
	skipIfDisabled(t)
	bin := filepath.Join(t.TempDir(), "interlock")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin, "./cmd/interlock")
	cmd.Dir = ModuleRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/interlock:\n%s", out)
	return bin
}

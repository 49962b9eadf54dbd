package workbook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlock-soar/interlock/internal/devservices"
)

// With INTERLOCK_TEST_PERSISTENCE=postgres (make test's second pass) the store's tests run on a real
// PostgreSQL server started here, the distribution's own binaries, as the Temporal cluster tests do.
var testPG struct {
	once sync.Once
	proc *devservices.Process
	dir  string
	dsn  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testPG.proc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = testPG.proc.Stop(ctx)
		cancel()
		_ = os.RemoveAll(testPG.dir)
	}
	os.Exit(code)
}

// testPostgresDSN starts the package's PostgreSQL once and returns its DSN; "" when the tests run on
// SQLite.
func testPostgresDSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv("INTERLOCK_TEST_WORKBOOK_DSN"); dsn != "" {
		return dsn
	}
	if os.Getenv("INTERLOCK_TEST_PERSISTENCE") != "postgres" {
		return ""
	}
	testPG.once.Do(func() { testPG.dsn, testPG.err = startTestPostgres() })
	if testPG.err != nil {
		t.Fatalf("start PostgreSQL for the workbook tests: %v", testPG.err)
	}
	return testPG.dsn
}

func startTestPostgres() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tools, err := devservices.ToolsDir()
	if err != nil {
		return "", err
	}
	bin, err := devservices.EnsurePostgres(ctx, tools, os.Stderr)
	if err != nil {
		return "", err
	}
	if testPG.dir, err = os.MkdirTemp("", "interlock-workbook-pg-"); err != nil {
		return "", err
	}
	if err := devservices.AllowPostgresThrough(testPG.dir); err != nil {
		return "", err
	}
	data := filepath.Join(testPG.dir, "data")
	if testPG.proc, err = devservices.StartPostgres(ctx, devservices.PostgresOptions{
		BinDir: bin, DataDir: data, Throwaway: true, LogFile: data + ".log",
	}); err != nil {
		return "", err
	}
	addr := testPG.proc.Addr()
	port := addr[strings.LastIndex(addr, ":")+1:]
	if _, err := strconv.Atoi(port); err != nil {
		return "", fmt.Errorf("postgresql address %q", addr)
	}
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%s/postgres?sslmode=disable", devservices.PostgresUser, devservices.PostgresPassword, port), nil
}

package devservices

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// setupSchema does what the auto-setup image's script does for PostgreSQL on every start: create the
// databases (a no-op when they exist), set up the schema versioning at 0.0 and update each schema to
// the latest version, with the schemas embedded in the sql tool. All three steps are idempotent, so a
// cluster folder made by an older server version is upgraded. A marker file with the server version
// lets later starts skip the tool altogether.
// announce is called before the tool runs.
func setupSchema(ctx context.Context, sqlBin, markerFile string, postgresPort int, announce func()) (ran bool, err error) {
	want := TemporalServer().Version + "\n"
	if got, err := os.ReadFile(markerFile); err == nil && string(got) == want {
		return false, nil
	}
	announce()
	for _, db := range []struct{ name, schema string }{
		{temporalDB, "postgresql/v12/temporal"},
		{visibilityDB, "postgresql/v12/visibility"},
	} {
		for _, step := range [][]string{
			{"create-database"},
			{"setup-schema", "-v", "0.0"},
			{"update-schema", "--schema-name", db.schema},
		} {
			if err := runSQLTool(ctx, sqlBin, postgresPort, db.name, step...); err != nil {
				return true, err
			}
		}
	}
	if err := os.WriteFile(markerFile, []byte(want), 0o600); err != nil {
		return true, fmt.Errorf("schema marker: %w", err)
	}
	return true, nil
}

func runSQLTool(ctx context.Context, sqlBin string, postgresPort int, db string, step ...string) error {
	args := append([]string{"--ep", "127.0.0.1", "-p", strconv.Itoa(postgresPort), "-u", PostgresUser,
		"--pl", TemporalSQLPlugin, "--db", db}, step...)
	cmd := exec.CommandContext(ctx, sqlBin, args...)
	// The password goes in the environment rather than on a command line anyone can read in ps.
	cmd.Env = append(os.Environ(), "SQL_PASSWORD="+PostgresPassword)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(sqlBin), strings.Join(args, " "), err, lastLines(out.String(), 20))
	}
	return nil
}

package topology_test

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/testenv"
)

// TestChaosLosesAndDuplicatesNothing is the short form of the chaos run: `interlock bench` launches 3
// workers and 2 intakes as processes, posts 200 incidents (tickets and PLC notices, each answered)
// round robin over the intakes while a worker gets SIGKILL every 2 s, an intake is killed once and the
// Temporal server restarts once. The bench itself fails on any acknowledged incident without its one
// ticket or email, a duplicate, or a run failed or not closed. The long form (README, "Chaos") is the
// same command with --incidents 2000.
func TestChaosLosesAndDuplicatesNothing(t *testing.T) {
	persistence, err := testenv.Persistence() // INTERLOCK_TEST_PERSISTENCE=postgres: on the Temporal server on PostgreSQL
	require.NoError(t, err)
	bin := testenv.BuildInterlock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--topology", "split", "--workers", "3", "--intakes", "2", "--persistence", persistence,
		"--incidents", "200", "--concurrency", "16", "--storm", "0", "--alerts", "0", "--latency-incidents", "0", "--no-ceiling",
		"--chaos-kill-every", "2s", "--timeout", "4m")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	totals := regexp.MustCompile(`posts (\d+) \(retries \d+\), not accepted 0, lost 0, duplicates 0, runs failed 0, not closed 0`).FindSubmatch(out)
	require.NotNil(t, totals, "the full-load totals: %s", out)
	require.Equal(t, "200", string(totals[1]))
	chaos := regexp.MustCompile(`Chaos: (\d+) worker kills, (\d+) intake kills, (\d+) Temporal restarts, 0 errors`).FindSubmatch(out)
	require.NotNil(t, chaos, "the chaos report: %s", out)
	kills, _ := strconv.Atoi(string(chaos[1]))
	require.GreaterOrEqual(t, kills, 2, "workers were killed while the incidents ran")
	require.Equal(t, "1", string(chaos[2]))
	require.Equal(t, "1", string(chaos[3]))
	t.Logf("%s", regexp.MustCompile(`(?m)^(  posts .*|Chaos: .*)$`).FindAll(out, -1))
}

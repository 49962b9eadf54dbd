package topology

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/devservices"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
)

// TestShapesRunPlaybooks brings up each shape as real processes of the interlock binary and runs a
// new-workstation incident through every intake address to a completed run (its ServiceNow ticket
// made on the stand-in). In the split shape a worker is then killed with SIGKILL and restarted: it
// comes back as a new process that polls again, and the deployment still runs incidents.
func TestShapesRunPlaybooks(t *testing.T) {
	bin := testenv.BuildInterlock(t)
	temporalBin, mailpitBin := testenv.Tool(t, devservices.Temporal()), testenv.Tool(t, devservices.Mailpit())
	for _, tc := range []struct {
		shape            Shape
		workers, intakes int
		roles            []string
		urls             int
	}{
		{Split, 2, 1, []string{RoleWorker, RoleWorker, RoleIntake}, 1},
		{Combined, 2, 0, []string{RoleReplica, RoleReplica}, 2},
	} {
		// One after the other: each deployment is five processes or more on a small machine.
		t.Run(string(tc.shape), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			top, err := Start(ctx, Options{
				Shape: tc.shape, Workers: tc.workers, Intakes: tc.intakes,
				Bin: bin, TemporalBin: temporalBin, MailpitBin: mailpitBin, Dir: t.TempDir(),
			})
			require.NoError(t, err)
			t.Cleanup(func() {
				if t.Failed() {
					for i := range top.Members() {
						b, _ := os.ReadFile(top.LogFile(i))
						t.Logf("%s log:\n%s", top.Members()[i].Name(), b)
					}
				}
				require.NoError(t, top.Stop(context.Background()))
				for _, m := range top.Members() {
					requireGone(t, m.PID)
				}
			})
			var roles []string
			for _, m := range top.Members() {
				roles = append(roles, m.Role)
				require.NotZero(t, m.PID)
			}
			require.Equal(t, tc.roles, roles)
			require.Len(t, top.IntakeURLs(), tc.urls)

			c, err := client.DialContext(ctx, client.Options{HostPort: top.Temporal.Addr()})
			require.NoError(t, err)
			t.Cleanup(c.Close)
			for i, url := range top.IntakeURLs() {
				runIncident(ctx, t, c, url, fmt.Sprintf("%s%d", tc.shape, i))
			}
			if tc.shape != Split {
				return
			}
			before := top.Members()[0].PID
			require.NoError(t, top.Kill(0))
			requireGone(t, before)
			require.NoError(t, top.Restart(ctx, 0))
			require.NotEqual(t, before, top.Members()[0].PID, "a new process")
			require.NoError(t, top.Kill(1)) // only the restarted worker is left to run it
			runIncident(ctx, t, c, top.IntakeURLs()[0], "restarted")
		})
	}
}

// runIncident posts a new-workstation incident and waits until its ticket run completes.
func runIncident(ctx context.Context, t *testing.T, c client.Client, intakeURL, tag string) {
	t.Helper()
	tag = fmt.Sprintf("%s%d", tag, time.Now().UnixNano()%1_000_000)
	body := testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", tag)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, intakeURL+"/v1/incidents", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	var answer struct {
		Runs []struct{ Playbook, WorkflowID string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	for _, r := range answer.Runs {
		if r.Playbook != playbooks.NewEngineeringStationName {
			continue
		}
		var res playbooks.NewEngineeringStationResult
		require.NoError(t, c.GetWorkflow(ctx, r.WorkflowID, "").Get(ctx, &res), "run %s", r.WorkflowID)
		return
	}
	t.Fatalf("no %s run in %+v", playbooks.NewEngineeringStationName, answer.Runs)
}

func requireGone(t *testing.T, pid int) {
	t.Helper()
	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "process %d still runs", pid)
}

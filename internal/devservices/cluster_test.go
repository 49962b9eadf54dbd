package devservices

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.yaml.in/yaml/v3"
)

// clusterBinaries installs what a cluster needs, as a first run would.
func clusterBinaries(t *testing.T) ClusterBinaries {
	t.Helper()
	if os.Getenv("INTERLOCK_SKIP_INTEGRATION") == "1" {
		t.Skip("INTERLOCK_SKIP_INTEGRATION=1")
	}
	dir, err := ToolsDir()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute) // as testenv.StartTimeout
	defer cancel()
	b, err := EnsureCluster(ctx, dir, os.Stderr)
	require.NoError(t, err)
	return b
}

// A cluster starts cold in a temporary folder (initdb, schemas, namespace, search attributes), keeps
// it when told to, and starts warm on it again with the workflows and search attributes still there;
// the folder it was given is left for the caller, and nothing keeps running after Stop.
func TestCluster(t *testing.T) {
	t.Parallel()
	bins := clusterBinaries(t)
	opts := ClusterOptions{
		Binaries:         bins,
		KeepDir:          true,
		Namespace:        "interlock-test",
		SearchAttributes: []SearchAttribute{{"InterlockPlaybook", "Keyword"}, {"InterlockSite", "KeywordList"}},
		Progress:         t.Output(),
		Logger:           slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	began := time.Now()
	c, err := StartCluster(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Stop(context.Background()); _ = os.RemoveAll(c.Dir()) })
	t.Logf("cold cluster ready in %s", time.Since(began).Round(time.Millisecond))

	tc := dialNamespace(t, c.Temporal, "interlock-test")
	run, err := tc.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{
		ID: "devservices-cluster", TaskQueue: "devservices-test-no-worker",
	}, "NoSuchWorkflow")
	require.NoError(t, err)

	tpid, ppid := c.Temporal.PID(), c.Postgres.PID()
	began = time.Now()
	require.NoError(t, c.Stop(t.Context()))
	t.Logf("stopped in %s", time.Since(began).Round(time.Millisecond))
	requireGone(t, tpid)
	requireGone(t, ppid)
	require.DirExists(t, c.Dir(), "KeepDir keeps the folder")

	opts.Dir, opts.KeepDir = c.Dir(), false
	began = time.Now()
	c2, err := StartCluster(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c2.Stop(context.Background()) })
	t.Logf("warm cluster ready in %s", time.Since(began).Round(time.Millisecond))
	tc = dialNamespace(t, c2.Temporal, "interlock-test") // on new free ports
	desc, err := tc.DescribeWorkflow(t.Context(), run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, "NoSuchWorkflow", desc.RawResponse.GetWorkflowExecutionInfo().GetType().GetName())
	require.Equal(t, map[string]string{"InterlockPlaybook": "Keyword", "InterlockSite": "KeywordList"},
		customAttributesIn(t, tc, "interlock-test"))

	tpid, ppid = c2.Temporal.PID(), c2.Postgres.PID()
	require.NoError(t, c2.Stop(t.Context()))
	requireGone(t, tpid)
	requireGone(t, ppid)
	require.FileExists(t, filepath.Join(c.Dir(), "postgres", "PG_VERSION"), "a given folder is the caller's")
}

func dialNamespace(t *testing.T, p *Process, namespace string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  p.Addr(),
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// The server's membership ports must fit cluster_membership.rpc_port, a SMALLINT.
func TestFreePortsBelow(t *testing.T) {
	t.Parallel()
	ports, err := freePorts(4, maxMembershipPort+1)
	require.NoError(t, err)
	seen := map[int]bool{}
	for _, p := range ports {
		require.LessOrEqual(t, p, maxMembershipPort)
		require.GreaterOrEqual(t, p, 20000)
		require.False(t, seen[p], "distinct")
		seen[p] = true
	}
	ports, err = freePorts(3, 0)
	require.NoError(t, err)
	require.Len(t, ports, 3)
}

// The rendered config is what the server loads: `server render-config` parses and validates it.
func TestServerConfigLoads(t *testing.T) {
	t.Parallel()
	bins := clusterBinaries(t)
	root := t.TempDir()
	ports := serverPorts{7233, 7243, 6933, 7234, 6934, 7235, 6935, 7239, 6939}
	require.NoError(t, writeServerConfig(root, ports, "127.0.0.1:5432"))
	// render-config reads --config as it is, without --root, and prints the loaded config as YAML.
	cmd := exec.CommandContext(t.Context(), bins.Server, "--config", filepath.Join(root, "config"), "--env", "docker", "render-config")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())
	var loaded struct {
		Persistence struct {
			NumHistoryShards int    `yaml:"numHistoryShards"`
			DefaultStore     string `yaml:"defaultStore"`
			VisibilityStore  string `yaml:"visibilityStore"`
			DataStores       map[string]struct {
				SQL struct {
					PluginName   string `yaml:"pluginName"`
					DatabaseName string `yaml:"databaseName"`
					ConnectAddr  string `yaml:"connectAddr"`
					User         string `yaml:"user"`
				} `yaml:"sql"`
			} `yaml:"datastores"`
		} `yaml:"persistence"`
		Services map[string]struct {
			RPC struct {
				GRPCPort       int `yaml:"grpcPort"`
				MembershipPort int `yaml:"membershipPort"`
			} `yaml:"rpc"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(out, &loaded))
	require.Equal(t, NumHistoryShards, loaded.Persistence.NumHistoryShards)
	for store, db := range map[string]string{loaded.Persistence.DefaultStore: "temporal", loaded.Persistence.VisibilityStore: "temporal_visibility"} {
		sql := loaded.Persistence.DataStores[store].SQL
		require.Equal(t, []string{"postgres12", db, "127.0.0.1:5432", "temporal"},
			[]string{sql.PluginName, sql.DatabaseName, sql.ConnectAddr, sql.User}, store)
	}
	require.Equal(t, 7234, loaded.Services["history"].RPC.GRPCPort)
	require.Equal(t, 6939, loaded.Services["worker"].RPC.MembershipPort)
	out, err = exec.CommandContext(t.Context(), bins.Server, "validate-dynamic-config", filepath.Join(root, "dynamicconfig.yaml")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NotContains(t, string(out), "error")
}

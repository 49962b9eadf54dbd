package interlock_test

import (
	"cmp"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/devservices"
)

// No container engine runs where the tests run, so the compose stack's wiring is checked here.

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Configs  map[string]struct {
		Content string `yaml:"content"`
	} `yaml:"configs"`
}

type composeService struct {
	Image       string                    `yaml:"image"`
	Build       any                       `yaml:"build"`
	Command     []string                  `yaml:"command"`
	DependsOn   map[string]map[string]any `yaml:"depends_on"`
	Environment map[string]string         `yaml:"environment"`
	Ports       []string                  `yaml:"ports"`
	Volumes     []string                  `yaml:"volumes"`
	Healthcheck map[string]any            `yaml:"healthcheck"`
	Deploy      struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
	Configs []struct {
		Source string `yaml:"source"`
		Target string `yaml:"target"`
	} `yaml:"configs"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile("docker-compose.yml")
	require.NoError(t, err)
	var cf composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(false)
	require.NoError(t, dec.Decode(&cf))
	return cf
}

func TestComposeImagesArePinned(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:[0-9v][A-Za-z0-9._-]*$`)
	for name, s := range cf.Services {
		if s.Build != nil {
			continue
		}
		require.Regexp(t, pinned, s.Image, "service %s: image must carry a pinned version tag", name)
	}
	require.Equal(t, "temporalio/ui:2.42.1", cf.Services["temporal-ui"].Image, "UI ≥ 2.31.3 has Start Workflow on by default")
}

func TestComposeDependencies(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	for name, s := range cf.Services {
		for dep := range s.DependsOn {
			_, ok := cf.Services[dep]
			require.True(t, ok, "service %s depends on unknown service %s", name, dep)
		}
	}
	want := map[string][]string{
		"temporal":    {"postgresql"},
		"temporal-ui": {"temporal"},
		"interlock":   {"temporal", "mailpit", "servicenow"},
	}
	for svc, deps := range want {
		for _, d := range deps {
			require.Contains(t, cf.Services[svc].DependsOn, d, "%s must wait for %s", svc, d)
		}
	}
	require.Equal(t, "service_healthy", cf.Services["temporal"].DependsOn["postgresql"]["condition"])
	require.Equal(t, "service_healthy", cf.Services["interlock"].DependsOn["temporal"]["condition"])
	for _, name := range []string{"postgresql", "temporal"} {
		require.NotEmpty(t, cf.Services[name].Healthcheck, "%s needs a healthcheck others can wait on", name)
	}
}

// containerPort reports whether a service publishes (or is reachable on) the container port.
func containerPort(s composeService, port string) bool {
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		if parts[len(parts)-1] == port {
			return true
		}
	}
	return false
}

func TestComposeInterlockWiring(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	known := map[string]bool{}
	for _, d := range config.Docs() {
		for e := range strings.SplitSeq(d.Env, ", ") {
			known[e] = true
		}
	}
	s := cf.Services["interlock"]
	require.NotNil(t, s.Build, "interlock is built from this repository")
	host, port, err := net.SplitHostPort(s.Environment["INTERLOCK_TEMPORAL_ADDRESS"])
	require.NoError(t, err)
	require.Equal(t, "temporal", host, "interlock must talk to the temporal service")
	require.True(t, containerPort(cf.Services["temporal"], port), "temporal must serve port %s", port)
	for k := range s.Environment {
		if strings.HasPrefix(k, "INTERLOCK_") {
			require.True(t, known[k], "interlock sets %s, which is no documented config key", k)
		}
	}
	require.Equal(t, "mailpit", s.Environment["INTERLOCK_SMTP_HOST"])
	require.True(t, containerPort(cf.Services["mailpit"], s.Environment["INTERLOCK_SMTP_PORT"]))
	require.Equal(t, "none", s.Environment["INTERLOCK_SMTP_TLS_POLICY"], "Mailpit speaks plain SMTP")
	u, err := url.Parse(s.Environment["INTERLOCK_SERVICENOW_INSTANCE_URL"])
	require.NoError(t, err)
	require.Equal(t, "servicenow", u.Hostname())
	require.True(t, containerPort(cf.Services["servicenow"], u.Port()))
	_, port, err = net.SplitHostPort(s.Environment["INTERLOCK_INTAKE_LISTEN"])
	require.NoError(t, err)
	require.True(t, containerPort(s, port), "the intake's listen port is published")
	require.True(t, slices.Contains(cf.Services["postgresql"].Volumes, "postgresql-data:/var/lib/postgresql/data"))
}

// TestComposeRunsTheFastShape: Interlock runs as replicas, worker and intake in one process (eager
// start applies only there), never as a separate worker and intake; more than one, on a published
// port range that leaves room to scale.
func TestComposeRunsTheFastShape(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	for name, svc := range cf.Services {
		if svc.Build == nil || slices.Contains(svc.Command, "standin") {
			continue
		}
		require.Equal(t, "replica", svc.Command[0], "service %s runs Interlock as %q; the production shape is replica", name, svc.Command)
	}
	s := cf.Services["interlock"]
	require.GreaterOrEqual(t, s.Deploy.Replicas, 2, "scaled out by default")
	require.Len(t, s.Ports, 1)
	hosts, _, ok := strings.Cut(s.Ports[0], ":")
	require.True(t, ok)
	first, last, ok := strings.Cut(hosts, "-")
	require.True(t, ok, "a host port range, one port per replica: %s", s.Ports[0])
	lo, err := strconv.Atoi(first)
	require.NoError(t, err)
	hi, err := strconv.Atoi(last)
	require.NoError(t, err)
	require.Greater(t, hi-lo+1, s.Deploy.Replicas, "room to scale beyond the default replicas")
}

// TestComposeTemporalHonoursPriority: the server gets the dynamic config that turns on the priority
// matcher (server 1.29 ignores task priority without it) and a short stats cache for the backlog bound.
func TestComposeTemporalHonoursPriority(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	tmp := cf.Services["temporal"]
	require.Len(t, tmp.Configs, 1)
	require.Equal(t, "/etc/temporal/"+tmp.Environment["DYNAMIC_CONFIG_FILE_PATH"], tmp.Configs[0].Target,
		"the image reads DYNAMIC_CONFIG_FILE_PATH relative to /etc/temporal")
	var dc map[string][]struct {
		Value any `yaml:"value"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(cf.Configs[tmp.Configs[0].Source].Content), &dc))
	require.Equal(t, true, dc["matching.useNewMatcher"][0].Value)
	require.Equal(t, "1s", dc["matching.TaskQueueInfoByBuildIdTTL"][0].Value)
}

// The tests' Temporal cluster (devservices.StartCluster, INTERLOCK_TEST_PERSISTENCE=postgres) stands in for
// compose's temporal service: the same server version, plugin, account and store layout, so this
// file's Temporal configuration is exercised by tests that run.
func TestComposeTemporalIsTheTestCluster(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	tmp, pg := cf.Services["temporal"], cf.Services["postgresql"]
	require.Equal(t, "temporalio/auto-setup:"+strings.TrimPrefix(devservices.TemporalServer().Version, "v"), tmp.Image,
		"the image tag is the server version the cluster pins")
	require.Equal(t, devservices.TemporalServer().Version, devservices.TemporalSQL().Version)
	require.Equal(t, devservices.TemporalSQLPlugin, tmp.Environment["DB"])
	require.Equal(t, devservices.PostgresUser, tmp.Environment["POSTGRES_USER"])
	require.Equal(t, devservices.PostgresPassword, tmp.Environment["POSTGRES_PWD"])
	require.Equal(t, devservices.PostgresUser, pg.Environment["POSTGRES_USER"])
	require.Equal(t, devservices.PostgresPassword, pg.Environment["POSTGRES_PASSWORD"])
	// What the cluster leaves at auto-setup's defaults must be left there here too.
	require.Equal(t, strconv.Itoa(devservices.NumHistoryShards), cmp.Or(tmp.Environment["NUM_HISTORY_SHARDS"], "4"))
	for _, k := range []string{"DBNAME", "VISIBILITY_DBNAME", "ENABLE_ES", "SKIP_SCHEMA_SETUP", "SKIP_DEFAULT_NAMESPACE_CREATION", "DEFAULT_NAMESPACE_RETENTION"} {
		require.NotContains(t, tmp.Environment, k, "the cluster does what auto-setup does without %s", k)
	}
}

func TestDockerfileIsMultiStageNonRootStatic(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(data)
	require.Equal(t, 2, strings.Count(df, "\nFROM ")+boolInt(strings.HasPrefix(df, "FROM ")), "two stages")
	require.Contains(t, df, "CGO_ENABLED=0", "static binary")
	require.Regexp(t, `(?m)^USER nonroot`, df)
	require.NotContains(t, df, ":latest")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

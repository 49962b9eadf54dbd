package interlock_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.yaml.in/yaml/v3"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/sdkmetrics"
	"github.com/interlock-soar/interlock/internal/stack"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
)

// The operations view (deploy/) is checked against the compose file and against the metrics
// Interlock's code registers, so a renamed metric or a moved port fails here, not on a blank panel.

var env = testenv.New()

func TestMain(m *testing.M) { env.Main(m) }

const datasourceUID = "interlock-prometheus"

type promConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
		DNSSDConfigs []struct {
			Names []string `yaml:"names"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
	} `yaml:"scrape_configs"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(false)
	require.NoError(t, dec.Decode(v), path)
}

// interlockMetricsPort is the container port where an Interlock service serves /metrics: a replica's
// intake listen port (the intake serves /metrics), or a worker's worker.metricsListen.
func interlockMetricsPort(s composeService) (string, bool) {
	if s.Build == nil || len(s.Command) == 0 {
		return "", false
	}
	key := map[string]string{"replica": "INTERLOCK_INTAKE_LISTEN", "serve": "INTERLOCK_INTAKE_LISTEN", "worker": "INTERLOCK_WORKER_METRICS_LISTEN"}[s.Command[0]]
	if key == "" {
		return "", false
	}
	_, port, err := net.SplitHostPort(s.Environment[key])
	return port, err == nil
}

func TestPrometheusScrapesEveryInterlockProcess(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	var pc promConfig
	readYAML(t, "deploy/prometheus/prometheus.yml", &pc)
	var targets []string
	for _, sc := range pc.ScrapeConfigs {
		require.Contains(t, []string{"", "/metrics"}, sc.MetricsPath, "job %s", sc.JobName)
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				targets = append(targets, net.JoinHostPort(n, strconv.Itoa(d.Port)))
			}
		}
	}
	require.NotEmpty(t, targets)
	scraped := map[string]bool{}
	for _, target := range targets {
		host, port, err := net.SplitHostPort(target)
		require.NoError(t, err, target)
		s, ok := cf.Services[host]
		require.True(t, ok, "scrape target %s is no compose service", target)
		want, ok := interlockMetricsPort(s)
		require.True(t, ok, "scrape target %s: service %s serves no /metrics", target, host)
		require.Equal(t, want, port, "scrape target %s: %s serves /metrics on %s", target, host, want)
		scraped[host] = true
	}
	for name, s := range cf.Services {
		if _, ok := interlockMetricsPort(s); ok {
			require.True(t, scraped[name], "Interlock service %s is not scraped", name)
		}
	}
}

func TestComposeOperationsView(t *testing.T) {
	t.Parallel()
	cf := loadCompose(t)
	prom, graf := cf.Services["prometheus"], cf.Services["grafana"]
	require.Contains(t, prom.Volumes, "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro")
	require.True(t, slices.Contains(prom.Command, "--config.file=/etc/prometheus/prometheus.yml"))
	require.Contains(t, graf.Volumes, "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro")
	require.Contains(t, graf.Volumes, "./deploy/grafana/dashboards:/etc/grafana/dashboards:ro")
	for _, s := range []composeService{prom, graf} {
		for _, p := range s.Ports {
			require.True(t, strings.HasPrefix(p, "127.0.0.1:"), "%s: published on loopback only", p)
		}
	}
	var ds struct {
		Datasources []struct {
			UID string `yaml:"uid"`
			URL string `yaml:"url"`
		} `yaml:"datasources"`
	}
	readYAML(t, "deploy/grafana/provisioning/datasources/prometheus.yml", &ds)
	require.Len(t, ds.Datasources, 1)
	require.Equal(t, datasourceUID, ds.Datasources[0].UID)
	require.Equal(t, "http://prometheus:9090", ds.Datasources[0].URL)
	require.True(t, containerPort(prom, "9090"))
	var dp struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "deploy/grafana/provisioning/dashboards/interlock.yml", &dp)
	require.Len(t, dp.Providers, 1)
	require.Equal(t, "/etc/grafana/dashboards", dp.Providers[0].Options.Path, "where compose mounts the dashboards")
}

type dashboard struct {
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource datasource `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Type       string     `json:"type"`
		Title      string     `json:"title"`
		Datasource datasource `json:"datasource"`
		Targets    []struct {
			Expr       string     `json:"expr"`
			Datasource datasource `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

type datasource struct {
	UID string `json:"uid"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile("deploy/grafana/dashboards/interlock.json")
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(data, &d))
	return d
}

var metricName = regexp.MustCompile(`\b(?:interlock|temporal)_[a-z_]+`)

// dashboardMetrics are the metric names the dashboard's queries read, histogram suffixes stripped.
func dashboardMetrics(t *testing.T, d dashboard) map[string][]string {
	t.Helper()
	used := map[string][]string{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		require.Equal(t, datasourceUID, p.Datasource.UID, "panel %q", p.Title)
		require.NotEmpty(t, p.Targets, "panel %q", p.Title)
		for _, tg := range p.Targets {
			require.Equal(t, datasourceUID, tg.Datasource.UID, "panel %q", p.Title)
			require.Contains(t, tg.Expr, `instance=~"$instance"`, "panel %q follows the instance variable", p.Title)
			for _, n := range metricName.FindAllString(tg.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					n = strings.TrimSuffix(n, suffix)
				}
				used[n] = append(used[n], p.Title)
			}
		}
	}
	return used
}

func TestDashboardUsesTheProvisionedDatasource(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	require.Len(t, d.Templating.List, 1)
	require.Equal(t, "instance", d.Templating.List[0].Name)
	require.Equal(t, datasourceUID, d.Templating.List[0].Datasource.UID)
	used := dashboardMetrics(t, d)
	for _, want := range []string{"interlock_http_requests_total", "interlock_playbook_starts_total", "interlock_playbook_runs_total", "interlock_side_effect_duration_seconds", "interlock_intake_rejections_total"} {
		require.Contains(t, used, want)
	}
}

// recorder is a registry that remembers what was registered, so the test sees every metric name
// (a vector without series yet gathers nothing). The SDK registers from the worker's goroutines.
type recorder struct {
	*prometheus.Registry
	mu    sync.Mutex
	names map[string]bool
}

func (r *recorder) add(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names[name] = true
}

func (r *recorder) has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[name]
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.add(m[1])
		}
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// TestDashboardMetricsAreRegistered builds the intake and the worker metrics as a replica does, runs
// a workflow with an activity through a worker on the real dev server for the SDK's metrics, and
// requires every metric the dashboard reads to be among those registered.
func TestDashboardMetricsAreRegistered(t *testing.T) {
	srv := env.Temporal(t)
	rec := &recorder{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
	logger := slog.New(slog.DiscardHandler)
	cfg := config.Default()
	cfg.Workbook.Database = filepath.Join(t.TempDir(), "workbook.db") // not the repo's working folder
	c, err := client.Dial(client.Options{HostPort: srv.HostPort, Namespace: srv.Namespace, MetricsHandler: sdkmetrics.New(rec, logger)})
	require.NoError(t, err)
	defer c.Close()
	in, err := stack.NewIntakeOn(cfg, c, rec, logger)
	require.NoError(t, err)
	defer in.Workbook.Close()
	m, err := worker.NewMetrics(rec, playbooks.Shipped(cfg.Playbooks))
	require.NoError(t, err)

	queue := "ops-metrics-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	w := sdkworker.New(c, queue, sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{m.Interceptor()}})
	w.RegisterWorkflowWithOptions(opsWorkflow, workflow.RegisterOptions{Name: "OpsMetrics"})
	w.RegisterActivity(opsActivity)
	require.NoError(t, w.Start())
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, "OpsMetrics")
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, nil))

	// The SDK registers its metrics as it emits them: a gathered name counts as registered too.
	families, err := rec.Gather()
	require.NoError(t, err)
	for _, f := range families {
		rec.add(f.GetName())
	}
	require.True(t, rec.has("interlock_playbook_runs_total"))
	for name, panels := range dashboardMetrics(t, loadDashboard(t)) {
		require.True(t, rec.has(name), "the dashboard reads %s (panels %q), which Interlock does not register", name, panels)
	}
}

func opsWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, opsActivity).Get(ctx, nil)
}

func opsActivity(context.Context) error { return nil }

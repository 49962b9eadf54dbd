package devservices

import (
	"encoding/json"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

// NumHistoryShards is the cluster's history shard count: the auto-setup image's default, which
// docker-compose.yml keeps. It is fixed when the databases are created and cannot change afterwards.
const NumHistoryShards = 4

// Temporal's database names, as auto-setup creates them.
const (
	temporalDB   = "temporal"
	visibilityDB = "temporal_visibility"
)

// serverPorts are the Temporal server's listening ports on 127.0.0.1: each service has a gRPC port
// and a membership (ringpop) port, and the frontend also serves HTTP. The membership ports must be
// below 32768: the server records them in cluster_membership.rpc_port, a PostgreSQL SMALLINT, and
// fails at start ("out of range for type smallint") on a larger one.
type serverPorts struct {
	Frontend, FrontendHTTP, FrontendMembership int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
}

// maxMembershipPort is the highest port a SMALLINT holds (see serverPorts).
const maxMembershipPort = 32767

// serverConfig is what the server config template needs.
type serverConfig struct {
	Ports         serverPorts
	PostgresAddr  string
	User          string
	Password      string
	Plugin        string
	DB            string
	VisibilityDB  string
	Shards        int
	DynamicConfig string
}

// serverConfigTemplate is the config the auto-setup image renders from the server's
// docker/config_template.yaml with docker-compose.yml's environment (DB=postgres12, the temporal
// user, no Elasticsearch), every address on loopback. Left out: the template's empty TLS, metrics and
// authorization blocks, which are the defaults. The log level is warn, where the image's is info: the
// log is for finding out why something failed.
const serverConfigTemplate = `# Written by Interlock's devservices on each start; edits are lost.
log:
    stdout: true
    level: warn

persistence:
    numHistoryShards: {{.Shards}}
    defaultStore: default
    visibilityStore: visibility
    datastores:
        default:
{{template "sql" (store . .DB 20)}}
        visibility:
{{template "sql" (store . .VisibilityDB 10)}}

global:
    membership:
        maxJoinDuration: 30s
        broadcastAddress: "127.0.0.1"
    pprof:
        port: 0

services:
    frontend:
{{template "rpc" (rpc .Ports.Frontend .Ports.FrontendMembership)}}
            httpPort: {{.Ports.FrontendHTTP}}
    matching:
{{template "rpc" (rpc .Ports.Matching .Ports.MatchingMembership)}}
    history:
{{template "rpc" (rpc .Ports.History .Ports.HistoryMembership)}}
    worker:
{{template "rpc" (rpc .Ports.Worker .Ports.WorkerMembership)}}

clusterMetadata:
    enableGlobalNamespace: false
    failoverVersionIncrement: 10
    masterClusterName: "active"
    currentClusterName: "active"
    clusterInformation:
        active:
            enabled: true
            initialFailoverVersion: 1
            rpcName: "frontend"
            rpcAddress: "127.0.0.1:{{.Ports.Frontend}}"
            httpAddress: "127.0.0.1:{{.Ports.FrontendHTTP}}"

dcRedirectionPolicy:
    policy: "noop"

archival:
    history:
{{template "archival"}}
    visibility:
{{template "archival"}}

namespaceDefaults:
    archival:
        history:
            state: "disabled"
            URI: "file:///tmp/temporal_archival/development"
        visibility:
            state: "disabled"
            URI: "file:///tmp/temporal_vis_archival/development"

dynamicConfigClient:
    filepath: {{q .DynamicConfig}}
    pollInterval: "60s"
{{define "sql"}}            sql:
                pluginName: {{q .Plugin}}
                databaseName: {{q .DB}}
                connectAddr: {{q .PostgresAddr}}
                connectProtocol: "tcp"
                user: {{q .User}}
                password: {{q .Password}}
                maxConns: {{.Conns}}
                maxIdleConns: {{.Conns}}
                maxConnLifetime: 1h{{end}}{{define "rpc"}}        rpc:
            grpcPort: {{.GRPC}}
            membershipPort: {{.Membership}}
            bindOnIP: "127.0.0.1"{{end}}{{define "archival"}}        state: "enabled"
        enableRead: true
        provider:
            filestore:
                fileMode: "0666"
                dirMode: "0766"{{end}}`

// dynamicConfig is the cluster's dynamic config file. The auto-setup image's
// (config/dynamicconfig/docker.yaml) sets nothing; this sets what the devservices sets on the dev server
// too, for the same reason.
const dynamicConfig = `# Written by Interlock's devservices on each start; edits are lost.
# One partition per task queue: a dev stack or a test has one worker process, and with the server's
# default of four partitions its few pollers left tasks waiting on unwatched partitions for up to a
# long poll (about a minute) under load.
matching.numTaskqueueReadPartitions:
  - value: 1
matching.numTaskqueueWritePartitions:
  - value: 1
`

// sqlStore is one datastore of the server config; DB hides serverConfig's.
type sqlStore struct {
	serverConfig
	DB    string
	Conns int
}

// rpcPorts are one service's ports in the server config.
type rpcPorts struct{ GRPC, Membership int }

// renderServerConfig renders the server config.
func renderServerConfig(c serverConfig) (string, error) {
	t, err := template.New("config").Funcs(template.FuncMap{
		// A JSON string is a valid YAML double-quoted scalar, whatever a path or password holds.
		"q": func(s string) (string, error) {
			b, err := json.Marshal(s)
			return string(b), err
		},
		// One SQL datastore: the main store and the visibility store differ in database and pool size.
		"store": func(c serverConfig, db string, conns int) sqlStore {
			return sqlStore{serverConfig: c, DB: db, Conns: conns}
		},
		"rpc": func(grpc, membership int) rpcPorts { return rpcPorts{GRPC: grpc, Membership: membership} },
	}).Option("missingkey=error").Parse(serverConfigTemplate)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, c); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeServerConfig writes the server config and the dynamic config into root, where the server reads
// them with `--root root --config config --env docker`.
func writeServerConfig(root string, ports serverPorts, postgresAddr string) error {
	dyn := filepath.Join(root, "dynamicconfig.yaml")
	cfg, err := renderServerConfig(serverConfig{
		Ports:         ports,
		PostgresAddr:  postgresAddr,
		User:          PostgresUser,
		Password:      PostgresPassword,
		Plugin:        TemporalSQLPlugin,
		DB:            temporalDB,
		VisibilityDB:  visibilityDB,
		Shards:        NumHistoryShards,
		DynamicConfig: dyn,
	})
	if err != nil {
		return fmt.Errorf("temporal server config: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "config"), 0o700); err != nil {
		return fmt.Errorf("temporal server config: %w", err)
	}
	// 0600: the file holds the database password.
	if err := os.WriteFile(filepath.Join(root, "config", "docker.yaml"), []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("temporal server config: %w", err)
	}
	if err := os.WriteFile(dyn, []byte(dynamicConfig), 0o600); err != nil {
		return fmt.Errorf("temporal dynamic config: %w", err)
	}
	return nil
}

// freePorts returns n distinct free ports on 127.0.0.1, holding each until all are picked so none is
// handed out twice. As with FreePort, another process may still take one before the server binds it.
// below > 0 asks for ports under that bound, which the kernel's ephemeral range (32768 and up on
// Linux) never hands out: they are tried at random from 20000 up.
func freePorts(n, below int) ([]int, error) {
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		port := 0
		if below > 0 {
			if tries == 1000 {
				return nil, fmt.Errorf("find free port below %d: none found", below)
			}
			port = 20000 + mathrand.IntN(below-20000)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			if below > 0 {
				continue // taken
			}
			return nil, fmt.Errorf("find free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

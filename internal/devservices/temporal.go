package devservices

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// SearchAttribute is a custom search attribute to register on the dev server or a cluster. Type is spelled as the
// Temporal CLI spells it: Keyword, Text, Int, Double, Bool, Datetime or KeywordList.
type SearchAttribute struct {
	Name string
	Type string
}

// TemporalOptions configures the Temporal CLI dev server.
type TemporalOptions struct {
	Bin         string // path of the temporal binary, as Ensure returns it
	DBFile      string // SQLite state file, created when missing; "" keeps state in memory only
	Port        int    // frontend gRPC port on 127.0.0.1; 0 picks a free one
	UIPort      int    // Web UI port; 0 runs headless, which also starts faster
	MetricsPort int    // Prometheus /metrics port; 0 lets the server pick a free one
	Namespace   string // namespace to create besides "default" and to check readiness on; "" is "default"
	// SearchAttributes are registered at start. The CLI registers them only when it creates the
	// namespace, so for an existing DBFile the missing ones are added through the operator API.
	SearchAttributes []SearchAttribute
	LogFile          string        // server output, appended across restarts; "" keeps only a tail in memory
	StartTimeout     time.Duration // how long to wait until ready; 0 is one minute
	Logger           *slog.Logger  // nil discards
}

// StartTemporal runs `temporal server start-dev` on 127.0.0.1 and returns once the frontend answers,
// the namespace exists and the search attributes are registered. ctx bounds only the start: the server
// runs until Stop, so a short-lived ctx does not take it down.
func StartTemporal(ctx context.Context, opts TemporalOptions) (*Process, error) {
	for attempt := 1; ; attempt++ {
		p, err := startTemporal(ctx, opts)
		// A port picked here (or by the CLI for its internal services) can be taken by another process
		// between the pick and the bind, which parallel test packages make likely: try fresh ports.
		if err == nil || opts.Port != 0 || attempt == 3 || !errors.Is(err, errExitedEarly) || ctx.Err() != nil {
			return p, err
		}
		cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)).Warn("temporal dev server exited while starting; retrying on fresh ports", "attempt", attempt, "err", err)
	}
}

func startTemporal(ctx context.Context, opts TemporalOptions) (*Process, error) {
	if opts.Bin == "" {
		return nil, fmt.Errorf("start temporal: no binary given")
	}
	namespace := cmp.Or(opts.Namespace, "default")
	attrTypes, err := searchAttributeTypes(opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	port := opts.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--log-level", "warn",
		// WAL with normal sync roughly triples workflow throughput on a file-backed store and stays
		// crash-safe for the database (a power cut may lose the last transactions, not corrupt it).
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=normal",
		// One partition per task queue: a dev stack has one worker process, and with the server's default
		// of four partitions its few pollers left tasks waiting on unwatched partitions for up to a
		// long-poll (about a minute) under load.
		"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
		"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
		// Server 1.29 honours task priority (PLC notices before a flood of ticket runs) only with the
		// priority-enabled matcher, which is off by default.
		"--dynamic-config-value", "matching.useNewMatcher=true",
		// The intake reads the task queue's backlog about every second to refuse work past
		// intake.maxBacklog; the server caches that answer for 5 s by default.
		"--dynamic-config-value", "matching.TaskQueueInfoByBuildIdTTL=\"1s\"",
	}
	uiURL := ""
	if opts.UIPort == 0 {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(opts.UIPort))
		uiURL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.UIPort))
	}
	if opts.MetricsPort != 0 {
		args = append(args, "--metrics-port", strconv.Itoa(opts.MetricsPort))
	}
	if opts.DBFile != "" {
		args = append(args, "--db-filename", opts.DBFile)
	}
	if namespace != "default" { // "default" is always created
		args = append(args, "--namespace", namespace)
	}
	for _, sa := range opts.SearchAttributes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	p := &Process{
		name:         "temporal dev server",
		bin:          opts.Bin,
		args:         args,
		addr:         addr,
		uiURL:        uiURL,
		logFile:      opts.LogFile,
		ready:        temporalReady(addr, namespace, attrTypes),
		startTimeout: cmp.Or(opts.StartTimeout, time.Minute),
		log:          cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		tail:         newTailBuffer(32 << 10),
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// temporalReady checks what a worker or starter needs: a frontend that answers, the namespace, and the
// search attributes, registering those an older state file lacks.
func temporalReady(addr, namespace string, attrs map[string]enumspb.IndexedValueType) func(context.Context) error {
	return func(ctx context.Context) error {
		c, err := dialProbe(ctx, addr, namespace)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.WorkflowService().DescribeNamespace(ctx,
			&workflowservice.DescribeNamespaceRequest{Namespace: namespace}); err != nil {
			return fmt.Errorf("describe namespace %s: %w", namespace, err)
		}
		return ensureSearchAttributes(ctx, c.OperatorService(), namespace, attrs)
	}
}

// dialProbe connects a client for one readiness check.
func dialProbe(ctx context.Context, addr, namespace string) (client.Client, error) {
	// A refused TCP connection is the common case early on and far cheaper than an SDK dial.
	if err := dialable(ctx, addr); err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  addr,
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)), // failed probes are expected
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	return c, nil
}

// searchAttributeTypes maps each attribute's name to its type, rejecting a type Temporal doesn't know.
func searchAttributeTypes(sas []SearchAttribute) (map[string]enumspb.IndexedValueType, error) {
	types := make(map[string]enumspb.IndexedValueType, len(sas))
	for _, sa := range sas {
		typ, err := enumspb.IndexedValueTypeFromString(sa.Type)
		if err != nil {
			return nil, fmt.Errorf("search attribute %s: %w", sa.Name, err)
		}
		types[sa.Name] = typ
	}
	return types, nil
}

// ensureSearchAttributes adds those of attrs the namespace lacks; a name registered with another type
// fails permanently.
func ensureSearchAttributes(ctx context.Context, ops operatorservice.OperatorServiceClient, namespace string,
	attrs map[string]enumspb.IndexedValueType) error {
	if len(attrs) == 0 {
		return nil
	}
	resp, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		want := attrs[name]
		got, ok := resp.GetCustomAttributes()[name]
		if !ok {
			missing[name] = want
			continue
		}
		if got != want {
			return permanentError{fmt.Errorf(
				"search attribute %s is registered as %s in this state but %s is needed; "+
					"start from fresh state (a new DB file or cluster folder)", name, got, want)}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// The dev server refreshes its search attribute cache on every read, so they are usable at once; a
	// cluster's frontend learns them with its next namespace refresh (see clusterReady).
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		SearchAttributes: missing,
		Namespace:        namespace,
	}); err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

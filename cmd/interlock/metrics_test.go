package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/worker"
)

// TestWorkerMetricsListener: with worker.metricsListen set, interlock worker serves the worker's and
// the process's metrics on /metrics until stopped; unset, it opens nothing.
func TestWorkerMetricsListener(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	pm := newProcessMetrics(logger)
	_, err := worker.NewMetrics(pm.reg, playbooks.Shipped(config.Default().Playbooks))
	require.NoError(t, err)

	addr, done, err := serveWorkerMetrics(context.Background(), "", pm, logger)
	require.NoError(t, err)
	require.Empty(t, addr)
	require.NoError(t, <-done)

	ctx, stop := context.WithCancel(context.Background())
	addr, done, err = serveWorkerMetrics(ctx, "127.0.0.1:0", pm, logger)
	require.NoError(t, err)
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `interlock_playbook_runs_total{outcome="none",playbook="NewEngineeringStationTicket",status="failed"} 0`)
	require.Contains(t, string(body), "go_goroutines")
	stop()
	require.NoError(t, <-done)
	_, err = http.Get("http://" + addr + "/metrics")
	require.Error(t, err, "stopped with the worker")
}

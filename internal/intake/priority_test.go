package intake

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/playbooks"
)

// TestPLCRunsGetAheadOfTicketBacklog posts a backlog of ticket runs and then PLC runs through the
// intake while no worker polls, on the real dev server. A worker that then takes one workflow task at
// a time runs every PLC run before most of the tickets: the intake starts PLC runs with the playbook's
// priority and the server (1.29 with matching.useNewMatcher) serves it first. Without either, the
// queue is first in, first out and the PLC runs come last.
func TestPLCRunsGetAheadOfTicketBacklog(t *testing.T) {
	t.Parallel()
	srv := integration.Temporal(t)
	registry := playbooks.Shipped(config.Default().Playbooks) // the real names and priorities
	nes, ok := registry.Lookup(playbooks.NewEngineeringStationName)
	require.True(t, ok)
	plc, ok := registry.Lookup(playbooks.PLCReprogrammingName)
	require.True(t, ok)
	require.Equal(t, playbooks.PriorityUrgent, plc.Priority)

	queue := "priority-" + uniqueID(t)
	server, err := New(Options{
		Rules: fakeRules{}, Playbooks: registry,
		Starter: &TemporalStarter{Client: srv.Client, TaskQueue: queue},
		Auth:    AuthConfig{Tokens: []string{testToken}},
	})
	require.NoError(t, err)
	hs := httptest.NewServer(server)
	t.Cleanup(hs.Close)

	const tickets, notices = 40, 4
	post := func(p playbooks.Playbook, i int) {
		body := fmt.Appendf(nil, `{"id":%q,"title":"priority test"}`, fmt.Sprintf("%s-%s-%d", uniqueID(t), p.Name, i))
		a := do(t, http.MethodPost, hs.URL+"/v1/playbooks/"+p.Name+"/runs", body, bearerJSON)
		require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
	}
	for i := range tickets {
		post(nes, i)
	}
	for i := range notices {
		post(plc, i)
	}

	var mu sync.Mutex
	var order []string
	done := make(chan struct{})
	record := func(name string) func(workflow.Context, incident.Incident) error {
		return func(ctx workflow.Context, _ incident.Incident) error {
			if !workflow.IsReplaying(ctx) {
				mu.Lock()
				order = append(order, name)
				if len(order) == tickets+notices {
					close(done)
				}
				mu.Unlock()
			}
			return nil
		}
	}
	w := sdkworker.New(srv.Client, queue, sdkworker.Options{
		MaxConcurrentWorkflowTaskExecutionSize: 2, // the SDK's least (one sticky, one normal poll): each task is the server's choice
		DisableRegistrationAliasing:            true,
	})
	w.RegisterWorkflowWithOptions(record(nes.Name), workflow.RegisterOptions{Name: nes.Name})
	w.RegisterWorkflowWithOptions(record(plc.Name), workflow.RegisterOptions{Name: plc.Name})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // bounds a hang only
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, order, tickets+notices, "the worker runs every run")
	last := -1 // the last PLC run's place
	for i, name := range order {
		if name == plc.Name {
			last = i
		}
	}
	require.Less(t, last, tickets/2, "every PLC run before half the ticket backlog; order: %v", order)
}

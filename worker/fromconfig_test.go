package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/servicenow"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/worker"
)

func plcSection(t *testing.T, section string) config.PLCReprogramming {
	t.Helper()
	var b strings.Builder
	b.WriteString("playbooks:\n  plcReprogramming:\n")
	for line := range strings.SplitSeq(strings.Trim(section, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	cfg, err := config.Parse([]byte(b.String()), func(string) string { return "" })
	require.NoError(t, err)
	return cfg.Playbooks.PLCReprogramming
}

func TestNewPLCChanges(t *testing.T) {
	t.Parallel()
	cfg := plcSection(t, `
changeRequests: true
maintenanceWindows:
  - {name: " nights ", zone: Packaging Line 3, days: [mon, Tuesday], from: "22:00", to: "02:00", timezone: Europe/Amsterdam}
`)
	chg, err := worker.NewPlannedChanges(cfg, nil)
	require.NoError(t, err)
	tests := []struct {
		name string
		zone string
		at   time.Time
		want activities.PlannedChange
	}{
		// Tuesday 01:30 Amsterdam, the tail of Monday night.
		{"inside the window", "packaging line 3", time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC),
			activities.PlannedChange{Planned: true, Source: "window", Name: "nights", Window: "Mon, Tue 22:00–02:00 Europe/Amsterdam"}},
		{"another zone", "Packaging Line 4", time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC), activities.PlannedChange{}},
		{"Wednesday noon", "Packaging Line 3", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC), activities.PlannedChange{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := chg.FindPlannedChange(context.Background(), activities.PlannedChangeRequest{
				PLC: activities.DeviceFacts{Name: "PLC-L3-01"}, Zone: tt.zone, At: tt.at})
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestNewPLCDirectory(t *testing.T) {
	t.Parallel()
	cfg := plcSection(t, `
socMailbox: soc@example.com
directory:
  - match: {line: Line 3}
    engineers: [{name: Ana, email: ana@example.com}]
  - match: {site: Rotterdam}
    escalation: [{email: lead@example.com}]
`)
	dir, err := worker.NewPLCDirectory(cfg)
	require.NoError(t, err)
	got, err := dir.LookupRecipients(context.Background(), activities.RecipientsRequest{Site: "Rotterdam", Line: "line 3"})
	require.NoError(t, err)
	require.Equal(t, []activities.Recipient{{Name: "Ana", Email: "ana@example.com"}}, got.Engineers)
	require.Equal(t, []activities.Recipient{{Email: "lead@example.com"}}, got.Escalation)
	require.Equal(t, "directory:line", got.Source)
}

func TestNewWorkstationTickets(t *testing.T) {
	t.Parallel()
	sn := config.Default().ServiceNow
	sn.InstanceURL, sn.CreateSettle = "https://example.service-now.com", 3*time.Second
	client, err := servicenow.New(servicenow.Config{InstanceURL: sn.InstanceURL, Username: "interlock", Password: "pass", Timeout: time.Second})
	require.NoError(t, err)
	tickets, err := worker.NewWorkstationTickets(client, sn, "incident")
	require.NoError(t, err)
	require.Equal(t, 3*time.Second, tickets.CreateSettle)
	require.Equal(t, "incident", tickets.Table)
}

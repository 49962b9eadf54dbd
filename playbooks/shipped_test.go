package playbooks

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/config"
)

func TestShipped(t *testing.T) {
	t.Parallel()
	cfg := config.Default().Playbooks
	r := Shipped(cfg)
	require.Equal(t, []string{
		NewEngineeringStationName, PLCReprogrammingName, AlertStatusSyncName, AutoTriageName,
		AutoCloseName, MailByLineName, OwnerApprovalName, CVEAutoWorkflowName,
	}, r.Names())
	perEvent := map[string]bool{AlertStatusSyncName: true, AutoTriageName: true}
	urgent := map[string]bool{PLCReprogrammingName: true, OwnerApprovalName: true}
	for _, pb := range r.All() {
		require.NotNil(t, pb.Workflow, pb.Name)
		require.NotEmpty(t, pb.Summary, pb.Name)
		require.Equal(t, perEvent[pb.Name], pb.PerEvent, "%s: per event", pb.Name)
		require.Equal(t, urgent[pb.Name], pb.Priority == PriorityUrgent, "%s: urgent", pb.Name)
	}
	require.Equal(t, NewEngineeringStationSettingsFrom(cfg.NewEngineeringStation).DeviceTypes, WorkstationTypes(cfg))
	require.NotEmpty(t, WorkstationTypes(cfg))
}

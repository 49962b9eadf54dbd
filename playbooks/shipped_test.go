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
	pb, ok := r.Lookup(PLCReprogrammingName)
	require.True(t, ok)
	require.Equal(t, PriorityUrgent, pb.Priority)
	require.Equal(t, NewEngineeringStationSettingsFrom(cfg.NewEngineeringStation).DeviceTypes, WorkstationTypes(cfg))
	require.NotEmpty(t, WorkstationTypes(cfg))
}

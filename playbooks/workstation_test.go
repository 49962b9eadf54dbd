package playbooks

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
)

// TestEngineeringWorkstationRuleAndPlaybookAgree checks that the default automation rule (through
// hasEngineeringWorkstation()) starts NewEngineeringStationTicket for exactly the devices the playbook
// then considers workstations (ticketed, or skipped with a reason), over every device shape, with the
// default types and with a configured list.
func TestEngineeringWorkstationRuleAndPlaybookAgree(t *testing.T) {
	dev := func(typ, sub string, programming, authorized bool) incident.Device {
		return incident.Device{Name: "dev", MAC: "00:1a:2b:3c:4d:5e", Type: typ, SubType: sub, IsProgramming: programming, IsAuthorized: authorized}
	}
	custom := []string{"  Programming Laptop "}
	cases := []struct {
		name   string
		device incident.Device
		types  []string // nil: the default
		want   bool
	}{
		{"type only", dev("Engineering Station", "", false, false), nil, true},
		{"subtype only", dev("", "Engineering Workstation", false, false), nil, true},
		{"subtype only, other type", dev("Workstation", "Engineering Workstation", false, false), nil, true},
		{"programming flag only", dev("", "", true, false), nil, true},
		{"programming flag, PLC type", dev("PLC", "", true, false), nil, true},
		{"authorized workstation", dev("Engineering Station", "", false, true), nil, true},
		{"authorized programming device", dev("", "", true, true), nil, true},
		{"type lower case", dev("engineering station", "", false, false), nil, true},
		{"subtype upper case with space", dev("", "  ENGINEERING WORKSTATION ", false, false), nil, true},
		{"none: PLC", dev("PLC", "Safety PLC", false, false), nil, false},
		{"none: empty", dev("", "", false, false), nil, false},
		{"none: near miss", dev("Engineering", "Station", false, false), nil, false},
		{"configured type", dev("", "programming laptop", false, false), custom, true},
		{"configured list drops the default", dev("Engineering Station", "", false, false), custom, false},
		{"empty list: programming flag only", dev("Engineering Station", "", false, false), []string{}, false},
		{"empty list, programming", dev("", "", true, false), []string{}, true},
	}
	eng, err := rules.Default([]string{NewEngineeringStationName, PLCReprogrammingName, AlertStatusSyncName, AutoTriageName, AutoCloseName, MailByLineName, OwnerApprovalName, CVEAutoWorkflowName})
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eng.SetEngineeringWorkstationTypes(tc.types)
			inc := incident.Incident{
				ID: "inc-1", Title: "New Asset Detected",
				Alerts:  []incident.Alert{{Title: "(MDIoT) New Asset Detected"}},
				Devices: []incident.Device{{Name: "plc", Type: "PLC", IP: "10.0.0.1"}, tc.device},
			}
			res := eng.Evaluate(incident.Event{Type: incident.EventCreate, Incident: inc}, time.Unix(0, 0))
			require.Empty(t, res.Errors)
			ruleSays := len(res.Playbooks) > 0 && res.Playbooks[0] == NewEngineeringStationName

			types := tc.types
			if types == nil {
				types = DefaultNewEngineeringStationSettings().DeviceTypes
			}
			targets, skipped := selectWorkstations(inc.Devices, NewEngineeringStationSettings{DeviceTypes: types}.normalized().DeviceTypes)
			playbookSays := len(targets)+len(skipped) > 0

			require.Equal(t, tc.want, tc.device.IsEngineeringWorkstation(tc.types), "the definition")
			require.Equal(t, tc.want, ruleSays, "the default rule starts the playbook")
			require.Equal(t, tc.want, playbookSays, "the playbook considers the device")
			require.Equal(t, tc.want && !tc.device.IsAuthorized, len(targets) == 1, "the playbook tickets it")
		})
	}
	eng.SetEngineeringWorkstationTypes(nil)
}

// TestDefaultWorkstationTypesMatchConfig keeps the rules' fallback and the config default one list.
func TestDefaultWorkstationTypesMatchConfig(t *testing.T) {
	require.Equal(t, incident.DefaultEngineeringWorkstationTypes, DefaultNewEngineeringStationSettings().DeviceTypes)
}

package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

// TestDefaultRulesOnFixtureFiles runs the built-in rules on the repository's fixtures as the intake
// would: parsed by the incident package.
func TestDefaultRulesOnFixtureFiles(t *testing.T) {
	t.Parallel()
	e, err := Default(knownPlaybooks())
	require.NoError(t, err)
	tests := []struct {
		file      string
		playbooks []string
		severity  string
	}{
		{"sentinel-incident-new-engineering-station.json", []string{"NewEngineeringStationTicket"}, "Medium"},
		{"sentinel-incident-unauthorized-plc-programming.json", []string{"PLCReprogrammingNotice"}, "High"},
		{"d4iot-securityalert-unauthorized-plc-programming.json", []string{"PLCReprogrammingNotice"}, "High"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", tt.file))
			require.NoError(t, err)
			ev, err := incident.Parse(data)
			require.NoError(t, err)
			res := e.Evaluate(ev, testNow)
			require.Empty(t, res.Errors)
			require.Equal(t, tt.playbooks, res.Playbooks)
			require.Equal(t, tt.severity, res.Incident.Severity)
		})
	}
}

// TestLiteralFixturesMatchFiles checks that the Go literal events the other tests use say what the
// fixture files say, in the fields rules read.
func TestLiteralFixturesMatchFiles(t *testing.T) {
	t.Parallel()
	for file, lit := range map[string]incident.Event{
		"sentinel-incident-new-engineering-station.json":      newAssetEvent(),
		"sentinel-incident-unauthorized-plc-programming.json": plcProgrammingEvent(),
	} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", file))
		require.NoError(t, err)
		ev, err := incident.ParseEvent(data)
		require.NoError(t, err, file)
		require.Equal(t, lit.ID, ev.ID, file)
		require.Equal(t, lit.Type, ev.Type, file)
		got, want := ev.Incident, lit.Incident
		require.Equal(t, want.Title, got.Title, file)
		require.Equal(t, want.Severity, got.Severity, file)
		require.Equal(t, want.Status, got.Status, file)
		require.Equal(t, want.Number, got.Number, file)
		require.Equal(t, want.IPs, got.IPs, file)
		require.Len(t, got.Alerts, len(want.Alerts), file)
		for i := range want.Alerts {
			require.Equal(t, want.Alerts[i].Title, got.Alerts[i].Title, file)
			require.Equal(t, want.Alerts[i].Category, got.Alerts[i].Category, file)
			require.Equal(t, want.Alerts[i].SensorID, got.Alerts[i].SensorID, file)
		}
		require.Len(t, got.Devices, len(want.Devices), file)
		for i := range want.Devices {
			w, g := want.Devices[i], got.Devices[i]
			require.Equal(t, []string{w.Name, w.Type, w.SubType, w.Site, w.Sensor, w.IP, w.Importance},
				[]string{g.Name, g.Type, g.SubType, g.Site, g.Sensor, g.IP, g.Importance}, file)
		}
	}
}

// TestUpdateFixtureFile runs update rules on the update fixture, whose "previous" object the parser
// turns into Event.Previous: New → Active, owner assigned, tags added, severity unchanged.
func TestUpdateFixtureFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentinel-incident-update-plc-programming.json"))
	require.NoError(t, err)
	ev, err := incident.ParseEvent(data)
	require.NoError(t, err)
	require.NotNil(t, ev.Previous)

	def, err := Default(knownPlaybooks())
	require.NoError(t, err)
	require.Equal(t, []string{"AlertStatusSync"}, def.Evaluate(ev, testNow).Playbooks,
		"on an update, the default rules only carry the status change to the Defender for IoT alerts")

	e := mustParse(t, `rules:
  - name: Triaged
    order: 1
    trigger: updated
    condition: >
      changedFrom("status", "New") && changedTo("status", "Active") &&
      changedTo("owner", "j.devries@rotterdam.example.com") && changed("labels") &&
      !changed("severity") && hasLabel("ot") && anyAlertTitle(plcChangeTitles)
    actions: [runPlaybook: Other]
  - name: Created only
    order: 2
    trigger: created
    actions: [runPlaybook: Third]
`)
	res := e.Evaluate(ev, testNow)
	require.Empty(t, res.Errors)
	require.Equal(t, []string{"Other"}, res.Playbooks)
}

// TestDefaultOwnerRuleWhenEnabled: the shipped owner-question rule is off; switched on, it asks the
// owners once per incident, leaving PLC changes and new engineering workstations to their playbooks.
func TestDefaultOwnerRuleWhenEnabled(t *testing.T) {
	t.Parallel()
	src := string(DefaultRules())
	const off = "    enabled: false\n    trigger: created\n    # Microsoft's AD4IoT-SendEmailtoIoTOwner"
	require.Contains(t, src, off)
	e := mustParse(t, strings.Replace(src, off, strings.Replace(off, "false", "true", 1), 1))
	newPLC := newAssetEvent()
	newPLC.Incident.Devices = []incident.Device{plc()}
	noOwner := newAssetEvent()
	noOwner.Incident.Devices = []incident.Device{plc()}
	noOwner.Incident.Devices[0].Owners = nil
	for name, tt := range map[string]struct {
		ev   incident.Event
		want []string
	}{
		"new engineering workstation: its ticket": {newAssetEvent(), []string{"NewEngineeringStationTicket"}},
		"PLC change: the engineers":               {plcProgrammingEvent(), []string{"PLCReprogrammingNotice"}},
		"a new PLC with an owner: the owner":      {newPLC, []string{"IoTOwnerApproval"}},
		"no owner: nobody":                        {noOwner, nil},
	} {
		require.Equal(t, tt.want, e.Evaluate(tt.ev, testNow).Playbooks, name)
	}
}

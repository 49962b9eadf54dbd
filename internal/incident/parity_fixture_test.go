package incident

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fixture for the parity playbooks mixes the shapes real payloads arrive in: PascalCase entity
// properties with "AdditionalData", camelCase ones without additionalData, nulls, an Ip entity with
// "Address", and hostile markup in a device name.
func TestExcessiveLoginsFixture(t *testing.T) {
	data, err := os.ReadFile("../../testdata/sentinel-incident-excessive-logins-lines.json")
	require.NoError(t, err)
	ev, err := ParseEvent(data)
	require.NoError(t, err)
	inc := ev.Incident
	require.Equal(t, int64(4420), inc.Number)
	require.Len(t, inc.Devices, 4)
	type dev struct{ name, ip, mac, typ, zone, importance, sensor string }
	var got []dev
	for _, d := range inc.Devices {
		got = append(got, dev{d.Name, d.IP, d.MAC, d.Type, d.Zone, d.Importance, d.Sensor})
	}
	require.Equal(t, []dev{
		{"HMI-L1-01", "10.20.1.20", "", "HMI", "Filling Line 1", "High", "sensor-rtm-l1"},
		{"PLC-L1-01", "10.20.1.10", "", "PLC", "", "", ""},
		{"HMI-L3-01", "", "28:63:36:a1:b2:d4", "", "Packaging Line 3", "", ""},
		{"LAPTOP-VISITOR-<b>7</b>", "192.168.50.7", "", "Workstation", "", "Low", "sensor-visitors"},
	}, got)
	require.Equal(t, "sensor-rtm-l1", inc.Sensor())
}

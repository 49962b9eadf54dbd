package incident

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIncidentHelpers(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent(readFixture(t, fixturePLC))
	require.NoError(t, err)
	inc := ev.Incident

	a, ok := inc.PrimaryAlert()
	require.True(t, ok)
	require.Equal(t, plcVendorID, a.VendorOriginalID)
	require.Equal(t, "Rotterdam Plant", inc.Site())
	require.Equal(t, "Packaging Line 3", inc.Zone())
	require.Equal(t, "sensor-rtm-l3", inc.Sensor())
	require.Equal(t, []string{owner}, inc.Owners())

	stations := inc.DevicesOfType("engineering station")
	require.Len(t, stations, 1)
	require.Equal(t, "ENG-WS-07", stations[0].Name)
	require.Len(t, inc.DevicesOfType("Safety PLC"), 1, "subtypes match too")

	src, ok := inc.SourceDevice()
	require.True(t, ok)
	require.Equal(t, "ENG-WS-07", src.Name)
	dst, ok := inc.DestinationDevice()
	require.True(t, ok)
	require.Equal(t, "PLC-L3-01", dst.Name)

	require.Equal(t, "sensor-rtm-l3", a.CustomDetail("sensor"))
	require.Equal(t, plcMgmtURI, a.CustomDetail("AlertManagementUri"))
	require.Empty(t, a.CustomDetail("missing"))
}

func TestIncidentHelpersOnEmpty(t *testing.T) {
	t.Parallel()
	var inc Incident
	_, ok := inc.PrimaryAlert()
	require.False(t, ok)
	require.Empty(t, inc.Site())
	require.Empty(t, inc.Zone())
	require.Empty(t, inc.Sensor())
	require.Nil(t, inc.Owners())
	require.Nil(t, inc.DevicesOfType("PLC"))
	_, ok = inc.SourceDevice()
	require.False(t, ok)
	_, ok = inc.DestinationDevice()
	require.False(t, ok)
	require.Empty(t, Alert{}.CustomDetail("x"))
}

func TestIncidentHelpersFallbacks(t *testing.T) {
	t.Parallel()
	inc := Incident{
		Alerts: []Alert{{DestinationDevice: "plc-7", CustomDetails: map[string][]string{"SENSOR": {"", "s2"}, "Sensor": {"s1"}}}},
		Devices: []Device{
			{Name: "hmi", Owners: []string{" A@x.example ", ""}},
			{Name: "PLC-7", Site: "Ghent", Zone: "Z1", Sensor: "s-dev", Owners: []string{"a@x.example", "b@x.example"}},
		},
	}
	require.Equal(t, "Ghent", inc.Site(), "first device that names a site")
	require.Equal(t, "Z1", inc.Zone())
	require.Equal(t, "s-dev", inc.Sensor(), "device sensor when no alert names one")
	require.Equal(t, []string{"A@x.example", "b@x.example"}, inc.Owners(), "trimmed, without case-insensitive duplicates")
	d, ok := inc.DestinationDevice()
	require.True(t, ok, "found by the alert's destination device name")
	require.Equal(t, "PLC-7", d.Name)
	require.Equal(t, "s1", inc.Alerts[0].CustomDetail("Sensor"), "exact key first")
	require.Equal(t, "s2", inc.Alerts[0].CustomDetail("sensor"), "then the smallest spelling, skipping blanks")
}

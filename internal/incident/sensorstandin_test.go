package incident_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/sensorstandin"
)

// TestParseAlertsFromSensorStub feeds what the sensor stand-in serves to the intake parser: the body of
// GET /external/v1/alerts and /external/v2/alerts is a JSON array of alerts in the sensor's shape.
func TestParseAlertsFromSensorStub(t *testing.T) {
	const token = "stub-token"
	stub := sensorstandin.New(sensorstandin.Options{Token: token})
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)

	base := time.UnixMilli(1594808245000).UTC()
	stub.AddAlert(sensorstandin.Alert{Time: base, Title: "Traffic Detected on sensor Interface", Message: "m1",
		Severity: "Warning", Engine: "Operational", SensorName: "sensor-rtm", ZoneName: "Line 3", SiteName: "Rotterdam Plant"})
	stub.AddAlert(sensorstandin.Alert{Time: base.Add(40 * time.Second), Title: "Unauthorized PLC Programming", Severity: "Major",
		Engine: "Policy Violation", SourceDeviceAddress: "10.13.10.7", DestinationDeviceAddress: "10.13.10.1",
		RemediationSteps: "Verify the change.", SensorName: "sensor-ams", ZoneName: "Packaging", SiteName: "Amsterdam", Learned: true})

	get := func(t *testing.T, path string) []byte {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", token)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return body
	}

	for _, path := range []string{"/external/v1/alerts", "/external/v2/alerts"} {
		t.Run(path, func(t *testing.T) {
			recs, err := incident.ParseAlerts(get(t, path), false)
			require.NoError(t, err)
			require.Len(t, recs, 2)
			for i, r := range recs {
				require.NoError(t, r.Err, "record %d", i)
				require.Equal(t, incident.FormSensor, r.Form)
			}

			first, second := recs[0].Incident, recs[1].Incident
			require.Equal(t, "d4iot-sensor-1-1594808245000", first.ID)
			require.Equal(t, incident.SeverityLow, first.Severity)
			require.Equal(t, incident.StatusNew, first.Status)
			require.Equal(t, "OPERATIONAL", first.Alerts[0].Engine)
			require.Equal(t, "m1", first.Description)
			require.Equal(t, base, first.Created)

			a := second.Alerts[0]
			require.Equal(t, "2-1594808285000", a.VendorOriginalID)
			require.Equal(t, incident.ProviderOTSensor, a.DefenderProvider())
			require.Equal(t, incident.SeverityMedium, second.Severity)
			require.Equal(t, "Resolved", a.Status) // learned implies handled
			require.Equal(t, incident.StatusClosed, second.Status)
			require.Equal(t, "POLICY_VIOLATION", a.Engine)

			if path == "/external/v1/alerts" {
				require.Empty(t, second.Devices, "v1 has no addresses")
				require.Empty(t, a.SensorID)
				return
			}
			require.Equal(t, []string{"Verify the change."}, a.RemediationSteps)
			require.Equal(t, "sensor-ams", second.Sensor())
			require.Equal(t, []string{"10.13.10.7", "10.13.10.1"}, second.IPs)
			require.Equal(t, "Amsterdam", second.Site())
			dst, ok := second.DestinationDevice()
			require.True(t, ok)
			require.Equal(t, incident.Device{IP: "10.13.10.1", Site: "Amsterdam", Zone: "Packaging", Sensor: "sensor-ams"}, dst)
			require.Empty(t, first.Devices, "empty addresses make no devices")
		})
	}
}

package stack

import (
	"bytes"
	"cmp"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/sensorstandin"
)

// MirrorIncidents puts the incident of every posted payload into the stand-in before the intake runs
// the rules, as Sentinel holds an incident before it calls the webhook: new incidents are created, an
// update sets the status, severity and owner the payload shows (what an analyst did in the portal), and
// each Defender for IoT alert with an acceptable AlertManagementUri exists. The dev stack and
// the end-to-end tests use it; nothing else should.
func MirrorIncidents(next http.Handler, stub *azurestandin.Server, allowedHosts []string, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (r.URL.Path == "/v1/incidents" || strings.HasPrefix(r.URL.Path, "/v1/playbooks/")) {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			if err == nil && int64(len(body)) <= maxBody {
				if ev, err := incident.Parse(body); err == nil {
					stub.Mirror(ev, allowedHosts)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// MirrorSensorAlerts puts every OT sensor alert posted to /v1/alerts into the sensor stand-in, as the
// sensor holds an alert before it forwards it, so the status sync finds it there. An alert the
// stand-in already holds is left as it is (it may have been handled meanwhile). Only the dev stack and
// the end-to-end tests use it.
func MirrorSensorAlerts(next http.Handler, stub *sensorstandin.Server, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/alerts" {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			if err == nil && int64(len(body)) <= maxBody {
				ndjson := strings.Contains(r.Header.Get("Content-Type"), "ndjson")
				recs, _ := incident.ParseAlerts(body, ndjson)
				for _, rec := range recs {
					if rec.Err != nil || rec.Form != incident.FormSensor {
						continue
					}
					mirrorSensorAlert(stub, rec.Incident)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func mirrorSensorAlert(stub *sensorstandin.Server, inc incident.Incident) {
	a := inc.Alerts[0]
	if _, ok := stub.Alert(a.VendorOriginalID); ok {
		return
	}
	id, _ := strconv.Atoi(strings.SplitN(a.VendorOriginalID, "-", 2)[0])
	sev := map[string]string{incident.SeverityHigh: "Critical", incident.SeverityMedium: "Major", incident.SeverityLow: "Minor"}[a.Severity]
	var site, zone string
	for _, d := range inc.Devices {
		site, zone = cmp.Or(site, d.Site), cmp.Or(zone, d.Zone)
	}
	stub.AddAlert(sensorstandin.Alert{
		UUID: a.VendorOriginalID, ID: id, Time: a.StartTime, Title: a.BareTitle(), Message: a.Description,
		Severity: cmp.Or(sev, "Warning"), SourceDeviceAddress: a.SourceAddress, DestinationDeviceAddress: a.DestinationAddress,
		SensorName: a.SensorID, SiteName: site, ZoneName: zone,
	})
}

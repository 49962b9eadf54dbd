package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

// The events below mirror testdata/sentinel-incident-*.json in the fields rules read. They are Go
// literals so that a rule test fails for a rules reason, not a parser one; TestLiteralFixturesMatchFiles
// checks them against the files, and TestDefaultRulesOnFixtureFiles runs the parsed files.

func knownPlaybooks() []string {
	return []string{"NewEngineeringStationTicket", "PLCReprogrammingNotice", "AlertStatusSync", "AutoTriageIncident", "AutoCloseIncidents", "MailByProductionLine", "IoTOwnerApproval", "CVEAutoWorkflow", "Other", "Third"}
}

func engStation() incident.Device {
	return incident.Device{
		ID: "4107", Name: "ENG-WS-07", FriendlyName: "ENG-WS-07",
		Type: "Engineering Station", SubType: "Engineering Workstation",
		Vendor: "Dell", Model: "Precision 3660", OS: "Windows 10 Enterprise LTSC",
		MAC: "00:1a:2b:3c:4d:5e", IP: "10.20.3.45", Protocols: []string{"Siemens S7 Plus", "SMB", "RDP"},
		Site: "Rotterdam Plant", Zone: "Packaging Line 3", Sensor: "sensor-rtm-l3",
		PurdueLayer: "Supervisory", Importance: "Normal", Owners: []string{"ot-line3@rotterdam.example.com"},
		IsProgramming: true, FirstSeen: time.Date(2026, 11, 20, 8, 2, 10, 0, time.UTC),
	}
}

func plc() incident.Device {
	return incident.Device{
		ID: "2210", Name: "PLC-L3-01", FriendlyName: "PLC-L3-01",
		Type: "PLC", SubType: "Safety PLC", Vendor: "Siemens", Model: "S7-1516F-3 PN/DP",
		Firmware: "V2.9.4", MAC: "28:63:36:a1:b2:c3", IP: "10.20.3.10",
		Protocols: []string{"Siemens S7 Plus", "Profinet"},
		Site:      "Rotterdam Plant", Zone: "Packaging Line 3", Sensor: "sensor-rtm-l3",
		PurdueLayer: "Process control", Importance: "High", Owners: []string{"ot-line3@rotterdam.example.com"},
		IsAuthorized: true,
	}
}

// newAssetEvent is testdata/sentinel-incident-new-engineering-station.json.
func newAssetEvent() incident.Event {
	return incident.Event{
		ID:   "e2b1f7c4-4312-4d0e-8f3a-1b2c3d4e5f60",
		Type: incident.EventCreate,
		Incident: incident.Incident{
			ID:          "3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c",
			Number:      4312,
			Title:       "(MDIoT) New Asset Detected",
			Description: "(MDIoT) A new asset was detected in the network. Asset ENG-WS-07 (10.20.3.45) was not previously seen by sensor sensor-rtm-l3.",
			Severity:    "Medium",
			Status:      "New",
			Provider:    "Azure Sentinel",
			Tactics:     []string{"Discovery"},
			Techniques:  []string{"T0842"},
			Alerts: []incident.Alert{{
				ID:          "8b7c6d5e-4f3a-2b1c-0d9e-8f7a6b5c4d3e",
				Title:       "(MDIoT) New Asset Detected",
				Severity:    "Medium",
				Status:      "New",
				SensorID:    "sensor-rtm-l3",
				Protocol:    "Siemens S7 Plus",
				Category:    "Discovery",
				ProductName: "Azure Sentinel",
				IsNew:       true,
			}},
			Devices:   []incident.Device{engStation()},
			IPs:       []string{"10.20.3.45"},
			Workspace: incident.Workspace{Name: "law-soc-prod"},
		},
	}
}

// plcProgrammingEvent is testdata/sentinel-incident-unauthorized-plc-programming.json.
func plcProgrammingEvent() incident.Event {
	return incident.Event{
		ID:   "e2b1f7c4-4318-4d0e-8f3a-1b2c3d4e5f60",
		Type: incident.EventCreate,
		Incident: incident.Incident{
			ID:          "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
			Number:      4318,
			Title:       "(MDIoT) Unauthorized PLC Programming",
			Description: "(MDIoT) Unauthorized PLC programming was detected: ENG-WS-07 (10.20.3.45) downloaded a program to PLC-L3-01 (10.20.3.10).",
			Severity:    "High",
			Status:      "New",
			Provider:    "Azure Sentinel",
			Tactics:     []string{"ImpairProcessControl", "Persistence"},
			Techniques:  []string{"T0839", "T0843", "T0889"},
			Alerts: []incident.Alert{{
				ID:                 "c4d3e2f1-a0b9-4c8d-9e7f-6a5b4c3d2e1f",
				Title:              "(MDIoT) Unauthorized PLC Programming",
				Severity:           "High",
				Status:             "New",
				VendorOriginalID:   "5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47",
				SensorID:           "sensor-rtm-l3",
				SourceAddress:      "10.20.3.45",
				DestinationAddress: "10.20.3.10",
				DestinationDevice:  "PLC-L3-01",
				Protocol:           "Siemens S7 Plus",
				Category:           "Programming",
				IsNew:              true,
			}},
			Devices:   []incident.Device{plc(), engStation()},
			IPs:       []string{"10.20.3.10", "10.20.3.45"},
			Workspace: incident.Workspace{Name: "law-soc-prod"},
		},
	}
}

// updateOf makes an Update event whose previous state is prev.
func updateOf(cur incident.Event, prev *incident.Incident) incident.Event {
	cur.Type = incident.EventUpdate
	cur.Previous = prev
	return cur
}

var testNow = time.Date(2026, 11, 20, 8, 20, 0, 0, time.UTC)

func mustParse(t testing.TB, src string) *Engine {
	t.Helper()
	e, err := Parse([]byte(src), "test.yaml", knownPlaybooks())
	require.NoError(t, err)
	return e
}

package incident

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	armPrefix = "/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/resourceGroups/rg-soc-prod/providers/" +
		"Microsoft.OperationalInsights/workspaces/law-soc-prod/providers/Microsoft.SecurityInsights/"
	plcMgmtURI = "https://management.azure.com/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/" +
		"Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/" +
		"5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47?api-version=2021-07-01-preview"
	plcVendorID = "5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47"
	owner       = "ot-line3@rotterdam.example.com"
)

var workspace = Workspace{
	SubscriptionID: "7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11",
	ResourceGroup:  "rg-soc-prod",
	Name:           "law-soc-prod",
	ID:             "4f6a1d2e-9b8c-4e7f-a1b2-c3d4e5f6a7b8",
}

// wantPLCIncident is the whole incident the PLC programming trigger body must give.
func wantPLCIncident(t *testing.T) Incident {
	plcProgramSteps := []string{
		"Verify with the control engineer responsible for PLC-L3-01 whether this program download was planned.",
		"If it was not planned, compare the running program with the last approved version and restore it.",
	}
	return Incident{
		ID:          "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		ARMID:       armPrefix + "Incidents/9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		Number:      4318,
		Title:       "(MDIoT) Unauthorized PLC Programming",
		Description: "(MDIoT) Unauthorized PLC programming was detected: ENG-WS-07 (10.20.3.45) downloaded a program to PLC-L3-01 (10.20.3.10).",
		Severity:    SeverityHigh,
		Status:      StatusNew,
		URL:         "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident" + strings.TrimSuffix(armPrefix, "/") + "/Incidents/9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		Provider:    "Azure Sentinel",

		Created:       mustTime(t, "2026-11-20T08:15:02.118Z"),
		LastModified:  mustTime(t, "2026-11-20T08:15:02.118Z"),
		FirstActivity: mustTime(t, "2026-11-20T08:02:10Z"),
		LastActivity:  mustTime(t, "2026-11-20T08:02:10Z"),

		Tactics:         []string{"ImpairProcessControl", "Persistence"},
		Techniques:      []string{"T0839", "T0843", "T0889"},
		AnalyticRuleIDs: []string{armPrefix + "alertRules/c2fb27c7-5f67-49c4-aaf3-d82934234a69"},
		Alerts: []Alert{{
			ID:                 "c4d3e2f1-a0b9-4c8d-9e7f-6a5b4c3d2e1f",
			Title:              "(MDIoT) Unauthorized PLC Programming",
			Description:        "(MDIoT) Unauthorized PLC programming was detected: ENG-WS-07 (10.20.3.45) downloaded a program to PLC-L3-01 (10.20.3.10).",
			Severity:           SeverityHigh,
			Status:             "New",
			VendorOriginalID:   plcVendorID,
			ProductName:        "Azure Sentinel",
			Engine:             "Scheduled Alerts",
			AlertType:          "ASIScheduledAlerts_5c3e8a1d",
			StartTime:          mustTime(t, "2026-11-20T08:09:44Z"),
			EndTime:            mustTime(t, "2026-11-20T08:09:44Z"),
			TimeGenerated:      mustTime(t, "2026-11-20T08:13:58Z"),
			Tactics:            []string{"Persistence", "ImpairProcessControl"},
			Techniques:         []string{"T0839", "T0889", "T0843"},
			RemediationSteps:   plcProgramSteps,
			SensorID:           "sensor-rtm-l3",
			SourceAddress:      "10.20.3.45",
			DestinationAddress: "10.20.3.10",
			DestinationDevice:  "PLC-L3-01",
			Protocol:           "Siemens S7 Plus",
			Category:           "Programming",
			ManagementURI:      plcMgmtURI,
			IsNew:              true,
			CustomDetails: map[string][]string{
				"Sensor":             {"sensor-rtm-l3"},
				"Protocol":           {"Siemens S7 Plus"},
				"VendorOriginalId":   {plcVendorID},
				"AlertManagementUri": {plcMgmtURI},
			},
		}},
		Devices: []Device{
			{
				EntityID:     armPrefix + "Entities/iot-2210",
				ID:           "2210",
				Name:         "PLC-L3-01",
				FriendlyName: "PLC-L3-01",
				Type:         "PLC",
				SubType:      "Safety PLC",
				Vendor:       "Siemens",
				Model:        "S7-1516F-3 PN/DP",
				Firmware:     "V2.9.4",
				Serial:       "S C-X4U812345678",
				MAC:          "28:63:36:a1:b2:c3",
				IP:           "10.20.3.10",
				Protocols:    []string{"Siemens S7 Plus", "Profinet"},
				Site:         "Rotterdam Plant",
				Zone:         "Packaging Line 3",
				Sensor:       "sensor-rtm-l3",
				PurdueLayer:  "Process control",
				Importance:   "High",
				Owners:       []string{owner},
				IsAuthorized: true,
				PageLink:     "https://portal.azure.com/#view/Microsoft_Azure_IoT_Defender/IoTDeviceView/deviceId/2210",
			},
			{
				EntityID:      armPrefix + "Entities/iot-4107",
				ID:            "4107",
				Name:          "ENG-WS-07",
				FriendlyName:  "ENG-WS-07",
				Type:          "Engineering Station",
				SubType:       "Engineering Workstation",
				Vendor:        "Dell",
				Model:         "Precision 3660",
				OS:            "Windows 10 Enterprise LTSC",
				MAC:           "00:1a:2b:3c:4d:5e",
				IP:            "10.20.3.45",
				Protocols:     []string{"Siemens S7 Plus", "SMB", "RDP"},
				Site:          "Rotterdam Plant",
				Zone:          "Packaging Line 3",
				Sensor:        "sensor-rtm-l3",
				PurdueLayer:   "Supervisory",
				Importance:    "Normal",
				Owners:        []string{owner},
				IsProgramming: true,
				PageLink:      "https://portal.azure.com/#view/Microsoft_Azure_IoT_Defender/IoTDeviceView/deviceId/4107",
				FirstSeen:     mustTime(t, "2026-11-20T08:02:10Z"),
			},
		},
		IPs:       []string{"10.20.3.10", "10.20.3.45"},
		Workspace: workspace,
	}
}

func TestParseEventPLCProgramming(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent(readFixture(t, fixturePLC))
	require.NoError(t, err)
	require.Equal(t, "e2b1f7c4-4318-4d0e-8f3a-1b2c3d4e5f60", ev.ID)
	require.Equal(t, EventCreate, ev.Type)
	require.Nil(t, ev.Previous)
	require.Equal(t, wantPLCIncident(t), ev.Incident)
}

func TestParseEventNewEngineeringStation(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent(readFixture(t, fixtureNewAsset))
	require.NoError(t, err)
	inc := ev.Incident
	require.Equal(t, EventCreate, ev.Type)
	require.Equal(t, "3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c", inc.ID)
	require.Equal(t, int64(4312), inc.Number)
	require.Equal(t, "(MDIoT) New Asset Detected", inc.Title)
	require.Equal(t, SeverityMedium, inc.Severity)
	require.Equal(t, Owner{}, inc.Owner, "an owner of nulls is no owner")
	require.Nil(t, inc.Labels)
	require.Equal(t, workspace, inc.Workspace)
	require.Equal(t, []string{"Discovery"}, inc.Tactics)

	require.Len(t, inc.Alerts, 1)
	a := inc.Alerts[0]
	require.Equal(t, "1a9f0b7e-5d2c-4c4b-9e21-77aa10b4c301", a.VendorOriginalID)
	require.Equal(t, "New Asset Detected", a.BareTitle())
	require.Equal(t, "sensor-rtm-l3", a.SensorID)
	require.Equal(t, "10.20.3.45", a.SourceAddress)
	require.Empty(t, a.DestinationAddress)
	require.Equal(t, "Siemens S7 Plus", a.Protocol)
	require.Equal(t, "Discovery", a.Category)
	require.True(t, a.IsNew)
	require.Equal(t, "https://management.azure.com/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/"+
		"Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/"+
		"1a9f0b7e-5d2c-4c4b-9e21-77aa10b4c301?api-version=2021-07-01-preview", a.ManagementURI)
	require.Equal(t, []string{"sensor-rtm-l3"}, a.CustomDetails["Sensor"])
	require.Equal(t, []string{"1a9f0b7e-5d2c-4c4b-9e21-77aa10b4c301"}, a.CustomDetails["VendorOriginalId"])
	require.Len(t, a.RemediationSteps, 2)

	require.Len(t, inc.Devices, 1)
	d := inc.Devices[0]
	require.Equal(t, "ENG-WS-07", d.Name)
	require.Equal(t, "Engineering Station", d.Type)
	require.Equal(t, "Engineering Workstation", d.SubType)
	require.Equal(t, "10.20.3.45", d.IP, "resolved through ipAddressEntityId")
	require.Equal(t, "00:1a:2b:3c:4d:5e", d.MAC)
	require.Equal(t, "Rotterdam Plant", d.Site)
	require.Equal(t, "Packaging Line 3", d.Zone)
	require.Equal(t, "sensor-rtm-l3", d.Sensor)
	require.Equal(t, "Normal", d.Importance)
	require.Equal(t, "Supervisory", d.PurdueLayer)
	require.True(t, d.IsProgramming)
	require.False(t, d.IsAuthorized)
	require.False(t, d.IsScanner)
	require.Equal(t, []string{owner}, d.Owners)
	require.Equal(t, "https://portal.azure.com/#view/Microsoft_Azure_IoT_Defender/IoTDeviceView/deviceId/4107", d.PageLink)
	require.Equal(t, mustTime(t, "2026-11-20T08:02:10Z"), d.FirstSeen)
	require.Equal(t, []string{"10.20.3.45"}, inc.IPs)
}

func TestParseAlertRecord(t *testing.T) {
	t.Parallel()
	inc, err := ParseAlertRecord(readFixture(t, fixtureRecord))
	require.NoError(t, err)
	link := "https://portal.azure.com/#view/Microsoft_Azure_IoT_Defender/IoTAlertView/alertId/" + plcVendorID
	want := Incident{
		ID:            "d4iot-" + plcVendorID,
		Title:         "Unauthorized PLC Programming",
		Description:   "Unauthorized PLC programming was detected: ENG-WS-07 (10.20.3.45) downloaded a program to PLC-L3-01 (10.20.3.10).",
		Severity:      SeverityHigh,
		Status:        StatusNew,
		URL:           link,
		Provider:      "IoTSecurity",
		Created:       mustTime(t, "2026-11-20T08:09:51Z"),
		LastModified:  mustTime(t, "2026-11-20T08:09:51Z"),
		FirstActivity: mustTime(t, "2026-11-20T08:09:44Z"),
		LastActivity:  mustTime(t, "2026-11-20T08:09:44Z"),
		Tactics:       []string{"Persistence", "ImpairProcessControl"},
		Techniques:    []string{"T0839", "T0889", "T0843"},
		Alerts: []Alert{{
			ID:               "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
			Title:            "Unauthorized PLC Programming",
			Description:      "Unauthorized PLC programming was detected: ENG-WS-07 (10.20.3.45) downloaded a program to PLC-L3-01 (10.20.3.10).",
			Severity:         SeverityHigh,
			Status:           "New",
			VendorOriginalID: plcVendorID,
			ProviderName:     "IoTSecurity",
			ProductName:      "Azure Security Center for IoT",
			Engine:           "POLICY_VIOLATION",
			AlertType:        "IoT_PLCProgramming",
			StartTime:        mustTime(t, "2026-11-20T08:09:44Z"),
			EndTime:          mustTime(t, "2026-11-20T08:09:44Z"),
			TimeGenerated:    mustTime(t, "2026-11-20T08:09:51Z"),
			Tactics:          []string{"Persistence", "ImpairProcessControl"},
			Techniques:       []string{"T0839", "T0889", "T0843"},
			RemediationSteps: []string{
				"Verify with the control engineer responsible for PLC-L3-01 whether this program download was planned.",
				"If it was not planned, compare the running program with the last approved version and restore it.",
			},
			SensorID:            "sensor-rtm-l3",
			SourceAddress:       "10.20.3.45",
			DestinationAddress:  "10.20.3.10",
			DestinationDevice:   "PLC-L3-01",
			Protocol:            "Siemens S7 Plus",
			Category:            "Programming",
			CompromisedEntityID: "2210",
			ManagementURI:       plcMgmtURI,
			Link:                link,
			IsNew:               true,
		}},
		Devices: []Device{
			{
				ID: "2210", Name: "PLC-L3-01", Type: "PLC", Vendor: "Siemens", Model: "S7-1516F-3 PN/DP",
				MAC: "28:63:36:a1:b2:c3", IP: "10.20.3.10", Protocols: []string{"Siemens S7 Plus", "Profinet"},
				Site: "Rotterdam Plant", Zone: "Packaging Line 3", Sensor: "sensor-rtm-l3",
				PurdueLayer: "Process control", Importance: "High", Owners: []string{owner}, IsAuthorized: true,
			},
			{
				ID: "4107", Name: "ENG-WS-07", Type: "Engineering Station", Vendor: "Dell", Model: "Precision 3660",
				OS: "Windows 10 Enterprise LTSC", MAC: "00:1a:2b:3c:4d:5e", IP: "10.20.3.45",
				Site: "Rotterdam Plant", Zone: "Packaging Line 3", Sensor: "sensor-rtm-l3", Importance: "Normal",
				Owners: []string{owner}, IsProgramming: true,
			},
		},
		IPs: []string{"10.20.3.10", "10.20.3.45"},
	}
	require.Equal(t, want, inc)
}

// TestParseDetectsForm feeds every form to Parse and to Incident.UnmarshalJSON.
func TestParseDetectsForm(t *testing.T) {
	t.Parallel()
	plc, err := ParseEvent(readFixture(t, fixturePLC))
	require.NoError(t, err)
	record, err := ParseAlertRecord(readFixture(t, fixtureRecord))
	require.NoError(t, err)
	ownIncident, err := json.Marshal(plc.Incident)
	require.NoError(t, err)
	update := plc
	prev := plc.Incident
	prev.Severity = SeverityMedium
	update.Type, update.Previous = EventUpdate, &prev
	ownEvent, err := json.Marshal(update)
	require.NoError(t, err)

	tests := []struct {
		name string
		data []byte
		want Event
	}{
		{name: "trigger body", data: readFixture(t, fixturePLC), want: plc},
		{name: "alert record", data: readFixture(t, fixtureRecord), want: Event{Type: EventCreate, Incident: record}},
		{name: "own incident", data: ownIncident, want: Event{Type: EventCreate, Incident: plc.Incident}},
		{name: "own event", data: ownEvent, want: update},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := Parse(tt.data)
			require.NoError(t, err)
			require.Equal(t, tt.want, ev)

			var inc Incident
			require.NoError(t, json.Unmarshal(tt.data, &inc))
			require.Equal(t, tt.want.Incident, inc)

			var decoded Event
			require.NoError(t, json.Unmarshal(tt.data, &decoded))
			require.Equal(t, tt.want, decoded)
		})
	}
}

// TestIncidentRoundTrip: whatever form an incident came in, its own encoding decodes to an equal value.
func TestIncidentRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range allFixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev, err := Parse(readFixture(t, name))
			require.NoError(t, err)
			require.NotEmpty(t, ev.Incident.Alerts)
			require.Equal(t, ev.Incident, roundTrip(t, ev.Incident))

			var pasted Incident
			require.NoError(t, json.Unmarshal(readFixture(t, name), &pasted), "a pasted payload is an Incident")
			require.Equal(t, ev.Incident, pasted)
		})
	}
}

func TestParseEventUpdate(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent(readFixture(t, fixtureUpdate))
	require.NoError(t, err)
	require.Equal(t, EventUpdate, ev.Type)
	want := wantPLCIncident(t)
	want.Status = StatusActive
	want.Owner = Owner{
		ObjectID:          "2c8f1e9a-6b3d-4f7e-9a1c-5d4e3f2a1b0c",
		Email:             "j.devries@rotterdam.example.com",
		AssignedTo:        "Jan de Vries",
		UserPrincipalName: "j.devries@rotterdam.example.com",
	}
	want.Labels = []string{"OT", "High Importance Device Auto Update"}
	want.LastModified = mustTime(t, "2026-11-20T08:21:47.305Z")
	require.Equal(t, want, ev.Incident)

	require.NotNil(t, ev.Previous)
	require.Equal(t, Incident{
		ID:           want.ID,
		ARMID:        want.ARMID,
		Number:       4318,
		Title:        want.Title,
		Description:  want.Description,
		Severity:     SeverityHigh,
		Status:       StatusNew,
		LastModified: mustTime(t, "2026-11-20T08:15:02.118Z"),
		Workspace:    workspace,
	}, *ev.Previous)
}

func TestParseUpdateWithPrevious(t *testing.T) {
	t.Parallel()
	data := edit(t, readFixture(t, fixturePLC), func(root map[string]any) {
		root["objectEventType"] = "Update"
		prev := map[string]any{}
		for k, v := range props(t, root) {
			prev[k] = v
		}
		prev["severity"] = "medium"
		prev["status"] = "New"
		prev["Alerts"] = []any{}
		props(t, root)["status"] = "Active"
		root["previous"] = prev
	})
	ev, err := ParseEvent(data)
	require.NoError(t, err)
	require.Equal(t, EventUpdate, ev.Type)
	require.Equal(t, StatusActive, ev.Incident.Status)
	require.NotNil(t, ev.Previous)
	require.Equal(t, SeverityMedium, ev.Previous.Severity, "severity spelled as Sentinel does")
	require.Equal(t, StatusNew, ev.Previous.Status)
	require.Equal(t, ev.Incident.ID, ev.Previous.ID, "the previous state keeps the incident's identity")
	require.Equal(t, ev.Incident.ARMID, ev.Previous.ARMID)
	require.Nil(t, ev.Previous.Alerts)
	require.Len(t, ev.Previous.Devices, 2)

	again, err := Parse(mustMarshal(t, ev))
	require.NoError(t, err)
	require.Equal(t, ev, again, "an event round-trips through its own form")
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

// TestKeyCaseVariants rewrites the keys of each fixture and moves OT context around; the result must not
// change.
func TestKeyCaseVariants(t *testing.T) {
	t.Parallel()
	variants := []struct {
		name string
		fn   func(t *testing.T, root map[string]any) any
	}{
		{name: "lower-case keys", fn: func(_ *testing.T, root map[string]any) any { return mapKeys(root, strings.ToLower) }},
		{name: "upper-case keys", fn: func(_ *testing.T, root map[string]any) any { return mapKeys(root, strings.ToUpper) }},
		{name: "title-case keys", fn: func(_ *testing.T, root map[string]any) any {
			return mapKeys(root, func(k string) string { return strings.ToUpper(k[:min(1, len(k))]) + k[min(1, len(k)):] })
		}},
		{name: "OT context in properties", fn: func(t *testing.T, root map[string]any) any {
			forEachDevice(t, root, func(p map[string]any) {
				if ad, ok := p["additionalData"].(map[string]any); ok {
					for k, v := range ad {
						p[k] = v
					}
					delete(p, "additionalData")
				}
			})
			return root
		}},
		{name: "everything in additionalData", fn: func(t *testing.T, root map[string]any) any {
			forEachDevice(t, root, func(p map[string]any) {
				ad, _ := p["additionalData"].(map[string]any)
				if ad == nil {
					ad = map[string]any{}
				}
				for k, v := range p {
					// A record entity keeps what makes it an entity: its type and $id.
					if k != "additionalData" && k != "Type" && k != "$id" {
						ad[k] = v
						delete(p, k)
					}
				}
				p["additionalData"] = ad
			})
			return root
		}},
	}
	for _, name := range allFixtures {
		want, err := Parse(readFixture(t, name))
		require.NoError(t, err)
		for _, v := range variants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				root := decodeGeneric(t, readFixture(t, name)).(map[string]any)
				data := encodeGeneric(t, v.fn(t, root))
				got, err := Parse(data)
				require.NoError(t, err)
				require.Equal(t, want.Type, got.Type)
				require.Equal(t, normalizeDetails(want.Incident), normalizeDetails(got.Incident))
			})
		}
	}
}

// forEachDevice calls fn with the properties of every IoT device entity of a trigger body, and with every
// device of a record's Entities string (written back afterwards).
func forEachDevice(t *testing.T, root map[string]any, fn func(map[string]any)) {
	t.Helper()
	if ents, ok := root["Entities"].(string); ok {
		var list []any
		require.NoError(t, json.Unmarshal([]byte(ents), &list))
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["Type"] == "iotdevice" {
				fn(m)
			}
		}
		root["Entities"] = string(encodeGeneric(t, list))
		return
	}
	for _, e := range props(t, root)["relatedEntities"].([]any) {
		if m := e.(map[string]any); m["kind"] == "IoTDevice" {
			fn(m["properties"].(map[string]any))
		}
	}
}

// TestParseNulls: every optional value null, or missing, is a zero value and not an error.
func TestParseNulls(t *testing.T) {
	t.Parallel()
	const name = "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	var nullScalars func(v any) any
	nullScalars = func(v any) any {
		switch c := v.(type) {
		case map[string]any:
			for k, val := range c {
				c[k] = nullScalars(val)
			}
			return c
		case []any:
			for i, val := range c {
				c[i] = nullScalars(val)
			}
			return c
		default:
			return nil
		}
	}
	tests := []struct {
		name string
		fn   func(root map[string]any)
		want Incident
	}{
		{
			name: "every scalar null",
			fn: func(root map[string]any) {
				nullScalars(root)
				obj(t, root, "object")["name"] = name
			},
			// The alert is still there, with nothing known about it; entities without a kind are ignored.
			want: Incident{ID: name, Alerts: []Alert{{}}},
		},
		{
			name: "every optional object and array null",
			fn: func(root map[string]any) {
				for _, k := range []string{"workspaceInfo", "previous"} {
					root[k] = nil
				}
				p := props(t, root)
				for k, v := range p {
					switch v.(type) {
					case map[string]any, []any:
						p[k] = nil
					}
				}
			},
			want: func() Incident {
				inc := wantPLCIncident(t)
				inc.Tactics, inc.Techniques, inc.AnalyticRuleIDs, inc.Alerts, inc.Devices, inc.IPs = nil, nil, nil, nil, nil, nil
				inc.Workspace = Workspace{ID: workspace.ID, SubscriptionID: workspace.SubscriptionID,
					ResourceGroup: workspace.ResourceGroup, Name: workspace.Name} // recovered from the ARM ID
				return inc
			}(),
		},
		{
			name: "everything but the name missing",
			fn: func(root map[string]any) {
				clear(root)
				root["object"] = map[string]any{"name": name, "properties": map[string]any{}}
			},
			want: Incident{ID: name},
		},
		{
			name: "empty arrays",
			fn: func(root map[string]any) {
				p := props(t, root)
				p["Alerts"], p["relatedEntities"], p["labels"], p["relatedAnalyticRuleIds"] = []any{}, []any{}, []any{}, []any{}
				obj(t, p, "additionalData")["tactics"] = []any{}
				obj(t, p, "additionalData")["techniques"] = []any{}
			},
			want: func() Incident {
				inc := wantPLCIncident(t)
				inc.Tactics, inc.Techniques, inc.AnalyticRuleIDs, inc.Alerts, inc.Devices, inc.IPs = nil, nil, nil, nil, nil, nil
				return inc
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseEvent(edit(t, readFixture(t, fixturePLC), tt.fn))
			require.NoError(t, err)
			require.Equal(t, tt.want, ev.Incident)
			require.Equal(t, tt.want, roundTrip(t, ev.Incident))
		})
	}
}

// TestParseLenient covers the variations real senders produce.
func TestParseLenient(t *testing.T) {
	t.Parallel()
	const hostile = "Pumpe Zürich — 日本語 <b onclick=\"x()\">&amp;</b>\r\nline 2\tend\u2028"
	alert := func(t *testing.T, root map[string]any) map[string]any {
		return obj(t, props(t, root), "Alerts", "0", "properties")
	}
	device := func(t *testing.T, root map[string]any, i string) map[string]any {
		return obj(t, props(t, root), "relatedEntities", i, "properties")
	}
	tests := []struct {
		name  string
		fn    func(t *testing.T, root map[string]any)
		check func(t *testing.T, inc Incident)
	}{
		{
			name: "remediation steps as a JSON string",
			fn: func(t *testing.T, root map[string]any) {
				alert(t, root)["remediationSteps"] = `["Isolate the station.", "Call the <b>line</b> engineer."]`
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, []string{"Isolate the station.", "Call the <b>line</b> engineer."}, inc.Alerts[0].RemediationSteps)
			},
		},
		{
			name: "remediation steps as plain text",
			fn:   func(t *testing.T, root map[string]any) { alert(t, root)["remediationSteps"] = "Call the engineer." },
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, []string{"Call the engineer."}, inc.Alerts[0].RemediationSteps)
			},
		},
		{
			name: "owners as a string",
			fn: func(t *testing.T, root map[string]any) {
				obj(t, device(t, root, "0"), "additionalData")["Owners"] = "a@example.com; b@example.com"
				obj(t, device(t, root, "1"), "additionalData")["Owners"] = "c@example.com"
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, []string{"a@example.com", "b@example.com"}, inc.Devices[0].Owners)
				require.Equal(t, []string{"c@example.com"}, inc.Devices[1].Owners)
				require.Equal(t, []string{"a@example.com", "b@example.com", "c@example.com"}, inc.Owners())
			},
		},
		{
			name: "labels as objects",
			fn: func(t *testing.T, root map[string]any) {
				props(t, root)["labels"] = []any{
					map[string]any{"labelName": "OT", "labelType": "User"},
					map[string]any{"labelName": "Rotterdam", "labelType": "AutoAssigned"},
				}
			},
			check: func(t *testing.T, inc Incident) { require.Equal(t, []string{"OT", "Rotterdam"}, inc.Labels) },
		},
		{
			name:  "labels as strings",
			fn:    func(t *testing.T, root map[string]any) { props(t, root)["labels"] = []any{"OT", nil, "", "Rotterdam"} },
			check: func(t *testing.T, inc Incident) { require.Equal(t, []string{"OT", "Rotterdam"}, inc.Labels) },
		},
		{
			name: "booleans as strings",
			fn: func(t *testing.T, root map[string]any) {
				ad := obj(t, device(t, root, "0"), "additionalData")
				ad["IsProgramming"], ad["IsAuthorized"], ad["IsScanner"] = "True", "false", "TRUE"
				obj(t, alert(t, root), "additionalData")["isNew"] = true
			},
			check: func(t *testing.T, inc Incident) {
				d := inc.Devices[0]
				require.True(t, d.IsProgramming)
				require.False(t, d.IsAuthorized)
				require.True(t, d.IsScanner)
				require.True(t, inc.Alerts[0].IsNew)
			},
		},
		{
			name: "isNew false",
			fn:   func(t *testing.T, root map[string]any) { obj(t, alert(t, root), "additionalData")["isNew"] = "False" },
			check: func(t *testing.T, inc Incident) {
				require.False(t, inc.Alerts[0].IsNew)
			},
		},
		{
			name: "numbers as strings and strings as numbers",
			fn: func(t *testing.T, root map[string]any) {
				props(t, root)["incidentNumber"] = " 4318 "
				device(t, root, "0")["deviceId"] = json.Number("2210")
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, int64(4318), inc.Number)
				require.Equal(t, "2210", inc.Devices[0].ID)
			},
		},
		{
			name: "time variants",
			fn: func(t *testing.T, root map[string]any) {
				p := props(t, root)
				p["createdTimeUtc"] = "2026-11-20 08:15:02.118Z"
				p["lastModifiedTimeUtc"] = "2026-11-20T09:15:02.1180000+01:00"
				p["firstActivityTimeUtc"] = "2026-11-20T08:02:10"
				p["lastActivityTimeUtc"] = "2026-11-20t08:02:10z"
			},
			check: func(t *testing.T, inc Incident) {
				want := wantPLCIncident(t)
				require.Equal(t, want.Created, inc.Created)
				require.Equal(t, want.LastModified, inc.LastModified)
				require.Equal(t, want.FirstActivity, inc.FirstActivity)
				require.Equal(t, want.LastActivity, inc.LastActivity)
			},
		},
		{
			name: "non-ASCII, HTML and line breaks kept as sent",
			fn: func(t *testing.T, root map[string]any) {
				props(t, root)["title"] = hostile
				alert(t, root)["description"] = hostile
				obj(t, device(t, root, "0"), "additionalData")["Site"] = hostile
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, hostile, inc.Title)
				require.Equal(t, hostile, inc.Alerts[0].Description)
				require.Equal(t, hostile, inc.Site())
			},
		},
		{
			name: "severity and status in other cases",
			fn: func(t *testing.T, root map[string]any) {
				props(t, root)["severity"] = "high"
				props(t, root)["status"] = "ACTIVE"
				obj(t, device(t, root, "1"), "additionalData")["Importance"] = "high"
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, SeverityHigh, inc.Severity)
				require.Equal(t, StatusActive, inc.Status)
				require.Equal(t, "High", inc.Devices[1].Importance)
			},
		},
		{
			name: "custom details fill missing alert keys",
			fn: func(t *testing.T, root map[string]any) {
				ad := obj(t, alert(t, root), "additionalData")
				for _, k := range []string{"SensorId", "Protocol", "AlertManagementUri"} {
					delete(ad, k)
				}
				delete(alert(t, root), "vendorOriginalId")
			},
			check: func(t *testing.T, inc Incident) {
				a := inc.Alerts[0]
				require.Equal(t, "sensor-rtm-l3", a.SensorID)
				require.Equal(t, "Siemens S7 Plus", a.Protocol)
				require.Equal(t, plcVendorID, a.VendorOriginalID)
				require.Equal(t, plcMgmtURI, a.ManagementURI)
			},
		},
		{
			name: "custom details as an object with odd values",
			fn: func(t *testing.T, root map[string]any) {
				obj(t, alert(t, root), "additionalData")["Custom Details"] = map[string]any{
					"Sensor": "sensor-x", "Port": []any{json.Number("102"), nil, true}, "Nested": []any{map[string]any{"a": "b"}},
					"None": nil,
				}
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, map[string][]string{
					"Sensor": {"sensor-x"}, "Port": {"102", "true"}, "Nested": {`{"a":"b"}`}, "None": nil,
				}, inc.Alerts[0].CustomDetails)
				require.Equal(t, "102", inc.Alerts[0].CustomDetail("port"))
			},
		},
		{
			name: "IP address on the device instead of an entity reference",
			fn: func(t *testing.T, root map[string]any) {
				d := device(t, root, "0")
				delete(d, "ipAddressEntityId")
				d["IpAddress"] = map[string]any{"address": "10.20.3.99"}
				d1 := device(t, root, "1")
				d1["ipAddressEntityId"] = "nowhere"
				d1["ipAddress"] = "10.20.3.98"
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, "10.20.3.99", inc.Devices[0].IP)
				require.Equal(t, "10.20.3.98", inc.Devices[1].IP)
			},
		},
		{
			name: "alert without a properties wrapper and a title only in friendlyName",
			fn: func(t *testing.T, root map[string]any) {
				a := alert(t, root)
				delete(a, "alertDisplayName")
				props(t, root)["Alerts"] = []any{a, nil}
			},
			check: func(t *testing.T, inc Incident) {
				require.Len(t, inc.Alerts, 1)
				require.Equal(t, "(MDIoT) Unauthorized PLC Programming", inc.Alerts[0].Title)
				require.Equal(t, plcVendorID, inc.Alerts[0].VendorOriginalID)
			},
		},
		{
			name: "identity from providerIncidentId, then incidentNumber",
			fn: func(t *testing.T, root map[string]any) {
				delete(obj(t, root, "object"), "name")
			},
			check: func(t *testing.T, inc Incident) { require.Equal(t, "4318", inc.ID) },
		},
		{
			name: "identity from incidentNumber",
			fn: func(t *testing.T, root map[string]any) {
				delete(obj(t, root, "object"), "name")
				props(t, root)["providerIncidentId"] = nil
			},
			check: func(t *testing.T, inc Incident) { require.Equal(t, "number-4318", inc.ID) },
		},
		{
			name: "unknown keys and entity kinds ignored",
			fn: func(t *testing.T, root map[string]any) {
				root["somethingNew"] = map[string]any{"x": []any{1, 2}}
				p := props(t, root)
				p["relatedEntities"] = append(p["relatedEntities"].([]any), map[string]any{"kind": "Host", "properties": "odd"}, nil)
			},
			check: func(t *testing.T, inc Incident) { require.Len(t, inc.Devices, 2) },
		},
		{
			name: "invalid UTF-8 becomes U+FFFD",
			fn:   func(t *testing.T, root map[string]any) { props(t, root)["title"] = "bad \xff byte" },
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, "bad \uFFFD byte", inc.Title)
			},
		},
		{
			name: "long strings kept whole",
			fn: func(t *testing.T, root map[string]any) {
				props(t, root)["description"] = strings.Repeat("ab\n", 100_000)
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, strings.Repeat("ab\n", 100_000), inc.Description)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := edit(t, readFixture(t, fixturePLC), func(root map[string]any) { tt.fn(t, root) })
			ev, err := ParseEvent(data)
			require.NoError(t, err)
			tt.check(t, ev.Incident)
			require.Equal(t, ev.Incident, roundTrip(t, ev.Incident))
		})
	}
}

func TestParseAlertRecordLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fn    func(t *testing.T, root map[string]any)
		check func(t *testing.T, inc Incident)
	}{
		{
			name: "JSON strings as JSON values",
			fn: func(t *testing.T, root map[string]any) {
				for _, k := range []string{"ExtendedProperties", "Entities", "RemediationSteps"} {
					root[k] = decodeGeneric(t, []byte(root[k].(string)))
				}
				root["Tactics"] = []any{"Persistence", "ImpairProcessControl"}
			},
			check: func(t *testing.T, inc Incident) {
				want, err := ParseAlertRecord(readFixture(t, fixtureRecord))
				require.NoError(t, err)
				require.Equal(t, want, inc)
			},
		},
		{
			name: "$ref entities, an IP as a string and a dangling reference",
			fn: func(t *testing.T, root map[string]any) {
				root["Entities"] = `[
					{"$id": "2", "Type": "ip", "Address": "10.20.3.10"},
					{"$id": "3", "Type": "iotdevice", "DeviceName": "PLC-L3-01", "IpAddress": {"$ref": "2"}},
					{"$ref": "3"},
					{"$id": "5", "Type": "iotdevice", "DeviceName": "HMI-1", "IpAddress": "10.20.3.20", "IsScanner": "true"},
					{"$id": "6", "Type": "iotdevice", "DeviceName": "ghost", "IpAddress": {"$ref": "99"}},
					{"$ref": "42"},
					{"$id": "8", "$ref": "8"},
					{"$id": "7", "Type": "host", "HostName": "x"}
				]`
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, []Device{
					{Name: "PLC-L3-01", IP: "10.20.3.10"},
					{Name: "HMI-1", IP: "10.20.3.20", IsScanner: true},
					{Name: "ghost"},
				}, inc.Devices)
				require.Equal(t, []string{"10.20.3.10"}, inc.IPs)
			},
		},
		{
			name: "title from AlertName, status mapped",
			fn: func(t *testing.T, root map[string]any) {
				delete(root, "DisplayName")
				root["Status"] = "inprogress"
				root["WorkspaceSubscriptionId"] = "sub"
			},
			check: func(t *testing.T, inc Incident) {
				require.Equal(t, "Unauthorized PLC Programming", inc.Title)
				require.Equal(t, "InProgress", inc.Alerts[0].Status)
				require.Equal(t, StatusActive, inc.Status)
				require.Equal(t, "sub", inc.Workspace.SubscriptionID)
			},
		},
		{
			name: "empty JSON strings",
			fn: func(t *testing.T, root map[string]any) {
				root["ExtendedProperties"], root["Entities"], root["RemediationSteps"] = "", "  ", "[]"
				root["Tactics"] = ""
			},
			check: func(t *testing.T, inc Incident) {
				require.Nil(t, inc.Devices)
				require.Nil(t, inc.Tactics)
				require.Nil(t, inc.Alerts[0].RemediationSteps)
				require.Empty(t, inc.Alerts[0].SensorID)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := edit(t, readFixture(t, fixtureRecord), func(root map[string]any) { tt.fn(t, root) })
			inc, err := ParseAlertRecord(data)
			require.NoError(t, err)
			tt.check(t, inc)
			require.Equal(t, inc, roundTrip(t, inc))
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	plc := readFixture(t, fixturePLC)
	record := readFixture(t, fixtureRecord)
	onPLC := func(fn func(root map[string]any)) []byte { return edit(t, plc, fn) }
	onRecord := func(fn func(root map[string]any)) []byte { return edit(t, record, fn) }
	alertProps := func(root map[string]any) map[string]any {
		return obj(t, props(t, root), "Alerts", "0", "properties")
	}
	manyAlerts := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"properties": map[string]any{"alertDisplayName": "x"}}
		}
		return out
	}
	parseEvent := func(b []byte) error { _, err := ParseEvent(b); return err }
	parseRecord := func(b []byte) error { _, err := ParseAlertRecord(b); return err }
	parseAny := func(b []byte) error { _, err := Parse(b); return err }
	unmarshalEvent := func(b []byte) error { var ev Event; return json.Unmarshal(b, &ev) }
	unmarshal := func(b []byte) error { var inc Incident; return json.Unmarshal(b, &inc) }

	tests := []struct {
		name  string
		parse func([]byte) error
		data  []byte
		path  string // "" means the input must parse
		msg   string // a substring of the message, or the whole message when it starts with "="
	}{
		{name: "not JSON", parse: parseEvent, data: []byte(`{"object": `), path: "body", msg: "not JSON: unexpected end of input"},
		{name: "empty body", parse: parseAny, data: nil, path: "body", msg: "not JSON"},
		{name: "trailing garbage", parse: parseAny, data: []byte(`{} x`), path: "body", msg: "after top-level value"},
		{name: "body an array", parse: parseEvent, data: []byte(`[1]`), path: "body", msg: "=must be a JSON object, not array"},
		{name: "nesting too deep", parse: parseAny, data: []byte(strings.Repeat("[", 600) + strings.Repeat("]", 600)), path: "body", msg: "nesting deeper than 512"},
		{name: "object missing", parse: parseEvent, data: []byte(`{"objectEventType": "Create"}`), path: "object", msg: "=missing"},
		{name: "object null", parse: parseEvent, data: []byte(`{"object": null}`), path: "object", msg: "=missing"},
		{name: "object a string", parse: parseEvent, data: []byte(`{"object": "x"}`), path: "object", msg: "=must be an object, not string"},
		{name: "wrong event type", parse: parseEvent, data: onPLC(func(r map[string]any) { r["objectEventType"] = "Delete" }),
			path: "objectEventType", msg: `=must be Create or Update, not "Delete"`},
		{name: "wrong schema type", parse: parseAny, data: onPLC(func(r map[string]any) { r["objectSchemaType"] = "Alert" }),
			path: "objectSchemaType", msg: `=must be Incident, not "Alert"`},
		{name: "properties missing", parse: parseEvent, data: []byte(`{"object": {"name": "x"}}`), path: "object.properties", msg: "=missing"},
		{name: "no identity", parse: parseEvent, data: []byte(`{"object": {"properties": {"title": "t"}}}`), path: "object.name", msg: "missing"},
		{name: "workspaceInfo an array", parse: parseEvent, data: onPLC(func(r map[string]any) { r["workspaceInfo"] = []any{} }),
			path: "workspaceInfo", msg: "=must be an object, not array"},
		{name: "alerts not an array", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["Alerts"] = map[string]any{} }),
			path: "object.properties.Alerts", msg: "=must be an array, not object"},
		{name: "alert a string", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["Alerts"] = []any{"x"} }),
			path: "object.properties.Alerts[0]", msg: "=must be an object, not string"},
		{name: "alert properties a number", parse: parseEvent, data: onPLC(func(r map[string]any) {
			obj(t, props(t, r), "Alerts", "0")["properties"] = 1
		}), path: "object.properties.Alerts[0].properties", msg: "=must be an object, not number"},
		{name: "bad alert time", parse: parseEvent, data: onPLC(func(r map[string]any) { alertProps(r)["startTimeUtc"] = "yesterday" }),
			path: "object.properties.Alerts[0].properties.startTimeUtc", msg: `=not a time: "yesterday"`},
		{name: "bad time in key-case variant names the key as sent", parse: parseEvent, data: onPLC(func(r map[string]any) {
			delete(props(t, r), "createdTimeUtc")
			props(t, r)["CREATEDTIMEUTC"] = "2026-13-45T00:00:00Z"
		}), path: "object.properties.CREATEDTIMEUTC", msg: "not a time"},
		{name: "long bad value shortened in the message", parse: parseEvent, data: onPLC(func(r map[string]any) {
			props(t, r)["createdTimeUtc"] = strings.Repeat("é", 100)
		}), path: "object.properties.createdTimeUtc", msg: `=not a time: "` + strings.Repeat("é", 63) + `…"`},
		{name: "too many custom details", parse: parseEvent, data: onPLC(func(r map[string]any) {
			cd := map[string]any{}
			for i := range MaxListItems + 1 {
				cd["k"+strconv.Itoa(i)] = nil
			}
			obj(t, alertProps(r), "additionalData")["Custom Details"] = cd
		}), path: "object.properties.Alerts[0].properties.additionalData.Custom Details", msg: "=more than 1000 keys"},
		{name: "time a number", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["createdTimeUtc"] = 5 }),
			path: "object.properties.createdTimeUtc", msg: "=must be a string, not number"},
		{name: "time out of JSON's range", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["createdTimeUtc"] = "9999-12-31T23:59:59-23:00" }),
			path: "object.properties.createdTimeUtc", msg: "not a time"},
		{name: "title an object", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["title"] = map[string]any{} }),
			path: "object.properties.title", msg: "=must be a string, not object"},
		{name: "owner a string", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["owner"] = "someone" }),
			path: "object.properties.owner", msg: "=must be an object, not string"},
		{name: "incident number not a number", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["incidentNumber"] = "four" }),
			path: "object.properties.incidentNumber", msg: `=not an integer: "four"`},
		{name: "tactic an object", parse: parseEvent, data: onPLC(func(r map[string]any) {
			obj(t, props(t, r), "additionalData")["tactics"] = []any{"Discovery", map[string]any{}}
		}), path: "object.properties.additionalData.tactics[1]", msg: "=must be a string, not object"},
		{name: "isNew not a boolean", parse: parseEvent, data: onPLC(func(r map[string]any) {
			obj(t, alertProps(r), "additionalData")["isNew"] = "maybe"
		}), path: "object.properties.Alerts[0].properties.additionalData.isNew", msg: `=not a boolean: "maybe"`},
		{name: "custom details not JSON", parse: parseEvent, data: onPLC(func(r map[string]any) {
			obj(t, alertProps(r), "additionalData")["Custom Details"] = `{"Sensor": [`
		}), path: "object.properties.Alerts[0].properties.additionalData.Custom Details", msg: "not JSON"},
		{name: "entity a number", parse: parseEvent, data: onPLC(func(r map[string]any) {
			p := props(t, r)
			p["relatedEntities"] = append([]any{p["relatedEntities"].([]any)[0]}, 7)
		}), path: "object.properties.relatedEntities[1]", msg: "=must be an object, not number"},
		{name: "device flag not a boolean", parse: parseEvent, data: onPLC(func(r map[string]any) {
			obj(t, props(t, r), "relatedEntities", "1", "properties", "additionalData")["IsAuthorized"] = "perhaps"
		}), path: "object.properties.relatedEntities[1].properties.additionalData.IsAuthorized", msg: "not a boolean"},
		{name: "IP entity reference that points nowhere is no error", parse: parseEvent, data: onPLC(func(r map[string]any) {
			obj(t, props(t, r), "relatedEntities", "0", "properties")["ipAddressEntityId"] = "/nowhere"
		})},
		{name: "too many alerts", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["Alerts"] = manyAlerts(MaxAlerts + 1) }),
			path: "object.properties.Alerts", msg: "=more than 500 items"},
		{name: "as many alerts as allowed", parse: parseEvent, data: onPLC(func(r map[string]any) { props(t, r)["Alerts"] = manyAlerts(MaxAlerts) })},
		{name: "too many entities", parse: parseEvent, data: onPLC(func(r map[string]any) {
			props(t, r)["relatedEntities"] = make([]any, MaxEntities+1)
		}), path: "object.properties.relatedEntities", msg: "=more than 1000 items"},
		{name: "too many tactics", parse: parseEvent, data: onPLC(func(r map[string]any) {
			obj(t, props(t, r), "additionalData")["tactics"] = make([]any, MaxListItems+1)
		}), path: "object.properties.additionalData.tactics", msg: "=more than 1000 items"},
		{name: "previous not an object", parse: parseEvent, data: onPLC(func(r map[string]any) { r["previous"] = "x" }),
			path: "previous", msg: "=must be an object, not string"},
		{name: "previous with a bad time", parse: parseEvent, data: onPLC(func(r map[string]any) {
			r["previous"] = map[string]any{"createdTimeUtc": "soon"}
		}), path: "previous.createdTimeUtc", msg: `=not a time: "soon"`},

		{name: "record without VendorOriginalId", parse: parseRecord, data: onRecord(func(r map[string]any) { delete(r, "VendorOriginalId") }),
			path: "VendorOriginalId", msg: "=missing"},
		{name: "record with blank VendorOriginalId", parse: parseAny, data: onRecord(func(r map[string]any) { r["VendorOriginalId"] = " " }),
			path: "VendorOriginalId", msg: "=missing"},
		{name: "ExtendedProperties not JSON", parse: parseRecord, data: onRecord(func(r map[string]any) { r["ExtendedProperties"] = "{oops" }),
			path: "ExtendedProperties", msg: "not JSON: invalid character 'o' looking for beginning of object key at offset 1"},
		{name: "ExtendedProperties an array", parse: parseRecord, data: onRecord(func(r map[string]any) { r["ExtendedProperties"] = "[1]" }),
			path: "ExtendedProperties", msg: "=must be a JSON object, not array"},
		{name: "Entities not JSON", parse: parseRecord, data: onRecord(func(r map[string]any) { r["Entities"] = "[{]" }),
			path: "Entities", msg: "not JSON"},
		{name: "record entity a number", parse: parseRecord, data: onRecord(func(r map[string]any) { r["Entities"] = "[1]" }),
			path: "Entities[0]", msg: "=must be an object, not number"},
		{name: "record entity bad flag", parse: parseRecord, data: onRecord(func(r map[string]any) {
			r["Entities"] = `[{"Type": "iotdevice", "IsAuthorized": "often"}]`
		}), path: "Entities[0].IsAuthorized", msg: `=not a boolean: "often"`},
		{name: "record bad time", parse: parseRecord, data: onRecord(func(r map[string]any) { r["StartTime"] = "later" }),
			path: "StartTime", msg: `=not a time: "later"`},
		{name: "record remediation steps broken JSON", parse: parseRecord, data: onRecord(func(r map[string]any) { r["RemediationSteps"] = "[broken" }),
			path: "RemediationSteps", msg: "not JSON"},
		{name: "record isNew in ExtendedProperties bad", parse: parseRecord, data: onRecord(func(r map[string]any) {
			r["ExtendedProperties"] = `{"isNew": "sometimes"}`
		}), path: "ExtendedProperties.isNew", msg: "not a boolean"},

		{name: "unknown form", parse: parseAny, data: []byte(`{"foo": 1}`), path: "body", msg: "not an incident"},
		{name: "own form without id", parse: parseAny, data: []byte(`{"title": "x"}`), path: "id", msg: "=missing"},
		{name: "own form pasted without id", parse: unmarshal, data: []byte(`{"title": "x", "severity": "High"}`), path: "id", msg: "=missing"},
		{name: "own form wrong type", parse: unmarshal, data: []byte(`{"id": "x", "title": 5}`), path: "title", msg: "must be a string"},
		{name: "own form bad time", parse: unmarshal, data: []byte(`{"id": "x", "created": "noon"}`), path: "created", msg: `=not a time: "noon"`},
		{name: "own form bad nested time", parse: unmarshal, data: []byte(`{"id": "x", "alerts": [{}, {"startTime": "noon"}]}`),
			path: "alerts[1].startTime", msg: `=not a time: "noon"`},
		{name: "own form time out of range in UTC", parse: unmarshal, data: []byte(`{"id": "x", "devices": [{"firstSeen": "9999-12-31T23:59:59-23:00"}]}`),
			path: "devices[0].firstSeen", msg: "=not a time: year out of range"},
		{name: "own form wrong nested type", parse: unmarshal, data: []byte(`{"id": "x", "devices": [{"owners": ["a"]}, {"owners": ["b", 1]}]}`),
			path: "devices[1].owners[1]", msg: "=must be a string, not number"},
		{name: "own form wrong custom detail", parse: unmarshal, data: []byte(`{"id": "x", "alerts": [{"customDetails": {"a": ["x"], "b": [true]}}]}`),
			path: "alerts[0].customDetails.b[0]", msg: "=must be a string, not bool"},
		{name: "own form too many alerts", parse: unmarshal, data: mustMarshal(t, Incident{ID: "x", Alerts: make([]Alert, MaxAlerts+1)}),
			path: "alerts", msg: "=more than 500 items"},
		{name: "event decoded from a bad trigger body", parse: unmarshalEvent, data: onPLC(func(r map[string]any) { r["objectEventType"] = "Delete" }),
			path: "objectEventType", msg: `=must be Create or Update, not "Delete"`},
		{name: "own event wrong type", parse: parseAny, data: []byte(`{"type": "Delete", "incident": {"id": "x"}}`), path: "type", msg: `=must be Create or Update, not "Delete"`},
		{name: "own event without incident", parse: parseAny, data: []byte(`{"type": "Create", "incident": null}`), path: "incident", msg: "=missing"},
		{name: "own event incident without id", parse: parseAny, data: []byte(`{"incident": {"title": "x"}}`), path: "incident.id", msg: "=missing"},
		{name: "own event with a Sentinel body inside", parse: parseAny, data: []byte(`{"incident": {"object": {"properties": {}}}}`),
			path: "incident.object.name", msg: "missing"},
		{name: "own event incident with a nested error", parse: parseAny, data: []byte(`{"incident": {"id": "x", "alerts": [{"title": 1}]}}`),
			path: "incident.alerts[0].title", msg: "=must be a string, not number"},
		{name: "own event previous without id inherits it", parse: parseAny, data: []byte(`{"incident": {"id": "x"}, "previous": {"title": "y"}}`)},
		{name: "own event previous as a trigger body", parse: parseAny, data: []byte(`{"incident": {"id": "x"}, "previous": {"object": {"name": "x", "properties": {"createdTimeUtc": "never"}}}}`),
			path: "previous.object.properties.createdTimeUtc", msg: `=not a time: "never"`},
		{name: "own event previous not JSON object", parse: parseAny, data: []byte(`{"incident": {"id": "x"}, "previous": [1]}`),
			path: "previous", msg: "=must be a JSON object, not array"},
		{name: "own event previous bad", parse: parseAny, data: []byte(`{"incident": {"id": "x"}, "previous": {"title": 1}}`),
			path: "previous.title", msg: "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.parse(tt.data)
			if tt.path == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			fe, ok := errors.AsType[*FieldError](err)
			require.True(t, ok, "error %v is %T, not *FieldError", err, err)
			require.Equal(t, tt.path, fe.Path, "error: %v", err)
			if want, exact := strings.CutPrefix(tt.msg, "="); exact {
				require.Equal(t, want, fe.Msg)
			} else {
				require.Contains(t, fe.Msg, tt.msg)
			}
			require.Equal(t, fe.Path+": "+fe.Msg, err.Error())
		})
	}
}

package assets

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/incident"
)

const testDirectory = `
sites:
  - name: Rotterdam Plant
    owners: [site@rotterdam.example.com]
    lines:
      - name: Line 3 packaging
        owners: [line3@rotterdam.example.com]
        zones:
          - name: Packaging Line 3
            assets:
              - {name: PLC-L3-01, type: PLC, subType: Safety PLC, ip: 10.20.3.10, mac: "28:63:36:a1:b2:c3", criticality: high, safety: true, purdueLevel: "1"}
              - {name: ENG-WS-07, type: Engineering Station, ip: 10.20.3.45, criticality: medium, purdueLevel: "2", owners: [eng@rotterdam.example.com]}
              - {name: HMI-L3-01, type: HMI, ip: 10.20.3.20, criticality: medium, purdueLevel: "2"}
              - {name: SIS-L3-01, type: PLC, ip: 10.20.3.11, criticality: medium, safety: true, purdueLevel: "1"}
              - {name: RIO-L3-01, type: PLC, ip: 10.20.3.30, criticality: low}
      - name: Line 1
        zones:
          - name: Z1
            assets:
              - {name: L1-PLC, type: PLC, ip: 10.20.1.10, criticality: high}
              - {name: L1-HMI, type: HMI, ip: 10.20.1.20, criticality: low, purdueLevel: "2"}
  - name: Delft Lab
    lines:
      - name: Lab
        zones:
          - name: Lab
            assets:
              - {name: LAB-01, ip: 10.30.0.1, criticality: low, owners: lab@delft.example.com}
`

func names(imp incident.Impact) []string {
	var out []string
	for _, a := range imp.Assets {
		out = append(out, a.Name)
	}
	return out
}

func devs(names ...string) []incident.Device {
	var out []incident.Device
	for _, n := range names {
		out = append(out, incident.Device{Name: n})
	}
	return out
}

func TestImpact(t *testing.T) {
	d := mustParse(t, testDirectory, "yaml")
	longName := strings.Repeat("x", 500) + "\nINJECTED"
	tests := []struct {
		name      string
		inc       incident.Incident
		statement string
		risk      string
		safety    bool
		assets    []string
		unknown   []string
		owners    []string
		lines     []string
	}{
		{
			name: "known PLC and unknown address",
			inc: incident.Incident{
				Devices: []incident.Device{{Name: "PLC-L3-01", IP: "10.20.3.10"}},
				Alerts:  []incident.Alert{{SourceAddress: "10.9.9.9", DestinationAddress: "10.20.3.10"}},
			},
			statement: "Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01 (Purdue 1, criticality high), owner line3@rotterdam.example.com; production stop risk high; not in the asset directory: 10.9.9.9",
			risk:      "high", safety: true,
			assets: []string{"PLC-L3-01"}, unknown: []string{"10.9.9.9"},
			owners: []string{"line3@rotterdam.example.com"}, lines: []string{"Line 3 packaging"},
		},
		{
			name:      "medium safety asset is high risk",
			inc:       incident.Incident{Devices: devs("sis-l3-01")},
			statement: "Rotterdam Plant / Line 3 packaging: safety PLC SIS-L3-01 (Purdue 1, criticality medium), owner line3@rotterdam.example.com; production stop risk high",
			risk:      "high", safety: true, assets: []string{"SIS-L3-01"},
			owners: []string{"line3@rotterdam.example.com"}, lines: []string{"Line 3 packaging"},
		},
		{
			name: "several assets ordered, +N more",
			inc: incident.Incident{Devices: append(devs("RIO-L3-01", "HMI-L3-01"),
				incident.Device{IP: "10.20.3.45"}, incident.Device{FriendlyName: "SIS-L3-01"},
				incident.Device{Name: "L1-PLC"}, incident.Device{Name: "unknown-name", MAC: "28:63:36:A1:B2:C3"})},
			statement: "Rotterdam Plant / Line 3 packaging, Line 1: safety PLC PLC-L3-01 (Purdue 1, criticality high), PLC L1-PLC (criticality high), safety PLC SIS-L3-01 (Purdue 1, criticality medium) +3 more, owners line3@rotterdam.example.com, site@rotterdam.example.com +1 more; production stop risk high",
			risk:      "high", safety: true,
			assets: []string{"PLC-L3-01", "L1-PLC", "SIS-L3-01", "ENG-WS-07", "HMI-L3-01", "RIO-L3-01"},
			owners: []string{"line3@rotterdam.example.com", "site@rotterdam.example.com", "eng@rotterdam.example.com"},
			lines:  []string{"Line 3 packaging", "Line 1"},
		},
		{
			name:      "owners inherited from the site",
			inc:       incident.Incident{Alerts: []incident.Alert{{DestinationAddress: "10.20.1.20"}}},
			statement: "Rotterdam Plant / Line 1: HMI L1-HMI (Purdue 2, criticality low), owner site@rotterdam.example.com; production stop risk low",
			risk:      "low", assets: []string{"L1-HMI"}, owners: []string{"site@rotterdam.example.com"}, lines: []string{"Line 1"},
		},
		{
			name:      "medium risk, asset's own owner",
			inc:       incident.Incident{IPs: []string{"10.20.3.45"}},
			statement: "Rotterdam Plant / Line 3 packaging: Engineering Station ENG-WS-07 (Purdue 2, criticality medium), owner eng@rotterdam.example.com; production stop risk medium",
			risk:      "medium", assets: []string{"ENG-WS-07"}, owners: []string{"eng@rotterdam.example.com"}, lines: []string{"Line 3 packaging"},
		},
		{
			name: "MAC spellings",
			inc: incident.Incident{
				Devices: []incident.Device{{MAC: "28-63-36-A1-B2-C3"}},
				Alerts:  []incident.Alert{{SourceAddress: "286336a1b2c3", DestinationAddress: "2863.36a1.b2c3"}},
			},
			statement: "Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01 (Purdue 1, criticality high), owner line3@rotterdam.example.com; production stop risk high",
			risk:      "high", safety: true, assets: []string{"PLC-L3-01"}, owners: []string{"line3@rotterdam.example.com"}, lines: []string{"Line 3 packaging"},
		},
		{
			name: "nothing known",
			inc: incident.Incident{
				Devices: []incident.Device{{Name: "X-1", IP: "10.9.9.9"}, {Name: "x-1"}},
				Alerts:  []incident.Alert{{SourceAddress: "10.9.9.9", DestinationAddress: "10.9.9.8"}},
			},
			statement: "No asset of this incident is in the asset directory (X-1, 10.9.9.8); production stop risk unknown",
			risk:      "unknown", unknown: []string{"X-1", "10.9.9.8"},
		},
		{
			name:      "many unknown",
			inc:       incident.Incident{Devices: devs("PLC-L3-01", "a", "b", "c", "d", "e")},
			statement: "Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01 (Purdue 1, criticality high), owner line3@rotterdam.example.com; production stop risk high; not in the asset directory: a, b, c +2 more",
			risk:      "high", safety: true, assets: []string{"PLC-L3-01"}, unknown: []string{"a", "b", "c", "d", "e"},
			owners: []string{"line3@rotterdam.example.com"}, lines: []string{"Line 3 packaging"},
		},
		{
			name:      "two sites",
			inc:       incident.Incident{Devices: devs("LAB-01", "RIO-L3-01")},
			statement: "Delft Lab +1 other site / Lab, Line 3 packaging: asset LAB-01 (criticality low), PLC RIO-L3-01 (criticality low), owners lab@delft.example.com, line3@rotterdam.example.com; production stop risk low",
			risk:      "low", assets: []string{"LAB-01", "RIO-L3-01"},
			owners: []string{"lab@delft.example.com", "line3@rotterdam.example.com"}, lines: []string{"Lab", "Line 3 packaging"},
		},
		{
			name:      "no devices",
			inc:       incident.Incident{Title: "x", Alerts: []incident.Alert{{Title: "y"}}},
			statement: "No device named in the incident; production stop risk unknown",
			risk:      "unknown",
		},
		{
			name:      "hostile unknown name",
			inc:       incident.Incident{Devices: devs(longName)},
			statement: "No asset of this incident is in the asset directory (" + strings.Repeat("x", 79) + "…); production stop risk unknown",
			risk:      "unknown", unknown: []string{longName},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp := d.Impact(tt.inc)
			if imp.Statement != tt.statement {
				t.Errorf("Statement\n got %s\nwant %s", imp.Statement, tt.statement)
			}
			if imp.Risk != tt.risk || imp.Safety != tt.safety {
				t.Errorf("Risk, Safety = %s, %v; want %s, %v", imp.Risk, imp.Safety, tt.risk, tt.safety)
			}
			if got := names(imp); !slices.Equal(got, tt.assets) {
				t.Errorf("Assets = %q, want %q", got, tt.assets)
			}
			if !slices.Equal(imp.Unknown, tt.unknown) || !slices.Equal(imp.Owners, tt.owners) || !slices.Equal(imp.Lines, tt.lines) {
				t.Errorf("Unknown, Owners, Lines = %q, %q, %q; want %q, %q, %q", imp.Unknown, imp.Owners, imp.Lines, tt.unknown, tt.owners, tt.lines)
			}
			if len(imp.Assets) > 0 && imp.Site != imp.Assets[0].Site {
				t.Errorf("Site = %q, first asset's is %q", imp.Site, imp.Assets[0].Site)
			}
			if n := utf8.RuneCountInString(imp.Statement); n > maxStatementRunes || strings.ContainsAny(imp.Statement, "\r\n") {
				t.Errorf("Statement is %d runes or not one line", n)
			}
			// Deterministic, also when the incident names its devices in another order.
			again := tt.inc
			again.Devices = slices.Clone(tt.inc.Devices)
			if !reflect.DeepEqual(d.Impact(tt.inc), imp) {
				t.Error("Impact is not deterministic")
			}
			slices.Reverse(again.Devices)
			if got := names(d.Impact(again)); !slices.Equal(got, tt.assets) {
				t.Errorf("reversed devices give %q", got)
			}
		})
	}
}

func TestImpactAddressAndZones(t *testing.T) {
	d := mustParse(t, testDirectory, "yaml")
	imp := d.Impact(incident.Incident{Devices: []incident.Device{{Name: "gateway", IP: "10.20.3.10"}}, Alerts: []incident.Alert{{DestinationAddress: "L1-PLC"}}})
	want := []incident.ImpactAsset{
		{Name: "PLC-L3-01", Type: "PLC", Address: "10.20.3.10", Site: "Rotterdam Plant", Line: "Line 3 packaging", Zone: "Packaging Line 3", PurdueLevel: "1", Criticality: "high", Safety: true, Owners: []string{"line3@rotterdam.example.com"}},
		{Name: "L1-PLC", Type: "PLC", Address: "L1-PLC", Site: "Rotterdam Plant", Line: "Line 1", Zone: "Z1", Criticality: "high", Owners: []string{"site@rotterdam.example.com"}},
	}
	if !reflect.DeepEqual(imp.Assets, want) {
		t.Errorf("Assets = %+v", imp.Assets)
	}
	if !slices.Equal(imp.Zones, []string{"Packaging Line 3", "Z1"}) {
		t.Errorf("Zones = %q", imp.Zones)
	}
	var nilDir *Directory
	if got := nilDir.Impact(incident.Incident{IPs: []string{"10.0.0.1"}}); got.Risk != RiskUnknown || !slices.Equal(got.Unknown, []string{"10.0.0.1"}) {
		t.Errorf("nil directory Impact = %+v", got)
	}
}

func TestImpactStatementLength(t *testing.T) {
	// Long names everywhere must still give a statement within the limit that keeps the risk.
	long := strings.Repeat("Ä", 200)
	var b strings.Builder
	fmt.Fprintf(&b, "sites:\n  - name: %s\n    lines:\n", long)
	var inc incident.Incident
	for i := range 5 {
		fmt.Fprintf(&b, "      - name: %s%d\n        zones:\n          - name: z\n            assets:\n", long[:300], i)
		fmt.Fprintf(&b, "              - {name: %s%d, type: %s, criticality: high, purdueLevel: \"3.5\", owners: [%s%d@example.com]}\n", long[:380], i, long, strings.Repeat("o", 180), i)
		inc.Devices = append(inc.Devices, incident.Device{Name: long[:380] + fmt.Sprint(i)}, incident.Device{Name: long + fmt.Sprint(i)})
	}
	d := mustParse(t, b.String(), "yaml")
	imp := d.Impact(inc)
	if n := utf8.RuneCountInString(imp.Statement); n > maxStatementRunes || !strings.Contains(imp.Statement, "production stop risk high") {
		t.Errorf("Statement (%d runes): %s", n, imp.Statement)
	}
}

func loadFixture(t *testing.T, name string) incident.Incident {
	t.Helper()
	data, err := os.ReadFile("../../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := incident.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Incident
}

func TestImpactFixtures(t *testing.T) {
	d, err := Load("../../testdata/assets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, statement string }{
		{"sentinel-incident-unauthorized-plc-programming.json", "Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01 (Purdue 1, criticality high), Engineering Station ENG-WS-07 (Purdue 2, criticality medium), owner ot-line3@rotterdam.example.com; production stop risk high"},
		{"d4iot-securityalert-unauthorized-plc-programming.json", "Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01 (Purdue 1, criticality high), Engineering Station ENG-WS-07 (Purdue 2, criticality medium), owner ot-line3@rotterdam.example.com; production stop risk high"},
		{"sentinel-incident-new-engineering-station.json", "Rotterdam Plant / Line 3 packaging: Engineering Station ENG-WS-07 (Purdue 2, criticality medium), owner ot-line3@rotterdam.example.com; production stop risk medium"},
	}
	for _, tt := range tests {
		if got := d.Impact(loadFixture(t, tt.file)).Statement; got != tt.statement {
			t.Errorf("%s:\n got %s\nwant %s", tt.file, got, tt.statement)
		}
	}
}

func TestEnrich(t *testing.T) {
	d := mustParse(t, testDirectory, "yaml")
	inc := incident.Incident{
		Devices: []incident.Device{
			{Name: "PLC-L3-01", Type: "Controller", Owners: []string{"alert@example.com"}},
			{IP: "10.20.1.20"},
			{Name: "stranger", IP: "10.9.9.9"},
		},
		Alerts: []incident.Alert{
			{SourceAddress: "10.20.3.45", DestinationAddress: "10.20.3.10"}, // 10.20.3.10 is PLC-L3-01, a device already
			{SourceAddress: "00:00:5e:00:53:01", DestinationAddress: "10.9.9.9"},
		},
		IPs: []string{"10.20.3.45", " 10.20.3.20 "},
	}
	d.Enrich(&inc)
	want := []incident.Device{
		{Name: "PLC-L3-01", Type: "Controller", SubType: "Safety PLC", Site: "Rotterdam Plant", Zone: "Packaging Line 3", PurdueLayer: "Process control", Importance: "High", Owners: []string{"alert@example.com"}},
		{Name: "L1-HMI", IP: "10.20.1.20", Type: "HMI", Site: "Rotterdam Plant", Zone: "Z1", PurdueLayer: "Supervisory", Importance: "Low", Owners: []string{"site@rotterdam.example.com"}},
		{Name: "stranger", IP: "10.9.9.9"},
		{Name: "ENG-WS-07", IP: "10.20.3.45", Type: "Engineering Station", Site: "Rotterdam Plant", Zone: "Packaging Line 3", PurdueLayer: "Supervisory", Importance: "Normal", Owners: []string{"eng@rotterdam.example.com"}},
		{Name: "HMI-L3-01", IP: "10.20.3.20", Type: "HMI", Site: "Rotterdam Plant", Zone: "Packaging Line 3", PurdueLayer: "Supervisory", Importance: "Normal", Owners: []string{"line3@rotterdam.example.com"}},
	}
	if !reflect.DeepEqual(inc.Devices, want) {
		for i, dev := range inc.Devices {
			t.Logf("device %d: %+v", i, dev)
		}
		t.Error("Enrich result differs")
	}

	// A MAC address gives a device with that MAC.
	inc = incident.Incident{Alerts: []incident.Alert{{SourceAddress: "28-63-36-A1-B2-C3", DestinationAddress: "10.20.3.10"}}}
	d.Enrich(&inc)
	if len(inc.Devices) != 1 || inc.Devices[0].MAC != "28-63-36-A1-B2-C3" || inc.Devices[0].IP != "" || inc.Devices[0].Name != "PLC-L3-01" {
		t.Errorf("Enrich by MAC: %+v", inc.Devices)
	}

	// Enrich leaves a filled device alone and tolerates nil.
	full := incident.Device{Name: "PLC-L3-01", Type: "a", SubType: "b", Site: "c", Zone: "d", PurdueLayer: "e", Importance: "f", Owners: []string{"g"}}
	inc = incident.Incident{Devices: []incident.Device{full}}
	d.Enrich(&inc)
	if !reflect.DeepEqual(inc.Devices, []incident.Device{full}) {
		t.Errorf("Enrich overwrote: %+v", inc.Devices)
	}
	d.Enrich(nil)
	var nilDir *Directory
	nilDir.Enrich(&inc)
}

func TestEnrichCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("site,line,zone,asset,ip,criticality\n")
	var inc incident.Incident
	for i := range 60 {
		fmt.Fprintf(&b, "S,L,Z,A%d,10.0.0.%d,low\n", i, i+1)
		inc.IPs = append(inc.IPs, fmt.Sprintf("10.0.0.%d", i+1))
	}
	d := mustParse(t, b.String(), "csv")
	d.Enrich(&inc)
	if len(inc.Devices) != maxEnrichDevices {
		t.Errorf("Enrich added %d devices, want %d", len(inc.Devices), maxEnrichDevices)
	}
}

// TestEnrichFixture checks the example directory reproduces the OT context the sensor reported.
func TestEnrichFixture(t *testing.T) {
	d, err := Load("../../testdata/assets.csv")
	if err != nil {
		t.Fatal(err)
	}
	inc := loadFixture(t, "sentinel-incident-unauthorized-plc-programming.json")
	want := slices.Clone(inc.Devices)
	for i := range inc.Devices {
		dev := &inc.Devices[i]
		dev.Type, dev.SubType, dev.Site, dev.Zone, dev.PurdueLayer, dev.Importance, dev.Owners = "", "", "", "", "", "", nil
	}
	d.Enrich(&inc)
	if !reflect.DeepEqual(inc.Devices, want) {
		t.Errorf("enriched devices\n got %+v\nwant %+v", inc.Devices, want)
	}
}

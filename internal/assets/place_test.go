package assets

import (
	"testing"

	"github.com/interlock-soar/interlock/internal/incident"
)

func TestPlace(t *testing.T) {
	d, err := Load("../../testdata/assets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                   string
		dev                    incident.Device
		sensor                 string
		wantOK                 bool
		wantLine, wantBy, mail string
		safety                 bool
	}{
		{"asset by IP", incident.Device{IP: "10.20.3.10"}, "", true, "Line 3 packaging", PlacedByAsset, "ot-line3@rotterdam.example.com", true},
		{"asset by name, other case", incident.Device{Name: "sis-l1-01"}, "", true, "Line 1 filling", PlacedByAsset, "ot-line1@rotterdam.example.com", true},
		{"line without owners: the site's", incident.Device{IP: "10.20.0.10"}, "", true, "Site services", PlacedByAsset, "ot-rotterdam@rotterdam.example.com", false},
		{"unknown device, known zone", incident.Device{IP: "10.9.9.9", Zone: "filling line 1"}, "", true, "Line 1 filling", PlacedByZone, "ot-line1@rotterdam.example.com", false},
		{"known zone, other site", incident.Device{IP: "10.9.9.9", Zone: "Filling Line 1", Site: "Elsewhere"}, "", false, "", "", "", false},
		{"device's sensor", incident.Device{IP: "10.9.9.9", Sensor: "SENSOR-RTM-L3"}, "", true, "Line 3 packaging", PlacedBySensor, "ot-line3@rotterdam.example.com", false},
		{"alert's sensor", incident.Device{IP: "10.9.9.9"}, "sensor-rtm-l3", true, "Line 3 packaging", PlacedBySensor, "ot-line3@rotterdam.example.com", false},
		{"nothing known", incident.Device{IP: "10.9.9.9", Sensor: "sensor-x"}, "", false, "", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := d.Place(tc.dev, tc.sensor)
			if ok != tc.wantOK || p.Line != tc.wantLine || p.By != tc.wantBy || p.Safety != tc.safety {
				t.Fatalf("Place = %+v, %v", p, ok)
			}
			if tc.wantOK && (len(p.Mailbox) != 1 || p.Mailbox[0] != tc.mail) {
				t.Fatalf("mailbox %v, want %s", p.Mailbox, tc.mail)
			}
		})
	}
	var none *Directory
	if _, ok := none.Place(incident.Device{IP: "10.20.3.10"}, ""); ok {
		t.Fatal("a nil directory places nothing")
	}
}

func TestLineSensorsUnique(t *testing.T) {
	_, err := Parse([]byte(`sites:
  - name: S
    lines:
      - name: A
        sensors: [s1]
        zones: [{name: Z1, assets: [{name: a, criticality: low}]}]
      - name: B
        sensors: s1
        zones: [{name: Z2, assets: [{name: b, criticality: low}]}]
`), "yaml")
	if err == nil {
		t.Fatal("a sensor under two lines was accepted")
	}
}

package assets

import (
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/incident"
)

func FuzzParseYAML(f *testing.F) {
	seed(f, "../../testdata/assets.yaml")
	f.Add([]byte(testDirectory))
	f.Add([]byte(inZone("- {name: A, ip: [10.0.0.1, \"::1\"], mac: 001b1baabbcc, criticality: HIGH, safety: yes}")))
	f.Add([]byte("x: &a [1]\nsites: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, "yaml") })
}

func FuzzParseCSV(f *testing.F) {
	seed(f, "../../testdata/assets.csv")
	f.Add([]byte(csvHeader + "S,L,Z,A,PLC,,10.0.0.1|::1,00-1b-1b-aa-bb-cc,low,1,3.5,a@example.com;b@example.com\n"))
	f.Add([]byte("site;line;zone;asset;criticality\nS;L;Z;\"A;B\";low\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, "csv") })
}

func seed(f *testing.F, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

func checkParsed(t *testing.T, data []byte, format string) {
	d, err := Parse(data, format)
	if err != nil {
		if d != nil {
			t.Fatal("directory returned with an error")
		}
		return
	}
	refs := d.Assets()
	if len(refs) == 0 || len(refs) != d.Len() {
		t.Fatalf("%d assets, Len %d", len(refs), d.Len())
	}
	for _, r := range refs {
		if r.Asset.Name == "" || criticalityRank[r.Asset.Criticality] == 0 {
			t.Fatalf("invalid asset accepted: %+v", r)
		}
		if got, ok := d.Lookup(r.Asset.Name); !ok || got.Asset.Name != r.Asset.Name {
			t.Fatalf("Lookup(%q) = %q, %v", r.Asset.Name, got.Asset.Name, ok)
		}
	}
	i := slices.IndexFunc(refs, func(r AssetRef) bool { return len(r.Asset.IP) > 0 })
	if i < 0 {
		return
	}
	a := refs[i].Asset
	imp := d.Impact(incident.Incident{Alerts: []incident.Alert{{SourceAddress: a.IP[0]}}})
	if !slices.ContainsFunc(imp.Assets, func(x incident.ImpactAsset) bool { return x.Name == a.Name }) {
		t.Fatalf("Impact of %s does not list %s: %+v", a.IP[0], a.Name, imp)
	}
	if utf8.RuneCountInString(imp.Statement) > maxStatementRunes || strings.ContainsAny(imp.Statement, "\r\n") {
		t.Fatalf("bad statement %q", imp.Statement)
	}
}

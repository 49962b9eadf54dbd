package assets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// inZone wraps YAML asset entries into a site S, line L, zone Z. The first asset's "- name" is on line 8.
func inZone(assets string) string {
	var b strings.Builder
	b.WriteString("sites:\n  - name: S\n    lines:\n      - name: L\n        zones:\n          - name: Z\n            assets:\n")
	for l := range strings.SplitSeq(strings.TrimRight(assets, "\n"), "\n") {
		b.WriteString("              " + l + "\n")
	}
	return b.String()
}

const csvHeader = "site,line,zone,asset,type,subtype,ip,mac,criticality,safety,purdueLevel,owners\n"

func TestParseYAML(t *testing.T) {
	src := `
sites:
  - name: Rotterdam Plant
    owners: [ot-rotterdam@rotterdam.example.com]
    lines:
      - name: Line 3 packaging
        owners: ot-line3@rotterdam.example.com
        zones:
          - name: Packaging Line 3
            assets:
              - name: PLC-L3-01
                type: PLC
                subType: Safety PLC
                ip: 10.20.3.10
                mac: 28-63-36-A1-B2-C3
                criticality: High
                safety: true
                purdueLevel: 1
              - name: HMI-L3-01
                type: HMI
                ip: [10.20.3.20, "::ffff:10.20.3.21"]
                mac: [286336A1B2D4]
                criticality: medium
                purdueLevel: 3.5
                owners: [hmi@rotterdam.example.com]
          - name: Zone owned
            owners: [zone@rotterdam.example.com]
            assets:
              - {name: Z-01, criticality: low}
      - name: Line 1
        zones:
          - name: Z1
            assets:
              - name: L1-01
                criticality: low
                safety: no
`
	d, err := Parse([]byte(src), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 4 {
		t.Fatalf("Len = %d, want 4", d.Len())
	}
	tests := []struct {
		addr            string
		name, zone      string
		owners, ip, mac []string
		crit, purdue    string
		safety          bool
	}{
		{"PLC-L3-01", "PLC-L3-01", "Packaging Line 3", []string{"ot-line3@rotterdam.example.com"}, []string{"10.20.3.10"}, []string{"28:63:36:a1:b2:c3"}, "high", "1", true},
		{"10.20.3.21", "HMI-L3-01", "Packaging Line 3", []string{"hmi@rotterdam.example.com"}, []string{"10.20.3.20", "10.20.3.21"}, []string{"28:63:36:a1:b2:d4"}, "medium", "3.5", false},
		{"z-01", "Z-01", "Zone owned", []string{"zone@rotterdam.example.com"}, nil, nil, "low", "", false},
		{"L1-01", "L1-01", "Z1", []string{"ot-rotterdam@rotterdam.example.com"}, nil, nil, "low", "", false},
	}
	for _, tt := range tests {
		r, ok := d.Lookup(tt.addr)
		if !ok {
			t.Errorf("Lookup(%q) found nothing", tt.addr)
			continue
		}
		a := r.Asset
		if a.Name != tt.name || r.Zone != tt.zone || r.Site != "Rotterdam Plant" || !slices.Equal(r.Owners, tt.owners) ||
			!slices.Equal(a.IP, tt.ip) || !slices.Equal(a.MAC, tt.mac) || a.Criticality != tt.crit || a.PurdueLevel != tt.purdue || a.Safety != tt.safety {
			t.Errorf("Lookup(%q) = %+v", tt.addr, r)
		}
	}
	// Lookup hands out copies: changing them must not change the directory.
	r, _ := d.Lookup("PLC-L3-01")
	r.Owners[0] = "x"
	r.Asset.IP[0] = "x"
	if r2, _ := d.Lookup("PLC-L3-01"); r2.Owners[0] == "x" || r2.Asset.IP[0] == "x" {
		t.Error("Lookup result aliases the directory")
	}
}

func TestLookupSpellings(t *testing.T) {
	d := mustParse(t, inZone("- name: PLC-1\n  ip: 10.1.3.20\n  mac: 00:1b:1b:aa:bb:cc\n  criticality: high\n- name: v6\n  ip: 2001:db8::1\n  criticality: low"), "yaml")
	for _, addr := range []string{"00:1b:1b:aa:bb:cc", "00-1B-1B-AA-BB-CC", "001B1BAABBCC", "001b.1baa.bbcc", " 00:1B:1B:aa:bb:cc ", "10.1.3.20", "::ffff:10.1.3.20", "plc-1", "PLC-1"} {
		if r, ok := d.Lookup(addr); !ok || r.Asset.Name != "PLC-1" {
			t.Errorf("Lookup(%q) = %v, %v; want PLC-1", addr, r.Asset.Name, ok)
		}
	}
	if r, ok := d.Lookup("2001:DB8:0:0::1"); !ok || r.Asset.Name != "v6" {
		t.Errorf("IPv6 spelling not matched")
	}
	for _, addr := range []string{"", "10.1.3.21", "00:1b:1b:aa:bb:cd", "PLC-2", "00:1b:1b:aa:bb"} {
		if _, ok := d.Lookup(addr); ok {
			t.Errorf("Lookup(%q) found an asset", addr)
		}
	}
	var nilDir *Directory
	if _, ok := nilDir.Lookup("PLC-1"); ok || nilDir.Len() != 0 {
		t.Error("nil directory is not empty")
	}
}

func mustParse(t testing.TB, src, format string) *Directory {
	t.Helper()
	d, err := Parse([]byte(src), format)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseYAMLErrors(t *testing.T) {
	const A = "sites[0].lines[0].zones[0].assets[0]"
	long := strings.Repeat("é", 201)
	tests := []struct {
		name, src string
		want      []string // each must appear in the error
	}{
		{"criticality", inZone("- name: A\n  criticality: urgent"),
			[]string{`line 9: ` + A + `.criticality: must be high, medium or low, not "urgent"`}},
		{"third asset", inZone("- {name: A, criticality: low}\n- {name: B, criticality: low}\n- {name: C, criticality: urgent}"),
			[]string{`line 10: sites[0].lines[0].zones[0].assets[2].criticality: must be high, medium or low, not "urgent"`}},
		{"missing criticality", inZone("- name: A"), []string{`line 8: ` + A + `.criticality: is required`}},
		{"missing asset name", inZone("- criticality: low"), []string{`line 8: ` + A + `.name: is required`}},
		{"missing site name", "sites:\n  - lines: []\n", []string{`line 2: sites[0].name: is required`}},
		{"missing zone name", "sites:\n  - name: S\n    lines:\n      - name: L\n        zones:\n          - assets: []\n", []string{`line 6: sites[0].lines[0].zones[0].name: is required`}},
		{"unknown key", inZone("- name: A\n  criticality: low\n  purdue_level: 1"),
			[]string{`line 10: ` + A + `.purdue_level: unknown key (did you mean "purdueLevel"?)`}},
		{"unknown key case", inZone("- name: A\n  Criticality: low"), []string{`.Criticality: unknown key (did you mean "criticality"?)`}},
		{"unknown root key", "site:\n  - name: S\n", []string{`line 1: site: unknown key (did you mean "sites"?)`}},
		{"unknown key far", inZone("- name: A\n  criticality: low\n  colour: red"), []string{`.colour: unknown key`}},
		{"repeated key", inZone("- name: A\n  name: B\n  criticality: low"), []string{`line 9: ` + A + `.name: key is repeated`}},
		{"duplicate name", inZone("- {name: PLC-1, criticality: low}\n- {name: plc-1, criticality: low}"),
			[]string{`line 9: sites[0].lines[0].zones[0].assets[1].name: asset name "plc-1" is already used (at line 8: ` + A + `.name)`}},
		{"duplicate ip", inZone("- {name: A, ip: 10.0.0.1, criticality: low}\n- {name: B, ip: [10.0.0.2, \"::ffff:10.0.0.1\"], criticality: low}"),
			[]string{`assets[1].ip[1]: IP address 10.0.0.1 is already used (at line 8: ` + A + `.ip)`}},
		{"duplicate mac", inZone("- {name: A, mac: 00:1b:1b:aa:bb:cc, criticality: low}\n- {name: B, mac: 001B1BAABBCC, criticality: low}"),
			[]string{`assets[1].mac: MAC address 00:1b:1b:aa:bb:cc is already used`}},
		{"invalid ip", inZone("- {name: A, ip: 10.0.0.300, criticality: low}"), []string{A + `.ip: "10.0.0.300" is not an IP address`}},
		{"cidr", inZone("- {name: A, ip: 10.0.0.0/24, criticality: low}"), []string{`"10.0.0.0/24" is not an IP address`}},
		{"unspecified ip", inZone("- {name: A, ip: 0.0.0.0, criticality: low}"), []string{`"0.0.0.0" is not a device address`}},
		{"invalid mac", inZone("- {name: A, mac: 00:1b:1b:aa:bb, criticality: low}"), []string{A + `.mac: "00:1b:1b:aa:bb" is not a MAC address`}},
		{"zero mac", inZone("- {name: A, mac: 00-00-00-00-00-00, criticality: low}"), []string{`is not a device MAC address`}},
		{"owner display name", inZone("- name: A\n  criticality: low\n  owners: [\"Bob <bob@example.com>\"]"),
			[]string{`line 10: ` + A + `.owners[0]: "Bob <bob@example.com>" is not a bare email address`}},
		{"owner not email", inZone("- name: A\n  criticality: low\n  owners: bob"), []string{A + `.owners: "bob" is not a bare email address`}},
		{"owner with newline", inZone("- name: A\n  criticality: low\n  owners: [\"bob@example.com\\r\\nBcc: x@example.com\"]"),
			[]string{A + `.owners[0]: contains unsafe character U+000D`}},
		{"site owner", "sites:\n  - name: S\n    owners: [x]\n", []string{`line 3: sites[0].owners[0]: "x" is not a bare email address`}},
		{"purdue", inZone("- name: A\n  criticality: low\n  purdueLevel: 6"), []string{A + `.purdueLevel: must be one of 0, 1, 2, 3, 3.5, 4, 5, not "6"`}},
		{"safety", inZone("- name: A\n  criticality: low\n  safety: maybe"), []string{A + `.safety: must be true or false, not "maybe"`}},
		{"control character", inZone("- name: \"A\\u0007\"\n  criticality: low"), []string{A + `.name: contains unsafe character U+0007`}},
		{"bidi override", inZone("- name: \"A\\u202eB\"\n  criticality: low"), []string{A + `.name: contains unsafe character U+202E`}},
		{"zero-width space", inZone("- name: \"PLC-\\u200b01\"\n  criticality: low"), []string{A + `.name: contains unsafe character U+200B`}},
		{"invalid utf-8", inZone("- name: \"A\xff\"\n  criticality: low"), []string{`invalid YAML`}},
		{"long name", inZone("- name: " + long + "\n  criticality: low"), []string{A + `.name: is longer than 200 characters`}},
		{"name list", inZone("- name: [A]\n  criticality: low"), []string{A + `.name: must be a single value, not a list or mapping`}},
		{"assets not list", "sites:\n  - name: S\n    lines:\n      - name: L\n        zones:\n          - name: Z\n            assets: x\n",
			[]string{`line 7: sites[0].lines[0].zones[0].assets: must be a list`}},
		{"alias", "x: &a {name: A, criticality: low}\n" + inZone("- *a"), []string{`x: unknown key`, `YAML aliases are not supported`}},
		{"duplicate site", "sites:\n  - name: S\n  - name: s\n", []string{`line 3: sites[1].name: site name "s" is already used`}},
		{"root not mapping", "- a\n", []string{`line 1: file: must be a mapping with a sites key`}},
		{"syntax", "sites: [\n", []string{`invalid YAML`}},
		{"two documents", inZone("- {name: A, criticality: low}") + "---\nsites: []\n", []string{`single YAML document`}},
		{"empty file", "", []string{`empty directory`}},
		{"empty sites", "sites: []\n", []string{`empty directory`}},
		{"no assets", "sites:\n  - name: S\n    lines:\n      - name: L\n", []string{`empty directory`}},
		{"several problems", inZone("- {name: A, criticality: urgent}\n- {name: A, criticality: low, ip: nope}"),
			[]string{`3 problems`, `assets[0].criticality`, `assets[1].name: asset name "A" is already used`, `assets[1].ip: "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.src), "yaml")
			checkRefused(t, d, err, tt.want)
		})
	}
}

func checkRefused(t *testing.T, d *Directory, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; directory has %d assets", d.Len())
	}
	if d != nil {
		t.Error("a directory was returned with the error")
	}
	if _, ok := errors.AsType[*FileError](err); !ok {
		t.Errorf("error is %T, want *FileError", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error\n  %s\ndoes not contain\n  %s", err, w)
		}
	}
}

func TestParseCSV(t *testing.T) {
	src := "\ufeffAsset, Site ,LINE,zone,Criticality,IP,MAC,Owners,Safety,Purdue Level,type,subType\n" +
		"PLC-1,S,L,Z,HIGH,10.0.0.1;10.0.0.2,00-1B-1B-AA-BB-CC,a@example.com|b@example.com,yes,1,PLC,Safety PLC\n" +
		",,,,,,,,,,,\n" +
		"HMI-1,s,l,z,low,,,,,,HMI,\n" +
		"\"Quoted, name\",S,L2,Z,medium,,,,0,,,\n"
	d := mustParse(t, src, "csv")
	if d.Len() != 3 {
		t.Fatalf("Len = %d, want 3", d.Len())
	}
	r, ok := d.Lookup("10.0.0.2")
	if !ok || r.Asset.Name != "PLC-1" || !r.Asset.Safety || r.Asset.Criticality != "high" || r.Asset.PurdueLevel != "1" ||
		!slices.Equal(r.Asset.MAC, []string{"00:1b:1b:aa:bb:cc"}) || !slices.Equal(r.Owners, []string{"a@example.com", "b@example.com"}) ||
		r.Asset.SubType != "Safety PLC" {
		t.Errorf("PLC-1 = %+v", r)
	}
	// Rows group by name ignoring case; the first spelling names the group.
	if r, _ := d.Lookup("HMI-1"); r.Site != "S" || r.Line != "L" || r.Zone != "Z" {
		t.Errorf("HMI-1 placed at %q/%q/%q", r.Site, r.Line, r.Zone)
	}
	if sites := d.Sites(); len(sites) != 1 || len(sites[0].Lines) != 2 || len(sites[0].Lines[0].Zones[0].Assets) != 2 {
		t.Errorf("Sites() = %+v", sites)
	}
	if _, ok := d.Lookup("quoted, NAME"); !ok {
		t.Error("quoted name not found")
	}
	// Semicolon-separated exports from spreadsheets in decimal-comma locales.
	d = mustParse(t, "site;line;zone;asset;criticality;ip\nS;L;Z;A;low;10.0.0.1|10.0.0.2\n", "csv")
	if r, ok := d.Lookup("10.0.0.2"); !ok || r.Asset.Name != "A" {
		t.Errorf("semicolon CSV: %+v %v", r, ok)
	}
}

func TestParseCSVErrors(t *testing.T) {
	row := func(fields ...string) string { return strings.Join(fields, ",") + "\n" }
	ok := []string{"S", "L", "Z", "A", "PLC", "", "10.0.0.1", "", "low", "", "", ""}
	with := func(i int, v string) []string { r := slices.Clone(ok); r[i] = v; return r }
	tests := []struct {
		name, src string
		want      []string
	}{
		{"criticality", csvHeader + row(ok...) + row(with(3, "B")...) + row(with(8, "urgent")...),
			[]string{`row 4, column criticality: must be high, medium or low, not "urgent"`}},
		{"missing site", csvHeader + row(with(0, "")...), []string{`row 2, column site: is required`}},
		{"missing asset", csvHeader + row(with(3, " ")...), []string{`row 2, column asset: is required`}},
		{"missing column", "site,line,zone,asset\nS,L,Z,A\n", []string{`row 1: required column criticality is missing`}},
		{"unknown column", "site,line,zone,asset,criticallity\nS,L,Z,A,low\n", []string{`row 1, column "criticallity": unknown column (did you mean "criticality"?)`}},
		{"repeated column", "site,line,zone,asset,criticality,Site\nS,L,Z,A,low,S\n", []string{`row 1, column "Site": column is repeated`}},
		{"field count", csvHeader + "S,L,Z,A,low\n", []string{`row 2: has 5 fields, the header has 12`}},
		{"bad quote", csvHeader + "S,L,Z,\"A,low\n", []string{`row 2: invalid CSV`}},
		{"duplicate name", csvHeader + row(ok...) + row(with(6, "10.0.0.2")...), []string{`row 3, column asset: asset name "A" is already used (at row 2, column asset)`}},
		{"duplicate ip", csvHeader + row(ok...) + row(with(3, "B")...), []string{`row 3, column ip: IP address 10.0.0.1 is already used (at row 2, column ip)`}},
		{"duplicate mac", csvHeader + row(with(7, "00:1b:1b:aa:bb:cc")...) +
			row("S", "L", "Z", "B", "", "", "", "001b.1baa.bbcc", "low", "", "", ""), []string{`row 3, column mac: MAC address 00:1b:1b:aa:bb:cc is already used`}},
		{"invalid ip", csvHeader + row(with(6, "10.0.0.1;10.0.0.999")...), []string{`row 2, column ip: "10.0.0.999" is not an IP address`}},
		{"invalid mac", csvHeader + row(with(7, "zz:1b:1b:aa:bb:cc")...), []string{`row 2, column mac: "zz:1b:1b:aa:bb:cc" is not a MAC address`}},
		{"owner", csvHeader + row(with(11, "ok@example.com;Bob <bob@example.com>")...), []string{`row 2, column owners: "Bob <bob@example.com>" is not a bare email address`}},
		{"safety", csvHeader + row(with(9, "maybe")...), []string{`row 2, column safety: must be true or false, not "maybe"`}},
		{"purdue", csvHeader + row(with(10, "L1")...), []string{`row 2, column purdueLevel: must be one of 0, 1, 2, 3, 3.5, 4, 5, not "L1"`}},
		{"control character", csvHeader + row(with(4, "\"P\nLC\"")...), []string{`row 2, column type: contains unsafe character U+000A`}},
		{"invalid utf-8", csvHeader + row(with(3, "A\xff")...), []string{`row 2, column asset: is not valid UTF-8`}},
		{"long name", csvHeader + row(with(2, strings.Repeat("z", 201))...), []string{`row 2, column zone: is longer than 200 characters`}},
		{"header only", csvHeader, []string{`empty directory`}},
		{"empty", "", []string{`empty directory`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.src), "csv")
			checkRefused(t, d, err, tt.want)
		})
	}
}

func TestParseLimits(t *testing.T) {
	big := make([]byte, MaxFileSize+1)
	for _, format := range []string{"yaml", "csv"} {
		d, err := Parse(big, format)
		checkRefused(t, d, err, []string{"over the limit"})
	}

	var b strings.Builder
	b.WriteString("site,line,zone,asset,criticality\n")
	for i := range MaxAssets + 1 {
		fmt.Fprintf(&b, "S,L,Z,A%d,low\n", i)
	}
	d, err := Parse([]byte(b.String()), "csv")
	checkRefused(t, d, err, []string{fmt.Sprintf("more than %d assets", MaxAssets)})

	// Problems beyond the cap are counted, not listed.
	b.Reset()
	b.WriteString("site,line,zone,asset,criticality\n")
	for i := range 30 {
		fmt.Fprintf(&b, "S,L,Z,A%d,urgent\n", i)
	}
	_, err = Parse([]byte(b.String()), "csv")
	fe, _ := errors.AsType[*FileError](err)
	if fe == nil || len(fe.Problems) != maxProblems || fe.Omitted != 30-maxProblems || !strings.Contains(err.Error(), "30 problems") {
		t.Errorf("capped error = %v", err)
	}

	if _, err := Parse([]byte("x"), "json"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte(inZone("- {name: A, criticality: urgent}")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if fe, ok := errors.AsType[*FileError](err); !ok || fe.File != bad || !strings.HasPrefix(err.Error(), bad+": 1 problem: line 8: ") {
		t.Errorf("Load(bad) error = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "assets.json")); err == nil {
		t.Error("Load accepted a .json file")
	}
}

// TestTestdata checks the example files load and describe the same assets.
func TestTestdata(t *testing.T) {
	y, err := Load("../../testdata/assets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load("../../testdata/assets.csv")
	if err != nil {
		t.Fatal(err)
	}
	ya, ca := y.Assets(), c.Assets()
	if len(ya) != len(ca) || len(ya) < 5 {
		t.Fatalf("yaml has %d assets, csv %d", len(ya), len(ca))
	}
	for i := range ya {
		a, b := ya[i], ca[i]
		// CSV cannot hold line or site owners, so it spells out the effective ones; compare those.
		a.Asset.Owners, b.Asset.Owners = nil, nil
		if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
			t.Errorf("asset %d differs:\n yaml %+v\n csv  %+v", i, a, b)
		}
	}
	// The example covers the devices of the sample Defender for IoT payloads.
	for _, addr := range []string{"PLC-L3-01", "10.20.3.10", "28:63:36:a1:b2:c3", "ENG-WS-07", "10.20.3.45", "00:1a:2b:3c:4d:5e"} {
		if _, ok := y.Lookup(addr); !ok {
			t.Errorf("testdata/assets.yaml does not know %s", addr)
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A bundle in the shape of MITRE's, small enough to read: two tactics, listed in the matrix in the
// opposite order to the objects, and techniques that exercise each rule.
func testBundle(extra ...map[string]any) map[string]any {
	ref := func(id string) []map[string]string {
		return []map[string]string{{"source_name": "mitre-attack", "external_id": id}}
	}
	phase := func(chain string, names ...string) []map[string]string {
		var out []map[string]string
		for _, n := range names {
			out = append(out, map[string]string{"kill_chain_name": chain, "phase_name": n})
		}
		return out
	}
	objs := []map[string]any{
		{"type": "x-mitre-collection", "id": "x-mitre-collection--1", "x_mitre_version": "99.1", "modified": "2030-01-01T00:00:00Z"},
		{"type": "x-mitre-tactic", "id": "x-mitre-tactic--b", "name": "Impact", "x_mitre_shortname": "impact", "external_references": ref("TA0105")},
		{"type": "x-mitre-tactic", "id": "x-mitre-tactic--a", "name": "Initial Access", "x_mitre_shortname": "initial-access", "external_references": ref("TA0108")},
		{"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "ATT&CK for ICS", "tactic_refs": []string{"x-mitre-tactic--a", "x-mitre-tactic--b"}},
		{"type": "attack-pattern", "id": "attack-pattern--z", "name": "Zeta", "external_references": ref("T0801"),
			"kill_chain_phases": phase("mitre-ics-attack", "impact", "initial-access")},
		{"type": "attack-pattern", "id": "attack-pattern--a", "name": "Alpha", "external_references": ref("T0802"),
			"kill_chain_phases": append(phase("mitre-attack", "execution"), phase("mitre-ics-attack", "impact")...)},
		{"type": "attack-pattern", "id": "attack-pattern--d", "name": "Deprecated", "x_mitre_deprecated": true,
			"external_references": []map[string]string{{"source_name": "mitre-ics-attack", "external_id": "T0810"}}},
		{"type": "attack-pattern", "id": "attack-pattern--r", "name": "Revoked", "revoked": true, "external_references": ref("T0803")},
		{"type": "relationship", "id": "relationship--1"},
	}
	objs = append(objs, extra...)
	return map[string]any{"type": "bundle", "objects": objs}
}

func TestExtract(t *testing.T) {
	raw, err := json.Marshal(testBundle())
	if err != nil {
		t.Fatal(err)
	}
	got, err := extract(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := catalogue{AttackVersion: "99.1", Modified: "2030-01-01T00:00:00Z",
		Tactics: []tactic{{"TA0108", "initial-access", "Initial Access"}, {"TA0105", "impact", "Impact"}},
		// Sorted by name; tactics in matrix order; other kill chains, deprecated and revoked left out.
		Techniques: []technique{{"T0802", "Alpha", []string{"impact"}}, {"T0801", "Zeta", []string{"initial-access", "impact"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("extract =\n%+v\nwant\n%+v", got, want)
	}
}

func TestExtractRejects(t *testing.T) {
	ap := func(id, chain, phase string) map[string]any {
		return map[string]any{"type": "attack-pattern", "id": "attack-pattern--" + id, "name": id,
			"external_references": []map[string]string{{"source_name": "mitre-attack", "external_id": id}},
			"kill_chain_phases":   []map[string]string{{"kill_chain_name": chain, "phase_name": phase}}}
	}
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"unknown tactic", ap("T0899", "mitre-ics-attack", "exfiltration"), `phase "exfiltration"`},
		{"duplicate ID", ap("T0801", "mitre-ics-attack", "impact"), "T0801 appears twice"},
		{"no ICS tactic", ap("T0898", "mitre-attack", "execution"), "T0898 (\"T0898\") has no mitre-ics-attack tactic"},
		{"no ATT&CK ID", map[string]any{"type": "attack-pattern", "id": "attack-pattern--x", "name": "X"}, "no mitre-attack external ID"},
		{"second matrix", map[string]any{"type": "x-mitre-matrix", "id": "x-mitre-matrix--2"}, "2 current matrices"},
		{"revoked matrix ignored", map[string]any{"type": "x-mitre-matrix", "id": "x-mitre-matrix--2", "revoked": true}, ""},
		{"collection without a version", map[string]any{"type": "x-mitre-collection", "x_mitre_version": ""}, "no x-mitre-collection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(testBundle(tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			_, err = extract(raw)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("extract: %v, want a revoked matrix ignored", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("extract error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestRun writes a catalogue through the command and reads it back: valid JSON, one item a line,
// "&" left readable, and the bundle's hash recorded.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	b := testBundle()
	b["objects"].([]map[string]any)[4]["name"] = "Point & Tag"
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "ics.json"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	if err := run([]string{"-o", out, in}, &log); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var c catalogue
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, data)
	}
	if c.Source != "github.com/mitre-attack/attack-stix-data:ics-attack/ics-attack-99.1.json" || len(c.BundleSHA256) != 64 || c.Domain != "ics-attack" {
		t.Errorf("header = %q %q %q", c.Source, c.BundleSHA256, c.Domain)
	}
	if !strings.Contains(string(data), "\n    {\"id\":\"T0801\",\"name\":\"Point & Tag\",\"tactics\":[\"initial-access\",\"impact\"]}\n") {
		t.Errorf("technique line not found in\n%s", data)
	}
	if !strings.Contains(log.String(), "2 tactics, 2 techniques") {
		t.Errorf("log = %q", log.String())
	}
	if err := run([]string{"-o", out, filepath.Join(dir, "missing.json")}, &log); err == nil {
		t.Error("run on a missing bundle succeeded")
	}
}

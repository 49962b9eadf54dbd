package workbook

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func testCatalogue(t *testing.T) catalogue {
	t.Helper()
	c, err := newCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCatalogueMatrix checks the embedded catalogue against MITRE's ICS matrix (v18.1, checked
// against ics-attack-18.1.json's x-mitre-matrix tactic_refs) and against the file's own counts.
func TestCatalogueMatrix(t *testing.T) {
	c := testCatalogue(t)
	if c.version == "" {
		t.Error("no ATT&CK version")
	}
	var order []string
	for _, ta := range c.tactics {
		order = append(order, ta.ID+" "+ta.Name)
	}
	want := []string{"TA0108 Initial Access", "TA0104 Execution", "TA0110 Persistence", "TA0111 Privilege Escalation",
		"TA0103 Evasion", "TA0102 Discovery", "TA0109 Lateral Movement", "TA0100 Collection", "TA0101 Command and Control",
		"TA0107 Inhibit Response Function", "TA0106 Impair Process Control", "TA0105 Impact"}
	if got := strings.Join(order, ", "); got != strings.Join(want, ", ") {
		t.Errorf("tactics =\n%s\nwant\n%s", got, strings.Join(want, ", "))
	}

	// The counts are the file's, read without the catalogue's parser.
	var raw struct{ Tactics, Techniques []json.RawMessage }
	if err := json.Unmarshal([]byte(attackICS), &raw); err != nil {
		t.Fatal(err)
	}
	if len(c.tactics) != len(raw.Tactics) || len(c.techniques) != len(raw.Techniques) || len(c.tacticsOf) != len(raw.Techniques) {
		t.Errorf("catalogue has %d tactics, %d techniques (%d indexed); the file %d, %d",
			len(c.tactics), len(c.techniques), len(c.tacticsOf), len(raw.Tactics), len(raw.Techniques))
	}

	tacticIDs := map[string]bool{}
	for _, ta := range c.tactics {
		tacticIDs[ta.ID] = true
	}
	seen := map[string]bool{}
	for _, te := range c.techniques {
		if !techniqueIDPattern.MatchString(te.ID) || seen[te.ID] {
			t.Errorf("technique ID %q malformed or repeated", te.ID)
		}
		seen[te.ID] = true
		if len(te.Tactics) == 0 {
			t.Errorf("%s has no tactic", te.ID)
		}
		for _, id := range te.Tactics {
			if !tacticIDs[id] {
				t.Errorf("%s sits under %q, no tactic of the matrix", te.ID, id)
			}
		}
	}
}

// TestCatalogueTechniques checks well-known techniques' names and tactics against MITRE's v18.1 data.
func TestCatalogueTechniques(t *testing.T) {
	c := testCatalogue(t)
	byID := map[string]icsTechnique{}
	for _, te := range c.techniques {
		byID[te.ID] = te
	}
	for _, tc := range []struct{ id, name, tactics string }{
		{"T0843", "Program Download", "TA0109"},
		{"T0839", "Module Firmware", "TA0110 TA0106"},
		{"T0889", "Modify Program", "TA0110"},
		{"T0836", "Modify Parameter", "TA0106"},
		{"T0886", "Remote Services", "TA0108 TA0109"},
		{"T0855", "Unauthorized Command Message", "TA0106"},
		{"T0887", "Wireless Sniffing", "TA0102 TA0100"},
	} {
		te := byID[tc.id]
		if te.Name != tc.name || strings.Join(te.Tactics, " ") != tc.tactics {
			t.Errorf("%s = %q under %v, want %q under %s", tc.id, te.Name, te.Tactics, tc.name, tc.tactics)
		}
	}
	for _, gone := range []string{"T0833", "T0810", "T0850"} { // deprecated by MITRE
		if _, ok := byID[gone]; ok {
			t.Errorf("deprecated %s is in the catalogue", gone)
		}
	}
}

func TestCatalogueNormalises(t *testing.T) {
	c := testCatalogue(t)
	for _, tc := range []struct{ tag, technique, tactic string }{
		{"t0839", "T0839", ""},
		{" T0839 ", "T0839", ""},
		{"T0839.001", "T0839", ""}, // an unknown sub-technique counts under its parent
		{"T9999", "", ""},
		{"T0839x", "", ""},
		{"T0833", "", ""}, // deprecated
		{"InhibitResponseFunction", "", "TA0107"},
		{"Inhibit Response Function", "", "TA0107"},
		{"inhibit-response-function", "", "TA0107"},
		{"ta0107", "", "TA0107"},
		{"Exfiltration", "", ""}, // an Enterprise tactic, not an ICS one
	} {
		if got := c.technique(tc.tag); got != tc.technique {
			t.Errorf("technique(%q) = %q, want %q", tc.tag, got, tc.technique)
		}
		if got := c.tactic(tc.tag); got != tc.tactic {
			t.Errorf("tactic(%q) = %q, want %q", tc.tag, got, tc.tactic)
		}
	}
}

func TestParseCatalogueRejects(t *testing.T) {
	const tactics = `"tactics":[{"id":"TA0108","shortname":"initial-access","name":"Initial Access"}]`
	file := func(techniques string) string {
		return fmt.Sprintf(`{"attack_version":"18.1",%s,"techniques":[%s]}`, tactics, techniques)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"not JSON", `{`, "parse"},
		{"no version", `{` + tactics + `,"techniques":[{"id":"T0817","name":"x","tactics":["initial-access"]}]}`, "incomplete"},
		{"no techniques", file(""), "incomplete"},
		{"unknown tactic", file(`{"id":"T0817","name":"x","tactics":["exfiltration"]}`), `unknown tactic "exfiltration"`},
		{"no tactic", file(`{"id":"T0817","name":"x","tactics":[]}`), "bad or repeated technique"},
		{"bad ID", file(`{"id":"T817","name":"x","tactics":["initial-access"]}`), "bad or repeated technique"},
		{"repeated ID", file(`{"id":"T0817","name":"x","tactics":["initial-access"]},{"id":"T0817","name":"y","tactics":["initial-access"]}`), "bad or repeated technique"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCatalogue([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseCatalogue error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := parseCatalogue([]byte(file(`{"id":"T0817","name":"x","tactics":["initial-access"]}`))); err != nil {
		t.Errorf("a well-formed file: %v", err)
	}
}

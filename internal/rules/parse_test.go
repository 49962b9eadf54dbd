package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// oneRule builds a one-rule file from a valid rule: "key: value" replaces that key's line, "-key" drops
// it, and "+line" appends a raw line.
func oneRule(lines ...string) string {
	keys := []string{"name", "order", "trigger", "condition", "actions"}
	base := map[string]string{
		"name":      "name: Test rule",
		"order":     "order: 10",
		"trigger":   "trigger: created",
		"condition": "condition: hasDevice(\"PLC\")",
		"actions":   "actions:\n      - runPlaybook: Other",
	}
	var extra []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "-"):
			delete(base, l[1:])
		case strings.HasPrefix(l, "+"):
			extra = append(extra, l[1:])
		default:
			key := strings.SplitN(l, ":", 2)[0]
			if _, ok := base[key]; ok {
				base[key] = l
			} else {
				extra = append(extra, l)
			}
		}
	}
	var out []string
	for _, k := range keys {
		if l, ok := base[k]; ok {
			out = append(out, l)
		}
	}
	out = append(out, extra...)
	return "rules:\n  - " + strings.Join(out, "\n    ") + "\n"
}

func TestParseRefusesInvalidFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error, besides the file name
	}{
		{"empty file", "", []string{"the file is empty"}},
		{"comment only", "# nothing\n", []string{"the file is empty"}},
		{"not YAML", "rules: [", []string{"not valid YAML"}},
		{"two documents", "rules: []\n---\nrules: []\n", []string{"more than one YAML document"}},
		{"top level list", "- name: x\n", []string{`want a mapping with a "rules:" list`}},
		{"unknown top-level key", "rules: []\nrule: []\n", []string{`unknown top-level key "rule"`}},
		{"no rules key", "other: 1\n", []string{`unknown top-level key "other"`}},
		{"rules not a list", "rules: {a: 1}\n", []string{"rules: want a list of rules, got a mapping"}},
		{"rule not a mapping", "rules:\n  - just text\n", []string{"rule 1", "want a mapping"}},
		{"missing name", oneRule("name: \"\""), []string{"rule 1:", "name: is empty"}},
		{"name missing entirely", oneRule("-name"), []string{"rule 1:", "name: missing"}},
		{"name with control characters", oneRule("name: \"a\\x1bb\""), []string{"control characters"}},
		{"name too long", oneRule("name: " + strings.Repeat("n", 501)), []string{"longer than 500"}},
		{"order zero", oneRule("order: 0"), []string{`rule 1 "Test rule"`, "order: 0 is out of range; want 1 to 1000"}},
		{"order too big", oneRule("order: 1001"), []string{"order: 1001 is out of range"}},
		{"order text", oneRule("order: ten"), []string{`order: want a whole number from 1 to 1000, got "ten"`}},
		{"order missing", oneRule("-order"), []string{"order: missing"}},
		{"enabled not bool", oneRule("enabled: yes"), []string{`enabled: want true or false, got "yes"`}},
		{"bad expiry", oneRule("expires: next week"), []string{`expires: want a UTC time`, `"next week"`}},
		{"bad trigger", oneRule("trigger: create"), []string{`trigger: "create" is not a trigger`}},
		{"trigger case", oneRule("trigger: Created"), []string{"did you mean created?"}},
		{"trigger twice", oneRule("trigger: [created, created]"), []string{"trigger: created is listed twice"}},
		{"trigger empty", oneRule("trigger: []"), []string{"trigger: empty list"}},
		{"trigger missing", oneRule("-trigger"), []string{"trigger: missing"}},
		{"unknown rule key", oneRule("descripton: x"), []string{`unknown key "descripton"`}},
		{"duplicate key", oneRule("+order: 11"), []string{"order: given twice"}},
		{"condition syntax", oneRule(`condition: hasDevice("PLC" &&`), []string{`rule 1 "Test rule"`, "condition:", "(1:"}},
		{"condition unknown name", oneRule("condition: hasDevic(\"PLC\")"), []string{"unknown name hasDevic", "(1:1)"}},
		{"condition unknown field", oneRule("condition: incident.severty == \"High\""), []string{"severty", "(1:10)"}},
		{"condition not bool", oneRule("condition: incident.severity"), []string{"expected bool"}},
		{"condition wrong arg type", oneRule("condition: hasDevice(1)"), []string{"cannot use int as argument"}},
		{"condition now disabled", oneRule("condition: now() > incident.created"), []string{"unknown name now"}},
		{"condition keys disabled", oneRule(`condition: 'len(keys({"a": 1})) > 0'`), []string{"unknown name keys"}},
		{"condition list of ints", oneRule("condition: anyAlertTitle([1, 2])"), []string{"anyAlertTitle: list items must be strings"}},
		{"condition list helper non-list", oneRule("condition: siteIn(incident.number)"), []string{"siteIn wants a list of strings, got int"}},
		{"condition unknown severity", oneRule(`condition: severityAtLeast("Critical")`), []string{`severityAtLeast: unknown severity "Critical"`}},
		{"condition unknown changed property", oneRule(`condition: changed("sevrity")`), []string{`changed: unknown property "sevrity"`}},
		{"condition changedTo bad property", oneRule(`condition: changedTo("labels", "x")`), []string{`changedTo: unknown property "labels"`}},
		{"condition changedTo bad status", oneRule(`condition: changedTo("status", "Resolved")`), []string{`changedTo: unknown status "Resolved"`}},
		{"condition multi-line error has line", oneRule("condition: |\n      hasDevice(\"PLC\") &&\n      nope"), []string{"unknown name nope", "(2:1)"}},
		{"condition too long", oneRule("condition: " + strings.Repeat("true && ", 1100) + "true"), []string{"the limit is 8192"}},
		{"no actions", oneRule("actions: []"), []string{"actions: empty"}},
		{"actions missing", oneRule("-actions"), []string{"actions: missing"}},
		{"too many actions", oneRule("actions: [" + strings.TrimSuffix(strings.Repeat("runPlaybook: Other, ", 21), ", ") + "]"), []string{"actions: 21 actions; the limit is 20"}},
		{"action not a mapping", oneRule("actions: [runPlaybook]"), []string{"action 1: want one of runPlaybook"}},
		{"unknown action", oneRule("actions: [{runPlaybok: Other}]"), []string{`action 1: unknown key "runPlaybok"`}},
		{"two verbs in one action", oneRule("actions: [{runPlaybook: Other, setSeverity: High}]"), []string{"action 1: has runPlaybook and setSeverity; write one action per list item"}},
		{"unknown playbook", oneRule("actions: [runPlaybook: Nope]"), []string{`unknown playbook "Nope"`, "known: NewEngineeringStationTicket"}},
		{"unknown playbook in list", oneRule("actions: [runPlaybooks: [Other, Nope]]"), []string{`runPlaybooks: unknown playbook "Nope"`}},
		{"empty playbook list", oneRule("actions: [runPlaybooks: []]"), []string{"runPlaybooks: want a non-empty list"}},
		{"bad severity", oneRule("actions: [setSeverity: Critical]"), []string{`setSeverity: "Critical" is not one of High, Medium, Low, Informational`}},
		{"severity case", oneRule("actions: [setSeverity: high]"), []string{"did you mean High?"}},
		{"bad status", oneRule("actions: [setStatus: Resolved]"), []string{`setStatus: "Resolved" is not one of New, Active, Closed`}},
		{"closed without classification", oneRule("actions: [setStatus: Closed]"), []string{"setStatus: Closed needs a classification"}},
		{"bad classification", oneRule("actions: [{setStatus: Closed, classification: Benign}]"), []string{`classification: "Benign" is not one of Undetermined, TruePositive, BenignPositive, FalsePositive`}},
		{"reason that does not fit", oneRule("actions: [{setStatus: Closed, classification: TruePositive, classificationReason: InaccurateData}]"), []string{`classificationReason: "InaccurateData" does not go with TruePositive; want SuspiciousActivity`}},
		{"reason for undetermined", oneRule("actions: [{setStatus: Closed, classification: Undetermined, classificationReason: InaccurateData}]"), []string{"Undetermined takes no reason"}},
		{"classification on active", oneRule("actions: [{setStatus: Active, classification: TruePositive}]"), []string{"setStatus: Active takes no classification"}},
		{"classification without status", oneRule("actions: [{setSeverity: High, classification: TruePositive}]"), []string{"classification belongs with setStatus: Closed, not setSeverity"}},
		{"bad owner", oneRule("actions: [setOwner: alice]"), []string{`setOwner: "alice" is not an email address`}},
		{"owner with space", oneRule("actions: [setOwner: \"alice @example.com\"]"), []string{"contains spaces"}},
		{"empty tag", oneRule("actions: [addTags: [\"\"]]"), []string{"want a value"}},
		{"duplicate tag", oneRule("actions: [addTags: [ot, OT]]"), []string{`addTags: "OT" is listed twice`}},
		{"tag with control character", oneRule("actions: [addTags: [\"a\\nb\"]]"), []string{"control characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.src), "site-rules.yaml", knownPlaybooks())
			require.Error(t, err)
			var fe *FileError
			require.True(t, errors.As(err, &fe), "%T", err)
			require.Equal(t, "site-rules.yaml", fe.File)
			require.NotEmpty(t, fe.Problems)
			msg := err.Error()
			require.Contains(t, msg, "site-rules.yaml")
			for _, w := range tt.want {
				require.Contains(t, msg, w)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()
	src := `rules:
  - name: First
    order: 0
    trigger: created
    condition: hasDevice("PLC") && nope
    actions:
      - runPlaybook: Missing
  - name: Second
    order: 20
    trigger: sometimes
    actions:
      - setSeverity: Critical
  - name: first
    order: 30
    trigger: created
    actions:
      - runPlaybook: Other
`
	_, err := Parse([]byte(src), "rules.yaml", knownPlaybooks())
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	type got struct {
		Rule  string
		Index int
		Line  int
	}
	var problems []got
	for _, p := range fe.Problems {
		problems = append(problems, got{p.Rule, p.Index, p.Line})
	}
	require.Equal(t, []got{
		{"First", 1, 3},   // order
		{"First", 1, 5},   // condition
		{"First", 1, 7},   // playbook
		{"Second", 2, 10}, // trigger
		{"Second", 2, 12}, // severity
		{"first", 3, 13},  // duplicate name
	}, problems)
	msg := err.Error()
	require.Contains(t, msg, "rules file rules.yaml is invalid (6 problems):")
	require.Contains(t, msg, `rules.yaml:5: rule 1 "First": condition: unknown name nope (1:21)`)
	require.Contains(t, msg, "\n       | hasDevice(\"PLC\") && nope\n")
	require.Contains(t, msg, `rules.yaml:13: rule 3 "first": name: "first" is already the name of rule 1 (line 2)`)
}

func TestParseAcceptsTheDocumentedForms(t *testing.T) {
	t.Parallel()
	src := `rules:
  - name: everything
    order: 1000
    enabled: false
    expires: 2027-01-31
    trigger: [updated, created]
    condition: |
      anyAlertTitle(plcChangeTitles)
        && siteIn("Rotterdam Plant")
    actions:
      - runPlaybooks: [Other, Third]
      - setSeverity: Informational
      - setStatus: Closed
        classification: FalsePositive
        classificationReason: InaccurateData
        classificationComment: sensor misread
      - setOwner: soc@example.com
      - addTags: single
  - name: minimal
    order: 1
    trigger: updated
    condition:
    actions: [runPlaybook: Other]
  - &anchor
    name: anchored
    order: 2
    trigger: created
    actions: [addTags: [a, b]]
`
	e, err := Parse([]byte(src), "ok.yaml", knownPlaybooks())
	require.NoError(t, err)
	require.Equal(t, "ok.yaml", e.File())
	require.Equal(t, 3, e.Len())
	require.Equal(t, 2, e.Enabled())
	info := e.Rules()
	require.Equal(t, []string{"minimal", "anchored", "everything"}, []string{info[0].Name, info[1].Name, info[2].Name})
	require.Equal(t, RuleInfo{
		Name:      "everything",
		Order:     1000,
		Enabled:   false,
		Expires:   time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
		Triggers:  []Trigger{TriggerUpdated, TriggerCreated},
		Condition: "anyAlertTitle(plcChangeTitles)\n  && siteIn(\"Rotterdam Plant\")",
		Actions: []string{
			"run playbooks Other, Third",
			"set severity Informational",
			"set status Closed (FalsePositive - InaccurateData: sensor misread)",
			"set owner soc@example.com",
			"add tags single",
		},
		Line: 2,
	}, info[2])
	require.Empty(t, info[0].Condition, "an empty condition always matches")
	require.True(t, info[0].Enabled)

	e, err = Parse([]byte("rules: []\n"), "empty.yaml", nil)
	require.NoError(t, err)
	require.Zero(t, e.Len())
	e, err = Parse([]byte("rules:\n# all commented out\n"), "empty.yaml", nil)
	require.NoError(t, err)
	require.Zero(t, e.Len())
}

func TestParseUnknownPlaybookWithNoneRegistered(t *testing.T) {
	t.Parallel()
	_, err := Default(nil)
	require.ErrorContains(t, err, DefaultRulesFile)
	require.ErrorContains(t, err, `unknown playbook "NewEngineeringStationTicket" (no playbooks are registered)`)
}

func TestParseRefusesTooManyRules(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("rules:\n")
	for range 1001 {
		b.WriteString("  - {}\n")
	}
	_, err := Parse([]byte(b.String()), "big.yaml", nil)
	require.ErrorContains(t, err, "rules: 1001 rules; the limit is 1000")
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(path, DefaultRules(), 0o600))
	e, err := Load(path, knownPlaybooks())
	require.NoError(t, err)
	require.Equal(t, path, e.File())
	require.Equal(t, 8, e.Len())

	_, err = Load(filepath.Join(dir, "missing.yaml"), knownPlaybooks())
	require.ErrorIs(t, err, os.ErrNotExist)

	require.NoError(t, os.WriteFile(path, []byte("rules: [nope]\n"), 0o600))
	_, err = Load(path, knownPlaybooks())
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, path, fe.File)
}

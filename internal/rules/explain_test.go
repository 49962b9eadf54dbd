package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

const explainRules = `rules:
  - name: New engineering workstation → ServiceNow
    order: 10
    trigger: created
    condition: anyAlertTitle(["New Asset Detected"]) && hasDevice("Engineering Station")
    actions:
      - runPlaybook: NewEngineeringStationTicket
      - addTags: ["ot", "new-asset"]
  - name: PLC reprogramming → engineers
    order: 20
    trigger: created
    condition: anyAlertTitle(plcChangeTitles) && severityAtLeast("Medium")
    actions:
      - setSeverity: High
      - runPlaybook: PLCReprogrammingNotice
  - name: Broken
    order: 30
    trigger: created
    condition: previous.status == "New"
    actions: [runPlaybook: Other]
  - name: Old pen test
    order: 40
    trigger: created
    expires: 2026-01-01T00:00:00Z
    actions: [{setStatus: Closed, classification: BenignPositive, classificationReason: SuspiciousButExpected}]
  - name: Parked
    order: 50
    enabled: false
    trigger: created
    actions: [runPlaybook: Other]
  - name: Closed incidents
    order: 60
    trigger: updated
    condition: changedTo("status", "Closed")
    actions: [runPlaybook: Other]
`

func TestExplain(t *testing.T) {
	t.Parallel()
	e := mustParse(t, explainRules)
	ev := plcProgrammingEvent()
	ev.Incident.Severity = "Medium"
	ev.Incident.Title = "(MDIoT) Unauthorized PLC Programming\x1b[2J"

	var b strings.Builder
	res := Explain(&b, e, ev, testNow)
	out := b.String()
	require.Equal(t, e.Evaluate(ev, testNow), res, "the dry run decides what Evaluate decides")

	wantLines := []string{
		"Dry run of test.yaml (6 rules) at 2026-11-20T08:20:00Z",
		"Event: Create (trigger created), id e2b1f7c4-4318-4d0e-8f3a-1b2c3d4e5f60",
		`Incident: #4318 "(MDIoT) Unauthorized PLC Programming\x1b[2J"; severity Medium, status New`,
		"Rules, in evaluation order:",
		"  · [10] New engineering workstation → ServiceNow: not matched (condition is false)",
		`        condition: anyAlertTitle(["New Asset Detected"]) && hasDevice("Engineering Station")`,
		"  ✓ [20] PLC reprogramming → engineers: matched",
		"        → set severity High",
		"        → run playbook PLCReprogrammingNotice",
		"  ✗ [30] Broken: not matched, condition failed: ",
		"  - [40] Old pen test: skipped (expired 2026-01-01T00:00:00Z)",
		"  - [50] Parked: skipped (disabled)",
		"  - [60] Closed incidents: skipped (trigger updated; this event is created)",
		"Incident changes:",
		`  severity: Medium → High (rule "PLC reprogramming → engineers")`,
		"Playbooks that would run, in order:",
		"  1. PLCReprogrammingNotice",
	}
	lines := strings.Split(out, "\n")
	at := 0
	for _, want := range wantLines {
		found := false
		for ; at < len(lines); at++ {
			if strings.HasPrefix(lines[at], want) {
				found = true
				break
			}
		}
		require.True(t, found, "missing (or out of order) %q in:\n%s", want, out)
	}
	require.NotContains(t, out, "\x1b", "payload text is escaped before it reaches a terminal")

	b.Reset()
	Explain(&b, e, newAssetEvent(), testNow)
	out = b.String()
	require.Contains(t, out, "  ✓ [10] New engineering workstation → ServiceNow: matched\n")
	require.Contains(t, out, `  tags added: ot, new-asset (rule "New engineering workstation → ServiceNow")`)
	require.Contains(t, out, "  1. NewEngineeringStationTicket\n")
	require.NotContains(t, out, "PLCReprogrammingNotice\n")

	// An update closing the incident, with a rule that changes nothing.
	prev := plcProgrammingEvent().Incident
	prev.Status = "Active"
	cur := plcProgrammingEvent()
	cur.Incident.Status = "Closed"
	b.Reset()
	Explain(&b, e, updateOf(cur, &prev), testNow.Add(time.Hour))
	out = b.String()
	require.Contains(t, out, ", with previous state\n")
	require.Contains(t, out, "  ✓ [60] Closed incidents: matched\n")
	require.Contains(t, out, "Incident changes:\n  (none)\n")
	require.Contains(t, out, "  1. Other\n")

	b.Reset()
	Explain(&b, e, incident.Event{Type: "Deleted"}, testNow)
	out = b.String()
	require.Contains(t, out, "  (none ran)\n")
	require.Contains(t, out, `  ✗ event type "Deleted" is neither Create nor Update; no rule ran`)
	require.Contains(t, out, "Playbooks that would run, in order:\n  (none)\n")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	e := mustParse(t, explainRules)
	var b strings.Builder
	Check(&b, e)
	out := b.String()
	for _, want := range []string{
		"test.yaml: 6 rules, 5 enabled (evaluation order: order, then name)\n",
		"  [10] New engineering workstation → ServiceNow  (line 2)\n",
		"        on created; enabled; never expires\n",
		`        when  anyAlertTitle(["New Asset Detected"]) && hasDevice("Engineering Station")` + "\n",
		"        then  run playbook NewEngineeringStationTicket\n              add tags ot, new-asset\n",
		"        on created; enabled; expires 2026-01-01T00:00:00Z\n",
		"        when  (always)\n",
		"        then  set status Closed (BenignPositive - SuspiciousButExpected)\n",
		"        on created; DISABLED; never expires\n",
		"        on updated; enabled; never expires\n",
	} {
		require.Contains(t, out, want)
	}
}

package rules

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

func matchNames(res Result) []string {
	var out []string
	for _, m := range res.Matches {
		out = append(out, m.Rule)
	}
	return out
}

func TestDefaultRulesAgainstFixtures(t *testing.T) {
	t.Parallel()
	e, err := Default(knownPlaybooks())
	require.NoError(t, err)
	require.Equal(t, 8, e.Len())
	require.Equal(t, 3, e.Enabled(), "the parity playbooks' rules are off until turned on")

	lowerPLC := plcProgrammingEvent()
	lowerPLC.Incident.Title = "(MDIoT) Unauthorized PLC Program Upload"
	lowerPLC.Incident.Alerts[0].Title = "(MDIoT) Unauthorized PLC Program Upload"
	lowerPLC.Incident.Severity = "Medium"

	lowPLC := plcProgrammingEvent()
	lowPLC.Incident.Alerts[0].Title = "(MDIoT) PLC Operating Mode Changed"
	lowPLC.Incident.Severity = "Low"

	newAssetPLC := newAssetEvent()
	newAssetPLC.Incident.Devices = []incident.Device{plc()}

	// A workstation Defender for IoT reports only by sub-type, or only as a programming device.
	subTypeOnly := newAssetEvent()
	subTypeOnly.Incident.Devices[0].Type, subTypeOnly.Incident.Devices[0].SubType, subTypeOnly.Incident.Devices[0].IsProgramming = "Workstation", "engineering workstation", false
	programmingOnly := newAssetEvent()
	programmingOnly.Incident.Devices[0].Type, programmingOnly.Incident.Devices[0].SubType, programmingOnly.Incident.Devices[0].IsProgramming = "", "", true
	notAWorkstation := newAssetEvent()
	notAWorkstation.Incident.Devices[0].Type, notAWorkstation.Incident.Devices[0].SubType, notAWorkstation.Incident.Devices[0].IsProgramming = "HMI", "", false

	tests := []struct {
		name      string
		ev        incident.Event
		playbooks []string
		matches   []string
		severity  string
		labels    []string
		changes   []Change
	}{
		{
			name:      "new engineering station opens a ticket and tags; the ticket is the question, no owner email",
			ev:        newAssetEvent(),
			playbooks: []string{"NewEngineeringStationTicket"},
			matches:   []string{"New engineering workstation → ServiceNow"},
			severity:  "Medium",
			labels:    []string{"ot", "new-asset"},
			changes: []Change{
				{Rule: "New engineering workstation → ServiceNow", Field: "labels", To: "ot"},
				{Rule: "New engineering workstation → ServiceNow", Field: "labels", To: "new-asset"},
			},
		},
		{
			name:      "PLC programming notifies engineers, not the owners; already High so no change",
			ev:        plcProgrammingEvent(),
			playbooks: []string{"PLCReprogrammingNotice"},
			matches:   []string{"PLC reprogramming → engineers"},
			severity:  "High",
		},
		{
			name:      "PLC program upload at Medium is raised to High",
			ev:        lowerPLC,
			playbooks: []string{"PLCReprogrammingNotice"},
			matches:   []string{"PLC reprogramming → engineers"},
			severity:  "High",
			changes:   []Change{{Rule: "PLC reprogramming → engineers", Field: "severity", From: "Medium", To: "High"}},
		},
		{
			name:     "PLC mode change at Low stays below the threshold; still a PLC change, so no owner question",
			ev:       lowPLC,
			severity: "Low",
		},
		{
			name:     "a new PLC is not an engineering station",
			ev:       newAssetPLC,
			severity: "Medium",
		},
		{
			name:      "a workstation by sub-type only opens a ticket",
			ev:        subTypeOnly,
			playbooks: []string{"NewEngineeringStationTicket"},
			matches:   []string{"New engineering workstation → ServiceNow"},
			severity:  "Medium",
			labels:    []string{"ot", "new-asset"},
			changes: []Change{
				{Rule: "New engineering workstation → ServiceNow", Field: "labels", To: "ot"},
				{Rule: "New engineering workstation → ServiceNow", Field: "labels", To: "new-asset"},
			},
		},
		{
			name:      "a programming device opens a ticket",
			ev:        programmingOnly,
			playbooks: []string{"NewEngineeringStationTicket"},
			matches:   []string{"New engineering workstation → ServiceNow"},
			severity:  "Medium",
			labels:    []string{"ot", "new-asset"},
			changes: []Change{
				{Rule: "New engineering workstation → ServiceNow", Field: "labels", To: "ot"},
				{Rule: "New engineering workstation → ServiceNow", Field: "labels", To: "new-asset"},
			},
		},
		{
			name:     "a new HMI is no workstation",
			ev:       notAWorkstation,
			severity: "Medium",
		},

		{
			name:     "updates run no create rule",
			ev:       updateOf(plcProgrammingEvent(), nil),
			severity: "High",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := e.Evaluate(tt.ev, testNow)
			require.Empty(t, res.Errors)
			require.Equal(t, tt.playbooks, res.Playbooks)
			require.Equal(t, tt.matches, matchNames(res))
			require.Equal(t, tt.severity, res.Incident.Severity)
			require.Equal(t, tt.labels, res.Incident.Labels)
			require.Equal(t, tt.changes, res.Changes)
		})
	}
}

func TestEvaluateSemantics(t *testing.T) {
	t.Parallel()
	beforeNow := testNow.Add(-time.Second).Format(time.RFC3339)
	afterNow := testNow.Add(time.Second).Format(time.RFC3339)
	tests := []struct {
		name      string
		rules     string
		ev        incident.Event
		matches   []string
		playbooks []string
		severity  string
		errors    []string // substrings, one per error
	}{
		{
			name: "ascending order, not file order",
			rules: `rules:
  - {name: late, order: 20, trigger: created, actions: [runPlaybook: Other]}
  - {name: early, order: 10, trigger: created, actions: [runPlaybook: Third]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"early", "late"},
			playbooks: []string{"Third", "Other"},
		},
		{
			name: "equal order is broken by name",
			rules: `rules:
  - {name: b, order: 10, trigger: created, actions: [runPlaybook: Other]}
  - {name: a, order: 10, trigger: created, actions: [runPlaybook: Third]}
  - {name: C, order: 10, trigger: created, actions: [runPlaybook: PLCReprogrammingNotice]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"C", "a", "b"},
			playbooks: []string{"PLCReprogrammingNotice", "Third", "Other"},
		},
		{
			name: "playbooks are deduplicated, first request wins the position",
			rules: `rules:
  - {name: one, order: 1, trigger: created, actions: [runPlaybooks: [Other, Third]]}
  - {name: two, order: 2, trigger: created, actions: [runPlaybook: Third, runPlaybook: Other, runPlaybook: PLCReprogrammingNotice]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"one", "two"},
			playbooks: []string{"Other", "Third", "PLCReprogrammingNotice"},
		},
		{
			name: "expired rules never fire; expiry equal to now counts as expired",
			rules: `rules:
  - {name: past, order: 1, trigger: created, expires: "` + beforeNow + `", actions: [runPlaybook: Other]}
  - {name: exactly-now, order: 2, trigger: created, expires: "` + testNow.Format(time.RFC3339) + `", actions: [runPlaybook: Other]}
  - {name: future, order: 3, trigger: created, expires: "` + afterNow + `", actions: [runPlaybook: Third]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"future"},
			playbooks: []string{"Third"},
		},
		{
			name: "disabled rules never fire",
			rules: `rules:
  - {name: off, order: 1, enabled: false, trigger: created, actions: [runPlaybook: Other]}
  - {name: on, order: 2, enabled: true, trigger: created, actions: [runPlaybook: Third]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"on"},
			playbooks: []string{"Third"},
		},
		{
			name: "a later rule sees a lowered severity",
			rules: `rules:
  - {name: lower, order: 1, trigger: created, actions: [setSeverity: Low]}
  - {name: high only, order: 2, trigger: created, condition: 'severityAtLeast("High")', actions: [runPlaybook: Other]}`,
			ev:       plcProgrammingEvent(),
			matches:  []string{"lower"},
			severity: "Low",
		},
		{
			name: "a later rule sees a raised severity and the incident variable too",
			rules: `rules:
  - {name: raise, order: 1, trigger: created, actions: [setSeverity: High]}
  - {name: high only, order: 2, trigger: created, condition: 'severityAtLeast("High") && incident.severity == "High"', actions: [runPlaybook: Other]}`,
			ev:        newAssetEvent(),
			matches:   []string{"raise", "high only"},
			playbooks: []string{"Other"},
			severity:  "High",
		},
		{
			name: "actions within a rule apply in order",
			rules: `rules:
  - {name: twice, order: 1, trigger: created, actions: [setSeverity: Low, setSeverity: Informational]}
  - {name: sees last, order: 2, trigger: created, condition: 'incident.severity == "Informational"', actions: [runPlaybook: Other]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"twice", "sees last"},
			playbooks: []string{"Other"},
			severity:  "Informational",
		},
		{
			name: "create events run only created rules",
			rules: `rules:
  - {name: on create, order: 1, trigger: created, actions: [runPlaybook: Other]}
  - {name: on update, order: 2, trigger: updated, actions: [runPlaybook: Third]}
  - {name: on both, order: 3, trigger: [created, updated], actions: [runPlaybook: PLCReprogrammingNotice]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"on create", "on both"},
			playbooks: []string{"Other", "PLCReprogrammingNotice"},
		},
		{
			name: "update events run only updated rules",
			rules: `rules:
  - {name: on create, order: 1, trigger: created, actions: [runPlaybook: Other]}
  - {name: on update, order: 2, trigger: updated, condition: 'trigger == "updated" && event.type == "Update"', actions: [runPlaybook: Third]}
  - {name: on both, order: 3, trigger: [created, updated], actions: [runPlaybook: PLCReprogrammingNotice]}`,
			ev:        updateOf(plcProgrammingEvent(), nil),
			matches:   []string{"on update", "on both"},
			playbooks: []string{"Third", "PLCReprogrammingNotice"},
		},
		{
			name: "a failing condition does not match, is reported, and the rest still run",
			rules: `rules:
  - {name: nil deref, order: 1, trigger: created, condition: 'previous.status == "New"', actions: [runPlaybook: Other]}
  - {name: index, order: 2, trigger: created, condition: 'incident.labels[3] == "x"', actions: [runPlaybook: Other]}
  - {name: fine, order: 3, trigger: created, actions: [runPlaybook: Third]}`,
			ev:        plcProgrammingEvent(),
			matches:   []string{"fine"},
			playbooks: []string{"Third"},
			errors:    []string{`rule "nil deref": `, `rule "index": index out of range`},
		},
		{
			name: "a guarded previous on create is simply false",
			rules: `rules:
  - {name: safe, order: 1, trigger: created, condition: 'previous != nil && previous.status == "New"', actions: [runPlaybook: Other]}`,
			ev: plcProgrammingEvent(),
		},
		{
			name: "unknown event type runs nothing and says so",
			rules: `rules:
  - {name: any, order: 1, trigger: [created, updated], actions: [runPlaybook: Other]}`,
			ev:     incident.Event{Type: "Delete", Incident: plcProgrammingEvent().Incident},
			errors: []string{`event type "Delete" is neither Create nor Update`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustParse(t, tt.rules)
			res := e.Evaluate(tt.ev, testNow)
			require.Equal(t, tt.matches, matchNames(res))
			require.Equal(t, tt.playbooks, res.Playbooks)
			if tt.severity != "" {
				require.Equal(t, tt.severity, res.Incident.Severity)
			}
			require.Len(t, res.Errors, len(tt.errors), "errors: %q", res.Errors)
			for i, want := range tt.errors {
				require.Contains(t, res.Errors[i], want)
			}
		})
	}
}

func TestPropertyActions(t *testing.T) {
	t.Parallel()
	e := mustParse(t, `rules:
  - name: close as expected
    order: 1
    trigger: created
    actions:
      - setStatus: Closed
        classification: BenignPositive
        classificationReason: SuspiciousButExpected
        classificationComment: planned download
      - setOwner: alice@example.com
      - addTags: [OT, plc, maintenance]
  - name: sees closed
    order: 2
    trigger: created
    condition: incident.status == "Closed" && incident.owner.email == "alice@example.com" && hasLabel("PLC")
    actions:
      - runPlaybook: Other`)
	ev := plcProgrammingEvent()
	// Spare capacity: appending to the caller's slice would write into its backing array.
	labels := make([]string, 1, 10)
	labels[0] = "ot"
	ev.Incident.Labels = labels

	res := e.Evaluate(ev, testNow)
	require.Empty(t, res.Errors)
	require.Equal(t, []string{"close as expected", "sees closed"}, matchNames(res))
	require.Equal(t, "Closed", res.Incident.Status)
	require.Equal(t, &Classification{Classification: "BenignPositive", Reason: "SuspiciousButExpected", Comment: "planned download"}, res.Classification)
	require.Equal(t, incident.Owner{Email: "alice@example.com", UserPrincipalName: "alice@example.com", AssignedTo: "alice@example.com"}, res.Incident.Owner)
	require.Equal(t, []string{"ot", "plc", "maintenance"}, res.Incident.Labels, "OT is already there as ot")
	require.Empty(t, labels[:2][1], "nothing was appended into the caller's backing array")
	require.Equal(t, []Change{
		{Rule: "close as expected", Field: "status", From: "New", To: "Closed"},
		{Rule: "close as expected", Field: "classification", To: "BenignPositive - SuspiciousButExpected: planned download"},
		{Rule: "close as expected", Field: "owner", To: "alice@example.com"},
		{Rule: "close as expected", Field: "labels", To: "plc"},
		{Rule: "close as expected", Field: "labels", To: "maintenance"},
	}, res.Changes)
	require.Equal(t, []string{
		"set status Closed (BenignPositive - SuspiciousButExpected: planned download)",
		"set owner alice@example.com",
		"add tags OT, plc, maintenance",
	}, res.Matches[0].Actions)
	require.Equal(t, "New", ev.Incident.Status, "the event is not modified")

	reopen := mustParse(t, `rules:
  - name: close
    order: 1
    trigger: created
    actions: [{setStatus: Closed, classification: Undetermined}]
  - name: reopen
    order: 2
    trigger: created
    actions: [setStatus: Active]`)
	res = reopen.Evaluate(plcProgrammingEvent(), testNow)
	require.Nil(t, res.Classification, "reopening clears the classification")
	require.Equal(t, "Active", res.Incident.Status)
	require.Equal(t, []Change{
		{Rule: "close", Field: "status", From: "New", To: "Closed"},
		{Rule: "close", Field: "classification", To: "Undetermined"},
		{Rule: "reopen", Field: "status", From: "Closed", To: "Active"},
		{Rule: "reopen", Field: "classification", From: "Undetermined"},
	}, res.Changes)
}

func TestEvaluateIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	e, err := Default(knownPlaybooks())
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				ev, want := newAssetEvent(), "NewEngineeringStationTicket"
				if i%2 == 0 {
					ev, want = plcProgrammingEvent(), "PLCReprogrammingNotice"
				}
				res := e.Evaluate(ev, testNow)
				if got := strings.Join(res.Playbooks, ","); got != want {
					errs <- got + " want " + want
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

func TestEvaluateAllocations(t *testing.T) {
	// Not parallel: AllocsPerRun counts every goroutine's allocations.
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	def, err := Default(knownPlaybooks())
	require.NoError(t, err)
	big := benchEngine(t)
	tests := []struct {
		name string
		e    *Engine
		max  float64
	}{
		// Helpers only: the boxed env, Result.Matches, Match.Actions and Result.Playbooks. A helper that
		// allocated per call would show here.
		{"default rules", def, 4},
		// Plus four matching rules that change the incident (Changes, labels copy, a re-boxed env each)
		// and user predicates over devices: expr copies each string field it reads through a slice
		// element to the heap (reflect), about two dozen here.
		{"100 rules", big, 50},
	}
	for _, tt := range tests {
		ev := plcProgrammingEvent()
		tt.e.Evaluate(ev, testNow) // warm the pool
		allocs := testing.AllocsPerRun(200, func() { tt.e.Evaluate(ev, testNow) })
		require.LessOrEqual(t, allocs, tt.max, tt.name)
	}
}

func TestConditionMemoryBudget(t *testing.T) {
	t.Parallel()
	res := condEngine(t, `all(1..1000, all(1..1000, # > 0))`).Evaluate(plcProgrammingEvent(), testNow)
	require.Len(t, res.Errors, 1)
	require.Contains(t, res.Errors[0], "memory budget exceeded")
	res = condEngine(t, `all(1..1000, # > 0)`).Evaluate(plcProgrammingEvent(), testNow)
	require.Empty(t, res.Errors)
	require.Len(t, res.Matches, 1)
}

// TestDefaultParityRulesTurnedOn runs the default rules with the three parity rules (auto-triage,
// auto-close, line mail) turned on, as an operator does by editing enabled: false.
func TestDefaultParityRulesTurnedOn(t *testing.T) {
	t.Parallel()
	// Only those three: the owner and CVE rules have tests of their own.
	parts := strings.Split(string(DefaultRules()), "\n  - name: ")
	for i, part := range parts {
		for _, name := range []string{"High-importance device → triage", "Planned maintenance → auto-close", "Production line mailbox"} {
			if strings.HasPrefix(part, name+"\n") {
				parts[i] = strings.Replace(part, "    enabled: false\n", "", 1)
			}
		}
	}
	src := strings.Join(parts, "\n  - name: ")
	e, err := Parse([]byte(src), "on.yaml", knownPlaybooks())
	require.NoError(t, err)
	require.Equal(t, 6, e.Enabled())

	newAssetPLC := newAssetEvent()
	newAssetPLC.Incident.Devices = []incident.Device{plc()}
	before := newAssetPLC.Incident
	before.Alerts = nil // the update added the alert
	same := newAssetPLC.Incident
	normal := newAssetEvent()
	normal.Incident.Devices[0].Type, normal.Incident.Devices[0].SubType, normal.Incident.Devices[0].IsProgramming = "HMI", "", false
	noDevices := newAssetEvent()
	noDevices.Incident.Devices = nil

	tests := []struct {
		name      string
		ev        incident.Event
		playbooks []string
	}{
		{"a new high-importance PLC: triage, auto-close check, line mail", newAssetPLC,
			[]string{"AutoTriageIncident", "AutoCloseIncidents", "MailByProductionLine"}},
		{"an update that adds alerts triages again", updateOf(newAssetPLC, &before), []string{"AutoTriageIncident"}},
		{"an update without new alerts does not", updateOf(newAssetPLC, &same), nil},
		{"a normal HMI: no triage", normal, []string{"AutoCloseIncidents", "MailByProductionLine"}},
		{"the engineering station: ticket too", newAssetEvent(),
			[]string{"NewEngineeringStationTicket", "AutoCloseIncidents", "MailByProductionLine"}},
		{"PLC programming: the PLC playbook, not auto-close or triage", plcProgrammingEvent(),
			[]string{"PLCReprogrammingNotice", "MailByProductionLine"}},
		{"no devices: nothing", noDevices, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Evaluate(tt.ev, testNow)
			require.Empty(t, res.Errors)
			require.Equal(t, tt.playbooks, res.Playbooks)
		})
	}
}

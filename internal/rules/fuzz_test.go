package rules

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/interlock-soar/interlock/internal/incident"
)

func fuzzEvents() []incident.Event {
	prev := plcProgrammingEvent().Incident
	prev.Status = "Active"
	return []incident.Event{
		plcProgrammingEvent(),
		newAssetEvent(),
		updateOf(plcProgrammingEvent(), &prev),
		{Type: incident.EventUpdate}, // nearly empty: no alerts, devices or previous
	}
}

func FuzzParseRules(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input it finds, and a large one (each exec compiles
	// every condition) would eat a short fuzzing budget.
	f.Add("rules:\n  - name: a\n    order: 10\n    trigger: created\n    condition: anyAlertTitle([\"New Asset Detected\"]) && hasDevice(\"Engineering Station\")\n    actions:\n      - runPlaybook: NewEngineeringStationTicket\n      - addTags: [ot]\n")
	f.Add("rules:\n  - {name: b, order: 2, enabled: false, expires: 2026-01-01, trigger: [created, updated], condition: 'severityAtLeast(\"Medium\")', actions: [setSeverity: High, setOwner: a@b.example]}\n")
	f.Add(threeRules)
	f.Add("rules: []\n")
	f.Add("rules:\n  - &a {name: x, order: 1, trigger: created, actions: [runPlaybook: Other]}\n  - *a\n")
	f.Add("rules:\n  - name: x\n    order: 1\n    trigger: [created, updated]\n    condition: |\n      changed(\"status\")\n    actions:\n      - {setStatus: Closed, classification: FalsePositive, classificationReason: InaccurateData}\n")
	events := fuzzEvents()
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse([]byte(src), "fuzz.yaml", knownPlaybooks())
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || len(fe.Problems) == 0 || err.Error() == "" {
				t.Fatalf("Parse error is not a FileError with problems: %#v", err)
			}
			return
		}
		Check(io.Discard, e)
		_ = e.Rules()
		for _, ev := range events {
			res := Explain(io.Discard, e, ev, testNow)
			for _, msg := range res.Errors {
				if strings.Contains(msg, "internal error") {
					t.Fatalf("evaluation panicked: %s", msg)
				}
			}
		}
	})
}

func FuzzCondition(f *testing.F) {
	for _, seed := range []string{
		`anyAlertTitle(plcChangeTitles) && severityAtLeast("Medium")`,
		`anyAlertTitle(["New Asset Detected"]) && hasDevice("Engineering Station")`,
		`changedTo("status", "Closed") || changedFrom("severity", "High") || changed("alerts")`,
		`previous != nil && previous.owner.email == incident.owner.email`,
		`any(devices, .type == "PLC" && "Profinet" in .protocols) && siteIn([devices[0].site])`,
		`anyAlertTitle([incident.number]) || sensorIn(ips) || anyAlertCategory(incident.title)`,
		`len(filter(alerts, .isNew)) > 0 && incident.created < alerts[0].startTime`,
		`hasLabel(trigger) || event.id matches "^e2" || entities[9].name == ""`,
	} {
		f.Add(seed)
	}
	events := fuzzEvents()
	f.Fuzz(func(t *testing.T, cond string) {
		prog, err := compileCondition(cond)
		if err != nil {
			return
		}
		e := &Engine{file: "fuzz", rules: []*rule{{
			name: "fuzz", index: 1, order: 1, enabled: true,
			triggers:  []Trigger{TriggerCreated, TriggerUpdated},
			condition: cond, program: prog,
			actions: []action{{kind: actSetSeverity, value: "Low"}, {kind: actAddTags, tags: []string{"x"}}},
			descs:   []string{"set severity Low", "add tags x"},
		}}}
		for _, ev := range events {
			res := e.Evaluate(ev, testNow)
			for _, msg := range res.Errors {
				if strings.Contains(msg, "internal error") {
					t.Fatalf("evaluation panicked: %s", msg)
				}
			}
		}
	})
}

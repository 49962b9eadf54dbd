package rules

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchRules is a 100-rule file shaped like a real site's: mostly title, device, site and sensor tests
// that do not match the PLC fixture, a few that do (and change the incident), every trigger kind.
func benchRules() string {
	conds := []string{
		`anyAlertTitle(["Unauthorized SSH Access", "Internet Access Detected"]) && siteIn(["Site {i}"])`,
		`anyAlertTitle(["New Asset Detected"]) && hasDevice("Engineering Station")`,
		`any(devices, .type == "PLC" && .importance == "High") && sensorIn(["sensor-{i}"])`,
		`incident.severity == "High" && hasLabel("x{i}")`,
		`anyAlertCategory(["Scan", "Authentication"]) || incident.title contains "Site {i}"`,
		`!hasLabel("maintenance-{i}") && severityAtLeast("Low") && siteIn(["Site {i}", "Hamburg"])`,
		`previous != nil && previous.status == "Closed" || changed("severity")`,
		`anyAlertTitle(plcChangeTitles) && severityAtLeast("Medium") && hasLabel("never")`,
	}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range 100 {
		cond := strings.ReplaceAll(conds[i%len(conds)], "{i}", strconv.Itoa(i))
		action := "runPlaybook: Other"
		if i%25 == 0 {
			// Four matching rules that change the incident.
			cond = `anyAlertTitle(plcChangeTitles) && severityAtLeast("Medium")`
			action = fmt.Sprintf(`addTags: ["t%d"]`, i)
		}
		fmt.Fprintf(&b, "  - name: rule %03d\n    order: %d\n    trigger: [created, updated]\n    condition: '%s'\n    actions:\n      - %s\n      - runPlaybook: PLCReprogrammingNotice\n",
			i, 1+i%50, cond, action)
	}
	return b.String()
}

func benchEngine(tb testing.TB) *Engine {
	tb.Helper()
	e, err := Parse([]byte(benchRules()), "bench.yaml", knownPlaybooks())
	require.NoError(tb, err)
	require.Equal(tb, 100, e.Len())
	return e
}

func TestBenchRulesMatchAsIntended(t *testing.T) {
	t.Parallel()
	res := benchEngine(t).Evaluate(plcProgrammingEvent(), testNow)
	require.Empty(t, res.Errors)
	require.Len(t, res.Matches, 4)
	require.Equal(t, []string{"PLCReprogrammingNotice"}, res.Playbooks)
	require.Len(t, res.Incident.Labels, 4)
}

func BenchmarkEvaluate100Rules(b *testing.B) {
	e := benchEngine(b)
	ev := plcProgrammingEvent()
	b.ReportAllocs()
	for b.Loop() {
		e.Evaluate(ev, testNow)
	}
}

func BenchmarkEvaluateDefaultRules(b *testing.B) {
	e, err := Default(knownPlaybooks())
	require.NoError(b, err)
	ev := plcProgrammingEvent()
	b.ReportAllocs()
	for b.Loop() {
		e.Evaluate(ev, testNow)
	}
}

package rules

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

// alertOf is a one-alert incident as incident.ParseAlertRecord makes it.
func alertOf(title, severity string) incident.Incident {
	return incident.Incident{
		ID:       "d4iot-1",
		Title:    title,
		Severity: severity,
		Alerts: []incident.Alert{{
			Title: title, Severity: severity, VendorOriginalID: "1",
			ProviderName: "IoTSecurity", SensorID: "sensor-rtm-l3",
			SourceAddress: "10.20.3.45", DestinationAddress: "10.20.3.10",
			StartTime: time.Date(2026, 11, 20, 8, 9, 0, 0, time.UTC),
		}},
		Devices: []incident.Device{plc(), engStation()},
		IPs:     []string{"10.20.3.10", "10.20.3.45"},
	}
}

func defaultEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := Default(knownPlaybooks())
	require.NoError(t, err)
	return e
}

const (
	ruleIllegal   = "Illegal Function Codes for ICS traffic (Microsoft Defender for IoT)"
	ruleFirmware  = "Firmware Updates (Microsoft Defender for IoT)"
	rulePLC       = "Unauthorized PLC changes (Microsoft Defender for IoT)"
	ruleKeyState  = "PLC unsecure key state (Microsoft Defender for IoT)"
	ruleStop      = "PLC Stop Command (Microsoft Defender for IoT)"
	ruleMalware   = "Suspicious malware found in the network (Microsoft Defender for IoT)"
	ruleScans     = "Multiple scans in the network (Microsoft Defender for IoT)"
	ruleInternet  = "Internet Access (Microsoft Defender for IoT)"
	ruleDevice    = "Unauthorized device in the network (Microsoft Defender for IoT)"
	ruleDHCP      = "Unauthorized DHCP configuration in the network (Microsoft Defender for IoT)"
	ruleLogin     = "Excessive Login Attempts (Microsoft Defender for IoT)"
	ruleBandwidth = "High bandwidth in the network (Microsoft Defender for IoT)"
	ruleDoS       = "Denial of Service (Microsoft Defender for IoT)"
	ruleRemote    = "Unauthorized remote access to the network (Microsoft Defender for IoT)"
	ruleNoTraffic = "No traffic on Sensor Detected (Microsoft Defender for IoT)"
	ruleFallback  = "One incident per alert"
)

func TestDefaultIncidentRules(t *testing.T) {
	t.Parallel()
	e := defaultEngine(t)
	tests := []struct {
		title, severity string
		rule            string
		tactic, tech    string // the rule's; empty for the fallback
		ruleID          string
	}{
		{"Function Code Not Supported by Outstation", "Medium", ruleIllegal, "ImpairProcessControl", "T0855", "70be4a31-9d2b-433b-bdc7-da8928988069"},
		{"Unauthorized Operation was detected by a User Defined whitelist Alert", "Low", ruleIllegal, "ImpairProcessControl", "T0855", ""},
		{"Slave Device Received Illegal", "High", ruleIllegal, "ImpairProcessControl", "T0855", ""},
		{"Illegal MODBUS Operation (Function Code Zero)", "Medium", ruleIllegal, "ImpairProcessControl", "T0855", ""},
		{"Firmware Change Detected", "Medium", ruleFirmware, "Persistence", "T0857", "7cad4b66-5e83-4756-8de4-f21315ab1e77"},
		{"Firmware Update", "Low", ruleFirmware, "Persistence", "T0857", ""},
		{"S7 Plus PLC Firmware Changed", "Medium", ruleFirmware, "Persistence", "T0857", ""},
		{"Beckhoff Software Changed", "Medium", ruleFirmware, "Persistence", "T0857", ""},
		{"Unauthorized PLC Programming", "High", rulePLC, "Persistence", "T0839", "c2fb27c7-5f67-49c4-aaf3-d82934234a69"},
		{"Unauthorized PLC Program Upload", "Medium", rulePLC, "Persistence", "T0839", ""},
		{"Unauthorized PLC Configuration Write", "Medium", rulePLC, "Persistence", "T0839", ""},
		{"Unauthorized PLC Configuration Read", "Low", rulePLC, "Persistence", "T0839", ""},
		{"Modbus Address Range Violation", "Medium", rulePLC, "Persistence", "T0839", ""},
		{"New Activity Detected - Read/Write Command (AMS Index Group)", "Medium", rulePLC, "Persistence", "T0839", ""},
		{"Illegal Beckhoff AMS Command", "Medium", rulePLC, "Persistence", "T0839", ""},
		{"PLC Operating Mode Changed", "Low", ruleKeyState, "Execution", "T0858", "f9df500a-e2a4-4104-a517-dc1d85bb654f"},
		{"An S7 Stop PLC Command was Sent", "Low", ruleStop, "DefenseEvasion", "T0858", "a7d3f642-15d8-4e83-99ee-83ca3352525d"},
		{"Controller Reset", "Low", ruleStop, "DefenseEvasion", "T0858", ""},
		{"Outstation Restarts Frequently", "Low", ruleStop, "DefenseEvasion", "T0858", ""},
		{"Suspicion of Malicious Activity (Stuxnet)", "High", ruleMalware, "Impact", "T0882", "6fb1acd5-356d-40f7-9b97-78d993c6a183"},
		{"Connection Attempt to Known Malicious IP", "High", ruleMalware, "Impact", "T0882", ""},
		{"Port Scan Detected", "High", ruleScans, "Discovery", "T0842", "493916d5-a094-4bfa-bdd1-d983a063ea3d"},
		{"Long Duration Address Scan Detected", "High", ruleScans, "Discovery", "T0842", ""},
		{"Internet Access Detected", "Medium", ruleInternet, "LateralMovement", "T0886", "9ff3b13b-287a-4ed0-8f6b-7e7b66cbbcbd"},
		{"External address within the network communicated with Internet", "High", ruleInternet, "LateralMovement", "T0886", ""},
		{"New Asset Detected", "Medium", ruleDevice, "Discovery", "T0842", "f4c71e55-6192-47ca-92e2-0856ae502a46"},
		{"Field Device Discovered Unexpectedly", "Medium", ruleDevice, "Discovery", "T0842", ""},
		{"Abnormal usage of MAC Addresses", "Medium", ruleDevice, "Discovery", "T0842", ""},
		{"Device Failed to Receive a Dynamic IP Address", "Medium", ruleDHCP, "Discovery", "T0842", "c52ec521-9188-4a9e-a4cd-34a3dfbc3d27"},
		{"Excessive Login Attempts", "High", ruleLogin, "ImpairProcessControl", "T0806", "f5217b4c-3f1f-4d89-b4f3-5d7581da1c1c"},
		{"Excessive Number of Sessions", "High", ruleLogin, "ImpairProcessControl", "T0806", ""},
		{"Abnormal Traffic Bandwidth Between Devices", "Low", ruleBandwidth, "Discovery", "T0842", "caa4665f-21fa-462d-bb31-92226e746c68"},
		{"ARP Spoofing", "Low", ruleBandwidth, "Discovery", "T0842", ""},
		{"Suspicion of Denial Of Service Attack", "High", ruleDoS, "InhibitResponseFunction", "T0814", "e068187a-01f5-4737-bc13-25db4027b7ea"},
		{"Unauthorized SSH Access", "Medium", ruleRemote, "InitialAccess", "T0886", "1ff4fa3d-150b-4c87-b733-26c289af0d49"},
		{"No Traffic Detected on Sensor Interface", "High", ruleNoTraffic, "InhibitResponseFunction", "T0881", "208c3f5b-3ba2-49b5-9bca-c44e58cd5fd3"},
		// The prefix Sentinel adds and the case of the title do not matter.
		{"(MDIoT) unauthorized plc programming", "High", rulePLC, "Persistence", "T0839", ""},
		// Exact-title rules take no partial titles, and terms are whole.
		{"New Asset", "Medium", ruleFallback, "", "", ""},
		{"Unauthorized SSH Access Attempt", "Medium", ruleFallback, "", "", ""},
		{"Scanner Found", "Medium", ruleFallback, "", "", ""},
		{"Device is Suspected to be Disconnected (Unresponsive)", "Medium", ruleFallback, "", "", ""},
		{"Traffic Detected on Sensor Interface", "Low", ruleFallback, "", "", ""},
		{"Some alert Interlock has never heard of", "Informational", ruleFallback, "", "", ""},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			t.Parallel()
			d := e.DecideIncident(alertOf(tt.title, tt.severity))
			require.Empty(t, d.Errors)
			require.Equal(t, tt.rule, d.Rule)
			require.True(t, d.Create)
			require.Equal(t, tt.severity, d.Severity, "the alert's severity passes through")
			require.Equal(t, incident.BareTitle(tt.title), d.Title)
			require.Empty(t, d.GroupKey)
			if tt.tactic == "" {
				require.Nil(t, d.Tactics)
				require.Nil(t, d.Techniques)
				require.Empty(t, d.AnalyticRuleID)
			} else {
				require.Equal(t, []string{tt.tactic}, d.Tactics)
				require.Equal(t, []string{tt.tech}, d.Techniques)
				require.NotEmpty(t, d.AnalyticRuleID)
			}
			if tt.ruleID != "" {
				require.Equal(t, tt.ruleID, d.AnalyticRuleID)
			}
		})
		covered[tt.rule] = true
	}
	infos := e.IncidentRules()
	require.Len(t, infos, 16)
	for _, r := range infos {
		require.True(t, covered[r.Name], "no test case lands in %q", r.Name)
		require.True(t, r.Enabled)
		require.True(t, r.Create)
		require.False(t, r.Grouped)
		require.Equal(t, "alert", r.Severity)
	}
	require.Equal(t, ruleFallback, infos[len(infos)-1].Name)
	require.Equal(t, 1000, infos[len(infos)-1].Order)
}

func TestDecideIncidentMergesTacticsAndDefaultsSeverity(t *testing.T) {
	t.Parallel()
	e := defaultEngine(t)
	a := alertOf("Unauthorized PLC Programming", "")
	a.Alerts[0].Tactics = []string{"ImpairProcessControl", "persistence"}
	a.Alerts[0].Techniques = []string{"T0839", "T0843", "T0889"}
	d := e.DecideIncident(a)
	require.Equal(t, rulePLC, d.Rule)
	require.Equal(t, "Medium", d.Severity, "an alert without severity gets Medium")
	require.Equal(t, []string{"Persistence", "ImpairProcessControl"}, d.Tactics, "the rule's first, no repeats")
	require.Equal(t, []string{"T0839", "T0843", "T0889"}, d.Techniques)

	a.Alerts[0].Severity = "high"
	require.Equal(t, "High", e.DecideIncident(a).Severity, "Sentinel's spelling")

	// The caller's and the engine's lists are never shared with the decision.
	d.Tactics[0] = "changed"
	require.Equal(t, "Persistence", e.DecideIncident(a).Tactics[0])
	require.Equal(t, "ImpairProcessControl", a.Alerts[0].Tactics[0])
}

func TestDecideIncidentWithoutAlertOrRules(t *testing.T) {
	t.Parallel()
	d := defaultEngine(t).DecideIncident(incident.Incident{Title: "(MDIoT) New Asset Detected"})
	require.False(t, d.Create)
	require.Empty(t, d.Rule)
	require.Equal(t, "New Asset Detected", d.Title)
	require.Len(t, d.Errors, 1)

	d = NewSet(nil).DecideIncident(alertOf("New Asset Detected", "Medium"))
	require.False(t, d.Create)
	require.Equal(t, []string{"no rules are loaded"}, d.Errors)

	// A file with automation rules only creates nothing: no rule matches.
	e := mustParse(t, "rules: []\n")
	d = e.DecideIncident(alertOf("New Asset Detected", "Medium"))
	require.False(t, d.Create)
	require.Empty(t, d.Rule)
	require.Empty(t, d.Errors)
	require.Equal(t, "New Asset Detected", d.Title)

	d = NewSet(defaultEngine(t)).DecideIncident(alertOf("New Asset Detected", "Medium"))
	require.Equal(t, ruleDevice, d.Rule)
}

func TestTermMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		title, phrase string
		want          bool
	}{
		{"Network Scan Detected", "Scan", true},
		{"Scan Detected", "Scan", true},
		{"Port Scan", "Scan", true},
		{"Scan", "scan", true},
		{"PORT SCAN DETECTED", "Scan", true},
		{"Scanner Found", "Scan", false},
		{"Rescan requested", "Scan", false},
		{"Port-Scan-Detected", "Scan", true},
		{"Port Scan Detected", "Port Scan", true},
		{"Port Scan Detected", "Scan Port", false},
		{"Port Scan Detected", "Port Detected", false},
		{"Port Scanner Detected", "Port Scan", false},
		{"Suspicion of Malicious Activity (Stuxnet)", "Suspicion of Malicious Activity", true},
		{"New Activity Detected - Read/Write Command (AMS Index Group)", "Read/Write Command (AMS Index Group)", true},
		{"New Activity Detected - Read Write Command AMS Index Group", "Read/Write Command (AMS Index Group)", true},
		{"New Activity Detected - CIP Class", "New Activity Detected - CIP Class Service", false},
		{"Usage of Reserved Status Flags (IIN)", "usage of reserved status flags (iin)", true},
		{"S7 Plus PLC Firmware Changed", "Firmware Changed", true},
		{"Firmware Change Detected", "Firmware Changed", false},
		{"Firmware Change Detected", "Firmware Change", true},
		{"Überwachung Scan", "Scan", true},
		{"ScanÜ", "Scan", true}, // non-ASCII separates terms
		{"", "Scan", false},
		{"Scan", "", false},
		{"Scan", "()", false},
	}
	for _, tt := range tests {
		var tb termBuf
		tb.reset(tt.title)
		require.Equal(t, tt.want, tb.hasPhrase(tt.phrase), "%q has %q (titleHas)", tt.title, tt.phrase)
		if terms := splitTerms(tt.phrase); len(terms) > 0 {
			ps := newPhraseSet([][]string{terms})
			require.Equal(t, tt.want, ps.match(&tb), "%q has %q (titlesHave)", tt.title, tt.phrase)
		}
	}
	require.Equal(t, []string{"read", "write", "command", "ams", "index", "group"}, splitTerms("Read/Write Command (AMS Index Group)"))
}

func TestIncidentRuleClauses(t *testing.T) {
	t.Parallel()
	e := mustParse(t, `incidentRules:
  - name: Lab scans are expected
    order: 1
    create: false
    titlesHave: [Scan]
    condition: siteIn(["Test Lab"])
  - name: High PLC changes
    order: 2
    titles: ["Unauthorized PLC Programming", "(MDIoT) PLC Operating Mode Changed"]
    condition: severityAtLeast("High") && hasDevice("Safety PLC")
    severity: High
    tactics: [Persistence]
    techniques: [T0839, T0889]
  - name: Disabled
    order: 3
    enabled: false
  - name: Helpers
    order: 4
    condition: 'titleIn(plcChangeTitles) || titleHas(["Scan"]) && sensorIn(["sensor-rtm-l3"])'
    severity: Low
  - name: Catch all
    order: 5
    severity: Informational
`)
	lab := alertOf("Port Scan Detected", "High")
	lab.Devices[0].Site = "Test Lab"
	d := e.DecideIncident(lab)
	require.Equal(t, "Lab scans are expected", d.Rule)
	require.False(t, d.Create, "suppressed")
	require.Equal(t, "High", d.Severity)

	d = e.DecideIncident(alertOf("Port Scan Detected", "High"))
	require.Equal(t, "Helpers", d.Rule, "the condition is false outside the lab")
	require.True(t, d.Create)
	require.Equal(t, "Low", d.Severity)

	d = e.DecideIncident(alertOf("Unauthorized PLC Programming", "High"))
	require.Equal(t, "High PLC changes", d.Rule)
	require.Equal(t, []string{"T0839", "T0889"}, d.Techniques)
	d = e.DecideIncident(alertOf("PLC Operating Mode Changed", "High"))
	require.Equal(t, "High PLC changes", d.Rule, "titles are compared without the prefix")
	d = e.DecideIncident(alertOf("Unauthorized PLC Programming", "Medium"))
	require.Equal(t, "Helpers", d.Rule, "titles and condition must both hold")
	d = e.DecideIncident(alertOf("New Asset Detected", "Low"))
	require.Equal(t, "Catch all", d.Rule, "disabled rules never match")
	require.Equal(t, "Informational", d.Severity)
}

func TestIncidentRuleConditionFailure(t *testing.T) {
	t.Parallel()
	e := mustParse(t, `incidentRules:
  - name: Broken
    order: 1
    condition: devices[5].site == "x"
  - name: Bad helper argument
    order: 2
    condition: severityAtLeast(alert.description)
  - name: Fallback
    order: 3
`)
	d := e.DecideIncident(alertOf("New Asset Detected", "Medium"))
	require.Equal(t, "Fallback", d.Rule)
	require.True(t, d.Create)
	require.Len(t, d.Errors, 2)
	require.Contains(t, d.Errors[0], `rule "Broken": `)
	require.Contains(t, d.Errors[1], `rule "Bad helper argument": severityAtLeast: unknown severity`)
}

func TestIncidentRuleGrouping(t *testing.T) {
	t.Parallel()
	e := mustParse(t, `incidentRules:
  - name: Engineering sessions
    order: 1
    titles: ["Unauthorized PLC Programming", "Unauthorized PLC Program Upload"]
    groupBy: alert.sourceAddress
    groupWindow: 8h
    title: "Engineering session from {key}"
  - name: Scans by sensor
    order: 2
    titlesHave: [Scan]
    groupBy: 'alert.protocol == "" ? "" : alert.sensorId'
  - name: Broken grouping
    order: 3
    titles: ["New Asset Detected"]
    groupBy: devices[7].name
`)
	at := func(title, source string, start time.Time) incident.Incident {
		a := alertOf(title, "High")
		a.Alerts[0].SourceAddress = source
		a.Alerts[0].StartTime = start
		return a
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	first := e.DecideIncident(at("Unauthorized PLC Programming", "10.20.3.45", day.Add(9*time.Hour)))
	second := e.DecideIncident(at("Unauthorized PLC Program Upload", "10.20.3.45", day.Add(15*time.Hour+59*time.Minute)))
	later := e.DecideIncident(at("Unauthorized PLC Programming", "10.20.3.45", day.Add(16*time.Hour)))
	other := e.DecideIncident(at("Unauthorized PLC Programming", "10.20.3.46", day.Add(10*time.Hour)))
	require.True(t, first.Create)
	require.Empty(t, first.Errors)
	require.Regexp(t, `^engineering-sessions/[0-9a-f]{16}/[0-9]+$`, first.GroupKey)
	require.Equal(t, fmt.Sprintf("engineering-sessions/%s/%d", first.GroupKey[21:37], day.Add(8*time.Hour).Unix()), first.GroupKey, "windows are aligned to the epoch")
	require.Equal(t, first.GroupKey, second.GroupKey, "same source, same window")
	require.NotEqual(t, first.GroupKey, later.GroupKey, "next window")
	require.Equal(t, first.GroupKey[:37], later.GroupKey[:37], "same key hash")
	require.NotEqual(t, first.GroupKey[:37], other.GroupKey[:37], "another source")
	require.Equal(t, "10.20.3.45", first.GroupLabel)
	require.Equal(t, "Engineering session from 10.20.3.45", first.Title)

	// Without startTime the window uses timeGenerated; with neither the alert is not grouped.
	noStart := at("Unauthorized PLC Programming", "10.20.3.45", time.Time{})
	noStart.Alerts[0].TimeGenerated = day.Add(10 * time.Hour)
	require.Equal(t, first.GroupKey, e.DecideIncident(noStart).GroupKey)
	noStart.Alerts[0].TimeGenerated = time.Time{}
	d := e.DecideIncident(noStart)
	require.True(t, d.Create)
	require.Empty(t, d.GroupKey)
	require.Equal(t, "Unauthorized PLC Programming", d.Title, "ungrouped: titled after the alert")
	require.Len(t, d.Errors, 1)
	require.Contains(t, d.Errors[0], "no startTime or timeGenerated")

	// No window: any time joins.
	scan := at("Port Scan Detected", "10.1.1.1", day)
	scan.Alerts[0].Protocol = "TCP"
	s1 := e.DecideIncident(scan)
	scan.Alerts[0].StartTime = day.AddDate(0, 1, 0)
	scan.Alerts[0].SourceAddress = "10.9.9.9"
	s2 := e.DecideIncident(scan)
	require.Regexp(t, `^scans-by-sensor/[0-9a-f]{16}$`, s1.GroupKey)
	require.Equal(t, s1.GroupKey, s2.GroupKey)
	require.Equal(t, "Scans by sensor", s1.Title, "grouped default title: the rule name")
	require.Equal(t, "sensor-rtm-l3", s1.GroupLabel)
	scan.Alerts[0].SensorID = "sensor-other"
	require.NotEqual(t, s1.GroupKey, e.DecideIncident(scan).GroupKey)
	// An empty key: no grouping for that alert.
	scan.Alerts[0].Protocol = ""
	d = e.DecideIncident(scan)
	require.True(t, d.Create)
	require.Empty(t, d.GroupKey)
	require.Empty(t, d.Errors)
	require.Equal(t, "Port Scan Detected", d.Title)

	// A failing groupBy: the rule matched, the alert gets an incident of its own.
	d = e.DecideIncident(at("New Asset Detected", "10.1.1.1", day))
	require.Equal(t, "Broken grouping", d.Rule)
	require.True(t, d.Create)
	require.Empty(t, d.GroupKey)
	require.Len(t, d.Errors, 1)
	require.Contains(t, d.Errors[0], `rule "Broken grouping": groupBy: `)

	info := e.IncidentRules()
	require.True(t, info[0].Grouped)
	require.Equal(t, 8*time.Hour, info[0].GroupWindow)
	require.Equal(t, "alert.sourceAddress", info[0].GroupBy)
}

func TestWindowStart(t *testing.T) {
	t.Parallel()
	h := time.Hour
	require.Equal(t, int64(0), windowStart(time.Unix(3599, 0), h))
	require.Equal(t, int64(3600), windowStart(time.Unix(3600, 0), h))
	require.Equal(t, int64(-3600), windowStart(time.Unix(-1, 0), h))
}

func TestDisplayKeyAndSlug(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a b", displayKey("a\n\t b"))
	require.Equal(t, "PLC-01 x", displayKey("PLC-\u200b01\u202e\x1bx"))
	long := strings.Repeat("é", 300)
	require.Equal(t, strings.Repeat("é", maxGroupLabel-1)+"…", displayKey(long))
	require.Equal(t, "unauthorized-plc-changes", slug("Unauthorized PLC changes"))
	require.Equal(t, "plc-reprogramming-engineers", slug("PLC reprogramming → engineers"))
	require.Regexp(t, `^rule-[0-9a-f]{8}$`, slug("→ ←"))
	s1 := slug("Unauthorized PLC changes (Microsoft Defender for IoT) at site A")
	s2 := slug("Unauthorized PLC changes (Microsoft Defender for IoT) at site B")
	require.LessOrEqual(t, len(s1), maxSlugLen)
	require.NotEqual(t, s1, s2, "long names differ by their hash")
}

// oneIncidentRule builds a one-rule incidentRules file: "key: value" replaces or adds a line, "-key" drops it.
func oneIncidentRule(lines ...string) string {
	keys := []string{"name", "order"}
	base := map[string]string{"name": "name: Test rule", "order": "order: 10"}
	var extra []string
	for _, l := range lines {
		switch key := strings.SplitN(l, ":", 2)[0]; {
		case strings.HasPrefix(l, "-"):
			delete(base, l[1:])
		case base[key] != "":
			base[key] = l
		default:
			extra = append(extra, l)
		}
	}
	var out []string
	for _, k := range keys {
		if l, ok := base[k]; ok {
			out = append(out, l)
		}
	}
	return "incidentRules:\n  - " + strings.Join(append(out, extra...), "\n    ") + "\n"
}

func TestParseRefusesInvalidIncidentRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"top-level typo", "incidentRule: []\n", []string{`unknown top-level key "incidentRule"`, "did you mean incidentRules?"}},
		{"not a list", "incidentRules: {a: 1}\n", []string{"incidentRules: want a list of rules"}},
		{"rule not a mapping", "incidentRules: [x]\n", []string{"incident rule 1:", "want a mapping"}},
		{"name missing", oneIncidentRule("-name"), []string{"incident rule 1:", "name: missing"}},
		{"order missing", oneIncidentRule("-order"), []string{`incident rule 1 "Test rule"`, "order: missing"}},
		{"order out of range", oneIncidentRule("order: 1001"), []string{"order: 1001 is out of range"}},
		{"unknown key", oneIncidentRule("titlesHas: [Scan]"), []string{`unknown key "titlesHas"`, "did you mean titlesHave?"}},
		{"unknown key case", oneIncidentRule("GroupBy: alert.sensorId"), []string{`unknown key "GroupBy"`, "did you mean groupBy?"}},
		{"enabled not bool", oneIncidentRule("enabled: maybe"), []string{`enabled: want true or false, got "maybe"`}},
		{"create not bool", oneIncidentRule("create: no way"), []string{`create: want true or false`}},
		{"bad severity", oneIncidentRule("severity: Critical"), []string{`severity: "Critical" is not one of alert, High, Medium, Low, Informational`}},
		{"severity case", oneIncidentRule("severity: high"), []string{"did you mean High?"}},
		{"bad tactic", oneIncidentRule("tactics: [Impair Process Control]"), []string{`tactics: "Impair Process Control" is not a tactic`}},
		{"tactic case", oneIncidentRule("tactics: [persistence]"), []string{"did you mean Persistence?"}},
		{"bad technique", oneIncidentRule("techniques: [T839]"), []string{`techniques: "T839" is not a MITRE ATT&CK technique ID`}},
		{"technique twice", oneIncidentRule("techniques: [T0839, T0839]"), []string{`"T0839" is listed twice`}},
		{"empty titles", oneIncidentRule("titles: []"), []string{"titles: empty list"}},
		{"title twice", oneIncidentRule(`titles: ["New Asset Detected", "(MDIoT) new asset detected"]`), []string{"is listed twice"}},
		{"phrase without terms", oneIncidentRule(`titlesHave: ["--"]`), []string{`titlesHave: "--" has no letters or digits`}},
		{"phrase twice", oneIncidentRule(`titlesHave: ["Port Scan", "port-scan"]`), []string{"titlesHave: \"port-scan\" is listed twice"}},
		{"empty title item", oneIncidentRule(`titles: [""]`), []string{"titles: want text"}},
		{"condition syntax", oneIncidentRule(`condition: alert.severity ==`), []string{"condition:"}},
		{"condition automation variable", oneIncidentRule(`condition: incident.severity == "High"`), []string{"unknown name incident"}},
		{"condition not bool", oneIncidentRule(`condition: alert.severity`), []string{"expected bool"}},
		{"condition now disabled", oneIncidentRule(`condition: now() > alert.startTime`), []string{"unknown name now"}},
		{"condition bad severity", oneIncidentRule(`condition: severityAtLeast("Critical")`), []string{`severityAtLeast: unknown severity "Critical"`}},
		{"condition titleHas without terms", oneIncidentRule(`condition: titleHas(["Scan", "()"])`), []string{`titleHas: "()" has no letters or digits`}},
		{"condition titleIn ints", oneIncidentRule(`condition: titleIn([1])`), []string{"titleIn: list items must be strings"}},
		{"groupBy not a string", oneIncidentRule(`groupBy: alert.isNew`), []string{"groupBy:", "expected string"}},
		{"groupBy empty", oneIncidentRule(`groupBy: ""`), []string{"groupBy: empty"}},
		{"groupWindow without groupBy", oneIncidentRule("groupWindow: 8h"), []string{"groupWindow: only means something with groupBy"}},
		{"title without groupBy", oneIncidentRule("title: Session"), []string{"title: only with groupBy"}},
		{"bad window", oneIncidentRule("groupBy: alert.sourceAddress", "groupWindow: a while"), []string{`groupWindow: want a duration like 30m or 8h, got "a while"`}},
		{"window too short", oneIncidentRule("groupBy: alert.sourceAddress", "groupWindow: 500ms"), []string{"groupWindow: 500ms is out of range"}},
		{"groupBy on suppression", oneIncidentRule("groupBy: alert.sourceAddress", "create: false"), []string{"groupBy: a rule with create: false"}},
		{"bad analytic rule id", oneIncidentRule("analyticRuleId: two words"), []string{"analyticRuleId: want one word"}},
		{"duplicate name", oneIncidentRule() + "  - name: test RULE\n    order: 2\n", []string{`incident rule 2 "test RULE"`, "already the name of incident rule 1"}},
		{"same slug", oneIncidentRule() + "  - name: Test-rule\n    order: 2\n", []string{"give the same group key prefix \"test-rule\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.src), "site-rules.yaml", knownPlaybooks())
			require.Error(t, err)
			var fe *FileError
			require.True(t, errors.As(err, &fe), "%T", err)
			msg := err.Error()
			for _, w := range tt.want {
				require.Contains(t, msg, w)
			}
		})
	}
}

func TestParseIncidentRulesReportsEveryProblem(t *testing.T) {
	t.Parallel()
	src := `rules:
  - name: First
    order: 0
    trigger: created
    actions: [runPlaybook: Other]
incidentRules:
  - name: First
    order: 1
    severity: Critical
  - name: Second
    order: 2
    groupWindow: 1h
`
	_, err := Parse([]byte(src), "rules.yaml", knownPlaybooks())
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	require.Len(t, fe.Problems, 3)
	require.Equal(t, Problem{Rule: "First", Index: 1, Line: 3, Msg: fe.Problems[0].Msg}, fe.Problems[0])
	require.Equal(t, sectionIncident, fe.Problems[1].Section)
	require.Equal(t, 9, fe.Problems[1].Line)
	require.Equal(t, 12, fe.Problems[2].Line)
	msg := err.Error()
	require.Contains(t, msg, `rules.yaml:9: incident rule 1 "First": severity:`)
	require.Contains(t, msg, `rules.yaml:12: incident rule 2 "Second": groupWindow:`)
}

func TestParseAcceptsIncidentRulesAlone(t *testing.T) {
	t.Parallel()
	e := mustParse(t, "incidentRules:\n  - {name: b, order: 5}\n  - {name: a, order: 5, create: false}\n  - {name: c, order: 1, titles: Port Scan Detected}\n")
	require.Zero(t, e.Len())
	var names []string
	for _, r := range e.IncidentRules() {
		names = append(names, r.Name)
	}
	require.Equal(t, []string{"c", "a", "b"}, names, "order, then name")
	require.Equal(t, "c", e.DecideIncident(alertOf("port scan detected", "Low")).Rule)
	require.Equal(t, "a", e.DecideIncident(alertOf("Anything", "Low")).Rule)

	_, err := Parse([]byte("other: 1\n"), "x.yaml", nil)
	require.ErrorContains(t, err, `want "rules" or "incidentRules"`)
	e = mustParse(t, "incidentRules:\n")
	require.Empty(t, e.IncidentRules())
}

func TestDecideIncidentConcurrently(t *testing.T) {
	t.Parallel()
	e := defaultEngine(t)
	titles := []string{"Unauthorized PLC Programming", "New Asset Detected", "Port Scan Detected", "Nothing known"}
	want := []string{rulePLC, ruleDevice, ruleScans, ruleFallback}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := (g + i) % len(titles)
				if d := e.DecideIncident(alertOf(titles[k], "High")); d.Rule != want[k] {
					t.Errorf("%q: got rule %q, want %q", titles[k], d.Rule, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestExplainIncidentAndCheck(t *testing.T) {
	t.Parallel()
	e := defaultEngine(t)
	var b strings.Builder
	d := ExplainIncident(&b, e, alertOf("(MDIoT) Unauthorized PLC Programming", "High"))
	require.Equal(t, rulePLC, d.Rule)
	out := b.String()
	for _, want := range []string{
		"Incident creation dry run of " + DefaultRulesFile + " (16 incident rules)\n",
		`Alert: "(MDIoT) Unauthorized PLC Programming"; severity High`,
		"  · [10] " + ruleDevice + ": not matched (title)\n",
		"  ✓ [100] " + rulePLC + ": matched\n",
		"  create:     yes\n",
		"  title:      Unauthorized PLC Programming\n",
		"  severity:   High\n",
		"  tactics:    Persistence\n",
		"  techniques: T0839\n",
		"  group key:  (none: an incident of its own)\n",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, ruleIllegal, "rules after the first match do not run")

	b.Reset()
	Check(&b, e)
	out = b.String()
	require.Contains(t, out, DefaultRulesFile+": 16 incident rules, 16 enabled")
	require.Contains(t, out, "  [1000] One incident per alert  (line ")
	require.Contains(t, out, "        when  (every alert)\n")
	require.Contains(t, out, "        when  60 title phrases\n")
	require.Contains(t, out, "        then  severity the alert's; tactics Persistence; techniques T0839\n")
}

// TestAlertEnvironmentDocIsComplete keeps the doc in step with what incident rules can use.
func TestAlertEnvironmentDocIsComplete(t *testing.T) {
	t.Parallel()
	docGo, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	pkgDoc := string(docGo[:strings.Index(string(docGo), "package rules")])
	for f := range reflect.TypeFor[alertEnv]().Fields() {
		name := f.Tag.Get("expr")
		require.NotEmpty(t, name)
		require.Contains(t, EnvironmentDoc(), name)
		require.Contains(t, pkgDoc, name)
	}
	for _, key := range incidentRuleKeys {
		require.Contains(t, pkgDoc, key+":")
		require.Contains(t, string(DefaultRules())+pkgDoc, key)
	}
}

func BenchmarkDecideIncidentDefaultRules(b *testing.B) {
	e := defaultEngine(b)
	// Titles that land early, late (list A, after 14 rules) and in the fallback.
	alerts := []incident.Incident{
		alertOf("(MDIoT) New Asset Detected", "Medium"),
		alertOf("(MDIoT) Unauthorized PLC Programming", "High"),
		alertOf("(MDIoT) Unpermitted Usage of ASDU Types", "Medium"),
		alertOf("(MDIoT) Usage of Reserved Status Flags (IIN)", "Medium"),
		alertOf("(MDIoT) Something else entirely", "Low"),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.DecideIncident(alerts[i%len(alerts)])
		i++
	}
}

func BenchmarkDecideIncidentGrouped(b *testing.B) {
	e := mustParse(b, `incidentRules:
  - name: Sessions
    order: 1
    titlesHave: [PLC]
    condition: hasDevice("PLC") && alert.severity != "Low"
    groupBy: alert.sourceAddress
    groupWindow: 8h
    title: "Session from {key}"
`)
	a := alertOf("Unauthorized PLC Programming", "High")
	b.ReportAllocs()
	for b.Loop() {
		e.DecideIncident(a)
	}
}

package rules

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
)

// condEngine compiles one always-triggered rule with the condition.
func condEngine(t *testing.T, cond string) *Engine {
	t.Helper()
	src := "rules:\n  - name: r\n    order: 1\n    trigger: [created, updated]\n    condition: '" + strings.ReplaceAll(cond, "'", "''") + "'\n    actions: [runPlaybook: Other]\n"
	return mustParse(t, src)
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	withLabels := func(ev incident.Event, labels ...string) incident.Event {
		ev.Incident.Labels = labels
		return ev
	}
	noAlerts := newAssetEvent()
	noAlerts.Incident.Alerts = nil

	// An update of the PLC incident: Active → Closed, Medium → High, owner and tags changed, an alert
	// added, tactics reordered.
	prev := plcProgrammingEvent().Incident
	prev.Status, prev.Severity = "Active", "Medium"
	prev.Owner = incident.Owner{Email: "bob@example.com", UserPrincipalName: "bob@example.com"}
	prev.Labels = []string{"ot"}
	prev.Tactics = []string{"Persistence", "ImpairProcessControl"}
	cur := plcProgrammingEvent()
	cur.Incident.Status = "Closed"
	cur.Incident.Owner = incident.Owner{Email: "alice@example.com"}
	cur.Incident.Labels = []string{"ot", "plc"}
	cur.Incident.Alerts = append(cur.Incident.Alerts, incident.Alert{ID: "second", Title: "(MDIoT) Firmware Change Detected"})
	update := updateOf(cur, &prev)

	same := plcProgrammingEvent().Incident
	same.Labels = []string{"b", "A"}
	unchanged := updateOf(withLabels(plcProgrammingEvent(), "a", "B"), &same)

	tests := []struct {
		name    string
		cond    string
		ev      incident.Event
		want    bool
		wantErr string
	}{
		{"title matches without the MDIoT prefix", `anyAlertTitle(["New Asset Detected"])`, newAssetEvent(), true, ""},
		{"title compares case-insensitively", `anyAlertTitle(["new asset DETECTED"])`, newAssetEvent(), true, ""},
		{"title prefix in the argument is ignored too", `anyAlertTitle(["(MDIoT) New Asset Detected"])`, newAssetEvent(), true, ""},
		{"title as one string", `anyAlertTitle("New Asset Detected")`, newAssetEvent(), true, ""},
		{"title is not a substring match", `anyAlertTitle(["New Asset"])`, newAssetEvent(), false, ""},
		{"plcChangeTitles does not hold new asset", `anyAlertTitle(plcChangeTitles)`, newAssetEvent(), false, ""},
		{"plcChangeTitles holds PLC programming", `anyAlertTitle(plcChangeTitles)`, plcProgrammingEvent(), true, ""},
		{"second alert counts", `anyAlertTitle(["Firmware Change Detected"])`, update, true, ""},
		{"no alerts: the incident title stands in", `anyAlertTitle(["New Asset Detected"])`, noAlerts, true, ""},
		{"computed list", `anyAlertTitle([incident.title])`, newAssetEvent(), true, ""},
		{"computed list of non-strings fails at run time", `anyAlertTitle([incident.number])`, newAssetEvent(), false, "anyAlertTitle: list items must be strings, got int"},
		{"empty list", `anyAlertTitle([])`, newAssetEvent(), false, ""},

		{"category", `anyAlertCategory(["programming"])`, plcProgrammingEvent(), true, ""},
		{"other category", `anyAlertCategory(["Discovery", "Scan"])`, plcProgrammingEvent(), false, ""},

		{"device type", `hasDevice("Engineering Station")`, plcProgrammingEvent(), true, ""},
		{"device subtype, any case", `hasDevice("safety plc")`, plcProgrammingEvent(), true, ""},
		{"no such device", `hasDevice("HMI")`, plcProgrammingEvent(), false, ""},
		{"new asset has no PLC", `hasDevice("PLC")`, newAssetEvent(), false, ""},

		{"sensor", `sensorIn(["sensor-rtm-l3", "other"])`, plcProgrammingEvent(), true, ""},
		{"other sensor", `sensorIn(["sensor-ham-l1"])`, plcProgrammingEvent(), false, ""},
		{"site", `siteIn(["rotterdam plant"])`, newAssetEvent(), true, ""},
		{"other site", `siteIn(["Hamburg"])`, newAssetEvent(), false, ""},

		{"severity at least High", `severityAtLeast("High")`, plcProgrammingEvent(), true, ""},
		{"Medium is not at least High", `severityAtLeast("High")`, newAssetEvent(), false, ""},
		{"Medium is at least Low", `severityAtLeast("low")`, newAssetEvent(), true, ""},
		{"unknown severity at run time", `severityAtLeast(incident.status)`, newAssetEvent(), false, `severityAtLeast: unknown severity "New"`},

		{"label", `hasLabel("OT")`, withLabels(newAssetEvent(), "ot"), true, ""},
		{"no label", `hasLabel("ot")`, newAssetEvent(), false, ""},

		{"changed status", `changed("status")`, update, true, ""},
		{"changed severity", `changed("severity")`, update, true, ""},
		{"changed owner", `changed("owner")`, update, true, ""},
		{"changed labels", `changed("labels")`, update, true, ""},
		{"changed alerts", `changed("alerts")`, update, true, ""},
		{"reordered tactics are unchanged", `changed("tactics")`, update, false, ""},
		{"unchanged title", `changed("title")`, update, false, ""},
		{"labels compare as sets", `changed("labels")`, unchanged, false, ""},
		{"status unchanged", `changed("status")`, unchanged, false, ""},
		{"without previous nothing changed", `changed("status") || changed("labels") || changed("owner")`, plcProgrammingEvent(), false, ""},
		{"unknown property at run time", `changed(incident.title)`, update, false, `changed: unknown property "(MDIoT) Unauthorized PLC Programming"`},
		{"changed to Closed", `changedTo("status", "Closed")`, update, true, ""},
		{"changed to, other value", `changedTo("status", "Active")`, update, false, ""},
		{"changed to without change", `changedTo("status", "New")`, unchanged, false, ""},
		{"changed to without previous", `changedTo("status", "New")`, plcProgrammingEvent(), false, ""},
		{"changed from Medium", `changedFrom("severity", "medium")`, update, true, ""},
		{"changed from, other value", `changedFrom("severity", "Low")`, update, false, ""},
		{"owner changed to", `changedTo("owner", "alice@example.com") && changedFrom("owner", "bob@example.com")`, update, true, ""},

		{"variables: previous", `previous != nil && previous.status == "Active" && incident.status == "Closed"`, update, true, ""},
		{"variables: event and trigger", `event.type == "Update" && trigger == "updated" && event.id == "e2b1f7c4-4318-4d0e-8f3a-1b2c3d4e5f60"`, update, true, ""},
		{"variables: ips and entities", `"10.20.3.45" in ips && any(entities, .kind == "Ip" && .address == "10.20.3.10") && any(entities, .kind == "IoTDevice" && .name == "PLC-L3-01")`, plcProgrammingEvent(), true, ""},
		{"variables: devices", `any(devices, .type == "PLC" && .importance == "High" && "Profinet" in .protocols) && devices[1].displayName == "ENG-WS-07"`, plcProgrammingEvent(), true, ""},
		{"variables: alerts", `alerts[0].bareTitle == "Unauthorized PLC Programming" && alerts[0].destinationDevice == "PLC-L3-01" && alerts[0].isNew`, plcProgrammingEvent(), true, ""},
		{"variables: incident", `incident.number == 4318 && incident.owner.email == "" && "T0839" in incident.techniques && incident.workspace == "law-soc-prod"`, plcProgrammingEvent(), true, ""},
		{"variables: plcChangeTitles", `len(plcChangeTitles) == 8 && "Beckhoff Software Changed" in plcChangeTitles`, newAssetEvent(), true, ""},
		{"unguarded previous fails on create", `previous.status == "New"`, plcProgrammingEvent(), false, "previous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := condEngine(t, tt.cond).Evaluate(tt.ev, testNow)
			if tt.wantErr != "" {
				require.Len(t, res.Errors, 1)
				require.Contains(t, res.Errors[0], tt.wantErr)
				require.Contains(t, res.Errors[0], `rule "r": `)
				require.Empty(t, res.Matches)
				return
			}
			require.Empty(t, res.Errors)
			require.Equal(t, tt.want, len(res.Matches) == 1)
		})
	}
}

func TestPLCChangeTitles(t *testing.T) {
	t.Parallel()
	titles := PLCChangeTitles()
	require.Equal(t, []string{
		"Unauthorized PLC Programming", "Unauthorized PLC Program Upload", "Unauthorized PLC Configuration Write",
		"PLC Operating Mode Changed", "Firmware Change Detected", "Firmware Version Changed",
		"S7 Plus PLC Firmware Changed", "Beckhoff Software Changed",
	}, titles)
	titles[0] = "changed by a caller"
	require.Equal(t, "Unauthorized PLC Programming", PLCChangeTitles()[0], "callers get a copy")
	for _, title := range titles[1:] {
		require.Contains(t, EnvironmentDoc(), `"`+title+`"`)
	}
}

// TestEnvironmentDocIsComplete keeps EnvironmentDoc and doc.go in step with what conditions can use.
func TestEnvironmentDocIsComplete(t *testing.T) {
	t.Parallel()
	docGo, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	pkgDoc := string(docGo[:strings.Index(string(docGo), "package rules")])
	var names []string
	var walk func(reflect.Type)
	walk = func(tp reflect.Type) {
		for tp.Kind() == reflect.Pointer || tp.Kind() == reflect.Slice {
			tp = tp.Elem()
		}
		if tp.Kind() != reflect.Struct || tp.PkgPath() != reflect.TypeFor[env]().PkgPath() {
			return
		}
		for f := range tp.Fields() {
			names = append(names, f.Tag.Get("expr"))
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[env]())
	require.Greater(t, len(names), 80)
	for _, name := range names {
		require.NotEmpty(t, name)
		require.Contains(t, EnvironmentDoc(), name)
		require.Contains(t, pkgDoc, name)
	}
}

package rules

// The helpers conditions call, bound into env by newEvaluator.

import (
	"fmt"
	"strings"

	"github.com/interlock-soar/interlock/internal/incident"
)

// anyString calls match for each string in a condition's list argument and reports whether one matched.
// A wrong argument type panics with an error; the expr VM turns that into the rule's run-time error.
func anyString(fn string, list any, match func(string) bool) bool {
	switch l := list.(type) {
	case []string:
		for _, s := range l {
			if match(s) {
				return true
			}
		}
	case []any:
		for _, it := range l {
			s, ok := it.(string)
			if !ok {
				panic(fmt.Errorf("%s: list items must be strings, got %T", fn, it))
			}
			if match(s) {
				return true
			}
		}
	case string:
		return match(l)
	case nil:
	default:
		panic(fmt.Errorf("%s wants a list of strings, got %T", fn, list))
	}
	return false
}

func (st *evaluator) anyAlertTitle(list any) bool {
	return anyString("anyAlertTitle", list, func(want string) bool {
		want = incident.BareTitle(want)
		for _, t := range st.bareTitles {
			if strings.EqualFold(t, want) {
				return true
			}
		}
		return false
	})
}

func (st *evaluator) anyAlertCategory(list any) bool {
	return anyString("anyAlertCategory", list, func(want string) bool {
		want = strings.TrimSpace(want)
		for i := range st.inc.Alerts {
			if strings.EqualFold(st.inc.Alerts[i].Category, want) {
				return true
			}
		}
		return false
	})
}

func (st *evaluator) sensorIn(list any) bool {
	return anyString("sensorIn", list, func(want string) bool {
		for i := range st.inc.Alerts {
			if strings.EqualFold(st.inc.Alerts[i].SensorID, want) {
				return true
			}
		}
		for i := range st.inc.Devices {
			if strings.EqualFold(st.inc.Devices[i].Sensor, want) {
				return true
			}
		}
		return false
	})
}

func (st *evaluator) siteIn(list any) bool {
	return anyString("siteIn", list, func(want string) bool {
		for i := range st.inc.Devices {
			if strings.EqualFold(st.inc.Devices[i].Site, want) {
				return true
			}
		}
		return false
	})
}

func (st *evaluator) hasDevice(kind string) bool {
	kind = strings.TrimSpace(kind)
	for i := range st.inc.Devices {
		d := &st.inc.Devices[i]
		if strings.EqualFold(d.Type, kind) || strings.EqualFold(d.SubType, kind) {
			return true
		}
	}
	return false
}

func (st *evaluator) severityAtLeast(sev string) bool {
	want := incident.SeverityRank(sev)
	if want == 0 {
		panic(fmt.Errorf("severityAtLeast: unknown severity %q (want %s)", sev, strings.Join(severities, ", ")))
	}
	return incident.SeverityRank(st.inc.Severity) >= want
}

func (st *evaluator) hasLabel(label string) bool {
	return containsFold(st.inc.Labels, strings.TrimSpace(label))
}

// changed compares the incident as the rules see it now (the update plus earlier rules' changes) with
// the event's previous state. Without a previous state nothing is known to have changed.
func (st *evaluator) changed(field string) bool {
	if st.prev == nil {
		if !isChangeField(field) {
			panic(fmt.Errorf("changed: unknown property %q (want %s)", field, strings.Join(changeFields, ", ")))
		}
		return false
	}
	cur, prev := &st.inc, st.prev
	switch field {
	case "status":
		return !strings.EqualFold(cur.Status, prev.Status)
	case "severity":
		return !strings.EqualFold(cur.Severity, prev.Severity)
	case "owner":
		return !sameOwner(&cur.Owner, &prev.Owner)
	case "labels":
		return !sameSetFold(cur.Labels, prev.Labels)
	case "tactics":
		return !sameSetFold(cur.Tactics, prev.Tactics)
	case "title":
		return cur.Title != prev.Title
	case "description":
		return cur.Description != prev.Description
	case "alerts":
		return !sameAlerts(cur.Alerts, prev.Alerts)
	}
	panic(fmt.Errorf("changed: unknown property %q (want %s)", field, strings.Join(changeFields, ", ")))
}

func sameAlerts(a, b []incident.Alert) bool {
	has := func(list []incident.Alert, x *incident.Alert) bool {
		for i := range list {
			if alertKey(&list[i]) == alertKey(x) {
				return true
			}
		}
		return false
	}
	for i := range a {
		if !has(b, &a[i]) {
			return false
		}
	}
	for i := range b {
		if !has(a, &b[i]) {
			return false
		}
	}
	return true
}

func alertKey(a *incident.Alert) string {
	if a.ID != "" {
		return a.ID
	}
	return a.Title
}

func (st *evaluator) changedTo(field, value string) bool {
	return st.changedValue("changedTo", field, value, &st.inc)
}

func (st *evaluator) changedFrom(field, value string) bool {
	return st.changedValue("changedFrom", field, value, st.prev)
}

func (st *evaluator) changedValue(fn, field, value string, side *incident.Incident) bool {
	if !isValueChangeField(field) {
		panic(fmt.Errorf("%s: unknown property %q (want %s)", fn, field, strings.Join(valueChangeFields, ", ")))
	}
	if st.prev == nil || !st.changed(field) {
		return false
	}
	value = strings.TrimSpace(value)
	switch field {
	case "status":
		return strings.EqualFold(side.Status, value)
	case "severity":
		return strings.EqualFold(side.Severity, value)
	default: // owner
		return ownerIs(&side.Owner, value)
	}
}

package incident

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// alert maps the properties of a Sentinel SecurityAlert entity.
func (d *decoder) alert(w *alertWire, p *path) Alert {
	title := d.str(&w.AlertDisplayName, p, "alertDisplayName")
	if title == "" {
		title = d.str(&w.FriendlyName, p, "friendlyName")
	}
	a := Alert{
		ID:               d.str(&w.SystemAlertID, p, "systemAlertId"),
		Title:            title,
		Description:      d.str(&w.Description, p, "description"),
		Severity:         canonical(d.str(&w.Severity, p, "severity"), severities[:]),
		Status:           canonical(d.str(&w.Status, p, "status"), alertStatuses[:]),
		VendorOriginalID: d.str(&w.VendorOriginalID, p, "vendorOriginalId"),
		ProviderName:     d.str(&w.ProviderName, p, "providerName"),
		ProductName:      d.str(&w.ProductName, p, "productName"),
		Engine:           d.str(&w.ProductComponentName, p, "productComponentName"),
		AlertType:        d.str(&w.AlertType, p, "alertType"),
		StartTime:        d.timestamp(&w.StartTimeUtc, p, "startTimeUtc"),
		EndTime:          d.timestamp(&w.EndTimeUtc, p, "endTimeUtc"),
		TimeGenerated:    d.timestamp(&w.TimeGenerated, p, "timeGenerated"),
		Tactics:          d.strs(&w.Tactics, p, "tactics", ","),
		Techniques:       d.strs(&w.Techniques, p, "techniques", ","),
		RemediationSteps: d.remediationSteps(&w.RemediationSteps, p, "remediationSteps"),
		Link:             d.str(&w.AlertLink, p, "alertLink"),
	}
	var ext extendedWire
	if ap, ok := d.object(&w.AdditionalData, p, "additionalData", &ext); ok {
		d.extendedProperties(&a, &ext, &ap)
	}
	return a
}

// remediationSteps reads an array of steps, a JSON string holding one (as in SecurityAlert), or plain
// text, which is one step.
func (d *decoder) remediationSteps(v *value, p *path, key string) []string {
	if !v.set {
		return nil
	}
	if v.kind == kindString && strings.HasPrefix(strings.TrimSpace(v.s), "[") {
		arr, ap := d.nested(v, p, key, kindArray)
		if arr == nil {
			return nil
		}
		return d.strList(arr, &ap, "")
	}
	sub := memberPath(p, key, v)
	return d.strList(v, &sub, "")
}

// extendedProperties maps a Defender for IoT alert's extended properties: an alert entity's additionalData
// in a trigger body, ExtendedProperties in a SecurityAlert record. Values the analytics rule exported as
// custom details stand in for keys that are missing.
func (d *decoder) extendedProperties(a *Alert, w *extendedWire, p *path) {
	a.SensorID = d.str(&w.SensorID, p, "SensorId")
	a.SourceAddress = d.str(&w.SourceDeviceAddress, p, "SourceDeviceAddress")
	a.DestinationAddress = d.str(&w.DestinationDeviceAddress, p, "DestinationDeviceAddress")
	a.DestinationDevice = d.str(&w.DestinationDevice, p, "DestinationDevice")
	a.Protocol = d.str(&w.Protocol, p, "Protocol")
	a.Category = d.str(&w.Category, p, "Category")
	a.CompromisedEntityID = d.str(&w.CompromisedEntityID, p, "CompromisedEntityId")
	a.ManagementURI = d.str(&w.AlertManagementURI, p, "AlertManagementUri")
	if v, ok := d.boolean(&w.IsNew, p, "isNew"); ok {
		a.IsNew = v
	}
	if cd, cp := d.nested(&w.CustomDetails, p, "Custom Details", kindObject); cd != nil {
		details := objectMembers(cd.raw)
		a.CustomDetails = d.customDetails(details, &cp)
		fill := func(dst *string, keys ...string) {
			for _, k := range keys {
				if *dst != "" {
					return
				}
				if m := details.get(k); m != nil {
					*dst = firstValue(&m.val)
				}
			}
		}
		fill(&a.SensorID, "Sensor", "SensorId")
		fill(&a.Protocol, "Protocol")
		fill(&a.VendorOriginalID, "VendorOriginalId")
		fill(&a.ManagementURI, "AlertManagementUri")
		fill(&a.SourceAddress, "SourceDeviceAddress")
		fill(&a.DestinationAddress, "DestinationDeviceAddress", "DestDeviceAddress")
	}
	// The analytics rules export the sensor as "Sensor: DeviceId": in a D4IoT alert DeviceId names the
	// sensor that raised it.
	if a.SensorID == "" {
		a.SensorID = d.str(&w.DeviceID, p, "DeviceId")
	}
}

// member is one key and value of an object whose keys are data (custom details), in document order.
type member struct {
	key string
	val value
}

type members []member

// objectMembers decodes the members of a JSON object, which must be valid, in document order.
func objectMembers(raw []byte) members {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var out members
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return out
		}
		m := member{key: keyText(raw, dec.InputOffset())}
		if err := dec.Decode(&m.val); err != nil {
			return out
		}
		out = append(out, m)
	}
	return out
}

// get returns the member whose key equals key, ignoring ASCII case; an exact match wins over a
// case-folded one, and the last of duplicates wins.
func (ms members) get(key string) *member {
	var exact, folded *member
	for i := range ms {
		switch m := &ms[i]; {
		case m.key == key:
			exact = m
		case asciiEqualFold(m.key, key):
			folded = m
		}
	}
	if exact != nil {
		return exact
	}
	return folded
}

// customDetails maps the analytics rule's custom details, {key: [values]}. A single value is accepted for
// a list, and a nested array or object value is kept as its JSON text.
func (d *decoder) customDetails(cd members, p *path) map[string][]string {
	if len(cd) == 0 {
		return nil
	}
	if len(cd) > MaxListItems {
		d.fail(p, "more than "+strconv.Itoa(MaxListItems)+" keys")
		return nil
	}
	out := make(map[string][]string, len(cd))
	for i := range cd {
		m := &cd[i]
		switch m.val.kind {
		case kindArray:
			// The path is the key as sent: custom detail keys are data, not wire struct keys.
			sub := path{parent: p, key: m.key, index: -1}
			els := d.elements(&m.val, &sub)
			if len(els) > MaxListItems {
				d.fail(&sub, "more than "+strconv.Itoa(MaxListItems)+" items")
				return nil
			}
			var vals []string
			for j := range els {
				if el := &els[j]; el.kind != kindNull {
					vals = append(vals, el.textOrJSON())
				}
			}
			out[m.key] = vals
		case kindNull:
			out[m.key] = nil
		default:
			out[m.key] = []string{m.val.textOrJSON()}
		}
	}
	return out
}

// firstValue is the first non-empty value of a custom detail.
func firstValue(v *value) string {
	if v.kind != kindArray {
		return v.textOrJSON()
	}
	var els []value
	_ = json.Unmarshal(v.raw, &els) // cannot fail: v was validated
	for i := range els {
		if el := &els[i]; el.kind != kindNull && strings.TrimSpace(el.textOrJSON()) != "" {
			return el.textOrJSON()
		}
	}
	return ""
}

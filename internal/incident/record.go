package incident

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// ParseAlertRecord parses a raw Defender for IoT alert record as the SecurityAlert table holds it
// (ProviderName "IoTSecurity"; ExtendedProperties, Entities and RemediationSteps as JSON strings; Tactics
// and Techniques comma-separated) and returns an incident built from that one alert. Its ID is
// "d4iot-" + VendorOriginalId, so every record of the same Defender for IoT alert maps to one incident.
func ParseAlertRecord(data []byte) (Incident, error) {
	var w recordWire
	if err := decodeBody(data, &w); err != nil {
		return Incident{}, err
	}
	return incidentFromRecord(data, &w)
}

// RecordIDPrefix starts the ID of an incident built from a raw Defender for IoT alert record.
const RecordIDPrefix = "d4iot-"

func incidentFromRecord(data []byte, w *recordWire) (Incident, error) {
	var d decoder
	root := topPath(data)
	r := &root
	vid := strings.TrimSpace(d.str(&w.VendorOriginalID, r, "VendorOriginalId"))
	if d.err != nil {
		return Incident{}, d.err
	}
	if vid == "" {
		p := r.field("VendorOriginalId")
		return Incident{}, &FieldError{Path: p.String(), Msg: "missing"}
	}
	title := d.str(&w.DisplayName, r, "DisplayName")
	if title == "" {
		title = d.str(&w.AlertName, r, "AlertName")
	}
	a := Alert{
		ID:               d.str(&w.SystemAlertID, r, "SystemAlertId"),
		Title:            title,
		Description:      d.str(&w.Description, r, "Description"),
		Severity:         canonical(d.str(&w.AlertSeverity, r, "AlertSeverity"), severities[:]),
		Status:           canonical(d.str(&w.Status, r, "Status"), alertStatuses[:]),
		VendorOriginalID: vid,
		ProviderName:     d.str(&w.ProviderName, r, "ProviderName"),
		ProductName:      d.str(&w.ProductName, r, "ProductName"),
		Engine:           d.str(&w.ProductComponentName, r, "ProductComponentName"),
		AlertType:        d.str(&w.AlertType, r, "AlertType"),
		StartTime:        d.timestamp(&w.StartTime, r, "StartTime"),
		EndTime:          d.timestamp(&w.EndTime, r, "EndTime"),
		TimeGenerated:    d.timestamp(&w.TimeGenerated, r, "TimeGenerated"),
		Tactics:          d.strs(&w.Tactics, r, "Tactics", ","),
		Techniques:       d.strs(&w.Techniques, r, "Techniques", ","),
		RemediationSteps: d.remediationSteps(&w.RemediationSteps, r, "RemediationSteps"),
		Link:             d.str(&w.AlertLink, r, "AlertLink"),
	}
	if ext, ep := d.nested(&w.ExtendedProperties, r, "ExtendedProperties", kindObject); ext != nil {
		var ew extendedWire
		_ = json.Unmarshal(ext.raw, &ew) // cannot fail: ext was validated
		d.extendedProperties(&a, &ew, &ep)
	}
	var devices []Device
	var ips []string
	if ents, ep := d.nested(&w.Entities, r, "Entities", kindArray); ents != nil {
		devices, ips = d.recordEntities(ents, &ep)
	}
	if d.err != nil {
		return Incident{}, d.err
	}
	inc := Incident{
		ID:            RecordIDPrefix + vid,
		Title:         a.Title,
		Description:   a.Description,
		Severity:      a.Severity,
		Status:        incidentStatus(a.Status),
		URL:           a.Link,
		Provider:      a.ProviderName,
		Created:       a.TimeGenerated,
		LastModified:  a.TimeGenerated,
		FirstActivity: a.StartTime,
		LastActivity:  a.EndTime,
		// Cloned so that a playbook editing the incident's lists does not edit the alert's.
		Tactics:    slices.Clone(a.Tactics),
		Techniques: slices.Clone(a.Techniques),
		Alerts:     []Alert{a},
		Devices:    devices,
		IPs:        ips,
		Workspace: Workspace{
			SubscriptionID: d.str(&w.WorkspaceSubscriptionID, r, "WorkspaceSubscriptionId"),
			ResourceGroup:  d.str(&w.WorkspaceResourceGroup, r, "WorkspaceResourceGroup"),
		},
	}
	if d.err != nil {
		return Incident{}, d.err
	}
	return inc, nil
}

// incidentStatus maps a SecurityAlert status onto the incident statuses, the reverse of the mapping
// AD4IoT-AutoAlertStatusSync applies (Active → InProgress).
func incidentStatus(alertStatus string) string {
	switch alertStatus {
	case "New":
		return StatusNew
	case "InProgress", "Active":
		return StatusActive
	case "Resolved", "Dismissed", "Closed":
		return StatusClosed
	default:
		return ""
	}
}

// entityObject is an object somewhere in a record's Entities, found by walking them.
type entityObject struct {
	val   value
	index int // its index in the list, or -1 when it is nested in an element
}

// recordEntities maps the Entities list of a SecurityAlert record. Entities appear once with a "$id" and
// are referenced elsewhere as {"$ref": "<id>"}, at the top level or nested (a device's IpAddress). Links
// may point anywhere in the tree, which no struct describes, so the list is walked in document order.
func (d *decoder) recordEntities(ents *value, p *path) ([]Device, []string) {
	els := d.elements(ents, p)
	if len(els) > MaxEntities {
		d.fail(p, "more than "+strconv.Itoa(MaxEntities)+" items")
		return nil, nil
	}
	objs := entityObjects(ents.raw)
	refs := entityRefs{byID: make(map[string]*entityObject)}
	ips := indexEntities(objs, refs.byID)
	elements := make([]*value, len(els))
	for i := range objs {
		if objs[i].index >= 0 {
			elements[objs[i].index] = &objs[i].val
		}
	}

	var devices []Device
	var seen []*value
	for i := range els {
		ep := p.elem(i)
		switch els[i].kind {
		case kindNull:
			continue
		case kindObject:
		default:
			d.fail(&ep, "must be an object, not "+els[i].kind.String())
			return nil, nil
		}
		target := refs.resolve(elements[i])
		if target == nil || slices.Contains(seen, target) {
			continue
		}
		seen = append(seen, target)
		var w deviceWire
		_ = json.Unmarshal(target.raw, &w) // cannot fail: target was validated
		ep.raw = target.raw
		if strings.EqualFold(strings.TrimSpace(entityKind(d, &w.Kind, &w.Type, &ep)), "iotdevice") {
			devices = append(devices, d.device(&w, &ep, refs))
		}
		if d.err != nil {
			return nil, nil
		}
	}
	return devices, ips
}

// entityObjects lists every object in the Entities JSON raw, in document order (an object before the
// objects nested in it).
func entityObjects(raw []byte) []entityObject {
	var objs []entityObject
	var open []int // indexes in objs of the objects not yet closed, with their start offsets
	var starts []int64
	_ = walkJSON(raw, func(ev walkEvent) bool { // cannot fail: raw was validated
		switch ev.tok {
		case json.Delim('{'):
			index := -1
			if len(ev.at) == 1 {
				index = ev.at[0].index
			}
			objs = append(objs, entityObject{index: index})
			open, starts = append(open, len(objs)-1), append(starts, ev.end-1)
		case json.Delim('}'):
			last := len(open) - 1
			objs[open[last]].val = value{kind: kindObject, set: true, raw: raw[starts[last]:ev.end]}
			open, starts = open[:last], starts[:last]
		}
		return true
	})
	return objs
}

// indexEntities records every object with a $id and returns the address of every Ip entity (top-level
// or nested in a device), in document order and without duplicates.
func indexEntities(objs []entityObject, byID map[string]*entityObject) []string {
	var ips []string
	for i := range objs {
		var k entityKeys
		_ = json.Unmarshal(objs[i].val.raw, &k) // cannot fail: the object was validated
		if k.ID.set && k.ID.kind != kindObject && k.ID.kind != kindArray {
			byID[k.ID.s] = &objs[i]
		}
		if k.Type.set && strings.EqualFold(strings.TrimSpace(k.Type.textOrJSON()), "ip") && k.Address.kind == kindString {
			if addr := strings.TrimSpace(k.Address.s); addr != "" && !slices.Contains(ips, addr) && len(ips) < MaxListItems {
				ips = append(ips, addr)
			}
		}
	}
	return ips
}

// Code copied from the parser before issue 14 (encoding/json wire structs), as the oracle the
// equivalence tests compare the new parser with. Do not edit.

package incident

import (
	"slices"
	"strconv"
	"strings"
)

// ParseAlertRecord parses a raw Defender for IoT alert record as the SecurityAlert table holds it
// (ProviderName "IoTSecurity"; ExtendedProperties, Entities and RemediationSteps as JSON strings; Tactics
// and Techniques comma-separated) and returns an incident built from that one alert. Its ID is
// "d4iot-" + VendorOriginalId, so every record of the same Defender for IoT alert maps to one incident.
func oldParseAlertRecord(data []byte) (Incident, error) {
	root, err := oldParseBody(data)
	if err != nil {
		return Incident{}, err
	}
	return oldIncidentFromRecord(&root)
}

func oldIncidentFromRecord(root *oldNode) (Incident, error) {
	var d oldDecoder
	vid := strings.TrimSpace(d.str(root, nil, "VendorOriginalId"))
	if d.err != nil {
		return Incident{}, d.err
	}
	if vid == "" {
		key := "VendorOriginalId"
		if m := root.get(key); m != nil {
			key = m.key
		}
		return Incident{}, &FieldError{Path: key, Msg: "missing"}
	}
	a := Alert{
		ID:               d.str(root, nil, "SystemAlertId"),
		Title:            d.strFirst(root, nil, "DisplayName", "AlertName"),
		Description:      d.str(root, nil, "Description"),
		Severity:         oldCanonical(d.str(root, nil, "AlertSeverity"), oldSeverities[:]),
		Status:           oldCanonical(d.str(root, nil, "Status"), oldAlertStatuses[:]),
		VendorOriginalID: vid,
		ProviderName:     d.str(root, nil, "ProviderName"),
		ProductName:      d.str(root, nil, "ProductName"),
		Engine:           d.str(root, nil, "ProductComponentName"),
		AlertType:        d.str(root, nil, "AlertType"),
		StartTime:        d.timestamp(root, nil, "StartTime"),
		EndTime:          d.timestamp(root, nil, "EndTime"),
		TimeGenerated:    d.timestamp(root, nil, "TimeGenerated"),
		Tactics:          d.strs(root, nil, "Tactics", ","),
		Techniques:       d.strs(root, nil, "Techniques", ","),
		RemediationSteps: d.remediationSteps(root, nil, "RemediationSteps"),
		Link:             d.str(root, nil, "AlertLink"),
	}
	if ext, ep := d.nested(root, nil, "ExtendedProperties", oldKindObject); ext != nil {
		d.extendedProperties(&a, ext, &ep)
	}
	var devices []Device
	var ips []string
	if ents, ep := d.nested(root, nil, "Entities", oldKindArray); ents != nil {
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
		Status:        oldIncidentStatus(a.Status),
		URL:           a.Link,
		Provider:      a.ProviderName,
		Created:       a.TimeGenerated,
		LastModified:  a.TimeGenerated,
		FirstActivity: a.StartTime,
		LastActivity:  a.EndTime,

		Tactics:    slices.Clone(a.Tactics),
		Techniques: slices.Clone(a.Techniques),
		Alerts:     []Alert{a},
		Devices:    devices,
		IPs:        ips,
		Workspace: Workspace{
			SubscriptionID: d.str(root, nil, "WorkspaceSubscriptionId"),
			ResourceGroup:  d.str(root, nil, "WorkspaceResourceGroup"),
		},
	}
	if d.err != nil {
		return Incident{}, d.err
	}
	return inc, nil
}

// incidentStatus maps a SecurityAlert status onto the incident statuses, the reverse of the mapping
// AD4IoT-AutoAlertStatusSync applies (Active → InProgress).
func oldIncidentStatus(alertStatus string) string {
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

// recordEntities maps the Entities list of a SecurityAlert record. Entities appear once with a "$id" and
// are referenced elsewhere as {"$ref": "<id>"}, at the top level or nested (a device's IpAddress).
func (d *oldDecoder) recordEntities(ents *oldNode, p *oldPath) ([]Device, []string) {
	if len(ents.kids) > MaxEntities {
		d.fail(p, "more than "+strconv.Itoa(MaxEntities)+" items")
		return nil, nil
	}
	refs := oldEntityRefs{byID: make(map[string]*oldNode)}
	var ips []string
	oldIndexEntities(ents, refs.byID, &ips)

	var devices []Device
	var seen []*oldNode
	for i := range ents.kids {
		el := &ents.kids[i].val
		ep := p.elem(i)
		if el.oldKind == oldKindNull {
			continue
		}
		if el.oldKind != oldKindObject {
			d.fail(&ep, "must be an object, not "+el.oldKind.String())
			return nil, nil
		}
		target := refs.resolve(el)
		if target == nil || slices.Contains(seen, target) {
			continue
		}
		seen = append(seen, target)
		if strings.EqualFold(strings.TrimSpace(oldEntityKind(d, target, &ep)), "iotdevice") {
			devices = append(devices, d.device(target, &ep, refs))
		}
		if d.err != nil {
			return nil, nil
		}
	}
	return devices, ips
}

// indexEntities walks an Entities tree, recording every object with a $id and the address of every Ip
// entity (top-level or nested in a device), in document order and without duplicates.
func oldIndexEntities(v *oldNode, byID map[string]*oldNode, ips *[]string) {
	switch v.oldKind {
	case oldKindObject:
		if m := v.get("$id"); m != nil && m.val.oldKind != oldKindObject && m.val.oldKind != oldKindArray {
			byID[m.val.s] = v
		}
		if m := v.get("Type"); m != nil && strings.EqualFold(strings.TrimSpace(m.val.s), "ip") {
			if a := v.get("Address"); a != nil && a.val.oldKind == oldKindString {
				if addr := strings.TrimSpace(a.val.s); addr != "" && !slices.Contains(*ips, addr) && len(*ips) < MaxListItems {
					*ips = append(*ips, addr)
				}
			}
		}
		fallthrough
	case oldKindArray:
		for i := range v.kids {
			oldIndexEntities(&v.kids[i].val, byID, ips)
		}
	}
}

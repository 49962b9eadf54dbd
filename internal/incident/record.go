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
func ParseAlertRecord(data []byte) (Incident, error) {
	root, err := parseBody(data)
	if err != nil {
		return Incident{}, err
	}
	return incidentFromRecord(&root)
}

// RecordIDPrefix starts the ID of an incident built from a raw Defender for IoT alert record.
const RecordIDPrefix = "d4iot-"

func incidentFromRecord(root *node) (Incident, error) {
	var d decoder
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
		Severity:         canonical(d.str(root, nil, "AlertSeverity"), severities[:]),
		Status:           canonical(d.str(root, nil, "Status"), alertStatuses[:]),
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
	if ext, ep := d.nested(root, nil, "ExtendedProperties", kindObject); ext != nil {
		d.extendedProperties(&a, ext, &ep)
	}
	var devices []Device
	var ips []string
	if ents, ep := d.nested(root, nil, "Entities", kindArray); ents != nil {
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

// recordEntities maps the Entities list of a SecurityAlert record. Entities appear once with a "$id" and
// are referenced elsewhere as {"$ref": "<id>"}, at the top level or nested (a device's IpAddress).
func (d *decoder) recordEntities(ents *node, p *path) ([]Device, []string) {
	if len(ents.kids) > MaxEntities {
		d.fail(p, "more than "+strconv.Itoa(MaxEntities)+" items")
		return nil, nil
	}
	refs := entityRefs{byID: make(map[string]*node)}
	var ips []string
	indexEntities(ents, refs.byID, &ips)

	var devices []Device
	var seen []*node
	for i := range ents.kids {
		el := &ents.kids[i].val
		ep := p.elem(i)
		if el.kind == kindNull {
			continue
		}
		if el.kind != kindObject {
			d.fail(&ep, "must be an object, not "+el.kind.String())
			return nil, nil
		}
		target := refs.resolve(el)
		if target == nil || slices.Contains(seen, target) {
			continue
		}
		seen = append(seen, target)
		if strings.EqualFold(strings.TrimSpace(entityKind(d, target, &ep)), "iotdevice") {
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
func indexEntities(v *node, byID map[string]*node, ips *[]string) {
	switch v.kind {
	case kindObject:
		if m := v.get("$id"); m != nil && m.val.kind != kindObject && m.val.kind != kindArray {
			byID[m.val.s] = v
		}
		if m := v.get("Type"); m != nil && strings.EqualFold(strings.TrimSpace(m.val.s), "ip") {
			if a := v.get("Address"); a != nil && a.val.kind == kindString {
				if addr := strings.TrimSpace(a.val.s); addr != "" && !slices.Contains(*ips, addr) && len(*ips) < MaxListItems {
					*ips = append(*ips, addr)
				}
			}
		}
		fallthrough
	case kindArray:
		for i := range v.kids {
			indexEntities(&v.kids[i].val, byID, ips)
		}
	}
}

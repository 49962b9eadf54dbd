// Code copied from the parser before issue 14 (encoding/json wire structs), as the oracle the
// equivalence tests compare the new parser with. Do not edit.

package incident

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseEvent parses the body Microsoft Sentinel's incident trigger hands a playbook (objectSchemaType
// "Incident", objectEventType "Create" or "Update"), with Interlock's optional top-level "previous" object
// shaped like object.properties.
func oldParseEvent(data []byte) (Event, error) {
	root, err := oldParseBody(data)
	if err != nil {
		return Event{}, err
	}
	return oldEventFromTrigger(&root)
}

// Parse accepts any of the forms an incident reaches Interlock in and detects which one it is:
//   - a Sentinel incident trigger body (top-level "object" or "objectSchemaType"), see ParseEvent;
//   - a raw Defender for IoT alert record (top-level "VendorOriginalId" or "ExtendedProperties", or
//     "ProviderName" without "title"), see ParseAlertRecord;
//   - Interlock's own JSON encoding of an Event (an "incident" key) or of an Incident ("id" or "title").
//
// Records and bare incidents become Create events.
func oldParse(data []byte) (Event, error) {
	root, err := oldParseBody(data)
	if err != nil {
		return Event{}, err
	}
	switch oldFormOf(&root) {
	case oldFormTrigger:
		return oldEventFromTrigger(&root)
	case oldFormRecord:
		inc, err := oldIncidentFromRecord(&root)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: EventCreate, Incident: inc}, nil
	case oldFormEvent:
		return oldDecodeOwnEvent(data)
	case oldFormIncident:
		inc, err := oldDecodeOwnIncident(data, &root, true)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: EventCreate, Incident: inc}, nil
	default:
		return Event{}, oldErrUnknownForm()
	}
}

func oldErrUnknownForm() error {
	return &FieldError{
		Path: "body",
		Msg: "not an incident: expected a Sentinel incident trigger body (object), a Defender for IoT alert " +
			"record (VendorOriginalId) or an Interlock incident (id, title)",
	}
}

type oldForm int

const (
	oldFormUnknown oldForm = iota
	oldFormTrigger
	oldFormRecord
	oldFormEvent
	oldFormIncident
)

func oldFormOf(root *oldNode) oldForm {
	switch {
	case root.has("object") || root.has("objectSchemaType"):
		return oldFormTrigger
	case root.has("VendorOriginalId") || root.has("ExtendedProperties") ||
		(root.has("ProviderName") && !root.has("title")):
		return oldFormRecord
	case root.has("incident"):
		return oldFormEvent
	case root.has("id") || root.has("title"):
		return oldFormIncident
	default:
		return oldFormUnknown
	}
}

// parseBody parses a document that must be a JSON object. The copy to a string is the only copy of the
// input: every unescaped string in the result shares it.
func oldParseBody(data []byte) (oldNode, error) {
	root, err := oldParseJSON(string(data))
	if err != nil {
		return oldNode{}, &FieldError{Path: "body", Msg: "not JSON: " + err.Error()}
	}
	if root.oldKind != oldKindObject {
		return oldNode{}, &FieldError{Path: "body", Msg: "must be a JSON object, not " + root.oldKind.String()}
	}
	return root, nil
}

func oldEventFromTrigger(root *oldNode) (Event, error) {
	var d oldDecoder
	ev := Event{ID: d.str(root, nil, "eventUniqueId")}

	if m := root.get("objectSchemaType"); m != nil {
		if st := d.str(root, nil, "objectSchemaType"); st != "" && !strings.EqualFold(strings.TrimSpace(st), "Incident") {
			d.failField(nil, m.key, "must be Incident, not "+oldQuote(st))
		}
	}
	switch et := d.str(root, nil, "objectEventType"); strings.ToLower(strings.TrimSpace(et)) {
	case "create", "":

		ev.Type = EventCreate
	case "update":
		ev.Type = EventUpdate
	default:
		d.failField(nil, root.get("objectEventType").key, "must be Create or Update, not "+oldQuote(et))
	}

	var ws Workspace
	if info, ip := d.object(root, nil, "workspaceInfo"); info != nil {
		ws.SubscriptionID = d.str(info, &ip, "SubscriptionId")
		ws.ResourceGroup = d.str(info, &ip, "ResourceGroupName")
		ws.Name = d.str(info, &ip, "WorkspaceName")
	}
	ws.ID = d.str(root, nil, "workspaceId")
	if d.err != nil {
		return Event{}, d.err
	}

	om := root.get("object")
	if om == nil || om.val.oldKind == oldKindNull {
		return Event{}, &FieldError{Path: "object", Msg: "missing"}
	}
	op := oldPath{key: om.key, index: -1}
	if om.val.oldKind != oldKindObject {
		return Event{}, &FieldError{Path: op.String(), Msg: "must be an object, not " + om.val.oldKind.String()}
	}
	obj := &om.val
	armID := d.str(obj, &op, "id")
	name := strings.TrimSpace(d.str(obj, &op, "name"))
	props, pp := d.object(obj, &op, "properties")
	if d.err != nil {
		return Event{}, d.err
	}
	if props == nil {
		d.failField(&op, "properties", "missing")
		return Event{}, d.err
	}
	inc, providerID := d.incidentProperties(props, &pp)
	if d.err != nil {
		return Event{}, d.err
	}
	switch {
	case name != "":
		inc.ID = name
	case strings.TrimSpace(providerID) != "":
		inc.ID = strings.TrimSpace(providerID)
	case inc.Number != 0:
		inc.ID = "number-" + strconv.FormatInt(inc.Number, 10)
	default:
		d.failField(&op, "name", "missing, and there is no providerIncidentId or incidentNumber to identify the incident")
		return Event{}, d.err
	}
	inc.ARMID = armID
	ws.oldFillFromARMID(armID)
	inc.Workspace = ws
	ev.Incident = inc

	if prev, pvp := d.object(root, nil, "previous"); prev != nil {
		p, _ := d.incidentProperties(prev, &pvp)
		if d.err != nil {
			return Event{}, d.err
		}

		p.ID, p.ARMID, p.Workspace = inc.ID, inc.ARMID, inc.Workspace
		ev.Previous = &p
	}
	if d.err != nil {
		return Event{}, d.err
	}
	return ev, nil
}

// fillFromARMID fills what the workspace info left out from an incident's ARM ID,
// /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{w}/....
func (ws *Workspace) oldFillFromARMID(id string) {
	rest := strings.TrimPrefix(id, "/")
	for rest != "" {
		var k, v string
		k, rest, _ = strings.Cut(rest, "/")
		v, rest, _ = strings.Cut(rest, "/")
		switch {
		case strings.EqualFold(k, "subscriptions") && ws.SubscriptionID == "":
			ws.SubscriptionID = v
		case strings.EqualFold(k, "resourceGroups") && ws.ResourceGroup == "":
			ws.ResourceGroup = v
		case strings.EqualFold(k, "workspaces") && ws.Name == "":
			ws.Name = v
		}
	}
}

// incidentProperties maps object.properties (or a "previous" object of the same shape). It returns the
// providerIncidentId too, a fallback identity.
func (d *oldDecoder) incidentProperties(props *oldNode, p *oldPath) (Incident, string) {
	inc := Incident{
		Title:           d.str(props, p, "title"),
		Description:     d.str(props, p, "description"),
		Severity:        oldCanonical(d.str(props, p, "severity"), oldSeverities[:]),
		Status:          oldCanonical(d.str(props, p, "status"), oldStatuses[:]),
		Labels:          d.strs(props, p, "labels", ""),
		URL:             d.str(props, p, "incidentUrl"),
		Provider:        d.str(props, p, "providerName"),
		Number:          d.integer(props, p, "incidentNumber"),
		Created:         d.timestamp(props, p, "createdTimeUtc"),
		LastModified:    d.timestamp(props, p, "lastModifiedTimeUtc"),
		FirstActivity:   d.timestamp(props, p, "firstActivityTimeUtc"),
		LastActivity:    d.timestamp(props, p, "lastActivityTimeUtc"),
		AnalyticRuleIDs: d.strs(props, p, "relatedAnalyticRuleIds", ""),
	}
	if o, ownerPath := d.object(props, p, "owner"); o != nil {
		inc.Owner = Owner{
			ObjectID:          d.str(o, &ownerPath, "objectId"),
			Email:             d.str(o, &ownerPath, "email"),
			AssignedTo:        d.str(o, &ownerPath, "assignedTo"),
			UserPrincipalName: d.str(o, &ownerPath, "userPrincipalName"),
		}
	}
	if ad, ap := d.object(props, p, "additionalData"); ad != nil {
		inc.Tactics = d.strs(ad, &ap, "tactics", ",")
		inc.Techniques = d.strs(ad, &ap, "techniques", ",")
	}
	providerID := d.str(props, p, "providerIncidentId")
	if d.err != nil {
		return Incident{}, ""
	}
	inc.Alerts = d.alerts(props, p)
	inc.Devices, inc.IPs = d.relatedEntities(props, p)
	return inc, providerID
}

func (d *oldDecoder) alerts(props *oldNode, p *oldPath) []Alert {
	arr, ap := d.array(props, p, "Alerts", MaxAlerts)
	if arr == nil {
		return nil
	}
	alerts := make([]Alert, 0, len(arr.kids))
	for i := range arr.kids {
		el := &arr.kids[i].val
		ep := ap.elem(i)
		if el.oldKind == oldKindNull {
			continue
		}
		src, sp := oldEntityProperties(d, el, &ep)
		if src == nil {
			return nil
		}
		alerts = append(alerts, d.alert(src, &sp))
		if d.err != nil {
			return nil
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	return alerts
}

// entityProperties returns an alert's or entity's "properties" object. An element without one is taken to
// be its own properties (a flattened form some senders use); an element that is not an object is an error.
func oldEntityProperties(d *oldDecoder, el *oldNode, ep *oldPath) (*oldNode, oldPath) {
	if el.oldKind != oldKindObject {
		d.fail(ep, "must be an object, not "+el.oldKind.String())
		return nil, oldPath{}
	}
	props, pp := d.object(el, ep, "properties")
	if d.err != nil {
		return nil, oldPath{}
	}
	if props == nil {
		return el, *ep
	}
	return props, pp
}

// alert maps the properties of a Sentinel SecurityAlert entity.
func (d *oldDecoder) alert(props *oldNode, p *oldPath) Alert {
	a := Alert{
		ID:               d.str(props, p, "systemAlertId"),
		Title:            d.strFirst(props, p, "alertDisplayName", "friendlyName"),
		Description:      d.str(props, p, "description"),
		Severity:         oldCanonical(d.str(props, p, "severity"), oldSeverities[:]),
		Status:           oldCanonical(d.str(props, p, "status"), oldAlertStatuses[:]),
		VendorOriginalID: d.str(props, p, "vendorOriginalId"),
		ProviderName:     d.str(props, p, "providerName"),
		ProductName:      d.str(props, p, "productName"),
		Engine:           d.str(props, p, "productComponentName"),
		AlertType:        d.str(props, p, "alertType"),
		StartTime:        d.timestamp(props, p, "startTimeUtc"),
		EndTime:          d.timestamp(props, p, "endTimeUtc"),
		TimeGenerated:    d.timestamp(props, p, "timeGenerated"),
		Tactics:          d.strs(props, p, "tactics", ","),
		Techniques:       d.strs(props, p, "techniques", ","),
		RemediationSteps: d.remediationSteps(props, p, "remediationSteps"),
		Link:             d.str(props, p, "alertLink"),
	}
	if ad, ap := d.object(props, p, "additionalData"); ad != nil {
		d.extendedProperties(&a, ad, &ap)
	}
	return a
}

// remediationSteps reads an array of steps, a JSON string holding one (as in SecurityAlert), or plain
// text, which is one step.
func (d *oldDecoder) remediationSteps(obj *oldNode, p *oldPath, key string) []string {
	m := obj.get(key)
	if m == nil {
		return nil
	}
	if m.val.oldKind == oldKindString && strings.HasPrefix(strings.TrimSpace(m.val.s), "[") {
		arr, ap := d.nested(obj, p, key, oldKindArray)
		if arr == nil {
			return nil
		}
		return d.strList(arr, &ap, "")
	}
	sub := p.field(m.key)
	return d.strList(&m.val, &sub, "")
}

// extendedProperties maps a Defender for IoT alert's extended properties: an alert entity's additionalData
// in a trigger body, ExtendedProperties in a SecurityAlert record. Values the analytics rule exported as
// custom details stand in for keys that are missing.
func (d *oldDecoder) extendedProperties(a *Alert, ext *oldNode, p *oldPath) {
	a.SensorID = d.str(ext, p, "SensorId")
	a.SourceAddress = d.str(ext, p, "SourceDeviceAddress")
	a.DestinationAddress = d.str(ext, p, "DestinationDeviceAddress")
	a.DestinationDevice = d.str(ext, p, "DestinationDevice")
	a.Protocol = d.str(ext, p, "Protocol")
	a.Category = d.str(ext, p, "Category")
	a.CompromisedEntityID = d.str(ext, p, "CompromisedEntityId")
	a.ManagementURI = d.str(ext, p, "AlertManagementUri")
	if v, ok := d.boolean(ext, p, "isNew"); ok {
		a.IsNew = v
	}

	cd, cp := d.nested(ext, p, "Custom Details", oldKindObject)
	if cd != nil {
		a.CustomDetails = d.customDetails(cd, &cp)
		fill := func(dst *string, keys ...string) {
			for _, k := range keys {
				if *dst != "" {
					return
				}
				if m := cd.get(k); m != nil {
					*dst = oldFirstValue(&m.val)
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

	if a.SensorID == "" {
		a.SensorID = d.str(ext, p, "DeviceId")
	}
}

// customDetails maps the analytics rule's custom details, {key: [values]}. A single value is accepted for
// a list, and a nested array or object value is kept as its JSON text.
func (d *oldDecoder) customDetails(cd *oldNode, p *oldPath) map[string][]string {
	if len(cd.kids) == 0 {
		return nil
	}
	if len(cd.kids) > MaxListItems {
		d.fail(p, "more than "+strconv.Itoa(MaxListItems)+" keys")
		return nil
	}
	out := make(map[string][]string, len(cd.kids))
	for i := range cd.kids {
		m := &cd.kids[i]
		sub := p.field(m.key)
		switch m.val.oldKind {
		case oldKindArray:
			if len(m.val.kids) > MaxListItems {
				d.fail(&sub, "more than "+strconv.Itoa(MaxListItems)+" items")
				return nil
			}
			var vals []string
			for j := range m.val.kids {
				if el := &m.val.kids[j].val; el.oldKind != oldKindNull {
					vals = append(vals, el.s)
				}
			}
			out[m.key] = vals
		case oldKindNull:
			out[m.key] = nil
		default:
			out[m.key] = []string{m.val.s}
		}
	}
	return out
}

// firstValue is the first non-empty value of a custom detail.
func oldFirstValue(v *oldNode) string {
	if v.oldKind != oldKindArray {
		return v.s
	}
	for i := range v.kids {
		if el := &v.kids[i].val; el.oldKind != oldKindNull && strings.TrimSpace(el.s) != "" {
			return el.s
		}
	}
	return ""
}

// ipEntity is a Sentinel Ip entity a device can point to with ipAddressEntityId.
type oldIpEntity struct {
	id, name, address string
}

// relatedEntities maps the IoTDevice and Ip entities of a trigger body; other kinds are ignored.
func (d *oldDecoder) relatedEntities(props *oldNode, p *oldPath) ([]Device, []string) {
	arr, ap := d.array(props, p, "relatedEntities", MaxEntities)
	if arr == nil {
		return nil, nil
	}
	// Ip entities first: a device may reference one that comes after it.
	var ipEntities []oldIpEntity
	var ips []string
	for i := range arr.kids {
		el := &arr.kids[i].val
		ep := ap.elem(i)
		if el.oldKind == oldKindNull {
			continue
		}
		if el.oldKind != oldKindObject {
			d.fail(&ep, "must be an object, not "+el.oldKind.String())
			return nil, nil
		}
		if !strings.EqualFold(strings.TrimSpace(oldEntityKind(d, el, &ep)), "Ip") {
			continue
		}
		ep2, pp := oldEntityProperties(d, el, &ep)
		if ep2 == nil {
			return nil, nil
		}
		addr := strings.TrimSpace(d.str(ep2, &pp, "address"))
		ipEntities = append(ipEntities, oldIpEntity{id: d.str(el, &ep, "id"), name: d.str(el, &ep, "name"), address: addr})
		if addr != "" && !slices.Contains(ips, addr) {
			ips = append(ips, addr)
		}
	}
	var devices []Device
	for i := range arr.kids {
		el := &arr.kids[i].val
		ep := ap.elem(i)
		if el.oldKind != oldKindObject || !strings.EqualFold(strings.TrimSpace(oldEntityKind(d, el, &ep)), "IoTDevice") {
			continue
		}
		dp, pp := oldEntityProperties(d, el, &ep)
		if dp == nil {
			return nil, nil
		}
		dev := d.device(dp, &pp, oldEntityRefs{ips: ipEntities})
		dev.EntityID = d.str(el, &ep, "id")
		devices = append(devices, dev)
	}
	if d.err != nil {
		return nil, nil
	}
	return devices, ips
}

// entityKind is the entity's kind ("IoTDevice", "Ip"), or its type when it has no kind (SecurityAlert
// entities say "Type": "iotdevice").
func oldEntityKind(d *oldDecoder, el *oldNode, p *oldPath) string {
	if k := d.str(el, p, "kind"); k != "" {
		return k
	}
	return d.str(el, p, "type")
}

// entityRefs resolves a device's IP address: Sentinel's ipAddressEntityId against the Ip entities, or a
// SecurityAlert entity's {"$ref": "4"} against the entities' $id values.
type oldEntityRefs struct {
	ips  []oldIpEntity
	byID map[string]*oldNode
}

func (r oldEntityRefs) ipByEntityID(id string) string {
	for _, e := range r.ips {
		if strings.EqualFold(e.id, id) || (e.name != "" && strings.EqualFold(e.name, id)) {
			return e.address
		}
	}
	return ""
}

// resolve follows $ref links (a few hops at most, so a cycle ends) to the object they name; a dangling
// reference resolves to nil.
func (r oldEntityRefs) resolve(v *oldNode) *oldNode {
	for range 8 {
		if v == nil || v.oldKind != oldKindObject {
			return v
		}
		m := v.get("$ref")
		if m == nil {
			return v
		}
		v = r.byID[m.val.s]
	}
	return nil
}

// device maps an IoT device entity. OT context may sit in the entity properties or in their
// additionalData, so every field is looked up in both, properties first.
func (d *oldDecoder) device(props *oldNode, p *oldPath, refs oldEntityRefs) Device {
	ad, ap := d.object(props, p, "additionalData")
	str := func(keys ...string) string {
		for _, k := range keys {
			if s := d.str(props, p, k); s != "" {
				return s
			}
			if s := d.str(ad, &ap, k); s != "" {
				return s
			}
		}
		return ""
	}
	flag := func(key string) bool {
		if v, ok := d.boolean(props, p, key); ok {
			return v
		}
		v, _ := d.boolean(ad, &ap, key)
		return v
	}
	list := func(key, seps string) []string {
		if l := d.strs(props, p, key, seps); len(l) > 0 {
			return l
		}
		return d.strs(ad, &ap, key, seps)
	}
	timestamp := func(key string) (t time.Time) {
		if t = d.timestamp(props, p, key); t.IsZero() {
			t = d.timestamp(ad, &ap, key)
		}
		return t
	}
	dev := Device{
		ID:            str("deviceId"),
		Name:          str("deviceName"),
		FriendlyName:  str("friendlyName"),
		Type:          str("deviceType"),
		SubType:       str("DeviceSubType"),
		Vendor:        str("vendor", "Manufacturer"),
		Model:         str("model"),
		OS:            str("operatingSystem"),
		Firmware:      str("firmwareVersion"),
		Serial:        str("serialNumber"),
		MAC:           str("macAddress"),
		Protocols:     list("protocols", ","),
		Site:          str("Site"),
		Zone:          str("Zone"),
		Sensor:        str("Sensor"),
		PurdueLayer:   str("PurdueLayer"),
		Importance:    oldCanonical(str("Importance"), oldImportanceList[:]),
		Owners:        list("Owners", ",;"),
		IsProgramming: flag("IsProgramming"),
		IsAuthorized:  flag("IsAuthorized"),
		IsScanner:     flag("IsScanner"),
		PageLink:      str("DevicePageLink"),
		FirstSeen:     timestamp("FirstSeen"),
	}
	if ref := str("ipAddressEntityId"); ref != "" {
		dev.IP = refs.ipByEntityID(ref)
	}
	if dev.IP == "" {
		dev.IP = d.ipAddress(props, p, refs)
		if dev.IP == "" {
			dev.IP = d.ipAddress(ad, &ap, refs)
		}
	}
	return dev
}

// ipAddress reads an ipAddress field: a string, an Ip entity object {"Address": ...}, or a $ref to one.
func (d *oldDecoder) ipAddress(obj *oldNode, p *oldPath, refs oldEntityRefs) string {
	m := obj.get("ipAddress")
	if m == nil {
		return ""
	}
	if m.val.oldKind != oldKindObject {
		return strings.TrimSpace(d.str(obj, p, "ipAddress"))
	}
	target := refs.resolve(&m.val)
	if target == nil {
		return ""
	}
	sub := p.field(m.key)
	return strings.TrimSpace(d.str(target, &sub, "address"))
}

package incident

import (
	"strconv"
	"strings"
)

// The parsers are lenient in what they accept and precise in what they reject. Keys match ignoring case
// everywhere; scalars may be strings, numbers or booleans interchangeably; null, missing and empty are all
// "not set". Only what cannot be used is an error, and every error is a *FieldError naming the field as it
// was spelled in the payload.

// ParseEvent parses the body Microsoft Sentinel's incident trigger hands a playbook (objectSchemaType
// "Incident", objectEventType "Create" or "Update"), with Interlock's optional top-level "previous" object
// shaped like object.properties.
func ParseEvent(data []byte) (Event, error) {
	var w triggerWire
	if err := decodeBody(data, &w); err != nil {
		return Event{}, err
	}
	return eventFromTrigger(data, &w)
}

// Parse accepts any of the forms an incident reaches Interlock in and detects which one it is:
//   - a Sentinel incident trigger body (top-level "object" or "objectSchemaType"), see ParseEvent;
//   - a raw Defender for IoT alert record (top-level "VendorOriginalId" or "ExtendedProperties", or
//     "ProviderName" without "title"), see ParseAlertRecord;
//   - Interlock's own JSON encoding of an Event (an "incident" key) or of an Incident ("id" or "title").
//
// Records and bare incidents become Create events.
func Parse(data []byte) (Event, error) {
	var f formWire
	if err := decodeBody(data, &f); err != nil {
		return Event{}, err
	}
	switch f.form() {
	case formTrigger:
		return ParseEvent(data)
	case formRecord:
		inc, err := ParseAlertRecord(data)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: EventCreate, Incident: inc}, nil
	case formEvent:
		return decodeOwnEvent(data)
	case formIncident:
		inc, err := decodeOwnIncident(data, true)
		if err != nil {
			return Event{}, err
		}
		return Event{Type: EventCreate, Incident: inc}, nil
	default:
		return Event{}, errUnknownForm()
	}
}

func errUnknownForm() error {
	return &FieldError{
		Path: "body",
		Msg: "not an incident: expected a Sentinel incident trigger body (object), a Defender for IoT alert " +
			"record (VendorOriginalId) or an Interlock incident (id, title)",
	}
}

type form int

const (
	formUnknown form = iota
	formTrigger
	formRecord
	formEvent
	formIncident
)

func (f *formWire) form() form {
	switch {
	case f.Object.set || f.ObjectSchemaType.set:
		return formTrigger
	case f.VendorOriginalID.set || f.ExtendedProperties.set || (f.ProviderName.set && !f.Title.set):
		return formRecord
	case f.Incident.set:
		return formEvent
	case f.ID.set || f.Title.set:
		return formIncident
	default:
		return formUnknown
	}
}

func eventFromTrigger(data []byte, w *triggerWire) (Event, error) {
	var d decoder
	root := topPath(data)
	ev := Event{ID: d.str(&w.EventUniqueID, &root, "eventUniqueId")}
	if st := d.str(&w.ObjectSchemaType, &root, "objectSchemaType"); st != "" && !strings.EqualFold(strings.TrimSpace(st), "Incident") {
		d.failField(&root, "objectSchemaType", "must be Incident, not "+quote(st))
	}
	switch et := d.str(&w.ObjectEventType, &root, "objectEventType"); strings.ToLower(strings.TrimSpace(et)) {
	case "create", "":
		// A sender that omits the event type is reporting an incident, i.e. its creation.
		ev.Type = EventCreate
	case "update":
		ev.Type = EventUpdate
	default:
		d.failField(&root, "objectEventType", "must be Create or Update, not "+quote(et))
	}
	var ws Workspace
	var info workspaceInfoWire
	if ip, ok := d.object(&w.WorkspaceInfo, &root, "workspaceInfo", &info); ok {
		ws.SubscriptionID = d.str(&info.SubscriptionID, &ip, "SubscriptionId")
		ws.ResourceGroup = d.str(&info.ResourceGroupName, &ip, "ResourceGroupName")
		ws.Name = d.str(&info.WorkspaceName, &ip, "WorkspaceName")
	}
	ws.ID = d.str(&w.WorkspaceID, &root, "workspaceId")
	if d.err != nil {
		return Event{}, d.err
	}
	inc, err := incidentFromObject(&d, &w.Object, &root)
	if err != nil {
		return Event{}, err
	}
	ws.fillFromARMID(inc.ARMID)
	inc.Workspace = ws
	ev.Incident = inc

	var prev incidentPropsWire
	if pvp, ok := d.object(&w.Previous, &root, "previous", &prev); ok {
		p, _ := d.incidentProperties(&prev, &pvp)
		if d.err != nil {
			return Event{}, d.err
		}
		// The previous state is the same incident: it keeps the identity of the current one.
		p.ID, p.ARMID, p.Workspace = inc.ID, inc.ARMID, inc.Workspace
		ev.Previous = &p
	}
	if d.err != nil {
		return Event{}, d.err
	}
	return ev, nil
}

// incidentFromObject maps the trigger's object: the incident's identity and its properties.
func incidentFromObject(d *decoder, v *value, root *path) (Incident, error) {
	op := memberPath(root, "object", v)
	switch v.kind {
	case kindNull:
		return Incident{}, &FieldError{Path: op.String(), Msg: "missing"}
	case kindObject:
	default:
		return Incident{}, &FieldError{Path: op.String(), Msg: "must be an object, not " + v.kind.String()}
	}
	var obj objectWire
	d.object(v, root, "object", &obj)
	armID := d.str(&obj.ID, &op, "id")
	name := strings.TrimSpace(d.str(&obj.Name, &op, "name"))
	var props incidentPropsWire
	pp, ok := d.object(&obj.Properties, &op, "properties", &props)
	if d.err != nil {
		return Incident{}, d.err
	}
	if !ok {
		d.failField(&op, "properties", "missing")
		return Incident{}, d.err
	}
	inc, providerID := d.incidentProperties(&props, &pp)
	if d.err != nil {
		return Incident{}, d.err
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
		return Incident{}, d.err
	}
	inc.ARMID = armID
	return inc, nil
}

// fillFromARMID fills what the workspace info left out from an incident's ARM ID,
// /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{w}/....
func (ws *Workspace) fillFromARMID(id string) {
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
func (d *decoder) incidentProperties(w *incidentPropsWire, p *path) (Incident, string) {
	inc := Incident{
		Title:           d.str(&w.Title, p, "title"),
		Description:     d.str(&w.Description, p, "description"),
		Severity:        canonical(d.str(&w.Severity, p, "severity"), severities[:]),
		Status:          canonical(d.str(&w.Status, p, "status"), statuses[:]),
		Labels:          d.strs(&w.Labels, p, "labels", ""),
		URL:             d.str(&w.IncidentURL, p, "incidentUrl"),
		Provider:        d.str(&w.ProviderName, p, "providerName"),
		Number:          d.integer(&w.IncidentNumber, p, "incidentNumber"),
		Created:         d.timestamp(&w.CreatedTimeUtc, p, "createdTimeUtc"),
		LastModified:    d.timestamp(&w.LastModifiedTimeUtc, p, "lastModifiedTimeUtc"),
		FirstActivity:   d.timestamp(&w.FirstActivityTimeUtc, p, "firstActivityTimeUtc"),
		LastActivity:    d.timestamp(&w.LastActivityTimeUtc, p, "lastActivityTimeUtc"),
		AnalyticRuleIDs: d.strs(&w.RelatedAnalyticRuleIDs, p, "relatedAnalyticRuleIds", ""),
	}
	var o ownerWire
	if op, ok := d.object(&w.Owner, p, "owner", &o); ok {
		inc.Owner = Owner{
			ObjectID:          d.str(&o.ObjectID, &op, "objectId"),
			Email:             d.str(&o.Email, &op, "email"),
			AssignedTo:        d.str(&o.AssignedTo, &op, "assignedTo"),
			UserPrincipalName: d.str(&o.UserPrincipalName, &op, "userPrincipalName"),
		}
	}
	var ad attackWire
	if ap, ok := d.object(&w.AdditionalData, p, "additionalData", &ad); ok {
		inc.Tactics = d.strs(&ad.Tactics, &ap, "tactics", ",")
		inc.Techniques = d.strs(&ad.Techniques, &ap, "techniques", ",")
	}
	providerID := d.str(&w.ProviderIncidentID, p, "providerIncidentId")
	if d.err != nil {
		return Incident{}, ""
	}
	inc.Alerts = d.alerts(&w.Alerts, p)
	inc.Devices, inc.IPs = d.relatedEntities(&w.RelatedEntities, p)
	return inc, providerID
}

func (d *decoder) alerts(v *value, p *path) []Alert {
	els, ap := d.array(v, p, "Alerts", MaxAlerts)
	if els == nil {
		return nil
	}
	alerts := make([]Alert, 0, len(els))
	for i := range els {
		el := &els[i]
		if el.kind == kindNull {
			continue
		}
		ep := ap.elem(i)
		ep.raw = el.raw
		w, sp, ok := entityProperties(d, el, &ep, func(w *alertWire) *value { return &w.Properties })
		if !ok {
			return nil
		}
		alerts = append(alerts, d.alert(w, &sp))
		if d.err != nil {
			return nil
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	return alerts
}

package incident

import (
	"encoding/json"
	"slices"
	"strings"
)

// entityProperties decodes an alert's or entity's "properties" object into a T. An element without one is
// taken to be its own properties (a flattened form some senders use); an element that is not an object
// is an error. props picks the properties member of a decoded T.
func entityProperties[T any](d *decoder, el *value, ep *path, props func(*T) *value) (*T, path, bool) {
	if el.kind != kindObject {
		d.fail(ep, "must be an object, not "+el.kind.String())
		return nil, path{}, false
	}
	w := new(T)
	if err := json.Unmarshal(el.raw, w); err != nil {
		d.fail(ep, "not JSON: "+err.Error()) // unreachable: the element was validated
		return nil, path{}, false
	}
	pv := props(w)
	if pv.kind == kindNull {
		return w, *ep, true
	}
	inner := new(T)
	sub, ok := d.object(pv, ep, "properties", inner)
	return inner, sub, ok
}

// ipEntity is a Sentinel Ip entity a device can point to with ipAddressEntityId.
type ipEntity struct {
	id, name, address string
}

// relatedEntities maps the IoTDevice and Ip entities of a trigger body; other kinds are ignored.
func (d *decoder) relatedEntities(v *value, p *path) ([]Device, []string) {
	els, ap := d.array(v, p, "relatedEntities", MaxEntities)
	if els == nil {
		return nil, nil
	}
	ents := make([]entityWire, len(els))
	// Ip entities first: a device may reference one that comes after it.
	var ipEntities []ipEntity
	var ips []string
	for i := range els {
		el := &els[i]
		ep := ap.elem(i)
		ep.raw = el.raw
		if el.kind == kindNull {
			continue
		}
		if el.kind != kindObject {
			d.fail(&ep, "must be an object, not "+el.kind.String())
			return nil, nil
		}
		_ = json.Unmarshal(el.raw, &ents[i]) // cannot fail: the element was validated
		if !strings.EqualFold(strings.TrimSpace(entityKind(d, &ents[i].Kind, &ents[i].Type, &ep)), "Ip") {
			continue
		}
		w, pp, ok := entityProperties(d, el, &ep, func(w *ipWire) *value { return &w.Properties })
		if !ok {
			return nil, nil
		}
		addr := strings.TrimSpace(d.str(&w.Address, &pp, "address"))
		ipEntities = append(ipEntities, ipEntity{id: d.str(&ents[i].ID, &ep, "id"), name: d.str(&ents[i].Name, &ep, "name"), address: addr})
		if addr != "" && !slices.Contains(ips, addr) {
			ips = append(ips, addr)
		}
	}
	var devices []Device
	for i := range els {
		el := &els[i]
		ep := ap.elem(i)
		ep.raw = el.raw
		if el.kind != kindObject || !strings.EqualFold(strings.TrimSpace(entityKind(d, &ents[i].Kind, &ents[i].Type, &ep)), "IoTDevice") {
			continue
		}
		w, pp, ok := entityProperties(d, el, &ep, func(w *deviceWire) *value { return &w.Properties })
		if !ok {
			return nil, nil
		}
		dev := d.device(w, &pp, entityRefs{ips: ipEntities})
		dev.EntityID = d.str(&ents[i].ID, &ep, "id")
		devices = append(devices, dev)
	}
	if d.err != nil {
		return nil, nil
	}
	return devices, ips
}

// entityKind is the entity's kind ("IoTDevice", "Ip"), or its type when it has no kind (SecurityAlert
// entities say "Type": "iotdevice").
func entityKind(d *decoder, kindV, typeV *value, p *path) string {
	if k := d.str(kindV, p, "kind"); k != "" {
		return k
	}
	return d.str(typeV, p, "type")
}

// entityRefs resolves a device's IP address: Sentinel's ipAddressEntityId against the Ip entities, or a
// SecurityAlert entity's {"$ref": "4"} against the entities' $id values.
type entityRefs struct {
	ips  []ipEntity
	byID map[string]*entityObject
}

func (r entityRefs) ipByEntityID(id string) string {
	for _, e := range r.ips {
		if strings.EqualFold(e.id, id) || (e.name != "" && strings.EqualFold(e.name, id)) {
			return e.address
		}
	}
	return ""
}

// resolve follows $ref links (a few hops at most, so a cycle ends) from the object v to the object they
// name; a dangling reference resolves to nil.
func (r entityRefs) resolve(v *value) *value {
	for range 8 {
		if v == nil || v.kind != kindObject {
			return v
		}
		var w ipWire
		_ = json.Unmarshal(v.raw, &w) // cannot fail: v was validated
		if !w.Ref.set {
			return v
		}
		target := r.byID[w.Ref.textOrJSON()]
		if target == nil {
			return nil
		}
		v = &target.val
	}
	return nil
}

// device maps an IoT device entity. OT context may sit in the entity properties or in their
// additionalData, so every field is looked up in both, properties first.
func (d *decoder) device(w *deviceWire, p *path, refs entityRefs) Device {
	var ad deviceFields
	ap, _ := d.object(&w.AdditionalData, p, "additionalData", &ad)
	pr := &w.deviceFields
	str := func(pv, av *value, key string) string {
		if s := d.str(pv, p, key); s != "" {
			return s
		}
		return d.str(av, &ap, key)
	}
	flag := func(pv, av *value, key string) bool {
		if v, ok := d.boolean(pv, p, key); ok {
			return v
		}
		v, _ := d.boolean(av, &ap, key)
		return v
	}
	list := func(pv, av *value, key, seps string) []string {
		if l := d.strs(pv, p, key, seps); len(l) > 0 {
			return l
		}
		return d.strs(av, &ap, key, seps)
	}
	dev := Device{
		ID:           str(&pr.DeviceID, &ad.DeviceID, "deviceId"),
		Name:         str(&pr.DeviceName, &ad.DeviceName, "deviceName"),
		FriendlyName: str(&pr.FriendlyName, &ad.FriendlyName, "friendlyName"),
		Type:         str(&pr.DeviceType, &ad.DeviceType, "deviceType"),
		SubType:      str(&pr.DeviceSubType, &ad.DeviceSubType, "DeviceSubType"),
	}
	if dev.Vendor = str(&pr.Vendor, &ad.Vendor, "vendor"); dev.Vendor == "" {
		dev.Vendor = str(&pr.Manufacturer, &ad.Manufacturer, "Manufacturer")
	}
	dev.Model = str(&pr.Model, &ad.Model, "model")
	dev.OS = str(&pr.OperatingSystem, &ad.OperatingSystem, "operatingSystem")
	dev.Firmware = str(&pr.FirmwareVersion, &ad.FirmwareVersion, "firmwareVersion")
	dev.Serial = str(&pr.SerialNumber, &ad.SerialNumber, "serialNumber")
	dev.MAC = str(&pr.MacAddress, &ad.MacAddress, "macAddress")
	dev.Protocols = list(&pr.Protocols, &ad.Protocols, "protocols", ",")
	dev.Site = str(&pr.Site, &ad.Site, "Site")
	dev.Zone = str(&pr.Zone, &ad.Zone, "Zone")
	dev.Sensor = str(&pr.Sensor, &ad.Sensor, "Sensor")
	dev.PurdueLayer = str(&pr.PurdueLayer, &ad.PurdueLayer, "PurdueLayer")
	dev.Importance = canonical(str(&pr.Importance, &ad.Importance, "Importance"), importanceList[:])
	dev.Owners = list(&pr.Owners, &ad.Owners, "Owners", ",;")
	dev.IsProgramming = flag(&pr.IsProgramming, &ad.IsProgramming, "IsProgramming")
	dev.IsAuthorized = flag(&pr.IsAuthorized, &ad.IsAuthorized, "IsAuthorized")
	dev.IsScanner = flag(&pr.IsScanner, &ad.IsScanner, "IsScanner")
	dev.PageLink = str(&pr.DevicePageLink, &ad.DevicePageLink, "DevicePageLink")
	if dev.FirstSeen = d.timestamp(&pr.FirstSeen, p, "FirstSeen"); dev.FirstSeen.IsZero() {
		dev.FirstSeen = d.timestamp(&ad.FirstSeen, &ap, "FirstSeen")
	}
	if ref := str(&pr.IPAddressEntityID, &ad.IPAddressEntityID, "ipAddressEntityId"); ref != "" {
		dev.IP = refs.ipByEntityID(ref)
	}
	if dev.IP == "" {
		if dev.IP = d.ipAddress(&pr.IPAddress, p, refs); dev.IP == "" {
			dev.IP = d.ipAddress(&ad.IPAddress, &ap, refs)
		}
	}
	return dev
}

// ipAddress reads an ipAddress field: a string, an Ip entity object {"Address": ...}, or a $ref to one.
func (d *decoder) ipAddress(v *value, p *path, refs entityRefs) string {
	if v.kind != kindObject {
		return strings.TrimSpace(d.str(v, p, "ipAddress"))
	}
	target := refs.resolve(v)
	if target == nil {
		return "" // a reference that points nowhere is missing data, not an unusable payload
	}
	var w ipWire
	_ = json.Unmarshal(target.raw, &w) // cannot fail: target was validated
	sub := memberPath(p, "ipAddress", v)
	sub.raw = target.raw
	return strings.TrimSpace(d.str(&w.Address, &sub, "address"))
}

package bench

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/playbooks"
)

// The fixtures are embedded, so the binary benchmarks a stack from any working directory. They are
// copies of the repository's testdata, so a later edit there cannot silently change what the bench
// measures.
var (
	//go:embed testdata/nes.json
	stationFixture []byte
	//go:embed testdata/plc.json
	plcFixture []byte
)

// Kind is a kind of benchmark incident.
type Kind string

// The incident kinds, named as on the command line (--mix nes=1,plc=1).
const (
	// KindNewEngineeringStation is a "New Asset Detected" incident naming one unauthorized engineering workstation: the
	// rules run NewEngineeringStationTicket, whose side effect is one new ServiceNow ticket.
	KindNewEngineeringStation Kind = "nes"
	// KindPLCReprogramming is an "Unauthorized PLC Programming" incident on one PLC: the rules run
	// PLCReprogrammingNotice, whose side effect is one email to the PLC's engineers.
	KindPLCReprogramming Kind = "plc"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{KindNewEngineeringStation, KindPLCReprogramming}

// Playbook is the playbook the default rules start for the kind.
func (k Kind) Playbook() string {
	if k == KindPLCReprogramming {
		return playbooks.PLCReprogrammingName
	}
	return playbooks.NewEngineeringStationName
}

// SideEffect names the kind's side effect for reports.
func (k Kind) SideEffect() string {
	if k == KindPLCReprogramming {
		return "email accepted by SMTP"
	}
	return "ServiceNow ticket created"
}

// Identity is what makes one generated incident unique: a run, a phase-scoped tag, and a sequence
// number unique within the run.
type Identity struct {
	// RunID tells this bench run's incidents, tickets and emails from every other run's.
	RunID string
	// Tag is unique within the run ("l17": the 17th incident of the load phase).
	Tag string
	// Seq is unique within the run; it numbers the incident and addresses its devices.
	Seq int
}

// IncidentID is the Sentinel incident name (Interlock's incident ID) of the incident.
func (id Identity) IncidentID() string { return "bench-" + id.RunID + "-" + id.Tag }

// Incident is one generated incident, ready to post.
type Incident struct {
	Kind     Kind
	Identity Identity
	Body     []byte
	// ID is the incident ID the intake derives from the body.
	ID string
	// DeviceKeys are the ServiceNow correlation IDs of the incident's engineering workstations: a ticket
	// carrying one of them belongs to this incident.
	DeviceKeys []string
	// PLCNames are the names of the incident's PLCs: an email whose subject names one belongs to it.
	PLCNames []string
}

// maxSeq bounds the sequence numbers and maxDevices the IoT devices of a fixture: devices are numbered
// seq*maxDevices+slot, which must fit the 24 bits of MAC address and the IP plan below.
const (
	maxSeq     = 1_000_000
	maxDevices = 4
)

// fixture is a parsed template incident and the identities in it that every copy replaces.
type fixture struct {
	kind Kind
	tree map[string]any
	// name, eventID: the incident name and event ID; devices: the IoT device entities.
	name, eventID string
	devices       []fixtureDevice
}

type fixtureDevice struct {
	id, name, mac, ip string
	isPLC             bool
}

// Generator makes unique incidents from the fixtures.
type Generator struct {
	runID    string
	fixtures map[Kind]*fixture
}

// NewGenerator parses the embedded fixtures for a run. The run ID must be short and made of lower-case
// letters and digits: it ends up in incident IDs, device names and email subjects.
func NewGenerator(runID string) (*Generator, error) {
	if !validRunID(runID) {
		return nil, fmt.Errorf("run id %q: want 1 to 16 lower-case letters or digits", runID)
	}
	g := &Generator{runID: runID, fixtures: map[Kind]*fixture{}}
	for kind, data := range map[Kind][]byte{KindNewEngineeringStation: stationFixture, KindPLCReprogramming: plcFixture} {
		f, err := parseFixture(kind, data)
		if err != nil {
			return nil, fmt.Errorf("fixture %s: %w", kind, err)
		}
		g.fixtures[kind] = f
	}
	return g, nil
}

func validRunID(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// parseFixture reads the identities out of a fixture, so the generator replaces exactly those and a
// changed fixture cannot leave a shared device behind.
func parseFixture(kind Kind, data []byte) (*fixture, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep incidentNumber and friends exactly as written
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	f := &fixture{kind: kind, tree: tree}
	f.eventID, _ = tree["eventUniqueId"].(string)
	obj, _ := tree["object"].(map[string]any)
	f.name, _ = obj["name"].(string)
	if f.name == "" || f.eventID == "" {
		return nil, errors.New("no object.name or eventUniqueId")
	}
	props, _ := obj["properties"].(map[string]any)
	entities, _ := props["relatedEntities"].([]any)
	ips := map[string]string{} // Ip entity id -> address
	for _, e := range entities {
		em, _ := e.(map[string]any)
		if em["kind"] == "Ip" {
			p, _ := em["properties"].(map[string]any)
			id, _ := em["id"].(string)
			ips[id], _ = p["address"].(string)
		}
	}
	for _, e := range entities {
		em, _ := e.(map[string]any)
		if em["kind"] != "IoTDevice" {
			continue
		}
		p, _ := em["properties"].(map[string]any)
		var d fixtureDevice
		d.id, _ = p["deviceId"].(string)
		d.name, _ = p["deviceName"].(string)
		d.mac, _ = p["macAddress"].(string)
		ipRef, _ := p["ipAddressEntityId"].(string)
		d.ip = ips[ipRef]
		typ, _ := p["deviceType"].(string)
		d.isPLC = strings.EqualFold(typ, "PLC")
		if d.id == "" || d.name == "" || d.mac == "" || d.ip == "" {
			return nil, fmt.Errorf("IoT device %q lacks a deviceId, deviceName, macAddress or IP entity", d.name)
		}
		f.devices = append(f.devices, d)
	}
	if len(f.devices) == 0 || len(f.devices) > maxDevices {
		return nil, fmt.Errorf("%d IoT device entities; want 1 to %d", len(f.devices), maxDevices)
	}
	return f, nil
}

// New makes the incident of the given kind and identity.
func (g *Generator) New(kind Kind, tag string, seq int) (Incident, error) {
	f := g.fixtures[kind]
	if f == nil {
		return Incident{}, fmt.Errorf("unknown incident kind %q", kind)
	}
	if seq < 0 || seq > maxSeq {
		return Incident{}, fmt.Errorf("sequence number %d out of range 0..%d", seq, maxSeq)
	}
	id := Identity{RunID: g.runID, Tag: tag, Seq: seq}
	inc := Incident{Kind: kind, Identity: id, ID: id.IncidentID()}

	// Every string in the fixture goes through one replacer, so descriptions, entity IDs, URLs and alert
	// details all name the new incident and devices consistently. Replacements are whole identity
	// tokens (GUIDs, names, dotted IPs, MACs, "iot-<id>"), never bare numbers, so nothing else changes.
	pairs := []string{f.name, inc.ID}
	for slot, d := range f.devices {
		name, mac, ip, devID := g.device(d, tag, seq, slot)
		pairs = append(pairs,
			d.name, name,
			d.mac, mac,
			d.ip, ip,
			strings.ReplaceAll(d.ip, ".", "-"), strings.ReplaceAll(ip, ".", "-"),
			"iot-"+d.id, "iot-"+devID,
			"deviceId/"+d.id, "deviceId/"+devID,
		)
		dev := incident.Device{MAC: mac, ID: devID, IP: ip}
		if d.isPLC {
			inc.PLCNames = append(inc.PLCNames, name)
		} else {
			inc.DeviceKeys = append(inc.DeviceKeys, activities.DeviceKey(dev))
		}
	}
	r := strings.NewReplacer(pairs...)
	tree := rewrite(f.tree, r).(map[string]any)

	// Fields that hold bare identifiers are set directly.
	tree["eventUniqueId"] = inc.ID + "-create"
	props := tree["object"].(map[string]any)["properties"].(map[string]any)
	number := 100000 + seq
	props["incidentNumber"] = json.Number(strconv.Itoa(number))
	props["providerIncidentId"] = strconv.Itoa(number)
	slot := 0
	for _, e := range props["relatedEntities"].([]any) {
		em := e.(map[string]any)
		if em["kind"] != "IoTDevice" {
			continue
		}
		_, _, _, devID := g.device(f.devices[slot], tag, seq, slot)
		em["properties"].(map[string]any)["deviceId"] = devID
		slot++
	}
	body, err := json.Marshal(tree)
	if err != nil {
		return Incident{}, fmt.Errorf("encode incident: %w", err)
	}
	inc.Body = body
	return inc, nil
}

// device is the identity of a fixture device in one incident. The MAC carries 22 bits of the run ID's
// hash and the sequence number, so a device is new to ServiceNow even when an earlier run's ticket for
// "the same" fixture device is still open (that would get a work note, not a new ticket).
func (g *Generator) device(d fixtureDevice, tag string, seq, slot int) (name, mac, ip, devID string) {
	n := seq*maxDevices + slot
	prefix := "EWS"
	if d.isPLC {
		prefix = "PLC"
	}
	name = prefix + "-" + g.runID + "-" + tag
	h := sha256.Sum256([]byte("interlock-bench/" + g.runID))
	hw := net.HardwareAddr{0x02 | (h[0] & 0xfc), h[1], h[2], byte(n >> 16), byte(n >> 8), byte(n)}
	mac = hw.String()
	ip = fmt.Sprintf("10.%d.%d.%d", 100+n/254/256, (n/254)%256, n%254+1) // 10.100.0.1 up to 10.161.x.y
	devID = "bench-" + g.runID + "-" + strconv.Itoa(n)
	return name, mac, ip, devID
}

// rewrite copies a decoded JSON tree, passing every string through r.
func rewrite(v any, r *strings.Replacer) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = rewrite(e, r)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = rewrite(e, r)
		}
		return out
	case string:
		return r.Replace(t)
	}
	return v
}

// Mix is the share of each incident kind.
type Mix map[Kind]float64

// ParseMix reads "nes=1,plc=1": non-negative weights of known kinds, not all zero. Kinds left out
// weigh zero.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	var total float64
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix %q: want kind=weight, e.g. nes=1,plc=1", part)
		}
		kind := Kind(strings.ToLower(strings.TrimSpace(k)))
		if kind != KindNewEngineeringStation && kind != KindPLCReprogramming {
			return nil, fmt.Errorf("mix: unknown kind %q (known: nes, plc)", k)
		}
		if _, dup := m[kind]; dup {
			return nil, fmt.Errorf("mix: %s given twice", kind)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || w < 0 || w != w || w > 1e9 {
			return nil, fmt.Errorf("mix: weight of %s must be a non-negative number, not %q", kind, v)
		}
		m[kind] = w
		total += w
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: no kind has a weight above zero", s)
	}
	return m, nil
}

// String is the mix in --mix syntax, in kind order.
func (m Mix) String() string {
	var parts []string
	for _, k := range Kinds {
		if w, ok := m[k]; ok {
			parts = append(parts, string(k)+"="+strconv.FormatFloat(w, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// Sequence returns n kinds in the mix's proportions, interleaved (smooth weighted round-robin) so each
// kind is spread evenly over a phase instead of arriving in blocks.
func (m Mix) Sequence(n int) []Kind {
	var total float64
	for _, k := range Kinds {
		total += m[k]
	}
	out := make([]Kind, 0, n)
	if total == 0 {
		return out
	}
	current := map[Kind]float64{}
	for range n {
		var best Kind
		for _, k := range Kinds {
			if m[k] == 0 {
				continue
			}
			current[k] += m[k]
			if best == "" || current[k] > current[best] {
				best = k
			}
		}
		current[best] -= total
		out = append(out, best)
	}
	return out
}

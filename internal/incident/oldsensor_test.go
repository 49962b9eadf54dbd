// Code copied from the parser before issue 14 (encoding/json wire structs), as the oracle the
// equivalence tests compare the new parser with. Do not edit.

package incident

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on the text of an OT sensor alert. The sensor's fields are short in practice; the caps keep a
// hostile record from carrying megabytes into tickets and e-mails.
const (
	oldMaxTitleRunes = 500       // titles are clipped here
	oldMaxTextBytes  = 32 << 10  // messages and remediation steps are clipped here
	oldMaxNameBytes  = 256       // IDs, names and addresses longer than this are rejected, not clipped
	oldSensorPrefix  = "sensor-" // after RecordIDPrefix in the ID of an incident built from a sensor alert
)

// ParseSensorAlert parses one alert in the OT sensor's shape into a single-alert incident.
func oldParseSensorAlert(data []byte) (Incident, error) {
	root, err := oldParseBody(data)
	if err != nil {
		return Incident{}, err
	}
	if fe := oldCheckUTF8(&root); fe != nil {
		return Incident{}, fe
	}
	return oldIncidentFromSensor(&root)
}

// incidentFromSensor maps a parsed sensor alert. Error paths are relative to the alert object.
func oldIncidentFromSensor(root *oldNode) (Incident, error) {
	var d oldDecoder

	uuid := d.name(root, "uuid")
	if d.err != nil {
		return Incident{}, d.err
	}
	if uuid == "" {
		return Incident{}, &FieldError{Path: oldSpelled(root, "uuid"), Msg: "missing"}
	}
	title := oldClipRunes(d.singleLine(root, "title"), oldMaxTitleRunes)
	if d.err == nil && strings.TrimSpace(title) == "" {
		d.failField(nil, oldSpelled(root, "title"), "missing")
	}
	desc := d.multiLine(root, nil, "message")
	if strings.TrimSpace(desc) == "" {
		if ai, ap := d.object(root, nil, "additionalInformation"); ai != nil {
			desc = d.multiLine(ai, &ap, "description")
		}
	}
	sev := d.name(root, "severity")
	severity, ok := oldSensorSeverity(sev)
	if !ok && d.err == nil {
		d.failField(nil, oldSpelled(root, "severity"), "not a severity: "+oldQuote(sev)+" (expected Warning, Minor, Major or Critical)")
	}
	at := d.sensorTime(root, "time")
	handled, _ := d.boolean(root, nil, "handled")
	status := "New"
	if handled {
		status = "Resolved"
	}
	a := Alert{
		ID:                 uuid,
		Title:              title,
		Description:        desc,
		Severity:           severity,
		Status:             status,
		VendorOriginalID:   uuid,
		ProviderName:       ProviderOTSensor,
		ProductName:        defenderProduct,
		Engine:             oldSensorEngine(d.name(root, "engine")),
		StartTime:          at,
		TimeGenerated:      at,
		RemediationSteps:   d.steps(root, "remediationSteps"),
		SensorID:           d.name(root, "sensorName"),
		SourceAddress:      d.name(root, "sourceDeviceAddress"),
		DestinationAddress: d.name(root, "destinationDeviceAddress"),
		IsNew:              !handled,
	}
	site, zone := d.name(root, "siteName"), d.name(root, "zoneName")
	if d.err != nil {
		return Incident{}, d.err
	}
	devices, ips := oldSensorDevices(&a, site, zone)
	return Incident{
		ID:            RecordIDPrefix + oldSensorPrefix + uuid,
		Title:         a.Title,
		Description:   a.Description,
		Severity:      a.Severity,
		Status:        oldIncidentStatus(a.Status),
		Provider:      a.ProviderName,
		Created:       at,
		LastModified:  at,
		FirstActivity: at,
		Alerts:        []Alert{a},
		Devices:       devices,
		IPs:           ips,
	}, nil
}

// sensorDevices makes a device for each of the alert's addresses that is an IP or a MAC address, with
// the OT context the alert carries. Other addresses stay on the alert only: a device keyed on text that
// is neither would match nothing in the asset directory.
func oldSensorDevices(a *Alert, site, zone string) ([]Device, []string) {
	var devices []Device
	var ips []string
	for _, addr := range [...]string{a.SourceAddress, a.DestinationAddress} {
		if addr == "" || slices.ContainsFunc(devices, func(d Device) bool {
			return strings.EqualFold(d.IP, addr) || strings.EqualFold(d.MAC, addr)
		}) {
			continue
		}
		dev := Device{Site: site, Zone: zone, Sensor: a.SensorID}
		if _, err := netip.ParseAddr(addr); err == nil {
			dev.IP = addr
			ips = append(ips, addr)
		} else if _, err := net.ParseMAC(addr); err == nil {
			dev.MAC = addr
		} else {
			continue
		}
		devices = append(devices, dev)
	}
	return devices, ips
}

// sensorSeverity maps the sensor's severities onto Sentinel's the way Defender for IoT does (Critical →
// High, Major → Medium, Minor and Warning → Low). Sentinel's own spellings are accepted too, for a sender
// that already mapped them. Empty stays empty; ok is false for anything else.
func oldSensorSeverity(s string) (sev string, ok bool) {
	switch t := strings.TrimSpace(s); {
	case t == "":
		return "", true
	case oldAsciiEqualFold(t, "Critical"):
		return SeverityHigh, true
	case oldAsciiEqualFold(t, "Major"):
		return SeverityMedium, true
	case oldAsciiEqualFold(t, "Minor"), oldAsciiEqualFold(t, "Warning"):
		return SeverityLow, true
	default:
		c := oldCanonical(t, oldSeverities[:])
		return c, slices.Contains(oldSeverities[:], c)
	}
}

// sensorEngines pairs the sensor API's engine names with SecurityAlert's ProductComponentName spelling,
// which rules compare against.
var oldSensorEngines = [...]struct{ sensor, component string }{
	{"Policy Violation", "POLICY_VIOLATION"},
	{"Protocol Violation", "PROTOCOL_VIOLATION"},
	{"Anomaly", "ANOMALY"},
	{"Malware", "MALWARE"},
	{"Operational", "OPERATIONAL"},
}

// sensorEngine is the SecurityAlert spelling of a sensor engine; an engine it does not know is kept.
func oldSensorEngine(s string) string {
	for _, e := range oldSensorEngines {
		if oldAsciiEqualFold(s, e.sensor) || oldAsciiEqualFold(s, e.component) {
			return e.component
		}
	}
	return s
}

// sensorTime reads the alert time: epoch milliseconds as a number or a numeric string, as the API sends
// it, or an RFC 3339 time. Zero when missing, null or empty.
func (d *oldDecoder) sensorTime(obj *oldNode, key string) time.Time {
	m := obj.get(key)
	if m == nil || m.val.oldKind == oldKindNull {
		return time.Time{}
	}
	switch m.val.oldKind {
	case oldKindNumber:
	case oldKindString:
		s := strings.TrimSpace(m.val.s)
		if s == "" {
			return time.Time{}
		}
		if !oldAllDigits(s) {
			t, ok := oldParseTime(s)
			if !ok {
				d.failField(nil, m.key, "not a time: "+oldQuote(m.val.s))
			}
			return t
		}
	default:
		d.failField(nil, m.key, "must be epoch milliseconds or a time, not "+m.val.oldKind.String())
		return time.Time{}
	}
	ms := d.integer(obj, nil, key)
	if d.err != nil {
		return time.Time{}
	}
	t := time.UnixMilli(ms).UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		d.failField(nil, m.key, "not a time: "+strconv.FormatInt(ms, 10)+" ms is out of range")
		return time.Time{}
	}
	return t
}

func oldAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// steps reads remediation steps (a list, a JSON string holding one, or one plain string), checked and
// clipped like a message.
func (d *oldDecoder) steps(obj *oldNode, key string) []string {
	steps := d.remediationSteps(obj, nil, key)
	for i, s := range steps {
		if c, ok := oldControlChar(s, true); ok {
			d.fail(&oldPath{key: oldSpelled(obj, key), index: -1}, "step "+strconv.Itoa(i+1)+" contains a control character "+c)
			return nil
		}
		steps[i] = oldClipBytes(s, oldMaxTextBytes)
	}
	return steps
}

// name reads a short single-line value (an ID, a name, an address, an enumeration): trimmed, without
// control characters, and rejected when longer than maxNameBytes, since clipping would change what it
// identifies.
func (d *oldDecoder) name(obj *oldNode, key string) string {
	s := strings.TrimSpace(d.singleLine(obj, key))
	if len(s) > oldMaxNameBytes {
		d.failField(nil, oldSpelled(obj, key), "longer than "+strconv.Itoa(oldMaxNameBytes)+" bytes")
		return ""
	}
	return s
}

// singleLine reads text that must fit on one line: any control character is an error, because titles
// and names end up in log lines, ticket subjects and e-mail headers.
func (d *oldDecoder) singleLine(obj *oldNode, key string) string {
	s := d.str(obj, nil, key)
	if c, ok := oldControlChar(s, false); ok {
		d.failField(nil, oldSpelled(obj, key), "contains a control character "+c)
		return ""
	}
	return s
}

// multiLine reads free text: tab, newline and carriage return are allowed (sensor messages are
// multi-line), other control characters are an error, and the text is clipped at maxTextBytes.
func (d *oldDecoder) multiLine(obj *oldNode, p *oldPath, key string) string {
	s := d.str(obj, p, key)
	if c, ok := oldControlChar(s, true); ok {
		d.failField(p, oldSpelled(obj, key), "contains a control character "+c)
		return ""
	}
	return oldClipBytes(s, oldMaxTextBytes)
}

// controlChar finds the first C0 or C1 control character or DEL in s, returned as "U+001B". multiLine
// allows tab, newline and carriage return.
func oldControlChar(s string, multiLine bool) (string, bool) {
	for _, r := range s {
		switch {
		case multiLine && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20, r == 0x7f, 0x80 <= r && r <= 0x9f:
			return fmt.Sprintf("%U", r), true
		}
	}
	return "", false
}

// spelled is key as the payload spells it, for error paths; key itself when obj lacks it.
func oldSpelled(obj *oldNode, key string) string {
	if m := obj.get(key); m != nil {
		return m.key
	}
	return key
}

// clipRunes shortens s to at most n runes.
func oldClipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// clipBytes shortens s to at most n bytes without splitting a rune.
func oldClipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// checkUTF8 rejects a record whose raw text is not valid UTF-8. The JSON reader replaces invalid bytes
// with U+FFFD so that nothing downstream sees them; for an alert intake a mangled title or UUID is worse
// than a clear rejection. The path is that of the first string holding a replacement character, which is
// where the invalid bytes were unless the sender also wrote U+FFFD itself earlier on.
func oldCheckUTF8(root *oldNode) *FieldError {
	if utf8.ValidString(root.s) {
		return nil
	}
	where, _ := oldReplacedAt(root, nil)
	return &FieldError{Path: where, Msg: "invalid UTF-8"}
}

func oldReplacedAt(v *oldNode, p *oldPath) (string, bool) {
	switch v.oldKind {
	case oldKindString:
		if strings.ContainsRune(v.s, utf8.RuneError) {
			if p == nil {
				return "", true
			}
			return p.String(), true
		}
	case oldKindObject, oldKindArray:
		for i := range v.kids {
			m := &v.kids[i]
			var sub oldPath
			if v.oldKind == oldKindObject {
				sub = p.field(m.key)
				if strings.ContainsRune(m.key, utf8.RuneError) {
					return sub.String(), true
				}
			} else {
				sub = p.elem(i)
			}
			if where, ok := oldReplacedAt(&m.val, &sub); ok {
				return where, true
			}
		}
	}
	return "", false
}

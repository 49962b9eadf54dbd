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

	"github.com/interlock-soar/interlock/internal/safetext"
)

// The OT sensor's own alert shape is what an on-premises management console's alert API returns
// (GET /external/v1/alerts, /external/v2/alerts; internal/sensorstandin serves the same): id, uuid, time
// (epoch milliseconds), title, message, severity (Warning, Minor, Major, Critical), engine ("Policy
// Violation", ...), sourceDevice and destinationDevice (the appliance's numeric device IDs), handled,
// additionalInformation {description, information[]}, and from v2 sourceDeviceAddress,
// destinationDeviceAddress, remediationSteps, sensorName, zoneName and siteName.

// Bounds on the text of an OT sensor alert. The sensor's fields are short in practice; the caps keep a
// hostile record from carrying megabytes into tickets and e-mails.
const (
	maxTitleRunes = 500       // titles are clipped here (safetext.Clip, with an ellipsis)
	maxTextBytes  = 32 << 10  // messages and remediation steps are clipped here (safetext.ClipBytes: their size bounds the record)
	maxNameBytes  = 256       // IDs, names and addresses longer than this are rejected, not clipped
	sensorPrefix  = "sensor-" // after RecordIDPrefix in the ID of an incident built from a sensor alert
)

// ParseSensorAlert parses one alert in the OT sensor's shape into a single-alert incident.
func ParseSensorAlert(data []byte) (Incident, error) {
	var w sensorWire
	if err := decodeBody(data, &w); err != nil {
		return Incident{}, err
	}
	if fe := checkUTF8(data); fe != nil {
		return Incident{}, fe
	}
	return incidentFromSensor(data, &w)
}

// incidentFromSensor maps a decoded sensor alert, whose JSON is data. Error paths are relative to the
// alert object.
func incidentFromSensor(data []byte, w *sensorWire) (Incident, error) {
	var d decoder
	root := topPath(data)
	r := &root
	// The management console's UUID ("<id>-<time ms>") is the alert's identity there and the key of
	// PUT /external/v1/alerts/<UUID>. It is required rather than rebuilt from id and time: the docs do
	// not promise how it is formed, and an invented UUID would address some other alert.
	uuid := d.name(&w.UUID, r, "uuid")
	if d.err != nil {
		return Incident{}, d.err
	}
	if uuid == "" {
		p := r.field("uuid")
		return Incident{}, &FieldError{Path: p.String(), Msg: "missing"}
	}
	title := safetext.Clip(d.singleLine(&w.Title, r, "title"), maxTitleRunes)
	if d.err == nil && strings.TrimSpace(title) == "" {
		d.failField(r, "title", "missing")
	}
	desc := d.multiLine(&w.Message, r, "message")
	if strings.TrimSpace(desc) == "" {
		var ai additionalInformationWire
		if ap, ok := d.object(&w.AdditionalInformation, r, "additionalInformation", &ai); ok {
			desc = d.multiLine(&ai.Description, &ap, "description")
		}
	}
	sev := d.name(&w.Severity, r, "severity")
	severity, ok := sensorSeverity(sev)
	if !ok && d.err == nil {
		d.failField(r, "severity", "not a severity: "+quote(sev)+" (expected Warning, Minor, Major or Critical)")
	}
	at := d.sensorTime(&w.Time, r, "time")
	handled, _ := d.boolean(&w.Handled, r, "handled")
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
		Engine:             sensorEngine(d.name(&w.Engine, r, "engine")),
		StartTime:          at,
		TimeGenerated:      at,
		RemediationSteps:   d.steps(&w.RemediationSteps, r, "remediationSteps"),
		SensorID:           d.name(&w.SensorName, r, "sensorName"),
		SourceAddress:      d.name(&w.SourceDeviceAddress, r, "sourceDeviceAddress"),
		DestinationAddress: d.name(&w.DestinationDeviceAddress, r, "destinationDeviceAddress"),
		IsNew:              !handled,
	}
	site, zone := d.name(&w.SiteName, r, "siteName"), d.name(&w.ZoneName, r, "zoneName")
	if d.err != nil {
		return Incident{}, d.err
	}
	devices, ips := sensorDevices(&a, site, zone)
	return Incident{
		ID:            RecordIDPrefix + sensorPrefix + uuid,
		Title:         a.Title,
		Description:   a.Description,
		Severity:      a.Severity,
		Status:        incidentStatus(a.Status),
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
func sensorDevices(a *Alert, site, zone string) ([]Device, []string) {
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
func sensorSeverity(s string) (sev string, ok bool) {
	switch t := strings.TrimSpace(s); {
	case t == "":
		return "", true
	case asciiEqualFold(t, "Critical"):
		return SeverityHigh, true
	case asciiEqualFold(t, "Major"):
		return SeverityMedium, true
	case asciiEqualFold(t, "Minor"), asciiEqualFold(t, "Warning"):
		return SeverityLow, true
	default:
		c := canonical(t, severities[:])
		return c, slices.Contains(severities[:], c)
	}
}

// sensorEngines pairs the sensor API's engine names with SecurityAlert's ProductComponentName spelling,
// which rules compare against.
var sensorEngines = [...]struct{ sensor, component string }{
	{"Policy Violation", "POLICY_VIOLATION"},
	{"Protocol Violation", "PROTOCOL_VIOLATION"},
	{"Anomaly", "ANOMALY"},
	{"Malware", "MALWARE"},
	{"Operational", "OPERATIONAL"},
}

// sensorEngine is the SecurityAlert spelling of a sensor engine; an engine it does not know is kept.
func sensorEngine(s string) string {
	for _, e := range sensorEngines {
		if asciiEqualFold(s, e.sensor) || asciiEqualFold(s, e.component) {
			return e.component
		}
	}
	return s
}

// sensorTime reads the alert time: epoch milliseconds as a number or a numeric string, as the API sends
// it, or an RFC 3339 time. Zero when missing, null or empty.
func (d *decoder) sensorTime(v *value, p *path, key string) time.Time {
	switch v.kind {
	case kindNull:
		return time.Time{}
	case kindNumber:
	case kindString:
		s := strings.TrimSpace(v.s)
		if s == "" {
			return time.Time{}
		}
		if !allDigits(s) {
			t, ok := parseTime(s)
			if !ok {
				d.failField(p, key, "not a time: "+quote(v.s))
			}
			return t
		}
	default:
		d.failField(p, key, "must be epoch milliseconds or a time, not "+v.kind.String())
		return time.Time{}
	}
	ms := d.integer(v, p, key)
	if d.err != nil {
		return time.Time{}
	}
	t := time.UnixMilli(ms).UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		d.failField(p, key, "not a time: "+strconv.FormatInt(ms, 10)+" ms is out of range")
		return time.Time{}
	}
	return t
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// steps reads remediation steps (a list, a JSON string holding one, or one plain string), checked and
// clipped like a message.
func (d *decoder) steps(v *value, p *path, key string) []string {
	steps := d.remediationSteps(v, p, key)
	for i, s := range steps {
		if c, ok := controlChar(s, true); ok {
			d.failField(p, key, "step "+strconv.Itoa(i+1)+" contains a control character "+c)
			return nil
		}
		steps[i] = safetext.ClipBytes(s, maxTextBytes)
	}
	return steps
}

// name reads a short single-line value (an ID, a name, an address, an enumeration): trimmed, without
// control characters, and rejected when longer than maxNameBytes, since clipping would change what it
// identifies.
func (d *decoder) name(v *value, p *path, key string) string {
	s := strings.TrimSpace(d.singleLine(v, p, key))
	if len(s) > maxNameBytes {
		d.failField(p, key, "longer than "+strconv.Itoa(maxNameBytes)+" bytes")
		return ""
	}
	return s
}

// singleLine reads text that must fit on one line: any control character is an error, because titles
// and names end up in log lines, ticket subjects and e-mail headers.
func (d *decoder) singleLine(v *value, p *path, key string) string {
	s := d.str(v, p, key)
	if c, ok := controlChar(s, false); ok {
		d.failField(p, key, "contains a control character "+c)
		return ""
	}
	return s
}

// multiLine reads free text: tab, newline and carriage return are allowed (sensor messages are
// multi-line), other control characters are an error, and the text is clipped at maxTextBytes.
func (d *decoder) multiLine(v *value, p *path, key string) string {
	s := d.str(v, p, key)
	if c, ok := controlChar(s, true); ok {
		d.failField(p, key, "contains a control character "+c)
		return ""
	}
	return safetext.ClipBytes(s, maxTextBytes)
}

// controlChar finds the first C0 or C1 control character or DEL in s, returned as "U+001B". multiLine
// allows tab, newline and carriage return.
func controlChar(s string, multiLine bool) (string, bool) {
	for _, r := range s {
		switch {
		case multiLine && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20, r == 0x7f, 0x80 <= r && r <= 0x9f:
			return fmt.Sprintf("%U", r), true
		}
	}
	return "", false
}

// checkUTF8 rejects a record whose raw text is not valid UTF-8. The decoder replaces invalid bytes
// with U+FFFD so that nothing downstream sees them; for an alert intake a mangled title or UUID is worse
// than a clear rejection. The path is that of the first key or string holding a replacement character,
// which is where the invalid bytes were unless the sender also wrote U+FFFD itself earlier on.
func checkUTF8(data []byte) *FieldError {
	if utf8.Valid(data) {
		return nil
	}
	where := ""
	_ = walkJSON(data, func(ev walkEvent) bool { // cannot fail: data was validated
		if s, ok := ev.tok.(string); ok && strings.ContainsRune(s, utf8.RuneError) {
			where = segsString(ev.at)
			return false
		}
		return true
	})
	return &FieldError{Path: where, Msg: "invalid UTF-8"}
}

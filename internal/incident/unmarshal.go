package incident

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// UnmarshalJSON accepts every form Parse does: Interlock's own encoding of an Incident (what json.Marshal
// produces, so values round-trip), an Event in that encoding, a Sentinel incident trigger body and a raw
// Defender for IoT alert record. That lets a person paste a Sentinel payload straight into the Temporal
// UI's Start Workflow input of a playbook that takes an Incident. Errors are *FieldError.
func (inc *Incident) UnmarshalJSON(data []byte) error {
	// By the encoding/json convention, null leaves the value alone.
	if isNull(data) {
		return nil
	}
	root, err := parseBody(data)
	if err != nil {
		return err
	}
	var got Incident
	switch formOf(&root) {
	case formTrigger:
		var ev Event
		ev, err = eventFromTrigger(&root)
		got = ev.Incident
	case formRecord:
		got, err = incidentFromRecord(&root)
	case formEvent:
		var ev Event
		ev, err = decodeOwnEvent(data)
		got = ev.Incident
	case formIncident:
		got, err = decodeOwnIncident(data, &root, true)
	default:
		err = errUnknownForm()
	}
	if err != nil {
		return err
	}
	*inc = got
	return nil
}

// UnmarshalJSON accepts every form Parse does, so an Event can be decoded from a trigger body, a record,
// an incident or its own encoding alike. Errors are *FieldError.
func (ev *Event) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	got, err := Parse(data)
	if err != nil {
		return err
	}
	*ev = got
	return nil
}

func isNull(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) == 0 || string(t) == "null"
}

// plainIncident has Incident's fields and encoding but not its UnmarshalJSON, so decoding into it uses
// encoding/json's struct decoding instead of recursing into form detection.
type plainIncident Incident

// decodeOwnIncident decodes Interlock's own form; root is data already parsed, used to place errors.
// requireID is false for an event's previous state, which inherits the incident's ID.
func decodeOwnIncident(data []byte, root *node, requireID bool) (Incident, error) {
	var p plainIncident
	if err := json.Unmarshal(data, &p); err != nil {
		return Incident{}, ownFormError(err, root)
	}
	inc := Incident(p)
	if err := inc.normalize(); err != nil {
		return Incident{}, err
	}
	switch {
	case requireID && strings.TrimSpace(inc.ID) == "":
		return Incident{}, &FieldError{Path: "id", Msg: "missing"}
	case len(inc.Alerts) > MaxAlerts:
		return Incident{}, &FieldError{Path: "alerts", Msg: "more than " + strconv.Itoa(MaxAlerts) + " items"}
	case len(inc.Devices) > MaxEntities:
		return Incident{}, &FieldError{Path: "devices", Msg: "more than " + strconv.Itoa(MaxEntities) + " items"}
	case len(inc.IPs) > MaxEntities:
		return Incident{}, &FieldError{Path: "ips", Msg: "more than " + strconv.Itoa(MaxEntities) + " items"}
	}
	return inc, nil
}

// normalize gives a decoded own-form incident the shape the parsers give: every time in UTC, whatever
// zone it was written in, and empty lists and maps nil, as omitempty drops them when encoding. Playbooks
// then see one representation, and a value survives an encode/decode round trip unchanged. A time that
// lands outside the years JSON can encode once in UTC is an error.
func (inc *Incident) normalize() error {
	utc := func(t *time.Time, p string) error {
		u := t.UTC()
		if y := u.Year(); y < 0 || y > 9999 {
			return &FieldError{Path: p, Msg: "not a time: year out of range"}
		}
		*t = u
		return nil
	}
	type field struct {
		path string
		t    *time.Time
	}
	// In field order, so that of several bad times the first is reported.
	for _, f := range []field{
		{"created", &inc.Created}, {"lastModified", &inc.LastModified},
		{"firstActivity", &inc.FirstActivity}, {"lastActivity", &inc.LastActivity},
	} {
		if err := utc(f.t, f.path); err != nil {
			return err
		}
	}
	inc.Labels, inc.Tactics, inc.Techniques = nilIfEmpty(inc.Labels), nilIfEmpty(inc.Tactics), nilIfEmpty(inc.Techniques)
	inc.AnalyticRuleIDs, inc.IPs = nilIfEmpty(inc.AnalyticRuleIDs), nilIfEmpty(inc.IPs)
	inc.Alerts, inc.Devices = nilIfEmpty(inc.Alerts), nilIfEmpty(inc.Devices)
	for i := range inc.Alerts {
		a := &inc.Alerts[i]
		at := "alerts[" + strconv.Itoa(i) + "]."
		for _, f := range []field{{"startTime", &a.StartTime}, {"endTime", &a.EndTime}, {"timeGenerated", &a.TimeGenerated}} {
			if err := utc(f.t, at+f.path); err != nil {
				return err
			}
		}
		a.Tactics, a.Techniques, a.RemediationSteps = nilIfEmpty(a.Tactics), nilIfEmpty(a.Techniques), nilIfEmpty(a.RemediationSteps)
		if len(a.CustomDetails) == 0 {
			a.CustomDetails = nil
		}
	}
	for i := range inc.Devices {
		d := &inc.Devices[i]
		if err := utc(&d.FirstSeen, "devices["+strconv.Itoa(i)+"].firstSeen"); err != nil {
			return err
		}
		d.Protocols, d.Owners = nilIfEmpty(d.Protocols), nilIfEmpty(d.Owners)
	}
	return nil
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ownEvent is Event's encoding with the incidents left raw, so each is decoded on its own and an error
// can be placed under "incident" or "previous".
type ownEvent struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Incident json.RawMessage `json:"incident"`
	Previous json.RawMessage `json:"previous"`
}

func decodeOwnEvent(data []byte) (Event, error) {
	var raw ownEvent
	if err := json.Unmarshal(data, &raw); err != nil {
		return Event{}, ownFormError(err, nil)
	}
	ev := Event{ID: raw.ID}
	switch strings.ToLower(strings.TrimSpace(raw.Type)) {
	case "", "create":
		ev.Type = EventCreate
	case "update":
		ev.Type = EventUpdate
	default:
		return Event{}, &FieldError{Path: "type", Msg: "must be Create or Update, not " + quote(raw.Type)}
	}
	if isNull(raw.Incident) {
		return Event{}, &FieldError{Path: "incident", Msg: "missing"}
	}
	if err := ev.Incident.UnmarshalJSON(raw.Incident); err != nil {
		return Event{}, under("incident", err)
	}
	if !isNull(raw.Previous) {
		prev, err := decodePrevious(raw.Previous, ev.Incident)
		if err != nil {
			return Event{}, under("previous", err)
		}
		ev.Previous = &prev
	}
	return ev, nil
}

// decodePrevious decodes an event's previous state. In Interlock's own form it may leave out the ID,
// which is the incident's.
func decodePrevious(data []byte, current Incident) (Incident, error) {
	root, err := parseBody(data)
	if err != nil {
		return Incident{}, err
	}
	if formOf(&root) != formIncident {
		var prev Incident
		err := prev.UnmarshalJSON(data)
		return prev, err
	}
	prev, err := decodeOwnIncident(data, &root, false)
	if err != nil {
		return Incident{}, err
	}
	if strings.TrimSpace(prev.ID) == "" {
		prev.ID = current.ID
	}
	return prev, nil
}

// under places a decoding error below a field of the enclosing document.
func under(prefix string, err error) error {
	fe, ok := errors.AsType[*FieldError](err)
	if !ok {
		return &FieldError{Path: prefix, Msg: err.Error()}
	}
	switch {
	case fe.Path == "body":
		return &FieldError{Path: prefix, Msg: fe.Msg}
	case strings.HasPrefix(fe.Path, "["):
		return &FieldError{Path: prefix + fe.Path, Msg: fe.Msg}
	default:
		return &FieldError{Path: prefix + "." + fe.Path, Msg: fe.Msg}
	}
}

// ownFormError turns an encoding/json error on Interlock's own form into a *FieldError. encoding/json
// names a field without array indexes ("alerts.title") and a bad time not at all, so the field is looked
// up again in root, the same document as parsed by this package.
func ownFormError(err error, root *node) error {
	if fe, ok := errors.AsType[*FieldError](err); ok {
		return fe
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		p := te.Field
		if p == "" {
			p = "body"
		}
		if root != nil && te.Field != "" {
			if found, ok := locate(root, strings.Split(te.Field, "."), te.Value); ok {
				p = strings.TrimPrefix(found, ".")
			}
		}
		return &FieldError{Path: p, Msg: "must be " + jsonType(te.Type) + ", not " + te.Value}
	}
	if pe, ok := errors.AsType[*time.ParseError](err); ok {
		p := "body"
		if root != nil {
			if found, ok := locateTime(root, pe.Value); ok {
				p = strings.TrimPrefix(found, ".")
			}
		}
		return &FieldError{Path: p, Msg: "not a time: " + quote(pe.Value)}
	}
	return &FieldError{Path: "body", Msg: "not an Interlock incident: " + err.Error()}
}

// locate finds the first value of JSON type got (as encoding/json names it: "string", "number", "bool",
// "array", "object") at the end of the field chain segs, stepping through arrays and map values that the
// chain does not name. It returns the path with indexes, e.g. ".alerts[1].title".
func locate(v *node, segs []string, got string) (string, bool) {
	if len(segs) == 0 && jsonTypeIs(v.kind, got) {
		return "", true
	}
	switch {
	case v.kind == kindArray:
		for i := range v.kids {
			if sub, ok := locate(&v.kids[i].val, segs, got); ok {
				return "[" + strconv.Itoa(i) + "]" + sub, true
			}
		}
	case v.kind == kindObject && len(segs) > 0:
		if m := v.get(segs[0]); m != nil {
			if sub, ok := locate(&m.val, segs[1:], got); ok {
				return "." + m.key + sub, true
			}
		}
	case v.kind == kindObject:
		// A map's values (customDetails): encoding/json's field chain stops at the map.
		for i := range v.kids {
			if sub, ok := locate(&v.kids[i].val, nil, got); ok {
				return "." + v.kids[i].key + sub, true
			}
		}
	}
	return "", false
}

func jsonTypeIs(k kind, got string) bool {
	name, _, _ := strings.Cut(got, " ") // "number 1e999"
	switch name {
	case "bool":
		return k == kindBool
	case "number":
		return k == kindNumber
	case "string":
		return k == kindString
	case "array":
		return k == kindArray
	case "object":
		return k == kindObject
	}
	return false
}

// ownTimeKeys are the time fields of Interlock's own form.
var ownTimeKeys = [...]string{
	"created", "lastModified", "firstActivity", "lastActivity", "startTime", "endTime", "timeGenerated", "firstSeen",
}

// locateTime finds the first time field whose value is the string value.
func locateTime(v *node, value string) (string, bool) {
	for i := range v.kids {
		m := &v.kids[i]
		if v.kind == kindObject && m.val.kind == kindString && m.val.s == value {
			for _, k := range ownTimeKeys {
				if asciiEqualFold(k, m.key) {
					return "." + m.key, true
				}
			}
		}
		if sub, ok := locateTime(&m.val, value); ok {
			if v.kind == kindArray {
				return "[" + strconv.Itoa(i) + "]" + sub, true
			}
			return "." + m.key + sub, true
		}
	}
	return "", false
}

// jsonType names the JSON a Go type decodes from.
func jsonType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	default:
		return "a " + t.String()
	}
}

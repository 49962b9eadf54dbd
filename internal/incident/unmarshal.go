package incident

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
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
	ev, err := Parse(data)
	if err != nil {
		return err
	}
	*inc = ev.Incident
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

// decodeOwnIncident decodes Interlock's own form. requireID is false for an event's previous state, which
// inherits the incident's ID.
func decodeOwnIncident(data []byte, requireID bool) (Incident, error) {
	var p plainIncident
	if err := json.Unmarshal(data, &p); err != nil {
		return Incident{}, ownFormError(err, data)
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
	var f formWire
	if err := decodeBody(data, &f); err != nil {
		return Incident{}, err
	}
	if f.form() != formIncident {
		var prev Incident
		err := prev.UnmarshalJSON(data)
		return prev, err
	}
	prev, err := decodeOwnIncident(data, false)
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
// names a field without array indexes ("alerts.title") and a bad time not at all, so the value is found
// again in data: a type error by its offset (UnmarshalTypeError.Field when that fails), a bad time by its
// text under a time key.
func ownFormError(err error, data []byte) error {
	if fe, ok := errors.AsType[*FieldError](err); ok {
		return fe
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		p := te.Field
		if p == "" {
			p = "body"
		}
		if found, ok := pathAtOffset(data, te.Offset); ok && te.Field != "" {
			p = found
		}
		return &FieldError{Path: p, Msg: "must be " + jsonType(te.Type) + ", not " + te.Value}
	}
	if pe, ok := errors.AsType[*time.ParseError](err); ok {
		p := "body"
		if found, ok := pathOfTime(data, pe.Value); ok {
			p = found
		}
		return &FieldError{Path: p, Msg: "not a time: " + quote(pe.Value)}
	}
	return &FieldError{Path: "body", Msg: "not an Interlock incident: " + err.Error()}
}

// pathAtOffset is the path of the value whose first token ends at offset, where encoding/json reports a
// type error.
func pathAtOffset(data []byte, offset int64) (string, bool) {
	found, ok := "", false
	_ = walkJSON(data, func(ev walkEvent) bool { // an error just leaves the path unfound
		if !ev.key && ev.end == offset && len(ev.at) > 0 {
			if d, isDelim := ev.tok.(json.Delim); !isDelim || d == '{' || d == '[' {
				found, ok = segsString(ev.at), true
				return false
			}
		}
		return ev.end < offset
	})
	return found, ok
}

// ownTimeKeys are the time fields of Interlock's own form.
var ownTimeKeys = [...]string{
	"created", "lastModified", "firstActivity", "lastActivity", "startTime", "endTime", "timeGenerated", "firstSeen",
}

// pathOfTime is the path of the first time field whose value is the string value.
func pathOfTime(data []byte, value string) (string, bool) {
	found, ok := "", false
	_ = walkJSON(data, func(ev walkEvent) bool { // an error just leaves the path unfound
		if s, isStr := ev.tok.(string); isStr && !ev.key && s == value && len(ev.at) > 0 {
			if last := ev.at[len(ev.at)-1]; last.index < 0 && slices.ContainsFunc(ownTimeKeys[:], func(k string) bool {
				return asciiEqualFold(k, last.key)
			}) {
				found, ok = segsString(ev.at), true
				return false
			}
		}
		return true
	})
	return found, ok
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

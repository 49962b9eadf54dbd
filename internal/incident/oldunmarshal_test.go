// Code copied from the parser before issue 14 (encoding/json wire structs), as the oracle the
// equivalence tests compare the new parser with. Do not edit.

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
func (inc *Incident) oldUnmarshalJSON(data []byte) error {

	if oldIsNull(data) {
		return nil
	}
	root, err := oldParseBody(data)
	if err != nil {
		return err
	}
	var got Incident
	switch oldFormOf(&root) {
	case oldFormTrigger:
		var ev Event
		ev, err = oldEventFromTrigger(&root)
		got = ev.Incident
	case oldFormRecord:
		got, err = oldIncidentFromRecord(&root)
	case oldFormEvent:
		var ev Event
		ev, err = oldDecodeOwnEvent(data)
		got = ev.Incident
	case oldFormIncident:
		got, err = oldDecodeOwnIncident(data, &root, true)
	default:
		err = oldErrUnknownForm()
	}
	if err != nil {
		return err
	}
	*inc = got
	return nil
}

func oldIsNull(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) == 0 || string(t) == "null"
}

// plainIncident has Incident's fields and encoding but not its UnmarshalJSON, so decoding into it uses
// encoding/json's struct decoding instead of recursing into form detection.
type oldPlainIncident Incident

// decodeOwnIncident decodes Interlock's own form; root is data already parsed, used to place errors.
// requireID is false for an event's previous state, which inherits the incident's ID.
func oldDecodeOwnIncident(data []byte, root *oldNode, requireID bool) (Incident, error) {
	var p oldPlainIncident
	if err := json.Unmarshal(data, &p); err != nil {
		return Incident{}, oldOwnFormError(err, root)
	}
	inc := Incident(p)
	if err := inc.oldNormalize(); err != nil {
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
func (inc *Incident) oldNormalize() error {
	utc := func(t *time.Time, p string) error {
		u := t.UTC()
		if y := u.Year(); y < 0 || y > 9999 {
			return &FieldError{Path: p, Msg: "not a time: year out of range"}
		}
		*t = u
		return nil
	}
	type field struct {
		oldPath string
		t       *time.Time
	}

	for _, f := range []field{
		{"created", &inc.Created}, {"lastModified", &inc.LastModified},
		{"firstActivity", &inc.FirstActivity}, {"lastActivity", &inc.LastActivity},
	} {
		if err := utc(f.t, f.oldPath); err != nil {
			return err
		}
	}
	inc.Labels, inc.Tactics, inc.Techniques = oldNilIfEmpty(inc.Labels), oldNilIfEmpty(inc.Tactics), oldNilIfEmpty(inc.Techniques)
	inc.AnalyticRuleIDs, inc.IPs = oldNilIfEmpty(inc.AnalyticRuleIDs), oldNilIfEmpty(inc.IPs)
	inc.Alerts, inc.Devices = oldNilIfEmpty(inc.Alerts), oldNilIfEmpty(inc.Devices)
	for i := range inc.Alerts {
		a := &inc.Alerts[i]
		at := "alerts[" + strconv.Itoa(i) + "]."
		for _, f := range []field{{"startTime", &a.StartTime}, {"endTime", &a.EndTime}, {"timeGenerated", &a.TimeGenerated}} {
			if err := utc(f.t, at+f.oldPath); err != nil {
				return err
			}
		}
		a.Tactics, a.Techniques, a.RemediationSteps = oldNilIfEmpty(a.Tactics), oldNilIfEmpty(a.Techniques), oldNilIfEmpty(a.RemediationSteps)
		if len(a.CustomDetails) == 0 {
			a.CustomDetails = nil
		}
	}
	for i := range inc.Devices {
		d := &inc.Devices[i]
		if err := utc(&d.FirstSeen, "devices["+strconv.Itoa(i)+"].firstSeen"); err != nil {
			return err
		}
		d.Protocols, d.Owners = oldNilIfEmpty(d.Protocols), oldNilIfEmpty(d.Owners)
	}
	return nil
}

func oldNilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ownEvent is Event's encoding with the incidents left raw, so each is decoded on its own and an error
// can be placed under "incident" or "previous".
type oldOwnEvent struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Incident json.RawMessage `json:"incident"`
	Previous json.RawMessage `json:"previous"`
}

func oldDecodeOwnEvent(data []byte) (Event, error) {
	var raw oldOwnEvent
	if err := json.Unmarshal(data, &raw); err != nil {
		return Event{}, oldOwnFormError(err, nil)
	}
	ev := Event{ID: raw.ID}
	switch strings.ToLower(strings.TrimSpace(raw.Type)) {
	case "", "create":
		ev.Type = EventCreate
	case "update":
		ev.Type = EventUpdate
	default:
		return Event{}, &FieldError{Path: "type", Msg: "must be Create or Update, not " + oldQuote(raw.Type)}
	}
	if oldIsNull(raw.Incident) {
		return Event{}, &FieldError{Path: "incident", Msg: "missing"}
	}
	if err := ev.Incident.oldUnmarshalJSON(raw.Incident); err != nil {
		return Event{}, oldUnder("incident", err)
	}
	if !oldIsNull(raw.Previous) {
		prev, err := oldDecodePrevious(raw.Previous, ev.Incident)
		if err != nil {
			return Event{}, oldUnder("previous", err)
		}
		ev.Previous = &prev
	}
	return ev, nil
}

// decodePrevious decodes an event's previous state. In Interlock's own form it may leave out the ID,
// which is the incident's.
func oldDecodePrevious(data []byte, current Incident) (Incident, error) {
	root, err := oldParseBody(data)
	if err != nil {
		return Incident{}, err
	}
	if oldFormOf(&root) != oldFormIncident {
		var prev Incident
		err := prev.oldUnmarshalJSON(data)
		return prev, err
	}
	prev, err := oldDecodeOwnIncident(data, &root, false)
	if err != nil {
		return Incident{}, err
	}
	if strings.TrimSpace(prev.ID) == "" {
		prev.ID = current.ID
	}
	return prev, nil
}

// under places a decoding error below a field of the enclosing document.
func oldUnder(prefix string, err error) error {
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
func oldOwnFormError(err error, root *oldNode) error {
	if fe, ok := errors.AsType[*FieldError](err); ok {
		return fe
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		p := te.Field
		if p == "" {
			p = "body"
		}
		if root != nil && te.Field != "" {
			if found, ok := oldLocate(root, strings.Split(te.Field, "."), te.Value); ok {
				p = strings.TrimPrefix(found, ".")
			}
		}
		return &FieldError{Path: p, Msg: "must be " + oldJsonType(te.Type) + ", not " + te.Value}
	}
	if pe, ok := errors.AsType[*time.ParseError](err); ok {
		p := "body"
		if root != nil {
			if found, ok := oldLocateTime(root, pe.Value); ok {
				p = strings.TrimPrefix(found, ".")
			}
		}
		return &FieldError{Path: p, Msg: "not a time: " + oldQuote(pe.Value)}
	}
	return &FieldError{Path: "body", Msg: "not an Interlock incident: " + err.Error()}
}

// locate finds the first value of JSON type got (as encoding/json names it: "string", "number", "bool",
// "array", "object") at the end of the field chain segs, stepping through arrays and map values that the
// chain does not name. It returns the path with indexes, e.g. ".alerts[1].title".
func oldLocate(v *oldNode, segs []string, got string) (string, bool) {
	if len(segs) == 0 && oldJsonTypeIs(v.oldKind, got) {
		return "", true
	}
	switch {
	case v.oldKind == oldKindArray:
		for i := range v.kids {
			if sub, ok := oldLocate(&v.kids[i].val, segs, got); ok {
				return "[" + strconv.Itoa(i) + "]" + sub, true
			}
		}
	case v.oldKind == oldKindObject && len(segs) > 0:
		if m := v.get(segs[0]); m != nil {
			if sub, ok := oldLocate(&m.val, segs[1:], got); ok {
				return "." + m.key + sub, true
			}
		}
	case v.oldKind == oldKindObject:

		for i := range v.kids {
			if sub, ok := oldLocate(&v.kids[i].val, nil, got); ok {
				return "." + v.kids[i].key + sub, true
			}
		}
	}
	return "", false
}

func oldJsonTypeIs(k oldKind, got string) bool {
	name, _, _ := strings.Cut(got, " ")
	switch name {
	case "bool":
		return k == oldKindBool
	case "number":
		return k == oldKindNumber
	case "string":
		return k == oldKindString
	case "array":
		return k == oldKindArray
	case "object":
		return k == oldKindObject
	}
	return false
}

// ownTimeKeys are the time fields of Interlock's own form.
var oldOwnTimeKeys = [...]string{
	"created", "lastModified", "firstActivity", "lastActivity", "startTime", "endTime", "timeGenerated", "firstSeen",
}

// locateTime finds the first time field whose value is the string value.
func oldLocateTime(v *oldNode, value string) (string, bool) {
	for i := range v.kids {
		m := &v.kids[i]
		if v.oldKind == oldKindObject && m.val.oldKind == oldKindString && m.val.s == value {
			for _, k := range oldOwnTimeKeys {
				if oldAsciiEqualFold(k, m.key) {
					return "." + m.key, true
				}
			}
		}
		if sub, ok := oldLocateTime(&m.val, value); ok {
			if v.oldKind == oldKindArray {
				return "[" + strconv.Itoa(i) + "]" + sub, true
			}
			return "." + m.key + sub, true
		}
	}
	return "", false
}

// jsonType names the JSON a Go type decodes from.
func oldJsonType(t reflect.Type) string {
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

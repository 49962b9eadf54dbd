package incident

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is the JSON type of a value.
type kind uint8

const (
	kindNull kind = iota // also a member that is missing
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// String names the kind the way error messages speak about it.
func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	default:
		return "object"
	}
}

// value is the one lenient type of the wire structs: any JSON value, decoded by encoding/json (which
// matches keys ignoring case) but judged only when the mapping reads it. Senders put numbers where strings
// belong and "True" where booleans do, and a field the mapping never reads must not fail a payload.
type value struct {
	kind kind
	set  bool   // the member is present, null included
	s    string // a string's text; a number's or boolean's literal
	raw  []byte // an array's or object's JSON, decoded further when the mapping descends into it
}

// UnmarshalJSON never fails: encoding/json has validated data before it calls this.
func (v *value) UnmarshalJSON(data []byte) error {
	*v = value{set: true}
	switch c := data[0]; {
	case c == '{':
		v.kind, v.raw = kindObject, slices.Clone(data)
	case c == '[':
		v.kind, v.raw = kindArray, slices.Clone(data)
	case c == '"':
		v.kind, v.s = kindString, unquote(data)
	case c == 't' || c == 'f':
		v.kind, v.s = kindBool, string(data)
	case c == 'n':
	default:
		v.kind, v.s = kindNumber, string(data)
	}
	return nil
}

// unquote decodes a JSON string. A run of invalid UTF-8 becomes one U+FFFD, as the parsers always did;
// strings with escapes (rare) go through encoding/json, which replaces each invalid byte.
func unquote(data []byte) string {
	body := data[1 : len(data)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		if utf8.Valid(body) {
			return string(body)
		}
		return string(bytes.ToValidUTF8(body, []byte("\uFFFD")))
	}
	var s string
	_ = json.Unmarshal(data, &s) // cannot fail on a string encoding/json validated
	return s
}

// text is the string form of a scalar ("" for null); ok is false for arrays and objects.
func (v *value) text() (string, bool) {
	return v.s, v.kind != kindArray && v.kind != kindObject
}

// textOrJSON is a scalar's text or a container's JSON, for values kept as text whatever they are.
func (v *value) textOrJSON() string {
	if v.raw != nil {
		return string(v.raw)
	}
	return v.s
}

// str reads a scalar as text; "" when missing or null. Senders put numbers where strings belong (IDs,
// ports), so those are accepted; an object or array is an error. p is the object holding key.
func (d *decoder) str(v *value, p *path, key string) string {
	s, ok := v.text()
	if !ok {
		d.failField(p, key, "must be a string, not "+v.kind.String())
	}
	return s
}

// memberPath returns the path of key in the object at p, carrying the member's JSON when it is an object.
func memberPath(p *path, key string, v *value) path {
	sub := p.field(key)
	sub.raw = v.raw
	return sub
}

// object decodes v into into when it is an object. ok is false when it is missing or null, and when it
// is something else, which is an error.
func (d *decoder) object(v *value, p *path, key string, into any) (sub path, ok bool) {
	if v.kind == kindNull {
		return path{}, false
	}
	sub = memberPath(p, key, v)
	if v.kind != kindObject {
		d.fail(&sub, "must be an object, not "+v.kind.String())
		return path{}, false
	}
	if err := json.Unmarshal(v.raw, into); err != nil {
		d.fail(&sub, "not JSON: "+err.Error()) // unreachable: the value was validated and wire fields never fail
		return path{}, false
	}
	return sub, true
}

// elements decodes an array's elements; v must be an array.
func (d *decoder) elements(v *value, p *path) []value {
	var els []value
	if err := json.Unmarshal(v.raw, &els); err != nil {
		d.fail(p, "not JSON: "+err.Error()) // unreachable, as in object
	}
	return els
}

// array returns the elements of v when it is an array of at most limit elements; nil when missing, null
// or empty; and fails otherwise.
func (d *decoder) array(v *value, p *path, key string, limit int) ([]value, path) {
	if v.kind == kindNull {
		return nil, path{}
	}
	sub := memberPath(p, key, v)
	if v.kind != kindArray {
		d.fail(&sub, "must be an array, not "+v.kind.String())
		return nil, path{}
	}
	els := d.elements(v, &sub)
	if len(els) > limit {
		d.fail(&sub, "more than "+strconv.Itoa(limit)+" items")
		return nil, path{}
	}
	if len(els) == 0 {
		return nil, path{}
	}
	return els, sub
}

// strs reads a list of strings. A plain string is accepted too and split at any of seps ("" keeps it
// whole): SecurityAlert spells tactics "Persistence, ImpairProcessControl" and owners may come as one
// string. Items are kept as sent; blank items and nulls are dropped. Labels may be objects with labelName.
func (d *decoder) strs(v *value, p *path, key, seps string) []string {
	if !v.set {
		return nil
	}
	sub := memberPath(p, key, v)
	return d.strList(v, &sub, seps)
}

// label is a Sentinel label, {"labelName": "...", "labelType": "User"}.
type label struct {
	LabelName value `json:"labelName"`
}

func (d *decoder) strList(v *value, p *path, seps string) []string {
	switch v.kind {
	case kindNull:
		return nil
	case kindArray:
	case kindObject:
		d.fail(p, "must be an array of strings, not object")
		return nil
	default:
		return splitList(v.s, seps)
	}
	els := d.elements(v, p)
	if len(els) > MaxListItems {
		d.fail(p, "more than "+strconv.Itoa(MaxListItems)+" items")
		return nil
	}
	var out []string
	for i := range els {
		el := &els[i]
		s, ok := el.text()
		if !ok && el.kind == kindObject {
			var l label
			if json.Unmarshal(el.raw, &l) == nil && l.LabelName.set {
				s, ok = l.LabelName.text()
			}
		}
		if !ok {
			sub := p.elem(i)
			d.fail(&sub, "must be a string, not "+el.kind.String())
			return nil
		}
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// boolean reads true/false, "True"/"false" strings or 1/0. present is false when the member is missing,
// null or an empty string, so a caller can fall back to another place the flag may live.
func (d *decoder) boolean(v *value, p *path, key string) (val, present bool) {
	switch v.kind {
	case kindNull:
		return false, false
	case kindBool:
		return v.s == "true", true
	case kindString, kindNumber:
		switch s := strings.TrimSpace(v.s); {
		case s == "":
			return false, false
		case asciiEqualFold(s, "true") || s == "1" || asciiEqualFold(s, "yes"):
			return true, true
		case asciiEqualFold(s, "false") || s == "0" || asciiEqualFold(s, "no"):
			return false, true
		}
		d.failField(p, key, "not a boolean: "+quote(v.s))
	default:
		d.failField(p, key, "must be a boolean, not "+v.kind.String())
	}
	return false, false
}

// integer reads a number or a numeric string; 0 when missing or null.
func (d *decoder) integer(v *value, p *path, key string) int64 {
	switch v.kind {
	case kindNull:
		return 0
	case kindNumber, kindString:
		s := strings.TrimSpace(v.s)
		if s == "" {
			return 0
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		// 4312.0 or 4.312e3 still name an integer.
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		d.failField(p, key, "not an integer: "+quote(v.s))
	default:
		d.failField(p, key, "must be a number, not "+v.kind.String())
	}
	return 0
}

// timestamp reads a time; zero when missing, null or empty.
func (d *decoder) timestamp(v *value, p *path, key string) time.Time {
	if v.kind != kindString && v.kind != kindNull {
		d.failField(p, key, "must be a string, not "+v.kind.String())
		return time.Time{}
	}
	t, ok := parseTime(v.s)
	if !ok {
		d.failField(p, key, "not a time: "+quote(v.s))
	}
	return t
}

// nested reads a member that holds JSON of the given kind, either directly or as a JSON string (the
// SecurityAlert table keeps ExtendedProperties, Entities and Custom Details as strings). nil when missing,
// null or blank.
func (d *decoder) nested(v *value, p *path, key string, want kind) (*value, path) {
	if v.kind == kindNull {
		return nil, path{}
	}
	sub := memberPath(p, key, v)
	if v.kind == kindString {
		if strings.TrimSpace(v.s) == "" {
			return nil, path{}
		}
		var parsed value
		if err := decodeJSON([]byte(v.s), &parsed); err != nil {
			d.fail(&sub, "not JSON: "+err.Error())
			return nil, path{}
		}
		if parsed.kind == kindNull {
			return nil, path{}
		}
		v = &parsed
		sub.raw = parsed.raw
	}
	if v.kind != want {
		d.fail(&sub, "must be a JSON "+want.String()+", not "+v.kind.String())
		return nil, path{}
	}
	return v, sub
}

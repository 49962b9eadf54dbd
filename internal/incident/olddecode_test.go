// Code copied from the parser before issue 14 (encoding/json wire structs), as the oracle the
// equivalence tests compare the new parser with. Do not edit.

package incident

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// path is the location of a value, built on the stack as the decoder descends and turned into text only
// when an error needs it. The root is the nil *path.
type oldPath struct {
	parent *oldPath
	key    string
	index  int // element index; -1 for an object member
}

func (p *oldPath) field(key string) oldPath { return oldPath{parent: p, key: key, index: -1} }
func (p *oldPath) elem(i int) oldPath       { return oldPath{parent: p, index: i} }

func (p *oldPath) String() string {
	if p == nil {
		return "body"
	}
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p *oldPath) write(b *strings.Builder) {
	if p.parent != nil {
		p.parent.write(b)
	}
	if p.index >= 0 {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(p.index))
		b.WriteByte(']')
		return
	}
	if p.parent != nil {
		b.WriteByte('.')
	}
	b.WriteString(p.key)
}

// decoder maps a parsed tree onto the model. The first error sticks and later reads are harmless, which
// keeps the field-by-field mapping code flat; callers check d.err once per entity.
type oldDecoder struct {
	err *FieldError
}

func (d *oldDecoder) fail(p *oldPath, msg string) {
	if d.err == nil {
		d.err = &FieldError{Path: p.String(), Msg: msg}
	}
}

func (d *oldDecoder) failField(p *oldPath, key, msg string) {
	sub := p.field(key)
	d.fail(&sub, msg)
}

// quote renders a bad value for an error message, shortened so a hostile megabyte is not echoed back.
func oldQuote(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// text is the string form of a scalar: the string itself, a number's literal, "true"/"false", or "" for
// null. ok is false for arrays and objects.
func oldText(v *oldNode) (s string, ok bool) {
	switch v.oldKind {
	case oldKindArray, oldKindObject:
		return "", false
	default:
		return v.s, true
	}
}

// str reads a scalar member as text; "" when missing or null. Senders put numbers where strings belong
// (IDs, ports), so those are accepted; an object or array is an error.
func (d *oldDecoder) str(obj *oldNode, p *oldPath, key string) string {
	m := obj.get(key)
	if m == nil {
		return ""
	}
	s, ok := oldText(&m.val)
	if !ok {
		d.failField(p, m.key, "must be a string, not "+m.val.oldKind.String())
	}
	return s
}

// strFirst returns the first non-empty of several spellings of one field.
func (d *oldDecoder) strFirst(obj *oldNode, p *oldPath, keys ...string) string {
	for _, k := range keys {
		if s := d.str(obj, p, k); s != "" {
			return s
		}
	}
	return ""
}

// object returns the member key when it is an object, nil when missing or null, and fails otherwise.
func (d *oldDecoder) object(obj *oldNode, p *oldPath, key string) (*oldNode, oldPath) {
	m := obj.get(key)
	if m == nil || m.val.oldKind == oldKindNull {
		return nil, oldPath{}
	}
	if m.val.oldKind != oldKindObject {
		d.failField(p, m.key, "must be an object, not "+m.val.oldKind.String())
		return nil, oldPath{}
	}
	return &m.val, p.field(m.key)
}

// array returns the member key when it is an array of at most limit elements, nil when missing, null or
// empty, and fails otherwise.
func (d *oldDecoder) array(obj *oldNode, p *oldPath, key string, limit int) (*oldNode, oldPath) {
	m := obj.get(key)
	if m == nil || m.val.oldKind == oldKindNull {
		return nil, oldPath{}
	}
	sub := p.field(m.key)
	if m.val.oldKind != oldKindArray {
		d.fail(&sub, "must be an array, not "+m.val.oldKind.String())
		return nil, oldPath{}
	}
	if len(m.val.kids) > limit {
		d.fail(&sub, "more than "+strconv.Itoa(limit)+" items")
		return nil, oldPath{}
	}
	if len(m.val.kids) == 0 {
		return nil, oldPath{}
	}
	return &m.val, sub
}

// strs reads a list of strings. A plain string is accepted too and split at any of seps ("" keeps it
// whole): SecurityAlert spells tactics "Persistence, ImpairProcessControl" and owners may come as one
// string. Items are kept as sent; blank items and nulls are dropped. Labels may be objects with labelName.
func (d *oldDecoder) strs(obj *oldNode, p *oldPath, key, seps string) []string {
	m := obj.get(key)
	if m == nil {
		return nil
	}
	sub := p.field(m.key)
	return d.strList(&m.val, &sub, seps)
}

func (d *oldDecoder) strList(v *oldNode, p *oldPath, seps string) []string {
	switch v.oldKind {
	case oldKindNull:
		return nil
	case oldKindArray:
	case oldKindObject:
		d.fail(p, "must be an array of strings, not object")
		return nil
	default:
		return oldSplitList(v.s, seps)
	}
	if len(v.kids) > MaxListItems {
		d.fail(p, "more than "+strconv.Itoa(MaxListItems)+" items")
		return nil
	}
	var out []string
	for i := range v.kids {
		el := &v.kids[i].val
		s, ok := oldText(el)
		if !ok && el.oldKind == oldKindObject {

			if m := el.get("labelName"); m != nil {
				s, ok = oldText(&m.val)
			}
		}
		if !ok {
			sub := p.elem(i)
			d.fail(&sub, "must be a string, not "+el.oldKind.String())
			return nil
		}
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func oldSplitList(s, seps string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if seps == "" || !strings.ContainsAny(s, seps) {
		return []string{s}
	}
	var out []string
	for len(s) > 0 && len(out) < MaxListItems {
		i := strings.IndexAny(s, seps)
		item := s
		if i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// boolean reads true/false, "True"/"false" strings or 1/0. present is false when the member is missing,
// null or an empty string, so a caller can fall back to another place the flag may live.
func (d *oldDecoder) boolean(obj *oldNode, p *oldPath, key string) (val, present bool) {
	m := obj.get(key)
	if m == nil {
		return false, false
	}
	switch m.val.oldKind {
	case oldKindNull:
		return false, false
	case oldKindBool:
		return m.val.s == "true", true
	case oldKindString, oldKindNumber:
		switch s := strings.TrimSpace(m.val.s); {
		case s == "":
			return false, false
		case oldAsciiEqualFold(s, "true") || s == "1" || oldAsciiEqualFold(s, "yes"):
			return true, true
		case oldAsciiEqualFold(s, "false") || s == "0" || oldAsciiEqualFold(s, "no"):
			return false, true
		}
		d.failField(p, m.key, "not a boolean: "+oldQuote(m.val.s))
	default:
		d.failField(p, m.key, "must be a boolean, not "+m.val.oldKind.String())
	}
	return false, false
}

// integer reads a number or a numeric string; 0 when missing or null.
func (d *oldDecoder) integer(obj *oldNode, p *oldPath, key string) int64 {
	m := obj.get(key)
	if m == nil {
		return 0
	}
	switch m.val.oldKind {
	case oldKindNull:
		return 0
	case oldKindNumber, oldKindString:
		s := strings.TrimSpace(m.val.s)
		if s == "" {
			return 0
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}

		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		d.failField(p, m.key, "not an integer: "+oldQuote(m.val.s))
	default:
		d.failField(p, m.key, "must be a number, not "+m.val.oldKind.String())
	}
	return 0
}

// timestamp reads a time; zero when missing, null or empty.
func (d *oldDecoder) timestamp(obj *oldNode, p *oldPath, key string) time.Time {
	m := obj.get(key)
	if m == nil {
		return time.Time{}
	}
	if m.val.oldKind != oldKindString && m.val.oldKind != oldKindNull {
		d.failField(p, m.key, "must be a string, not "+m.val.oldKind.String())
		return time.Time{}
	}
	t, ok := oldParseTime(m.val.s)
	if !ok {
		d.failField(p, m.key, "not a time: "+oldQuote(m.val.s))
	}
	return t
}

// looseLayouts are tried when a time is not RFC 3339: no zone (Sentinel times are UTC), a numeric zone
// without a colon, or a bare date.
var oldLooseLayouts = [...]string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02",
}

// parseTime accepts RFC 3339 with or without fractional seconds, plus the common near misses: a space or
// lower-case t between date and time, a lower-case z, no zone at all. The result is UTC so that a time
// survives a JSON round trip unchanged; years JSON cannot encode are rejected.
func oldParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
			s = s[:10] + "T" + s[11:]
		}
		if strings.HasSuffix(s, "z") {
			s = s[:len(s)-1] + "Z"
		}
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			for _, layout := range oldLooseLayouts {
				if t, err = time.Parse(layout, s); err == nil {
					break
				}
			}
		}
		if err != nil {
			return time.Time{}, false
		}
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// canonical returns the table's spelling of s when it matches one ignoring case and space ("high" →
// "High"), so rules can compare with ==; other values are kept as sent.
func oldCanonical(s string, table []string) string {
	t := strings.TrimSpace(s)
	for _, v := range table {
		if oldAsciiEqualFold(v, t) {
			return v
		}
	}
	return s
}

var (
	oldSeverities     = [...]string{SeverityInformational, SeverityLow, SeverityMedium, SeverityHigh}
	oldStatuses       = [...]string{StatusNew, StatusActive, StatusClosed}
	oldAlertStatuses  = [...]string{"New", "InProgress", "Resolved", "Dismissed", "Closed", "Active", "Unknown"}
	oldImportanceList = [...]string{"Low", "Normal", "High", "Unknown"}
)

// nested reads a member that holds JSON of the given kind, either directly or as a JSON string (the
// SecurityAlert table keeps ExtendedProperties, Entities and Custom Details as strings). nil when missing,
// null or blank.
func (d *oldDecoder) nested(obj *oldNode, p *oldPath, key string, want oldKind) (*oldNode, oldPath) {
	m := obj.get(key)
	if m == nil || m.val.oldKind == oldKindNull {
		return nil, oldPath{}
	}
	sub := p.field(m.key)
	v := &m.val
	if v.oldKind == oldKindString {
		if strings.TrimSpace(v.s) == "" {
			return nil, oldPath{}
		}
		parsed, err := oldParseJSON(v.s)
		if err != nil {
			d.fail(&sub, "not JSON: "+err.Error())
			return nil, oldPath{}
		}
		if parsed.oldKind == oldKindNull {
			return nil, oldPath{}
		}
		v = &parsed
	}
	if v.oldKind != want {
		d.fail(&sub, "must be a JSON "+want.String()+", not "+v.oldKind.String())
		return nil, oldPath{}
	}
	return v, sub
}

package incident

import (
	"strconv"
	"strings"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// Limits against hostile payloads. A real incident has a handful of alerts and entities; the caps are far
// above that and keep one request from making a playbook fan out over millions of items.
const (
	// MaxAlerts is the most alerts one incident may carry.
	MaxAlerts = 500
	// MaxEntities is the most entities one incident or alert record may carry.
	MaxEntities = 1000
	// MaxListItems is the most items of any other list (tactics, labels, owners, custom details, ...).
	MaxListItems = 1000
)

// FieldError is an input the parsers cannot use. Path names the field as the sender spelled it, e.g.
// "object.properties.Alerts[0].properties.startTimeUtc", or "body" for the document as a whole, so the
// intake can answer 400 with the exact field.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// path is the location of a value, built on the stack as the decoder descends and turned into text only
// when an error needs it. Keys are the wire structs' spellings; raw is the JSON of the object at the path,
// so that the key of a member below it can be named as the sender spelled it. The document itself is a
// path with top set (or a nil *path), named "body".
type path struct {
	parent *path
	key    string
	index  int // element index; -1 for an object member
	raw    []byte
	top    bool
}

// topPath is the path of a document whose JSON is raw.
func topPath(raw []byte) path { return path{index: -1, raw: raw, top: true} }

func (p *path) field(key string) path { return path{parent: p, key: key, index: -1} }
func (p *path) elem(i int) path       { return path{parent: p, index: i} }

func (p *path) String() string {
	if p == nil || p.top {
		return "body"
	}
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p *path) write(b *strings.Builder) {
	inner := p.parent != nil && !p.parent.top
	if inner {
		p.parent.write(b)
	}
	if p.index >= 0 {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(p.index))
		b.WriteByte(']')
		return
	}
	if inner {
		b.WriteByte('.')
	}
	var obj []byte
	if p.parent != nil {
		obj = p.parent.raw
	}
	b.WriteString(spelledKey(obj, p.key))
}

// decoder maps decoded wire values onto the model. The first error sticks and later reads are harmless,
// which keeps the field-by-field mapping code flat; callers check d.err once per entity. Wire fields are
// lenient values that never fail to decode, so a field is checked when it is read, in mapping order: a
// field the mapping does not need (a friendlyName when alertDisplayName is set) cannot fail a payload.
type decoder struct {
	err *FieldError
}

func (d *decoder) fail(p *path, msg string) {
	if d.err == nil {
		d.err = &FieldError{Path: p.String(), Msg: msg}
	}
}

// failField fails the member key of the object at p.
func (d *decoder) failField(p *path, key, msg string) {
	sub := p.field(key)
	d.fail(&sub, msg)
}

// quote renders a bad value for an error message, shortened so a hostile megabyte is not echoed back.
func quote(s string) string { return safetext.Quote(s, 64) }

// canonical returns the table's spelling of s when it matches one ignoring case and space ("high" →
// "High"), so rules can compare with ==; other values are kept as sent.
func canonical(s string, table []string) string {
	t := strings.TrimSpace(s)
	for _, v := range table {
		if asciiEqualFold(v, t) {
			return v
		}
	}
	return s
}

var (
	severities     = [...]string{SeverityInformational, SeverityLow, SeverityMedium, SeverityHigh}
	statuses       = [...]string{StatusNew, StatusActive, StatusClosed}
	alertStatuses  = [...]string{"New", "InProgress", "Resolved", "Dismissed", "Closed", "Active", "Unknown"}
	importanceList = [...]string{"Low", "Normal", "High", "Unknown"}
)

// asciiEqualFold compares two strings ignoring ASCII case: the enumerations compared with it are ASCII.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

func splitList(s, seps string) []string {
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

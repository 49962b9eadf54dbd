// Code copied from the parser before issue 14 (encoding/json wire structs), as the oracle the
// equivalence tests compare the new parser with. Do not edit.

package incident

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the JSON type of a node.
type oldKind uint8

const (
	oldKindNull oldKind = iota
	oldKindBool
	oldKindNumber
	oldKindString
	oldKindArray
	oldKindObject
)

// String names the kind the way error messages speak about it.
func (k oldKind) String() string {
	switch k {
	case oldKindNull:
		return "null"
	case oldKindBool:
		return "boolean"
	case oldKindNumber:
		return "number"
	case oldKindString:
		return "string"
	case oldKindArray:
		return "array"
	default:
		return "object"
	}
}

// node is one JSON value.
type oldNode struct {
	oldKind oldKind
	// s is the decoded text of a string, the literal of a number or boolean, and the raw JSON text of an
	// array or object (so a nested value can be kept as text without re-encoding it).
	s string
	// kids are the elements of an array (key "") or the members of an object, in document order.
	kids []oldMember
}

type oldMember struct {
	key string
	val oldNode
}

// maxDepth bounds nesting so a hostile "[[[[…" cannot make the reader recurse without end. Real payloads
// nest about ten levels.
const oldMaxDepth = 512

// syntaxError is a JSON syntax error with the byte offset it was found at.
type oldSyntaxError struct {
	msg    string
	offset int
}

func (e *oldSyntaxError) Error() string {
	return e.msg + " at offset " + strconv.Itoa(e.offset)
}

// reader parses one document. stack is scratch space shared by all containers: members are collected
// there and copied into an exactly sized slice when their container closes.
type oldReader struct {
	src   string
	pos   int
	depth int
	stack []oldMember
	err   *oldSyntaxError
}

// parseJSON parses a whole document; anything but white space after the value is an error.
func oldParseJSON(src string) (oldNode, error) {

	r := oldReader{src: src, stack: make([]oldMember, 0, min(64, 4+len(src)/32))}
	v := r.value()
	if r.err == nil {
		r.skipSpace()
		if r.pos < len(r.src) {
			r.fail("invalid character " + oldQuoteChar(r.src[r.pos]) + " after top-level value")
		}
	}
	if r.err != nil {
		return oldNode{}, r.err
	}
	return v, nil
}

func (r *oldReader) fail(msg string) {
	if r.err == nil {
		r.err = &oldSyntaxError{msg: msg, offset: r.pos}
	}
}

func oldQuoteChar(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	const hexDigits = "0123456789abcdef"
	return `'\x` + string([]byte{hexDigits[c>>4], hexDigits[c&15]}) + "'"
}

func (r *oldReader) skipSpace() {
	for r.pos < len(r.src) {
		switch r.src[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *oldReader) value() oldNode {
	r.skipSpace()
	if r.pos >= len(r.src) {
		r.fail("unexpected end of input")
		return oldNode{}
	}
	switch c := r.src[r.pos]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		s := r.str()
		return oldNode{oldKind: oldKindString, s: s}
	case c == 't':
		return r.literal("true", oldKindBool)
	case c == 'f':
		return r.literal("false", oldKindBool)
	case c == 'n':
		return r.literal("null", oldKindNull)
	case c == '-' || ('0' <= c && c <= '9'):
		return r.number()
	default:
		r.fail("invalid character " + oldQuoteChar(c) + " looking for beginning of value")
		return oldNode{}
	}
}

func (r *oldReader) literal(lit string, k oldKind) oldNode {
	if !strings.HasPrefix(r.src[r.pos:], lit) {
		r.fail("invalid literal, expected " + lit)
		return oldNode{}
	}
	r.pos += len(lit)
	if k == oldKindNull {
		return oldNode{}
	}
	return oldNode{oldKind: k, s: lit}
}

func (r *oldReader) number() oldNode {
	start := r.pos
	src := r.src
	if src[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(src) && src[r.pos] == '0':
		r.pos++
	case r.pos < len(src) && '1' <= src[r.pos] && src[r.pos] <= '9':
		r.digits()
	default:
		r.fail("invalid number")
		return oldNode{}
	}
	if r.pos < len(src) && src[r.pos] == '.' {
		r.pos++
		if !r.digits() {
			r.fail("invalid number: no digits after decimal point")
			return oldNode{}
		}
	}
	if r.pos < len(src) && (src[r.pos] == 'e' || src[r.pos] == 'E') {
		r.pos++
		if r.pos < len(src) && (src[r.pos] == '+' || src[r.pos] == '-') {
			r.pos++
		}
		if !r.digits() {
			r.fail("invalid number: no digits in exponent")
			return oldNode{}
		}
	}
	return oldNode{oldKind: oldKindNumber, s: src[start:r.pos]}
}

// digits consumes a run of digits and says whether there was at least one.
func (r *oldReader) digits() bool {
	start := r.pos
	for r.pos < len(r.src) && '0' <= r.src[r.pos] && r.src[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
}

// str reads a string starting at the opening quote. Strings without escapes are substrings of the input;
// invalid UTF-8 is replaced with U+FFFD so that everything downstream (and json.Marshal) sees valid text.
func (r *oldReader) str() string {
	r.pos++
	start := r.pos
	src := r.src

	if n := strings.IndexByte(src[start:], '"'); n >= 0 {
		s := src[start : start+n]
		if strings.IndexByte(s, '\\') < 0 {
			for i := 0; i < len(s); i++ {
				if s[i] < 0x20 {
					r.pos = start + i
					r.fail("invalid control character in string")
					return ""
				}
			}
			r.pos = start + n + 1
			if !utf8.ValidString(s) {
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
			return s
		}
	}
	for r.pos < len(src) {
		c := src[r.pos]
		switch {
		case c == '"':
			s, ok := oldUnescape(src[start:r.pos])
			if !ok {
				r.pos = start
				r.fail("invalid escape in string")
				return ""
			}
			r.pos++
			return s
		case c == '\\':
			r.pos += 2
		case c < 0x20:
			r.fail("invalid control character in string")
			return ""
		default:
			r.pos++
		}
	}
	r.pos = len(src)
	r.fail("unexpected end of input in string")
	return ""
}

// unescape decodes the body of a string that holds escapes, the way encoding/json does: a lone or
// mismatched surrogate becomes U+FFFD.
func oldUnescape(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				b.WriteByte(c)
				i++
				continue
			}
			rr, size := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(rr)
			i += size
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			b.WriteByte(s[i+1])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			rr, ok := oldHex4(s[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(rr) {
				if len(s) >= i+6 && s[i] == '\\' && s[i+1] == 'u' {
					if rr2, ok := oldHex4(s[i+2:]); ok {
						if dec := utf16.DecodeRune(rr, rr2); dec != utf8.RuneError {
							b.WriteRune(dec)
							i += 6
							continue
						}
					}
				}
				rr = utf8.RuneError
			}
			b.WriteRune(rr)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

func oldHex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for i := range 4 {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func (r *oldReader) enter() bool {
	r.depth++
	if r.depth > oldMaxDepth {
		r.fail("nesting deeper than " + strconv.Itoa(oldMaxDepth) + " levels")
		return false
	}
	return true
}

// collect moves the members pushed since base into their own slice.
func (r *oldReader) collect(base int) []oldMember {
	n := len(r.stack) - base
	if n == 0 {
		return nil
	}
	kids := make([]oldMember, n)
	copy(kids, r.stack[base:])
	r.stack = r.stack[:base]
	return kids
}

func (r *oldReader) object() oldNode {
	start := r.pos
	if !r.enter() {
		return oldNode{}
	}
	defer func() { r.depth-- }()
	r.pos++
	base := len(r.stack)
	r.skipSpace()
	if r.pos < len(r.src) && r.src[r.pos] == '}' {
		r.pos++
		return oldNode{oldKind: oldKindObject, s: r.src[start:r.pos]}
	}
	for r.err == nil {
		r.skipSpace()
		if r.pos >= len(r.src) {
			r.fail("unexpected end of input in object")
			break
		}
		if r.src[r.pos] != '"' {
			r.fail("invalid character " + oldQuoteChar(r.src[r.pos]) + " looking for beginning of object key")
			break
		}
		key := r.str()
		r.skipSpace()
		if r.err != nil {
			break
		}
		if r.pos >= len(r.src) || r.src[r.pos] != ':' {
			r.expected("':' after object key")
			break
		}
		r.pos++
		v := r.value()
		if r.err != nil {
			break
		}
		r.stack = append(r.stack, oldMember{key: key, val: v})
		r.skipSpace()
		if r.pos < len(r.src) && r.src[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(r.src) && r.src[r.pos] == '}' {
			r.pos++
			return oldNode{oldKind: oldKindObject, s: r.src[start:r.pos], kids: r.collect(base)}
		}
		r.expected("',' or '}' after object value")
	}
	r.stack = r.stack[:base]
	return oldNode{}
}

func (r *oldReader) array() oldNode {
	start := r.pos
	if !r.enter() {
		return oldNode{}
	}
	defer func() { r.depth-- }()
	r.pos++
	base := len(r.stack)
	r.skipSpace()
	if r.pos < len(r.src) && r.src[r.pos] == ']' {
		r.pos++
		return oldNode{oldKind: oldKindArray, s: r.src[start:r.pos]}
	}
	for r.err == nil {
		v := r.value()
		if r.err != nil {
			break
		}
		r.stack = append(r.stack, oldMember{val: v})
		r.skipSpace()
		if r.pos < len(r.src) && r.src[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(r.src) && r.src[r.pos] == ']' {
			r.pos++
			return oldNode{oldKind: oldKindArray, s: r.src[start:r.pos], kids: r.collect(base)}
		}
		r.expected("',' or ']' after array element")
	}
	r.stack = r.stack[:base]
	return oldNode{}
}

func (r *oldReader) expected(what string) {
	if r.pos >= len(r.src) {
		r.fail("unexpected end of input, expected " + what)
		return
	}
	r.fail("invalid character " + oldQuoteChar(r.src[r.pos]) + ", expected " + what)
}

// get returns the member whose key equals key, ignoring ASCII case, or nil when v is not an object or has
// no such key. An exact match wins over a case-folded one, and the last of duplicates wins, as with
// encoding/json, so this reader and any other decoder agree on which value a key has.
func (v *oldNode) get(key string) *oldMember {
	if v == nil || v.oldKind != oldKindObject {
		return nil
	}
	var exact, folded *oldMember
	for i := range v.kids {
		m := &v.kids[i]
		if len(m.key) != len(key) {
			continue
		}
		if m.key == key {
			exact = m
		} else if oldAsciiEqualFold(m.key, key) {
			folded = m
		}
	}
	if exact != nil {
		return exact
	}
	return folded
}

// has reports whether v is an object with the key, whatever its value.
func (v *oldNode) has(key string) bool { return v.get(key) != nil }

// asciiEqualFold compares two strings ignoring ASCII case. Schema keys are ASCII; Unicode
// folding (e.g. the Kelvin sign to "k") would only help a hostile sender alias a key.
func oldAsciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
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

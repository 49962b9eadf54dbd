package incident

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON reader that turns a document into a tree the parsers can query with
// case-insensitive keys. encoding/json into map[string]any costs ~80 µs and ~540 allocations for a 10 KB
// trigger body (json.Valid alone is ~30 µs); this reader validates and builds the tree in one pass, with one
// allocation per non-empty container, and shares unescaped strings with one copy of the input.

// kind is the JSON type of a node.
type kind uint8

const (
	kindNull kind = iota
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

// node is one JSON value.
type node struct {
	kind kind
	// s is the decoded text of a string, the literal of a number or boolean, and the raw JSON text of an
	// array or object (so a nested value can be kept as text without re-encoding it).
	s string
	// kids are the elements of an array (key "") or the members of an object, in document order.
	kids []member
}

type member struct {
	key string
	val node
}

// maxDepth bounds nesting so a hostile "[[[[…" cannot make the reader recurse without end. Real payloads
// nest about ten levels.
const maxDepth = 512

// syntaxError is a JSON syntax error with the byte offset it was found at.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	return e.msg + " at offset " + strconv.Itoa(e.offset)
}

// reader parses one document. stack is scratch space shared by all containers: members are collected
// there and copied into an exactly sized slice when their container closes.
type reader struct {
	src   string
	pos   int
	depth int
	stack []member
	err   *syntaxError
}

// parseJSON parses a whole document; anything but white space after the value is an error.
func parseJSON(src string) (node, error) {
	// Scratch for about one member per 32 bytes of input, capped: enough for the open containers of a
	// trigger body without growing, small for the JSON strings nested inside one.
	r := reader{src: src, stack: make([]member, 0, min(64, 4+len(src)/32))}
	v := r.value()
	if r.err == nil {
		r.skipSpace()
		if r.pos < len(r.src) {
			r.fail("invalid character " + quoteChar(r.src[r.pos]) + " after top-level value")
		}
	}
	if r.err != nil {
		return node{}, r.err
	}
	return v, nil
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = &syntaxError{msg: msg, offset: r.pos}
	}
}

func quoteChar(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	const hexDigits = "0123456789abcdef"
	return `'\x` + string([]byte{hexDigits[c>>4], hexDigits[c&15]}) + "'"
}

func (r *reader) skipSpace() {
	for r.pos < len(r.src) {
		switch r.src[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *reader) value() node {
	r.skipSpace()
	if r.pos >= len(r.src) {
		r.fail("unexpected end of input")
		return node{}
	}
	switch c := r.src[r.pos]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		s := r.str()
		return node{kind: kindString, s: s}
	case c == 't':
		return r.literal("true", kindBool)
	case c == 'f':
		return r.literal("false", kindBool)
	case c == 'n':
		return r.literal("null", kindNull)
	case c == '-' || ('0' <= c && c <= '9'):
		return r.number()
	default:
		r.fail("invalid character " + quoteChar(c) + " looking for beginning of value")
		return node{}
	}
}

func (r *reader) literal(lit string, k kind) node {
	if !strings.HasPrefix(r.src[r.pos:], lit) {
		r.fail("invalid literal, expected " + lit)
		return node{}
	}
	r.pos += len(lit)
	if k == kindNull {
		return node{}
	}
	return node{kind: k, s: lit}
}

func (r *reader) number() node {
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
		return node{}
	}
	if r.pos < len(src) && src[r.pos] == '.' {
		r.pos++
		if !r.digits() {
			r.fail("invalid number: no digits after decimal point")
			return node{}
		}
	}
	if r.pos < len(src) && (src[r.pos] == 'e' || src[r.pos] == 'E') {
		r.pos++
		if r.pos < len(src) && (src[r.pos] == '+' || src[r.pos] == '-') {
			r.pos++
		}
		if !r.digits() {
			r.fail("invalid number: no digits in exponent")
			return node{}
		}
	}
	return node{kind: kindNumber, s: src[start:r.pos]}
}

// digits consumes a run of digits and says whether there was at least one.
func (r *reader) digits() bool {
	start := r.pos
	for r.pos < len(r.src) && '0' <= r.src[r.pos] && r.src[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
}

// str reads a string starting at the opening quote. Strings without escapes are substrings of the input;
// invalid UTF-8 is replaced with U+FFFD so that everything downstream (and json.Marshal) sees valid text.
func (r *reader) str() string {
	r.pos++ // opening quote
	start := r.pos
	src := r.src
	// Fast path: find the closing quote with IndexByte (vectorised) and accept the run if it holds no
	// backslash and no control character, which is nearly every string in a real payload.
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
			s, ok := unescape(src[start:r.pos])
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
func unescape(s string) (string, bool) {
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
			b.WriteRune(rr) // writes U+FFFD for an invalid byte
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
			rr, ok := hex4(s[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(rr) {
				if len(s) >= i+6 && s[i] == '\\' && s[i+1] == 'u' {
					if rr2, ok := hex4(s[i+2:]); ok {
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

func hex4(s string) (rune, bool) {
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

func (r *reader) enter() bool {
	r.depth++
	if r.depth > maxDepth {
		r.fail("nesting deeper than " + strconv.Itoa(maxDepth) + " levels")
		return false
	}
	return true
}

// collect moves the members pushed since base into their own slice.
func (r *reader) collect(base int) []member {
	n := len(r.stack) - base
	if n == 0 {
		return nil
	}
	kids := make([]member, n)
	copy(kids, r.stack[base:])
	r.stack = r.stack[:base]
	return kids
}

func (r *reader) object() node {
	start := r.pos
	if !r.enter() {
		return node{}
	}
	defer func() { r.depth-- }()
	r.pos++ // {
	base := len(r.stack)
	r.skipSpace()
	if r.pos < len(r.src) && r.src[r.pos] == '}' {
		r.pos++
		return node{kind: kindObject, s: r.src[start:r.pos]}
	}
	for r.err == nil {
		r.skipSpace()
		if r.pos >= len(r.src) {
			r.fail("unexpected end of input in object")
			break
		}
		if r.src[r.pos] != '"' {
			r.fail("invalid character " + quoteChar(r.src[r.pos]) + " looking for beginning of object key")
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
		r.stack = append(r.stack, member{key: key, val: v})
		r.skipSpace()
		if r.pos < len(r.src) && r.src[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(r.src) && r.src[r.pos] == '}' {
			r.pos++
			return node{kind: kindObject, s: r.src[start:r.pos], kids: r.collect(base)}
		}
		r.expected("',' or '}' after object value")
	}
	r.stack = r.stack[:base]
	return node{}
}

func (r *reader) array() node {
	start := r.pos
	if !r.enter() {
		return node{}
	}
	defer func() { r.depth-- }()
	r.pos++ // [
	base := len(r.stack)
	r.skipSpace()
	if r.pos < len(r.src) && r.src[r.pos] == ']' {
		r.pos++
		return node{kind: kindArray, s: r.src[start:r.pos]}
	}
	for r.err == nil {
		v := r.value()
		if r.err != nil {
			break
		}
		r.stack = append(r.stack, member{val: v})
		r.skipSpace()
		if r.pos < len(r.src) && r.src[r.pos] == ',' {
			r.pos++
			continue
		}
		if r.pos < len(r.src) && r.src[r.pos] == ']' {
			r.pos++
			return node{kind: kindArray, s: r.src[start:r.pos], kids: r.collect(base)}
		}
		r.expected("',' or ']' after array element")
	}
	r.stack = r.stack[:base]
	return node{}
}

func (r *reader) expected(what string) {
	if r.pos >= len(r.src) {
		r.fail("unexpected end of input, expected " + what)
		return
	}
	r.fail("invalid character " + quoteChar(r.src[r.pos]) + ", expected " + what)
}

// get returns the member whose key equals key, ignoring ASCII case, or nil when v is not an object or has
// no such key. An exact match wins over a case-folded one, and the last of duplicates wins, as with
// encoding/json, so this reader and any other decoder agree on which value a key has.
func (v *node) get(key string) *member {
	if v == nil || v.kind != kindObject {
		return nil
	}
	var exact, folded *member
	for i := range v.kids {
		m := &v.kids[i]
		if len(m.key) != len(key) {
			continue
		}
		if m.key == key {
			exact = m
		} else if asciiEqualFold(m.key, key) {
			folded = m
		}
	}
	if exact != nil {
		return exact
	}
	return folded
}

// has reports whether v is an object with the key, whatever its value.
func (v *node) has(key string) bool { return v.get(key) != nil }

// asciiEqualFold compares two strings ignoring ASCII case. Schema keys are ASCII; Unicode
// folding (e.g. the Kelvin sign to "k") would only help a hostile sender alias a key.
func asciiEqualFold(a, b string) bool {
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

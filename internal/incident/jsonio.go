package incident

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxDepth bounds nesting so a hostile "[[[[…" is refused early; real payloads nest about ten levels.
// encoding/json's own bound is 10 000.
const maxDepth = 512

// syntaxError is a document that is not JSON, with the offset of the byte at fault.
type syntaxError struct {
	msg    string
	offset int64
}

func (e *syntaxError) Error() string {
	return e.msg + " at offset " + strconv.FormatInt(e.offset, 10)
}

// decodeJSON decodes a whole document into v with encoding/json. A syntax error or nesting deeper than
// maxDepth, whichever comes first in the document, is a *syntaxError in the wording the intake has always
// answered with; other errors are encoding/json's.
func decodeJSON(data []byte, v any) error {
	deep := tooDeep(data)
	err := json.Unmarshal(data, v)
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		e := &syntaxError{msg: se.Error(), offset: se.Offset - 1} // encoding/json counts the byte at fault
		if e.msg == "unexpected end of JSON input" {
			e.msg, e.offset = "unexpected end of input", int64(len(data))
		}
		e.msg = strings.Replace(e.msg, "beginning of object key string", "beginning of object key", 1)
		if deep < 0 || e.offset < deep {
			return e
		}
	}
	if deep >= 0 {
		return &syntaxError{msg: "nesting deeper than " + strconv.Itoa(maxDepth) + " levels", offset: deep}
	}
	return err
}

// tooDeep is the offset of the bracket that opens level maxDepth+1, or -1. It only needs to be right on
// a valid JSON prefix: on anything else encoding/json reports the earlier syntax error.
func tooDeep(data []byte) int64 {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			i = stringEnd(data, i)
		case '[', '{':
			if depth++; depth > maxDepth {
				return int64(i)
			}
		case ']', '}':
			depth--
		}
	}
	return -1
}

// stringEnd is the index of the quote that closes the string opened at i, or len(data).
func stringEnd(data []byte, i int) int {
	for {
		n := bytes.IndexByte(data[i+1:], '"')
		if n < 0 {
			return len(data)
		}
		i += n + 1
		escapes := 0
		for j := i - 1; j >= 0 && data[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			return i
		}
	}
}

// kindOf is the kind of the JSON document data, which must be valid.
func kindOf(data []byte) kind {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 {
		return kindNull
	}
	switch t[0] {
	case '{':
		return kindObject
	case '[':
		return kindArray
	case '"':
		return kindString
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	default:
		return kindNumber
	}
}

// decodeBody decodes a document that must be a JSON object into the wire struct v.
func decodeBody(data []byte, v any) *FieldError {
	if err := decodeJSON(data, v); err != nil {
		if _, ok := errors.AsType[*syntaxError](err); ok {
			return &FieldError{Path: "body", Msg: "not JSON: " + err.Error()}
		}
	}
	// A root that is not an object fails the struct with a type error; null does not fail at all.
	if k := kindOf(data); k != kindObject {
		return &FieldError{Path: "body", Msg: "must be a JSON object, not " + k.String()}
	}
	return nil
}

// spelledKey is the key of obj's member key as the sender spelled it: the last key equal to it ignoring
// case, the member encoding/json decodes. key itself when obj has none. Only error paths call this.
func spelledKey(obj []byte, key string) string {
	spelled := key
	_ = walkJSON(obj, func(ev walkEvent) bool {
		if ev.key && len(ev.at) == 1 && strings.EqualFold(ev.at[0].key, key) {
			spelled = ev.at[0].key
		}
		return true
	})
	return spelled
}

// seg is one step of a walked path: an object member (index -1) or an array element.
type seg struct {
	key   string
	index int
}

// walkEvent is one token of a walked document: a key (key set), a scalar, or the opening or closing
// json.Delim of a container, at the path at, ending at byte offset end.
type walkEvent struct {
	at  []seg
	tok json.Token
	key bool
	end int64
}

// walkJSON calls fn for every token of data in document order, until fn returns false. Numbers are
// json.Number. It serves the few readers that need document order or offsets, which a struct does not
// keep: the $id index of SecurityAlert entities and the placing of errors.
func walkJSON(data []byte, fn func(walkEvent) bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object, wantKey bool
		n               int
	}
	var stack []frame
	var at []seg
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walking JSON: %w", err)
		}
		top := len(stack) - 1
		delim, isDelim := tok.(json.Delim)
		switch {
		case isDelim && (delim == '}' || delim == ']'):
			stack = stack[:top]
			if !fn(walkEvent{at: at, tok: tok, end: dec.InputOffset()}) {
				return nil
			}
			if len(at) > 0 {
				at = at[:len(at)-1]
			}
			if top > 0 && stack[top-1].object {
				stack[top-1].wantKey = true
			}
			continue
		case top >= 0 && stack[top].wantKey:
			tok = keyText(data, dec.InputOffset())
			at = append(at, seg{key: tok.(string), index: -1})
			stack[top].wantKey = false
			if !fn(walkEvent{at: at, tok: tok, key: true, end: dec.InputOffset()}) {
				return nil
			}
			continue
		case top >= 0 && !stack[top].object:
			at = append(at, seg{index: stack[top].n})
			stack[top].n++
		}
		if !fn(walkEvent{at: at, tok: tok, end: dec.InputOffset()}) {
			return nil
		}
		if isDelim {
			stack = append(stack, frame{object: delim == '{', wantKey: delim == '{'})
			continue
		}
		if len(at) > 0 {
			at = at[:len(at)-1]
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

// keyText decodes the key that ends at offset end of data the way values are decoded (see unquote):
// json.Decoder replaces each invalid byte of a key, the parsers always replaced each run of them.
func keyText(data []byte, end int64) string {
	i := int(end) - 2 // the byte before the closing quote
	for ; i >= 0; i-- {
		if data[i] != '"' {
			continue
		}
		escapes := 0
		for j := i - 1; j >= 0 && data[j] == '\\'; j-- {
			escapes++
		}
		if escapes%2 == 0 {
			break
		}
	}
	return unquote(data[i:end])
}

// segsString renders a walked path as FieldError paths read, "alerts[1].title".
func segsString(at []seg) string {
	var b strings.Builder
	for i, s := range at {
		switch {
		case s.index >= 0:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case i > 0:
			b.WriteString("." + s.key)
		default:
			b.WriteString(s.key)
		}
	}
	return b.String()
}

// looseLayouts are tried when a time is not RFC 3339: no zone (Sentinel times are UTC), a numeric zone
// without a colon, or a bare date.
var looseLayouts = [...]string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02",
}

// parseTime accepts RFC 3339 with or without fractional seconds, plus the common near misses: a space or
// lower-case t between date and time, a lower-case z, no zone at all. The result is UTC so that a time
// survives a JSON round trip unchanged; years JSON cannot encode are rejected.
func parseTime(s string) (time.Time, bool) {
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
			for _, layout := range looseLayouts {
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

package incident

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// toAny converts a value, and what it holds, into what encoding/json decodes with UseNumber.
func toAny(t *testing.T, v *value) any {
	switch v.kind {
	case kindNull:
		return nil
	case kindBool:
		return v.s == "true"
	case kindNumber:
		return json.Number(v.s)
	case kindString:
		return v.s
	case kindArray:
		var els []value
		require.NoError(t, json.Unmarshal(v.raw, &els))
		out := make([]any, len(els))
		for i := range els {
			out[i] = toAny(t, &els[i])
		}
		return out
	default:
		out := map[string]any{}
		for _, m := range objectMembers(v.raw) {
			out[m.key] = toAny(t, &m.val)
		}
		return out
	}
}

// checkAgainstEncodingJSON requires decodeJSON to accept exactly what encoding/json accepts (but for the
// nesting bound) and a value to hold what encoding/json decodes.
func checkAgainstEncodingJSON(t *testing.T, data []byte) {
	var got value
	err := decodeJSON(data, &got)
	if err != nil && strings.Contains(err.Error(), "nesting deeper") {
		return // encoding/json allows 10000 levels; ours stops earlier on purpose
	}
	require.Equal(t, json.Valid(data), err == nil, "input %q, error %v", data, err)
	if err != nil {
		_, ok := err.(*syntaxError)
		require.True(t, ok, "%T %v", err, err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var want any
	require.NoError(t, dec.Decode(&want))
	if utf8.Valid(data) {
		// encoding/json replaces each invalid byte, the decoder each run of them: only compare valid text.
		require.Equal(t, want, toAny(t, &got), "input %q", data)
	}
}

func TestDecodeJSONAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{}`, `[]`, ` {"a" : [1, -0, 0.5, -1.5e+3, 2E-2, true, false, null, "x"]} `, `"str"`, `0`, `{"a":1,"a":2}`,
		`"\u00e9\ud83d\ude00 \ud800x \"\\"`, "\"é日本\"", `"a\\"`, `["\\\\", "\\\"", "x"]`,
		``, `{`, `[1,]`, `{"a" 1}`, `01`, `"abc`, "\"a\x01b\"", `{"a":1}}`, `"\`, `["\\"]`,
	} {
		checkAgainstEncodingJSON(t, []byte(in))
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: ``, want: "unexpected end of input at offset 0"},
		{in: `{"a": x}`, want: "invalid character 'x' looking for beginning of value at offset 6"},
		{in: `{oops`, want: "invalid character 'o' looking for beginning of object key at offset 1"},
		{in: `{} {}`, want: "invalid character '{' after top-level value at offset 3"},
		{in: strings.Repeat("[", maxDepth+1), want: "nesting deeper than 512 levels at offset 512"},
		{in: `["\"[",` + strings.Repeat("[", maxDepth-1) + `x`, want: "invalid character 'x' looking for beginning of value at offset 518"},
	}
	for _, tt := range tests {
		var v value
		require.EqualError(t, decodeJSON([]byte(tt.in), &v), tt.want, "input %q", tt.in)
	}
}

func TestValueStrings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{in: `"plain"`, want: "plain"},
		{in: `"a\nb"`, want: "a\nb"},
		{in: `"\ud800\u0041"`, want: "\uFFFDA"},
		{in: "\"bad \xff\xfe bytes\"", want: "bad \uFFFD bytes"},
		{in: "\"esc\\n and bad \xff\"", want: "esc\n and bad \uFFFD"},
	} {
		var v value
		require.NoError(t, decodeJSON([]byte(tt.in), &v))
		require.Equal(t, tt.want, v.s, "input %q", tt.in)
	}
}

func TestSpelledKey(t *testing.T) {
	t.Parallel()
	obj := []byte(`{"Name": 1, "x": {"name": 2}, "NAME": 3}`)
	require.Equal(t, "NAME", spelledKey(obj, "name"), "the last key equal ignoring case: the one encoding/json decodes")
	require.Equal(t, "missing", spelledKey(obj, "missing"))
	require.Equal(t, "k", spelledKey(nil, "k"))
}

// TestInvalidUTF8KeyRun: a run of invalid bytes in a key is one U+FFFD, in error paths and in custom
// detail keys alike, as in values (found by the fuzz comparison with the old reader).
func TestInvalidUTF8KeyRun(t *testing.T) {
	t.Parallel()
	_, err := ParseSensorAlert([]byte("{\"uuid\":\"1-1\",\"title\":\"t\",\"a\xf2\xf2\xf2b\":\"x\"}"))
	require.EqualError(t, err, "a\uFFFDb: invalid UTF-8")

	ev, err := ParseEvent([]byte("{\"object\":{\"name\":\"n\",\"properties\":{\"Alerts\":[{\"properties\":" +
		"{\"additionalData\":{\"Custom Details\":{\"k\xf2\xf2\":[\"v\"]}}}}]}}}"))
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"k\uFFFD": {"v"}}, ev.Incident.Alerts[0].CustomDetails)
}

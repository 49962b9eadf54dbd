// The unit tests of the JSON reader the parsers used before issue 14, kept to test its copy in the
// oracle (oldjsontree_test.go).

package incident

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// oldToAny converts a tree into what encoding/json decodes with UseNumber.
func oldToAny(v *oldNode) any {
	switch v.oldKind {
	case oldKindNull:
		return nil
	case oldKindBool:
		return v.s == "true"
	case oldKindNumber:
		return json.Number(v.s)
	case oldKindString:
		return v.s
	case oldKindArray:
		out := make([]any, len(v.kids))
		for i := range v.kids {
			out[i] = oldToAny(&v.kids[i].val)
		}
		return out
	default:
		out := make(map[string]any, len(v.kids))
		for i := range v.kids {
			out[v.kids[i].key] = oldToAny(&v.kids[i].val)
		}
		return out
	}
}

// oldCheckAgainstEncodingJSON requires the old reader to accept exactly what encoding/json accepts and to decode
// it to the same value.
func oldCheckAgainstEncodingJSON(t *testing.T, data []byte) {
	got, err := oldParseJSON(string(data))
	if err != nil && strings.Contains(err.Error(), "nesting deeper") {
		return // encoding/json allows 10000 levels; ours stops earlier on purpose
	}
	require.Equal(t, json.Valid(data), err == nil, "input %q, error %v", data, err)
	if err != nil {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var want any
	require.NoError(t, dec.Decode(&want))
	if utf8.Valid(data) {
		// encoding/json replaces each invalid byte, ToValidUTF8 each run of them: only compare valid text.
		require.Equal(t, want, oldToAny(&got), "input %q", data)
	}
}

func TestOldParseJSONAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	inputs := []string{
		`{}`, `[]`, ` {"a" : [1, -0, 0.5, -1.5e+3, 2E-2, true, false, null, "x"]} `, `"str"`, `0`, `-12`,
		`{"a":1,"a":2}`, `{"a":{"b":{"c":[[],[{}]]}}}`,
		`"\u00e9\ud83d\ude00 \ud800x \udc00 \ud800\u0041 \/\b\f\n\r\t\\\""`, `"\uD83D\uDE00"`, "\"é日本\"",
		// invalid
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1 2]`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`,
		`tru`, `nul`, `falsey`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01b\"", `"\`, `[`, `["a"`, `{"a":}`,
		`{"a":1}}`, `[]]`, `NaN`, `1 2`, `"\ud800\u"`,
	}
	for _, in := range inputs {
		oldCheckAgainstEncodingJSON(t, []byte(in))
	}
}

func TestOldParseJSONStrings(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: `"plain"`, want: "plain"},
		{in: `"a\nb"`, want: "a\nb"},
		{in: `"\ud83d\ude00"`, want: "😀"},
		{in: `"\ud800"`, want: "\uFFFD"},
		{in: `"\ud800\u0041"`, want: "\uFFFDA"},
		{in: "\"bad \xff\xfe bytes\"", want: "bad \uFFFD bytes"},
		{in: "\"esc\\n and bad \xff\"", want: "esc\n and bad \uFFFD"},
	}
	for _, tt := range tests {
		v, err := oldParseJSON(tt.in)
		require.NoError(t, err)
		require.Equal(t, tt.want, v.s, "input %q", tt.in)
		require.True(t, utf8.ValidString(v.s))
	}
}

func TestOldParseJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: ``, want: "unexpected end of input at offset 0"},
		{in: `{"a": x}`, want: "invalid character 'x' looking for beginning of value at offset 6"},
		{in: `{"a" 1}`, want: "invalid character '1', expected ':' after object key at offset 5"},
		{in: `[1 2]`, want: "invalid character '2', expected ',' or ']' after array element at offset 3"},
		{in: "\"a\x01\"", want: "invalid control character in string at offset 2"},
		{in: "\xff", want: `invalid character '\xff' looking for beginning of value at offset 0`},
		{in: `"\q"`, want: "invalid escape in string at offset 1"},
		{in: `{} {}`, want: "invalid character '{' after top-level value at offset 3"},
		{in: strings.Repeat("[", oldMaxDepth+1), want: "nesting deeper than 512 levels at offset 512"},
	}
	for _, tt := range tests {
		_, err := oldParseJSON(tt.in)
		require.EqualError(t, err, tt.want, "input %q", tt.in)
	}
}

func TestOldNodeGet(t *testing.T) {
	t.Parallel()
	v, err := oldParseJSON(`{"Name": 1, "name": 2, "NAME": 3, "other": 4, "dup": 5, "DUP": 6, "Dup": 7}`)
	require.NoError(t, err)
	tests := []struct {
		key, want string
	}{
		{key: "name", want: "2"},  // exact match wins
		{key: "nAmE", want: "3"},  // otherwise the last case-folded match
		{key: "OTHER", want: "4"}, // any case
		{key: "dup", want: "5"},
		{key: "dUp", want: "7"},
	}
	for _, tt := range tests {
		m := v.get(tt.key)
		require.NotNil(t, m, tt.key)
		require.Equal(t, tt.want, m.val.s, tt.key)
	}
	require.Nil(t, v.get("missing"))
	require.Nil(t, v.get("nam"))
	require.Nil(t, v.get("\u212aame"), "only ASCII case folds")
	var nilNode *oldNode
	require.Nil(t, nilNode.get("x"))
}

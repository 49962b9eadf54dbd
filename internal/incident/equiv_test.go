package incident

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The equivalence tests hold the encoding/json parser to the one it replaced (the old* oracle files): the
// same result for every input, and the same error field.

// requireSameAsOld runs every entry point of both parsers on data.
func requireSameAsOld(t *testing.T, data []byte) {
	t.Helper()
	ev, err := Parse(data)
	oldEv, oldErr := oldParse(data)
	requireSameResult(t, "Parse", oldEv, oldErr, ev, err, data)

	ev, err = ParseEvent(data)
	oldEv, oldErr = oldParseEvent(data)
	requireSameResult(t, "ParseEvent", oldEv, oldErr, ev, err, data)

	inc, err := ParseAlertRecord(data)
	oldInc, oldErr := oldParseAlertRecord(data)
	requireSameResult(t, "ParseAlertRecord", oldInc, oldErr, inc, err, data)

	inc, err = ParseSensorAlert(data)
	oldInc, oldErr = oldParseSensorAlert(data)
	requireSameResult(t, "ParseSensorAlert", oldInc, oldErr, inc, err, data)

	var got, old Incident
	err, oldErr = got.UnmarshalJSON(data), old.oldUnmarshalJSON(data)
	requireSameResult(t, "Incident.UnmarshalJSON", old, oldErr, got, err, data)

	for _, ndjson := range []bool{false, true} {
		recs, err := ParseAlerts(data, ndjson)
		oldRecs, oldErr := oldParseAlerts(data, ndjson)
		name := "ParseAlerts ndjson=" + strconv.FormatBool(ndjson)
		requireSameResult(t, name, len(oldRecs), oldErr, len(recs), err, data)
		for i := range recs {
			r, o := recs[i], oldRecs[i]
			requireSameResult(t, name+" record "+strconv.Itoa(i), o.Incident, o.Err, r.Incident, r.Err, data)
			r.Incident, r.Err, o.Incident, o.Err = Incident{}, nil, Incident{}, nil
			require.Equal(t, o, r, "%s record %d of %q", name, i, data)
		}
	}
}

// requireSameResult compares one entry point's results. Errors must agree on the field; their messages
// must agree too, but for syntax errors, which now use encoding/json's wording.
func requireSameResult[T any](t *testing.T, name string, old T, oldErr error, got T, err error, data []byte) {
	t.Helper()
	if oldErr != nil || err != nil {
		require.Error(t, oldErr, "%s: only the new parser fails %q: %v", name, data, err)
		require.Error(t, err, "%s: only the old parser fails %q: %v", name, data, oldErr)
		fe, ok := errors.AsType[*FieldError](err)
		require.True(t, ok, "%s: %T %v", name, err, err)
		oldFE, _ := errors.AsType[*FieldError](oldErr)
		require.Equal(t, oldFE.Path, fe.Path, "%s: error field of %q: old %v, new %v", name, data, oldErr, err)
		if !strings.HasPrefix(oldFE.Msg, "not JSON") {
			require.Equal(t, oldFE.Msg, fe.Msg, "%s: error of %q", name, data)
		}
		return
	}
	require.Equal(t, old, got, "%s: result of %q", name, data)
}

// equivalenceInputs are every fixture the project has, their key-case variants, and the fuzz corpora.
func equivalenceInputs(t *testing.T) map[string][]byte {
	inputs := map[string][]byte{}
	for _, glob := range []string{"../../testdata/*.json", "/work/main/testdata/*.json", "/work/shared/fixtures/*.json"} {
		files, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			inputs[f] = data
			root := decodeGeneric(t, data)
			inputs[f+" lower-case keys"] = encodeGeneric(t, mapKeys(root, strings.ToLower))
			inputs[f+" upper-case keys"] = encodeGeneric(t, mapKeys(root, strings.ToUpper))
		}
	}
	corpora, err := filepath.Glob("testdata/fuzz/*/*")
	require.NoError(t, err)
	for _, f := range corpora {
		inputs[f] = readCorpusFile(t, f)
	}
	return inputs
}

// readCorpusFile reads the []byte of a "go test fuzz v1" file.
func readCorpusFile(t *testing.T, name string) []byte {
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(data), "\n")
	require.True(t, ok, name)
	lit, ok := strings.CutPrefix(strings.TrimSpace(rest), "[]byte(")
	require.True(t, ok, name)
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	require.NoError(t, err, name)
	return []byte(s)
}

func TestParseSameAsOld(t *testing.T) {
	t.Parallel()
	inputs := equivalenceInputs(t)
	require.GreaterOrEqual(t, len(inputs), 15)
	for name, data := range inputs {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			requireSameAsOld(t, data)
		})
	}
}

func FuzzParseSameAsOld(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"uuid":"1-2","title":"t","time":"1700000000000","severity":"Major","remediationSteps":"[\"a\"]"}`))
	f.Add([]byte("[{\"VendorOriginalId\":\"v\"},{\"uuid\":\"u\",\"title\":\"x\xff\"}]\n"))
	f.Add([]byte("{\"uuid\":\"1\",\"title\":\"a\"}\n{\"VendorOriginalId\":\"v\",\"Entities\":\"[1]\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if ambiguousKeys(data) {
			t.Skip("keys equal ignoring case: encoding/json decodes the last, the old reader preferred an exact match")
		}
		requireSameAsOld(t, data)
	})
}

// ambiguousKeys reports whether some object of data, or of JSON held in its strings, has two keys equal
// ignoring case but not equal, or a key with a non-ASCII letter that folds to an ASCII one (U+212A, U+017F).
// The parsers differ there on purpose: which of such keys counts is encoding/json's choice now.
func ambiguousKeys(data []byte) bool {
	var objects [][]string
	found := false
	_ = walkJSON(data, func(ev walkEvent) bool {
		switch tok := ev.tok.(type) {
		case json.Delim:
			if tok == '{' {
				objects = append(objects, nil)
			} else if tok == '}' {
				objects = objects[:len(objects)-1]
			}
		case string:
			if ev.key {
				keys := &objects[len(objects)-1]
				for _, k := range *keys {
					found = found || (k != tok && strings.EqualFold(k, tok))
				}
				found = found || strings.ContainsAny(tok, "\u212a\u017f")
				*keys = append(*keys, tok)
			} else if t := strings.TrimSpace(tok); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
				found = found || ambiguousKeys([]byte(tok))
			}
		}
		return !found
	})
	return found
}

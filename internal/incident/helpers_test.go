package incident

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Fixture file names in the module's testdata folder.
const (
	fixturePLC      = "sentinel-incident-unauthorized-plc-programming.json"
	fixtureNewAsset = "sentinel-incident-new-engineering-station.json"
	fixtureRecord   = "d4iot-securityalert-unauthorized-plc-programming.json"
	// fixtureUpdate is ours: the PLC incident after an analyst took it, as an update trigger with the
	// "previous" extension.
	fixtureUpdate = "sentinel-incident-update-plc-programming.json"
)

var triggerFixtures = []string{fixturePLC, fixtureNewAsset, fixtureUpdate}

var allFixtures = []string{fixturePLC, fixtureNewAsset, fixtureUpdate, fixtureRecord}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	require.NoError(tb, err)
	return data
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(tb, err)
	return t.UTC()
}

// decodeGeneric decodes JSON into maps and slices, keeping numbers as written.
func decodeGeneric(tb testing.TB, data []byte) any {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	require.NoError(tb, dec.Decode(&v))
	return v
}

func encodeGeneric(tb testing.TB, v any) []byte {
	tb.Helper()
	data, err := json.Marshal(v)
	require.NoError(tb, err)
	return data
}

// edit decodes a payload, lets fn change it and encodes it again.
func edit(tb testing.TB, data []byte, fn func(root map[string]any)) []byte {
	tb.Helper()
	root := decodeGeneric(tb, data).(map[string]any)
	fn(root)
	return encodeGeneric(tb, root)
}

// obj follows a chain of keys (and, for arrays, decimal indexes) through a decoded payload.
func obj(tb testing.TB, v any, keys ...string) map[string]any {
	tb.Helper()
	for _, k := range keys {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			i := 0
			for _, r := range k {
				i = i*10 + int(r-'0')
			}
			v = c[i]
		default:
			tb.Fatalf("cannot follow %q through %T", k, v)
		}
	}
	m, ok := v.(map[string]any)
	require.True(tb, ok, "%v is %T, not an object", keys, v)
	return m
}

// props is object.properties of a trigger body.
func props(tb testing.TB, root map[string]any) map[string]any {
	return obj(tb, root, "object", "properties")
}

// mapKeys rewrites every key of a decoded document, including the keys inside strings that hold JSON
// (Custom Details, ExtendedProperties, Entities).
func mapKeys(v any, fn func(string) string) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, val := range c {
			out[fn(k)] = mapKeys(val, fn)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, val := range c {
			out[i] = mapKeys(val, fn)
		}
		return out
	case string:
		if t := strings.TrimSpace(c); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			var inner any
			if json.Unmarshal([]byte(c), &inner) == nil {
				b, err := json.Marshal(mapKeys(inner, fn))
				if err == nil {
					return string(b)
				}
			}
		}
		return c
	default:
		return v
	}
}

// normalizeDetails lower-cases custom detail keys: they are data, so a key-case variant of a payload
// changes them on purpose.
func normalizeDetails(inc Incident) Incident {
	alerts := make([]Alert, len(inc.Alerts))
	for i, a := range inc.Alerts {
		if a.CustomDetails != nil {
			cd := make(map[string][]string, len(a.CustomDetails))
			for k, v := range a.CustomDetails {
				cd[strings.ToLower(k)] = v
			}
			a.CustomDetails = cd
		}
		alerts[i] = a
	}
	if inc.Alerts != nil {
		inc.Alerts = alerts
	}
	return inc
}

// roundTrip encodes an incident and decodes it again through UnmarshalJSON.
func roundTrip(tb testing.TB, inc Incident) Incident {
	tb.Helper()
	data, err := json.Marshal(inc)
	require.NoError(tb, err)
	var back Incident
	require.NoError(tb, json.Unmarshal(data, &back), "decoding %s", data)
	return back
}

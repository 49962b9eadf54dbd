package incident

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// Run each target for 10 s with a bounded minimisation, e.g.
//
//	go test -run='^$' -fuzz=FuzzParse -fuzztime=10s -fuzzminimizetime=100x ./internal/incident
//
// Without the bound the fuzzer spends the whole budget minimising inputs grown from the 10 KB fixtures.

// fuzzSeeds are the fixtures plus small inputs that reach the less common branches.
func fuzzSeeds(f *testing.F) {
	for _, name := range allFixtures {
		f.Add(readFixture(f, name))
	}
	for _, s := range []string{
		`{"object":{"name":"n","properties":{"Alerts":[{"properties":{"additionalData":{"Custom Details":"{\"Sensor\":[\"s\"]}","isNew":"True"}}}],` +
			`"relatedEntities":[{"id":"i","kind":"Ip","properties":{"address":"1.2.3.4"}},{"kind":"IoTDevice","properties":{"ipAddressEntityId":"i","additionalData":{"Owners":"a;b","FirstSeen":"2026-01-02 03:04:05"}}}]}},"previous":{"title":"t"}}`,
		`{"VendorOriginalId":"v","ExtendedProperties":"{\"isNew\":true}","Entities":"[{\"$id\":\"1\",\"Type\":\"iotdevice\",\"IpAddress\":{\"$ref\":\"2\"}},{\"$id\":\"2\",\"Type\":\"ip\",\"Address\":\"10.0.0.1\"},{\"$ref\":\"1\"}]","RemediationSteps":"[\"x\"]","Tactics":"a, b"}`,
		`{"id":"x","title":"t","created":"2026-01-01T00:00:00+01:00","alerts":[{"customDetails":{"a":null}}]}`,
		`{"type":"Update","incident":{"id":"x"},"previous":{"title":"y"}}`,
		`{"object":{"properties":{"incidentNumber":"7"}}}`,
	} {
		f.Add([]byte(s))
	}
}

// requireRoundTrip: an incident any parser accepted encodes to Interlock's own form and decodes back equal.
func requireRoundTrip(t *testing.T, inc Incident) {
	data, err := json.Marshal(inc)
	require.NoError(t, err)
	var back Incident
	require.NoError(t, json.Unmarshal(data, &back), "own form %s", data)
	require.Equal(t, inc, back)
}

func FuzzParseEvent(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEvent(data)
		if err != nil {
			_, ok := err.(*FieldError)
			require.True(t, ok, "%T %v", err, err)
			return
		}
		require.NotEmpty(t, ev.Incident.ID)
		requireRoundTrip(t, ev.Incident)
		if ev.Previous != nil {
			requireRoundTrip(t, *ev.Previous)
		}
	})
}

func FuzzParseAlertRecord(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		inc, err := ParseAlertRecord(data)
		if err != nil {
			_, ok := err.(*FieldError)
			require.True(t, ok, "%T %v", err, err)
			return
		}
		require.Len(t, inc.Alerts, 1)
		requireRoundTrip(t, inc)
	})
}

func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Parse(data)
		if err != nil {
			_, ok := err.(*FieldError)
			require.True(t, ok, "%T %v", err, err)
			return
		}
		requireRoundTrip(t, ev.Incident)
		// The event as a whole round-trips through Parse too.
		own, err := json.Marshal(ev)
		require.NoError(t, err)
		again, err := Parse(own)
		require.NoError(t, err, "own form %s", own)
		require.Equal(t, ev, again)
	})
}

// FuzzJSONReader checks the reader against encoding/json on arbitrary input.
func FuzzJSONReader(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`"\ud83d\ude00\ud800"`))
	f.Add([]byte(`[1e5,-0.0,{"a":[]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstEncodingJSON(t, data)
	})
}

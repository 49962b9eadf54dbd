package incident

import (
	"encoding/json"
	"testing"
)

func BenchmarkParseEvent(b *testing.B) {
	for _, name := range triggerFixtures {
		data := readFixture(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ParseEvent(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseAlertRecord(b *testing.B) {
	data := readFixture(b, fixtureRecord)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseAlertRecord(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse includes form detection.
func BenchmarkParse(b *testing.B) {
	for _, name := range allFixtures {
		data := readFixture(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBaselineDecodeAny is the yardstick: encoding/json into map[string]any, what a straightforward
// case-insensitive parser would start from.
func BenchmarkBaselineDecodeAny(b *testing.B) {
	data := readFixture(b, fixturePLC)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

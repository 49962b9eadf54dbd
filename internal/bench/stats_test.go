package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample is every percentile", []time.Duration{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100 is the second worst", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p0 is the min", hundred, 0, 1 * time.Millisecond},
		{"nearest rank rounds up", []time.Duration{1, 2, 3}, 50, 2},
		{"p99 of 3 is the max", []time.Duration{1, 2, 3}, 99, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Percentile(tc.sorted, tc.p))
		})
	}
}

func TestSummarize(t *testing.T) {
	require.Equal(t, Summary{}, Summarize(nil))
	// Unsorted input, a negative sample (a clock step) kept as measured.
	s := Summarize([]time.Duration{30 * time.Millisecond, -2 * time.Millisecond, 10 * time.Millisecond, 1500 * time.Microsecond})
	require.Equal(t, Summary{Count: 4, MinMs: -2, MeanMs: 9.875, P50Ms: 1.5, P95Ms: 30, P99Ms: 30, MaxMs: 30}, s)
}

func TestPerSecond(t *testing.T) {
	require.Equal(t, 0.0, perSecond(10, 0))
	require.Equal(t, 0.0, perSecond(0, time.Second))
	require.Equal(t, 80.0, perSecond(2000, 25*time.Second))
	require.Equal(t, 33.33, perSecond(100, 3*time.Second))
}

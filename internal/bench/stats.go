package bench

import (
	"math"
	"slices"
	"time"
)

// Summary describes a latency distribution in milliseconds.
type Summary struct {
	Count  int     `json:"count"`
	MinMs  float64 `json:"minMs"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P95Ms  float64 `json:"p95Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
}

// Summarize computes the distribution of ds. Percentiles are nearest-rank (the smallest sample with at
// least p% of the samples at or below it): always an observed value, never interpolated, so a p99 of
// 100 samples is the second-worst, as an operator reading the table would expect.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Summary{
		Count:  len(s),
		MinMs:  ms(s[0]),
		MeanMs: round3(float64(sum) / float64(len(s)) / float64(time.Millisecond)),
		P50Ms:  ms(Percentile(s, 50)),
		P95Ms:  ms(Percentile(s, 95)),
		P99Ms:  ms(Percentile(s, 99)),
		MaxMs:  ms(s[len(s)-1]),
	}
}

// Percentile is the nearest-rank p-th percentile of sorted samples (0 when there are none).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

// round3 keeps microsecond resolution in reports: more digits are noise.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// perSecond is count per second over d (0 for an empty window).
func perSecond(count int, d time.Duration) float64 {
	if d <= 0 || count == 0 {
		return 0
	}
	return math.Round(float64(count)/d.Seconds()*100) / 100
}

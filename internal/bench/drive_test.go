package bench

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDrive(t *testing.T) {
	for _, tc := range []struct {
		name        string
		n           int
		rate        float64
		concurrency int
		minTook     time.Duration
	}{
		{name: "closed loop", n: 50, concurrency: 4},
		{name: "closed loop, fewer items than workers", n: 2, concurrency: 8},
		{name: "open loop is paced", n: 11, rate: 100, concurrency: 4, minTook: 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := map[int]int{}
			var inFlight, peak atomic.Int64
			start := time.Now()
			drive(context.Background(), tc.n, tc.rate, tc.concurrency, func(_ context.Context, i int) {
				cur := inFlight.Add(1)
				for {
					p := peak.Load()
					if cur <= p || peak.CompareAndSwap(p, cur) {
						break
					}
				}
				time.Sleep(2 * time.Millisecond)
				inFlight.Add(-1)
				mu.Lock()
				calls[i]++
				mu.Unlock()
			})
			require.Len(t, calls, tc.n, "every index once")
			for i, c := range calls {
				require.Equal(t, 1, c, "index %d", i)
			}
			require.LessOrEqual(t, peak.Load(), int64(tc.concurrency))
			require.GreaterOrEqual(t, time.Since(start), tc.minTook)
		})
	}
}

func TestDriveStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	drive(ctx, 1000, 50, 4, func(context.Context, int) {
		if calls.Add(1) == 3 {
			cancel()
		}
	})
	require.Less(t, calls.Load(), int64(10))
}

func TestProgressLine(t *testing.T) {
	line := progressLine("full load", 200, 200, 150, 149, 120, 100, true, 2*time.Second)
	require.Equal(t, "full load   [##########..........] posted 150/200 accepted 149/200 effects 120 closed 100  50.0 closed/s  2.0s", line)
	line = progressLine("ceiling", 10, 10, 10, 10, 0, 10, false, time.Second)
	require.NotContains(t, line, "effects")
	require.Contains(t, line, "[####################]")
}

// TestProgressPlainOutput: a writer that is not a terminal gets whole lines, no carriage returns.
func TestProgressPlainOutput(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	require.False(t, p.tty)
	ph := newPhase("low load", "abc", "p", []*item{{}})
	ph.firstSent = time.Now()
	stop := p.start(ph)
	stop()
	require.NotContains(t, buf.String(), "\r")
	require.True(t, strings.HasPrefix(buf.String(), "low load"))
	require.True(t, strings.HasSuffix(buf.String(), "\n"))
}

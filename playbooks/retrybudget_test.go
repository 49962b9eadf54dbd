package playbooks

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryBudget(t *testing.T) {
	t.Parallel()
	const defAttempt, defRetry = 2 * time.Minute, time.Hour
	tests := []struct {
		name                     string
		attempt, retryFor        time.Duration
		wantAttempt, wantRetries time.Duration
	}{
		{"set", time.Minute, 10 * time.Minute, time.Minute, 10 * time.Minute},
		{"zero values from an older history", 0, 0, defAttempt, defRetry},
		{"negative attempt", -time.Second, 10 * time.Minute, defAttempt, 10 * time.Minute},
		{"retries shorter than one attempt", time.Minute, time.Second, time.Minute, defRetry},
		{"attempt longer than the default retries", 2 * time.Hour, 0, 2 * time.Hour, 2 * time.Hour},
		{"retries exactly one attempt", time.Minute, time.Minute, time.Minute, time.Minute},
	}
	for _, tc := range tests {
		attempt, retryFor := retryBudget(tc.attempt, tc.retryFor, defAttempt, defRetry)
		require.Equal(t, tc.wantAttempt, attempt, tc.name)
		require.Equal(t, tc.wantRetries, retryFor, tc.name)
	}
	// Both playbooks that carry a budget fill theirs in through it.
	require.Equal(t, DefaultNewEngineeringStationSettings().RetryFor, NewEngineeringStationSettings{}.normalized().RetryFor)
	sync := SyncSettings{AttemptTimeout: time.Hour}.normalized()
	require.Equal(t, time.Hour, sync.AttemptTimeout)
	require.GreaterOrEqual(t, sync.RetryFor, time.Hour)
}

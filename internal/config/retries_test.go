package config

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRetryRules checks the two retry rules every client and side-effect section shares, under
// each section's own key names.
func TestRetryRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []FieldError
	}{
		{name: "servicenow in range", yaml: "servicenow:\n  timeout: 10s\n  retryMax: 10\n  retryWaitMin: 1s\n  retryWaitMax: 1s\n"},
		{name: "servicenow out of range", yaml: "servicenow:\n  timeout: 0s\n  retryMax: 11\n  retryWaitMin: 0s\n  retryWaitMax: -1s\n", want: []FieldError{
			{"servicenow.timeout", "must be positive"},
			{"servicenow.retryMax", "must be between 0 and 10"},
			{"servicenow.retryWaitMin", "must be positive"},
			{"servicenow.retryWaitMax", "must be at least retryWaitMin"},
		}},
		{name: "azure wait below minimum", yaml: "azure:\n  retryMax: -1\n  retryDelay: 2s\n  maxRetryDelay: 1s\n", want: []FieldError{
			{"azure.retryMax", "must be between 0 and 10"},
			{"azure.maxRetryDelay", "must be at least retryDelay"},
		}},
		{name: "ticket budget", yaml: "playbooks:\n  newEngineeringStation:\n    attemptTimeout: 1m\n    retryFor: 30s\n", want: []FieldError{
			{"playbooks.newEngineeringStation.retryFor", "must be at least attemptTimeout"},
		}},
		{name: "sync budget", yaml: "playbooks:\n  alertStatusSync:\n    attemptTimeout: 0s\n", want: []FieldError{
			{"playbooks.alertStatusSync.attemptTimeout", "must be positive"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.yaml), func(string) string { return "" })
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			errs, ok := errors.AsType[*Errors](err)
			require.True(t, ok, "error %v", err)
			require.Equal(t, tc.want, errs.List)
		})
	}
}

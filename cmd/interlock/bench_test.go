package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchRejectsBadFlagsBeforeDialing: flag mistakes are reported at once, without touching a stack.
func TestBenchRejectsBadFlagsBeforeDialing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mix", "dns=1"}, "unknown kind"},
		{[]string{"--mix", "nes=0,plc=0"}, "no kind"},
		{[]string{"--ceiling-shape", "timers=2"}, "unknown part"},
		{[]string{"extra"}, "no arguments"},
		{[]string{"--alert-shapes", "syslog"}, "unknown"},
		{[]string{"--alert-repeat", "0.9"}, "--alert-repeat"},
		{[]string{"--alert-batch", "0"}, "--alert-batch"},
		{[]string{"--mix", "nes=1", "--servicenow-password-file", "/nonexistent/pw"}, "servicenow password"},
		{[]string{"--topology", "ring"}, "want split or combined"},
		{[]string{"--topology", "split", "--workers", "0"}, "--workers"},
		{[]string{"--member-env", "MAX_BACKLOG=0"}, "INTERLOCK_KEY=VALUE"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			_, _, err := runCmd(t, nil, append([]string{"bench"}, tc.args...)...)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities/sentinel"
)

func TestApplyUpdateRaiseOnly(t *testing.T) {
	inc := func(sev, status string) *sentinel.Incident {
		i := &sentinel.Incident{}
		i.SetStr("severity", sev)
		i.SetStr("status", status)
		if status == "Closed" {
			i.SetStr("classification", "BenignPositive")
		}
		return i
	}
	cases := []struct {
		name, sev, status string
		want              []string
	}{
		{"raises and activates", "Medium", "New", []string{"severity Medium → High", "status New → Active", "tag +t"}},
		{"keeps a higher severity", "High", "New", []string{"status New → Active", "tag +t"}},
		{"never reopens", "Low", "Closed", []string{"severity Low → High", "tag +t"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			i := inc(tc.sev, tc.status)
			got := applyUpdate(i, UpdateRequest{Severity: "High", Status: "Active", AddTags: []string{"t"}, RaiseOnly: true})
			require.Equal(t, tc.want, got)
		})
	}
	i := inc("High", "New")
	require.Equal(t, []string{"severity High → Low"}, applyUpdate(i, UpdateRequest{Severity: "Low"}), "without RaiseOnly as before")
}

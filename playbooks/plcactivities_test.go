package playbooks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
)

// plcActivities makes the planned-change and directory activities from the section, as
// worker.NewPlannedChanges and worker.NewPLCDirectory do (worker imports this package, so its tests
// cannot; worker's tests check those constructors).
func plcActivities(t *testing.T, cfg config.PLCReprogramming, requests activities.ChangeRequests) (*activities.PlannedChanges, *activities.Directory) {
	t.Helper()
	var windows []activities.MaintenanceWindow
	for _, w := range cfg.MaintenanceWindows {
		s, err := w.Schedule()
		require.NoError(t, err)
		windows = append(windows, activities.MaintenanceWindow{
			Name: strings.TrimSpace(w.Name), Site: strings.TrimSpace(w.Site), Zone: strings.TrimSpace(w.Zone),
			Devices: w.Devices, Start: s.Start, End: s.End, Days: s.Days, From: s.From, To: s.To, Location: s.Location,
		})
	}
	if !cfg.ChangeRequests {
		requests = nil
	}
	chg, err := activities.NewPlannedChanges(windows, requests)
	require.NoError(t, err)
	var entries []activities.DirectoryEntry
	for _, e := range cfg.Directory {
		entries = append(entries, activities.DirectoryEntry{
			Match:     activities.DirectoryMatch{Sensor: e.Match.Sensor, Site: e.Match.Site, Zone: e.Match.Zone, Line: e.Match.Line},
			Engineers: recipients(e.Engineers), Escalation: recipients(e.Escalation),
		})
	}
	dir, err := activities.NewDirectory(entries, cfg.SOCMailbox)
	require.NoError(t, err)
	return chg, dir
}

func recipients(cs []config.Contact) []activities.Recipient {
	var out []activities.Recipient
	for _, c := range cs {
		out = append(out, activities.Recipient{Name: c.Name, Email: c.Email})
	}
	return out
}

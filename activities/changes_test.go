package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return at
}

func TestMaintenanceWindowCovers(t *testing.T) {
	t.Parallel()
	ams := mustLoc(t, "Europe/Amsterdam")
	ny := mustLoc(t, "America/New_York")
	plc := DeviceFacts{Name: "PLC-L3-01", IP: "10.20.3.10"}
	absolute := MaintenanceWindow{Name: "shutdown", Start: mustTime(t, "2026-11-20T06:00:00+01:00"), End: mustTime(t, "2026-11-20T10:00:00+01:00")}
	// Mon and Tue nights, 22:00–02:00 Amsterdam time.
	nights := MaintenanceWindow{Name: "nights", Days: []time.Weekday{time.Monday, time.Tuesday}, From: 22 * time.Hour, To: 2 * time.Hour, Location: ams}
	// Sundays 02:00–04:00: the spring DST jump skips 02:00–03:00 local.
	sunday := MaintenanceWindow{Name: "sunday", Days: []time.Weekday{time.Sunday}, From: 2 * time.Hour, To: 4 * time.Hour, Location: ams}
	sundayAutumn := MaintenanceWindow{Name: "sunday", Days: []time.Weekday{time.Sunday}, From: 2 * time.Hour, To: 3 * time.Hour, Location: ams}

	tests := []struct {
		name string
		w    MaintenanceWindow
		req  PlannedChangeRequest
		want bool
	}{
		{"absolute inside", absolute, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T08:09:44Z")}, true},
		{"absolute at start", absolute, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T05:00:00Z")}, true},
		{"absolute end is exclusive", absolute, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T09:00:00Z")}, false},
		{"absolute before", absolute, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T04:59:59Z")}, false},
		// 2026-11-23 is a Monday; Amsterdam is UTC+1 in November.
		{"recurring inside evening", nights, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-23T22:30:00Z")}, true},
		{"recurring before from", nights, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-23T20:30:00Z")}, false},
		{"crossing midnight: Tuesday 01:30 belongs to Monday night", nights, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-24T00:30:00Z")}, true},
		{"crossing midnight: Thursday 01:30 follows Wednesday, not listed", nights, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-26T00:30:00Z")}, false},
		{"crossing midnight: Monday 01:30 follows Sunday, not listed", nights, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-23T00:30:00Z")}, false},
		{"crossing midnight: to is exclusive", nights, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-24T01:00:00Z")}, false},
		{"time zone conversion: 22:30 UTC is 23:30 in Amsterdam", MaintenanceWindow{Name: "x", From: 23 * time.Hour, To: 24 * time.Hour, Location: ams}, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-23T22:30:00Z")}, true},
		{"time zone conversion: 22:30 UTC is not 22:xx in Amsterdam", MaintenanceWindow{Name: "x", From: 22 * time.Hour, To: 23 * time.Hour, Location: ams}, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-23T22:30:00Z")}, false},
		{"time zone conversion: Tuesday 03:30 UTC is Monday 22:30 in New York", MaintenanceWindow{Name: "x", Days: []time.Weekday{time.Monday}, From: 22 * time.Hour, To: 23 * time.Hour, Location: ny}, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-24T03:30:00Z")}, true},
		// 2026-03-29: Amsterdam jumps from 02:00 CET to 03:00 CEST at 01:00 UTC.
		{"DST spring: 03:30 CEST is inside 02:00–04:00", sunday, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-03-29T01:30:00Z")}, true},
		{"DST spring: 01:30 CET is before it", sunday, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-03-29T00:30:00Z")}, false},
		{"DST spring: 04:30 CEST is after it", sunday, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-03-29T02:30:00Z")}, false},
		// 2026-10-25: 02:00–03:00 local happens twice (00:00–01:00 UTC in CEST, 01:00–02:00 UTC in CET).
		{"DST autumn: first 02:30", sundayAutumn, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-10-25T00:30:00Z")}, true},
		{"DST autumn: second 02:30", sundayAutumn, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-10-25T01:30:00Z")}, true},
		{"DST autumn: 03:30 CET after it", sundayAutumn, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-10-25T02:30:00Z")}, false},
		{"no days means daily", MaintenanceWindow{Name: "x", From: 8 * time.Hour, To: 10 * time.Hour, Location: time.UTC}, PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-21T09:00:00Z")}, true},
		{"CIDR match", withDevices(absolute, "10.20.3.0/24"), PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T08:00:00Z")}, true},
		{"CIDR mismatch", withDevices(absolute, "10.20.4.0/24"), PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T08:00:00Z")}, false},
		{"CIDR without a PLC IP", withDevices(absolute, "10.20.3.0/24"), PlannedChangeRequest{PLC: DeviceFacts{Name: "PLC-L3-01"}, At: mustTime(t, "2026-11-20T08:00:00Z")}, false},
		{"IP match", withDevices(absolute, "10.20.3.99", "10.20.3.10"), PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T08:00:00Z")}, true},
		{"device name match, case-insensitive", withDevices(absolute, "plc-l3-01"), PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T08:00:00Z")}, true},
		{"device name mismatch", withDevices(absolute, "PLC-L3-02"), PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T08:00:00Z")}, false},
		{"site filter match", withPlace(absolute, "Rotterdam Plant", ""), PlannedChangeRequest{PLC: plc, Site: "rotterdam plant", At: mustTime(t, "2026-11-20T08:00:00Z")}, true},
		{"site filter mismatch", withPlace(absolute, "Delft Plant", ""), PlannedChangeRequest{PLC: plc, Site: "Rotterdam Plant", At: mustTime(t, "2026-11-20T08:00:00Z")}, false},
		{"zone filter match", withPlace(absolute, "", "Packaging Line 3"), PlannedChangeRequest{PLC: plc, Zone: "Packaging Line 3", At: mustTime(t, "2026-11-20T08:00:00Z")}, true},
		{"zone filter mismatch", withPlace(absolute, "", "Packaging Line 3"), PlannedChangeRequest{PLC: plc, Zone: "Packaging Line 4", At: mustTime(t, "2026-11-20T08:00:00Z")}, false},
		{"zone filter with unknown zone", withPlace(absolute, "", "Packaging Line 3"), PlannedChangeRequest{PLC: plc, At: mustTime(t, "2026-11-20T08:00:00Z")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.w.Covers(tt.req))
		})
	}
}

func withDevices(w MaintenanceWindow, devices ...string) MaintenanceWindow {
	w.Devices = devices
	return w
}

func withPlace(w MaintenanceWindow, site, zone string) MaintenanceWindow {
	w.Site, w.Zone = site, zone
	return w
}

func TestMaintenanceWindowDescribe(t *testing.T) {
	t.Parallel()
	w := MaintenanceWindow{Days: []time.Weekday{time.Monday, time.Tuesday}, From: 22 * time.Hour, To: 2 * time.Hour, Location: mustLoc(t, "Europe/Amsterdam")}
	require.Equal(t, "Mon, Tue 22:00–02:00 Europe/Amsterdam", w.Describe())
	abs := MaintenanceWindow{Start: mustTime(t, "2026-11-20T06:00:00+01:00"), End: mustTime(t, "2026-11-20T10:00:00+01:00")}
	require.Equal(t, "2026-11-20T06:00:00+01:00 – 2026-11-20T10:00:00+01:00", abs.Describe())
}

func TestNewChangesRejectsInvalidWindows(t *testing.T) {
	t.Parallel()
	at := mustTime(t, "2026-11-20T06:00:00Z")
	for name, w := range map[string]MaintenanceWindow{
		"no schedule":      {Name: "x"},
		"end before start": {Name: "x", Start: at, End: at.Add(-time.Hour)},
		"both kinds":       {Name: "x", Start: at, End: at.Add(time.Hour), From: time.Hour, To: 2 * time.Hour, Location: time.UTC},
		"from equals to":   {Name: "x", From: time.Hour, To: time.Hour, Location: time.UTC},
		"to past 24h":      {Name: "x", From: time.Hour, To: 25 * time.Hour, Location: time.UTC},
	} {
		_, err := NewPlannedChanges([]MaintenanceWindow{w}, nil)
		require.Error(t, err, name)
	}
}

func TestContainsWord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, word string
		want    bool
	}{
		{"Reload program on PLC-L3-01 during stop", "PLC-L3-01", true},
		{"reload plc-l3-01.", "PLC-L3-01", true},
		{"PLC-L3-01", "plc-l3-01", true},
		{"(PLC-L3-01)", "PLC-L3-01", true},
		{"PLC-L3-010 only", "PLC-L3-01", false},
		{"PLC-L3-01-B only", "PLC-L3-01", false},
		{"XPLC-L3-01", "PLC-L3-01", false},
		{"PLC-L3-01-B and then PLC-L3-01", "PLC-L3-01", true},
		{"update 10.20.3.10 firmware", "10.20.3.1", false},
		{"update 10.20.3.1 firmware", "10.20.3.1", true},
		{"update 10.20.3.1.", "10.20.3.1", true},
		{"update 110.20.3.1", "10.20.3.1", false},
		{"anything", "", false},
		{"", "PLC", false},
		{"Ünïcode PLC-Ä1 ok", "plc-ä1", true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ContainsWord(tt.s, tt.word), "%q in %q", tt.word, tt.s)
	}
}

// fakeRequests is a ChangeRequests with a fixed answer.
type fakeRequests struct {
	list  []ChangeRequest
	err   error
	calls []time.Time
}

func (f *fakeRequests) Approved(_ context.Context, at time.Time) ([]ChangeRequest, error) {
	f.calls = append(f.calls, at)
	return f.list, f.err
}

func TestFindPlannedChange(t *testing.T) {
	t.Parallel()
	at := mustTime(t, "2026-11-20T08:09:44Z")
	plc := DeviceFacts{Name: "PLC-L3-01", IP: "10.20.3.10"}
	window := MaintenanceWindow{Name: "Line 3 shutdown", Devices: []string{"10.20.3.0/24"}, Start: at.Add(-time.Hour), End: at.Add(time.Hour)}
	cr := func(ci, short, desc string, start, end time.Time) ChangeRequest {
		return ChangeRequest{Number: "CHG0030001", ShortDescription: short, Description: desc, ConfigurationItem: ci, State: "-1", Start: start, End: end}
	}
	tests := []struct {
		name     string
		windows  []MaintenanceWindow
		requests []ChangeRequest
		want     PlannedChange
		asked    bool
	}{
		{"window wins, change requests not asked", []MaintenanceWindow{window}, []ChangeRequest{cr("PLC-L3-01", "x", "", at.Add(-time.Hour), at.Add(time.Hour))},
			PlannedChange{Planned: true, Source: PlannedByWindow, Name: "Line 3 shutdown", Window: window.Describe()}, false},
		{"change request naming the PLC as CI", nil, []ChangeRequest{cr("PLC-L3-01", "Load new recipe", "", at.Add(-time.Hour), at.Add(time.Hour))},
			PlannedChange{Planned: true, Source: PlannedByChangeRequest, Number: "CHG0030001", Name: "Load new recipe", Window: "2026-11-20T07:09:44Z – 2026-11-20T09:09:44Z"}, true},
		{"change request naming the IP in the description", nil, []ChangeRequest{cr("", "Recipe", "Download to 10.20.3.10 via ENG-WS-07", at.Add(-time.Hour), at.Add(time.Hour))},
			PlannedChange{Planned: true, Source: PlannedByChangeRequest, Number: "CHG0030001", Name: "Recipe", Window: "2026-11-20T07:09:44Z – 2026-11-20T09:09:44Z"}, true},
		{"change request naming another PLC", nil, []ChangeRequest{cr("PLC-L3-010", "PLC-L3-01-B firmware", "10.20.3.100", at.Add(-time.Hour), at.Add(time.Hour))},
			PlannedChange{}, true},
		{"change request outside its window", nil, []ChangeRequest{cr("PLC-L3-01", "x", "", at.Add(time.Minute), at.Add(time.Hour))},
			PlannedChange{}, true},
		{"window for another device, no change request", []MaintenanceWindow{withDevices(window, "PLC-L4-01")}, nil, PlannedChange{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeRequests{list: tt.requests}
			c, err := NewPlannedChanges(tt.windows, fake)
			require.NoError(t, err)
			got, err := c.FindPlannedChange(context.Background(), PlannedChangeRequest{PLC: plc, Site: "Rotterdam Plant", Zone: "Packaging Line 3", At: at})
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			if tt.asked {
				require.Equal(t, []time.Time{at}, fake.calls)
			} else {
				require.Empty(t, fake.calls)
			}
		})
	}
}

func TestFindPlannedChangeWithoutChangeRequests(t *testing.T) {
	t.Parallel()
	c, err := NewPlannedChanges(nil, nil)
	require.NoError(t, err)
	got, err := c.FindPlannedChange(context.Background(), PlannedChangeRequest{PLC: DeviceFacts{Name: "PLC-1"}, At: time.Now()})
	require.NoError(t, err)
	require.False(t, got.Planned)
}

func TestFindPlannedChangeErrors(t *testing.T) {
	t.Parallel()
	fake := &fakeRequests{err: errors.New("servicenow: 503")}
	c, err := NewPlannedChanges(nil, fake)
	require.NoError(t, err)

	// Through the activity environment: the error types are what the workflow sees.
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(c)

	_, err = env.ExecuteActivity(c.FindPlannedChange, PlannedChangeRequest{PLC: DeviceFacts{Name: "PLC-1"}})
	appErr, ok := errors.AsType[*temporal.ApplicationError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, FailureInvalidRequest, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Empty(t, fake.calls, "a bad request asks nobody")

	_, err = env.ExecuteActivity(c.FindPlannedChange, PlannedChangeRequest{PLC: DeviceFacts{Name: "PLC-1"}, At: time.Now()})
	require.ErrorContains(t, err, "look up approved change requests")
	require.ErrorContains(t, err, "servicenow: 503")
	appErr, ok = errors.AsType[*temporal.ApplicationError](err)
	require.True(t, ok)
	require.False(t, appErr.NonRetryable(), "an unreachable ServiceNow is worth retrying")
}

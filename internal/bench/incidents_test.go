package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/rules"
	"github.com/interlock-soar/interlock/playbooks"
)

// TestGeneratedIncidentsAreUniqueAndValid generates a mixed batch the way a phase does and checks
// every incident parses, names only its own devices, and would start exactly its kind's playbook
// under the default rules.
func TestGeneratedIncidentsAreUniqueAndValid(t *testing.T) {
	g, err := NewGenerator("abc123")
	require.NoError(t, err)
	eng, err := rules.Default([]string{playbooks.NewEngineeringStationName, playbooks.PLCReprogrammingName, playbooks.AlertStatusSyncName, playbooks.AutoTriageName, playbooks.AutoCloseName, playbooks.MailByLineName, playbooks.OwnerApprovalName, playbooks.CVEAutoWorkflowName})
	require.NoError(t, err)

	seen := map[string]map[string]int{}
	unique := func(what, v string, i int) {
		t.Helper()
		require.NotEmpty(t, v, "%s of incident %d", what, i)
		if seen[what] == nil {
			seen[what] = map[string]int{}
		}
		prev, dup := seen[what][v]
		require.False(t, dup, "%s %q of incident %d repeats incident %d", what, v, i, prev)
		seen[what][v] = i
	}
	kinds := Mix{KindNewEngineeringStation: 1, KindPLCReprogramming: 1}.Sequence(200)
	for i, k := range kinds {
		inc, err := g.New(k, fmt.Sprintf("l%d", i), i)
		require.NoError(t, err)
		ev, err := incident.ParseEvent(inc.Body)
		require.NoError(t, err, "incident %d", i)
		got := ev.Incident

		require.Equal(t, inc.ID, got.ID)
		require.Equal(t, fmt.Sprintf("bench-abc123-l%d", i), got.ID)
		require.Contains(t, got.ARMID, "/Incidents/"+got.ID, "the ARM id names the new incident")
		unique("incident id", got.ID, i)
		unique("event id", ev.ID, i)
		unique("incident number", fmt.Sprint(got.Number), i)
		for _, d := range got.Devices {
			unique("device name", d.Name, i)
			unique("mac", d.MAC, i)
			unique("ip", d.IP, i)
			unique("device id", d.ID, i)
			unique("device key", activities.DeviceKey(d), i)
			require.Contains(t, d.Name, "abc123", "device names carry the run id")
		}
		require.NotContains(t, string(inc.Body), "ENG-WS-07", "no fixture device name is left")
		require.NotContains(t, string(inc.Body), "00:1a:2b:3c:4d:5e", "no fixture MAC is left")
		require.NotContains(t, string(inc.Body), "10.20.3.45", "no fixture IP is left")

		res := eng.Evaluate(ev, time.Now())
		require.Equal(t, []string{k.Playbook()}, res.Playbooks, "incident %d (%s)", i, k)

		switch k {
		case KindNewEngineeringStation:
			require.Len(t, inc.DeviceKeys, 1)
			require.Empty(t, inc.PLCNames)
		case KindPLCReprogramming:
			require.Equal(t, []string{"PLC-abc123-" + fmt.Sprintf("l%d", i)}, inc.PLCNames)
		}
		for _, key := range inc.DeviceKeys {
			found := false
			for _, d := range got.Devices {
				found = found || activities.DeviceKey(d) == key
			}
			require.True(t, found, "device key %s is a device of the incident", key)
		}
	}
}

// TestRunsDoNotShareDevices: two runs make different devices for the same tag and sequence number,
// so an earlier run's still-open ticket never turns a new incident into a work note.
func TestRunsDoNotShareDevices(t *testing.T) {
	a, err := NewGenerator("run1")
	require.NoError(t, err)
	b, err := NewGenerator("run2")
	require.NoError(t, err)
	ia, err := a.New(KindNewEngineeringStation, "l0", 0)
	require.NoError(t, err)
	ib, err := b.New(KindNewEngineeringStation, "l0", 0)
	require.NoError(t, err)
	require.NotEqual(t, ia.ID, ib.ID)
	require.NotEqual(t, ia.DeviceKeys, ib.DeviceKeys)
}

func TestGeneratorRejects(t *testing.T) {
	for _, id := range []string{"", "UPPER", "has-dash", "seventeen-chars-x", "ü"} {
		_, err := NewGenerator(id)
		require.Error(t, err, "run id %q", id)
	}
	g, err := NewGenerator("ok")
	require.NoError(t, err)
	_, err = g.New("dns", "l0", 0)
	require.ErrorContains(t, err, "unknown incident kind")
	_, err = g.New(KindNewEngineeringStation, "l0", maxSeq+1)
	require.ErrorContains(t, err, "out of range")
}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mix
		wantErr string
	}{
		{in: "nes=1,plc=1", want: Mix{KindNewEngineeringStation: 1, KindPLCReprogramming: 1}},
		{in: " NES = 3 , plc=0.5 ", want: Mix{KindNewEngineeringStation: 3, KindPLCReprogramming: 0.5}},
		{in: "plc=1", want: Mix{KindPLCReprogramming: 1}},
		{in: "nes=0,plc=2", want: Mix{KindNewEngineeringStation: 0, KindPLCReprogramming: 2}},
		{in: "", wantErr: "no kind"},
		{in: "nes=0", wantErr: "no kind"},
		{in: "nes", wantErr: "kind=weight"},
		{in: "dns=1", wantErr: "unknown kind"},
		{in: "nes=-1", wantErr: "non-negative"},
		{in: "nes=NaN", wantErr: "non-negative"},
		{in: "nes=1,nes=2", wantErr: "twice"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMix(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestMixSequence(t *testing.T) {
	for _, tc := range []struct {
		mix  Mix
		n    int
		want map[Kind]int
	}{
		{Mix{KindNewEngineeringStation: 1, KindPLCReprogramming: 1}, 10, map[Kind]int{KindNewEngineeringStation: 5, KindPLCReprogramming: 5}},
		{Mix{KindNewEngineeringStation: 3, KindPLCReprogramming: 1}, 8, map[Kind]int{KindNewEngineeringStation: 6, KindPLCReprogramming: 2}},
		{Mix{KindPLCReprogramming: 1}, 4, map[Kind]int{KindPLCReprogramming: 4}},
		{Mix{KindNewEngineeringStation: 0, KindPLCReprogramming: 1}, 3, map[Kind]int{KindPLCReprogramming: 3}},
	} {
		t.Run(tc.mix.String(), func(t *testing.T) {
			seq := tc.mix.Sequence(tc.n)
			require.Len(t, seq, tc.n)
			got := map[Kind]int{}
			for _, k := range seq {
				got[k]++
			}
			require.Equal(t, tc.want, got)
		})
	}
	// Interleaved, not in blocks: an even mix alternates.
	require.Equal(t, []Kind{KindNewEngineeringStation, KindPLCReprogramming, KindNewEngineeringStation, KindPLCReprogramming}, Mix{KindNewEngineeringStation: 1, KindPLCReprogramming: 1}.Sequence(4))
}

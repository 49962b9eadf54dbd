package playbooks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
)

type fixedChangeRequests []activities.ChangeRequest

func (f fixedChangeRequests) Approved(context.Context, time.Time) ([]activities.ChangeRequest, error) {
	return f, nil
}

func TestAutoClose(t *testing.T) {
	amsterdam, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(t, err)
	// Line 3's weekly night shift window, in the plant's time zone: 22:00–02:00 local; parityT0 is
	// 21:30 UTC, 22:30 in Amsterdam.
	night := activities.MaintenanceWindow{Name: "Line 3 night maintenance", Zone: "Packaging Line 3", From: 22 * time.Hour, To: 2 * time.Hour, Location: amsterdam}
	ws := incident.Device{Name: "ENG-WS-07", IP: "10.20.3.45"}
	hmi := incident.Device{Name: "HMI-L3-01", IP: "10.20.3.20"}
	plc := incident.Device{Name: "PLC-L3-01", IP: "10.20.3.10"}          // safety: true, criticality high
	sis := incident.Device{Name: "SIS-L1-01", IP: "10.20.1.11"}          // safety: true, criticality medium
	hmi1 := incident.Device{Name: "HMI-L1-01", IP: "10.20.1.20"}         // Line 1: outside the night window's zone
	safetyPLC := incident.Device{IP: "10.77.0.1", SubType: "Safety PLC"} // unknown to the directory
	cases := []struct {
		name    string
		inc     func() incident.Incident
		opts    func(*parityOptions)
		rig     func(*parityRig)
		closed  bool
		reason  string
		comment string // in the comment, when closed
		lookups int
	}{
		{name: "every device in the window", inc: func() incident.Incident { return otIncident("Medium", ws, hmi) },
			closed: true, comment: "window Line 3 night maintenance", lookups: 2},
		{name: "time zone: 21:30 in Amsterdam is before the 22:00 local window", inc: func() incident.Incident {
			inc := otIncident("Medium", ws)
			inc.FirstActivity = parityT0.Add(-time.Hour) // 21:30 local
			return inc
		}, reason: "not closed: 1 of 1 devices are outside every planned maintenance window or change", lookups: 1},
		{name: "one device outside", inc: func() incident.Incident { return otIncident("Medium", ws, hmi1) },
			reason: "not closed: 1 of 2 devices are outside every planned maintenance window or change", lookups: 2},
		{name: "safety asset, criticality high", inc: func() incident.Incident { return otIncident("Medium", ws, plc) },
			reason: "not closed: PLC-L3-01 (10.20.3.10) is a safety-relevant asset (criticality high): never closed automatically"},
		{name: "safety asset, severity High", inc: func() incident.Incident { return otIncident("High", sis) },
			reason: "not closed: SIS-L1-01 (10.20.1.11) is a safety-relevant asset (severity High): never closed automatically"},
		{name: "safety asset, medium criticality and severity: closed", inc: func() incident.Incident { return fromSource(otIncident("Medium", sis)) },
			opts: func(o *parityOptions) {
				o.windows = []activities.MaintenanceWindow{{Name: "SIS proof test", Devices: []string{"SIS-L1-01"}, Start: parityT0.Add(-time.Hour), End: parityT0.Add(time.Hour)}}
			},
			closed: true, comment: "window SIS proof test", lookups: 1},
		{name: "safety sub-type from Defender for IoT, no directory", inc: func() incident.Incident { return otIncident("High", safetyPLC) },
			opts:   func(o *parityOptions) { o.dir = nil },
			reason: "not closed: 10.77.0.1 is a safety-relevant asset (severity High): never closed automatically"},
		{name: "approved change request", inc: func() incident.Incident { return fromSource(otIncident("Medium", hmi1)) },
			opts: func(o *parityOptions) {
				o.requests = fixedChangeRequests{{Number: "CHG0030001", ShortDescription: "Replace HMI-L1-01 panel", State: "Implement", Start: parityT0.Add(-time.Hour), End: parityT0.Add(time.Hour)}}
			},
			closed: true, comment: "CHG0030001 Replace HMI-L1-01 panel", lookups: 1},
		{name: "already closed", inc: func() incident.Incident {
			inc := otIncident("Medium", ws)
			inc.Status = incident.StatusClosed
			return inc
		}, reason: "the incident is already closed"},
		{name: "no devices", inc: func() incident.Incident {
			inc := otIncident("Medium")
			inc.Alerts[0].SourceAddress = "10.99.9.9" // not a known asset: Enrich adds nothing
			return inc
		}, reason: "not closed: the incident names no device to match a maintenance window against"},
		{name: "lookup fails", inc: func() incident.Incident { return otIncident("Medium", ws) },
			rig:    func(r *parityRig) { r.lookupErr = errors.New("servicenow down") },
			reason: "not closed: 1 of 1 devices are outside every planned maintenance window or change", lookups: 1},
		{name: "directory fails: safety unknown", inc: func() incident.Incident { return otIncident("Medium", ws) },
			rig:    func(r *parityRig) { r.assetsErr = errors.New("directory broken") },
			reason: "not closed: the asset directory could not say whether a device is safety-relevant (asset directory lookup failed: directory broken (type: Injected, retryable: false))"},
		{name: "too many devices", inc: func() incident.Incident {
			var devs []incident.Device
			for i := range closeMaxDevices + 1 {
				devs = append(devs, incident.Device{Name: "d", IP: "10.50.0." + string(rune('0'+i%10)) + string(rune('0'+i/10))})
			}
			return otIncident("Medium", devs...)
		}, reason: "not closed: 27 devices, more than the 25 one incident may be closed for"},
		{name: "comment fails: closed all the same", inc: func() incident.Incident { return otIncident("Low", ws) },
			rig:    func(r *parityRig) { r.commentErr = errors.New("sentinel down") },
			closed: true, comment: "window Line 3 night maintenance", lookups: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := parityOptions{dir: loadTestAssets(t), windows: []activities.MaintenanceWindow{night}, close: CloseSettings{Tag: "Maintenance Auto Close"}}
			if tc.opts != nil {
				tc.opts(&o)
			}
			r := newParityRig(t, o)
			if tc.rig != nil {
				tc.rig(r)
			}
			var res AutoCloseResult
			require.NoError(t, r.run(t, AutoCloseName, tc.inc(), &res))
			require.Equal(t, tc.reason, res.Reason)
			require.Equal(t, tc.closed, res.Closed)
			require.Len(t, r.lookups, tc.lookups)
			if !tc.closed {
				require.Empty(t, r.updates, "nothing closed")
				require.Empty(t, r.comments)
				return
			}
			require.Len(t, r.comments, 1)
			require.Contains(t, r.comments[0].Message, tc.comment)
			require.Equal(t, stableCommentID(AutoCloseName, "inc-7", "closed"), r.comments[0].CommentID)
			require.Equal(t, r.commentErr != nil, res.CommentError != "")
			require.Len(t, r.updates, 1)
			u := r.updates[0]
			require.Equal(t, []string{incident.StatusClosed, "BenignPositive", "SuspiciousButExpected"}, []string{u.Status, u.Classification, u.ClassificationReason})
			require.Contains(t, u.ClassificationComment, tc.comment)
			require.Equal(t, []string{"Maintenance Auto Close"}, u.AddTags)
		})
	}
}

// fromSource makes the alert's source the incident's first device (otIncident's alert comes from
// ENG-WS-07, which the directory would add to the incident).
func fromSource(inc incident.Incident) incident.Incident {
	inc.Alerts[0].SourceAddress = inc.Devices[0].IP
	return inc
}

func TestAutoCloseNoTag(t *testing.T) {
	w := activities.MaintenanceWindow{Name: "all day", Start: parityT0.Add(-time.Hour), End: parityT0.Add(time.Hour)}
	r := newParityRig(t, parityOptions{windows: []activities.MaintenanceWindow{w}})
	var res AutoCloseResult
	require.NoError(t, r.run(t, AutoCloseName, otIncident("Medium", incident.Device{Name: "x<script>", IP: "10.1.1.1"}), &res))
	require.True(t, res.Closed)
	require.Empty(t, r.updates[0].AddTags)
	require.NotContains(t, res.Comment, "<script>")
}

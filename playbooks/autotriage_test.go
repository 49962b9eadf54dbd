package playbooks

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
)

func TestAutoTriage(t *testing.T) {
	const tag = "High Importance Device Auto Update"
	plc := incident.Device{Name: "PLC-L3-01", IP: "10.20.3.10", Importance: "Normal"} // safety: true in the directory
	ws := incident.Device{Name: "ENG-WS-07", IP: "10.20.3.45"}                        // criticality medium → Normal
	high := incident.Device{Name: "HMI-X", IP: "10.99.0.1", Importance: "high"}       // not in the directory
	cases := []struct {
		name     string
		inc      func() incident.Incident
		opts     func(*parityOptions)
		rig      func(*parityRig)
		devices  []string // triaged
		update   *activities.UpdateRequest
		comment  bool
		reason   string
		assetsOK bool
	}{
		{name: "importance High, case-insensitive", inc: func() incident.Incident { return otIncident("Medium", ws, high) },
			devices: []string{"HMI-X (10.99.0.1)"}, comment: true,
			update: &activities.UpdateRequest{Severity: "High", Status: "Active", AddTags: []string{tag}}},
		{name: "safety-relevant per the directory", inc: func() incident.Incident { return otIncident("Low", plc, ws) },
			devices: []string{"PLC-L3-01 (10.20.3.10)"}, comment: true,
			update: &activities.UpdateRequest{Severity: "High", Status: "Active", AddTags: []string{tag}}},
		{name: "safety off in the settings", inc: func() incident.Incident { return otIncident("Low", plc, ws) },
			opts: func(o *parityOptions) { o.triage.Safety = false }, reason: "no high-importance or safety-relevant device among 2 devices"},
		{name: "directory criticality fills an empty importance", inc: func() incident.Incident {
			return otIncident("Medium", incident.Device{IP: "10.20.1.10"}) // PLC-L1-01, criticality high
		}, devices: []string{"PLC-L1-01 (10.20.1.10)"}, comment: true,
			update: &activities.UpdateRequest{Severity: "High", Status: "Active", AddTags: []string{tag}}},
		{name: "nothing important", inc: func() incident.Incident { return otIncident("Medium", ws) },
			reason: "no high-importance or safety-relevant device among 1 devices"},
		{name: "closed: never reopened", inc: func() incident.Incident {
			inc := otIncident("Medium", high)
			inc.Status = incident.StatusClosed
			return inc
		}, reason: "the incident is closed: auto-triage never reopens one"},
		{name: "already triaged", inc: func() incident.Incident {
			inc := otIncident("High", high)
			inc.Status, inc.Labels = incident.StatusActive, []string{"ot", " high importance device auto update "}
			return inc
		}, devices: []string{"HMI-X (10.99.0.1)"}, reason: "already triaged: severity High, status Active, tagged " + tag},
		{name: "tagged, severity lowered since: raised, no second comment", inc: func() incident.Incident {
			inc := otIncident("Medium", high)
			inc.Status, inc.Labels = incident.StatusActive, []string{tag}
			return inc
		}, devices: []string{"HMI-X (10.99.0.1)"}, update: &activities.UpdateRequest{Severity: "High"}},
		{name: "already High: status and tag only", inc: func() incident.Incident { return otIncident("High", high) },
			devices: []string{"HMI-X (10.99.0.1)"}, comment: true, update: &activities.UpdateRequest{Status: "Active", AddTags: []string{tag}}},
		{name: "no directory configured", inc: func() incident.Incident { return otIncident("Low", plc, high) },
			opts:    func(o *parityOptions) { o.dir = nil },
			devices: []string{"HMI-X (10.99.0.1)"}, comment: true,
			update: &activities.UpdateRequest{Severity: "High", Status: "Active", AddTags: []string{tag}}},
		{name: "directory lookup fails: the alert's importance still counts", inc: func() incident.Incident { return otIncident("Low", plc, high) },
			rig:     func(r *parityRig) { r.assetsErr = errors.New("directory broken") },
			devices: []string{"HMI-X (10.99.0.1)"}, comment: true,
			update: &activities.UpdateRequest{Severity: "High", Status: "Active", AddTags: []string{tag}}},
		{name: "comment fails: the update goes on", inc: func() incident.Incident { return otIncident("Low", high) },
			rig:     func(r *parityRig) { r.commentErr = errors.New("sentinel down") },
			devices: []string{"HMI-X (10.99.0.1)"}, comment: true,
			update: &activities.UpdateRequest{Severity: "High", Status: "Active", AddTags: []string{tag}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := parityOptions{dir: loadTestAssets(t), triage: DefaultTriageSettings()}
			if tc.opts != nil {
				tc.opts(&o)
			}
			r := newParityRig(t, o)
			if tc.rig != nil {
				tc.rig(r)
			}
			var res AutoTriageResult
			require.NoError(t, r.run(t, AutoTriageName, tc.inc(), &res))
			var names []string
			for _, d := range res.Devices {
				names = append(names, d.Device)
			}
			require.Equal(t, tc.devices, names)
			require.Equal(t, tc.reason, res.Reason)
			require.Equal(t, tc.comment, len(r.comments) == 1, "comments: %v", r.comments)
			if tc.comment {
				c := r.comments[0]
				require.Equal(t, stableCommentID(AutoTriageName, "inc-7", "triage"), c.CommentID, "the same ID on every run")
				for _, d := range tc.devices {
					require.Contains(t, c.Message, d)
				}
				require.Equal(t, r.commentErr != nil, res.CommentError != "")
			}
			if tc.update == nil {
				require.Empty(t, r.updates)
				return
			}
			require.Len(t, r.updates, 1)
			u := r.updates[0]
			require.True(t, u.RaiseOnly, "never lowers, never reopens")
			require.Nil(t, u.Owner, "the owner is kept")
			require.Equal(t, "inc-7", u.IncidentID)
			require.Equal(t, *tc.update, activities.UpdateRequest{Severity: u.Severity, Status: u.Status, AddTags: u.AddTags})
			require.Equal(t, r.assetsErr != nil, res.AssetsError != "")
		})
	}
}

func TestAutoTriageCommentIsEscaped(t *testing.T) {
	r := newParityRig(t, parityOptions{dir: loadTestAssets(t), triage: TriageSettings{Tag: `<b>"t"</b>`, Safety: true}})
	var res AutoTriageResult
	dev := incident.Device{Name: `<img src=x onerror=alert(1)>`, IP: "10.99.0.2", Importance: "High"}
	require.NoError(t, r.run(t, AutoTriageName, otIncident("Low", dev), &res))
	require.NotContains(t, res.Comment, "<img")
	require.NotContains(t, res.Comment, `<b>"t"`)
	require.Contains(t, res.Comment, "&lt;img src=x onerror=alert(1)&gt;")
}

func TestAutoTriageNoID(t *testing.T) {
	r := newParityRig(t, parityOptions{triage: DefaultTriageSettings()})
	// The input decoder refuses an incident without an id before the workflow runs.
	err := r.run(t, AutoTriageName, incident.Incident{Title: "x"}, &AutoTriageResult{})
	require.ErrorContains(t, err, "id: missing")
	require.Zero(t, r.assetsN)
}

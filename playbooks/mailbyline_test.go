package playbooks

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/assets"
	"github.com/interlock-soar/interlock/internal/incident"
)

func TestMailByLine(t *testing.T) {
	plc := incident.Device{Name: "PLC-L3-01", IP: "10.20.3.10"}
	ws := incident.Device{Name: "ENG-WS-07", IP: "10.20.3.45"}
	l1 := incident.Device{Name: "PLC-L1-01", IP: "10.20.1.10"}
	byZone := incident.Device{Name: "VFD-9", IP: "10.20.1.99", Zone: "Filling Line 1"}
	stranger := incident.Device{Name: "LAPTOP-1", IP: "192.168.7.7", Sensor: "sensor-visitors"}
	type line struct {
		line, to string
		devices  []string
	}
	cases := []struct {
		name      string
		inc       func() incident.Incident
		opts      func(*parityOptions)
		rig       func(*parityRig)
		mailed    []line
		notMailed []string
		without   []string
		reason    string
		failed    bool
	}{
		{name: "two lines, one device without a line", inc: func() incident.Incident {
			inc := otIncident("High", plc, l1, stranger, ws, byZone)
			inc.Alerts[0].SensorID = "" // the alert's sensor would place the stranger on line 3
			return inc
		}, mailed: []line{
			{"Line 3 packaging", "ot-line3@rotterdam.example.com", []string{"PLC-L3-01 (10.20.3.10)", "ENG-WS-07 (10.20.3.45)"}},
			{"Line 1 filling", "ot-line1@rotterdam.example.com", []string{"PLC-L1-01 (10.20.1.10)", "VFD-9 (10.20.1.99)"}},
		}, without: []string{"LAPTOP-1 (192.168.7.7)"}},
		{name: "the alert's sensor places unknown devices", inc: func() incident.Incident { return fromSource(otIncident("High", stranger)) },
			mailed: []line{{"Line 3 packaging", "ot-line3@rotterdam.example.com", []string{"LAPTOP-1 (192.168.7.7)"}}}},
		{name: "the same device twice is listed once", inc: func() incident.Incident { return fromSource(otIncident("High", plc, plc)) },
			mailed: []line{{"Line 3 packaging", "ot-line3@rotterdam.example.com", []string{"PLC-L3-01 (10.20.3.10)"}}}},
		{name: "a line over the limit", inc: func() incident.Incident { return fromSource(otIncident("High", plc, l1)) },
			opts:      func(o *parityOptions) { o.mailLine.MaxLines = 1 },
			mailed:    []line{{"Line 3 packaging", "ot-line3@rotterdam.example.com", []string{"PLC-L3-01 (10.20.3.10)"}}},
			notMailed: []string{"Rotterdam Plant / Line 1 filling: more than 1 lines in one incident"}},
		{name: "one line's mailbox refused", inc: func() incident.Incident { return fromSource(otIncident("High", plc, l1)) },
			rig:       func(r *parityRig) { r.rejectMail = []string{"ot-line1@"} },
			mailed:    []line{{"Line 3 packaging", "ot-line3@rotterdam.example.com", []string{"PLC-L3-01 (10.20.3.10)"}}},
			notMailed: []string{"Rotterdam Plant / Line 1 filling: SMTP server rejected the line notification (type: SMTPRejected, retryable: false): mail: invalid message: 550 no such mailbox"}},
		{name: "every mailbox refused", inc: func() incident.Incident { return fromSource(otIncident("High", plc)) },
			rig: func(r *parityRig) { r.rejectMail = []string{"@"} }, failed: true},
		{name: "no line anywhere", inc: func() incident.Incident {
			inc := fromSource(otIncident("High", stranger))
			inc.Alerts[0].SensorID = ""
			return inc
		}, without: []string{"LAPTOP-1 (192.168.7.7)"}, reason: "none of the 1 devices is on a production line of the asset directory"},
		{name: "no directory configured", inc: func() incident.Incident { return otIncident("High", plc) },
			opts:    func(o *parityOptions) { o.dir = nil },
			without: []string{"PLC-L3-01 (10.20.3.10)"}, reason: "no asset directory is configured (incidents.assetsFile): no line has a mailbox"},
		{name: "directory fails", inc: func() incident.Incident { return otIncident("High", plc) },
			rig:     func(r *parityRig) { r.assetsErr = errTest },
			without: []string{"PLC-L3-01 (10.20.3.10)"}, reason: "none of the 1 devices is on a production line of the asset directory"},
		{name: "a line without any mailbox", inc: func() incident.Incident {
			return fromSource(otIncident("High", incident.Device{Name: "X", IP: "10.1.0.1"}))
		},
			opts: func(o *parityOptions) {
				dir, err := assets.Parse([]byte("sites:\n  - name: S\n    lines:\n      - name: L\n        zones: [{name: Z, assets: [{name: X, ip: 10.1.0.1, criticality: low}]}]\n"), "yaml")
				require.NoError(t, err)
				o.dir = dir
			},
			notMailed: []string{"S / L: neither the line nor its site has owners in the asset directory"}, failed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := parityOptions{dir: loadTestAssets(t), mailLine: MailLineSettings{MaxLines: 10}}
			if tc.opts != nil {
				tc.opts(&o)
			}
			r := newParityRig(t, o)
			if tc.rig != nil {
				tc.rig(r)
			}
			var res MailByLineResult
			err := r.run(t, MailByLineName, tc.inc(), &res)
			if tc.failed {
				var ae *temporal.ApplicationError
				require.ErrorAs(t, err, &ae)
				require.Equal(t, FailureMailFailed, ae.Type())
				require.Empty(t, r.mails)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.reason, res.Reason)
			require.Equal(t, tc.without, res.WithoutLine)
			var notMailed []string
			for _, n := range res.NotMailed {
				notMailed = append(notMailed, n.Line+": "+n.Reason)
			}
			require.Equal(t, tc.notMailed, notMailed)
			require.Len(t, res.Mailed, len(tc.mailed))
			require.Len(t, r.mails, len(tc.mailed))
			for i, want := range tc.mailed {
				got := res.Mailed[i]
				require.Equal(t, want.line, got.Line)
				require.Equal(t, []string{want.to}, got.Recipients)
				require.Equal(t, want.devices, got.Devices)
				var m = r.mails[0]
				for _, mm := range r.mails {
					if "<"+mm.MessageID+">" == got.MessageID {
						m = mm
					}
				}
				require.Equal(t, "<"+m.MessageID+">", got.MessageID)
				for _, d := range want.devices {
					require.Contains(t, m.Text, d)
				}
				require.True(t, strings.HasSuffix(m.Subject, "detected on "+want.line), m.Subject)
			}
		})
	}
}

// A second run for the same incident sends the same Message-IDs: the mail system can drop the copies.
func TestMailByLineMessageIDStable(t *testing.T) {
	ids := func() []string {
		r := newParityRig(t, parityOptions{dir: loadTestAssets(t), mailLine: MailLineSettings{MaxLines: 10}})
		var res MailByLineResult
		inc := fromSource(otIncident("High", incident.Device{Name: "PLC-L3-01", IP: "10.20.3.10"}, incident.Device{Name: "PLC-L1-01", IP: "10.20.1.10"}))
		require.NoError(t, r.run(t, MailByLineName, inc, &res))
		var out []string
		for _, m := range res.Mailed {
			out = append(out, m.MessageID)
		}
		return out
	}
	first := ids()
	require.Len(t, first, 2)
	require.NotEqual(t, first[0], first[1])
	require.Equal(t, first, ids())
}

var errTest = errors.New("directory broken")

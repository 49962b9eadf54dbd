package activities

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities/mail"
)

type captureSender struct{ sent []mail.Message }

func (c *captureSender) Send(_ context.Context, m mail.Message) error {
	c.sent = append(c.sent, m)
	return nil
}

func TestSendLineNotification(t *testing.T) {
	s := &captureSender{}
	n := &Notifier{Mailer: s}
	req := LineNotification{
		Key: "MailByProductionLine/inc-1", IncidentID: "inc-1", IncidentNumber: 7,
		Title: "Bad\r\nBcc: evil@x.example <script>", Description: "<img src=x onerror=alert(1)>",
		URL: "javascript:alert(1)", Line: "Line 3", Site: "Rotterdam",
		Recipients: []Recipient{{Email: "ot-line3@rotterdam.example.com"}, {Email: "OT-LINE3@rotterdam.example.com"}},
		Devices:    []LineDevice{{Name: "PLC<b>", IP: "10.0.0.1", Type: "PLC"}},
	}
	res, err := n.SendLineNotification(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, []string{"ot-line3@rotterdam.example.com"}, res.Recipients)
	m := s.sent[0]
	require.NotContains(t, m.Subject, "\n")
	require.NotContains(t, m.Subject, "\r")
	require.NotContains(t, m.HTML, "<script>")
	require.NotContains(t, m.HTML, "<img")
	require.NotContains(t, m.HTML, "<b>\"")
	require.NotContains(t, m.HTML, "javascript:")
	require.Contains(t, m.HTML, "PLC&lt;b&gt;")

	again, err := n.SendLineNotification(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, res.MessageID, again.MessageID, "same incident and line, same Message-ID")
	other := req
	other.Line = "Line 1"
	third, err := n.SendLineNotification(context.Background(), other)
	require.NoError(t, err)
	require.NotEqual(t, res.MessageID, third.MessageID)

	for _, bad := range []func(r *LineNotification){
		func(r *LineNotification) { r.Key = "" },
		func(r *LineNotification) { r.Devices = nil },
		func(r *LineNotification) { r.Recipients = nil },
		func(r *LineNotification) { r.Recipients = []Recipient{{Email: "Evil <a@b.example>"}} },
	} {
		r := req
		bad(&r)
		_, err := n.SendLineNotification(context.Background(), r)
		require.Error(t, err)
		require.True(t, strings.Contains(err.Error(), "line notification") || strings.Contains(err.Error(), "recipient"), err.Error())
	}
}

func TestLineDeviceText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    LineDevice
		want string
	}{
		{"plain", LineDevice{Name: "PLC-L3-01", Type: "PLC", IP: "10.0.3.1", Zone: "Cell 3"}, "PLC-L3-01 (PLC, 10.0.3.1, Cell 3)"},
		{"name only", LineDevice{Name: "PLC-L3-01"}, "PLC-L3-01"},
		{"hostile", LineDevice{Name: "PLC\x1b[2J\r\nBcc: x", Zone: "Cell\u202e 3\u200b"}, "PLC [2J Bcc: x (Cell 3)"},
		{"clipped", LineDevice{Name: strings.Repeat("P", 150)}, strings.Repeat("P", 99) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, lineDeviceText(tc.d))
		})
	}
}

package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/mail"
)

// LineNotification is one email to a production line's mailbox about an incident on the line
// (MailByProductionLine). Every string but Key comes from the alert or the directory: hostile.
type LineNotification struct {
	// Key makes the Message-ID: the same incident and line always give the same one, across retries
	// and re-runs, so a deduplicating mail system drops a repeat.
	Key            string       `json:"key"`
	IncidentID     string       `json:"incidentId"`
	IncidentNumber int64        `json:"incidentNumber,omitempty"`
	Title          string       `json:"title"`
	Description    string       `json:"description,omitempty"`
	Severity       string       `json:"severity,omitempty"`
	URL            string       `json:"url,omitempty"`
	SourceAddress  string       `json:"sourceAddress,omitempty"`
	Site           string       `json:"site,omitempty"`
	Line           string       `json:"line"`
	Recipients     []Recipient  `json:"recipients"`
	Devices        []LineDevice `json:"devices"`
}

// LineDevice is one device of the line the incident involves.
type LineDevice struct {
	Name string `json:"name"`
	IP   string `json:"ip,omitempty"`
	Type string `json:"type,omitempty"`
	Zone string `json:"zone,omitempty"`
	// By says how the directory placed it: asset, zone or sensor.
	By string `json:"by,omitempty"`
}

// maxLineDevices bounds the devices one message lists; the rest are counted.
const maxLineDevices = 100

// SendLineNotification emails the line's mailbox about the incident, listing the line's devices.
func (n *Notifier) SendLineNotification(ctx context.Context, req LineNotification) (NotificationResult, error) {
	rcpts, err := lineRecipients(req)
	if err != nil {
		return NotificationResult{}, temporal.NewNonRetryableApplicationError(err.Error(), FailureInvalidRequest, nil)
	}
	to := make([]string, len(rcpts))
	addrs := make([]string, len(rcpts))
	for i, r := range rcpts {
		to[i], addrs[i] = r.String(), r.Address
	}
	msgID := lineMessageID(req, addrs)
	subject, text, body := RenderLineNotification(req)
	err = n.Mailer.Send(ctx, mail.Message{
		To: to, Subject: subject, Text: text, HTML: body, MessageID: msgID,
		Headers: map[string]string{"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
	})
	if err != nil {
		if mail.IsPermanent(err) {
			return NotificationResult{}, temporal.NewNonRetryableApplicationError("SMTP server rejected the line notification", FailureSMTPRejected, err)
		}
		return NotificationResult{}, temporal.NewApplicationErrorWithCause("SMTP send failed, will retry", FailureSMTPTemporary, err)
	}
	if activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Info("line notification sent", "messageId", msgID, "recipients", len(addrs))
	}
	return NotificationResult{MessageID: "<" + msgID + ">", Recipients: addrs, SentAt: time.Now().UTC()}, nil
}

func lineRecipients(req LineNotification) ([]recipient, error) {
	if strings.TrimSpace(req.Key) == "" || len(req.Key) > 1000 {
		return nil, fmt.Errorf("line notification needs a key of at most 1000 bytes")
	}
	if len(req.Devices) == 0 {
		return nil, fmt.Errorf("line notification lists no device")
	}
	// The PLC notice's checks: bare, valid, deduplicated addresses, at most maxNotificationRecipients.
	return notificationRecipients(req.Key, 0, req.Recipients)
}

// lineMessageID is "interlock.<32 hex>@interlock" over the key, incident, line and sorted recipients,
// without the run ID: a second run for the same incident is the same message.
func lineMessageID(req LineNotification, addrs []string) string {
	sorted := make([]string, len(addrs))
	for i, a := range addrs {
		sorted[i] = strings.ToLower(a)
	}
	slices.Sort(sorted)
	h := sha256.New()
	for _, part := range []string{"line", req.Key, req.IncidentID, strconv.FormatInt(req.IncidentNumber, 10), req.Site, req.Line, strings.Join(sorted, ",")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "interlock." + hex.EncodeToString(h.Sum(nil))[:32] + "@interlock"
}

// RenderLineNotification makes the subject, text and HTML of a line notification. The subject is
// made header-safe by the mail package; every value in the HTML is escaped, and the incident link is
// only a link when it is http(s).
func RenderLineNotification(req LineNotification) (subject, text, body string) {
	title := safetext.Line(req.Title, 150)
	line := safetext.Line(req.Line, 80)
	subject = fmt.Sprintf("%s detected on %s", title, line)
	e := html.EscapeString
	var t, b strings.Builder
	fmt.Fprintf(&t, "%s was detected on production line %s", title, line)
	fmt.Fprintf(&b, "<p><b>%s</b> was detected on production line <b>%s</b>", e(title), e(line))
	if req.Site != "" {
		fmt.Fprintf(&t, " (%s)", req.Site)
		fmt.Fprintf(&b, " (%s)", e(req.Site))
	}
	if req.SourceAddress != "" {
		fmt.Fprintf(&t, ", source address %s", req.SourceAddress)
		fmt.Fprintf(&b, ", source address %s", e(req.SourceAddress))
	}
	t.WriteString(".\n\n")
	b.WriteString(".</p>\n")
	if req.Severity != "" {
		fmt.Fprintf(&t, "Severity: %s\n", req.Severity)
		fmt.Fprintf(&b, "<p>Severity: %s</p>\n", e(req.Severity))
	}
	if d := strings.TrimSpace(req.Description); d != "" {
		d = safetext.Clip(d, 2000)
		fmt.Fprintf(&t, "%s\n", d)
		fmt.Fprintf(&b, "<p>%s</p>\n", e(d))
	}
	t.WriteString("\nDevices of the line in this incident:\n")
	b.WriteString("<p>Devices of the line in this incident:</p>\n<ul>\n")
	for i, d := range req.Devices {
		if i == maxLineDevices {
			fmt.Fprintf(&t, "- and %d more\n", len(req.Devices)-i)
			fmt.Fprintf(&b, "<li>and %d more</li>\n", len(req.Devices)-i)
			break
		}
		desc := lineDeviceText(d)
		fmt.Fprintf(&t, "- %s\n", desc)
		fmt.Fprintf(&b, "<li>%s</li>\n", e(desc))
	}
	b.WriteString("</ul>\n")
	ref := "Incident"
	if req.IncidentNumber > 0 {
		ref = fmt.Sprintf("Incident %d", req.IncidentNumber)
	}
	if u := strings.TrimSpace(req.URL); strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		fmt.Fprintf(&t, "\n%s: %s\n", ref, u)
		fmt.Fprintf(&b, "<p><a href=\"%s\">%s in Microsoft Sentinel</a></p>\n", e(u), e(ref))
	} else {
		fmt.Fprintf(&t, "\n%s (%s)\n", ref, req.IncidentID)
		fmt.Fprintf(&b, "<p>%s (%s)</p>\n", e(ref), e(req.IncidentID))
	}
	t.WriteString("\nSent by Interlock (MailByProductionLine) to the line's mailbox in the asset directory.\n")
	b.WriteString("<p>Sent by Interlock (MailByProductionLine) to the line's mailbox in the asset directory.</p>\n")
	return subject, t.String(), b.String()
}

func lineDeviceText(d LineDevice) string {
	s := safetext.Line(d.Name, 100)
	var extra []string
	for _, v := range []string{d.Type, d.IP, d.Zone} {
		if v = safetext.Line(v, 100); v != "" {
			extra = append(extra, v)
		}
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

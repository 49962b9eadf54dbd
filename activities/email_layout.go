package activities

import (
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
)

// emailChrome is what every Interlock email shows around its own content: the subject as the HTML
// title, a badge for an escalation or a reminder, the severity badge, and the footer's note.
type emailChrome struct {
	Subject string
	// Badge is "Escalation 2", "Reminder 1"; empty on a first notice.
	Badge string
	// Severity is the incident severity; SeverityColor its badge colour.
	Severity      string
	SeverityColor string
	// FooterNote says why this email follows an earlier one; empty on a first notice.
	FooterNote string
}

// newEmailChrome makes the chrome of an email that is the round-th repeat (0: the first) of a
// question, badged as kind ("Escalation", "Reminder"); pending says who has not answered.
func newEmailChrome(subject, severity, kind string, round int, pending string) emailChrome {
	c := emailChrome{Subject: subject, Severity: field(severity, 20)}
	c.SeverityColor = severityColor(c.Severity)
	if round > 0 {
		n := strconv.Itoa(round)
		c.Badge = kind + " " + n
		c.FooterNote = "This is " + lowerFirst(kind) + " " + n + ": " + pending
	}
	return c
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// The parts every email's text body shares: its sections of label/value rows and its footer.
const textParts = `{{define "sections"}}{{range .Sections}}
{{.Title}}
{{range .Rows}}  {{.Pad}}{{.Value}}
{{end}}{{end}}{{end}}{{define "footer"}}--
Sent by Interlock for the security operations team.{{with .FooterNote}} {{.}}{{end}}
If you did not expect this email, tell the security team; do not forward the answer links.
{{end}}`

// The parts every email's HTML body shares: the page and its header bar ("top"), the sections, and
// the footer that closes the page. Inline styles and tables, as mail clients on phones need.
const htmlParts = `{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;background:#ffffff;border:1px solid #e5e7eb;border-radius:8px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#111827;">
<tr><td style="padding:16px 28px;background:#111827;color:#ffffff;border-radius:8px 8px 0 0;font-size:12px;letter-spacing:1px;text-transform:uppercase;">Interlock · OT security{{with .Badge}} &nbsp;<span style="background:#b91c1c;color:#ffffff;padding:2px 8px;border-radius:4px;">{{.}}</span>{{end}}{{if .Severity}} &nbsp;<span style="background:{{.SeverityColor}};color:#ffffff;padding:2px 8px;border-radius:4px;">{{.Severity}}</span>{{end}}</td></tr>
{{end}}{{define "sections"}}{{range .Sections}}<tr><td style="padding:12px 28px 0 28px;">
<h2 style="margin:8px 0 6px 0;font-size:13px;letter-spacing:1px;text-transform:uppercase;color:#6b7280;">{{.Title}}</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">
{{range .Rows}}<tr><td style="padding:6px 12px 6px 0;border-top:1px solid #f3f4f6;color:#6b7280;width:140px;vertical-align:top;">{{.Label}}</td><td style="padding:6px 0;border-top:1px solid #f3f4f6;vertical-align:top;word-break:break-word;">{{if .Link}}<a href="{{.Link}}" style="color:#1d4ed8;">{{.Value}}</a>{{else}}{{.Value}}{{end}}</td></tr>
{{end}}</table>
</td></tr>
{{end}}{{end}}{{define "footer"}}<tr><td style="padding:20px 28px 24px 28px;color:#6b7280;font-size:12px;border-top:1px solid #e5e7eb;">
Sent by Interlock for the security operations team.{{with .FooterNote}} {{.}}{{end}}
If you did not expect this email, tell the security team; do not forward the answer links.
</td></tr>
</table>
</td></tr></table>
</body></html>
{{end}}`

// textLayout and htmlLayout start an email's template with the shared parts defined.
func textLayout(name string) *texttemplate.Template {
	return texttemplate.Must(texttemplate.New(name).Parse(textParts))
}

func htmlLayout(name string) *htmltemplate.Template {
	return htmltemplate.Must(htmltemplate.New(name).Parse(htmlParts))
}

// renderParts executes an email's text and HTML templates on v. The templates are fixed and the
// views hold only strings, so execution fails only on a programming error, which the tests catch; a
// failure still yields a usable text (fallback) and no HTML part rather than no email.
func renderParts(text *texttemplate.Template, html *htmltemplate.Template, v any, fallback string) (string, string) {
	var tb, hb strings.Builder
	tb.Grow(4 << 10)
	hb.Grow(12 << 10)
	if err := text.Execute(&tb, v); err != nil {
		tb.Reset()
		tb.WriteString(fallback)
	}
	if err := html.Execute(&hb, v); err != nil {
		hb.Reset()
	}
	return tb.String(), hb.String()
}

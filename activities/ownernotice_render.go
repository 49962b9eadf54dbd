package activities

import (
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// Microsoft's subjects (AD4IoT-SendEmailtoIoTOwner, AD4IoT-CVEAutoWorkflow), kept so owners who know
// them recognise the mail; the incident number is appended, and reminders are prefixed.
const (
	OwnerSubject = "Action required: Validate an incident where you are the device owner"
	CVESubject   = "Action required: Validate an incident with critical CVE"
)

// maxCVEs bounds the CVEs one email lists; the incident comments list them all.
const maxCVEs = 10

type ownerView struct {
	Subject  string
	Reminder int
	Headline string
	Intro    string
	Deadline string
	Yes, No  string
	Sections []section
	CVEs     []cveView
	More     int
	Severity string
	Color    string
}

type cveView struct {
	ID, CVSS, Severity, Description, Remediation string
}

// RenderOwnerNotification renders an owner question: subject, plain text and HTML. Every string in n
// is hostile and cleaned as in RenderPLCNotification; links are Interlock's own answer URLs.
func RenderOwnerNotification(n OwnerNotification, links AnswerLinks) (subject, text, html string) {
	v := ownerViewOf(n, links)
	var tb, hb strings.Builder
	if err := ownerText.Execute(&tb, v); err != nil {
		tb.Reset()
		tb.WriteString(v.Subject + "\n\nYes, this is expected: " + v.Yes + "\nNo, this is NOT expected: " + v.No + "\n")
	}
	if err := ownerHTML.Execute(&hb, v); err != nil {
		hb.Reset()
	}
	return v.Subject, tb.String(), hb.String()
}

func ownerViewOf(n OwnerNotification, links AnswerLinks) ownerView {
	dev := plcName(n.Device)
	v := ownerView{Reminder: max(n.Round, 0), Yes: links.Planned, No: links.NotPlanned, Severity: field(n.Severity, 20)}
	v.Color = severityColor(v.Severity)
	subject := OwnerSubject
	v.Headline = "Is what this incident reports about " + dev + " expected?"
	v.Intro = "We have the following incident where you have been identified as the device owner."
	if len(n.CVEs) > 0 {
		subject = CVESubject
		v.Intro = "In this incident, you have been identified as the device owner of " + dev + ", which has a critical CVE."
	}
	if v.Reminder > 0 {
		subject = "REMINDER " + strconv.Itoa(v.Reminder) + ": " + subject
	}
	if n.IncidentNumber != 0 {
		subject += " — incident " + strconv.FormatInt(n.IncidentNumber, 10)
	}
	v.Subject = safetext.Line(subject, 250)
	if !n.AnswerDeadline.IsZero() {
		v.Deadline = longTime(n.AnswerDeadline)
	}
	number := ""
	if n.IncidentNumber != 0 {
		number = strconv.FormatInt(n.IncidentNumber, 10)
	}
	v.Sections = compact([]section{
		{"Incident", []row{
			{Label: "Number", Value: number},
			{Label: "Title", Value: field(n.IncidentTitle, maxFieldRunes)},
			{Label: "Description", Value: field(n.IncidentDescription, maxStepRunes)},
			{Label: "Severity", Value: v.Severity},
			linkRow("Link", n.IncidentURL),
		}},
		{"Device", deviceRows(n.Device)},
		{"Where", []row{
			{Label: "Site", Value: field(n.Site, 80)},
			{Label: "Zone", Value: field(n.Zone, 80)},
			{Label: "Sensor", Value: field(n.Sensor, 80)},
		}},
	})
	for _, c := range n.CVEs[:min(len(n.CVEs), maxCVEs)] {
		v.CVEs = append(v.CVEs, cveView{
			ID: field(c.ID, 40), CVSS: field(c.CVSS, 10), Severity: field(c.Severity, 20),
			Description: field(c.Description, maxStepRunes), Remediation: field(c.Remediation, maxStepRunes),
		})
	}
	v.More = max(len(n.CVEs)-maxCVEs, 0)
	return v
}

var ownerText = texttemplate.Must(texttemplate.New("text").Parse(`{{.Subject}}

{{.Headline}}
{{.Intro}}

Please tell the security team whether this is expected{{if .Deadline}}, by {{.Deadline}}{{end}}.
"Yes" means it is expected and therefore a false positive; "No" means it is not expected and
therefore a true positive. One click is enough; the page that opens asks you to confirm.

  Yes, this is expected:
  {{.Yes}}

  No, this is NOT expected:
  {{.No}}
{{range .Sections}}
{{.Title}}
{{range .Rows}}  {{.Pad}}{{.Value}}
{{end}}{{end}}{{if .CVEs}}
Critical CVEs
{{range .CVEs}}  {{.ID}}{{if .CVSS}} (CVSS {{.CVSS}}){{end}}{{if .Severity}} {{.Severity}}{{end}}
{{if .Description}}    {{.Description}}
{{end}}{{if .Remediation}}    Fix: {{.Remediation}}
{{end}}{{end}}{{if .More}}  … and {{.More}} more, listed on the incident.
{{end}}{{end}}
--
Sent by Interlock for the security operations team.{{if .Reminder}} This is reminder {{.Reminder}}: nobody has answered the earlier email yet.{{end}}
If you did not expect this email, tell the security team; do not forward the answer links.
`))

var ownerHTML = htmltemplate.Must(htmltemplate.New("html").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;background:#ffffff;border:1px solid #e5e7eb;border-radius:8px;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#111827;">
<tr><td style="padding:16px 28px;background:#111827;color:#ffffff;border-radius:8px 8px 0 0;font-size:12px;letter-spacing:1px;text-transform:uppercase;">Interlock · OT security{{if .Reminder}} &nbsp;<span style="background:#b91c1c;color:#ffffff;padding:2px 8px;border-radius:4px;">Reminder {{.Reminder}}</span>{{end}}{{if .Severity}} &nbsp;<span style="background:{{.Color}};color:#ffffff;padding:2px 8px;border-radius:4px;">{{.Severity}}</span>{{end}}</td></tr>
<tr><td style="padding:28px 28px 8px 28px;">
<h1 style="margin:0 0 12px 0;font-size:22px;line-height:1.3;">{{.Headline}}</h1>
<p style="margin:0 0 12px 0;">{{.Intro}}</p>
<p style="margin:0 0 20px 0;">Please tell the security team whether this is expected{{if .Deadline}}, by <strong>{{.Deadline}}</strong>{{end}}. "Yes" means it is expected and therefore a false positive; "No" means it is not expected and therefore a true positive. One click is enough; the page that opens asks you to confirm.</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
<td style="padding:0 12px 12px 0;"><a href="{{.Yes}}" style="display:inline-block;background:#15803d;color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px;">Yes, this is expected</a></td>
<td style="padding:0 0 12px 0;"><a href="{{.No}}" style="display:inline-block;background:#b91c1c;color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px;">No, this is NOT expected</a></td>
</tr></table>
</td></tr>
{{range .Sections}}<tr><td style="padding:12px 28px 0 28px;">
<h2 style="margin:8px 0 6px 0;font-size:13px;letter-spacing:1px;text-transform:uppercase;color:#6b7280;">{{.Title}}</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">
{{range .Rows}}<tr><td style="padding:6px 12px 6px 0;border-top:1px solid #f3f4f6;color:#6b7280;width:140px;vertical-align:top;">{{.Label}}</td><td style="padding:6px 0;border-top:1px solid #f3f4f6;vertical-align:top;word-break:break-word;">{{if .Link}}<a href="{{.Link}}" style="color:#1d4ed8;">{{.Value}}</a>{{else}}{{.Value}}{{end}}</td></tr>
{{end}}</table>
</td></tr>
{{end}}{{if .CVEs}}<tr><td style="padding:12px 28px 0 28px;">
<h2 style="margin:8px 0 6px 0;font-size:13px;letter-spacing:1px;text-transform:uppercase;color:#6b7280;">Critical CVEs</h2>
{{range .CVEs}}<p style="margin:0 0 10px 0;word-break:break-word;"><strong>{{.ID}}</strong>{{if .CVSS}} · CVSS {{.CVSS}}{{end}}{{if .Severity}} · {{.Severity}}{{end}}{{if .Description}}<br>{{.Description}}{{end}}{{if .Remediation}}<br><em>Fix:</em> {{.Remediation}}{{end}}</p>
{{end}}{{if .More}}<p style="margin:0 0 10px 0;color:#6b7280;">… and {{.More}} more, listed on the incident.</p>{{end}}
</td></tr>
{{end}}<tr><td style="padding:20px 28px 24px 28px;color:#6b7280;font-size:12px;border-top:1px solid #e5e7eb;">
Sent by Interlock for the security operations team.{{if .Reminder}} This is reminder {{.Reminder}}: nobody has answered the earlier email yet.{{end}}
If you did not expect this email, tell the security team; do not forward the answer links.
</td></tr>
</table>
</td></tr></table>
</body></html>
`))

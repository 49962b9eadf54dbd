package activities

import (
	htmltemplate "html/template"
	"strconv"
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
	emailChrome
	Reminder int
	Headline string
	Intro    string
	Deadline string
	Yes, No  string
	Sections []section
	CVEs     []cveView
	More     int
}

type cveView struct {
	ID, CVSS, Severity, Description, Remediation string
}

// RenderOwnerNotification renders an owner question: subject, plain text and HTML. Every string in n
// is hostile and cleaned as in RenderPLCNotification; links are Interlock's own answer URLs.
func RenderOwnerNotification(n OwnerNotification, links AnswerLinks) (subject, text, html string) {
	v := ownerViewOf(n, links)
	text, html = renderParts(ownerText, ownerHTML, v,
		v.Subject+"\n\nYes, this is expected: "+v.Yes+"\nNo, this is NOT expected: "+v.No+"\n")
	return v.Subject, text, html
}

func ownerViewOf(n OwnerNotification, links AnswerLinks) ownerView {
	dev := plcName(n.Device)
	v := ownerView{Reminder: max(n.Round, 0), Yes: links.Planned, No: links.NotPlanned}
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
	v.emailChrome = newEmailChrome(safetext.Line(subject, 250), n.Severity, "Reminder", v.Reminder,
		"nobody has answered the earlier email yet.")
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

var ownerText = texttemplate.Must(textLayout("owner").Parse(`{{.Subject}}

{{.Headline}}
{{.Intro}}

Please tell the security team whether this is expected{{if .Deadline}}, by {{.Deadline}}{{end}}.
"Yes" means it is expected and therefore a false positive; "No" means it is not expected and
therefore a true positive. One click is enough; the page that opens asks you to confirm.

  Yes, this is expected:
  {{.Yes}}

  No, this is NOT expected:
  {{.No}}
{{template "sections" .}}{{if .CVEs}}
Critical CVEs
{{range .CVEs}}  {{.ID}}{{if .CVSS}} (CVSS {{.CVSS}}){{end}}{{if .Severity}} {{.Severity}}{{end}}
{{if .Description}}    {{.Description}}
{{end}}{{if .Remediation}}    Fix: {{.Remediation}}
{{end}}{{end}}{{if .More}}  … and {{.More}} more, listed on the incident.
{{end}}{{end}}
{{template "footer" .}}`))

var ownerHTML = htmltemplate.Must(htmlLayout("owner").Parse(`{{template "top" .}}<tr><td style="padding:28px 28px 8px 28px;">
<h1 style="margin:0 0 12px 0;font-size:22px;line-height:1.3;">{{.Headline}}</h1>
<p style="margin:0 0 12px 0;">{{.Intro}}</p>
<p style="margin:0 0 20px 0;">Please tell the security team whether this is expected{{if .Deadline}}, by <strong>{{.Deadline}}</strong>{{end}}. "Yes" means it is expected and therefore a false positive; "No" means it is not expected and therefore a true positive. One click is enough; the page that opens asks you to confirm.</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
<td style="padding:0 12px 12px 0;"><a href="{{.Yes}}" style="display:inline-block;background:#15803d;color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px;">Yes, this is expected</a></td>
<td style="padding:0 0 12px 0;"><a href="{{.No}}" style="display:inline-block;background:#b91c1c;color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px;">No, this is NOT expected</a></td>
</tr></table>
</td></tr>
{{template "sections" .}}{{if .CVEs}}<tr><td style="padding:12px 28px 0 28px;">
<h2 style="margin:8px 0 6px 0;font-size:13px;letter-spacing:1px;text-transform:uppercase;color:#6b7280;">Critical CVEs</h2>
{{range .CVEs}}<p style="margin:0 0 10px 0;word-break:break-word;"><strong>{{.ID}}</strong>{{if .CVSS}} · CVSS {{.CVSS}}{{end}}{{if .Severity}} · {{.Severity}}{{end}}{{if .Description}}<br>{{.Description}}{{end}}{{if .Remediation}}<br><em>Fix:</em> {{.Remediation}}{{end}}</p>
{{end}}{{if .More}}<p style="margin:0 0 10px 0;color:#6b7280;">… and {{.More}} more, listed on the incident.</p>{{end}}
</td></tr>
{{end}}{{template "footer" .}}`))

package activities

import (
	htmltemplate "html/template"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"

	"github.com/interlock-soar/interlock/internal/incident"
)

// Caps on alert-derived fields: long enough for any real name, short enough that a hostile
// payload cannot bloat the mail or push the answer buttons out of sight.
const (
	maxNameRunes  = 64
	maxFieldRunes = 200
	maxStepRunes  = 1000
	maxListItems  = 20
	// The business impact statement is at most 300 runes as the asset directory makes it.
	maxImpactRunes   = 400
	maxImpactUnknown = 10
)

// RenderPLCNotification renders a PLC-change notice: the subject, a plain-text body and an HTML
// body with the same content. Every string in n is treated as hostile: control characters are
// removed, lengths capped, URL schemes in free text defanged, and the HTML is built with
// html/template. Links from the payload (incident, device pages) become links only when they are
// plain https URLs; anything else is shown as text. links are Interlock's own answer URLs.
func RenderPLCNotification(n PLCNotification, links AnswerLinks) (subject, text, html string) {
	v := plcView(n, links)
	text, html = renderParts(plcText, plcHTML, v,
		v.Subject+"\n\nYes, this change was planned: "+v.Planned+"\nNo, this change was NOT planned: "+v.NotPlanned+"\n")
	return v.Subject, text, html
}

type noticeView struct {
	emailChrome
	Escalation int
	PLC        string
	Headline   string
	What       string
	When       string
	Deadline   string
	Planned    string
	NotPlanned string
	Sections   []section
	Steps      []string
	Techniques string
	// Impact is the business impact block; nil leaves it out.
	Impact *impactView
}

// impactView is the business impact block of a notice.
type impactView struct {
	Statement string
	// Risk is the production stop risk ("high", "low", …); RiskHigh highlights it.
	Risk     string
	RiskHigh bool
	Safety   bool
	// Unknown lists the devices the asset directory does not know, when the statement does not.
	Unknown string
	// Alert is RiskHigh or Safety: the block is highlighted.
	Alert bool
	// Flags is the risk and safety line of the text part.
	Flags string
}

type section struct {
	Title string
	Rows  []row
}

type row struct {
	Label string
	// Pad is Label padded for the aligned plain-text column.
	Pad   string
	Value string
	// Link is set when Value is a URL safe to make clickable.
	Link string
}

func plcView(n PLCNotification, links AnswerLinks) noticeView {
	c := n.Change
	plc := plcName(c.PLC)
	v := noticeView{
		Escalation: max(n.Round, 0),
		PLC:        plc,
		Planned:    links.Planned,
		NotPlanned: links.NotPlanned,
	}
	v.emailChrome = newEmailChrome(noticeSubject(n, plc), n.Severity, "Escalation", v.Escalation,
		"nobody has answered the earlier notice yet.")
	title := alertTitle(c.AlertTitle)
	v.Headline = "Was this change to PLC " + plc + " planned?"
	v.What = whatHappened(title)
	if src := sourceName(c.Source); src != "" {
		v.What += " It came from " + src
		if p := field(c.Protocol, 60); p != "" {
			v.What += " over " + p
		}
		v.What += "."
	}
	if !c.Time.IsZero() {
		v.When = longTime(c.Time)
	}
	if !n.AnswerDeadline.IsZero() {
		v.Deadline = longTime(n.AnswerDeadline)
	}

	whenUTC := ""
	if !c.Time.IsZero() {
		whenUTC = c.Time.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	incident := ""
	if n.IncidentNumber != 0 {
		incident = strconv.FormatInt(n.IncidentNumber, 10)
	}
	v.Sections = compact([]section{
		{"What happened", []row{
			{Label: "Alert", Value: title},
			{Label: "Detected", Value: whenUTC},
			{Label: "Protocol", Value: field(c.Protocol, 60)},
		}},
		{"PLC", deviceRows(c.PLC)},
		{"From workstation", deviceRows(c.Source)},
		{"Where", []row{
			{Label: "Site", Value: field(c.Site, 80)},
			{Label: "Zone", Value: field(c.Zone, 80)},
			{Label: "Line", Value: field(c.Line, 80)},
			{Label: "Sensor", Value: field(c.Sensor, 80)},
		}},
		{"Incident", []row{
			{Label: "Number", Value: incident},
			{Label: "Title", Value: field(n.IncidentTitle, maxFieldRunes)},
			{Label: "Severity", Value: v.Severity},
			{Label: "Alert ID", Value: field(c.AlertID, 80)},
			linkRow("Link", n.IncidentURL),
		}},
	})
	for _, s := range c.RemediationSteps[:min(len(c.RemediationSteps), maxListItems)] {
		if s = field(s, maxStepRunes); s != "" {
			v.Steps = append(v.Steps, s)
		}
	}
	var techs []string
	for _, t := range c.Techniques[:min(len(c.Techniques), maxListItems)] {
		if t = field(t, 20); t != "" {
			techs = append(techs, t)
		}
	}
	v.Techniques = strings.Join(techs, ", ")
	v.Impact = impactBlock(n.Impact)
	return v
}

// impactBlock is the business impact block, cleaned like every other field; nil when there is no
// impact or it says nothing.
func impactBlock(imp *incident.Impact) *impactView {
	if imp == nil {
		return nil
	}
	iv := &impactView{
		Statement: field(imp.Statement, maxImpactRunes),
		Risk:      field(imp.Risk, 20),
		Safety:    imp.Safety,
	}
	iv.RiskHigh = strings.EqualFold(iv.Risk, "high")
	iv.Alert = iv.RiskHigh || iv.Safety
	if !strings.Contains(strings.ToLower(iv.Statement), "asset directory") {
		var unknown []string
		for _, u := range imp.Unknown {
			if u = field(u, maxNameRunes); u != "" {
				unknown = append(unknown, u)
			}
		}
		if len(unknown) > maxImpactUnknown {
			unknown = append(unknown[:maxImpactUnknown], "+"+strconv.Itoa(len(unknown)-maxImpactUnknown)+" more")
		}
		iv.Unknown = strings.Join(unknown, ", ")
	}
	var flags []string
	if iv.Risk != "" {
		flags = append(flags, "Production stop risk: "+iv.Risk)
	}
	if iv.Safety {
		flags = append(flags, "safety-relevant asset involved")
	}
	iv.Flags = strings.Join(flags, "; ")
	if iv.Statement == "" && iv.Flags == "" && iv.Unknown == "" {
		return nil
	}
	return iv
}

// noticeSubject is "[High] Unplanned change to PLC PLC-L3-01 on Rotterdam Plant / Packaging Line 3
// — incident 4318", prefixed "ESCALATION n: " for escalation rounds.
func noticeSubject(n PLCNotification, plc string) string {
	var b strings.Builder
	if n.Round > 0 {
		b.WriteString("ESCALATION " + strconv.Itoa(n.Round) + ": ")
	}
	if sev := field(n.Severity, 20); sev != "" {
		b.WriteString("[" + sev + "] ")
	}
	b.WriteString("Unplanned change to PLC " + plc)
	var where []string
	for _, s := range []string{n.Change.Site, n.Change.Line} {
		if s = field(s, 60); s != "" {
			where = append(where, s)
		}
	}
	if len(where) < 2 {
		if z := field(n.Change.Zone, 60); z != "" {
			where = append(where, z)
		}
	}
	if len(where) > 0 {
		b.WriteString(" on " + strings.Join(where, " / "))
	}
	switch {
	case n.IncidentNumber != 0:
		b.WriteString(" — incident " + strconv.FormatInt(n.IncidentNumber, 10))
	case n.IncidentID != "":
		b.WriteString(" — incident " + field(n.IncidentID, 60))
	}
	return safetext.Line(b.String(), 250)
}

func deviceRows(d DeviceFacts) []row {
	return []row{
		{Label: "Name", Value: field(d.Name, maxNameRunes)},
		{Label: "IP address", Value: field(d.IP, 45)},
		{Label: "MAC address", Value: field(d.MAC, 40)},
		{Label: "Type", Value: field(d.Type, 60)},
		{Label: "Vendor", Value: field(d.Vendor, 60)},
		{Label: "Model", Value: field(d.Model, 60)},
		{Label: "Firmware", Value: field(d.Firmware, 60)},
		{Label: "Importance", Value: field(d.Importance, 20)},
		linkRow("Device page", d.PageLink),
	}
}

// sourceName is "ENG-WS-07 (10.20.3.45)", or whichever of the two is known.
func sourceName(d DeviceFacts) string {
	name, ip := field(d.Name, maxNameRunes), field(d.IP, 45)
	switch {
	case name != "" && ip != "":
		return name + " (" + ip + ")"
	case name != "":
		return name
	}
	return ip
}

// plcName is the PLC's name for subjects and headings: its name, else its IP, else "(unnamed)".
func plcName(d DeviceFacts) string {
	if s := field(d.Name, maxNameRunes); s != "" {
		return s
	}
	if s := field(d.IP, 45); s != "" {
		return s
	}
	return "(unnamed)"
}

// field cleans one alert-derived value for display: one line, no control characters, capped, and
// with "://" defanged so mail clients that auto-link text do not turn a hostile device name into
// a link.
func field(s string, maxRunes int) string {
	s = safetext.Line(s, maxRunes)
	return strings.ReplaceAll(s, "://", "[:]//")
}

// linkRow shows a payload URL: clickable only when it is a plain https URL without user info (a
// "https://portal.azure.com@evil.example" link reads like Azure and goes elsewhere).
func linkRow(label, raw string) row {
	r := row{Label: label}
	if raw == "" {
		return r
	}
	if u, ok := safeLink(raw); ok {
		r.Value, r.Link = u, u
		return r
	}
	r.Value = field(raw, maxFieldRunes) + " (not shown as a link: not an https URL)"
	return r
}

func safeLink(raw string) (string, bool) {
	if len(raw) > 2048 || raw != safetext.Line(raw, 0) || strings.ContainsAny(raw, " \"'<>\\`") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return u.String(), true
}

// compact drops empty rows and sections and fills the text-column padding.
func compact(secs []section) []section {
	out := secs[:0]
	for _, s := range secs {
		rows := s.Rows[:0]
		width := 0
		for _, r := range s.Rows {
			if r.Value != "" {
				rows = append(rows, r)
				width = max(width, len(r.Label))
			}
		}
		for i := range rows {
			rows[i].Pad = rows[i].Label + ":" + strings.Repeat(" ", width-len(rows[i].Label)+1)
		}
		if len(rows) > 0 {
			s.Rows = rows
			out = append(out, s)
		}
	}
	return out
}

// alertTitle drops the "(MDIoT) " prefix the Defender for IoT analytics rules add.
func alertTitle(t string) string {
	t = field(t, maxFieldRunes)
	if rest, ok := strings.CutPrefix(t, "(MDIoT) "); ok {
		return rest
	}
	return t
}

// whatHappened says in plain words what a Defender for IoT PLC alert means.
func whatHappened(title string) string {
	switch strings.ToLower(title) {
	case "unauthorized plc programming":
		return "A program was downloaded to the PLC."
	case "unauthorized plc program upload":
		return "The PLC's program was uploaded (read out) from the PLC."
	case "unauthorized plc configuration write":
		return "The PLC's configuration was changed."
	case "unauthorized mms program access":
		return "A program on the PLC was accessed over MMS."
	case "firmware change detected", "firmware version changed", "s7 plus plc firmware changed", "firmware update", "beckhoff software changed":
		return "The PLC's firmware or software was changed."
	case "plc operating mode changed":
		return "The PLC's operating mode was changed (for example from RUN to STOP or PROGRAM)."
	case "an s7 stop plc command was sent", "controller stop", "ge srtp stop plc command was sent":
		return "A stop command was sent to the PLC."
	}
	return "Microsoft Defender for IoT reported a change to the PLC."
}

func longTime(t time.Time) string {
	return t.UTC().Format("Monday 2 January 2006, 15:04 UTC")
}

func severityColor(sev string) string {
	switch strings.ToLower(sev) {
	case "high":
		return "#b91c1c"
	case "medium":
		return "#c2410c"
	case "low":
		return "#a16207"
	}
	return "#4b5563"
}

var plcText = texttemplate.Must(textLayout("plc").Funcs(texttemplate.FuncMap{"inc": inc}).Parse(`{{.Subject}}

{{.Headline}}
{{.What}}{{if .When}} Detected {{.When}}.{{end}}
{{with .Impact}}
Business impact
{{if .Statement}}  {{.Statement}}
{{end}}{{if .Flags}}  {{.Flags}}
{{end}}{{if .Unknown}}  Not in the asset directory: {{.Unknown}}
{{end}}{{end}}
Please tell the security team whether this change was planned{{if .Deadline}}, by {{.Deadline}}{{end}}.
One click is enough; the page that opens asks you to confirm.{{if .Deadline}} Without an answer by then,
the question is escalated.{{end}}

  Yes, this change was planned:
  {{.Planned}}

  No, this change was NOT planned:
  {{.NotPlanned}}
{{template "sections" .}}{{if .Steps}}
What to do
{{range $i, $s := .Steps}}  {{inc $i}}. {{$s}}
{{end}}{{end}}{{if .Techniques}}
MITRE ATT&CK for ICS: {{.Techniques}}
{{end}}
{{template "footer" .}}`))

var plcHTML = htmltemplate.Must(htmlLayout("plc").Parse(`{{template "top" .}}<tr><td style="padding:28px 28px 8px 28px;">
<h1 style="margin:0 0 12px 0;font-size:22px;line-height:1.3;">{{.Headline}}</h1>
<p style="margin:0 0 12px 0;">{{.What}}{{if .When}} Detected <strong>{{.When}}</strong>.{{end}}</p>
{{with .Impact}}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;margin:0 0 16px 0;"><tr><td style="padding:10px 14px;border-left:4px solid {{if .Alert}}#b91c1c{{else}}#9ca3af{{end}};background:{{if .Alert}}#fef2f2{{else}}#f9fafb{{end}};border-radius:4px;word-break:break-word;">
<h2 style="margin:0 0 4px 0;font-size:13px;letter-spacing:1px;text-transform:uppercase;color:#6b7280;">Business impact</h2>
{{if .Statement}}<p style="margin:0;">{{.Statement}}</p>
{{end}}{{if or .Risk .Safety}}<p style="margin:4px 0 0 0;">{{if .Risk}}{{if .RiskHigh}}<strong style="color:#b91c1c;">Production stop risk {{.Risk}}</strong>{{else}}Production stop risk {{.Risk}}{{end}}{{end}}{{if and .Risk .Safety}} · {{end}}{{if .Safety}}<strong style="color:#b91c1c;">Safety-relevant asset involved</strong>{{end}}</p>
{{end}}{{if .Unknown}}<p style="margin:4px 0 0 0;color:#6b7280;font-size:13px;">Not in the asset directory: {{.Unknown}}</p>
{{end}}</td></tr></table>
{{end}}<p style="margin:0 0 20px 0;">Please tell the security team whether this change was planned{{if .Deadline}}, by <strong>{{.Deadline}}</strong>{{end}}. One click is enough; the page that opens asks you to confirm.{{if .Deadline}} Without an answer by then, the question is escalated.{{end}}</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
<td style="padding:0 12px 12px 0;"><a href="{{.Planned}}" style="display:inline-block;background:#15803d;color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px;">Yes, this change was planned</a></td>
<td style="padding:0 0 12px 0;"><a href="{{.NotPlanned}}" style="display:inline-block;background:#b91c1c;color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 20px;border-radius:6px;">No, this change was NOT planned</a></td>
</tr></table>
</td></tr>
{{template "sections" .}}{{if .Steps}}<tr><td style="padding:12px 28px 0 28px;">
<h2 style="margin:8px 0 6px 0;font-size:13px;letter-spacing:1px;text-transform:uppercase;color:#6b7280;">What to do</h2>
<ol style="margin:0;padding-left:20px;">{{range .Steps}}<li style="margin:0 0 6px 0;">{{.}}</li>{{end}}</ol>
</td></tr>
{{end}}{{if .Techniques}}<tr><td style="padding:12px 28px 0 28px;color:#6b7280;font-size:13px;">MITRE ATT&amp;CK for ICS: {{.Techniques}}</td></tr>
{{end}}{{template "footer" .}}`))

func inc(i int) int { return i + 1 }

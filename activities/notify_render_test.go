package activities_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
)

// plcNotice is the notice for the testdata incident 4318 (Unauthorized PLC Programming).
func plcNotice() activities.PLCNotification {
	return activities.PLCNotification{
		WorkflowID:     "plc-notify/9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		IncidentID:     "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		IncidentNumber: 4318,
		IncidentTitle:  "(MDIoT) Unauthorized PLC Programming",
		IncidentURL:    "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/subscriptions/7d1e/incidents/9d8c7b6a",
		Severity:       "High",
		Recipients: []activities.Recipient{
			{Name: "Ada Engineer", Email: "ada@plant.example"},
			{Email: "line3-controls@plant.example"},
		},
		Change: activities.PLCChange{
			PLC: activities.DeviceFacts{
				Name: "PLC-L3-01", IP: "10.20.3.10", Vendor: "Siemens", Model: "S7-1500", Firmware: "V2.9.4",
				Type: "PLC", Importance: "High", PageLink: "https://portal.azure.com/#view/Microsoft_Azure_IoT_Defender/DeviceDetails/id/42",
			},
			Source:           activities.DeviceFacts{Name: "ENG-WS-07", IP: "10.20.3.45", Type: "Engineering Station"},
			AlertTitle:       "(MDIoT) Unauthorized PLC Programming",
			AlertID:          "c4d3e2f1-a0b9-4c8d-9e7f-6a5b4c3d2e1f",
			Protocol:         "Siemens S7 Plus",
			Time:             time.Date(2026, 11, 20, 8, 9, 44, 0, time.UTC),
			Site:             "Rotterdam Plant",
			Zone:             "Packaging",
			Line:             "Packaging Line 3",
			Sensor:           "sensor-rtm-l3",
			RemediationSteps: []string{"Verify with the control engineer responsible for PLC-L3-01 whether this program download was planned.", "If it was not planned, compare the running program with the last approved version and restore it."},
			Techniques:       []string{"T0839", "T0889", "T0843"},
		},
		AnswerDeadline: time.Date(2026, 11, 20, 12, 15, 0, 0, time.UTC),
	}
}

var testLinks = activities.AnswerLinks{
	Planned:    "https://soc.example/v1/answers/planned.token",
	NotPlanned: "https://soc.example/v1/answers/notplanned.token",
}

func TestRenderPLCNotification(t *testing.T) {
	t.Parallel()
	subject, text, html := activities.RenderPLCNotification(plcNotice(), testLinks)
	require.Equal(t, "[High] Unplanned change to PLC PLC-L3-01 on Rotterdam Plant / Packaging Line 3 — incident 4318", subject)

	for _, want := range []string{
		subject,
		"Was this change to PLC PLC-L3-01 planned?",
		"A program was downloaded to the PLC. It came from ENG-WS-07 (10.20.3.45) over Siemens S7 Plus. Detected Friday 20 November 2026, 08:09 UTC.",
		"by Friday 20 November 2026, 12:15 UTC",
		"Yes, this change was planned:\n  " + testLinks.Planned,
		"No, this change was NOT planned:\n  " + testLinks.NotPlanned,
		"Alert:    Unauthorized PLC Programming",
		"Detected: 2026-11-20 08:09:44 UTC",
		"Protocol: Siemens S7 Plus",
		"Name:        PLC-L3-01", "IP address:  10.20.3.10", "Vendor:      Siemens", "Model:       S7-1500",
		"Firmware:    V2.9.4", "Importance:  High",
		"From workstation\n  Name:       ENG-WS-07\n  IP address: 10.20.3.45",
		"Site:   Rotterdam Plant", "Zone:   Packaging", "Line:   Packaging Line 3", "Sensor: sensor-rtm-l3",
		"Number:   4318", "Link:     " + plcNotice().IncidentURL,
		"  1. Verify with the control engineer", "  2. If it was not planned",
		"MITRE ATT&CK for ICS: T0839, T0889, T0843",
	} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, text, "ESCALATION")

	for _, want := range []string{
		`<a href="` + testLinks.Planned + `"`, ">Yes, this change was planned</a>",
		`<a href="` + testLinks.NotPlanned + `"`, ">No, this change was NOT planned</a>",
		`<a href="https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/subscriptions/7d1e/incidents/9d8c7b6a"`,
		`<a href="https://portal.azure.com/#view/Microsoft_Azure_IoT_Defender/DeviceDetails/id/42"`,
		">PLC-L3-01</td>", ">ENG-WS-07</td>", ">Siemens S7 Plus</td>", "<li style=\"margin:0 0 6px 0;\">Verify with",
		"MITRE ATT&amp;CK for ICS: T0839, T0889, T0843", "Friday 20 November 2026, 12:15 UTC",
	} {
		require.Contains(t, html, want)
	}
	require.Equal(t, 4, strings.Count(html, "<a href="), "two answer buttons, incident link, device page")

	n := plcNotice()
	n.Round = 2
	subject, text, html = activities.RenderPLCNotification(n, testLinks)
	require.Equal(t, "ESCALATION 2: [High] Unplanned change to PLC PLC-L3-01 on Rotterdam Plant / Packaging Line 3 — incident 4318", subject)
	require.Contains(t, text, "This is escalation 2")
	require.Contains(t, html, "Escalation 2</span>")
}

func TestRenderPLCNotificationSparsePayload(t *testing.T) {
	t.Parallel()
	n := activities.PLCNotification{
		WorkflowID: "wf", IncidentID: "inc-7",
		Change: activities.PLCChange{PLC: activities.DeviceFacts{IP: "10.0.0.9"}, AlertTitle: "PLC Operating Mode Changed", Zone: "Zone B"},
	}
	subject, text, html := activities.RenderPLCNotification(n, testLinks)
	require.Equal(t, "Unplanned change to PLC 10.0.0.9 on Zone B — incident inc-7", subject)
	require.Contains(t, text, "operating mode was changed")
	require.NotContains(t, text, "From workstation", "empty sections are left out")
	require.NotContains(t, text, "What to do")
	require.NotContains(t, html, "MITRE")
	require.Contains(t, html, "Yes, this change was planned")
}

func TestRenderPLCNotificationLinksOnlyHTTPS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		link bool
	}{
		{"https://portal.azure.com/#incident/1", true},
		{"HTTPS://portal.azure.com/x", true},
		{"http://portal.azure.com/x", false},
		{"javascript:alert(1)", false},
		{"JaVaScRiPt:alert(1)", false},
		{"data:text/html;base64,PHNjcmlwdD4=", false},
		{"vbscript:msgbox(1)", false},
		{"//evil.example/x", false},
		{"https://portal.azure.com@evil.example/login", false},
		{"https://evil.example/\r\nx", false},
		{"https://evil.example/\"onmouseover=\"alert(1)", false},
		{"https:evil.example", false},
		{" https://portal.azure.com/x", false},
	}
	for _, tt := range tests {
		n := plcNotice()
		n.IncidentURL = tt.url
		n.Change.PLC.PageLink = ""
		_, text, html := activities.RenderPLCNotification(n, testLinks)
		hrefs := regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1)
		var others []string
		for _, h := range hrefs {
			if h[1] != testLinks.Planned && h[1] != testLinks.NotPlanned {
				others = append(others, h[1])
			}
		}
		if tt.link {
			require.Len(t, others, 1, tt.url)
			require.True(t, strings.HasPrefix(others[0], "https://"), others[0])
		} else {
			require.Empty(t, others, "%q must not become a link", tt.url)
			require.Contains(t, text, "not shown as a link")
			require.NotContains(t, strings.ToLower(html), "href=\"javascript")
		}
	}
}

func TestRenderPLCNotificationHostileDeviceName(t *testing.T) {
	t.Parallel()
	n := plcNotice()
	n.Change.PLC.Name = "PLC-1\r\nBcc: evil@x.example\r\n<script>alert(1)</script>"
	n.Change.Source.Name = `ENG"><img src=x onerror=alert(1)>`
	n.Change.Site = "https://evil.example/login"
	n.IncidentURL = "javascript:alert(1)"
	subject, text, html := activities.RenderPLCNotification(n, testLinks)
	require.NotContains(t, subject, "\r")
	require.NotContains(t, subject, "\n")
	require.True(t, strings.HasPrefix(subject, "[High] Unplanned change to PLC PLC-1 Bcc: evil@x.example <script>"), subject)
	require.NotContains(t, html, "<script")
	require.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.NotContains(t, html, "<img")
	require.NotContains(t, html, `href="javascript`)
	require.NotContains(t, text, "\nBcc:")
	require.NotContains(t, text, "https://evil.example", "URL-like text from the alert is defanged")
	require.Contains(t, text, "https[:]//evil.example/login")
}

func FuzzRenderPLCNotification(f *testing.F) {
	f.Add("PLC-1\r\nBcc: evil@x.example\r\n<script>alert(1)</script>", "javascript:alert(1)", "<ScRiPt src=//x>", "High", "https://a.example/\"><script>")
	f.Add("\u202eplc\u2028", "https://ok.example/x", "</td></tr></table><script>", "\x00", "data:text/html,<script>")
	f.Add("<scr<script>ipt>", "https://u@evil.example", "'\"`", "<!--", "https://x.example/<script>")
	f.Fuzz(func(t *testing.T, name, incidentURL, site, severity, pageLink string) {
		n := plcNotice()
		n.Change.PLC.Name = name
		n.Change.Source.Name = name
		n.IncidentURL = incidentURL
		n.IncidentTitle = site
		n.Change.Site = site
		n.Change.Line = name
		n.Change.AlertTitle = name
		n.Change.RemediationSteps = []string{site, name}
		n.Change.Techniques = []string{name}
		n.Severity = severity
		n.Change.PLC.PageLink = pageLink
		subject, text, html := activities.RenderPLCNotification(n, testLinks)
		require.NotContains(t, subject, "\r")
		require.NotContains(t, subject, "\n")
		require.LessOrEqual(t, len([]rune(subject)), 250)
		require.NotContains(t, strings.ToLower(html), "<script")
		for _, h := range regexp.MustCompile(`(?i)href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
			require.True(t, strings.HasPrefix(h[1], "https://"), "href %q", h[1])
		}
		require.Contains(t, html, ">Yes, this change was planned</a>")
		require.Contains(t, text, testLinks.NotPlanned)
	})
}

func BenchmarkRenderPLCNotification(b *testing.B) {
	n := plcNotice()
	b.ReportAllocs()
	for b.Loop() {
		activities.RenderPLCNotification(n, testLinks)
	}
}

func TestRenderPLCNotificationBusinessImpact(t *testing.T) {
	t.Parallel()
	const highStatement = `Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01<script>alert(1)</script> (Purdue 1, criticality high), owner ot-line3@rotterdam.example.com; production stop risk high`
	const lowStatement = "Rotterdam Plant / Line 1: HMI L1-HMI (Purdue 2, criticality low), owner site@rotterdam.example.com; production stop risk low"
	base := plcNotice()
	_, baseText, baseHTML := activities.RenderPLCNotification(base, testLinks)
	tests := []struct {
		name       string
		impact     *incident.Impact
		text, html []string
		// absent must appear in neither part.
		absent []string
	}{
		{
			name: "high risk, safety, unknown devices",
			impact: &incident.Impact{
				Statement: highStatement, Risk: "high", Safety: true, Unknown: []string{"10.9.9.9", "<b>X-1</b>"},
				Assets: []incident.ImpactAsset{{Name: "PLC-L3-01<script>alert(1)</script>", Criticality: "high", Safety: true}},
			},
			text: []string{
				"Detected Friday 20 November 2026, 08:09 UTC.\n\nBusiness impact\n  " + highStatement +
					"\n  Production stop risk: high; safety-relevant asset involved\n  Not in the asset directory: 10.9.9.9, <b>X-1</b>\n\nPlease tell the security team",
			},
			html: []string{
				">Business impact</h2>",
				"safety PLC PLC-L3-01&lt;script&gt;alert(1)&lt;/script&gt; (Purdue 1, criticality high)",
				`<strong style="color:#b91c1c;">Production stop risk high</strong> · <strong style="color:#b91c1c;">Safety-relevant asset involved</strong>`,
				"Not in the asset directory: 10.9.9.9, &lt;b&gt;X-1&lt;/b&gt;",
				"border-left:4px solid #b91c1c;background:#fef2f2;",
			},
		},
		{
			name:   "low risk",
			impact: &incident.Impact{Statement: lowStatement, Risk: "low"},
			text: []string{
				"\n\nBusiness impact\n  " + lowStatement + "\n  Production stop risk: low\n\nPlease tell the security team",
			},
			html: []string{
				"<p style=\"margin:0;\">" + lowStatement + "</p>",
				"<p style=\"margin:4px 0 0 0;\">Production stop risk low</p>",
				"border-left:4px solid #9ca3af;background:#f9fafb;",
			},
			absent: []string{"safety-relevant", "Safety-relevant", "Not in the asset directory", "#fef2f2"},
		},
		{
			name:   "unknown already in the statement",
			impact: &incident.Impact{Statement: "No asset of this incident is in the asset directory (X-1); production stop risk unknown", Risk: "unknown", Unknown: []string{"X-1"}},
			text:   []string{"  Production stop risk: unknown\n\nPlease tell"},
			absent: []string{"Not in the asset directory: X-1"},
		},
		{name: "no impact", absent: []string{"Business impact", "production stop risk", "Production stop risk", "asset directory"}},
		{name: "empty impact", impact: &incident.Impact{}, absent: []string{"Business impact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := plcNotice()
			n.Impact = tt.impact
			subject, text, html := activities.RenderPLCNotification(n, testLinks)
			require.Equal(t, "[High] Unplanned change to PLC PLC-L3-01 on Rotterdam Plant / Packaging Line 3 — incident 4318", subject)
			for _, w := range tt.text {
				require.Contains(t, text, w)
			}
			for _, w := range tt.html {
				require.Contains(t, html, w)
			}
			for _, a := range tt.absent {
				require.NotContains(t, text, a)
				require.NotContains(t, html, a)
			}
			require.NotContains(t, strings.ToLower(html), "<script")
			require.NotContains(t, html, "<b>X-1")
			if tt.impact == nil || tt.impact.Statement == "" {
				require.Equal(t, baseText, text, "no impact: the text part is as before")
				require.Equal(t, baseHTML, html, "no impact: the HTML part is as before")
				return
			}
			require.Contains(t, text, field(tt.impact.Statement))
			require.Less(t, strings.Index(html, "Business impact"), strings.Index(html, ">Yes, this change was planned</a>"), "near the top, before the buttons")
			require.Less(t, strings.Index(text, "Business impact"), strings.Index(text, testLinks.Planned))
			require.Equal(t, 4, strings.Count(html, "<a href="), "the impact adds no link")
		})
	}
}

// field is the statement as the text part shows it: URLs defanged.
func field(s string) string { return strings.ReplaceAll(s, "://", "[:]//") }

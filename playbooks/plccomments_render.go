package playbooks

import (
	htmltemplate "html/template"
	"strings"
	"time"
)

// The PLC playbook's incident comments, rendered with html/template: every value from an alert, the
// config or an outside system is escaped by the template, not by hand.
//
// The text is part of each run's history (the write-back's input and the run's result), so it stays
// byte-identical to the hand-built comments it replaced: worker's TestCommittedHistoriesKeepTheirComments
// checks that every committed history renders its comments exactly as recorded. (html/template escapes
// "+" as "&#43;" and turns NUL into U+FFFD where html.EscapeString left both; replay never compares an
// activity's input or a run's result, and a comment's ID comes from its purpose, not its text, so those
// bytes can differ safely for runs in flight.)

// plcCommentTemplates are the comments, one template each. Each sits on one line: Sentinel shows the
// comment as HTML, where a newline in the template would be stray whitespace.
const plcCommentTemplates = `
{{define "impact"}}{{with .}}<br>Business impact: {{.}}{{end}}{{end}}
{{define "planned"}}Planned change: {{if .ByRequest}}{{.Number}} &quot;{{.Name}}&quot;{{else}}maintenance window &quot;{{.Name}}&quot;{{end}} ({{.Window}}) covers the change to {{.PLC}} ({{.Alert}} at {{.At}}). No email sent.{{template "impact" .Impact}}{{end}}
{{define "how"}} (via {{.Via}} at {{.At}}).{{with .Comment}} Comment: &quot;{{.}}&quot;{{end}}{{end}}
{{define "answer-planned"}}{{.By}} confirmed the change to {{.PLCs}} was planned{{template "how" .}}{{if .Close}} Closing the incident as BenignPositive (SuspiciousButExpected).{{end}}{{end}}
{{define "answer-not-planned"}}{{.By}} said the change to {{.PLCs}} was NOT planned{{template "how" .}} Severity raised to High, status Active{{with .Tag}}, tagged &quot;{{.}}&quot;{{end}}.{{end}}
{{define "notice"}}Unplanned change: {{.Alert}} from {{.Source}} at {{.At}}; no maintenance window or change request covers it. Emailed {{.Sent}}. Waiting for an answer until {{.Deadline}}{{if .Rounds}}, then escalating ({{.Rounds}} round(s)){{end}}.{{range .Notes}} {{.}}{{end}}{{template "impact" .Impact}}{{end}}
{{define "escalation"}}No answer yet: escalation round {{.Round}} of {{.Rounds}} sent to {{.Sent}}. Waiting until {{.Deadline}}.{{end}}
{{define "rerouted"}}The email about the change to {{.PLC}} to {{.To}} was not delivered ({{.Why}}). The SOC mailbox {{.SOC}} got it instead; check the directory entry or the device owners.{{end}}
{{define "handoff"}}Could not email anyone about the change to {{.PLC}} ({{.Why}}); handed to the SOC.{{end}}
{{define "no-answer"}}No answer from {{.Asked}} about the change to {{.PLCs}} after {{.Rounds}} escalation round(s) ({{.Timeout}} each); handed to the SOC.{{end}}
`

// plcComments renders the comments. It is made once, with the playbook, and shared by its runs
// (a parsed html/template is safe for concurrent use).
type plcComments struct {
	t *htmltemplate.Template
}

func newPLCComments() *plcComments {
	return &plcComments{t: htmltemplate.Must(htmltemplate.New("plc-comments").Parse(plcCommentTemplates))}
}

// render executes the named template. The templates are fixed and the views hold only strings and
// numbers, so only a programming error (which the tests catch) fails; the comment then says so
// rather than failing the run.
func (c *plcComments) render(name string, view any) string {
	var b strings.Builder
	if err := c.t.ExecuteTemplate(&b, name, view); err != nil {
		return "Interlock could not write its " + name + " comment: " + htmltemplate.HTMLEscapeString(err.Error())
	}
	return b.String()
}

// The views: the values as the comment shows them, not yet escaped.
type (
	plannedView struct {
		ByRequest                                bool
		Number, Name, Window, PLC, Alert, Impact string
		At                                       string
	}
	answerView struct {
		By, PLCs, Via, At, Comment, Tag string
		Close                           bool
	}
	noticeView struct {
		Alert, Source, At, Sent, Deadline string
		Rounds                            int
		Notes                             []string
		Impact                            string
	}
	escalationView struct {
		Round, Rounds  int
		Sent, Deadline string
	}
	reroutedView struct{ PLC, To, Why, SOC string }
	handOffView  struct{ PLC, Why string }
	noAnswerView struct {
		Asked, PLCs string
		Rounds      int
		Timeout     time.Duration
	}
)

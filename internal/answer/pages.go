package answer

import (
	"errors"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/interlock-soar/interlock/workflows"
)

// pageKind names one page; it is also the template's name.
type pageKind string

const (
	pageConfirm         pageKind = "confirm"
	pageRecorded        pageKind = "recorded"
	pageAlreadyAnswered pageKind = "already-answered"
	pageOutdated        pageKind = "outdated"
	pageRunClosed       pageKind = "run-closed"
	pageUnavailable     pageKind = "unavailable"
	pageFailed          pageKind = "failed"
	pageExpired         pageKind = "expired"
	pageForged          pageKind = "forged"
	pageMalformed       pageKind = "malformed"
	pageNotFound        pageKind = "not-found"
	pageMethod          pageKind = "method"
	pageBadForm         pageKind = "bad-form"
)

// view is what the pages show. Every string in it came through a token whose payload holds
// alert-derived text (the PLC name); html/template escapes it.
type view struct {
	PLC       string
	Incident  string
	Planned   bool
	Decision  string
	Recipient string
	Group     bool
	Round     int
	Expires   string
	// Owner marks a device owner's question (expected or not) rather than a PLC change's.
	Owner bool
	// Given is the answer the run already has, when it said; Newer the email to use instead of an
	// outdated link's, when it said; OtherRun marks a link of another run of the playbook.
	Given    *givenView
	Newer    *newerView
	OtherRun bool
}

// givenView is who answered what, and when.
type givenView struct {
	By       string
	Decision string
	At       string
}

// newerView is the current email: when it went out and to whom.
type newerView struct {
	At string
	To string
}

const pageTime = "Monday 2 January 2006, 15:04 UTC"

// withRefusal adds what the run said when it refused the answer.
func (v *view) withRefusal(err error) *view {
	ref, ok := errors.AsType[*Refusal](err)
	if v == nil || !ok {
		return v
	}
	d := ref.Detail
	v.OtherRun = d.OtherRun
	if a := d.Answer; a != nil {
		g := &givenView{By: a.By, Decision: decisionLabel(a.Decision)}
		if g.By == "" || g.By == "group" {
			g.By = "a recipient of the email"
		}
		if !a.At.IsZero() {
			g.At = a.At.UTC().Format(pageTime)
		}
		v.Given = g
	}
	if n := d.Current; n != nil && !n.SentAt.IsZero() {
		v.Newer = &newerView{At: n.SentAt.UTC().Format(pageTime), To: strings.Join(n.To, ", ")}
	}
	return v
}

// decisionLabel is how the pages name a decision.
func decisionLabel(d string) string {
	switch d {
	case workflows.DecisionExpected:
		return "Expected"
	case workflows.DecisionNotExpected:
		return "Not expected"
	case workflows.DecisionPlanned:
		return "Planned"
	default:
		return "Not planned"
	}
}

func viewOf(c Claims) *view {
	if c.WorkflowID == "" {
		return nil
	}
	v := &view{
		PLC:       c.PLC,
		Incident:  c.IncidentID,
		Planned:   c.Decision == workflows.DecisionPlanned || c.Decision == workflows.DecisionExpected,
		Owner:     c.Decision == workflows.DecisionExpected || c.Decision == workflows.DecisionNotExpected,
		Recipient: c.Recipient,
		Group:     c.Recipient == "" || c.Recipient == "group",
		Round:     c.Round,
	}
	if c.IncidentNumber != 0 {
		v.Incident = strconv.FormatInt(c.IncidentNumber, 10)
	}
	if v.PLC == "" {
		v.PLC = "the PLC"
		if v.Owner {
			v.PLC = "your device"
		}
	}
	v.Decision = decisionLabel(c.Decision)
	if !c.Expires.IsZero() {
		v.Expires = c.Expires.UTC().Format(pageTime)
	}
	return v
}

func renderPage(w io.Writer, p pageKind, v *view) error {
	return pages.ExecuteTemplate(w, string(p), v)
}

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>{{.}} · Interlock</title>
<style>
body{margin:0;background:#f3f4f6;font:16px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#111827}
main{max-width:560px;margin:48px auto;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:32px}
h1{font-size:22px;margin:0 0 16px}
.brand{font-size:13px;letter-spacing:.08em;text-transform:uppercase;color:#6b7280;margin-bottom:8px}
.decision{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:600}
.planned{background:#dcfce7;color:#166534}.notplanned{background:#fee2e2;color:#991b1b}
button{font:inherit;font-weight:600;color:#fff;border:0;border-radius:6px;padding:12px 20px;cursor:pointer}
.bplanned{background:#15803d}.bnotplanned{background:#b91c1c}
textarea{width:100%;box-sizing:border-box;font:inherit;padding:8px;border:1px solid #d1d5db;border-radius:6px}
.muted{color:#6b7280;font-size:14px}
</style></head><body><main><div class="brand">Interlock · OT security</div>
{{end}}
{{define "foot"}}</main></body></html>
{{end}}

{{define "what"}}{{if .Owner}}device{{else}}PLC{{end}} <strong>{{.PLC}}</strong>{{if .Incident}} in incident <strong>{{.Incident}}</strong>{{end}}{{end}}
{{define "badge"}}<span class="decision {{if .Planned}}planned{{else}}notplanned{{end}}">{{.Decision}}</span>{{end}}

{{define "confirm"}}{{template "head" "Confirm your answer"}}
<h1>Confirm your answer</h1>
<p>You are answering for {{template "what" .}}:</p>
{{if .Owner}}<p>{{template "badge" .}} — what the incident reports {{if .Planned}}was expected (a false positive){{else}}was <strong>not</strong> expected (a true positive){{end}}.</p>
{{else}}<p>{{template "badge" .}} — the change to the PLC {{if .Planned}}was planned{{else}}was <strong>not</strong> planned{{end}}.</p>{{end}}
{{if .Group}}<p class="muted">The notice went to several people; the answer is recorded for the group.</p>
{{else}}<p class="muted">Answering as {{.Recipient}}.</p>{{end}}
<form method="post">
<p><label for="comment">Comment (optional, for example a change ticket number)</label><br>
<textarea id="comment" name="comment" rows="3" maxlength="1000"></textarea></p>
<p><button type="submit" class="{{if .Planned}}bplanned{{else}}bnotplanned{{end}}">Confirm: {{if .Owner}}{{if .Planned}}yes, this is expected{{else}}no, this is NOT expected{{end}}{{else}}{{if .Planned}}this change was planned{{else}}this change was NOT planned{{end}}{{end}}</button></p>
</form>
<p class="muted">Clicked the wrong button in the email? Close this page and use the other link.{{if .Expires}} This link works until {{.Expires}}.{{end}}</p>
{{template "foot"}}{{end}}

{{define "recorded"}}{{template "head" "Answer recorded"}}
<h1>Thank you — your answer is recorded</h1>
<p>{{template "badge" .}} for {{template "what" .}}.</p>
<p class="muted">The security team's playbook continues with your answer. You can close this page.</p>
{{template "foot"}}{{end}}

{{define "already-answered"}}{{template "head" "Already answered"}}
<h1>{{if .Owner}}This question{{else}}This change{{end}} already has an answer</h1>
{{with .Given}}<p>{{.By}} answered <strong>{{.Decision}}</strong>{{if .At}} on {{.At}}{{end}} for {{template "what" $}}, so your answer was not recorded.</p>
{{else}}<p>Someone already answered for {{template "what" .}}, so your answer was not recorded.</p>{{end}}
<p class="muted">If you disagree with the recorded answer, contact the security operations team.</p>
{{template "foot"}}{{end}}

{{define "outdated"}}{{template "head" "Newer message sent"}}
<h1>This link is from an older message</h1>
<p>{{if .OtherRun}}The link belongs to an earlier run of the playbook for {{template "what" .}}{{else}}Nobody answered in time, so the question about {{template "what" .}} was sent again{{end}}. Your answer was not recorded.</p>
{{with .Newer}}<p>A newer message was sent on {{.At}} to {{.To}}; use the link in it.</p>
{{else}}<p>Use the link in the newest message about it.</p>{{end}}
<p class="muted">If you did not get the newer message, ask one of its recipients or the security operations team.</p>
{{template "foot"}}{{end}}

{{define "run-closed"}}{{template "head" "No longer waiting"}}
<h1>This playbook run is no longer waiting for an answer</h1>
<p>The run for {{template "what" .}} has already finished or been answered, so your answer was not recorded.</p>
<p class="muted">If this matters, contact the security operations team.</p>
{{template "foot"}}{{end}}

{{define "unavailable"}}{{template "head" "Try again shortly"}}
<h1>Your answer could not be recorded yet</h1>
<p>Interlock cannot reach its workflow service right now. Please go back and confirm again in a minute.</p>
{{template "foot"}}{{end}}

{{define "failed"}}{{template "head" "Not recorded"}}
<h1>Your answer could not be recorded</h1>
<p>Something went wrong on our side. Please try again, or contact the security operations team{{if .}} about {{template "what" .}}{{end}}.</p>
{{template "foot"}}{{end}}

{{define "expired"}}{{template "head" "Link expired"}}
<h1>This answer link has expired</h1>
<p>{{if .}}The link for {{template "what" .}} stopped working on {{.Expires}}. {{end}}If the question is still open, a newer email has a working link; otherwise contact the security operations team.</p>
{{template "foot"}}{{end}}

{{define "forged"}}{{template "head" "Link not valid"}}
<h1>This answer link is not valid</h1>
<p>The link was changed after it was sent, or it was not issued by this Interlock. Nothing was recorded. Use the link exactly as it appears in the email.</p>
{{template "foot"}}{{end}}

{{define "malformed"}}{{template "head" "Link incomplete"}}
<h1>This answer link is incomplete</h1>
<p>The link may have been cut off or wrapped by your mail program. Nothing was recorded. Try clicking the button in the email, or copy the whole link.</p>
{{template "foot"}}{{end}}

{{define "bad-form"}}{{template "head" "Not recorded"}}
<h1>Your answer could not be read</h1>
<p>The form was too large or damaged. Nothing was recorded. Please go back and try again.</p>
{{template "foot"}}{{end}}

{{define "not-found"}}{{template "head" "Not found"}}
<h1>Not found</h1>
<p>There is no answer link at this address.</p>
{{template "foot"}}{{end}}

{{define "method"}}{{template "head" "Not allowed"}}
<h1>Not allowed</h1>
<p>Answer links are opened (GET) and confirmed (POST) only.</p>
{{template "foot"}}{{end}}
`))

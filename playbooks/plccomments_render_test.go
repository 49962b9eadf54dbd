package playbooks

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPLCCommentsRender pins the comments' exact text, hostile values included: the templates escape
// every value, and the literal text is what the committed histories recorded.
func TestPLCCommentsRender(t *testing.T) {
	t.Parallel()
	const evil = `<img src=x onerror="alert('x')">&`
	const escaped = `&lt;img src=x onerror=&#34;alert(&#39;x&#39;)&#34;&gt;&amp;`
	c := newPLCComments()
	tests := []struct {
		name, template string
		view           any
		want           string
	}{
		{"planned window", "planned", plannedView{Name: evil, Window: "Mon 06:00–08:00", PLC: "PLC-1", Alert: "Unauthorized PLC Programming", At: "2026-11-20 08:09 UTC"},
			"Planned change: maintenance window &quot;" + escaped + "&quot; (Mon 06:00–08:00) covers the change to PLC-1 (Unauthorized PLC Programming at 2026-11-20 08:09 UTC). No email sent."},
		{"planned request with impact", "planned", plannedView{ByRequest: true, Number: "CHG0001", Name: "n", Window: "w", PLC: evil, Alert: "a", At: "t", Impact: evil},
			"Planned change: CHG0001 &quot;n&quot; (w) covers the change to " + escaped + " (a at t). No email sent.<br>Business impact: " + escaped},
		{"answer planned, closing", "answer-planned", answerView{By: evil, PLCs: "PLC-1", Via: "email", At: "t", Close: true},
			escaped + " confirmed the change to PLC-1 was planned (via email at t). Closing the incident as BenignPositive (SuspiciousButExpected)."},
		{"answer not planned, comment and tag", "answer-not-planned", answerView{By: "ana", PLCs: "PLC-1, PLC-2", Via: "api", At: "t", Comment: evil, Tag: evil},
			"ana said the change to PLC-1, PLC-2 was NOT planned (via api at t). Comment: &quot;" + escaped + "&quot; Severity raised to High, status Active, tagged &quot;" + escaped + "&quot;."},
		{"answer not planned, no tag", "answer-not-planned", answerView{By: "ana", PLCs: "PLC-1", Via: "api", At: "t"},
			"ana said the change to PLC-1 was NOT planned (via api at t). Severity raised to High, status Active."},
		{"notice", "notice", noticeView{Alert: evil, Source: "ENG-WS-07", At: "t", Sent: "a@x about PLC-1", Deadline: "d", Rounds: 2, Notes: []string{evil}, Impact: "stop"},
			"Unplanned change: " + escaped + " from ENG-WS-07 at t; no maintenance window or change request covers it. Emailed a@x about PLC-1. Waiting for an answer until d, then escalating (2 round(s)). " + escaped + "<br>Business impact: stop"},
		{"notice without escalation", "notice", noticeView{Alert: "a", Source: "s", At: "t", Sent: "x", Deadline: "d"},
			"Unplanned change: a from s at t; no maintenance window or change request covers it. Emailed x. Waiting for an answer until d."},
		{"escalation", "escalation", escalationView{Round: 1, Rounds: 2, Sent: evil, Deadline: "d"},
			"No answer yet: escalation round 1 of 2 sent to " + escaped + ". Waiting until d."},
		{"rerouted", "rerouted", reroutedView{PLC: "PLC-1", To: "a@x", Why: evil, SOC: "soc@x"},
			"The email about the change to PLC-1 to a@x was not delivered (" + escaped + "). The SOC mailbox soc@x got it instead; check the directory entry or the device owners."},
		{"handoff", "handoff", handOffView{PLC: evil, Why: "550"},
			"Could not email anyone about the change to " + escaped + " (550); handed to the SOC."},
		{"no answer", "no-answer", noAnswerView{Asked: "a@x, b@x", PLCs: "PLC-1", Rounds: 1, Timeout: 30 * time.Minute},
			"No answer from a@x, b@x about the change to PLC-1 after 1 escalation round(s) (30m0s each); handed to the SOC."},
		{"a programming error says so", "no-such-comment", nil,
			`Interlock could not write its no-such-comment comment: html/template: &#34;no-such-comment&#34; is undefined`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, c.render(tc.template, tc.view))
		})
	}
}

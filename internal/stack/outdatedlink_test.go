package stack_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// The PLC playbook's answer links are bound to their round, end to end: the real Temporal dev server,
// Mailpit, worker and intake. After an escalation, the first notice's link is refused with a page
// naming the newer message; the escalation's link answers; a second opinion is shown who answered.

const (
	olinkEngineer = "ana.ruiz@rotterdam.example.com"
	olinkLead     = "lead-l3@rotterdam.example.com"
	// olinkTimeout is each round's wait. Round 0's is waited out in full; round 1's must outlast the
	// test's clicks (a few hundred milliseconds), with room for a loaded machine.
	olinkTimeout = 5 * time.Second
	// answerPageTime is how the answer pages show times (internal/answer's pageTime).
	answerPageTime = "Monday 2 January 2006, 15:04 UTC"
)

// answerLinks are one notice's two links, as its text part and its HTML buttons carry them.
type answerLinks struct{ planned, notPlanned string }

// TestOutdatedLinkAfterEscalation: round 0 goes to the engineer, nobody answers, round 1 to the line
// lead. The engineer's round-0 link is refused (409, the newer message's time and recipient) and
// answers nothing; the lead's round-1 link answers; the lead's other link, and the engineer's, then
// show who answered what and when; the lead clicking again still sees the answer recorded.
func TestOutdatedLinkAfterEscalation(t *testing.T) {
	h := newOLinkStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The tag names the incident and PLC, so the shared Mailpit's mail of an earlier -count run
	// is not taken for this one's.
	tag := "olink" + strconv.FormatInt(time.Now().UnixNano(), 36)
	code, a := h.post(t, plcFixture(t, "sentinel-incident-unauthorized-plc-programming.json", tag))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, playbooks.PLCReprogrammingName, a.Runs[0].Playbook)
	wid := a.Runs[0].WorkflowID

	msg0 := h.emailTo(ctx, t, "PLC-"+tag, olinkEngineer)
	require.NotContains(t, msg0.Subject, "ESCALATION")
	round0 := h.linksOf(t, msg0)
	msg1 := h.emailTo(ctx, t, "PLC-"+tag, olinkLead)
	require.Contains(t, msg1.Subject, "ESCALATION 1: ")
	round1 := h.linksOf(t, msg1)
	// The escalation reached someone once its timer runs: from then on round 0's links are old.
	waitAnswerTimers(ctx, t, h, wid, 2)

	// A browser opens round 0's link: the confirmation page (a GET answers nothing), then Confirm.
	res := followLink(t, http.MethodGet, round0.notPlanned)
	require.Equal(t, http.StatusOK, res.status, res.body)
	require.Contains(t, res.body, "Answering as "+olinkEngineer)
	outdated := followLink(t, http.MethodPost, round0.notPlanned)
	require.Equal(t, http.StatusConflict, outdated.status, outdated.body)
	require.Contains(t, outdated.body, "This link is from an older message")
	require.Contains(t, outdated.body, "Nobody answered in time, so the question about PLC <strong>PLC-"+tag+"</strong>")
	require.Contains(t, outdated.body, "Your answer was not recorded.")
	require.Contains(t, outdated.body, " to "+olinkLead+"; use the link in it.")
	st := queryPLCStatus(ctx, t, h, wid)
	require.Equal(t, "waiting", st.Phase, "the refused link answered nothing")
	require.Equal(t, 1, st.Round)
	require.Nil(t, st.Answer)
	require.True(t, time.Now().Before(st.Deadline), "round 1's deadline (%s) passed before the test clicked: raise olinkTimeout", st.Deadline)

	// Hold the answer's write-back (Sentinel answers 503) so the run stays open and its validator, not
	// the closed run, answers the clicks after the lead's.
	h.azure.Stub.InjectFaults(azurestandin.Faults{
		Match: func(r *http.Request) bool {
			return strings.Contains(strings.ToLower(r.URL.Path), "/incidents/plc-"+tag)
		},
		Unavailable: 1 << 20,
	})
	recorded := followLink(t, http.MethodPost, round1.notPlanned)
	require.Equal(t, http.StatusOK, recorded.status, recorded.body)
	require.Contains(t, recorded.body, "Thank you — your answer is recorded")
	require.Contains(t, recorded.body, "Not planned</span> for PLC <strong>PLC-"+tag+"</strong>")

	secondOpinion := followLink(t, http.MethodPost, round1.planned)
	require.Equal(t, http.StatusConflict, secondOpinion.status, secondOpinion.body)
	require.Contains(t, secondOpinion.body, "This change already has an answer")
	late := followLink(t, http.MethodPost, round0.planned)
	require.Equal(t, http.StatusConflict, late.status, late.body)
	require.Contains(t, late.body, "This change already has an answer", "an answer given outranks the old round")
	again := followLink(t, http.MethodPost, round1.notPlanned)
	require.Equal(t, http.StatusOK, again.status, "the lead's double click gets the first outcome: %s", again.body)
	require.Contains(t, again.body, "your answer is recorded")
	h.requireOpen(ctx, t, wid, "the write-back was held while the clicks were checked")

	h.azure.Stub.InjectFaults(azurestandin.Faults{})
	var out playbooks.PLCReprogrammingResult
	waitRun(ctx, t, h, wid, &out)
	require.Equal(t, playbooks.OutcomeAnsweredNotPlanned, out.Outcome)
	require.Equal(t, 1, out.EscalationRounds)
	require.NotNil(t, out.Answer)
	require.Equal(t, workflows.DecisionNotPlanned, out.Answer.Decision)
	require.Equal(t, olinkLead, out.Answer.By)
	require.Equal(t, "email-link", out.Answer.Via)
	require.NotNil(t, out.Answer.Link)
	require.Equal(t, 1, out.Answer.Link.Round)
	require.Len(t, out.Notifications, 2)
	require.Equal(t, []string{olinkLead}, out.Notifications[1].Recipients)
	require.Empty(t, out.WriteBackErrors, "the held write-back went through once Sentinel recovered")

	// The pages named the round-1 email and the answer exactly as the run recorded them.
	require.Contains(t, outdated.body, "A newer message was sent on "+out.Notifications[1].SentAt.UTC().Format(answerPageTime)+" to "+olinkLead+";")
	given := olinkLead + " answered <strong>Not planned</strong> on " + out.Answer.At.UTC().Format(answerPageTime) + " for PLC <strong>PLC-" + tag + "</strong>"
	require.Contains(t, secondOpinion.body, given)
	require.Contains(t, late.body, given)

	closed := followLink(t, http.MethodPost, round1.planned)
	require.Equal(t, http.StatusConflict, closed.status, closed.body)
	require.Contains(t, closed.body, "no longer waiting for an answer")
	requireReplays(ctx, t, h, wid)
}

// newOLinkStack is a stack of the test's own (its own Temporal, so its short waits and directory
// reach no other test's runs): the PLC's sensor has an engineer and a line lead to escalate to.
func newOLinkStack(t *testing.T) *harness {
	t.Helper()
	tp := testenv.NewTemporal(t)
	mp := env.Mailpit(t)
	stackCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop) // before the server stops: cleanups run last first
	h, err := startStack(tp, stackOptions{mail: mp, smtpHost: mp.SMTPHost, smtpPort: mp.SMTPPort, ctx: stackCtx,
		configure: func(cfg *config.Config) {
			pc := &cfg.Playbooks.PLCReprogramming
			pc.AnswerTimeout = olinkTimeout // below the validated minimum: this config is never loaded
			pc.EscalationRounds = 1
			pc.Directory = []config.DirectoryEntry{{
				Match:      config.DirectoryMatch{Sensor: "sensor-rtm-l3"},
				Engineers:  []config.Contact{{Name: "Ana Ruiz", Email: olinkEngineer}},
				Escalation: []config.Contact{{Name: "Line 3 lead", Email: olinkLead}},
			}}
		}})
	require.NoError(t, err)
	return h
}

// emailTo waits for the message whose subject contains subject and that went to exactly to.
func (h *harness) emailTo(ctx context.Context, t *testing.T, subject, to string) testenv.Message {
	t.Helper()
	var id string
	require.Eventually(t, func() bool {
		msgs, err := h.mail.Messages(ctx)
		require.NoError(t, err)
		for _, m := range msgs {
			if strings.Contains(m.Subject, subject) && len(m.To) == 1 && m.To[0].Address == to {
				id = m.ID
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "email to %s about %s", to, subject)
	msg, err := h.mail.Message(ctx, id)
	require.NoError(t, err)
	return msg
}

// linksOf reads a notice's links from its text part and checks its HTML buttons (HTML-escaped) go
// to the same addresses.
func (h *harness) linksOf(t *testing.T, msg testenv.Message) answerLinks {
	t.Helper()
	var l answerLinks
	for re, dst := range map[*regexp.Regexp]*string{plannedLink: &l.planned, notPlannedLink: &l.notPlanned} {
		m := re.FindStringSubmatch(msg.Text)
		require.Len(t, m, 2, "the text part carries both links")
		require.True(t, strings.HasPrefix(m[1], h.intakeURL+"/v1/answers/"), m[1])
		require.Contains(t, msg.HTML, `href="`+html.EscapeString(m[1])+`"`, "the HTML button is the same link")
		*dst = m[1]
	}
	require.NotEqual(t, l.planned, l.notPlanned)
	return l
}

type linkPage struct {
	status int
	body   string
}

// followLink opens (GET) or confirms (POST, the confirmation page's empty-comment form) an answer link.
func followLink(t *testing.T, method, link string) linkPage {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = http.PostForm(link, url.Values{"comment": {""}})
	} else {
		resp, err = http.Get(link)
	}
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return linkPage{status: resp.StatusCode, body: string(b)}
}

func queryPLCStatus(ctx context.Context, t *testing.T, h *harness, wid string) playbooks.PLCStatus {
	t.Helper()
	resp, err := h.client.QueryWorkflow(ctx, wid, "", playbooks.PLCStatusQuery)
	require.NoError(t, err)
	var st playbooks.PLCStatus
	require.NoError(t, resp.Get(&st))
	return st
}

// requireOpen fails when the run has closed.
func (h *harness) requireOpen(ctx context.Context, t *testing.T, wid, why string) {
	t.Helper()
	desc, err := h.client.DescribeWorkflow(ctx, wid, "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.RawResponse.GetWorkflowExecutionInfo().GetStatus(), why)
}

// waitAnswerTimers waits until the run has started n answer-deadline timers: the loop starts round n-1's
// after it noted that round's email as sent.
func waitAnswerTimers(ctx context.Context, t *testing.T, h *harness, wid string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var timers int
		iter := h.client.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				return false
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_TIMER_STARTED {
				timers++
			}
		}
		return timers >= n
	}, 30*time.Second, 50*time.Millisecond, "%d answer timers", n)
}

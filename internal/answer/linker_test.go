package answer_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/workflows"
)

func TestNewLinkerChecksThePublicURL(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{epoch})
	for _, bad := range []string{"", "localhost:8480", "ftp://x.example", "https://", "https://u:p@x.example", "https://x.example/?a=b", "https://x.example/#f", "javascript:alert(1)"} {
		_, err := answer.NewLinker(s, bad)
		require.Error(t, err, bad)
	}
	_, err := answer.NewLinker(nil, "https://x.example")
	require.Error(t, err)
}

func TestLinkerMakesVerifiableLinks(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{epoch})
	for base, prefix := range map[string]string{
		"https://soc.example":            "https://soc.example/v1/answers/",
		"https://soc.example/":           "https://soc.example/v1/answers/",
		"https://soc.example/interlock/": "https://soc.example/interlock/v1/answers/",
		"http://localhost:8480":          "http://localhost:8480/v1/answers/",
	} {
		l, err := answer.NewLinker(s, base)
		require.NoError(t, err)
		links, err := l.AnswerLinks(activities.AnswerLinkRequest{
			WorkflowID: "plc-notify/A", IncidentID: "inc-A", IncidentNumber: 4318,
			PLC: strings.Repeat("P", 100), Recipient: "group", Round: 2, RunID: "run-A",
		})
		require.NoError(t, err)
		for decision, link := range map[string]string{workflows.DecisionPlanned: links.Planned, workflows.DecisionNotPlanned: links.NotPlanned} {
			token, ok := strings.CutPrefix(link, prefix)
			require.True(t, ok, "%s does not start with %s", link, prefix)
			c, err := s.Verify(token)
			require.NoError(t, err)
			require.Equal(t, answer.Claims{
				WorkflowID: "plc-notify/A", IncidentID: "inc-A", IncidentNumber: 4318, PLC: strings.Repeat("P", 63) + "…",
				Recipient: "group", Round: 2, RunID: "run-A", Bound: true, Decision: decision, Expires: c.Expires,
			}, c)
		}
	}
	l, err := answer.NewLinker(s, "https://soc.example")
	require.NoError(t, err)
	_, err = l.AnswerLinks(activities.AnswerLinkRequest{})
	require.Error(t, err, "no workflow ID, no links")
}

// An owner question's links carry the expected / not expected decisions, and an unknown question is
// refused rather than signed as a PLC question.
func TestLinkerOwnerQuestion(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{epoch})
	l, err := answer.NewLinker(s, "https://soc.example")
	require.NoError(t, err)
	req := activities.AnswerLinkRequest{WorkflowID: "IoTOwnerApproval/A", IncidentID: "inc-A", PLC: "HMI-7",
		Recipient: "owner@plant.example", Question: activities.QuestionExpected}
	links, err := l.AnswerLinks(req)
	require.NoError(t, err)
	for decision, link := range map[string]string{workflows.DecisionExpected: links.Planned, workflows.DecisionNotExpected: links.NotPlanned} {
		c, err := s.Verify(strings.TrimPrefix(link, "https://soc.example/v1/answers/"))
		require.NoError(t, err)
		require.Equal(t, decision, c.Decision)
	}
	req.Question = "maybe"
	_, err = l.AnswerLinks(req)
	require.Error(t, err)
}

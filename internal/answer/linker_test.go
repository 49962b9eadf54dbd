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
			PLC: strings.Repeat("P", 100), Recipient: "group", Round: 2,
		})
		require.NoError(t, err)
		for decision, link := range map[string]string{workflows.DecisionPlanned: links.Planned, workflows.DecisionNotPlanned: links.NotPlanned} {
			token, ok := strings.CutPrefix(link, prefix)
			require.True(t, ok, "%s does not start with %s", link, prefix)
			c, err := s.Verify(token)
			require.NoError(t, err)
			require.Equal(t, answer.Claims{
				WorkflowID: "plc-notify/A", IncidentID: "inc-A", IncidentNumber: 4318, PLC: strings.Repeat("P", 64),
				Recipient: "group", Round: 2, Decision: decision, Expires: c.Expires,
			}, c)
		}
	}
	l, err := answer.NewLinker(s, "https://soc.example")
	require.NoError(t, err)
	_, err = l.AnswerLinks(activities.AnswerLinkRequest{})
	require.Error(t, err, "no workflow ID, no links")
}

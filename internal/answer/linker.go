package answer

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/interlock-soar/interlock/internal/safetext"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/workflows"
)

// maxPLCRunes caps the display-only PLC name carried in a token, keeping links short.
const maxPLCRunes = 64

// Linker makes a notice's two answer links: the intake's public URL + PathPrefix + a token. It
// implements activities.AnswerLinker.
type Linker struct {
	signer *Signer
	base   string
}

var _ activities.AnswerLinker = (*Linker)(nil)

// NewLinker checks publicURL (absolute http(s), no query or fragment; a path is kept for a reverse
// proxy that mounts the intake below one) and returns a Linker.
func NewLinker(s *Signer, publicURL string) (*Linker, error) {
	if s == nil {
		return nil, fmt.Errorf("answer: linker needs a signer")
	}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("answer: public URL must be an absolute http(s) URL without query, not %q", publicURL)
	}
	return &Linker{signer: s, base: strings.TrimRight(u.String(), "/")}, nil
}

// AnswerLinks signs one token per decision, bound to the run, incident, recipient and round.
func (l *Linker) AnswerLinks(req activities.AnswerLinkRequest) (activities.AnswerLinks, error) {
	c := Claims{
		WorkflowID:     req.WorkflowID,
		IncidentID:     req.IncidentID,
		IncidentNumber: req.IncidentNumber,
		PLC:            safetext.Line(req.PLC, maxPLCRunes),
		Recipient:      req.Recipient,
		Round:          req.Round,
		RunID:          req.RunID,
	}
	var links activities.AnswerLinks
	yes, no := workflows.DecisionPlanned, workflows.DecisionNotPlanned
	switch req.Question {
	case activities.QuestionPlanned:
	case activities.QuestionExpected:
		yes, no = workflows.DecisionExpected, workflows.DecisionNotExpected
	default:
		return activities.AnswerLinks{}, fmt.Errorf("answer: unknown question %q", req.Question)
	}
	for _, d := range []struct {
		decision string
		dst      *string
	}{{yes, &links.Planned}, {no, &links.NotPlanned}} {
		c.Decision = d.decision
		token, err := l.signer.Sign(c)
		if err != nil {
			return activities.AnswerLinks{}, err
		}
		*d.dst = l.URL(token)
	}
	return links, nil
}

// URL is the link for a token.
func (l *Linker) URL(token string) string {
	return l.base + PathPrefix + token
}

package answer

import (
	"encoding/base64"
	"time"
)

// SignRawForTest signs an arbitrary payload with s's key, so tests can check that Verify refuses
// authentic-but-wrong payloads.
func SignRawForTest(s *Signer, payload []byte) string {
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body))
}

// SetTimeoutForTest shortens how long the handler waits for the run.
func (h *Handler) SetTimeoutForTest(d time.Duration) { h.timeout = d }

// SignUnboundForTest mints a token of the first format (v1: the round for display only), as links
// sent before tokens were bound to their round are.
func SignUnboundForTest(s *Signer, c Claims) (string, error) {
	if c.Expires.IsZero() {
		c.Expires = s.now().Add(s.ttl)
	}
	return s.signWire(wireClaims{
		V: formatUnbound, W: c.WorkflowID, I: c.IncidentID, N: c.IncidentNumber, P: c.PLC,
		D: c.Decision, R: c.Recipient, K: c.Round, E: c.Expires.Unix(),
	})
}

// ClassifyForTest maps a Temporal error as TemporalAnswerer does, for fakes that refuse like a run.
func ClassifyForTest(workflowID string, err error) error { return classify(workflowID, err) }

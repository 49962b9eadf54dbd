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

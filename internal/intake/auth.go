package intake

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of an HMAC-signed request.
const (
	TimestampHeader = "X-Interlock-Timestamp"
	SignatureHeader = "X-Interlock-Signature"
)

// DefaultReplayWindow is how far a signed request's timestamp may be from the intake's clock, either
// way, when AuthConfig.ReplayWindow is zero.
const DefaultReplayWindow = 5 * time.Minute

// AuthConfig says how /v1 requests authenticate. Either method suffices when both are configured.
// With neither and AllowUnauthenticated false, every /v1 request is refused (fail closed).
type AuthConfig struct {
	// Tokens are accepted as "Authorization: Bearer <token>".
	Tokens []string
	// HMACSecret verifies X-Interlock-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body)).
	HMACSecret []byte
	// ReplayWindow bounds |now - X-Interlock-Timestamp|; zero means DefaultReplayWindow. A replay inside
	// the window is harmless: it maps to the same workflow IDs and comes back deduplicated.
	ReplayWindow time.Duration
	// AllowUnauthenticated lets every /v1 request through (interlock dev on loopback only).
	AllowUnauthenticated bool
}

// authenticator checks requests against an AuthConfig. Tokens are kept only as SHA-256 digests: that
// gives every comparison the same length, so subtle.ConstantTimeCompare cannot leak a token's length.
type authenticator struct {
	tokenDigests [][sha256.Size]byte
	hmacSecret   []byte
	window       time.Duration
	open         bool
}

func newAuthenticator(c AuthConfig) authenticator {
	a := authenticator{
		hmacSecret: append([]byte(nil), c.HMACSecret...),
		window:     c.ReplayWindow,
		open:       c.AllowUnauthenticated,
	}
	if a.window <= 0 {
		a.window = DefaultReplayWindow
	}
	for _, t := range c.Tokens {
		if t != "" {
			a.tokenDigests = append(a.tokenDigests, sha256.Sum256([]byte(t)))
		}
	}
	return a
}

// configured says whether any method could ever succeed.
func (a authenticator) configured() bool { return len(a.tokenDigests) > 0 || len(a.hmacSecret) > 0 }

// bearer says whether the request carries a configured bearer token. It compares against every token
// without stopping at a match, so the time taken does not reveal which one matched.
func (a authenticator) bearer(r *http.Request) bool {
	if len(a.tokenDigests) == 0 {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	given := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for _, d := range a.tokenDigests {
		match |= subtle.ConstantTimeCompare(given[:], d[:])
	}
	return match == 1
}

// hasSignature says whether the request carries the HMAC headers (verified later, on the body).
func (a authenticator) hasSignature(r *http.Request) bool {
	return len(a.hmacSecret) > 0 && r.Header.Get(TimestampHeader) != "" && r.Header.Get(SignatureHeader) != ""
}

// checkTimestamp verifies the signed timestamp is a number of Unix seconds inside the replay window.
// It is checked before the body is read, so a stale request costs nothing.
func (a authenticator) checkTimestamp(r *http.Request, now time.Time) (string, bool) {
	raw := r.Header.Get(TimestampHeader)
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return "", false
	}
	d := now.Sub(time.Unix(ts, 0))
	return raw, d <= a.window && d >= -a.window
}

// verifySignature checks X-Interlock-Signature over timestamp + "." + body.
func (a authenticator) verifySignature(r *http.Request, timestamp string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(r.Header.Get(SignatureHeader), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(hexSig))
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(a.hmacSecret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// SignRequest sets the HMAC headers on a request whose body is body, as a webhook sender must.
func SignRequest(r *http.Request, secret, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set(TimestampHeader, ts)
	r.Header.Set(SignatureHeader, "sha256="+hex.EncodeToString(mac(secret, ts, body)))
}

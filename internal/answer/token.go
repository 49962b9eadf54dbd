// Package answer is the HTTP side of the engineers' one-click answers: the signed tokens in the
// emailed links, the pages behind them, and the Temporal Update that hands the answer to the
// waiting playbook run.
//
// A token is the whole credential of a link: it names the run it answers, the round whose email
// carried it, the decision, who it was sent to, and when it stops working, under an HMAC-SHA256 of a secret only Interlock knows. The
// handler takes the workflow ID only from a verified token, so a link minted for one incident can
// never address another.
package answer

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/workflows"
)

// Verification failures, distinct so the page can say which (and pick the status code).
var (
	// ErrMalformed: not a token at all (truncated by a mail client, garbage).
	ErrMalformed = errors.New("answer link is malformed")
	// ErrBadSignature: shaped like a token but not signed by this Interlock (altered or forged).
	ErrBadSignature = errors.New("answer link signature is not valid")
	// ErrExpired: authentic but past its expiry.
	ErrExpired = errors.New("answer link has expired")
)

// MinSecretBytes is the shortest accepted HMAC secret: as long as the SHA-256 output.
const MinSecretBytes = 32

// maxTokenLen keeps tokens comfortably inside every mail client's and proxy's URL limits, and
// bounds the work an unauthenticated request can cause.
const maxTokenLen = 2048

// macContext separates these MACs from any other use of the same secret, and versions the format.
const macContext = "interlock/answer-link/v1\x00"

// Claims are what a token asserts. WorkflowID, Decision and Expires are required; the rest is
// shown on the confirmation page and recorded with the answer.
type Claims struct {
	WorkflowID string
	IncidentID string
	// Decision is one of the workflows.Decision constants.
	Decision string
	// Recipient is who the link was sent to: an address, or "group" for a notice to several people.
	Recipient string
	// Round is 0 for the first notice, n for the n-th escalation.
	Round int
	// RunID is the run that sent the link (empty when minted outside an activity).
	RunID string
	// Bound says the token binds the answer to RunID and Round: every token Sign mints now. Tokens of
	// the first format (v1) carried the round for display only and answer whichever round is current.
	Bound bool
	// Expires is when the link stops working (second precision). Sign fills it from the TTL when zero.
	Expires time.Time
	// IncidentNumber and PLC (the device's name, for an owner question too) are display-only: the
	// confirmation page names them.
	IncidentNumber int64
	PLC            string
}

// wireClaims is the compact JSON form: short keys keep the links short.
type wireClaims struct {
	V int    `json:"v"`
	W string `json:"w"`
	I string `json:"i,omitempty"`
	N int64  `json:"n,omitempty"`
	P string `json:"p,omitempty"`
	D string `json:"d"`
	R string `json:"r,omitempty"`
	K int    `json:"k,omitempty"`
	U string `json:"u,omitempty"`
	E int64  `json:"e"`
}

// Token formats: v1 named the round for display; v2 binds the answer to the run and round.
const (
	formatUnbound = 1
	formatBound   = 2
)

// Signer mints and verifies tokens. It is safe for concurrent use.
type Signer struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewSigner makes a Signer. secret must have at least MinSecretBytes bytes; ttl is how long a
// token stays valid; now is the clock (nil: time.Now), injectable for tests.
func NewSigner(secret []byte, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(secret) < MinSecretBytes {
		// The length is not secret; the secret is, and is never part of the message.
		return nil, fmt.Errorf("answer: secret has %d bytes, needs at least %d", len(secret), MinSecretBytes)
	}
	if ttl <= 0 {
		return nil, errors.New("answer: token TTL must be positive")
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: bytes.Clone(secret), ttl: ttl, now: now}, nil
}

// TTL is how long tokens minted now stay valid.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Sign mints a token: base64url(JSON claims) "." base64url(HMAC-SHA256).
func (s *Signer) Sign(c Claims) (string, error) {
	if c.WorkflowID == "" || len(c.WorkflowID) > 1000 || len(c.RunID) > 100 {
		return "", errors.New("answer: claims need a workflow ID of at most 1000 bytes and a run ID of at most 100")
	}
	if !validDecision(c.Decision) {
		return "", fmt.Errorf("answer: decision must be %q, %q, %q or %q", workflows.DecisionPlanned, workflows.DecisionNotPlanned,
			workflows.DecisionExpected, workflows.DecisionNotExpected)
	}
	if c.Round < 0 {
		return "", errors.New("answer: round must not be negative")
	}
	if c.Expires.IsZero() {
		c.Expires = s.now().Add(s.ttl)
	}
	return s.signWire(wireClaims{
		V: formatBound, W: c.WorkflowID, I: c.IncidentID, N: c.IncidentNumber, P: c.PLC,
		D: c.Decision, R: c.Recipient, K: c.Round, U: c.RunID, E: c.Expires.Unix(),
	})
}

func (s *Signer) signWire(w wireClaims) (string, error) {
	payload, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("answer: encode claims: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	token := body + "." + base64.RawURLEncoding.EncodeToString(s.mac(body))
	if len(token) > maxTokenLen {
		return "", fmt.Errorf("answer: token would be %d bytes, more than %d", len(token), maxTokenLen)
	}
	return token, nil
}

// Verify checks a token and returns its claims. The signature is checked before anything in the
// payload is believed, so a forged token is ErrBadSignature even when it also claims to be expired.
// With ErrExpired the (authentic) claims are returned too, for the page and the log.
func (s *Signer) Verify(token string) (Claims, error) {
	if token == "" || len(token) > maxTokenLen {
		return Claims{}, fmt.Errorf("%w: length %d", ErrMalformed, len(token))
	}
	body, sigText, ok := strings.Cut(token, ".")
	if !ok || body == "" || strings.Contains(sigText, ".") {
		return Claims{}, fmt.Errorf("%w: not two dot-separated parts", ErrMalformed)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return Claims{}, fmt.Errorf("%w: signature is not a base64url SHA-256 MAC", ErrMalformed)
	}
	if !hmac.Equal(sig, s.mac(body)) { // constant time
		return Claims{}, ErrBadSignature
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	var w wireClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil || dec.More() {
		return Claims{}, fmt.Errorf("%w: payload is not the claims JSON", ErrMalformed)
	}
	if (w.V != formatUnbound && w.V != formatBound) || (w.V == formatUnbound && w.U != "") ||
		w.W == "" || !validDecision(w.D) || w.K < 0 || w.E == 0 {
		return Claims{}, fmt.Errorf("%w: claims incomplete or of another version", ErrMalformed)
	}
	c := Claims{
		WorkflowID: w.W, IncidentID: w.I, Decision: w.D, Recipient: w.R, Round: w.K,
		RunID: w.U, Bound: w.V == formatBound,
		Expires: time.Unix(w.E, 0).UTC(), IncidentNumber: w.N, PLC: w.P,
	}
	if !s.now().Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(body string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(macContext))
	m.Write([]byte(body))
	return m.Sum(nil)
}

func validDecision(d string) bool { return workflows.IsDecision(d) }

// Link is the email an answer given with these claims came from, or nil for an unbound (v1) token.
func (c Claims) Link() *workflows.AnswerLink {
	if !c.Bound {
		return nil
	}
	return &workflows.AnswerLink{RunID: c.RunID, Round: c.Round}
}

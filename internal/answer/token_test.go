package answer_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/workflows"
)

var (
	secret      = []byte("0123456789abcdef0123456789abcdef-test-secret")
	otherSecret = []byte("fedcba9876543210fedcba9876543210-other-secret")
	epoch       = time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC)
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSigner(t testing.TB, key []byte, c *clock) *answer.Signer {
	t.Helper()
	s, err := answer.NewSigner(key, 72*time.Hour, c.now)
	require.NoError(t, err)
	return s
}

func claimsA() answer.Claims {
	return answer.Claims{
		WorkflowID: "plc-notify/9d8c7b6a-incident-A", IncidentID: "9d8c7b6a", Decision: workflows.DecisionNotPlanned,
		Recipient: "ada@plant.example", Round: 1, RunID: "0193a1b2-run-A", IncidentNumber: 4318, PLC: "PLC-L3-01",
	}
}

func TestNewSignerRefusesShortSecrets(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 16, 31} {
		_, err := answer.NewSigner(make([]byte, n), time.Hour, nil)
		require.Error(t, err, n)
	}
	_, err := answer.NewSigner(secret, 0, nil)
	require.Error(t, err)
	_, err = answer.NewSigner(make([]byte, 32), time.Hour, nil)
	require.NoError(t, err)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	c := &clock{epoch}
	s := newSigner(t, secret, c)
	token, err := s.Sign(claimsA())
	require.NoError(t, err)
	require.Regexp(t, `^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$`, token, "URL-safe, no padding")

	got, err := s.Verify(token)
	require.NoError(t, err)
	want := claimsA()
	want.Expires = epoch.Add(72 * time.Hour)
	want.Bound = true
	require.Equal(t, want, got)
	require.Equal(t, &workflows.AnswerLink{RunID: "0193a1b2-run-A", Round: 1}, got.Link(), "the answer names its run and round")

	// an explicit expiry is kept (to the second)
	c2 := claimsA()
	c2.Expires = epoch.Add(time.Hour + 500*time.Millisecond)
	token, err = s.Sign(c2)
	require.NoError(t, err)
	got, err = s.Verify(token)
	require.NoError(t, err)
	require.Equal(t, epoch.Add(time.Hour), got.Expires)
}

func TestSignRefusesIncompleteClaims(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{epoch})
	for name, mutate := range map[string]func(*answer.Claims){
		"no workflow":   func(c *answer.Claims) { c.WorkflowID = "" },
		"huge workflow": func(c *answer.Claims) { c.WorkflowID = strings.Repeat("w", 1001) },
		"no decision":   func(c *answer.Claims) { c.Decision = "" },
		"bad decision":  func(c *answer.Claims) { c.Decision = "maybe" },
		"neg round":     func(c *answer.Claims) { c.Round = -1 },
		"huge run":      func(c *answer.Claims) { c.RunID = strings.Repeat("r", 101) },
		"too long":      func(c *answer.Claims) { c.PLC = strings.Repeat("p", 3000) },
	} {
		c := claimsA()
		mutate(&c)
		_, err := s.Sign(c)
		require.Error(t, err, name)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	c := &clock{epoch}
	s := newSigner(t, secret, c)
	token, err := s.Sign(claimsA())
	require.NoError(t, err)
	body, sig, _ := strings.Cut(token, ".")

	// reencode re-signs nothing: it swaps the payload and keeps A's signature.
	reencode := func(mutate func(m map[string]any)) string {
		raw, err := base64.RawURLEncoding.DecodeString(body)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		mutate(m)
		out, err := json.Marshal(m)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(out) + "." + sig
	}
	other := newSigner(t, otherSecret, c)
	foreign, err := other.Sign(claimsA())
	require.NoError(t, err)
	flipped := []byte(sig)
	flipped[5] ^= 'A' ^ 'B'
	if flipped[5] == sig[5] {
		flipped[5] = 'C'
	}

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", answer.ErrMalformed},
		{"no dot", body + sig, answer.ErrMalformed},
		{"three parts", token + ".x", answer.ErrMalformed},
		{"empty payload", "." + sig, answer.ErrMalformed},
		{"short signature", body + "." + sig[:20], answer.ErrMalformed},
		{"signature not base64", body + "." + strings.Repeat("*", 43), answer.ErrMalformed},
		{"padded signature", body + "." + sig + "=", answer.ErrMalformed},
		{"huge", strings.Repeat("a", 5000) + "." + sig, answer.ErrMalformed},
		{"truncated by a mail client", token[:len(token)-10], answer.ErrMalformed},
		{"altered signature", body + "." + string(flipped), answer.ErrBadSignature},
		{"wrong secret", foreign, answer.ErrBadSignature},
		{"swapped workflow ID", reencode(func(m map[string]any) { m["w"] = "plc-notify/incident-B" }), answer.ErrBadSignature},
		{"swapped decision", reencode(func(m map[string]any) { m["d"] = workflows.DecisionPlanned }), answer.ErrBadSignature},
		{"older round", reencode(func(m map[string]any) { m["k"] = float64(3) }), answer.ErrBadSignature},
		{"other run", reencode(func(m map[string]any) { m["u"] = "run-B" }), answer.ErrBadSignature},
		{"run dropped", reencode(func(m map[string]any) { delete(m, "u") }), answer.ErrBadSignature},
		{"downgraded to unbound", reencode(func(m map[string]any) { m["v"] = float64(1); delete(m, "u") }), answer.ErrBadSignature},
		{"extended expiry", reencode(func(m map[string]any) { m["e"] = float64(epoch.Add(1000 * time.Hour).Unix()) }), answer.ErrBadSignature},
		{"payload bit flip", "B" + body[1:] + "." + sig, answer.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.Verify(tt.token)
			require.ErrorIs(t, err, tt.want)
			require.Empty(t, got.WorkflowID, "no claims from a bad token")
			require.NotContains(t, err.Error(), sig, "errors never echo the token")
		})
	}
}

func TestVerifyRejectsValidlySignedJunk(t *testing.T) {
	t.Parallel()
	// Payloads signed with the right key but not our claims (another version, missing fields,
	// unknown fields) are malformed, not accepted.
	s := newSigner(t, secret, &clock{epoch})
	for name, payload := range map[string]string{
		"not json":      "hello",
		"version 3":     `{"v":3,"w":"wf","d":"planned","e":9999999999}`,
		"v1 with a run": `{"v":1,"w":"wf","d":"planned","e":9999999999,"u":"run"}`,
		"no workflow":   `{"v":1,"d":"planned","e":9999999999}`,
		"bad decision":  `{"v":1,"w":"wf","d":"yes","e":9999999999}`,
		"no expiry":     `{"v":1,"w":"wf","d":"planned"}`,
		"unknown field": `{"v":1,"w":"wf","d":"planned","e":9999999999,"admin":true}`,
		"two values":    `{"v":1,"w":"wf","d":"planned","e":9999999999}{}`,
		"neg round":     `{"v":1,"w":"wf","d":"planned","e":9999999999,"k":-1}`,
	} {
		token := answer.SignRawForTest(s, []byte(payload))
		_, err := s.Verify(token)
		require.ErrorIs(t, err, answer.ErrMalformed, name)
	}
}

// Links sent before tokens were bound (format v1) still verify, unbound: their answer names no email,
// so the run takes it in whichever round is current, as it did when they were sent.
func TestVerifyUnboundToken(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{epoch})
	c := claimsA()
	c.RunID = ""
	token, err := answer.SignUnboundForTest(s, c)
	require.NoError(t, err)
	got, err := s.Verify(token)
	require.NoError(t, err)
	require.False(t, got.Bound)
	require.Equal(t, 1, got.Round, "the round is still shown")
	require.Nil(t, got.Link())

	// a bound token of round 0 still binds: the round is not taken for absent
	c.Round = 0
	token, err = s.Sign(c)
	require.NoError(t, err)
	got, err = s.Verify(token)
	require.NoError(t, err)
	require.Equal(t, &workflows.AnswerLink{Round: 0}, got.Link())
}

func TestVerifyExpiry(t *testing.T) {
	t.Parallel()
	c := &clock{epoch}
	s := newSigner(t, secret, c)
	token, err := s.Sign(claimsA())
	require.NoError(t, err)

	c.t = epoch.Add(72*time.Hour - time.Second)
	_, err = s.Verify(token)
	require.NoError(t, err)

	c.t = epoch.Add(72 * time.Hour)
	got, err := s.Verify(token)
	require.ErrorIs(t, err, answer.ErrExpired)
	require.Equal(t, claimsA().WorkflowID, got.WorkflowID, "expired claims are authentic and returned for the page")

	// a forged token that is also expired is reported as forged
	forged, err := newSigner(t, otherSecret, &clock{epoch}).Sign(claimsA())
	require.NoError(t, err)
	_, err = s.Verify(forged)
	require.ErrorIs(t, err, answer.ErrBadSignature)
}

func FuzzVerify(f *testing.F) {
	s := newSigner(f, secret, &clock{epoch})
	valid, err := s.Sign(claimsA())
	require.NoError(f, err)
	for _, seed := range []string{"", ".", "a.b", valid, valid[:len(valid)-1], valid + "A", strings.ToUpper(valid), "e30." + strings.Repeat("A", 43)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token)
		if token == valid {
			require.NoError(t, err)
			return
		}
		// Any other string: a random or mutated token never verifies (a forgery would need the
		// HMAC), and nothing panics.
		require.Error(t, err)
		require.Empty(t, c.WorkflowID)
	})
}

package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CookieName is the workbook's session cookie.
const CookieName = "interlock_workbook"

// DefaultSessionTTL is how long a sign-in lasts when AuthConfig.SessionTTL is zero: one shift.
const DefaultSessionTTL = 12 * time.Hour

// sessionLabel separates the workbook's session keys from any other use of the tokens.
const sessionLabel = "interlock workbook session v1"

// AuthConfig says who may see the workbook: the intake's bearer tokens, or nobody checks at all.
type AuthConfig struct {
	// Tokens are the intake's bearer tokens. A browser signs in with one; the session cookie it gets
	// is an HMAC keyed from that token, never the token itself.
	Tokens []string
	// AllowUnauthenticated mirrors the intake's (interlock dev on loopback): no sign-in.
	AllowUnauthenticated bool
	// SessionTTL is how long a session lasts; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auth checks workbook requests: a bearer token or a session cookie. Keys are derived from the tokens,
// so sessions survive a restart and work across intake replicas, and removing a token ends its sessions.
type Auth struct {
	tokenDigests [][sha256.Size]byte
	keys         [][]byte
	open         bool
	ttl          time.Duration
	now          func() time.Time
}

// NewAuth builds the checker. With no tokens and AllowUnauthenticated false, nothing gets in.
func NewAuth(c AuthConfig) *Auth {
	a := &Auth{open: c.AllowUnauthenticated, ttl: c.SessionTTL, now: c.Now}
	if a.ttl <= 0 {
		a.ttl = DefaultSessionTTL
	}
	if a.now == nil {
		a.now = time.Now
	}
	for _, t := range c.Tokens {
		if t == "" {
			continue
		}
		a.tokenDigests = append(a.tokenDigests, sha256.Sum256([]byte(t)))
		k := hmac.New(sha256.New, []byte(t))
		k.Write([]byte(sessionLabel))
		a.keys = append(a.keys, k.Sum(nil))
	}
	return a
}

// Open says whether no sign-in is needed.
func (a *Auth) Open() bool { return a.open }

// tokenIndex returns which configured token given is, or -1. It compares SHA-256 digests (one length
// for all) against every token without stopping, so timing tells neither the token nor which matched.
func (a *Auth) tokenIndex(given string) int {
	d := sha256.Sum256([]byte(given))
	idx := -1
	for i, td := range a.tokenDigests {
		if subtle.ConstantTimeCompare(d[:], td[:]) == 1 {
			idx = i
		}
	}
	return idx
}

// Authenticated says whether r may see the workbook's data.
func (a *Auth) Authenticated(r *http.Request) bool {
	if a.open {
		return true
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return a.tokenIndex(strings.TrimSpace(tok)) >= 0
	}
	c, err := r.Cookie(CookieName)
	return err == nil && a.validSession(c.Value)
}

// newSession returns a cookie value for the token at idx: "v1.<expiry>.<nonce>.<mac>".
func (a *Auth) newSession(idx int, expires time.Time) (string, error) {
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return "", err
	}
	body := "v1." + strconv.FormatInt(expires.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(n[:])
	return body + "." + a.sign(idx, body), nil
}

func (a *Auth) sign(idx int, body string) string {
	m := hmac.New(sha256.New, a.keys[idx])
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// validSession checks a cookie value's expiry and its MAC against every token's key.
func (a *Auth) validSession(v string) bool {
	i := strings.LastIndexByte(v, '.')
	if i < 0 || !strings.HasPrefix(v, "v1.") {
		return false
	}
	body, mac := v[:i], v[i+1:]
	parts := strings.Split(body, ".")
	if len(parts) != 3 {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !a.now().Before(time.Unix(exp, 0)) {
		return false
	}
	ok := 0
	for idx := range a.keys {
		ok |= subtle.ConstantTimeCompare([]byte(a.sign(idx, body)), []byte(mac))
	}
	return ok == 1
}

// RequireSession lets through only requests with a bearer token or a session cookie, answering 401
// JSON otherwise. The handler it returns is a public mount for the intake (PublicRoute), because a
// browser's request carries the cookie, not intake credentials: wrap the workbook's API with it.
func (a *Auth) RequireSession(next http.Handler) http.Handler {
	return publicRoute{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Authenticated(r) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("WWW-Authenticate", `Bearer realm="interlock workbook"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"sign in at /workbook/login, or send Authorization: Bearer <token>"}` + "\n"))
			return
		}
		next.ServeHTTP(w, r)
	})}
}

// publicRoute satisfies the intake's PublicRoute interface without this package importing the intake.
type publicRoute struct{ http.Handler }

func (publicRoute) PublicRoute() bool { return true }

package web

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Wrong sign-ins from one address: a burst of signInBurst, then one per signInEvery. The token is the
// intake's bearer token, so guessing it must stay slow; right tokens are never limited.
const (
	signInBurst = 5
	signInEvery = 12 * time.Second
	// signInAddrs bounds the addresses remembered; past it, the ones idle longest are forgotten first.
	signInAddrs = 10_000
)

// signInLimiter counts wrong sign-ins per client address (the connection's, not a header a client
// could set).
type signInLimiter struct {
	now func() time.Time
	mu  sync.Mutex
	per map[string]*signInAddr
}

type signInAddr struct {
	lim  *rate.Limiter
	seen time.Time
}

func newSignInLimiter(now func() time.Time) *signInLimiter {
	return &signInLimiter{now: now, per: map[string]*signInAddr{}}
}

func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// wait is how long r's address must wait before its next sign-in attempt (zero: it may try now).
func (l *signInLimiter) wait(r *http.Request) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.per[clientAddr(r)]
	if !ok {
		return 0
	}
	tokens := a.lim.TokensAt(l.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(signInEvery)))
}

// failed counts a wrong sign-in from r's address.
func (l *signInLimiter) failed(r *http.Request) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	key := clientAddr(r)
	a, ok := l.per[key]
	if !ok {
		if len(l.per) >= signInAddrs {
			l.forgetIdle(now)
		}
		a = &signInAddr{lim: rate.NewLimiter(rate.Every(signInEvery), signInBurst)}
		l.per[key] = a
	}
	a.seen = now
	a.lim.AllowN(now, 1)
}

// forgetIdle drops the addresses whose bucket has refilled (they would start afresh anyway), and if
// none has, the half seen longest ago.
func (l *signInLimiter) forgetIdle(now time.Time) {
	full := signInBurst * signInEvery
	for k, a := range l.per {
		if now.Sub(a.seen) >= full {
			delete(l.per, k)
		}
	}
	if len(l.per) < signInAddrs {
		return
	}
	var cut time.Time
	for _, a := range l.per {
		if cut.IsZero() || a.seen.Before(cut) {
			cut = a.seen
		}
	}
	cut = cut.Add(now.Sub(cut) / 2)
	for k, a := range l.per {
		if a.seen.Before(cut) {
			delete(l.per, k)
		}
	}
}

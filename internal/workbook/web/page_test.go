package web

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVendoredChartJS checks the embedded Chart.js against the sums scripts/vendor-chartjs.sh pinned.
func TestVendoredChartJS(t *testing.T) {
	const dir = "assets/vendor/chartjs-4.5.0"
	sums, err := os.Open(dir + "/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	script, err := os.ReadFile("../../../scripts/vendor-chartjs.sh")
	if err != nil || !strings.Contains(string(script), "\nVERSION=4.5.0\n") {
		t.Fatalf("scripts/vendor-chartjs.sh does not pin VERSION=4.5.0 (the vendored directory's): %v", err)
	}
	n := 0
	for sc := bufio.NewScanner(sums); sc.Scan(); n++ {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", sc.Text())
		}
		b, err := fs.ReadFile(files, dir+"/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 %x, pinned %s", name, got, want)
		}
	}
	if n != 2 {
		t.Errorf("SHA256SUMS lists %d files, want chart.umd.min.js and LICENSE.md", n)
	}
}

func TestHeadersAndAssets(t *testing.T) {
	srv := startServer(t, NewAuth(AuthConfig{AllowUnauthenticated: true}))
	tests := []struct {
		path, ctype, cache string
		code               int
	}{
		{"/workbook", "text/html; charset=utf-8", "no-store", 200},
		{"/workbook/assets/app.js", "text/javascript; charset=utf-8", "no-cache", 200},
		{"/workbook/assets/app.css", "text/css; charset=utf-8", "no-cache", 200},
		{"/workbook/assets/vendor/chartjs-4.5.0/chart.umd.min.js", "text/javascript; charset=utf-8", "no-cache", 200},
		{"/workbook/assets/vendor/chartjs-4.5.0/SHA256SUMS", "", "", 404},
		{"/workbook/assets/vendor/chartjs-4.5.0/LICENSE.md", "", "", 404},
		{"/workbook/assets/templates/page.html", "", "", 404},
		{"/workbook/nothing", "", "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res := get(t, srv.URL+tc.path, nil)
			if res.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.code)
			}
			if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") ||
				res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("security headers missing: %v", res.Header)
			}
			if tc.code != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := res.Header.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
		})
	}
}

func TestAssetCaching(t *testing.T) {
	srv := startServer(t, NewAuth(AuthConfig{AllowUnauthenticated: true}))
	page, _ := io.ReadAll(get(t, srv.URL+"/workbook", nil).Body)
	i := strings.Index(string(page), "/workbook/assets/app.js?v=")
	if i < 0 {
		t.Fatal("the page does not link app.js with its version")
	}
	link := string(page[i:])
	link = link[:strings.IndexByte(link, '"')]
	res := get(t, srv.URL+link, nil)
	if res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("versioned asset Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	etag := res.Header.Get("ETag")
	if again := get(t, srv.URL+link, map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, again.StatusCode)
	}
	for _, inline := range []string{"<script>", "<style", " style=", " onclick=", " onload="} {
		if strings.Contains(string(page), inline) {
			t.Errorf("the page has inline script or style: %s", inline)
		}
	}
}

func TestSignIn(t *testing.T) {
	const token = "tok-1"
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	auth := NewAuth(AuthConfig{Tokens: []string{"other", token}, SessionTTL: time.Hour, Now: clock})
	srv := startServer(t, auth)
	api := srv.URL + "/workbook/api/summary?from=2026-11-26T00:00:00Z&to=2026-12-03T00:00:00Z&bucket=day"

	if res := get(t, srv.URL+"/workbook", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/workbook/login" {
		t.Errorf("page without a session: %d to %q, want 303 to /workbook/login", res.StatusCode, res.Header.Get("Location"))
	}
	if res := get(t, api, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API without a session: %d, want 401", res.StatusCode)
	}
	if res := get(t, api, map[string]string{"Authorization": "Bearer " + token}); res.StatusCode != http.StatusOK {
		t.Errorf("API with the bearer token: %d, want 200", res.StatusCode)
	}
	if res := postLogin(t, srv.URL, "nope"); res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Errorf("wrong token: %d with %d cookies, want 401 and none", res.StatusCode, len(res.Cookies()))
	}
	res := postLogin(t, srv.URL, token)
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) != 1 {
		t.Fatalf("right token: %d with %d cookies", res.StatusCode, len(res.Cookies()))
	}
	c := res.Cookies()[0]
	if c.Value == "" || strings.Contains(c.Value, token) || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode ||
		c.Path != "/workbook" || c.Secure || !c.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("cookie %+v: want an opaque HttpOnly SameSite=Strict Path=/workbook one expiring in an hour, not Secure over plain HTTP", c)
	}
	cookie := map[string]string{"Cookie": CookieName + "=" + c.Value}
	if res := get(t, api, cookie); res.StatusCode != http.StatusOK {
		t.Errorf("API with the session: %d, want 200", res.StatusCode)
	}
	if res := get(t, srv.URL+"/workbook", cookie); res.StatusCode != http.StatusOK {
		t.Errorf("page with the session: %d, want 200", res.StatusCode)
	}
	tampered := c.Value[:len(c.Value)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", c.Value[len(c.Value)-1])+1)%16])
	longer := strings.Replace(c.Value, "v1."+c.Value[3:13], "v1.9999999999", 1)
	for name, v := range map[string]string{"tampered MAC": tampered, "extended expiry": longer, "the token itself": token, "empty": ""} {
		if res := get(t, api, map[string]string{"Cookie": CookieName + "=" + v}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, res.StatusCode)
		}
	}
	now = now.Add(time.Hour)
	if res := get(t, api, cookie); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired session: %d, want 401", res.StatusCode)
	}
	// A token removed from the configuration ends its sessions.
	if NewAuth(AuthConfig{Tokens: []string{"other"}, Now: func() time.Time { return now.Add(-time.Minute) }}).validSession(c.Value) {
		t.Error("a session outlived its token's removal")
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	h, err := newServer(NewAuth(AuthConfig{Tokens: []string{"t"}}))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/workbook/login", strings.NewReader("token=t"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if cs := w.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("over TLS the cookie must be Secure: %+v", cs)
	}
}

func TestOpenNeedsNoSignIn(t *testing.T) {
	srv := startServer(t, NewAuth(AuthConfig{AllowUnauthenticated: true}))
	if res := get(t, srv.URL+"/workbook/login", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/workbook" {
		t.Errorf("open workbook's sign-in: %d to %q, want 303 to /workbook", res.StatusCode, res.Header.Get("Location"))
	}
	body, _ := io.ReadAll(get(t, srv.URL+"/workbook", nil).Body)
	if strings.Contains(string(body), "Sign out") {
		t.Error("an open workbook offers to sign out")
	}
}

func TestMountsArePublicRoutes(t *testing.T) {
	auth := NewAuth(AuthConfig{Tokens: []string{"t"}})
	page, err := NewPage(auth, PageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for pattern, h := range Mounts(auth, page, http.NotFoundHandler()) {
		if pr, ok := h.(interface{ PublicRoute() bool }); !ok || !pr.PublicRoute() {
			t.Errorf("mount %s is not a public route: the intake would demand a bearer header a browser cannot send", pattern)
		}
	}
}

func get(t *testing.T, u string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

func postLogin(t *testing.T, base, token string) *http.Response {
	t.Helper()
	res, err := noRedirect.PostForm(base+"/workbook/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestWrongSignInsAreSlowedPerAddress: after a burst of wrong tokens an address gets 429 with
// Retry-After, even with the right token (nothing is compared while it waits); another address is
// untouched, and after the wait the right token signs in.
func TestWrongSignInsAreSlowedPerAddress(t *testing.T) {
	const token = "tok-1"
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	h, err := newServer(NewAuth(AuthConfig{Tokens: []string{token}, Now: func() time.Time { return now }}))
	if err != nil {
		t.Fatal(err)
	}
	post := func(addr, tok string) *http.Response {
		r := httptest.NewRequest(http.MethodPost, "/workbook/login", strings.NewReader("token="+url.QueryEscape(tok)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	const attacker, colleague = "192.0.2.7:50001", "192.0.2.8:50002"
	for i := range signInBurst {
		if res := post(attacker, "guess"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d, want 401", i+1, res.StatusCode)
		}
	}
	// A new port is the same address.
	res := post("192.0.2.7:50009", token)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "12" || len(res.Cookies()) != 0 ||
		!strings.Contains(string(body), "Too many wrong tokens from this address: try again in 12 s.") {
		t.Errorf("after %d wrong tokens: %d, Retry-After %q, %d cookies, body %q; want 429, 12, none and the reason",
			signInBurst, res.StatusCode, res.Header.Get("Retry-After"), len(res.Cookies()), body)
	}
	if res := post(colleague, token); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another address with the right token: %d, want 303", res.StatusCode)
	}
	now = now.Add(signInEvery)
	if res := post(attacker, token); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after the wait, the right token: %d, want 303", res.StatusCode)
	}
	if res := post(attacker, "guess"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("one more wrong token after the wait: %d, want 401", res.StatusCode)
	}
	if res := post(attacker, "guess"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("and the next at once: %d, want 429", res.StatusCode)
	}
}

func TestSignInLimiterForgetsIdleAddresses(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	l := newSignInLimiter(func() time.Time { return now })
	for i := range signInAddrs {
		r := httptest.NewRequest(http.MethodPost, "/workbook/login", nil)
		r.RemoteAddr = "10." + strconv.Itoa(i/65536) + "." + strconv.Itoa(i/256%256) + "." + strconv.Itoa(i%256) + ":1"
		l.failed(r)
		now = now.Add(time.Millisecond)
	}
	r := httptest.NewRequest(http.MethodPost, "/workbook/login", nil)
	r.RemoteAddr = "192.0.2.1:1"
	l.failed(r)
	if n := len(l.per); n > signInAddrs/2+1 || n < 2 {
		t.Errorf("after %d addresses and one more, %d are remembered; want the newer half", signInAddrs, n)
	}
	if l.wait(r) != 0 {
		t.Error("one wrong token must not make the new address wait")
	}
}

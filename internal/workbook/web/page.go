// Package web is the workbook's page: the HTML, its scripts and styles and the vendored Chart.js, all
// embedded in the binary (no CDN, works air-gapped), and the sign-in that lets a browser in.
//
// Routes (mount them on the intake with Mounts):
//
//	GET  /workbook           the page; without a session, 303 to /workbook/login
//	GET  /workbook/login     the sign-in form (the intake's bearer token)
//	POST /workbook/login     sets the session cookie, 303 to /workbook; 401 with the form on a wrong token
//	POST /workbook/logout    clears it
//	GET  /workbook/assets/*  scripts, styles, Chart.js (no data, so no sign-in)
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed assets templates
var files embed.FS

// Page paths.
const (
	PathPage   = "/workbook"
	PathLogin  = "/workbook/login"
	PathLogout = "/workbook/logout"
	PathAssets = "/workbook/assets/"
	PathAPI    = "/workbook/api/"
)

// csp allows nothing but this origin's own files: no inline script or style, no frames, no plugins.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// chartJS is the vendored Chart.js, as templates/page.html links it.
const chartJS = "vendor/chartjs-4.5.0/chart.umd.min.js"

// maxLoginBody bounds the sign-in form: a token and nothing else.
const maxLoginBody = 4 << 10

// PageOptions are the page's settings.
type PageOptions struct {
	Logger *slog.Logger
}

type page struct {
	auth    *Auth
	signIns *signInLimiter
	log     *slog.Logger
	tmpl    *template.Template
	assets  *assets
}

// NewPage serves the page, the sign-in and the assets. The handler is a public mount (it checks its
// own credentials through auth); the API goes behind auth.RequireSession.
func NewPage(auth *Auth, opts PageOptions) (http.Handler, error) {
	tmpl, err := template.ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("workbook page templates: %w", err)
	}
	as, err := loadAssets(files)
	if err != nil {
		return nil, fmt.Errorf("workbook page assets: %w", err)
	}
	for _, name := range []string{"app.js", "app.css", chartJS} {
		if as.urls[name] == "" {
			return nil, fmt.Errorf("workbook page: embedded asset %s missing", name)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return publicRoute{&page{auth: auth, signIns: newSignInLimiter(auth.now), log: log, tmpl: tmpl, assets: as}}, nil
}

// Mounts are the intake mounts for the page and the API (api is wrapped with auth.RequireSession):
// pass them as intake.Options.Mounts.
func Mounts(auth *Auth, page, api http.Handler) map[string]http.Handler {
	return map[string]http.Handler{
		PathPage:       page,
		PathPage + "/": page,
		PathAPI:        auth.RequireSession(api),
	}
}

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, PathAssets):
		p.assets.serve(w, r, strings.TrimPrefix(path, PathAssets))
	case path == PathPage || path == PathPage+"/":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		if !p.auth.Authenticated(r) {
			http.Redirect(w, r, PathLogin, http.StatusSeeOther)
			return
		}
		p.render(w, http.StatusOK, "page.html", p.view(""))
	case path == PathLogin:
		p.serveLogin(w, r)
	case path == PathLogout:
		if allow(w, r, http.MethodPost) {
			http.SetCookie(w, p.cookie(r, "", time.Unix(0, 0)))
			http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		}
	default:
		http.NotFound(w, r)
	}
}

func (p *page) serveLogin(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodHead, http.MethodPost) {
		return
	}
	if p.auth.Open() {
		http.Redirect(w, r, PathPage, http.StatusSeeOther)
		return
	}
	if r.Method != http.MethodPost {
		p.render(w, http.StatusOK, "login.html", p.view(""))
		return
	}
	if wait := p.signIns.wait(r); wait > 0 {
		// Refused before the token is even compared, so a limited address learns nothing.
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		p.render(w, http.StatusTooManyRequests, "login.html",
			p.view(fmt.Sprintf("Too many wrong tokens from this address: try again in %d s.", secs)))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	idx := -1
	if err := r.ParseForm(); err == nil {
		idx = p.auth.tokenIndex(strings.TrimSpace(r.PostForm.Get("token")))
	}
	if idx < 0 {
		p.signIns.failed(r)
		p.log.Warn("workbook sign-in refused", "remote", r.RemoteAddr)
		p.render(w, http.StatusUnauthorized, "login.html", p.view("That token is not one of the intake's."))
		return
	}
	expires := p.auth.now().Add(p.auth.ttl)
	v, err := p.auth.newSession(idx, expires)
	if err != nil {
		p.log.Error("workbook session", "err", err)
		http.Error(w, "no session", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, p.cookie(r, v, expires))
	http.Redirect(w, r, PathPage, http.StatusSeeOther)
}

func (p *page) cookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: CookieName, Value: value, Path: PathPage, Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	}
}

type view struct {
	Error  string
	Open   bool
	Assets map[string]string // name → URL with its content hash
}

func (p *page) view(errMsg string) view {
	return view{Error: errMsg, Open: p.auth.Open(), Assets: p.assets.urls}
}

// render executes into a buffer first, so a template error is a 500, not half a page.
func (p *page) render(w http.ResponseWriter, code int, name string, v view) {
	var b bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&b, name, v); err != nil {
		p.log.Error("workbook template", "name", name, "err", err)
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

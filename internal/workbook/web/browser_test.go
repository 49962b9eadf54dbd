package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/internal/workbook/web/webtest"
)

// TestPageInBrowser loads the page in Chromium at desktop and phone width, checks every chart, cell and
// table against the fixture's Summary, and saves a screenshot of each.
func TestPageInBrowser(t *testing.T) {
	for _, vp := range []webtest.Viewport{webtest.Desktop, webtest.Phone} {
		t.Run(vp.Name, func(t *testing.T) {
			srv := startServer(t, NewAuth(AuthConfig{AllowUnauthenticated: true}))
			ctx, dialogs := webtest.Browser(t, vp)
			took := webtest.Check(ctx, t, srv.URL, fixtureSummary(workbook.Range{}))
			t.Logf("%s: page load (navigation start → all charts drawn): %v", vp.Name, took.Round(time.Millisecond))

			text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, hostile) || !strings.Contains(text, `<script>alert("impact")</script>`) {
				t.Errorf("the hostile strings are not shown literally")
			}
			href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#pending a')].map(a => a.href).join(' ')`))
			if err != nil || strings.Contains(href, "javascript:") {
				t.Errorf("a javascript: URL from the data became a link: %q (%v)", href, err)
			}
			checkDiffFails(t, ctx)
			checkLayout(t, ctx, vp)
			checkContrast(t, ctx)
			if d := dialogs.Opened(); len(d) > 0 {
				t.Errorf("the page opened dialogs %q: data ran as script", d)
			}
			webtest.Screenshot(ctx, t, "workbook-"+vp.Name)
			checkKeyboard(t, ctx)
		})
	}
}

// checkDiffFails proves the read-back can fail: a Summary off by one in each tile gives one
// difference per tile.
func checkDiffFails(t *testing.T, ctx context.Context) {
	t.Helper()
	cases := map[string]func(*workbook.Summary){
		"totals":        func(s *workbook.Summary) { s.Totals.Alerts++ },
		"byType":        func(s *workbook.Summary) { s.AlertsByType[1].Count++ },
		"byVendor":      func(s *workbook.Summary) { s.AlertsByVendor[0].Key = "Siemens AG" },
		"alerts":        func(s *workbook.Summary) { s.AlertsOverTime[3].Count++ },
		"incidents":     func(s *workbook.Summary) { s.IncidentsOverTime[0].Count++ },
		"matrix":        func(s *workbook.Summary) { s.Matrix[1].Techniques[1].Count++ },
		"tactics":       func(s *workbook.Summary) { s.TacticsOverTime[2].Points[6].Count++ },
		"open":          func(s *workbook.Summary) { s.OpenIncidents[1].Impact = "other" },
		"pending":       func(s *workbook.Summary) { s.Answers.Pending[0].Round++ },
		"playbooks":     func(s *workbook.Summary) { s.Playbooks[2].Open++ },
		"answers":       func(s *workbook.Summary) { s.Answers.Escalations++ },
		"pending links": func(s *workbook.Summary) { s.Links.PendingRuns += "x" },
	}
	for name, mutate := range cases {
		want := fixtureSummary(workbook.Range{})
		mutate(&want)
		diffs, err := webtest.Diff(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) == 0 {
			t.Errorf("%s: a wrong summary was not noticed", name)
		}
	}
}

// checkLayout asserts one column under 700 px and several above, and no sideways scrolling of the page.
func checkLayout(t *testing.T, ctx context.Context, vp webtest.Viewport) {
	t.Helper()
	type layout struct {
		Columns     int `json:"columns"`
		ScrollWidth int `json:"scrollWidth"`
		Width       int `json:"width"`
	}
	l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](`({
		columns: getComputedStyle(document.getElementById('main')).gridTemplateColumns.split(' ').length,
		scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth})`))
	if err != nil {
		t.Fatal(err)
	}
	if vp.Width < 700 && l.Columns != 1 || vp.Width >= 700 && l.Columns < 2 {
		t.Errorf("%s (%d px): %d grid columns", vp.Name, vp.Width, l.Columns)
	}
	if l.ScrollWidth > l.Width {
		t.Errorf("%s: the page scrolls sideways (%d > %d px)", vp.Name, l.ScrollWidth, l.Width)
	}
}

// contrast computes, for every text element the page draws, the WCAG contrast ratio of its colour
// against the first opaque background behind it, and returns those under 4.5:1.
const contrast = `(() => {
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || c[3] > 0) return c; } return [255, 255, 255]; };
  const low = []; let checked = 0;
  document.querySelectorAll('h1, h2, dt, dd, th, td, td span, td a, caption, summary, a, label, button, select, .status, .legend .key').forEach(e => {
    if (!e.offsetParent && e.tagName !== 'BODY') return;
    const f = lum(rgb(getComputedStyle(e).color)), b = lum(bg(e));
    const r = (Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05);
    if (r > 0) checked++;
    if (r < 4.5) low.push(e.tagName + '.' + e.className + ' "' + e.textContent.slice(0, 20) + '" ' + r.toFixed(2));
  });
  return {low, checked};
})()`

func checkContrast(t *testing.T, ctx context.Context) {
	t.Helper()
	type result struct {
		Low     []string `json:"low"`
		Checked int      `json:"checked"`
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[result](contrast))
	if err != nil {
		t.Fatal(err)
	}
	if r.Checked < 100 {
		t.Errorf("contrast measured on %d elements only", r.Checked)
	}
	if len(r.Low) > 0 {
		t.Errorf("text under 4.5:1 contrast: %v", r.Low)
	}
}

// checkKeyboard asserts the range selector is reached with Tab from the top of the page.
func checkKeyboard(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), true`)); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for range 4 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
		if err != nil {
			t.Fatal(err)
		}
		if seen = append(seen, id); id == "range-preset" {
			return
		}
	}
	t.Errorf("Tab went %v without reaching the range selector", seen)
}

func startServer(t *testing.T, auth *Auth) *httptest.Server {
	t.Helper()
	h, err := newServer(auth)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestSignInInBrowser: without a session the page sends the browser to the sign-in and the API answers
// 401; a wrong token is refused; the right one shows the data.
func TestSignInInBrowser(t *testing.T) {
	const token = "s3cret-intake-token"
	srv := startServer(t, NewAuth(AuthConfig{Tokens: []string{token}}))
	ctx, _ := webtest.Browser(t, webtest.Desktop)

	res, err := http.Get(srv.URL + "/workbook/api/summary?from=2026-11-26T00:00:00Z&to=2026-12-03T00:00:00Z&bucket=day")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API without a session: %d, want 401", res.StatusCode)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/workbook")); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/workbook/login") {
		t.Fatalf("without a session the page is at %q (%v), want /workbook/login", loc, err)
	}
	signIn := func(tok string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("token"), tok), chromedp.Submit(chromedp.ID("token"))); err != nil {
			t.Fatal(err)
		}
	}
	signIn("wrong-token")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("signin-error"))); err != nil {
		t.Fatalf("no error shown for a wrong token: %v", err)
	}
	signIn(token)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("range-preset"))); err != nil {
		t.Fatal(err)
	}
	webtest.Check(ctx, t, srv.URL, fixtureSummary(workbook.Range{}))
	cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil || cookies != "" {
		t.Errorf("the session cookie is readable from script (%q, %v): it must be HttpOnly", cookies, err)
	}
}

package web

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/internal/workbook/web/webtest"
)

// TestRangeAndPrint: a custom range of a day asks for hourly buckets and 90 days for daily ones; in
// print the controls are hidden and the tables printed, and the page prints to an A4 PDF.
func TestRangeAndPrint(t *testing.T) {
	srv := startServer(t, NewAuth(AuthConfig{AllowUnauthenticated: true}))
	ctx, _ := webtest.Browser(t, webtest.Desktop)
	webtest.Load(ctx, t, srv.URL+"/workbook")

	ranges := []struct {
		name, script, bucket string
	}{
		{"custom day", `document.getElementById('range-preset').value = 'custom';
			document.getElementById('range-from').value = '2026-12-01T00:00';
			document.getElementById('range-to').value = '2026-12-02T00:00';
			document.querySelector('#range button').click()`, "hour"},
		{"90 days", `const s = document.getElementById('range-preset'); s.value = '90d'; s.dispatchEvent(new Event('change'))`, "day"},
	}
	for _, r := range ranges {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](r.script+`; true`)); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Poll[string](
			`document.body.dataset.ready === '1' && window.workbook.summary.range.bucket === '`+r.bucket+`' && window.workbook.summary.range.bucket`))
		if err != nil || got != r.bucket {
			t.Errorf("%s: bucket %q (%v), want %q", r.name, got, err, r.bucket)
		}
	}
	if d, err := webtest.Diff(ctx, fixtureSummary(workbook.Range{})); err != nil || len(d) > 0 {
		t.Errorf("after changing the range: %v %v", d, err)
	}

	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById('range')).display === 'none'`))
	if err != nil || !hidden {
		t.Errorf("in print the range controls still show (%v)", err)
	}
	// What a reviewer can look at: the print layout at A4 width, the tables opened as for printing.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(794, 1123)); err != nil {
		t.Fatal(err)
	}
	opened, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.dispatchEvent(new Event('beforeprint')), document.querySelectorAll('details:not([open])').length`))
	if err != nil || opened != 0 {
		t.Errorf("before print %d chart tables still closed (%v), want none", opened, err)
	}
	webtest.Screenshot(ctx, t, "workbook-print")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.dispatchEvent(new Event('afterprint')), true`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	yes := true
	pdf, err := chromedp.Call(ctx, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PreferCSSPageSize: &yes, PrintBackground: &yes})
	if err != nil || !bytes.HasPrefix(pdf.Data, []byte("%PDF")) {
		t.Fatalf("print to PDF: %v", err)
	}
	p := filepath.Join(webtest.ScreenshotDir(t), "workbook-print.pdf")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, pdf.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("print: %s (%d KiB)", p, len(pdf.Data)/1024)
}

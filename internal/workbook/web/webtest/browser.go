// Package webtest drives the workbook page in headless Chromium (Debian's chromium package) and checks
// what it drew against a workbook.Summary. The page's own tests use it on a fixture; a stack test can
// use the same assertions on the real store: Browser, then Check with the store's own Summary.
package webtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser (scripts/ensure-chromium.sh).
const ChromiumPath = "/usr/bin/chromium"

// Viewports the page is checked at.
var (
	Desktop = Viewport{Name: "desktop", Width: 1366, Height: 900}
	Phone   = Viewport{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// Viewport is a window size to load the page at.
type Viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// Browser starts a fresh headless Chromium for t and returns a tab's context, closed when t ends. It
// skips t when Chromium is missing, unless INTERLOCK_REQUIRE_BROWSER is set (make test sets it), and
// then fails instead. Every JavaScript dialog the page opens is dismissed and counted in *dialogs.
func Browser(t testing.TB, vp Viewport) (ctx context.Context, dialogs *Dialogs) {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("INTERLOCK_REQUIRE_BROWSER") == "" {
			t.Skipf("no %s (run scripts/ensure-chromium.sh); INTERLOCK_REQUIRE_BROWSER is unset, so skipping", ChromiumPath)
		}
		t.Fatalf("INTERLOCK_REQUIRE_BROWSER is set but %s is missing: run scripts/ensure-chromium.sh", ChromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(vp.Width), int(vp.Height)),
	)
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	timed, cancelTimed := context.WithTimeout(tab, 2*time.Minute)
	t.Cleanup(func() { cancelTimed(); cancelTab(); cancelAlloc() })

	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(timed, chromedp.EmulateViewport(vp.Width, vp.Height, opts...)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dialogs = &Dialogs{}
	go dialogs.dismiss(timed)
	return timed, dialogs
}

// Dialogs counts the alert/confirm/prompt dialogs a page opened: a hostile string that ran as script
// would open one.
type Dialogs struct {
	mu       sync.Mutex
	messages []string
}

func (d *Dialogs) dismiss(ctx context.Context) {
	for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
		if err != nil {
			return
		}
		d.mu.Lock()
		d.messages = append(d.messages, ev.Message)
		d.mu.Unlock()
		_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
	}
}

// Opened returns the messages of the dialogs seen so far.
func (d *Dialogs) Opened() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.messages...)
}

// ScreenshotDir is where screenshots go: $INTERLOCK_SCREENSHOTS, else <repo>/.artifacts/workbook.
func ScreenshotDir(t testing.TB) string {
	if d := os.Getenv("INTERLOCK_SCREENSHOTS"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	// file is <repo>/internal/workbook/web/webtest/browser.go.
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", ".artifacts", "workbook")
}

// Screenshot saves a full-page PNG of the tab as <ScreenshotDir>/<name>.png and returns its path.
func Screenshot(ctx context.Context, t testing.TB, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := ScreenshotDir(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	p, err := filepath.Abs(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot %s: %s (%d KiB)", name, p, len(png)/1024)
	return p
}

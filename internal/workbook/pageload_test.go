package workbook_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/interlock-soar/interlock/internal/workbook"
	"github.com/interlock-soar/interlock/internal/workbook/web"
	"github.com/interlock-soar/interlock/internal/workbook/web/webtest"
)

// BenchmarkPageLoad100kAlerts loads /workbook in headless Chromium over a store of 100,000 alerts
// (the last 60 days) and times, as the page measures it, the choice of the 90-day range until every
// chart is drawn: the summary query, the JSON, and the rendering of every tile. ms/load is the figure.
func BenchmarkPageLoad100kAlerts(b *testing.B) {
	s := workbook.OpenTestStore(b)
	workbook.SeedBulk(b, s, 100_000, time.Now().Add(-60*24*time.Hour))
	auth := web.NewAuth(web.AuthConfig{AllowUnauthenticated: true})
	page, err := web.NewPage(auth, web.PageOptions{})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	for path, h := range web.Mounts(auth, page, workbook.NewAPI(s, workbook.APIOptions{})) {
		mux.Handle(path, h)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, _ := webtest.Browser(b, webtest.Desktop)
	webtest.Load(ctx, b, srv.URL+"/workbook")
	var total time.Duration
	var fetchMs, renderMs float64
	b.ResetTimer()
	for range b.N {
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`new Promise(function (done) {
			var sel = document.getElementById('range-preset');
			sel.value = sel.value === '90d' ? '30d' : '90d';
			var began = performance.now();
			sel.dispatchEvent(new Event('change'));
			(function wait() {
				if (document.body.dataset.ready === '1') { done(performance.now() - began); } else { setTimeout(wait, 5); }
			})();
		})`, chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		total += time.Duration(ms * float64(time.Millisecond))
		split, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[window.workbook.timing.fetchMs, window.workbook.timing.renderMs]`))
		if err != nil || len(split) != 2 {
			b.Fatalf("the page kept no timing (%v)", err)
		}
		fetchMs, renderMs = fetchMs+split[0], renderMs+split[1]
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/load")
	b.ReportMetric(fetchMs/float64(b.N), "ms/fetch")
	b.ReportMetric(renderMs/float64(b.N), "ms/render")
	b.StopTimer()
	alerts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.workbook.summary.totals.alerts`))
	if err != nil || alerts < 40_000 {
		b.Fatalf("the page drew %d alerts (%v): the range missed the seeded store", alerts, err)
	}
}

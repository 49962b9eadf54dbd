package workbook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAPI(t *testing.T) {
	s := openTestStore(t)
	seed(t, s)
	now := t0.Add(3 * 24 * time.Hour)
	srv := httptest.NewServer(NewAPI(s, APIOptions{Now: func() time.Time { return now }}))
	defer srv.Close()
	cases := []struct {
		name, query string
		code        int
		bucket      Bucket
		errPart     string
	}{
		{"default last 7 days by day", "", 200, BucketDay, ""},
		{"short range is hourly", "?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", 200, BucketHour, ""},
		{"explicit day", "?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&bucket=day", 200, BucketDay, ""},
		{"from after to", "?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", 400, "", "before"},
		{"from equals to", "?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", 400, "", "before"},
		{"too long", "?from=2024-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", 400, "", "400 days"},
		{"bad time", "?from=yesterday", 400, "", "RFC 3339"},
		{"bad bucket", "?bucket=week", 400, "", "bucket"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + APIPrefix + "summary" + c.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.code || resp.Header.Get("Cache-Control") != "no-store" ||
				resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d cache %q type %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
			}
			if c.code != 200 {
				var e struct{ Error string }
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || !strings.Contains(e.Error, c.errPart) {
					t.Errorf("error body %q (%v), want it to mention %q", e.Error, err, c.errPart)
				}
				return
			}
			var raw map[string]json.RawMessage
			if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"range", "totals", "alertsByType", "alertsOverTime", "matrix", "tacticsOverTime",
				"openIncidents", "playbooks", "answers", "links"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("no %q in the summary", k)
				}
			}
			var sum Summary
			b, _ := json.Marshal(raw)
			if err := json.Unmarshal(b, &sum); err != nil || sum.Range.Bucket != c.bucket {
				t.Errorf("bucket %q (%v), want %q", sum.Range.Bucket, err, c.bucket)
			}
		})
	}
	resp, err := http.Post(srv.URL+APIPrefix+"summary", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d", resp.StatusCode)
	}
}

type failingSource struct{}

func (failingSource) Summary(context.Context, Range) (Summary, error) {
	return Summary{}, context.DeadlineExceeded
}

func TestAPIStoreErrorIs500WithoutDetail(t *testing.T) {
	rec := httptest.NewRecorder()
	NewAPI(failingSource{}, APIOptions{}).ServeHTTP(rec, httptest.NewRequest("GET", APIPrefix+"summary", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "deadline") {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"", "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z", "bucket=hour", "from=9999-12-31T23:59:59Z",
		"from=0001-01-01T00:00:00Z&bucket=day", "to=2026-03-01T00:00:00+14:00&bucket=hour"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, err := ParseRange(q, now)
		if err != nil {
			return
		}
		if !r.From.Before(r.To) || r.To.Sub(r.From) > MaxSpan || (r.Bucket != BucketHour && r.Bucket != BucketDay) {
			t.Fatalf("accepted a bad range %+v", r)
		}
		if n := r.buckets(); n < 1 || n > 31*24+1 && r.Bucket == BucketHour || n > 402 {
			t.Fatalf("%d buckets for %+v", n, r)
		}
	})
}

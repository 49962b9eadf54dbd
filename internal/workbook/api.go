package workbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// APIPrefix is the mount key of the API on the intake (intake Options.Mounts); the page's own mount
// ("/workbook" and its assets) sits beside it.
const APIPrefix = "/workbook/api/"

// Range limits of the summary API.
const (
	DefaultSpan = 7 * 24 * time.Hour
	MaxSpan     = 400 * 24 * time.Hour
	// HourlyUpTo is the longest range whose default bucket is an hour.
	HourlyUpTo = 48 * time.Hour
)

// APIOptions configure NewAPI.
type APIOptions struct {
	Logger *slog.Logger
	// Now is the clock for the default range; nil means time.Now.
	Now func() time.Time
}

type api struct {
	src Source
	log *slog.Logger
	now func() time.Time
}

// NewAPI serves GET /workbook/api/summary from src.
func NewAPI(src Source, opts APIOptions) http.Handler {
	a := &api{src: src, log: opts.Logger, now: opts.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path != APIPrefix+"summary" {
		writeJSONError(w, http.StatusNotFound, "no such workbook API: GET "+APIPrefix+"summary")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSONError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	rng, err := ParseRange(r.URL.Query(), a.now())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	sum, err := a.src.Summary(r.Context(), rng)
	if err != nil {
		a.log.Error("workbook summary failed", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "the workbook store could not answer; see the intake log")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(sum)
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// ParseRange reads from, to (RFC 3339) and bucket (hour or day) from a query. Missing from/to mean the
// last seven days up to now; a missing bucket is an hour for ranges up to 48 h, else a day.
func ParseRange(q url.Values, now time.Time) (Range, error) {
	to, err := parseTime(q, "to", now)
	if err != nil {
		return Range{}, err
	}
	from, err := parseTime(q, "from", to.Add(-DefaultSpan))
	if err != nil {
		return Range{}, err
	}
	switch span := to.Sub(from); {
	case span <= 0:
		return Range{}, errors.New("from must be before to")
	case span > MaxSpan:
		return Range{}, fmt.Errorf("the range is longer than %d days", int(MaxSpan.Hours()/24))
	}
	rng := Range{From: from.UTC(), To: to.UTC()}
	switch b := q.Get("bucket"); b {
	case "":
		rng.Bucket = BucketDay
		if to.Sub(from) <= HourlyUpTo {
			rng.Bucket = BucketHour
		}
	case string(BucketHour), string(BucketDay):
		rng.Bucket = Bucket(b)
	default:
		return Range{}, errors.New(`bucket must be "hour" or "day"`)
	}
	if rng.Bucket == BucketHour && rng.To.Sub(rng.From) > 31*24*time.Hour {
		return Range{}, errors.New("hourly buckets cover at most 31 days; use bucket=day")
	}
	return rng, nil
}

func parseTime(q url.Values, key string, def time.Time) (time.Time, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", key)
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%s is out of range", key)
	}
	return t, nil
}

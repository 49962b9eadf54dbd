package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/safetext"
	"github.com/interlock-soar/interlock/internal/snowstandin"
)

// errRetryable marks an intake answer the sender should retry: 503 and 429 (the intake's own
// "Temporal unavailable" and overload answers) and transport errors.
var errRetryable = errors.New("retryable")

// intakeClient posts incidents to the intake, as Sentinel's automation would; with several intakes
// (replicas behind an address list) it takes them in turn.
type intakeClient struct {
	http  *http.Client
	urls  []string // the intakes' base URLs
	token string   // bearer token; empty for an intake without auth (dev)
	next  atomic.Uint64
}

func newIntakeClient(hc *http.Client, urls []string, token string) *intakeClient {
	return &intakeClient{http: hc, urls: urls, token: token}
}

// url is the next intake's base URL, round robin.
func (c *intakeClient) url() string {
	return c.urls[(c.next.Add(1)-1)%uint64(len(c.urls))]
}

// post sends one incident and returns the runs the intake started or found. A 503 or 429 wraps
// errRetryable and carries the answer's Retry-After (0 when it has none).
func (c *intakeClient) post(ctx context.Context, body []byte) (intake.Response, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url()+"/v1/incidents", bytes.NewReader(body))
	if err != nil {
		return intake.Response{}, 0, fmt.Errorf("intake request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return intake.Response{}, 0, fmt.Errorf("%w: post incident: %w", errRetryable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return intake.Response{}, 0, fmt.Errorf("%w: read intake answer: %w", errRetryable, err)
	}
	switch resp.StatusCode {
	case http.StatusAccepted:
		var r intake.Response
		if err := json.Unmarshal(data, &r); err != nil {
			return intake.Response{}, 0, fmt.Errorf("decode intake answer: %w", err)
		}
		return r, 0, nil
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return intake.Response{}, retryAfter(resp.Header), fmt.Errorf("%w: intake answered %s: %s", errRetryable, resp.Status, snippet(data))
	case http.StatusOK:
		return intake.Response{}, 0, errors.New("intake started no playbook (200): the rules did not select one; are the default rules loaded?")
	}
	return intake.Response{}, 0, fmt.Errorf("intake answered %s: %s", resp.Status, snippet(data))
}

// retryAfter reads a Retry-After in seconds, the form the intake sends; 0 when absent or another form.
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// alertAnswer is the intake's answer to one POST /v1/alerts.
type alertAnswer struct {
	resp       intake.AlertsResponse
	status     int
	retryAfter time.Duration
}

// postAlerts sends one alert batch. An answer with a records list (202, 200, 503, 500) is returned
// with a nil error, whatever its status; the caller resends a 503's batch. 429 and transport errors
// wrap errRetryable.
func (c *intakeClient) postAlerts(ctx context.Context, body []byte, ndjson bool) (alertAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url()+"/v1/alerts", bytes.NewReader(body))
	if err != nil {
		return alertAnswer{}, fmt.Errorf("intake request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if ndjson {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return alertAnswer{}, fmt.Errorf("%w: post alerts: %w", errRetryable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return alertAnswer{status: resp.StatusCode}, fmt.Errorf("%w: read intake answer: %w", errRetryable, err)
	}
	ans := alertAnswer{status: resp.StatusCode, retryAfter: retryAfter(resp.Header)}
	switch resp.StatusCode {
	case http.StatusAccepted, http.StatusOK, http.StatusServiceUnavailable, http.StatusInternalServerError:
		if err := json.Unmarshal(data, &ans.resp); err == nil && ans.resp.Records != nil {
			return ans, nil
		}
		if resp.StatusCode == http.StatusServiceUnavailable {
			return ans, fmt.Errorf("%w: intake answered %s: %s", errRetryable, resp.Status, snippet(data))
		}
	case http.StatusTooManyRequests:
		return ans, fmt.Errorf("%w: intake answered %s: %s", errRetryable, resp.Status, snippet(data))
	case http.StatusNotFound:
		return ans, fmt.Errorf("intake answered %s: %s (an intake without POST /v1/alerts, or without the incident layer?)", resp.Status, snippet(data))
	}
	return ans, fmt.Errorf("intake answered %s: %s", resp.Status, snippet(data))
}

// ready checks every intake's /readyz.
func (c *intakeClient) ready(ctx context.Context) error {
	var errs []error
	for _, u := range c.urls {
		if err := getOK(ctx, c.http, u+"/readyz", nil); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u, err))
		}
	}
	return errors.Join(errs...)
}

func snippet(b []byte) string { return safetext.Line(string(b), 300) }

func getOK(ctx context.Context, hc *http.Client, u string, prepare func(*http.Request)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if prepare != nil {
		prepare(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", redactURL(u), resp.Status, snippet(data))
	}
	return nil
}

// redactURL drops a URL's query, which may carry search terms nobody needs in an error.
func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// ticket is one ServiceNow record the bench found.
type ticket struct {
	SysID   string
	Key     string
	Created time.Time
}

// snowClient reads tickets from the ServiceNow Table API (the dev stand-in, or an instance).
type snowClient struct {
	// coarse is set once a ticket had no exact creation time (a real instance, or an older stand-in).
	coarse   atomic.Bool
	http     *http.Client
	url      string
	table    string
	user     string
	password string
}

func (c *snowClient) auth(req *http.Request) {
	req.Header.Set("Accept", "application/json")
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
}

// check makes one authenticated read, so bad credentials fail the bench before it posts anything.
func (c *snowClient) check(ctx context.Context) error {
	return getOK(ctx, c.http, c.url+"/api/now/table/"+url.PathEscape(c.table)+"?sysparm_limit=1&sysparm_fields=sys_id", c.auth)
}

// tickets lists the records whose description mentions marker (the run's incident-ID prefix: every
// ticket's description names the incident that created it), from offset on. Records come in creation
// order, so a poller resumes at the count it has already seen.
//
// The stand-in stamps snowstandin.CreatedAtField with the exact creation time; a real instance lacks it,
// and the bench falls back to sys_created_on (whole seconds, UTC).
func (c *snowClient) tickets(ctx context.Context, marker string, offset int) ([]ticket, error) {
	q := url.Values{
		"sysparm_query":  {"descriptionLIKE" + marker},
		"sysparm_fields": {"sys_id,correlation_id,sys_created_on," + snowstandin.CreatedAtField},
		"sysparm_offset": {strconv.Itoa(offset)},
		"sysparm_limit":  {"10000"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/api/now/table/"+url.PathEscape(c.table)+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("servicenow: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("servicenow list %s: %s: %s", c.table, resp.Status, snippet(data))
	}
	var out struct {
		Result []map[string]string `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("servicenow list %s: decode: %w", c.table, err)
	}
	list := make([]ticket, 0, len(out.Result))
	for _, r := range out.Result {
		t, err := time.Parse(time.RFC3339Nano, r[snowstandin.CreatedAtField])
		if err != nil {
			c.coarse.Store(true)
			t, err = time.Parse("2006-01-02 15:04:05", r["sys_created_on"])
		}
		if err != nil {
			t = time.Time{} // counted, but without a latency
		}
		list = append(list, ticket{SysID: r["sys_id"], Key: r["correlation_id"], Created: t})
	}
	return list, nil
}

// email is one message the bench found in Mailpit.
type email struct {
	ID      string
	Subject string
	Created time.Time
}

// mailpitClient searches Mailpit's REST API.
type mailpitClient struct {
	http *http.Client
	url  string // Mailpit base URL (web UI and API), e.g. http://127.0.0.1:8025
}

func (c *mailpitClient) check(ctx context.Context) error {
	return getOK(ctx, c.http, c.url+"/api/v1/info", nil)
}

// search returns one page of the messages matching query, newest first, and how many match.
func (c *mailpitClient) search(ctx context.Context, query string, start, limit int) ([]email, int, error) {
	q := url.Values{"query": {query}, "start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(limit)}}
	return c.page(ctx, "/api/v1/search?"+q.Encode())
}

// list returns one page of the mailbox, newest first, and how many messages it holds.
func (c *mailpitClient) list(ctx context.Context, start, limit int) ([]email, int, error) {
	q := url.Values{"start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(limit)}}
	return c.page(ctx, "/api/v1/messages?"+q.Encode())
}

func (c *mailpitClient) page(ctx context.Context, pathAndQuery string) ([]email, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+pathAndQuery, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("mailpit: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, 0, fmt.Errorf("mailpit %s: %s: %s", redactURL(pathAndQuery), resp.Status, snippet(data))
	}
	var out struct {
		Total    int `json:"messages_count"`
		Messages []struct {
			ID      string    `json:"ID"`
			Subject string    `json:"Subject"`
			Created time.Time `json:"Created"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, 0, fmt.Errorf("mailpit %s: decode: %w", redactURL(pathAndQuery), err)
	}
	list := make([]email, len(out.Messages))
	for i, m := range out.Messages {
		list[i] = email{ID: m.ID, Subject: m.Subject, Created: m.Created}
	}
	return list, out.Total, nil
}

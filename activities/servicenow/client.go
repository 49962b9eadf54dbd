// Package servicenow is a client for the ServiceNow Table API (/api/now/table) on go-retryablehttp.
//
// Credentials are given once, to New; they travel only in the Authorization header and never appear
// in a URL, an error or a log line. Retries are bounded and safe: reads retry on 429, 5xx and
// connection errors; writes (POST, PATCH) retry only when the request certainly had no effect (429,
// 503, a connection that was never made), because a write whose response was lost may have happened.
// Callers make writes idempotent themselves (look up by correlation_id first).
package servicenow

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Config configures a Client. Zero durations take the defaults noted.
type Config struct {
	// InstanceURL is the instance root, e.g. https://acme.service-now.com. It must not carry credentials.
	InstanceURL string
	// Username and Password are for basic auth; Token, when set, is sent as a bearer token instead.
	Username string
	Password string
	Token    string
	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration
	// RetryMax is the number of in-request retries (0: none).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the wait between retries (defaults 500ms and 10s). A server
	// asking for a longer Retry-After is not waited for here: the error carries it to the caller.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// Logger receives debug lines about requests (method, path, status); nil logs nothing.
	Logger *slog.Logger
}

// Client calls the Table API. It is safe for concurrent use.
type Client struct {
	base   string
	auth   string
	http   *retryablehttp.Client
	logger *slog.Logger
	maxRA  time.Duration
}

// Record is one record, every value as a string. Non-string JSON values are kept as their JSON text,
// or as the display_value (else value) of a {"display_value","value"} object.
type Record map[string]string

const maxBody = 10 << 20

// New makes a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.InstanceURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("servicenow: instance URL must be an absolute http(s) URL")
	}
	if u.User != nil {
		return nil, errors.New("servicenow: instance URL must not contain credentials; set username and password (or token) instead")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("servicenow: instance URL must not have a query or fragment")
	}
	var auth string
	switch {
	case cfg.Token != "":
		auth = "Bearer " + cfg.Token
	case cfg.Username != "" && cfg.Password != "":
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	default:
		return nil, errors.New("servicenow: no credentials: set username and password, or a token")
	}
	if cfg.RetryMax < 0 {
		return nil, errors.New("servicenow: RetryMax must not be negative")
	}
	if cfg.Timeout < 0 || cfg.RetryWaitMin < 0 || cfg.RetryWaitMax < 0 {
		return nil, errors.New("servicenow: durations must not be negative")
	}
	timeout := cmp.Or(cfg.Timeout, 10*time.Second)
	waitMin := cmp.Or(cfg.RetryWaitMin, 500*time.Millisecond)
	waitMax := max(cmp.Or(cfg.RetryWaitMax, 10*time.Second), waitMin)

	transport := http.DefaultTransport.(*http.Transport).Clone()
	c := &Client{
		base:   strings.TrimRight(u.String(), "/"),
		auth:   auth,
		logger: cfg.Logger,
		maxRA:  waitMax,
	}
	rc := &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			// A redirect from the Table API is a misconfiguration (a login page, a proxy); following
			// it would only hide that, so it surfaces as an unexpected status.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: waitMin,
		RetryWaitMax: waitMax,
		RetryMax:     cfg.RetryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	// retryablehttp logs method and URL (never headers); the URL has no credentials by construction.
	if cfg.Logger != nil {
		rc.Logger = cfg.Logger
	}
	c.http = rc
	return c, nil
}

// Create inserts a record: POST /api/now/table/{table}, 201 with the record.
func (c *Client) Create(ctx context.Context, table string, fields map[string]string) (Record, error) {
	if err := checkTable(table); err != nil {
		return nil, err
	}
	if err := checkFields(fields); err != nil {
		return nil, err
	}
	var out Record
	err := c.do(ctx, http.MethodPost, "/api/now/table/"+url.PathEscape(table), baseParams(), fields, &out)
	return out, err
}

// Update changes fields of a record: PATCH /api/now/table/{table}/{sys_id}. Journal fields
// (work_notes, comments) append an entry, so an Update is not idempotent and is never retried after
// an ambiguous failure.
func (c *Client) Update(ctx context.Context, table, sysID string, fields map[string]string) (Record, error) {
	if err := checkTable(table); err != nil {
		return nil, err
	}
	if !ValidSysID(sysID) {
		return nil, fmt.Errorf("servicenow: %s is not a sys_id (32 hex digits)", quote(sysID))
	}
	if err := checkFields(fields); err != nil {
		return nil, err
	}
	var out Record
	err := c.do(ctx, http.MethodPatch, "/api/now/table/"+url.PathEscape(table)+"/"+url.PathEscape(sysID), baseParams(), fields, &out)
	return out, err
}

// Query lists up to limit (1 to 10000) records matching q, with only the given fields (all when empty).
// ServiceNow drops query parts it finds invalid instead of failing, so check the returned values of
// the fields you matched on.
func (c *Client) Query(ctx context.Context, table string, q Query, fields []string, limit int) ([]Record, error) {
	if err := checkTable(table); err != nil {
		return nil, err
	}
	encoded, err := q.Encode()
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > 10000 {
		return nil, fmt.Errorf("servicenow: limit %d out of range 1..10000", limit)
	}
	params := baseParams()
	if encoded != "" {
		params.Set("sysparm_query", encoded)
	}
	if err := setFields(params, fields); err != nil {
		return nil, err
	}
	params.Set("sysparm_limit", strconv.Itoa(limit))
	var out []Record
	err = c.do(ctx, http.MethodGet, "/api/now/table/"+url.PathEscape(table), params, nil, &out)
	return out, err
}

// Get reads one record: GET /api/now/table/{table}/{sys_id}. With displayValues, reference, choice and
// journal fields come back as display text (sysparm_display_value=true); that is the only way the
// Table API shows a record's work notes.
func (c *Client) Get(ctx context.Context, table, sysID string, fields []string, displayValues bool) (Record, error) {
	if err := checkTable(table); err != nil {
		return nil, err
	}
	if !ValidSysID(sysID) {
		return nil, fmt.Errorf("servicenow: %s is not a sys_id (32 hex digits)", quote(sysID))
	}
	params := baseParams()
	if err := setFields(params, fields); err != nil {
		return nil, err
	}
	params.Set("sysparm_display_value", strconv.FormatBool(displayValues))
	var out Record
	err := c.do(ctx, http.MethodGet, "/api/now/table/"+url.PathEscape(table)+"/"+url.PathEscape(sysID), params, nil, &out)
	return out, err
}

// RecordURL is the link a person opens to see a record in the instance's UI.
func RecordURL(instanceURL, table, sysID string) string {
	return strings.TrimRight(instanceURL, "/") + "/nav_to.do?uri=" + url.QueryEscape(table+".do?sys_id="+sysID)
}

func baseParams() url.Values {
	// Reference fields as plain sys_ids rather than {"link","value"} objects.
	return url.Values{"sysparm_exclude_reference_link": {"true"}}
}

func setFields(params url.Values, fields []string) error {
	if len(fields) == 0 {
		return nil
	}
	for _, f := range fields {
		if err := checkField(f); err != nil {
			return err
		}
	}
	params.Set("sysparm_fields", strings.Join(fields, ","))
	return nil
}

func checkTable(table string) error {
	if !ValidTable(table) {
		return fmt.Errorf("servicenow: %s is not a table name (lower-case letters, digits and '_')", quote(table))
	}
	return nil
}

func checkFields(fields map[string]string) error {
	if len(fields) == 0 {
		return errors.New("servicenow: no fields to write")
	}
	for k := range fields {
		if !ValidField(k) {
			return fmt.Errorf("servicenow: %s is not a field name (lower-case letters, digits and '_')", quote(k))
		}
	}
	return nil
}

type writeKey struct{}

func (c *Client) do(ctx context.Context, method, path string, params url.Values, body any, out any) error {
	// The retry policy only sees the context, so the context says whether this is a write.
	ctx = context.WithValue(ctx, writeKey{}, method != http.MethodGet && method != http.MethodHead)
	req, err := c.newRequest(ctx, method, path, params, body)
	if err != nil {
		return err
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		// A *url.Error repeats the whole URL; the path is enough and keeps query values out of errors.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return fmt.Errorf("servicenow: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if c.logger != nil {
		c.logger.DebugContext(ctx, "servicenow response", "method", method, "path", path, "status", resp.StatusCode, "duration", time.Since(start))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("servicenow: %s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(method, path, resp, data)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &env); err != nil || len(env.Result) == 0 {
		return fmt.Errorf("servicenow: %s %s: status %d but not a Table API JSON response (content type %q)",
			method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := decodeResult(env.Result, out); err != nil {
		return fmt.Errorf("servicenow: %s %s: %w", method, path, err)
	}
	return nil
}

// newRequest builds a Table API request with a JSON body (none when body is nil).
func (c *Client) newRequest(ctx context.Context, method, path string, params url.Values, body any) (*retryablehttp.Request, error) {
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("servicenow: encode %s body: %w", method, err)
		}
		raw = b
	}
	u := c.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	// A nil []byte in an interface is not a nil body to retryablehttp.
	var rawBody any
	if raw != nil {
		rawBody = raw
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u, rawBody)
	if err != nil {
		return nil, fmt.Errorf("servicenow: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("User-Agent", "interlock")
	return req, nil
}

// decodeResult decodes a Table API result into out, a *Record or a *[]Record; other outs ignore it.
func decodeResult(result json.RawMessage, out any) error {
	switch o := out.(type) {
	case *Record:
		r, err := decodeRecord(result)
		if err != nil {
			return err
		}
		*o = r
	case *[]Record:
		var items []json.RawMessage
		if err := json.Unmarshal(result, &items); err != nil {
			return fmt.Errorf("result is not a list: %w", err)
		}
		list := make([]Record, 0, len(items))
		for _, it := range items {
			r, err := decodeRecord(it)
			if err != nil {
				return err
			}
			list = append(list, r)
		}
		*o = list
	}
	return nil
}

func decodeRecord(raw json.RawMessage) (Record, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("result is not a record: %w", err)
	}
	r := make(Record, len(fields))
	for k, v := range fields {
		r[k] = valueString(v)
	}
	return r, nil
}

func valueString(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) == nil {
		for _, k := range []string{"display_value", "value"} {
			if inner, ok := obj[k]; ok {
				return valueString(inner)
			}
		}
	}
	return string(bytes.TrimSpace(v))
}

// checkRetry decides whether an attempt is retried in-request. Reads retry like retryablehttp's
// default policy. A write retries only when it certainly did not happen: a 429 or 503 (the instance
// turned it away) or a connection that was never established. A write that timed out, or whose
// connection broke after it was sent, may have been carried out; retrying it blindly is how duplicate
// tickets are made, so the error goes back to the caller, whose lookup decides.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	write, _ := ctx.Value(writeKey{}).(bool)
	if err != nil {
		retry, perr := retryablehttp.ErrorPropagatedRetryPolicy(ctx, resp, err)
		if !retry {
			return false, perr
		}
		if write && !neverSent(err) {
			return false, nil
		}
		return true, nil
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		// Wait here only for as long as RetryWaitMax; a longer Retry-After goes back to the caller
		// (Temporal then waits without holding an activity slot).
		if ra, ok := retryAfter(resp.Header); ok && ra > c.maxRA {
			return false, nil
		}
		return true, nil
	case code >= 500 && code != http.StatusNotImplemented:
		return !write, nil
	}
	return false, nil
}

// neverSent reports whether err happened before the request could reach the server.
func neverSent(err error) bool {
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return true
	}
	_, ok := errors.AsType[*net.DNSError](err)
	return ok
}

// retryAfter parses Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

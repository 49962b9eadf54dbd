// Package arm sends JSON requests to Azure Resource Manager on the Azure SDK's own pipeline (azcore):
// a bearer token from an azidentity credential, retries of 429 and 5xx that honour Retry-After, and a
// timeout per try. The Sentinel and Defender for IoT clients are small typed layers over it.
//
// Every request goes to the one configured endpoint: callers pass a resource path, never a URL, so no
// host taken from a payload is ever called. Tokens travel only in the Authorization header, which no
// error or log line of this package contains.
package arm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// Options configures a Client. Zero values take the defaults noted.
type Options struct {
	// Endpoint is the Resource Manager root, e.g. https://management.azure.com. It must be https:
	// azcore refuses to send a bearer token anywhere else.
	Endpoint string
	// Scope is the token scope, e.g. https://management.azure.com/.default.
	Scope string
	// Transport sends the requests (an *http.Client trusting the right CAs); nil is azcore's default.
	Transport policy.Transporter
	// TryTimeout bounds one try (default 15s); MaxRetries is the number of retries after it (0: none).
	TryTimeout time.Duration
	MaxRetries int32
	// RetryDelay is the first wait between tries (default 1s), doubling up to MaxRetryDelay (default
	// 30s). A Retry-After longer than MaxRetryDelay is not waited for here: the Error carries it.
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
}

// Client calls Resource Manager. It is safe for concurrent use.
type Client struct {
	endpoint string
	pipeline runtime.Pipeline
}

// New makes a Client that signs its requests with tokens from cred.
func New(cred azcore.TokenCredential, opts Options) (*Client, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("arm: endpoint must be an https URL without credentials, query or fragment")
	}
	if opts.Scope == "" {
		return nil, errors.New("arm: no token scope")
	}
	if cred == nil {
		return nil, errors.New("arm: no credential")
	}
	maxRetries := opts.MaxRetries
	if maxRetries <= 0 {
		maxRetries = -1 // azcore reads 0 as its default of 3
	}
	co := &policy.ClientOptions{
		Transport: opts.Transport,
		Retry: policy.RetryOptions{
			MaxRetries:    maxRetries,
			TryTimeout:    cmp.Or(opts.TryTimeout, 15*time.Second),
			RetryDelay:    cmp.Or(opts.RetryDelay, time.Second),
			MaxRetryDelay: cmp.Or(opts.MaxRetryDelay, 30*time.Second),
		},
		// The SDK's own telemetry header is harmless, but its request log would be ours to sanitise.
		Logging: policy.LogOptions{IncludeBody: false},
	}
	pl := runtime.NewPipeline("interlock", "v1", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{opts.Scope}, nil)},
	}, co)
	return &Client{endpoint: strings.TrimRight(u.String(), "/"), pipeline: pl}, nil
}

// Request is one call.
type Request struct {
	Method     string
	Path       string // absolute resource path, e.g. /subscriptions/…/incidents/…; escaped by the caller
	APIVersion string
	IfMatch    string
	Body       any // marshalled as JSON when not nil
}

// Response is a successful answer.
type Response struct {
	Status int
	Header http.Header
}

// maxBody bounds what is read of an answer.
const maxBody = 4 << 20

// Do sends the request and decodes a 2xx JSON answer into out (when not nil). Any other answer is an *Error.
func (c *Client) Do(ctx context.Context, r Request, out any) (Response, error) {
	if !strings.HasPrefix(r.Path, "/subscriptions/") || strings.ContainsAny(r.Path, "?#") {
		return Response{}, fmt.Errorf("arm: %q is not a resource path", r.Path)
	}
	endpoint := c.endpoint + r.Path + "?api-version=" + url.QueryEscape(r.APIVersion)
	req, err := runtime.NewRequest(ctx, r.Method, endpoint)
	if err != nil {
		return Response{}, fmt.Errorf("arm: %s %s: %w", r.Method, r.Path, err)
	}
	req.Raw().Header.Set("Accept", "application/json")
	if r.IfMatch != "" {
		req.Raw().Header.Set("If-Match", r.IfMatch)
	}
	if r.Body != nil {
		if err := runtime.MarshalAsJSON(req, r.Body); err != nil {
			return Response{}, fmt.Errorf("arm: %s %s: encode body: %w", r.Method, r.Path, err)
		}
	}
	resp, err := c.pipeline.Do(req)
	if err != nil {
		return Response{}, &TransportError{Method: r.Method, Path: r.Path, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Response{}, &TransportError{Method: r.Method, Path: r.Path, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Response{}, newError(r.Method, r.Path, resp, body)
	}
	if out != nil && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return Response{}, fmt.Errorf("arm: %s %s: decode answer: %w", r.Method, r.Path, err)
		}
	}
	return Response{Status: resp.StatusCode, Header: resp.Header}, nil
}

// Error is a non-2xx answer, with Resource Manager's own code and message ({"error":{"code","message"}}).
type Error struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Retryable says whether the same request may succeed later: throttling, timeouts and server errors.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout ||
		(e.Status >= 500 && e.Status != http.StatusNotImplemented)
}

func newError(method, path string, resp *http.Response, body []byte) *Error {
	e := &Error{Method: method, Path: path, Status: resp.StatusCode, RetryAfter: RetryAfter(resp.Header)}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && (env.Error.Code != "" || env.Error.Message != "") {
		e.Code, e.Message = Clip(env.Error.Code), Clip(env.Error.Message)
	} else if s := strings.TrimSpace(string(body)); s != "" && !strings.HasPrefix(s, "<") {
		e.Message = Clip(s)
	}
	return e
}

// TransportError is a request that got no answer: a connection error, a timeout, a token that could
// not be had.
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Method, e.Path, Clip(e.Err.Error()))
}

func (e *TransportError) Unwrap() error { return e.Err }

// RetryAfter reads a Retry-After header (seconds or an HTTP date); 0 when absent or unusable.
func RetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// Clip keeps a server message to one readable line of at most 400 runes.
func Clip(s string) string { return safetext.Line(s, 400) }

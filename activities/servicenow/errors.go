package servicenow

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// APIError is a non-2xx answer from the Table API, with ServiceNow's own explanation
// ({"error":{"message","detail"}}). It never holds request headers or credentials.
type APIError struct {
	Method string
	// Path is the request path without the query string.
	Path    string
	Status  int
	Message string
	Detail  string
	// Retryable says whether trying again later may succeed (429, 5xx other than 501).
	Retryable bool
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "servicenow: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Detail != "" {
		b.WriteString(" (" + e.Detail + ")")
	}
	return b.String()
}

func newAPIError(method, path string, resp *http.Response, body []byte) *APIError {
	e := &APIError{
		Method:    method,
		Path:      path,
		Status:    resp.StatusCode,
		Retryable: resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented),
	}
	if ra, ok := retryAfter(resp.Header); ok {
		e.RetryAfter = ra
	}
	var env struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && (env.Error.Message != "" || env.Error.Detail != "") {
		e.Message = safetext.Line(env.Error.Message, 301)
		e.Detail = safetext.Line(env.Error.Detail, 301)
	} else if b := strings.TrimSpace(string(body)); b != "" && !strings.HasPrefix(b, "<") && !strings.Contains(resp.Header.Get("Content-Type"), "html") {
		// A proxy or load balancer's plain answer; an HTML page says nothing useful in one line.
		e.Detail = safetext.Line(b, 301)
	}
	return e
}

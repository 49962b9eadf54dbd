package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/otincident"
)

// APIClient calls the intake's incident and alert routes, for `interlock incidents` and `interlock
// trigger --alerts`. Requests carry the bearer token and, when a secret is set, an HMAC signature; 503
// answers are retried after their Retry-After.
type APIClient struct {
	HTTP       *http.Client
	BaseURL    string
	Token      string
	HMACSecret []byte
	// Actor is recorded in the incident's history for changes (X-Interlock-Actor).
	Actor string
	// Progress, when set, gets a line for each retry.
	Progress io.Writer
}

// APIError is an answer other than 2xx.
type APIError struct {
	Code    int
	Message string
	Field   string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("intake answered %d %s: %s", e.Code, http.StatusText(e.Code), terminalSafe(e.Message))
	if e.Field != "" {
		msg += " (field " + terminalSafe(e.Field) + ")"
	}
	return msg
}

// do sends one request (retrying 503) and decodes a 2xx answer into out.
func (c *APIClient) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Accept", "application/json")
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		if c.Actor != "" {
			req.Header.Set(actorHeader, c.Actor)
		}
		if len(c.HMACSecret) > 0 {
			SignRequest(req, c.HMACSecret, body, time.Now())
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("read intake answer: %w", err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < triggerAttempts {
			wait := parseRetryAfter(resp.Header.Get("Retry-After"))
			if c.Progress != nil {
				fmt.Fprintf(c.Progress, "intake unavailable (%s); retrying in %s (attempt %d of %d)\n", terminalSafe(errorMessage(data)), wait, attempt+1, triggerAttempts)
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			// A batch answer with per-record results is still worth decoding.
			if out != nil && resp.StatusCode == http.StatusBadRequest {
				_ = json.Unmarshal(data, out)
			}
			return &APIError{Code: resp.StatusCode, Message: errorMessage(data), Field: errorField(data)}
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("intake answered %d with an unexpected body: %w", resp.StatusCode, err)
		}
		return nil
	}
}

// PostAlerts posts an alert batch; ndjson sends it as application/x-ndjson.
func (c *APIClient) PostAlerts(ctx context.Context, body []byte, ndjson bool) (AlertsResponse, error) {
	ct := "application/json"
	if ndjson {
		ct = "application/x-ndjson"
	}
	var resp AlertsResponse
	err := c.do(ctx, http.MethodPost, routeAlerts, ct, body, &resp)
	return resp, err
}

// ListIncidents lists incidents; query holds the filters (status, site, line, owner, open, limit, …).
func (c *APIClient) ListIncidents(ctx context.Context, query url.Values) ([]otincident.Listed, error) {
	var resp struct {
		Incidents []otincident.Listed `json:"incidents"`
	}
	path := routeIncidents
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	err := c.do(ctx, http.MethodGet, path, "", nil, &resp)
	return resp.Incidents, err
}

// Incident reads one incident.
func (c *APIClient) Incident(ctx context.Context, id string) (IncidentView, error) {
	var v IncidentView
	err := c.do(ctx, http.MethodGet, incidentsPrefix+url.PathEscape(id), "", nil, &v)
	return v, err
}

// Patch changes an incident: fields as PATCH /v1/incidents/{id} takes them.
func (c *APIClient) Patch(ctx context.Context, id string, fields map[string]any) (otincident.ChangeResult, error) {
	return c.send(ctx, http.MethodPatch, incidentsPrefix+url.PathEscape(id), fields)
}

// Comment adds a plain-text comment.
func (c *APIClient) Comment(ctx context.Context, id, message string) (otincident.ChangeResult, error) {
	return c.send(ctx, http.MethodPost, incidentsPrefix+url.PathEscape(id)+"/comments", map[string]any{"message": message})
}

func (c *APIClient) send(ctx context.Context, method, path string, v any) (otincident.ChangeResult, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return otincident.ChangeResult{}, err
	}
	var res otincident.ChangeResult
	err = c.do(ctx, method, path, "application/json", body, &res)
	return res, err
}

package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// Trigger retry budget: a Temporal frontend restart takes seconds, so a handful of Retry-After waits
// covers it without hanging a terminal for minutes.
const (
	triggerAttempts      = 5
	triggerMaxRetryAfter = time.Minute
)

// Trigger posts an incident body to the intake at baseURL, as `interlock trigger` does: with a bearer
// token when token is set and HMAC-signed when hmacSecret is set. It retries 503 answers after their
// Retry-After (a retry is safe: the starts are deduplicated by workflow ID) with a progress line on
// out, then prints the runs as a table. A non-2xx answer is an error carrying the intake's message.
func Trigger(ctx context.Context, httpClient *http.Client, baseURL, token string, hmacSecret []byte, body []byte, out io.Writer) error {
	return send(ctx, httpClient, strings.TrimRight(baseURL, "/")+routeIncidents, token, hmacSecret, body, out)
}

// RunPlaybook is Trigger for one named playbook: it posts to /v1/playbooks/{name}/runs, which runs
// that playbook on the body without evaluating the rules.
func RunPlaybook(ctx context.Context, httpClient *http.Client, baseURL, playbook, token string, hmacSecret []byte, body []byte, out io.Writer) error {
	endpoint := strings.TrimRight(baseURL, "/") + "/v1/playbooks/" + url.PathEscape(playbook) + "/runs"
	return send(ctx, httpClient, endpoint, token, hmacSecret, body, out)
}

func send(ctx context.Context, httpClient *http.Client, endpoint, token string, hmacSecret []byte, body []byte, out io.Writer) error {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: time.Minute}
	}
	for attempt := 1; ; attempt++ {
		code, respBody, retryAfter, err := postIncident(ctx, httpClient, endpoint, token, hmacSecret, body)
		if err != nil {
			return err
		}
		switch {
		case code >= 200 && code < 300:
			var resp Response
			if err := json.Unmarshal(respBody, &resp); err != nil {
				return fmt.Errorf("intake answered %d with a body that is not a run list: %w", code, err)
			}
			return printRuns(out, resp)
		case code == http.StatusServiceUnavailable && attempt < triggerAttempts:
			fmt.Fprintf(out, "intake unavailable (%s); retrying in %s (attempt %d of %d)\n",
				terminalSafe(errorMessage(respBody)), retryAfter, attempt+1, triggerAttempts)
			t := time.NewTimer(retryAfter)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("trigger: %w", ctx.Err())
			case <-t.C:
			}
		default:
			msg := errorMessage(respBody)
			if field := errorField(respBody); field != "" {
				msg += " (field " + field + ")"
			}
			if code == http.StatusServiceUnavailable {
				return fmt.Errorf("intake still unavailable after %d attempts: %s", attempt, terminalSafe(msg))
			}
			return fmt.Errorf("intake answered %d %s: %s", code, http.StatusText(code), terminalSafe(msg))
		}
	}
}

// postIncident sends one attempt, signed afresh so a retry's timestamp is inside the replay window.
func postIncident(ctx context.Context, hc *http.Client, endpoint, token string, secret, body []byte) (code int, respBody []byte, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("trigger: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if len(secret) > 0 {
		SignRequest(req, secret, body, time.Now())
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("post incident to intake: %w", err)
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(io.LimitReader(resp.Body, DefaultMaxBodyBytes))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("read intake answer: %w", err)
	}
	return resp.StatusCode, respBody, parseRetryAfter(resp.Header.Get("Retry-After")), nil
}

// parseRetryAfter reads delay-seconds (the intake's form) or an HTTP date, defaulting to 5 s and
// capped so a hostile or broken proxy cannot park the command.
func parseRetryAfter(v string) time.Duration {
	d := 5 * time.Second
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = max(time.Until(at), 0)
	}
	return min(d, triggerMaxRetryAfter)
}

func errorMessage(body []byte) string {
	var e errorBody
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		return s
	}
	return "no message"
}

func errorField(body []byte) string {
	var e errorBody
	_ = json.Unmarshal(body, &e)
	return e.Field
}

func printRuns(out io.Writer, resp Response) error {
	rulesMatched := make([]string, len(resp.Rules))
	for i, m := range resp.Rules {
		rulesMatched[i] = terminalSafe(m.Rule)
	}
	head := fmt.Sprintf("incident %s", terminalSafe(resp.Incident))
	if resp.Number != 0 {
		head += fmt.Sprintf(" (#%d)", resp.Number)
	}
	if len(rulesMatched) > 0 {
		head += "; rules matched: " + strings.Join(rulesMatched, ", ")
	}
	if _, err := fmt.Fprintln(out, head); err != nil {
		return fmt.Errorf("print runs: %w", err)
	}
	if len(resp.Runs) == 0 {
		_, err := fmt.Fprintln(out, "no playbook selected")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLAYBOOK\tSTATUS\tWORKFLOW ID\tUI")
	for _, r := range resp.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", terminalSafe(r.Playbook), terminalSafe(r.Status), terminalSafe(r.WorkflowID), terminalSafe(r.URL))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print runs: %w", err)
	}
	return nil
}

// TerminalSafe replaces each unsafe rune (safetext.Unsafe) and each invalid byte with '?': incident
// IDs and rule names come from payloads, an escape sequence in one must not drive the user's terminal,
// and a '?' shows where a bidi override or a zero-width space was, so look-alike IDs stay apart.
func TerminalSafe(s string) string { return terminalSafe(s) }

func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if safetext.Unsafe(r) || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
}

package answer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/answer"
	"github.com/interlock-soar/interlock/workflows"
)

// fakeAnswerer records calls and returns err.
type fakeAnswerer struct {
	mu    sync.Mutex
	calls []call
	err   error
	block bool
}

type call struct {
	WorkflowID string
	Answer     workflows.Answer
}

func (f *fakeAnswerer) Answer(ctx context.Context, workflowID string, ans workflows.Answer) error {
	f.mu.Lock()
	f.calls = append(f.calls, call{workflowID, ans})
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.err
}

func (f *fakeAnswerer) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// server mounts the handler the way the intake does and returns its base URL.
func server(t *testing.T, s *answer.Signer, a answer.Answerer, logs io.Writer) (string, *answer.Handler) {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	h := answer.NewHandler(s, a, slog.New(slog.NewTextHandler(logs, nil)))
	mux := http.NewServeMux()
	mux.Handle(answer.PathPrefix, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, h
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func do(t *testing.T, method, u string, form url.Values) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

func requireSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
	require.Contains(t, h.Get("Content-Security-Policy"), "style-src 'unsafe-inline'")
	require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	require.Equal(t, "no-store", h.Get("Cache-Control"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
}

func TestHandlerGetConfirmsWithoutAnswering(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{time.Now()})
	fake := &fakeAnswerer{}
	base, _ := server(t, s, fake, nil)
	token, err := s.Sign(claimsA())
	require.NoError(t, err)

	// a mail scanner fetching the link twice, then a link previewer's HEAD
	for range 2 {
		res := do(t, http.MethodGet, base+answer.PathPrefix+token, nil)
		require.Equal(t, http.StatusOK, res.Status)
		requireSecurityHeaders(t, res.Header)
		require.Contains(t, res.Body, "PLC <strong>PLC-L3-01</strong> in incident <strong>4318</strong>")
		require.Contains(t, res.Body, "Not planned")
		require.Contains(t, res.Body, `<form method="post">`)
		require.Contains(t, res.Body, "Confirm: this change was NOT planned")
		require.Contains(t, res.Body, "ada@plant.example")
	}
	res := do(t, http.MethodHead, base+answer.PathPrefix+token, nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.Empty(t, fake.Calls(), "GET and HEAD never answer")
}

func TestHandlerPostRecordsTheAnswer(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{time.Now()})
	fake := &fakeAnswerer{}
	var logs strings.Builder
	base, _ := server(t, s, fake, &logs)
	c := claimsA()
	c.Decision = workflows.DecisionPlanned
	token, err := s.Sign(c)
	require.NoError(t, err)

	res := do(t, http.MethodPost, base+answer.PathPrefix+token, url.Values{
		"comment":    {"CHG-1234 \r\n approved\x00 by shift lead\u202e"},
		"workflowId": {"plc-notify/incident-B"}, // ignored: only the token names the run
		"decision":   {workflows.DecisionNotPlanned},
	})
	require.Equal(t, http.StatusOK, res.Status)
	requireSecurityHeaders(t, res.Header)
	require.Contains(t, res.Body, "Thank you — your answer is recorded")
	require.Equal(t, []call{{
		WorkflowID: c.WorkflowID,
		Answer: workflows.Answer{
			Decision: workflows.DecisionPlanned, By: "ada@plant.example", Via: "email-link",
			Comment: "CHG-1234 \n approved by shift lead",
			Link:    &workflows.AnswerLink{RunID: c.RunID, Round: c.Round},
		},
	}}, fake.Calls())
	require.NotContains(t, logs.String(), token, "the token is a credential and never logged")
}

func TestHandlerRefusesBadTokens(t *testing.T) {
	t.Parallel()
	c := &clock{epoch}
	s := newSigner(t, secret, c)
	good, err := s.Sign(claimsA())
	require.NoError(t, err)
	forged, err := newSigner(t, otherSecret, c).Sign(claimsA())
	require.NoError(t, err)
	body, sig, _ := strings.Cut(good, ".")
	claimsB := claimsA()
	claimsB.WorkflowID = "plc-notify/incident-B"
	tokenB, err := newSigner(t, otherSecret, c).Sign(claimsB)
	require.NoError(t, err)
	bodyB, _, _ := strings.Cut(tokenB, ".")
	expired, err := newSigner(t, secret, &clock{epoch.Add(-100 * time.Hour)}).Sign(claimsA())
	require.NoError(t, err)

	tests := []struct {
		name   string
		path   string
		status int
		phrase string
	}{
		{"forged", answer.PathPrefix + forged, http.StatusForbidden, "not valid"},
		{"incident B's payload with A's signature", answer.PathPrefix + bodyB + "." + sig, http.StatusForbidden, "not valid"},
		{"expired", answer.PathPrefix + expired, http.StatusGone, "expired"},
		{"malformed", answer.PathPrefix + "not-a-token", http.StatusBadRequest, "incomplete"},
		{"cut off", answer.PathPrefix + body + "." + sig[:30], http.StatusBadRequest, "incomplete"},
		{"no token", answer.PathPrefix, http.StatusNotFound, "Not found"},
		{"extra segment", answer.PathPrefix + good + "/x", http.StatusNotFound, "Not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeAnswerer{}
			base, _ := server(t, s, fake, nil)
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				res := do(t, method, base+tt.path, url.Values{})
				require.Equal(t, tt.status, res.Status, method)
				require.Contains(t, res.Body, tt.phrase)
				requireSecurityHeaders(t, res.Header)
			}
			require.Empty(t, fake.Calls())
		})
	}
}

func TestHandlerTokenOnlyEverAnswersItsOwnRun(t *testing.T) {
	t.Parallel()
	// An engineer of incident A tries to use A's link to answer incident B: by query string, by
	// form field, by path tricks, by splicing B's payload. B is never answered.
	s := newSigner(t, secret, &clock{time.Now()})
	fake := &fakeAnswerer{}
	base, _ := server(t, s, fake, nil)
	tokenA, err := s.Sign(claimsA())
	require.NoError(t, err)
	claimsB := claimsA()
	claimsB.WorkflowID, claimsB.IncidentID = "plc-notify/incident-B", "incident-B"
	tokenB, err := s.Sign(claimsB)
	require.NoError(t, err)
	bodyB, _, _ := strings.Cut(tokenB, ".")
	_, sigA, _ := strings.Cut(tokenA, ".")

	for _, u := range []string{
		base + answer.PathPrefix + tokenA + "?workflowId=plc-notify/incident-B",
		base + answer.PathPrefix + tokenA + "?w=plc-notify/incident-B&token=" + tokenB,
		base + answer.PathPrefix + bodyB + "." + sigA,
		base + answer.PathPrefix + tokenA + "/../" + bodyB + "." + sigA,
		base + answer.PathPrefix + url.PathEscape(tokenA+"/"+tokenB),
	} {
		do(t, http.MethodPost, u, url.Values{"workflowId": {claimsB.WorkflowID}, "w": {claimsB.WorkflowID}})
	}
	for _, c := range fake.Calls() {
		require.Equal(t, claimsA().WorkflowID, c.WorkflowID, "only A's run may ever be addressed")
	}
	require.NotEmpty(t, fake.Calls(), "A's own link still works")
}

func TestHandlerMapsAnswererErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		phrase string
	}{
		{"already answered", answer.ErrAlreadyAnswered, http.StatusConflict, "already has an answer"},
		{"already answered, wrapped", fmt.Errorf("answer run x: %w: %w", answer.ErrAlreadyAnswered, errors.New("cause")), http.StatusConflict, "already has an answer"},
		{"run closed", answer.ErrRunClosed, http.StatusConflict, "no longer waiting"},
		{"unavailable", fmt.Errorf("x: %w", answer.ErrUnavailable), http.StatusServiceUnavailable, "cannot reach"},
		{"other", errors.New("boom"), http.StatusInternalServerError, "could not be recorded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSigner(t, secret, &clock{time.Now()})
			fake := &fakeAnswerer{err: tt.err}
			base, _ := server(t, s, fake, nil)
			token, err := s.Sign(claimsA())
			require.NoError(t, err)
			res := do(t, http.MethodPost, base+answer.PathPrefix+token, url.Values{})
			require.Equal(t, tt.status, res.Status)
			require.Contains(t, res.Body, tt.phrase)
			requireSecurityHeaders(t, res.Header)
			require.Len(t, fake.Calls(), 1)
			if tt.status == http.StatusServiceUnavailable {
				require.Equal(t, "30", res.Header.Get("Retry-After"))
			}
		})
	}
}

func TestHandlerTimesOutASlowRun(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{time.Now()})
	fake := &fakeAnswerer{block: true}
	base, h := server(t, s, fake, nil)
	h.SetTimeoutForTest(50 * time.Millisecond)
	token, err := s.Sign(claimsA())
	require.NoError(t, err)
	res := do(t, http.MethodPost, base+answer.PathPrefix+token, url.Values{})
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
}

func TestHandlerEscapesHostileText(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{time.Now()})
	fake := &fakeAnswerer{}
	base, _ := server(t, s, fake, nil)
	c := claimsA()
	c.PLC = `PLC-1"><script>alert(1)</script><img src=x onerror=alert(2)>`
	c.Recipient = `<b>eve</b>@x.example`
	token, err := s.Sign(c)
	require.NoError(t, err)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		res := do(t, method, base+answer.PathPrefix+token, url.Values{})
		require.Equal(t, http.StatusOK, res.Status)
		require.NotContains(t, res.Body, "<script")
		require.NotContains(t, res.Body, "<img")
		require.NotContains(t, res.Body, "<b>eve")
		require.Contains(t, res.Body, "&lt;script&gt;")
	}
}

func TestHandlerRefusesOtherMethodsAndHugeForms(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{time.Now()})
	fake := &fakeAnswerer{}
	base, _ := server(t, s, fake, nil)
	token, err := s.Sign(claimsA())
	require.NoError(t, err)
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		res := do(t, method, base+answer.PathPrefix+token, nil)
		require.Equal(t, http.StatusMethodNotAllowed, res.Status, method)
		require.Equal(t, "GET, HEAD, POST", res.Header.Get("Allow"))
		requireSecurityHeaders(t, res.Header)
	}
	res := do(t, http.MethodPost, base+answer.PathPrefix+token, url.Values{"comment": {strings.Repeat("x", 64<<10)}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Empty(t, fake.Calls())
}

// A device owner's link shows the owner wording and hands the expected / not expected decision on.
func TestHandlerOwnerQuestion(t *testing.T) {
	t.Parallel()
	s := newSigner(t, secret, &clock{time.Now()})
	fake := &fakeAnswerer{}
	base, _ := server(t, s, fake, nil)
	tests := []struct {
		decision, badge, button string
	}{
		{workflows.DecisionExpected, "Expected", "Confirm: yes, this is expected"},
		{workflows.DecisionNotExpected, "Not expected", "Confirm: no, this is NOT expected"},
	}
	for _, tt := range tests {
		c := claimsA()
		c.Decision, c.PLC = tt.decision, "HMI <b>7</b>"
		token, err := s.Sign(c)
		require.NoError(t, err)
		res := do(t, http.MethodGet, base+answer.PathPrefix+token, nil)
		require.Equal(t, http.StatusOK, res.Status)
		require.Contains(t, res.Body, "device <strong>HMI &lt;b&gt;7&lt;/b&gt;</strong>")
		require.Contains(t, res.Body, ">"+tt.badge+"</span>")
		require.Contains(t, res.Body, tt.button)
		require.NotContains(t, res.Body, "PLC")
		res = do(t, http.MethodPost, base+answer.PathPrefix+token, url.Values{})
		require.Equal(t, http.StatusOK, res.Status)
	}
	calls := fake.Calls()
	require.Len(t, calls, 2)
	require.Equal(t, workflows.DecisionExpected, calls[0].Answer.Decision)
	require.Equal(t, workflows.DecisionNotExpected, calls[1].Answer.Decision)
}

// A refused answer's page says what the run said: who answered and when, or which email is current.
func TestHandlerRefusalPages(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC)
	refuse := func(typ string, d workflows.AnswerRefusal) error {
		return answer.ClassifyForTest("wf", temporal.NewApplicationError("refused", typ, d))
	}
	tests := []struct {
		name   string
		err    error
		has    []string
		hasNot []string
	}{
		{"answered, by whom and when",
			refuse(answer.AlreadyAnsweredType, workflows.AnswerRefusal{Answer: &workflows.Answer{Decision: workflows.DecisionPlanned, By: "bob@plant.example", At: at}}),
			[]string{"bob@plant.example answered <strong>Planned</strong> on Friday 20 November 2026, 09:15 UTC for PLC"}, nil},
		{"answered by a group notice's recipient",
			refuse(answer.AlreadyAnsweredType, workflows.AnswerRefusal{Answer: &workflows.Answer{Decision: workflows.DecisionNotPlanned, By: "group"}}),
			[]string{"a recipient of the email answered <strong>Not planned</strong> for PLC"}, []string{" on "}},
		{"answered, the run said no more", answer.ErrAlreadyAnswered, []string{"Someone already answered"}, nil},
		{"outdated round",
			refuse(answer.OutdatedType, workflows.AnswerRefusal{Current: &workflows.Notice{Round: 2, SentAt: at, To: []string{"lead@plant.example", "<b>soc</b>@plant.example"}}}),
			[]string{"was sent again", "A newer message was sent on Friday 20 November 2026, 09:15 UTC to lead@plant.example, &lt;b&gt;soc&lt;/b&gt;@plant.example; use the link in it."},
			[]string{"<b>soc"}},
		{"another run's link",
			refuse(answer.OutdatedType, workflows.AnswerRefusal{OtherRun: true}),
			[]string{"earlier run of the playbook", "Use the link in the newest message"}, []string{"was sent again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSigner(t, secret, &clock{time.Now()})
			base, _ := server(t, s, &fakeAnswerer{err: tt.err}, nil)
			token, err := s.Sign(claimsA())
			require.NoError(t, err)
			res := do(t, http.MethodPost, base+answer.PathPrefix+token, url.Values{})
			require.Equal(t, http.StatusConflict, res.Status)
			requireSecurityHeaders(t, res.Header)
			for _, p := range tt.has {
				require.Contains(t, res.Body, p)
			}
			for _, p := range tt.hasNot {
				require.NotContains(t, res.Body, p)
			}
		})
	}
}

package servicenow

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/snowstandin"
)

const (
	testUser  = "interlock.integration"
	testPass  = "Pa55-w0rd-never-logged"
	testToken = "tok-never-logged-0123456789"
)

func newStub(t *testing.T) (*snowstandin.Server, *httptest.Server) {
	t.Helper()
	stub, err := snowstandin.Open(snowstandin.Options{Username: testUser, Password: testPass})
	require.NoError(t, err)
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)
	return stub, srv
}

// syncBuffer lets the race detector see log writes and test reads as ordered.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newClient(t *testing.T, url string, mod func(*Config)) (*Client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		InstanceURL:  url,
		Username:     testUser,
		Password:     testPass,
		Timeout:      2 * time.Second,
		RetryMax:     2,
		RetryWaitMin: 10 * time.Millisecond,
		RetryWaitMax: 2 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c, logs
}

// requireNoSecrets checks that nothing a caller can see carries a credential.
func requireNoSecrets(t *testing.T, texts ...string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPass))
	for _, s := range texts {
		for _, secret := range []string{testPass, testToken, basic, "Authorization", "Bearer"} {
			require.NotContains(t, s, secret)
		}
	}
}

func TestCreateQueryUpdateGet(t *testing.T) {
	t.Parallel()
	stub, srv := newStub(t)
	c, logs := newClient(t, srv.URL+"/", nil)
	ctx := t.Context()

	created, err := c.Create(ctx, "incident", map[string]string{"short_description": "New EWS", "correlation_id": "interlock-ews-0001", "urgency": "2"})
	require.NoError(t, err)
	require.Equal(t, "INC0010001", created["number"])
	require.True(t, ValidSysID(created["sys_id"]))

	_, err = c.Create(ctx, "incident", map[string]string{"short_description": "other", "correlation_id": "interlock-ews-0002"})
	require.NoError(t, err)

	found, err := c.Query(ctx, "incident", And(Eq("correlation_id", "interlock-ews-0001"), Eq("active", "true")), []string{"sys_id", "number", "correlation_id"}, 5)
	require.NoError(t, err)
	require.Equal(t, []Record{{"sys_id": created["sys_id"], "number": "INC0010001", "correlation_id": "interlock-ews-0001"}}, found)

	updated, err := c.Update(ctx, "incident", created["sys_id"], map[string]string{"work_notes": "Seen again", "urgency": "1"})
	require.NoError(t, err)
	require.Equal(t, "1", updated["urgency"])
	require.Equal(t, []string{"Seen again"}, stub.Journal("incident", created["sys_id"], "work_notes"))

	plain, err := c.Get(ctx, "incident", created["sys_id"], []string{"work_notes"}, false)
	require.NoError(t, err)
	require.Equal(t, "", plain["work_notes"])
	shown, err := c.Get(ctx, "incident", created["sys_id"], []string{"work_notes"}, true)
	require.NoError(t, err)
	require.Contains(t, shown["work_notes"], "Seen again")

	_, err = c.Get(ctx, "incident", "0123456789abcdef0123456789abcdef", nil, false)
	apiErr, ok := errors.AsType[*APIError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusNotFound, apiErr.Status)
	require.Equal(t, "No Record found", apiErr.Message)
	require.False(t, apiErr.Retryable)
	requireNoSecrets(t, logs.String(), err.Error())
}

func TestHeadersAndAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		mod      func(*Config)
		wantAuth string
	}{
		{"basic", nil, "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPass))},
		{"bearer wins over basic", func(c *Config) { c.Token = testToken }, "Bearer " + testToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			type seen struct{ method, path, query, accept, ctype, auth, body string }
			var got []seen
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b)})
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				switch r.Method {
				case http.MethodPost:
					w.WriteHeader(http.StatusCreated)
					fmt.Fprint(w, `{"result":{"sys_id":"0123456789abcdef0123456789abcdef"}}`)
				case http.MethodGet:
					fmt.Fprint(w, `{"result":[]}`)
				default:
					fmt.Fprint(w, `{"result":{}}`)
				}
			}))
			t.Cleanup(srv.Close)
			c, _ := newClient(t, srv.URL, tc.mod)
			ctx := t.Context()
			_, err := c.Create(ctx, "u_ot_asset", map[string]string{"name": "ENG-WS-07"})
			require.NoError(t, err)
			_, err = c.Query(ctx, "u_ot_asset", Eq("correlation_id", "k 1&x=y"), []string{"sys_id", "number"}, 1)
			require.NoError(t, err)
			_, err = c.Update(ctx, "u_ot_asset", "0123456789abcdef0123456789abcdef", map[string]string{"work_notes": "n"})
			require.NoError(t, err)
			require.Equal(t, []seen{
				{"POST", "/api/now/table/u_ot_asset", "sysparm_exclude_reference_link=true", "application/json", "application/json", tc.wantAuth, `{"name":"ENG-WS-07"}`},
				{"GET", "/api/now/table/u_ot_asset", "sysparm_exclude_reference_link=true&sysparm_fields=sys_id%2Cnumber&sysparm_limit=1&sysparm_query=correlation_id%3Dk+1%26x%3Dy", "application/json", "", tc.wantAuth, ""},
				{"PATCH", "/api/now/table/u_ot_asset/0123456789abcdef0123456789abcdef", "sysparm_exclude_reference_link=true", "application/json", "application/json", tc.wantAuth, `{"work_notes":"n"}`},
			}, got)
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	stub, srv := newStub(t)
	c, logs := newClient(t, srv.URL, nil)
	stub.InjectFaults(snowstandin.Faults{TooManyRequests: 1, RetryAfter: time.Second})
	start := time.Now()
	rec, err := c.Create(t.Context(), "incident", map[string]string{"short_description": "x"})
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), time.Second, "the client waits as long as Retry-After says")
	require.Equal(t, "INC0010001", rec["number"])
	require.Equal(t, 2, stub.Requests())
	require.Equal(t, 1, stub.CreatedCount("incident"))
	requireNoSecrets(t, logs.String())
}

func TestLongRetryAfterGoesToCaller(t *testing.T) {
	t.Parallel()
	stub, srv := newStub(t)
	c, _ := newClient(t, srv.URL, nil) // RetryWaitMax 2s
	stub.InjectFaults(snowstandin.Faults{TooManyRequests: 1, RetryAfter: 120 * time.Second})
	start := time.Now()
	_, err := c.Query(t.Context(), "incident", Eq("active", "true"), nil, 1)
	require.Less(t, time.Since(start), 5*time.Second, "no two-minute wait inside the request")
	apiErr, ok := errors.AsType[*APIError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusTooManyRequests, apiErr.Status)
	require.True(t, apiErr.Retryable)
	require.Equal(t, 120*time.Second, apiErr.RetryAfter)
	require.Equal(t, 1, stub.Requests())
}

func TestUnavailableRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		call func(context.Context, *Client) error
	}{
		{"query", func(ctx context.Context, c *Client) error {
			_, err := c.Query(ctx, "incident", Eq("active", "true"), nil, 10)
			return err
		}},
		// 503 means the instance turned the request away, so even a create is safe to repeat.
		{"create", func(ctx context.Context, c *Client) error {
			_, err := c.Create(ctx, "incident", map[string]string{"short_description": "x"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stub, srv := newStub(t)
			c, _ := newClient(t, srv.URL, nil)
			stub.InjectFaults(snowstandin.Faults{Unavailable: 2})
			require.NoError(t, tc.call(t.Context(), c))
			require.Equal(t, 3, stub.Requests())
			require.LessOrEqual(t, stub.CreatedCount("incident"), 1)
		})
	}
	t.Run("gives up after RetryMax", func(t *testing.T) {
		t.Parallel()
		stub, srv := newStub(t)
		c, _ := newClient(t, srv.URL, nil)
		stub.InjectFaults(snowstandin.Faults{Unavailable: 10})
		_, err := c.Query(t.Context(), "incident", Eq("active", "true"), nil, 10)
		apiErr, ok := errors.AsType[*APIError](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, http.StatusServiceUnavailable, apiErr.Status)
		require.True(t, apiErr.Retryable)
		require.Equal(t, 3, stub.Requests(), "RetryMax 2: three attempts")
	})
}

// countingServer answers every request with status and body, counting requests.
func countingServer(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRejectionsFailFast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status       int
		body         string
		wantMessage  string
		wantDetail   string
		retryable    bool
		wantRequests int32
	}{
		{400, `{"error":{"message":"Invalid table u_nope","detail":null},"status":"failure"}`, "Invalid table u_nope", "", false, 1},
		{403, `{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}`, "Operation Failed", "ACL Exception Insert Failed due to security constraints", false, 1},
		{404, `{"error":{"message":"No Record found","detail":"Record doesn't exist"},"status":"failure"}`, "No Record found", "Record doesn't exist", false, 1},
		// A 500 may come after the insert happened: the create is not repeated blindly.
		{500, `{"error":{"message":"Internal error\n\tat line 3","detail":"x"},"status":"failure"}`, "Internal error at line 3", "x", true, 1},
		{502, "<html>bad gateway</html>", "", "", true, 1},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			srv, n := countingServer(t, tc.status, tc.body)
			c, logs := newClient(t, srv.URL, nil)
			_, err := c.Create(t.Context(), "incident", map[string]string{"short_description": "x"})
			apiErr, ok := errors.AsType[*APIError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.status, apiErr.Status)
			require.Equal(t, tc.wantMessage, apiErr.Message)
			require.Equal(t, tc.wantDetail, apiErr.Detail)
			require.Equal(t, tc.retryable, apiErr.Retryable)
			require.Equal(t, tc.wantRequests, n.Load())
			require.Contains(t, err.Error(), "POST /api/now/table/incident")
			requireNoSecrets(t, err.Error(), logs.String())
		})
	}
	t.Run("reads retry a 500", func(t *testing.T) {
		t.Parallel()
		srv, n := countingServer(t, 500, `{"error":{"message":"boom"}}`)
		c, _ := newClient(t, srv.URL, nil)
		_, err := c.Query(t.Context(), "incident", Eq("active", "true"), nil, 1)
		require.Error(t, err)
		require.Equal(t, int32(3), n.Load())
	})
}

func TestUnauthorizedWithoutCredentials(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t)
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"wrong password", func(c *Config) { c.Password = testPass + "-old" }},
		{"wrong token", func(c *Config) { c.Token = testToken }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, logs := newClient(t, srv.URL, tc.mod)
			_, err := c.Create(t.Context(), "incident", map[string]string{"short_description": "x"})
			apiErr, ok := errors.AsType[*APIError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, http.StatusUnauthorized, apiErr.Status)
			require.Equal(t, "User Not Authenticated", apiErr.Message)
			require.False(t, apiErr.Retryable)
			require.Equal(t, "servicenow: POST /api/now/table/incident: 401 Unauthorized: User Not Authenticated (Required to provide Auth information)", err.Error())
			requireNoSecrets(t, err.Error(), fmt.Sprintf("%+v", apiErr), logs.String())
		})
	}
}

// TestHostileValuesFindNothing queries with device names an attacker could give a workstation.
func TestHostileValuesFindNothing(t *testing.T) {
	t.Parallel()
	stub, srv := newStub(t)
	c, _ := newClient(t, srv.URL, nil)
	ctx := t.Context()
	for _, name := range []string{"ENG-WS-07", "PLC-1", "a=b,c@d"} {
		_, err := c.Create(ctx, "u_ot_asset", map[string]string{"name": name, "active": "true"})
		require.NoError(t, err)
	}
	before := stub.Requests()
	for _, hostile := range []string{
		"x^ORactive=true^NQsys_id!=",
		"x^NQsys_id!=",
		"ENG-WS-07\nactive=true",
		"x^ORDERBYname",
		"javascript:gs.getUserID()",
	} {
		recs, err := c.Query(ctx, "u_ot_asset", Eq("name", hostile), nil, 100)
		require.ErrorContains(t, err, "servicenow query", hostile)
		require.Empty(t, recs)
	}
	require.Equal(t, before, stub.Requests(), "refused queries are never sent")

	// Characters that are not syntax after "=" go through and match exactly one record.
	recs, err := c.Query(ctx, "u_ot_asset", Eq("name", "a=b,c@d"), []string{"name"}, 100)
	require.NoError(t, err)
	require.Equal(t, []Record{{"name": "a=b,c@d"}}, recs)
	recs, err = c.Query(ctx, "u_ot_asset", Eq("name", "x=ENG-WS-07"), []string{"name"}, 100)
	require.NoError(t, err)
	require.Empty(t, recs)
}

func TestAmbiguousWritesNotRepeated(t *testing.T) {
	t.Parallel()
	t.Run("dropped response", func(t *testing.T) {
		t.Parallel()
		stub, srv := newStub(t)
		c, _ := newClient(t, srv.URL, nil)
		stub.InjectFaults(snowstandin.Faults{DropResponse: 1})
		_, err := c.Create(t.Context(), "incident", map[string]string{"short_description": "x"})
		require.Error(t, err)
		_, isAPI := errors.AsType[*APIError](err)
		require.False(t, isAPI)
		require.Equal(t, 1, stub.Requests(), "no second POST")
		require.Equal(t, 1, stub.CreatedCount("incident"), "the first one happened")
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		stub, srv := newStub(t)
		c, _ := newClient(t, srv.URL, func(c *Config) { c.Timeout = 100 * time.Millisecond })
		stub.InjectFaults(snowstandin.Faults{Hang: 1, HangFor: 5 * time.Second})
		_, err := c.Create(t.Context(), "incident", map[string]string{"short_description": "x"})
		require.ErrorContains(t, err, "Client.Timeout")
		require.Equal(t, 1, stub.Requests())
		srv.Close() // waits for the hung request, which the instance still carries out
		require.Equal(t, 1, stub.CreatedCount("incident"), "the timeout hid a create that happened")
	})
	t.Run("timeout of a read is retried", func(t *testing.T) {
		t.Parallel()
		stub, srv := newStub(t)
		c, _ := newClient(t, srv.URL, func(c *Config) { c.Timeout = 100 * time.Millisecond })
		stub.InjectFaults(snowstandin.Faults{Hang: 1, HangFor: 5 * time.Second})
		_, err := c.Query(t.Context(), "incident", Eq("active", "true"), nil, 1)
		require.NoError(t, err)
		require.Equal(t, 2, stub.Requests())
	})
}

func TestCheckRetry(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, "http://127.0.0.1:1", nil)
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	resp := func(code int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	for _, tc := range []struct {
		name  string
		write bool
		resp  *http.Response
		err   error
		want  bool
	}{
		{"read: connection refused", false, nil, dial, true},
		{"write: connection refused", true, nil, dial, true},
		{"read: reset", false, nil, reset, true},
		{"write: reset after send", true, nil, reset, false},
		{"write: 429", true, resp(429, "1"), nil, true},
		{"write: 429 too long to wait", true, resp(429, "60"), nil, false},
		{"write: 503", true, resp(503, ""), nil, true},
		{"write: 500", true, resp(500, ""), nil, false},
		{"write: 504", true, resp(504, ""), nil, false},
		{"read: 500", false, resp(500, ""), nil, true},
		{"read: 501", false, resp(501, ""), nil, false},
		{"read: 400", false, resp(400, ""), nil, false},
		{"read: 401", false, resp(401, ""), nil, false},
		{"write: 201", true, resp(201, ""), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.WithValue(t.Context(), writeKey{}, tc.write)
			got, _ := c.checkRetry(ctx, tc.resp, tc.err)
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		got, err := c.checkRetry(ctx, nil, dial)
		require.False(t, got)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"credentials in URL", Config{InstanceURL: "https://admin:" + testPass + "@acme.service-now.com", Username: "u", Password: "p"}, "must not contain credentials"},
		{"not http", Config{InstanceURL: "ftp://acme", Username: "u", Password: "p"}, "absolute http(s)"},
		{"relative", Config{InstanceURL: "acme.service-now.com", Username: "u", Password: "p"}, "absolute http(s)"},
		{"query", Config{InstanceURL: "https://acme.service-now.com/?x=1", Username: "u", Password: "p"}, "query"},
		{"no credentials", Config{InstanceURL: "https://acme.service-now.com", Username: "u"}, "no credentials"},
		{"negative retries", Config{InstanceURL: "https://acme.service-now.com", Token: "t", RetryMax: -1}, "RetryMax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.cfg)
			require.ErrorContains(t, err, tc.want)
			requireNoSecrets(t, err.Error())
		})
	}
}

func TestInvalidArgumentsSendNothing(t *testing.T) {
	t.Parallel()
	srv, n := countingServer(t, 200, `{"result":[]}`)
	c, _ := newClient(t, srv.URL, nil)
	ctx := t.Context()
	_, err := c.Create(ctx, "../sys_user", map[string]string{"a": "b"})
	require.ErrorContains(t, err, "not a table name")
	_, err = c.Create(ctx, "incident", nil)
	require.ErrorContains(t, err, "no fields")
	_, err = c.Create(ctx, "incident", map[string]string{"Bad Field": "b"})
	require.ErrorContains(t, err, "not a field name")
	_, err = c.Update(ctx, "incident", "../../x", map[string]string{"a": "b"})
	require.ErrorContains(t, err, "not a sys_id")
	_, err = c.Get(ctx, "incident", "ABCDEF0123456789ABCDEF0123456789", nil, false)
	require.ErrorContains(t, err, "not a sys_id")
	_, err = c.Query(ctx, "incident", Query{}, []string{"sys_id", "x^y"}, 1)
	require.ErrorContains(t, err, "not a field name")
	_, err = c.Query(ctx, "incident", Query{}, nil, 0)
	require.ErrorContains(t, err, "limit")
	require.Equal(t, int32(0), n.Load())
}

func TestRecordValues(t *testing.T) {
	t.Parallel()
	srv, _ := countingServer(t, 200, `{"result":[{"s":"text","n":3,"b":true,"z":null,"ref":{"link":"https://x/api","value":"abc"},"disp":{"display_value":"Abel Tuter","value":"6816f79c"}}]}`)
	c, _ := newClient(t, srv.URL, nil)
	recs, err := c.Query(t.Context(), "incident", Query{}, nil, 1)
	require.NoError(t, err)
	require.Equal(t, []Record{{"s": "text", "n": "3", "b": "true", "z": "", "ref": "abc", "disp": "Abel Tuter"}}, recs)

	html, _ := countingServer(t, 200, `<html>Instance hibernating</html>`)
	c, _ = newClient(t, html.URL, nil)
	_, err = c.Query(t.Context(), "incident", Query{}, nil, 1)
	require.ErrorContains(t, err, "not a Table API JSON response")
}

func TestRecordURL(t *testing.T) {
	t.Parallel()
	require.Equal(t, "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D0123456789abcdef0123456789abcdef",
		RecordURL("https://acme.service-now.com/", "incident", "0123456789abcdef0123456789abcdef"))
}

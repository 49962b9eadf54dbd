package snowstandin

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	user = "interlock"
	pass = "s3cret-pass"
	tok  = "tok-123"
)

func newStub(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Username == "" && opts.Token == "" {
		opts.Username, opts.Password = user, pass
	}
	s, err := Open(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

type reply struct {
	Status int
	Header http.Header
	Body   string
}

// call sends a request with basic auth and JSON headers unless headers override them ("" deletes).
func call(t *testing.T, srv *httptest.Server, method, path, body string, headers map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	req.SetBasicAuth(user, pass)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func result(t *testing.T, r reply) map[string]string {
	t.Helper()
	var env struct {
		Result map[string]string `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &env), r.Body)
	return env.Result
}

func results(t *testing.T, r reply) []map[string]string {
	t.Helper()
	var env struct {
		Result []map[string]string `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &env), r.Body)
	return env.Result
}

func errorMessage(t *testing.T, r reply) string {
	t.Helper()
	var env struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &env), r.Body)
	require.Equal(t, "failure", env.Status)
	return env.Error.Message
}

func TestNumberSequence(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t, Options{})
	for _, tc := range []struct{ table, want string }{
		{"incident", "INC0010001"},
		{"incident", "INC0010002"},
		{"change_request", "CHG0030001"},
		{"u_ot_asset", "REC0001001"},
		{"incident", "INC0010003"},
	} {
		r := call(t, srv, http.MethodPost, "/api/now/table/"+tc.table, `{"short_description":"x"}`, nil)
		require.Equal(t, http.StatusCreated, r.Status, r.Body)
		require.Equal(t, tc.want, result(t, r)["number"])
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 8, 14, 31, 0, time.UTC)
	var mu sync.Mutex
	var hooked []string
	_, srv := newStub(t, Options{
		Now: func() time.Time { return at },
		OnCreate: func(table string, rec map[string]string, when time.Time) {
			mu.Lock()
			defer mu.Unlock()
			hooked = append(hooked, table+"/"+rec["number"]+"@"+when.Format(time.RFC3339))
		},
	})
	r := call(t, srv, http.MethodPost, "/api/now/v2/table/incident", `{"short_description":"New EWS","urgency":"1","impact":"2","sys_id":"ignored","work_notes":"first"}`, nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	rec := result(t, r)
	require.Regexp(t, `^[0-9a-f]{32}$`, rec["sys_id"])
	require.Equal(t, srv.URL+"/api/now/table/incident/"+rec["sys_id"], r.Header.Get("Location"))
	require.Equal(t, "1", rec["state"])
	require.Equal(t, "true", rec["active"])
	require.Equal(t, "2", rec["priority"])
	require.Equal(t, "2026-11-20 08:14:31", rec["sys_created_on"])
	require.Equal(t, user, rec["sys_created_by"])
	require.Equal(t, "", rec["work_notes"], "journal fields read back empty without display values")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"incident/INC0010001@2026-11-20T08:14:31Z"}, hooked)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	_, basicSrv := newStub(t, Options{})
	_, tokenSrv := newStub(t, Options{Token: tok})
	for _, tc := range []struct {
		name   string
		srv    *httptest.Server
		header string
		want   int
	}{
		{"basic ok", basicSrv, "", http.StatusOK},
		{"no credentials", basicSrv, "-", http.StatusUnauthorized},
		{"wrong password", basicSrv, "Basic " + b64(user+":nope"), http.StatusUnauthorized},
		{"bearer on basic-only", basicSrv, "Bearer " + tok, http.StatusUnauthorized},
		{"bearer ok", tokenSrv, "Bearer " + tok, http.StatusOK},
		{"bearer wrong", tokenSrv, "Bearer nope", http.StatusUnauthorized},
		{"basic on token-only", tokenSrv, "Basic " + b64(user+":"+pass), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := map[string]string{}
			switch tc.header {
			case "":
			case "-":
				h["Authorization"] = ""
			default:
				h["Authorization"] = tc.header
			}
			r := call(t, tc.srv, http.MethodGet, "/api/now/table/incident", "", h)
			require.Equal(t, tc.want, r.Status, r.Body)
			if tc.want == http.StatusUnauthorized {
				require.Equal(t, "User Not Authenticated", errorMessage(t, r))
				require.NotContains(t, r.Body, pass)
			}
		})
	}
}

func b64(s string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	u, p, _ := strings.Cut(s, ":")
	req.SetBasicAuth(u, p)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestLogsNoSecrets(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, srv := newStub(t, Options{Logger: logger})
	call(t, srv, http.MethodPost, "/api/now/table/incident", `{"short_description":"x"}`, nil)
	call(t, srv, http.MethodGet, "/api/now/table/incident", "", map[string]string{"Authorization": "Basic " + b64(user+":wrong-"+pass)})
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, logs.String(), "status=201")
	require.Contains(t, logs.String(), "status=401")
	for _, secret := range []string{pass, b64(user + ":" + pass), "Authorization"} {
		require.NotContains(t, logs.String(), secret)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestTableAPIRules(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t, Options{})
	existing := result(t, call(t, srv, http.MethodPost, "/api/now/table/incident", `{"short_description":"x"}`, nil))["sys_id"]
	for _, tc := range []struct {
		name, method, path, body string
		headers                  map[string]string
		want                     int
		msg                      string
	}{
		{"POST without Accept", http.MethodPost, "/api/now/table/incident", `{"a":"b"}`, map[string]string{"Accept": ""}, 400, "Accept"},
		{"PATCH without Accept", http.MethodPatch, "/api/now/table/incident/" + existing, `{"a":"b"}`, map[string]string{"Accept": ""}, 400, "Accept"},
		{"POST Accept xml", http.MethodPost, "/api/now/table/incident", `{"a":"b"}`, map[string]string{"Accept": "application/xml"}, 400, "Accept"},
		{"POST without Content-Type", http.MethodPost, "/api/now/table/incident", `{"a":"b"}`, map[string]string{"Content-Type": ""}, 400, "Content-Type"},
		{"POST text/plain", http.MethodPost, "/api/now/table/incident", `{"a":"b"}`, map[string]string{"Content-Type": "text/plain"}, 415, "Content-Type"},
		{"number value", http.MethodPost, "/api/now/table/incident", `{"short_description":"x","urgency":1}`, nil, 400, `"urgency"`},
		{"null value", http.MethodPost, "/api/now/table/incident", `{"impact":null}`, nil, 400, `"impact"`},
		{"object value", http.MethodPatch, "/api/now/table/incident/" + existing, `{"caller_id":{"value":"x"}}`, nil, 400, `"caller_id"`},
		{"array body", http.MethodPost, "/api/now/table/incident", `[{"a":"b"}]`, nil, 400, "JSON object"},
		{"broken JSON", http.MethodPost, "/api/now/table/incident", `{"a":`, nil, 400, "JSON object"},
		{"bad field name", http.MethodPost, "/api/now/table/incident", `{"a b":"c"}`, nil, 400, "field name"},
		{"bad table", http.MethodGet, "/api/now/table/Inc-ident", "", nil, 400, "Invalid table"},
		{"PUT on table", http.MethodPut, "/api/now/table/incident", `{"a":"b"}`, nil, 405, "Method"},
		{"POST on record", http.MethodPost, "/api/now/table/incident/" + existing, `{"a":"b"}`, nil, 405, "Method"},
		{"unknown sys_id GET", http.MethodGet, "/api/now/table/incident/0123456789abcdef0123456789abcdef", "", nil, 404, "No Record found"},
		{"unknown sys_id PATCH", http.MethodPatch, "/api/now/table/incident/0123456789abcdef0123456789abcdef", `{"a":"b"}`, nil, 404, "No Record found"},
		{"bad limit", http.MethodGet, "/api/now/table/incident?sysparm_limit=x", "", nil, 400, "sysparm_limit"},
		{"not the table API", http.MethodGet, "/api/now/stats/incident", "", nil, 400, "resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, srv, tc.method, tc.path, tc.body, tc.headers)
			require.Equal(t, tc.want, r.Status, r.Body)
			require.Contains(t, errorMessage(t, r), tc.msg)
		})
	}
}

func TestUpdateAndJournal(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, Options{})
	id := result(t, call(t, srv, http.MethodPost, "/api/now/table/incident", `{"short_description":"x"}`, nil))["sys_id"]
	r := call(t, srv, http.MethodPatch, "/api/now/table/incident/"+id, `{"work_notes":"Seen again in incident 7","urgency":"1","impact":"1"}`, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	rec := result(t, r)
	require.Equal(t, "1", rec["sys_mod_count"])
	require.Equal(t, "1", rec["priority"])
	require.Equal(t, "", rec["work_notes"])

	disp := result(t, call(t, srv, http.MethodGet, "/api/now/table/incident/"+id+"?sysparm_display_value=true&sysparm_fields=work_notes,number", "", nil))
	require.Contains(t, disp["work_notes"], "Seen again in incident 7")
	require.Contains(t, disp["work_notes"], "(Work notes)")
	require.Len(t, disp, 2)
	require.Equal(t, []string{"Seen again in incident 7"}, s.Journal("incident", id, "work_notes"))

	// Resolving an incident makes it inactive, as the platform's business rule does.
	result(t, call(t, srv, http.MethodPatch, "/api/now/table/incident/"+id, `{"state":"6"}`, nil))
	require.Equal(t, "false", s.Records("incident")[0]["active"])

	r = call(t, srv, http.MethodDelete, "/api/now/table/incident/"+id, "", nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	require.Equal(t, 0, s.CreatedCount("incident"))
}

func TestQuery(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t, Options{})
	for _, body := range []string{
		`{"name":"alpha","correlation_id":"interlock-ews-aaa","category":"network"}`,
		`{"name":"Beta","correlation_id":"interlock-ews-bbb","category":"hardware"}`,
		`{"name":"x^ORactive=true","correlation_id":"interlock-ews-ccc","category":"network"}`,
		`{"name":"gamma","correlation_id":"interlock-ews-ddd","category":"network","state":"7"}`,
	} {
		require.Equal(t, http.StatusCreated, call(t, srv, http.MethodPost, "/api/now/table/incident", body, nil).Status)
	}
	names := func(q string) []string {
		r := call(t, srv, http.MethodGet, "/api/now/table/incident?"+q, "", nil)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var out []string
		for _, rec := range results(t, r) {
			out = append(out, rec["name"])
		}
		return out
	}
	qs := func(q string) string { return "sysparm_query=" + url.QueryEscape(q) }
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"equals", qs("correlation_id=interlock-ews-aaa"), []string{"alpha"}},
		{"equals ignores case", qs("name=beta"), []string{"Beta"}},
		{"and", qs("category=network^active=true"), []string{"alpha", "x^ORactive=true"}},
		{"not equals", qs("category!=network"), []string{"Beta"}},
		{"in", qs("correlation_idINinterlock-ews-aaa,interlock-ews-bbb"), []string{"alpha", "Beta"}},
		{"not in", qs("correlation_idNOT INinterlock-ews-aaa,interlock-ews-bbb"), []string{"x^ORactive=true", "gamma"}},
		{"like", qs("nameLIKEAMM"), []string{"gamma"}},
		{"startswith", qs("nameSTARTSWITHal"), []string{"alpha"}},
		{"or", qs("name=alpha^ORname=gamma"), []string{"alpha", "gamma"}},
		{"new query", qs("name=alpha^NQcategory=hardware"), []string{"alpha", "Beta"}},
		{"order desc", qs("category=network^ORDERBYDESCname"), []string{"x^ORactive=true", "gamma", "alpha"}},
		{"caret escape", qs("name=x^^ORactive=true"), []string{"x^ORactive=true"}},
		{"unescaped caret injects", qs("name=x^ORactive=true"), []string{"alpha", "Beta", "x^ORactive=true"}},
		{"is empty", qs("stateISEMPTY"), nil},
		{"limit", qs("ORDERBYname") + "&sysparm_limit=2", []string{"alpha", "Beta"}},
		{"offset", qs("ORDERBYname") + "&sysparm_limit=1&sysparm_offset=1", []string{"Beta"}},
		// Invalid parts are dropped, as on a real instance: these match more than they seem to.
		{"unknown field dropped", qs("no_such_field=1^category=hardware"), []string{"Beta"}},
		{"only unknown field matches all", qs("correlaton_id=interlock-ews-aaa"), []string{"alpha", "Beta", "x^ORactive=true", "gamma"}},
		{"unknown operator dropped", qs("name~alpha"), []string{"alpha", "Beta", "x^ORactive=true", "gamma"}},
		{"empty query matches all", "", []string{"alpha", "Beta", "x^ORactive=true", "gamma"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, names(tc.query))
		})
	}

	t.Run("fields", func(t *testing.T) {
		t.Parallel()
		r := call(t, srv, http.MethodGet, "/api/now/table/incident?sysparm_fields=number,name&"+qs("name=alpha"), "", nil)
		require.Equal(t, []map[string]string{{"number": "INC0010001", "name": "alpha"}}, results(t, r))
		require.Equal(t, "1", r.Header.Get("X-Total-Count"))
	})
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "snow", "state.json")
	s1, srv := newStub(t, Options{File: file})
	r := call(t, srv, http.MethodPost, "/api/now/table/incident", `{"short_description":"kept"}`, nil)
	require.Equal(t, http.StatusCreated, r.Status)
	require.NoError(t, s1.Close(), "Close writes what the debounce still holds")

	s2, srv2 := newStub(t, Options{File: file})
	require.Equal(t, "kept", s2.Records("incident")[0]["short_description"])
	r = call(t, srv2, http.MethodPost, "/api/now/table/incident", `{"short_description":"next"}`, nil)
	require.Equal(t, "INC0010002", result(t, r)["number"], "the sequence survives a restart")
}

func TestPageEscapes(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t, Options{})
	hostile := `<script>alert("x")</script>`
	r := call(t, srv, http.MethodPost, "/api/now/table/incident", `{"short_description":"`+strings.ReplaceAll(hostile, `"`, `\"`)+`","correlation_id":"<img src=x onerror=alert(1)>"}`, nil)
	require.Equal(t, http.StatusCreated, r.Status)
	id := result(t, r)["sys_id"]
	call(t, srv, http.MethodPatch, "/api/now/table/incident/"+id, `{"work_notes":"<b>bold</b>"}`, nil)

	for _, path := range []string{"/", "/tickets", "/nav_to.do?uri=" + url.QueryEscape("incident.do?sys_id="+id), "/incident.do?sys_id=" + id} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			page := call(t, srv, http.MethodGet, path, "", map[string]string{"Accept": "text/html"})
			require.Equal(t, http.StatusOK, page.Status)
			require.Contains(t, page.Header.Get("Content-Type"), "text/html")
			require.Contains(t, page.Header.Get("Content-Security-Policy"), "default-src 'none'")
			require.Contains(t, page.Body, "Local ServiceNow stand-in — not a real instance")
			require.Contains(t, page.Body, "&lt;script&gt;")
			require.NotContains(t, page.Body, "<script>")
			require.NotContains(t, page.Body, "<img")
			require.NotContains(t, page.Body, "<b>bold")
		})
	}
	t.Run("auth", func(t *testing.T) {
		t.Parallel()
		r := call(t, srv, http.MethodGet, "/", "", map[string]string{"Authorization": ""})
		require.Equal(t, http.StatusUnauthorized, r.Status)
		require.Contains(t, r.Header.Get("WWW-Authenticate"), "Basic")
	})
	t.Run("unknown record", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, http.StatusNotFound, call(t, srv, http.MethodGet, "/incident.do?sys_id=nope", "", nil).Status)
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("unavailable then rate limited", func(t *testing.T) {
		t.Parallel()
		s, srv := newStub(t, Options{})
		s.InjectFaults(Faults{Unavailable: 1, TooManyRequests: 1, RetryAfter: 2 * time.Second})
		r := call(t, srv, http.MethodGet, "/api/now/table/incident", "", nil)
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		r = call(t, srv, http.MethodGet, "/api/now/table/incident", "", nil)
		require.Equal(t, http.StatusTooManyRequests, r.Status)
		require.Equal(t, "2", r.Header.Get("Retry-After"))
		require.Equal(t, http.StatusOK, call(t, srv, http.MethodGet, "/api/now/table/incident", "", nil).Status)
		require.Equal(t, 3, s.Requests())
	})
	t.Run("dropped response still creates", func(t *testing.T) {
		t.Parallel()
		s, srv := newStub(t, Options{})
		s.InjectFaults(Faults{DropResponse: 1})
		// A read does not use up a drop meant for a write.
		require.Equal(t, http.StatusOK, call(t, srv, http.MethodGet, "/api/now/table/incident", "", nil).Status)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/now/table/incident", strings.NewReader(`{"short_description":"x"}`))
		require.NoError(t, err)
		req.SetBasicAuth(user, pass)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err)
		require.Equal(t, 1, s.CreatedCount("incident"))
	})
	t.Run("hang", func(t *testing.T) {
		t.Parallel()
		s, srv := newStub(t, Options{})
		s.InjectFaults(Faults{Hang: 1, HangFor: 50 * time.Millisecond})
		start := time.Now()
		require.Equal(t, http.StatusOK, call(t, srv, http.MethodGet, "/api/now/table/incident", "", nil).Status)
		require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	})
}

func TestOpenRejectsCorruptFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(file, []byte("not json"), 0o600))
	_, err := Open(Options{File: file})
	require.ErrorContains(t, err, "not a stand-in state file")
	s := New(Options{File: file})
	require.Equal(t, "in memory", s.file.Storage(), "a file that did not load is never overwritten")
}

func TestCreatedAtField(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 8, 14, 31, 123456789, time.UTC)
	_, srv := newStub(t, Options{Now: func() time.Time { return at }})
	r := call(t, srv, http.MethodPost, "/api/now/table/incident", `{"short_description":"x","`+CreatedAtField+`":"forged"}`, nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	rec := result(t, r)
	require.Equal(t, "2026-11-20T08:14:31.123456789Z", rec[CreatedAtField], "exact creation time, not the client's value")

	r = call(t, srv, http.MethodPatch, "/api/now/table/incident/"+rec["sys_id"], `{"`+CreatedAtField+`":"forged"}`, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Equal(t, "2026-11-20T08:14:31.123456789Z", result(t, r)[CreatedAtField], "an update cannot change it")
}

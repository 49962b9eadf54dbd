package sensorstandin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const token = "1234b734a9244d54ab8d40aedddcabcd"

func newStub(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	s := New(opts)
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, srv
}

type reply struct {
	Status int
	Header http.Header
	Body   string
}

// call sends a request with the token unless headers override it ("" deletes).
func call(t *testing.T, srv *httptest.Server, method, path, body string, headers map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", token)
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

func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), r.Body)
	return v
}

func TestUpdateAnswers(t *testing.T) {
	t.Parallel()
	type state struct{ handled, learned bool }
	for _, tc := range []struct {
		name       string
		start      state
		body       string
		wantStatus int
		wantKey    string // "content" or "error"
		wantText   string
		want       state
	}{
		{"handle", state{}, `{"action":"handle"}`, 200, "content", "Alert update request finished successfully", state{true, false}},
		{"handleAndLearn", state{}, `{"action":"handleAndLearn"}`, 200, "content", "Alert update request finished successfully", state{true, true}},
		{"handle, already handled", state{true, false}, `{"action":"handle"}`, 200, "content", "Alert was already handled (handle)", state{true, false}},
		{"handleAndLearn, already learned", state{true, true}, `{"action":"handleAndLearn"}`, 200, "content", "Alert was already handled and learned (handleAndLearn)", state{true, true}},
		{"handleAndLearn, already handled", state{true, false}, `{"action":"handleAndLearn"}`, 200, "content", "Alert was already handled (handled). Handle and learn (handleAndLearn) was performed on the alert", state{true, true}},
		{"handle, already learned", state{true, true}, `{"action":"handle"}`, 200, "content", "Alert was already handled and learned (handleAndLearn). Ignored handle request", state{true, true}},
		{"invalid action", state{}, `{"action":"close"}`, 500, "error", "Invalid action", state{}},
		{"action in other case", state{}, `{"action":"Handle"}`, 500, "error", "Invalid action", state{}},
		{"no action", state{}, `{}`, 500, "error", "Invalid action", state{}},
		{"action not a string", state{}, `{"action":1}`, 500, "error", "Invalid action", state{}},
		{"not JSON", state{}, `action=handle`, 500, "error", "Unexpected error occurred", state{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, srv := newStub(t, Options{})
			a := s.AddAlert(Alert{ID: 1, Time: time.UnixMilli(1594550943000), Title: "Unauthorized PLC programming", Handled: tc.start.handled, Learned: tc.start.learned})
			require.Equal(t, "1-1594550943000", a.UUID)
			// The documented curl example sends the JSON as a form; the appliance reads it anyway.
			r := call(t, srv, http.MethodPut, "/external/v1/alerts/"+a.UUID, tc.body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			require.Equal(t, tc.wantStatus, r.Status, r.Body)
			require.Equal(t, map[string]string{tc.wantKey: tc.wantText}, decode[map[string]string](t, r))
			got, ok := s.Alert(a.UUID)
			require.True(t, ok)
			require.Equal(t, tc.want, state{got.Handled, got.Learned})
		})
	}

	t.Run("unknown UUID", func(t *testing.T) {
		t.Parallel()
		_, srv := newStub(t, Options{})
		r := call(t, srv, http.MethodPut, "/external/v1/alerts/9-1594550943000", `{"action":"handle"}`, nil)
		require.Equal(t, http.StatusInternalServerError, r.Status)
		require.Equal(t, map[string]string{"error": "Couldn't execute request because no alert was found for this UUID"}, decode[map[string]string](t, r))
	})

	t.Run("requests are logged with the action", func(t *testing.T) {
		t.Parallel()
		s, srv := newStub(t, Options{})
		a := s.AddAlert(Alert{Title: "x"})
		require.Equal(t, 200, call(t, srv, http.MethodPut, "/external/v1/alerts/"+a.UUID, `{"action":"handleAndLearn"}`, nil).Status)
		reqs := s.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, Request{Method: http.MethodPut, Path: "/external/v1/alerts/" + a.UUID, Status: 200, At: reqs[0].At, Action: "handleAndLearn"}, reqs[0])
	})
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, Options{})
	a := s.AddAlert(Alert{Title: "x"})
	for _, tc := range []struct {
		name   string
		header string
		want   int
	}{
		{"raw token", token, http.StatusOK},
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "0000b734a9244d54ab8d40aedddcabcd", http.StatusUnauthorized},
		{"Bearer prefix", "Bearer " + token, http.StatusUnauthorized},
		{"token in lower case scheme", "bearer " + token, http.StatusUnauthorized},
		{"token as basic auth", "Basic " + token, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, req := range []struct{ method, path, body string }{
				{http.MethodGet, "/external/v1/alerts", ""},
				{http.MethodGet, "/external/v2/alerts", ""},
				{http.MethodPut, "/external/v1/alerts/" + a.UUID, `{"action":"handle"}`},
			} {
				if req.method == http.MethodPut && tc.want == http.StatusOK {
					continue // would change the alert under the other cases
				}
				r := call(t, srv, req.method, req.path, req.body, map[string]string{"Authorization": tc.header})
				require.Equal(t, tc.want, r.Status, r.Body)
				if tc.want == http.StatusUnauthorized {
					require.NotEmpty(t, decode[map[string]string](t, r)["error"])
					require.NotContains(t, r.Body, token)
				}
			}
		})
	}
	got, _ := s.Alert(a.UUID)
	require.False(t, got.Handled, "no refused PUT changed the alert")

	// A stand-in without a token lets nobody in.
	open := New(Options{})
	srvOpen := httptest.NewTLSServer(open)
	t.Cleanup(srvOpen.Close)
	r := call(t, srvOpen, http.MethodGet, "/external/v1/alerts", "", map[string]string{"Authorization": ""})
	require.Equal(t, http.StatusUnauthorized, r.Status)
}

func TestListAlerts(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, Options{})
	base := time.UnixMilli(1594808245000)
	s.AddAlert(Alert{Time: base, Title: "Traffic Detected on sensor Interface", Message: "m1", Severity: "Warning", Engine: "Operational",
		SensorName: "sensor-rtm", ZoneName: "Line 3", SiteName: "Rotterdam Plant"})
	s.AddAlert(Alert{Time: base.Add(15 * time.Second), Title: "Address Scan Detected", Severity: "Critical", Engine: "Anomaly",
		SourceDeviceAddress: "10.10.10.22", SensorName: "sensor-rtm", ZoneName: "Line 3", SiteName: "Rotterdam Plant", Handled: true})
	s.AddAlert(Alert{Time: base.Add(40 * time.Second), Title: "Unauthorized PLC Programming", Severity: "Major", Engine: "Policy Violation",
		SourceDeviceAddress: "10.13.10.7", DestinationDeviceAddress: "10.13.10.1", RemediationSteps: "Verify the change.",
		SensorName: "sensor-ams", ZoneName: "Packaging", SiteName: "Amsterdam", Learned: true})
	s.AddAlert(Alert{Time: base.Add(60 * time.Second), Title: "New Asset Detected", Severity: "Minor", Engine: "Protocol Violation",
		SourceDeviceAddress: "10.10.10.22", SensorName: "sensor-rtm", ZoneName: "Line 3", SiteName: "Rotterdam Plant"})

	ids := func(t *testing.T, path string) []int {
		t.Helper()
		r := call(t, srv, http.MethodGet, path, "", nil)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var out []int
		for _, a := range decode[[]map[string]any](t, r) {
			out = append(out, int(a["id"].(float64)))
		}
		return out
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(base.Add(d).UnixMilli(), 10) }
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{"", []int{1, 2, 3, 4}},
		{"?state=handled", []int{2, 3}},
		{"?state=unhandled", []int{1, 4}},
		{"?state=everything", []int{1, 2, 3, 4}},
		{"?state=&zoneId=&fromTime=&toTime=&siteId=&sensor=", []int{1, 2, 3, 4}},
		{"?fromTime=" + ms(15*time.Second), []int{2, 3, 4}},
		{"?toTime=" + ms(40*time.Second), []int{1, 2}},
		{"?fromTime=" + ms(time.Second) + "&toTime=" + ms(61*time.Second), []int{2, 3, 4}},
		{"?fromTime=soon", []int{1, 2, 3, 4}},
		{"?siteId=2", []int{3}},
		{"?siteId=1&state=unhandled", []int{1, 4}},
		{"?zoneId=1&sensor=1", []int{1, 2, 4}},
		{"?sensor=2", []int{3}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, ids(t, "/external/v1/alerts"+tc.query))
			require.Equal(t, tc.want, ids(t, "/external/v2/alerts"+tc.query))
		})
	}

	t.Run("fields", func(t *testing.T) {
		t.Parallel()
		v1 := decode[[]map[string]any](t, call(t, srv, http.MethodGet, "/external/v1/alerts", "", nil))
		v2 := decode[[]map[string]any](t, call(t, srv, http.MethodGet, "/external/v2/alerts", "", nil))
		a1, a2 := v1[2], v2[2]
		require.Equal(t, "1-1594808245000", v1[0]["uuid"])
		require.EqualValues(t, base.Add(40*time.Second).UnixMilli(), a1["time"])
		require.Equal(t, "Major", a1["severity"])
		require.Equal(t, "Policy Violation", a1["engine"])
		require.Equal(t, true, a1["handled"], "learned is handled")
		require.EqualValues(t, 2, a1["siteId"])
		require.EqualValues(t, 2, a1["zoneId"])
		require.EqualValues(t, 2, a1["sensorId"])
		require.EqualValues(t, 2, a1["sourceDevice"], "devices are numbered from 1 in order of appearance")
		require.EqualValues(t, 3, a1["destinationDevice"])
		require.EqualValues(t, 0, v1[0]["sourceDevice"], "no device: 0")
		require.Contains(t, a1, "additionalInformation")
		for _, k := range []string{"sourceDeviceAddress", "destinationDeviceAddress", "remediationSteps", "sensorName", "zoneName", "siteName"} {
			require.NotContains(t, a1, k, "v1 has no %s", k)
			require.Contains(t, a2, k, "v2 has %s", k)
		}
		require.Equal(t, "10.13.10.7", a2["sourceDeviceAddress"])
		require.Equal(t, "10.13.10.1", a2["destinationDeviceAddress"])
		require.Equal(t, "Verify the change.", a2["remediationSteps"])
		require.Equal(t, "sensor-ams", a2["sensorName"])
		require.Equal(t, "Packaging", a2["zoneName"])
		require.Equal(t, "Amsterdam", a2["siteName"])
	})

	t.Run("routes", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, http.StatusMethodNotAllowed, call(t, srv, http.MethodPost, "/external/v1/alerts", `{}`, nil).Status)
		require.Equal(t, http.StatusMethodNotAllowed, call(t, srv, http.MethodGet, "/external/v1/alerts/1-1594808245000", "", nil).Status)
		require.Equal(t, http.StatusNotFound, call(t, srv, http.MethodPut, "/external/v2/alerts/1-1594808245000", `{"action":"handle"}`, nil).Status)
		require.Equal(t, http.StatusNotFound, call(t, srv, http.MethodGet, "/external/v1/devices", "", nil).Status)
	})
}

func TestAddAlert(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 20, 8, 14, 31, 123456789, time.UTC)
	s := New(Options{Token: token, Now: func() time.Time { return at }})
	a := s.AddAlert(Alert{Title: "x"})
	require.Equal(t, 1, a.ID)
	require.Equal(t, at.Truncate(time.Millisecond), a.Time)
	require.Equal(t, "1-"+strconv.FormatInt(at.UnixMilli(), 10), a.UUID)
	require.Equal(t, "Warning", a.Severity)
	require.Equal(t, "Operational", a.Engine)
	b := s.AddAlert(Alert{ID: 7, UUID: "custom", Learned: true})
	require.True(t, b.Handled, "learned implies handled")
	c := s.AddAlert(Alert{})
	require.Equal(t, 8, c.ID)
	s.AddAlert(Alert{ID: 7, UUID: "custom", Title: "replaced"})
	all := s.Alerts()
	require.Len(t, all, 3)
	require.Equal(t, []int{1, 7, 8}, []int{all[0].ID, all[1].ID, all[2].ID})
	require.Equal(t, "replaced", all[1].Title)
	_, ok := s.Alert("nope")
	require.False(t, ok)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	t.Run("503", func(t *testing.T) {
		t.Parallel()
		s, srv := newStub(t, Options{})
		a := s.AddAlert(Alert{})
		s.InjectFaults(Faults{Unavailable: 1})
		r := call(t, srv, http.MethodPut, "/external/v1/alerts/"+a.UUID, `{"action":"handle"}`, nil)
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		got, _ := s.Alert(a.UUID)
		require.False(t, got.Handled, "a 503 does nothing")
		require.Equal(t, http.StatusOK, call(t, srv, http.MethodPut, "/external/v1/alerts/"+a.UUID, `{"action":"handle"}`, nil).Status)
	})

	t.Run("a hung PUT is carried out after the client gave up", func(t *testing.T) {
		t.Parallel()
		s := New(Options{Token: token})
		a := s.AddAlert(Alert{})
		// The wrapper tells the test when the stand-in has the whole request, so the client gives up
		// during the hang however slow the machine is.
		arrived := make(chan struct{}, 1)
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			data, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(data))
			arrived <- struct{}{}
			s.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		s.InjectFaults(Faults{Hang: 1, HangFor: 500 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/external/v1/alerts/"+a.UUID, strings.NewReader(`{"action":"handle"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", token)
		_, err = srv.Client().Do(req)
		require.ErrorIs(t, err, context.Canceled)
		srv.Close() // waits for the handler to finish
		got, _ := s.Alert(a.UUID)
		require.True(t, got.Handled)
		require.Equal(t, http.StatusOK, s.Requests()[0].Status)
	})

	t.Run("Close ends a hang", func(t *testing.T) {
		t.Parallel()
		s, srv := newStub(t, Options{})
		s.InjectFaults(Faults{Hang: 1, HangFor: time.Hour})
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/external/v1/alerts", nil)
			req.Header.Set("Authorization", token)
			resp, err := srv.Client().Do(req)
			if err != nil {
				done <- -1
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		require.NoError(t, s.Close()) // before or during the hang: either way it does not wait an hour
		select {
		case status := <-done:
			require.Equal(t, http.StatusOK, status)
		case <-time.After(30 * time.Second): // a safeguard, not an ordering: the hang is an hour
			t.Fatal("Close did not end the hang")
		}
	})
}

func TestPage(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, Options{PageUser: "dev", PagePassword: "pw"})
	s.AddAlert(Alert{Title: `<script>alert(1)</script>`, SiteName: "Rotterdam Plant"})
	s.AddAlert(Alert{Title: "learned one", Learned: true})
	require.Equal(t, http.StatusOK, call(t, srv, http.MethodGet, "/external/v1/alerts", "", nil).Status)

	r := call(t, srv, http.MethodGet, "/", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	require.NoError(t, err)
	req.SetBasicAuth("dev", "pw")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := string(b)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'", resp.Header.Get("Content-Security-Policy"))
	require.Contains(t, body, "not a real appliance")
	require.Contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.NotContains(t, body, "<script>")
	require.Contains(t, body, "Handled and learned")
	require.Contains(t, body, "Unhandled")
	require.Contains(t, body, "/external/v1/alerts")
	require.Contains(t, body, `<meta http-equiv="refresh" content="1">`)
}

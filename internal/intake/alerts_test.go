package intake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/rules"
)

// memStore keeps incidents in memory with the real state logic (otincident.State), standing in for
// the incident workflows; unavailable makes every call fail as Temporal's absence does.
type memStore struct {
	mu          sync.Mutex
	incidents   map[string]*otincident.State
	starts      map[string]otincident.Start
	calls       int
	unavailable bool
	fail        error // when set, AddAlerts answers it
}

func newMemStore() *memStore {
	return &memStore{incidents: map[string]*otincident.State{}, starts: map[string]otincident.Start{}}
}

func (m *memStore) AddAlerts(_ context.Context, id string, start otincident.Start, recs []otincident.Record) (otincident.AddAlertsResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.unavailable {
		return otincident.AddAlertsResult{}, fmt.Errorf("%w: connection refused", ErrUnavailable)
	}
	if m.fail != nil {
		return otincident.AddAlertsResult{}, m.fail
	}
	s := m.incidents[id]
	if s == nil {
		s = &otincident.State{}
		m.incidents[id], m.starts[id] = s, start
	}
	res, _ := s.AddRecords(id, recs, testNow)
	return res, nil
}

func (m *memStore) Change(_ context.Context, id string, ch otincident.Change) (otincident.ChangeResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.incidents[id]
	if s == nil {
		return otincident.ChangeResult{}, otincident.ErrNotFound
	}
	res, _, err := s.Apply(ch, testNow)
	return res, err
}

func (m *memStore) State(_ context.Context, id string) (otincident.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.incidents[id]; s != nil {
		return *s, nil
	}
	return otincident.State{}, otincident.ErrNotFound
}

func (m *memStore) List(context.Context, otincident.Filter) ([]otincident.Listed, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []otincident.Listed
	for id, s := range m.incidents {
		out = append(out, otincident.Listed{ID: id, Title: s.Incident.Title, Status: s.Incident.Status})
	}
	return out, nil
}

func alertEnv(t *testing.T) (testEnv, *memStore) {
	t.Helper()
	eng, err := rules.Default([]string{"NewEngineeringStationTicket", "PLCReprogrammingNotice", "AlertStatusSync", "AutoTriageIncident", "AutoCloseIncidents", "MailByProductionLine", "IoTOwnerApproval", "CVEAutoWorkflow"})
	require.NoError(t, err)
	store := newMemStore()
	env := newTestEnv(t, func(o *Options) {
		o.Incidents, o.IncidentRules = store, rules.NewSet(eng)
		o.MaxAlertBatchBytes = 1 << 20
	})
	return env, store
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func withCT(ct string) func(*http.Request, []byte) {
	return func(r *http.Request, _ []byte) {
		r.Header.Set("Authorization", "Bearer "+testToken)
		r.Header.Set("Content-Type", ct)
	}
}

func alertsResponse(t *testing.T, a answer) AlertsResponse {
	t.Helper()
	var r AlertsResponse
	require.NoError(t, json.Unmarshal(a.body, &r), "body: %s", a.body)
	return r
}

func TestAlertsBatchAnswersPerRecord(t *testing.T) {
	t.Parallel()
	env, store := alertEnv(t)
	sensor := compact(t, readFixture(t, "sensor-alert-unauthorized-plc-programming.json"))
	record := compact(t, readFixture(t, "d4iot-securityalert-unauthorized-plc-programming.json"))
	other := strings.Replace(sensor, `"2210-1796198400000"`, `"2299-1796198400000"`, 1)
	other = strings.Replace(other, "Unauthorized PLC Programming", "Excessive Login Attempts", 1)
	body := strings.Join([]string{
		sensor,
		`{"uuid": "1-1", "title": "x<script>", "severity": "Bogus"}`, // hostile: a bad severity
		`not json at all`,
		`42`,
		record,
		sensor, // a re-send inside the batch
		other,
		"",
	}, "\n")
	a := do(t, http.MethodPost, env.url+routeAlerts, []byte(body), withCT("application/x-ndjson"))
	require.Equal(t, http.StatusAccepted, a.code, "%s", a.body)
	r := alertsResponse(t, a)
	require.Len(t, r.Records, 7)
	status := make([]string, len(r.Records))
	for i, rec := range r.Records {
		status[i] = rec.Status
	}
	require.Equal(t, []string{"accepted", "rejected", "rejected", "rejected", "accepted", "duplicate", "accepted"}, status)
	require.Equal(t, 3, r.Accepted)
	require.Equal(t, 1, r.Duplicates)
	require.Equal(t, 3, r.Rejected)
	require.Equal(t, 3, r.Incidents)
	require.Equal(t, 2, r.Records[1].Line)
	require.Contains(t, r.Records[1].Field, "line 2")
	require.True(t, r.Records[0].Created)
	require.Equal(t, "ot-sensor-2210-1796198400000", r.Records[0].Incident)
	require.Equal(t, "Unauthorized PLC changes (Microsoft Defender for IoT)", r.Records[0].Rule)
	require.Equal(t, "Excessive Login Attempts (Microsoft Defender for IoT)", r.Records[6].Rule)
	require.Len(t, store.incidents, 3, "nothing for the bad lines")
	require.Contains(t, store.starts["ot-sensor-2210-1796198400000"].Summary, "Unauthorized PLC Programming")

	// The same batch again: every good record is a duplicate, nothing new.
	a = do(t, http.MethodPost, env.url+routeAlerts, []byte(body), withCT("application/x-ndjson"))
	require.Equal(t, http.StatusOK, a.code, "%s", a.body)
	r = alertsResponse(t, a)
	require.Equal(t, 0, r.Accepted)
	require.Equal(t, 4, r.Duplicates)
	require.Len(t, store.incidents, 3)
}

func TestAlertsSingleAndArray(t *testing.T) {
	t.Parallel()
	env, store := alertEnv(t)
	sensor := readFixture(t, "sensor-alert-unauthorized-plc-programming.json")
	a := do(t, http.MethodPost, env.url+routeAlerts, []byte(sensor), withCT("application/json"))
	require.Equal(t, http.StatusAccepted, a.code, "%s", a.body)

	a = do(t, http.MethodPost, env.url+routeAlerts, []byte(`{"uuid": "5-5", "title": "", "severity": "Major"}`), withCT("application/json"))
	require.Equal(t, http.StatusBadRequest, a.code, "a single bad record is a 400 like /v1/incidents")
	require.Equal(t, "title", a.json(t)["field"])

	arr := "[" + compact(t, sensor) + `, "nope"]`
	a = do(t, http.MethodPost, env.url+routeAlerts, []byte(arr), withCT("application/json"))
	require.Equal(t, http.StatusOK, a.code, "%s", a.body)
	r := alertsResponse(t, a)
	require.Equal(t, "duplicate", r.Records[0].Status)
	require.Equal(t, "[1]", r.Records[1].Field)
	require.Len(t, store.incidents, 1)

	a = do(t, http.MethodPost, env.url+routeAlerts, []byte(sensor), withCT("text/plain"))
	require.Equal(t, http.StatusUnsupportedMediaType, a.code)
	a = do(t, http.MethodPost, env.url+routeAlerts, []byte(sensor), nil)
	require.Equal(t, http.StatusUnauthorized, a.code)
}

func TestAlertsUnavailableIsRetryable(t *testing.T) {
	t.Parallel()
	env, store := alertEnv(t)
	store.unavailable = true
	sensor := readFixture(t, "sensor-alert-unauthorized-plc-programming.json")
	a := do(t, http.MethodPost, env.url+routeAlerts, []byte(sensor), withCT("application/json"))
	require.Equal(t, http.StatusServiceUnavailable, a.code)
	require.Equal(t, "5", a.header.Get("Retry-After"))
	require.Equal(t, "unavailable", alertsResponse(t, a).Records[0].Status)
	require.Empty(t, store.incidents)
}

// Only the incident's own refusal (its validator) or Temporal's refusal of the request is final; any
// other error, an update lost in a Temporal restart included (its outcome is not found), asks for the
// record again, which is safe: a record taken after all is answered duplicate.
func TestAlertsFailOnlyWhenRefusedForGood(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"update lost in a restart", fmt.Errorf("add alerts: %w", otincident.ErrNotFound), "unavailable"},
		{"internal error", serviceerror.NewInternal("history shard moved"), "unavailable"},
		{"aborted", serviceerror.NewAborted("update aborted"), "unavailable"},
		{"validator refused", temporal.NewApplicationError("too many records", "TooMany"), "failed"},
		{"request refused", serviceerror.NewInvalidArgument("payload too large"), "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, store := alertEnv(t)
			store.fail = tc.err
			sensor := readFixture(t, "sensor-alert-unauthorized-plc-programming.json")
			a := do(t, http.MethodPost, env.url+routeAlerts, []byte(sensor), withCT("application/json"))
			require.Equal(t, tc.want, alertsResponse(t, a).Records[0].Status, "%s", a.body)
		})
	}
}

func TestIncidentRoutes(t *testing.T) {
	t.Parallel()
	env, _ := alertEnv(t)
	sensor := readFixture(t, "sensor-alert-unauthorized-plc-programming.json")
	require.Equal(t, http.StatusAccepted, do(t, http.MethodPost, env.url+routeAlerts, []byte(sensor), withCT("application/json")).code)
	id := "ot-sensor-2210-1796198400000"
	url := env.url + "/v1/incidents/" + id

	a := do(t, http.MethodGet, url, nil, bearerJSON)
	require.Equal(t, http.StatusOK, a.code, "%s", a.body)
	require.Equal(t, "Unauthorized PLC Programming", a.json(t)["incident"].(map[string]any)["title"])

	patch := func(body string) answer {
		return do(t, http.MethodPatch, url, []byte(body), func(r *http.Request, b []byte) {
			bearerJSON(r, b)
			r.Header.Set(actorHeader, "cli:alice")
		})
	}
	a = patch(`{"status": "Closed"}`)
	require.Equal(t, http.StatusBadRequest, a.code)
	require.Equal(t, "classification", a.json(t)["field"])
	a = patch(`{"stauts": "Active"}`)
	require.Equal(t, http.StatusBadRequest, a.code)
	require.Equal(t, "stauts", a.json(t)["field"])
	a = patch(`{"status": "Active", "owner": "alice@example.com"}`)
	require.Equal(t, http.StatusOK, a.code, "%s", a.body)
	require.Equal(t, []any{"owner (none) → alice@example.com", "status New → Active"}, a.json(t)["changes"])

	a = do(t, http.MethodPost, url+"/comments", []byte(`{"message": "<img src=x onerror=alert(1)>\nchecked"}`), bearerJSON)
	require.Equal(t, http.StatusCreated, a.code, "%s", a.body)
	a = do(t, http.MethodPost, url+"/tasks", []byte(`{"title": "Compare the PLC program"}`), bearerJSON)
	require.Equal(t, http.StatusCreated, a.code, "%s", a.body)
	a = do(t, http.MethodPatch, url+"/tasks/1", []byte(`{"status": "Completed"}`), bearerJSON)
	require.Equal(t, http.StatusOK, a.code, "%s", a.body)
	a = patch(`{"status": "Closed", "classification": "FalsePositive", "classificationReason": "InaccurateData"}`)
	require.Equal(t, http.StatusOK, a.code, "%s", a.body)

	a = do(t, http.MethodGet, url, nil, bearerJSON)
	var v IncidentView
	require.NoError(t, json.Unmarshal(a.body, &v))
	require.Equal(t, "Closed", v.Incident.Status)
	require.Equal(t, "FalsePositive", v.Classification)
	require.Equal(t, "<p>&lt;img src=x onerror=alert(1)&gt;<br>checked</p>", v.Comments[0].Message, "a person's text is escaped")
	require.Equal(t, "Completed", v.Tasks[0].Status)
	var actors []string
	for _, e := range v.Timeline {
		actors = append(actors, e.Actor)
	}
	require.Contains(t, actors, "cli:alice", "the audit trail names who changed it")

	require.Equal(t, http.StatusNotFound, do(t, http.MethodGet, env.url+"/v1/incidents/ot-sensor-nope", nil, bearerJSON).code)
	require.Equal(t, http.StatusNotFound, do(t, http.MethodGet, env.url+"/v1/incidents/4312", nil, bearerJSON).code)
	require.Equal(t, http.StatusUnauthorized, do(t, http.MethodGet, url, nil, nil).code)
	a = do(t, http.MethodGet, env.url+"/v1/incidents?open=true", nil, bearerJSON)
	require.Equal(t, http.StatusOK, a.code, "%s", a.body)
}

// TestAlertsGroupedIntoOneIncident: a creation rule that groups by source device puts the alerts of
// one engineering session into one incident; another source gets its own.
func TestAlertsGroupedIntoOneIncident(t *testing.T) {
	t.Parallel()
	eng, err := rules.Parse([]byte(`
incidentRules:
  - name: Engineering session
    order: 10
    titlesHave: ["PLC"]
    groupBy: alert.sourceAddress
    groupWindow: 8h
    title: "Engineering session from {key}"
  - name: One incident per alert
    order: 1000
`), "grouping.yaml", nil)
	require.NoError(t, err)
	store := newMemStore()
	env := newTestEnv(t, func(o *Options) { o.Incidents, o.IncidentRules = store, rules.NewSet(eng) })
	base := compact(t, readFixture(t, "sensor-alert-unauthorized-plc-programming.json"))
	mk := func(uuid, title, src string) string {
		s := strings.Replace(base, "2210-1796198400000", uuid, 1)
		s = strings.Replace(s, "Unauthorized PLC Programming", title, 1)
		return strings.Replace(s, `"sourceDeviceAddress":"10.20.3.45"`, `"sourceDeviceAddress":"`+src+`"`, 1)
	}
	body := strings.Join([]string{
		mk("1-1796198400000", "Unauthorized PLC Programming", "10.20.3.45"),
		mk("2-1796198400000", "PLC Operating Mode Changed", "10.20.3.45"),
		mk("3-1796198400000", "Unauthorized PLC Program Upload", "10.20.3.99"),
	}, "\n")
	a := do(t, http.MethodPost, env.url+routeAlerts, []byte(body), withCT("application/x-ndjson"))
	require.Equal(t, http.StatusAccepted, a.code, "%s", a.body)
	r := alertsResponse(t, a)
	require.Equal(t, r.Records[0].Incident, r.Records[1].Incident, "one session, one incident")
	require.NotEqual(t, r.Records[0].Incident, r.Records[2].Incident)
	require.True(t, strings.HasPrefix(r.Records[0].Incident, "ot-g-"), r.Records[0].Incident)
	require.Equal(t, 2, r.Incidents)
	s := store.incidents[r.Records[0].Incident]
	require.Len(t, s.Incident.Alerts, 2)
	require.Equal(t, "Engineering session from 10.20.3.45", s.Incident.Title)
}

package playbooks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/servicenow"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/internal/testenv"
)

// stationDevice is the workstation of testdata/sentinel-incident-new-engineering-station.json.
func stationDevice() incident.Device {
	return incident.Device{
		ID: "4107", Name: "ENG-WS-07", Type: "Engineering Station", SubType: "Engineering Workstation",
		Vendor: "Dell", Model: "Precision 3660", MAC: "00:1a:2b:3c:4d:5e", IP: "10.20.3.45",
		Site: "Rotterdam Plant", Zone: "Packaging Line 3", Importance: "Normal", IsProgramming: true,
	}
}

func stationIncident(devices ...incident.Device) incident.Incident {
	return incident.Incident{
		ID: "3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c", ARMID: "/subscriptions/x/Incidents/3f2a9c1e", Number: 4312,
		Title: "(MDIoT) New Asset Detected", Severity: "Medium", URL: "https://portal.azure.com/#asset/x",
		LastActivity: time.Date(2026, 11, 20, 8, 2, 10, 0, time.UTC),
		Alerts:       []incident.Alert{{ID: "8b7c6d5e", Title: "(MDIoT) New Asset Detected", VendorOriginalID: "1a9f0b7e"}},
		Devices:      devices,
	}
}

func device(name, mac string, mod func(*incident.Device)) incident.Device {
	d := incident.Device{Name: name, MAC: mac, Type: "Engineering Station", Site: "Rotterdam Plant"}
	if mod != nil {
		mod(&d)
	}
	return d
}

// stationRig runs the workflow with mocked activities and records their calls.
type stationRig struct {
	env *testsuite.TestWorkflowEnvironment
	p   *NewEngineeringStation

	// ensure answers each EnsureTicket attempt (attempt counts from 1 per device); nil creates a ticket.
	ensure func(req activities.EnsureTicketRequest, attempt int) (activities.TicketResult, error)
	// commentErr, when set, fails every comment attempt.
	commentErr error

	mu       sync.Mutex
	requests []activities.EnsureTicketRequest
	attempts map[string]int
	comments []activities.CommentRequest
}

func newStationRig(t *testing.T, settings NewEngineeringStationSettings) *stationRig {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	r := &stationRig{env: suite.NewTestWorkflowEnvironment(), p: &NewEngineeringStation{Settings: settings}, attempts: map[string]int{}}
	registerActivityTypes(r.env)
	r.env.RegisterWorkflowWithOptions(r.p.Run, workflow.RegisterOptions{Name: NewEngineeringStationName})
	onActivity(r.env, activities.EnsureTicket).Return(
		func(_ context.Context, req activities.EnsureTicketRequest) (activities.TicketResult, error) {
			r.mu.Lock()
			r.requests = append(r.requests, req)
			key := activities.DeviceKey(req.Device)
			r.attempts[key]++
			attempt := r.attempts[key]
			r.mu.Unlock()
			if r.ensure != nil {
				return r.ensure(req, attempt)
			}
			return created(req), nil
		})
	onActivity(r.env, activities.AddIncidentComment).Return(
		func(_ context.Context, req activities.CommentRequest) (activities.WriteResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.comments = append(r.comments, req)
			if r.commentErr != nil {
				return activities.WriteResult{}, r.commentErr
			}
			return activities.WriteResult{Via: "log"}, nil
		})
	return r
}

func created(req activities.EnsureTicketRequest) activities.TicketResult {
	key := activities.DeviceKey(req.Device)
	n := map[string]string{"ENG-WS-07": "INC0010001", "ENG-WS-08": "INC0010002", "ENG-WS-09": "INC0010003"}[req.Device.Name]
	sysID := strings.Repeat(key[len(key)-1:], 32)
	return activities.TicketResult{
		Number: n, SysID: sysID, URL: "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D" + sysID,
		Table: "incident", CorrelationID: key, Created: true, Device: workstationName(req.Device),
	}
}

func (r *stationRig) run(t *testing.T, inc incident.Incident) (NewEngineeringStationResult, error) {
	t.Helper()
	r.env.ExecuteWorkflow(NewEngineeringStationName, inc)
	require.True(t, r.env.IsWorkflowCompleted())
	if err := r.env.GetWorkflowError(); err != nil {
		return NewEngineeringStationResult{}, err
	}
	var res NewEngineeringStationResult
	require.NoError(t, r.env.GetWorkflowResult(&res))
	return res, nil
}

func (r *stationRig) devicesAsked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.requests {
		out = append(out, req.Device.Name)
	}
	return out
}

func TestNewEngineeringStationNothingToDo(t *testing.T) {
	t.Parallel()
	plc := incident.Device{Name: "PLC-L3-01", Type: "PLC", MAC: "00:1a:2b:3c:4d:01"}
	authorized := device("ENG-WS-01", "00:1a:2b:3c:4d:02", func(d *incident.Device) { d.IsAuthorized = true })
	for _, tc := range []struct {
		name        string
		devices     []incident.Device
		wantReason  string
		wantSkipped []SkippedDevice
	}{
		{"no devices", nil, "no unauthorized engineering workstation among 0 devices", nil},
		{"only a PLC", []incident.Device{plc}, "no unauthorized engineering workstation among 1 devices", nil},
		{"authorized only", []incident.Device{plc, authorized}, "no unauthorized engineering workstation among 2 devices",
			[]SkippedDevice{{"ENG-WS-01", "authorized in Defender for IoT"}}},
		{"no way to identify it", []incident.Device{{Name: "ENG-WS-02", Type: "Engineering Station"}}, "no unauthorized engineering workstation among 1 devices",
			[]SkippedDevice{{"ENG-WS-02", "no MAC address, Defender for IoT device ID or IP address to identify it"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newStationRig(t, DefaultNewEngineeringStationSettings())
			res, err := r.run(t, stationIncident(tc.devices...))
			require.NoError(t, err)
			require.Equal(t, NewEngineeringStationResult{
				Incident: "3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c", Number: 4312, Reason: tc.wantReason, Skipped: tc.wantSkipped,
			}, res)
			require.Empty(t, r.requests, "no ticket")
			require.Empty(t, r.comments, "no comment")
		})
	}
}

func TestNewEngineeringStationOneWorkstation(t *testing.T) {
	t.Parallel()
	r := newStationRig(t, DefaultNewEngineeringStationSettings())
	inc := stationIncident(stationDevice(), incident.Device{Name: "PLC-L3-01", Type: "PLC", IP: "10.20.3.10"})
	res, err := r.run(t, inc)
	require.NoError(t, err)

	require.Len(t, r.requests, 1)
	req := r.requests[0]
	require.Equal(t, stationDevice(), req.Device)
	require.Equal(t, activities.NewTicketIncident(inc), req.Incident)
	require.Equal(t, "incident", req.Table)
	require.Equal(t, activities.TicketFields{Category: "network"}, req.Fields)
	require.Equal(t, inc.LastActivity, req.SeenAt)

	require.Equal(t, []activities.TicketResult{created(req)}, res.Tickets)
	require.Empty(t, res.Skipped)
	require.Empty(t, res.Failed)
	require.Empty(t, res.Reason)
	require.Len(t, r.comments, 1)
	c := r.comments[0]
	require.Equal(t, inc.ID, c.IncidentID)
	require.Equal(t, inc.ARMID, c.IncidentARMID)
	require.Equal(t, int64(4312), c.Number)
	require.Equal(t, res.Comment, c.Message)
	require.Contains(t, c.Message, `<li>ENG-WS-07 (10.20.3.45): new ticket <a href="`+created(req).URL+`">INC0010001</a></li>`)
}

func TestNewEngineeringStationSeveral(t *testing.T) {
	t.Parallel()
	r := newStationRig(t, DefaultNewEngineeringStationSettings())
	ws8 := device("ENG-WS-08", "00:1a:2b:3c:4d:08", func(d *incident.Device) { d.Type, d.SubType = "Workstation", "engineering workstation" })
	ws9 := device("ENG-WS-09", "00:1a:2b:3c:4d:09", func(d *incident.Device) { d.Type, d.IsProgramming = "Unknown", true })
	r.ensure = func(req activities.EnsureTicketRequest, _ int) (activities.TicketResult, error) {
		res := created(req)
		if req.Device.Name == "ENG-WS-08" {
			res.Created, res.Noted = false, true // an open ticket from an earlier incident
		}
		return res, nil
	}
	res, err := r.run(t, stationIncident(
		stationDevice(),
		device("ENG-WS-01", "00:1a:2b:3c:4d:01", func(d *incident.Device) { d.IsAuthorized = true }),
		ws8,
		incident.Device{Name: "HMI-3", Type: "HMI", MAC: "00:1a:2b:3c:4d:33"},
		device("eng-ws-07-alias", "00-1A-2B-3C-4D-5E", nil), // the same MAC as ENG-WS-07
		ws9,
	))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"ENG-WS-07", "ENG-WS-08", "ENG-WS-09"}, r.devicesAsked())
	var got []string
	for _, tk := range res.Tickets {
		got = append(got, tk.Number)
	}
	require.Equal(t, []string{"INC0010001", "INC0010002", "INC0010003"}, got, "results in device order")
	require.Equal(t, []SkippedDevice{
		{"ENG-WS-01", "authorized in Defender for IoT"},
		{"eng-ws-07-alias", "same device as ENG-WS-07 (10.20.3.45)"},
	}, res.Skipped)
	require.Len(t, r.comments, 1)
	msg := r.comments[0].Message
	require.Contains(t, msg, "ENG-WS-08: already open as <a")
	require.Contains(t, msg, "this incident was added to it as a work note")
	require.Contains(t, msg, "<li>ENG-WS-01: authorized in Defender for IoT</li>")
}

func TestNewEngineeringStationExistingTicket(t *testing.T) {
	t.Parallel()
	r := newStationRig(t, DefaultNewEngineeringStationSettings())
	r.ensure = func(req activities.EnsureTicketRequest, _ int) (activities.TicketResult, error) {
		res := created(req)
		res.Created = false // open, and this incident already noted on it
		return res, nil
	}
	res, err := r.run(t, stationIncident(stationDevice()))
	require.NoError(t, err)
	require.Len(t, res.Tickets, 1)
	require.False(t, res.Tickets[0].Created)
	require.Contains(t, res.Comment, "ENG-WS-07 (10.20.3.45): already open as <a")
	require.NotContains(t, res.Comment, "work note")
}

func TestNewEngineeringStationServiceNowDownThenUp(t *testing.T) {
	t.Parallel()
	r := newStationRig(t, DefaultNewEngineeringStationSettings())
	r.ensure = func(req activities.EnsureTicketRequest, attempt int) (activities.TicketResult, error) {
		if attempt <= 2 {
			return activities.TicketResult{}, temporal.NewApplicationError("look up ticket in incident: servicenow: 503", activities.FailureServiceNowUnavailable)
		}
		return created(req), nil
	}
	res, err := r.run(t, stationIncident(stationDevice()))
	require.NoError(t, err)
	require.Len(t, r.requests, 3, "two failed attempts, then the ticket")
	require.Len(t, res.Tickets, 1)
	require.Empty(t, res.Failed)
}

func TestNewEngineeringStationThrottledWaitsRetryAfter(t *testing.T) {
	t.Parallel()
	r := newStationRig(t, DefaultNewEngineeringStationSettings())
	var mu sync.Mutex
	var at []time.Time
	r.ensure = func(req activities.EnsureTicketRequest, attempt int) (activities.TicketResult, error) {
		mu.Lock()
		at = append(at, r.env.Now())
		mu.Unlock()
		if attempt == 1 {
			return activities.TicketResult{}, temporal.NewApplicationErrorWithOptions("throttled", activities.FailureServiceNowThrottled,
				temporal.ApplicationErrorOptions{NextRetryDelay: 2 * time.Minute})
		}
		return created(req), nil
	}
	_, err := r.run(t, stationIncident(stationDevice()))
	require.NoError(t, err)
	require.Len(t, at, 2)
	require.GreaterOrEqual(t, at[1].Sub(at[0]), 2*time.Minute, "the retry waits for ServiceNow's Retry-After (time skipped)")
}

func TestNewEngineeringStationRejected(t *testing.T) {
	t.Parallel()
	rejected := temporal.NewNonRetryableApplicationError("create ticket in incident", activities.FailureServiceNowRejected,
		errors.New("servicenow: POST /api/now/table/incident: 403 Forbidden: Operation Failed <b>ACL</b>"))

	t.Run("one of two", func(t *testing.T) {
		t.Parallel()
		r := newStationRig(t, DefaultNewEngineeringStationSettings())
		r.ensure = func(req activities.EnsureTicketRequest, _ int) (activities.TicketResult, error) {
			if req.Device.Name == "ENG-WS-08" {
				return activities.TicketResult{}, rejected
			}
			return created(req), nil
		}
		res, err := r.run(t, stationIncident(stationDevice(), device("ENG-WS-08", "00:1a:2b:3c:4d:08", nil)))
		require.NoError(t, err, "the other device still got its ticket")
		require.Len(t, r.requests, 2, "a rejection is not retried")
		require.Len(t, res.Tickets, 1)
		require.Len(t, res.Failed, 1)
		require.Equal(t, "ENG-WS-08", res.Failed[0].Device)
		require.Contains(t, res.Failed[0].Error, "403 Forbidden")
		require.Contains(t, res.Comment, "<li>ENG-WS-08: <b>no ticket</b>: ")
		require.Contains(t, res.Comment, "&lt;b&gt;ACL&lt;/b&gt;")
	})
	t.Run("all", func(t *testing.T) {
		t.Parallel()
		r := newStationRig(t, DefaultNewEngineeringStationSettings())
		r.ensure = func(activities.EnsureTicketRequest, int) (activities.TicketResult, error) {
			return activities.TicketResult{}, rejected
		}
		_, err := r.run(t, stationIncident(stationDevice()))
		appErr, ok := errors.AsType[*temporal.ApplicationError](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, FailureTicketsFailed, appErr.Type())
		require.Contains(t, appErr.Error(), "403 Forbidden")
		require.Len(t, r.comments, 1, "the incident hears about it before the run fails")
		require.Contains(t, r.comments[0].Message, "no ticket")
	})
}

func TestNewEngineeringStationGivesUpAfterRetryFor(t *testing.T) {
	t.Parallel()
	s := DefaultNewEngineeringStationSettings()
	s.RetryFor = 10 * time.Minute
	r := newStationRig(t, s)
	r.ensure = func(activities.EnsureTicketRequest, int) (activities.TicketResult, error) {
		return activities.TicketResult{}, temporal.NewApplicationError("servicenow down", activities.FailureServiceNowUnavailable)
	}
	_, err := r.run(t, stationIncident(stationDevice()))
	appErr, ok := errors.AsType[*temporal.ApplicationError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, FailureTicketsFailed, appErr.Type())
	require.Greater(t, len(r.requests), 3, "retried until RetryFor ran out")
}

func TestNewEngineeringStationCommentFails(t *testing.T) {
	t.Parallel()
	r := newStationRig(t, DefaultNewEngineeringStationSettings())
	r.commentErr = temporal.NewNonRetryableApplicationError("sentinel said no", "SentinelRejected", nil)
	res, err := r.run(t, stationIncident(stationDevice()))
	require.NoError(t, err, "the ticket exists; the run completes")
	require.Len(t, res.Tickets, 1)
	require.Contains(t, res.CommentError, "sentinel said no")
}

// TestNewEngineeringStationBadInput starts runs with input that is not a usable incident: the run fails
// with a message naming the problem, and nothing reaches ServiceNow or the incident. (Incident's own
// decoder refuses a missing id already; Run checks again for inputs that bypass it.)
func TestNewEngineeringStationBadInput(t *testing.T) {
	t.Parallel()
	blank := stationIncident(stationDevice())
	blank.ID = "  "
	for _, tc := range []struct {
		name  string
		input any
		want  string
	}{
		{"blank id", blank, "id: missing"},
		{"not an incident", "hello", "unable to decode"},
		{"empty object", map[string]any{}, "unable to decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newStationRig(t, DefaultNewEngineeringStationSettings())
			r.env.ExecuteWorkflow(NewEngineeringStationName, tc.input)
			require.True(t, r.env.IsWorkflowCompleted())
			err := r.env.GetWorkflowError()
			require.ErrorContains(t, err, tc.want)
			require.Empty(t, r.requests)
			require.Empty(t, r.comments)
		})
	}
}

func TestNewEngineeringStationHostileStrings(t *testing.T) {
	t.Parallel()
	r := newStationRig(t, DefaultNewEngineeringStationSettings())
	evil := device(`<script>alert("x")</script>`, "00:1a:2b:3c:4d:66", func(d *incident.Device) { d.IP = `"><img src=x onerror=alert(1)>` })
	r.ensure = func(req activities.EnsureTicketRequest, _ int) (activities.TicketResult, error) {
		res := created(req)
		res.Number = "<i>INC</i>"
		res.URL = `javascript:alert(1)`
		return res, nil
	}
	res, err := r.run(t, stationIncident(evil, device("x", "", func(d *incident.Device) { d.IsAuthorized = true; d.Name = "<b>auth</b>" })))
	require.NoError(t, err)
	for _, bad := range []string{"<script", "<img", "<i>", "javascript:", "<b>auth"} {
		require.NotContains(t, res.Comment, bad)
	}
	require.Contains(t, res.Comment, "&lt;script&gt;")
}

func TestNewEngineeringStationSettings(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse([]byte(`
playbooks:
  newEngineeringStation:
    deviceTypes: [HMI]
    table: u_ot_ticket
    category: security
    assignmentGroup: 287ebd7da9fe198100f92cc8d1d2154e
    extraFields: {u_site_code: RTM}
    shortDescriptionTemplate: "OT {{.Device.Name}}"
    retryFor: 1h
`), func(string) string { return "" })
	require.NoError(t, err)
	s := NewEngineeringStationSettingsFrom(cfg.Playbooks.NewEngineeringStation)
	require.Equal(t, NewEngineeringStationSettings{
		DeviceTypes: []string{"HMI"}, Table: "u_ot_ticket",
		Fields: activities.TicketFields{
			Category: "security", AssignmentGroup: "287ebd7da9fe198100f92cc8d1d2154e",
			Extra: map[string]string{"u_site_code": "RTM"}, ShortDescriptionTemplate: "OT {{.Device.Name}}",
		},
		AttemptTimeout: 2 * time.Minute, RetryFor: time.Hour,
	}, s)

	r := newStationRig(t, s)
	hmi := incident.Device{Name: "HMI-3", Type: "hmi", MAC: "00:1a:2b:3c:4d:33"}
	res, err := r.run(t, stationIncident(stationDevice(), hmi))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"ENG-WS-07", "HMI-3"}, r.devicesAsked(), "HMI by type, ENG-WS-07 as a programming device")
	require.Len(t, res.Tickets, 2)
	for _, req := range r.requests {
		require.Equal(t, "u_ot_ticket", req.Table)
		require.Equal(t, s.Fields, req.Fields)
	}
}

func TestNewEngineeringStationConfigValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad table", "table: Incident", "playbooks.newEngineeringStation.table"},
		{"reserved extra field", "extraFields: {correlation_id: x}", "set by the playbook itself"},
		{"system extra field", "extraFields: {sys_id: x}", "set by the playbook itself"},
		{"bad extra field", "extraFields: {\"Bad Name\": x}", "not a column name"},
		{"bad template", "shortDescriptionTemplate: \"{{.Device\"", "shortDescriptionTemplate"},
		{"retryFor too short", "retryFor: 1m", "retryFor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte("playbooks:\n  newEngineeringStation:\n    "+tc.yaml+"\n"), func(string) string { return "" })
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewEngineeringStationPlaybook(t *testing.T) {
	t.Parallel()
	p := NewEngineeringStationPlaybook(config.Default().Playbooks.NewEngineeringStation)
	meta, ok := Shipped(config.Default().Playbooks).Lookup(NewEngineeringStationName)
	require.True(t, ok)
	require.Equal(t, NewEngineeringStationName, meta.Name)
	require.Equal(t, "NewEngineeringStationTicket", meta.Name)
	require.False(t, meta.PerEvent)
	require.NotEmpty(t, meta.Summary)
	require.NotNil(t, meta.Workflow)
	require.Equal(t, []string{"Engineering Station", "Engineering Workstation"}, p.Settings.DeviceTypes)
}

// commentLog is an incident writer that keeps the comments.
type commentLog struct {
	mu       sync.Mutex
	comments []activities.CommentRequest
}

func (c *commentLog) Name() string { return "test" }
func (c *commentLog) AddComment(_ context.Context, req activities.CommentRequest) (activities.WriteResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.comments = append(c.comments, req)
	return activities.WriteResult{CommentID: req.CommentID}, nil
}
func (c *commentLog) Update(context.Context, activities.UpdateRequest) (activities.WriteResult, error) {
	return activities.WriteResult{}, nil
}

// TestNewEngineeringStationOnDevServer runs the playbook end to end: a real Temporal dev server, the
// real ticket activity over HTTP against the ServiceNow stand-in, the Sentinel fixture as input. It
// then replays the recorded history with different settings, which succeeds only because the run
// read its settings through a SideEffect. The pinned Temporal CLI is installed on first use.
func TestNewEngineeringStationOnDevServer(t *testing.T) {
	ctx := t.Context()
	c := testenv.NewTemporal(t).Client

	stub, err := snowstandin.Open(snowstandin.Options{Username: "interlock", Password: "dev-pass"})
	require.NoError(t, err)
	snow := httptest.NewServer(stub)
	t.Cleanup(snow.Close)
	sn := config.Default().ServiceNow
	sn.InstanceURL, sn.Username, sn.Password = snow.URL, "interlock", config.NewSecret("dev-pass")
	snowClient, err := servicenow.New(servicenow.Config{InstanceURL: snow.URL, Username: "interlock", Password: "dev-pass", Timeout: 5 * time.Second})
	require.NoError(t, err)
	// What worker.NewWorkstationTickets makes (worker imports this package, so its tests cannot).
	tickets, err := activities.NewTickets(snowClient, sn.InstanceURL, "incident")
	require.NoError(t, err)
	tickets.CreateSettle = sn.CreateSettle
	comments := &commentLog{}

	p := NewEngineeringStationPlaybook(config.Default().Playbooks.NewEngineeringStation)
	w := sdkworker.New(c, "nes-it", sdkworker.Options{DisableRegistrationAliasing: true})
	w.RegisterWorkflowWithOptions(p.Run, workflow.RegisterOptions{Name: NewEngineeringStationName})
	activities.EnsureTicket.Register(w, tickets.EnsureTicket)
	activities.AddIncidentComment.Register(w, (&activities.Incidents{Writer: comments}).AddIncidentComment)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	data, err := os.ReadFile("../testdata/sentinel-incident-new-engineering-station.json")
	require.NoError(t, err)
	var inc incident.Incident
	require.NoError(t, json.Unmarshal(data, &inc))
	require.True(t, inc.Devices[0].IsProgramming)
	// Selected by its type alone, so the replay below with other device types would select nothing.
	inc.Devices[0].IsProgramming = false

	run := func(inc incident.Incident) (client.WorkflowRun, NewEngineeringStationResult) {
		wr, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: NewEngineeringStationName + "/" + inc.ID, TaskQueue: "nes-it"}, NewEngineeringStationName, inc)
		require.NoError(t, err)
		var res NewEngineeringStationResult
		require.NoError(t, wr.Get(ctx, &res))
		return wr, res
	}
	first, res := run(inc)
	require.Len(t, res.Tickets, 1)
	require.True(t, res.Tickets[0].Created)
	recs := stub.Records("incident")
	require.Len(t, recs, 1)
	require.Equal(t, "New engineering workstation ENG-WS-07 (10.20.3.45) on Rotterdam Plant / Packaging Line 3", recs[0]["short_description"])

	again := inc
	again.ID, again.Number = "77777777-0000-4000-8000-000000000000", 4313
	_, res = run(again)
	require.False(t, res.Tickets[0].Created)
	require.True(t, res.Tickets[0].Noted)
	require.Equal(t, 1, stub.CreatedCount("incident"))
	require.Len(t, stub.Journal("incident", recs[0]["sys_id"], "work_notes"), 1)
	require.Len(t, comments.comments, 2)

	// Replay the first run with settings under which it would have done nothing.
	var events []*historypb.HistoryEvent
	iter := c.GetWorkflowHistory(ctx, first.GetID(), first.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		events = append(events, ev)
	}
	changed := &NewEngineeringStation{Settings: NewEngineeringStationSettings{DeviceTypes: []string{"HMI"}, Table: "u_other"}}
	replayer := sdkworker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(changed.Run, workflow.RegisterOptions{Name: NewEngineeringStationName})
	require.NoError(t, replayer.ReplayWorkflowHistory(nil, &historypb.History{Events: events}))
}

// impactCases are the business impacts the playbook tests run with; nil is the incident without one.
var impactCases = []struct {
	name   string
	impact *incident.Impact
	// want must appear in the comment (escaped), absent must not.
	want   []string
	absent []string
}{
	{
		name: "high risk, safety, unknown devices",
		impact: &incident.Impact{
			Statement: "Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01<script>alert(1)</script> (Purdue 1, criticality high), owner ot-line3@rotterdam.example.com; production stop risk high; not in the asset directory: 10.9.9.9",
			Site:      "Rotterdam Plant", Risk: "high", Safety: true, Unknown: []string{"10.9.9.9"},
			Assets: []incident.ImpactAsset{{Name: "PLC-L3-01<script>alert(1)</script>", Criticality: "high", Safety: true}},
		},
		want: []string{"Business impact: Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01&lt;script&gt;alert(1)&lt;/script&gt; (Purdue 1, criticality high), owner ot-line3@rotterdam.example.com; production stop risk high; not in the asset directory: 10.9.9.9; safety-relevant asset involved"},
	},
	{
		name:   "low risk",
		impact: &incident.Impact{Statement: "Rotterdam Plant / Line 1: HMI L1-HMI (Purdue 2, criticality low), owner site@rotterdam.example.com; production stop risk low", Risk: "low"},
		want:   []string{"Business impact: Rotterdam Plant / Line 1: HMI L1-HMI (Purdue 2, criticality low), owner site@rotterdam.example.com; production stop risk low"},
		absent: []string{"safety-relevant"},
	},
	{name: "no impact", absent: []string{"Business impact", "production stop risk", "asset directory"}},
}

func TestNewEngineeringStationBusinessImpact(t *testing.T) {
	t.Parallel()
	for _, tt := range impactCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newStationRig(t, DefaultNewEngineeringStationSettings())
			inc := stationIncident(stationDevice())
			inc.Impact = tt.impact
			res, err := r.run(t, inc)
			require.NoError(t, err)
			require.Len(t, r.requests, 1)
			req := r.requests[0]
			require.Equal(t, tt.impact, req.Incident.Impact, "the ticket request carries the impact")

			// The ticket the activity makes from that request.
			fields, err := activities.TicketFieldValues(req, activities.DeviceKey(req.Device))
			require.NoError(t, err)
			desc := fields["description"]

			require.Len(t, r.comments, 1)
			c := r.comments[0].Message
			require.Equal(t, res.Comment, c)
			require.NotContains(t, c, "<script")
			for _, a := range tt.absent {
				require.NotContains(t, c, a)
				require.NotContains(t, desc, a)
			}
			if tt.impact == nil {
				inc.Impact = nil
				require.Equal(t, ticketsComment(res, nil), c)
				require.True(t, strings.HasPrefix(c, "<p><b>Interlock</b>: ServiceNow tickets for unauthorized engineering workstations ("+NewEngineeringStationName+").</p>\n<ul>\n<li>"), c)
				require.NotContains(t, desc, "Business impact")
				return
			}
			for _, w := range tt.want {
				require.Contains(t, c, "\n<p>"+w+"</p>\n<ul>\n")
			}
			require.Equal(t, 1, strings.Count(c, "Business impact"), "one line")
			require.Contains(t, desc, "Business impact\n  Summary: "+tt.impact.Statement+"\n  Production stop risk: "+tt.impact.Risk+"\n")
			if tt.impact.Safety {
				require.Contains(t, desc, "  Safety: safety-relevant asset involved\n")
			}
			for _, u := range tt.impact.Unknown {
				require.Contains(t, desc, "  Not in the asset directory: "+u)
			}
		})
	}
}

func TestWorkstationNameIsOneSafeLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    incident.Device
		want string
	}{
		{"name and IP", incident.Device{Name: "EWS-7", IP: "10.0.0.7"}, "EWS-7 (10.0.0.7)"},
		{"escape sequence and line break", incident.Device{Name: "EWS\x1b[2J\r\nforged: yes"}, "EWS [2J forged: yes"},
		{"bidi and zero-width dropped", incident.Device{Name: "EWS-\u200b7\u202egpj.exe"}, "EWS-7gpj.exe"},
		{"clipped", incident.Device{Name: strings.Repeat("é", 150)}, strings.Repeat("é", 99) + "…"},
		{"nothing left", incident.Device{Name: "\u202e\u200b"}, "(unnamed device)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, workstationName(tc.d))
		})
	}
}

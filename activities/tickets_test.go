package activities

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/interlock-soar/interlock/activities/servicenow"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/snowstandin"
)

const (
	snowUser = "interlock"
	snowPass = "ticket-test-pass"
)

// ews is the workstation of testdata/sentinel-incident-new-engineering-station.json.
func ews() incident.Device {
	return incident.Device{
		ID: "4107", Name: "ENG-WS-07", FriendlyName: "ENG-WS-07", Type: "Engineering Station", SubType: "Engineering Workstation",
		Vendor: "Dell", Model: "Precision 3660", OS: "Windows 10 Enterprise LTSC", MAC: "00:1a:2b:3c:4d:5e", IP: "10.20.3.45",
		Protocols: []string{"Siemens S7 Plus", "SMB", "RDP"}, Site: "Rotterdam Plant", Zone: "Packaging Line 3",
		Sensor: "sensor-rtm-l3", PurdueLayer: "Supervisory", Importance: "Normal", Owners: []string{"ot-line3@rotterdam.example.com"},
		IsProgramming: true, PageLink: "https://portal.azure.com/#view/Microsoft_Azure_IoT_Defender/IoTDeviceView/deviceId/4107",
		FirstSeen: time.Date(2026, 11, 20, 8, 2, 10, 0, time.UTC),
	}
}

func ewsIncident(id string, number int64) TicketIncident {
	return TicketIncident{
		ID: id, Number: number, Title: "(MDIoT) New Asset Detected", Severity: "Medium",
		URL:     "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/" + id,
		Tactics: []string{"Discovery"}, Techniques: []string{"T0842"},
		Alerts: []TicketAlert{{
			ID: "8b7c6d5e-4f3a-2b1c-0d9e-8f7a6b5c4d3e", Title: "(MDIoT) New Asset Detected", VendorOriginalID: "1a9f0b7e-5d2c-4c4b-9e21-77aa10b4c301",
			ManagementURI: "https://management.azure.com/subscriptions/7d1e/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/1a9f0b7e?api-version=2021-07-01-preview",
			Techniques:    []string{"T0842"},
			RemediationSteps: []string{
				"Validate that ENG-WS-07 is an authorized engineering workstation.",
				"If it is not, isolate it and review its connections to controllers.",
			},
		}},
	}
}

type ticketRig struct {
	stub    *snowstandin.Server
	srv     *httptest.Server
	tickets *Tickets
	env     *testsuite.TestActivityEnvironment
}

func newTicketRig(t *testing.T, password string) *ticketRig {
	t.Helper()
	stub, err := snowstandin.Open(snowstandin.Options{Username: snowUser, Password: snowPass})
	require.NoError(t, err)
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)
	client, err := servicenow.New(servicenow.Config{
		InstanceURL: srv.URL, Username: snowUser, Password: password,
		Timeout: 2 * time.Second, RetryMax: 1, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	tickets, err := NewTickets(client, srv.URL, "incident")
	require.NoError(t, err)
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(tickets)
	return &ticketRig{stub, srv, tickets, env}
}

func (r *ticketRig) ensure(req EnsureTicketRequest) (TicketResult, error) {
	val, err := r.env.ExecuteActivity(r.tickets.EnsureTicket, req)
	if err != nil {
		return TicketResult{}, err
	}
	var res TicketResult
	if err := val.Get(&res); err != nil {
		return TicketResult{}, err
	}
	return res, nil
}

func request(inc TicketIncident) EnsureTicketRequest {
	return EnsureTicketRequest{
		Incident: inc, Device: ews(),
		Fields: TicketFields{Category: "network", AssignmentGroup: "287ebd7da9fe198100f92cc8d1d2154e"},
		SeenAt: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
	}
}

func TestEnsureTicket(t *testing.T) {
	t.Parallel()
	rig := newTicketRig(t, snowPass)
	incA, incB, incC := ewsIncident("3f2a9c1e-aaaa", 4312), ewsIncident("77777777-bbbb", 4313), ewsIncident("99999999-cccc", 4400)
	key := DeviceKey(ews())

	created, err := rig.ensure(request(incA))
	require.NoError(t, err)
	require.Equal(t, TicketResult{
		Number: "INC0010001", SysID: created.SysID, URL: servicenow.RecordURL(rig.srv.URL, "incident", created.SysID),
		Table: "incident", CorrelationID: key, Created: true, Device: "ENG-WS-07",
	}, created)
	recs := rig.stub.Records("incident")
	require.Len(t, recs, 1)
	rec := recs[0]
	require.Equal(t, "New engineering workstation ENG-WS-07 (10.20.3.45) on Rotterdam Plant / Packaging Line 3", rec["short_description"])
	require.Equal(t, key, rec["correlation_id"])
	require.Equal(t, "Interlock", rec["correlation_display"])
	require.Equal(t, "2", rec["urgency"])
	require.Equal(t, "2", rec["impact"])
	require.Equal(t, "network", rec["category"])
	require.Equal(t, "287ebd7da9fe198100f92cc8d1d2154e", rec["assignment_group"])
	for _, fact := range []string{
		"10.20.3.45", "00:1a:2b:3c:4d:5e", "Dell Precision 3660", "Windows 10 Enterprise LTSC", "Siemens S7 Plus, SMB, RDP",
		"sensor-rtm-l3", "Rotterdam Plant / Packaging Line 3", "Supervisory", "First seen: 2026-11-20 08:02:10 UTC",
		"Microsoft Sentinel incident 4312", incA.URL, "1a9f0b7e-5d2c-4c4b-9e21-77aa10b4c301", incA.Alerts[0].ManagementURI,
		"deviceId/4107", "T0842 (https://attack.mitre.org/techniques/T0842/)", "1. Validate that ENG-WS-07",
		"[Interlock: incident 3f2a9c1e-aaaa]",
	} {
		require.Contains(t, rec["description"], fact)
	}

	// Another incident with the same device: the open ticket gets one work note.
	again, err := rig.ensure(request(incB))
	require.NoError(t, err)
	require.Equal(t, created.SysID, again.SysID)
	require.False(t, again.Created)
	require.True(t, again.Noted)
	notes := rig.stub.Journal("incident", created.SysID, "work_notes")
	require.Equal(t, []string{"Seen again in Microsoft Sentinel incident 4313 (" + incB.URL + ") at 2026-11-21 09:30:00 UTC: New Asset Detected.\n[Interlock: incident 77777777-bbbb]"}, notes)

	// The same incident again, and the creating incident again: no further notes.
	for _, inc := range []TicketIncident{incB, incA} {
		res, err := rig.ensure(request(inc))
		require.NoError(t, err)
		require.Equal(t, created.SysID, res.SysID)
		require.False(t, res.Noted)
		require.Equal(t, inc.ID == incA.ID, res.Created)
	}
	require.Len(t, rig.stub.Journal("incident", created.SysID, "work_notes"), 1)

	// Once the ticket is closed, the device seen again gets a new ticket.
	_, err = rig.tickets.Client.Update(t.Context(), "incident", created.SysID, map[string]string{"state": "7"})
	require.NoError(t, err)
	fresh, err := rig.ensure(request(incC))
	require.NoError(t, err)
	require.True(t, fresh.Created)
	require.Equal(t, "INC0010002", fresh.Number)
	require.Equal(t, 2, rig.stub.CreatedCount("incident"))
}

func TestEnsureTicketAmbiguousCreate(t *testing.T) {
	t.Parallel()
	rig := newTicketRig(t, snowPass)
	rig.stub.InjectFaults(snowstandin.Faults{DropResponse: 1})
	req := request(ewsIncident("3f2a9c1e-aaaa", 4312))

	_, err := rig.ensure(req)
	appErr, ok := errors.AsType[*temporal.ApplicationError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, FailureServiceNowUnavailable, appErr.Type())
	require.False(t, appErr.NonRetryable(), "Temporal retries it")
	require.Equal(t, 1, rig.stub.CreatedCount("incident"), "the lost create happened")

	// Temporal's retry: the lookup finds the ticket this incident made.
	res, err := rig.ensure(req)
	require.NoError(t, err)
	require.True(t, res.Created)
	require.False(t, res.Noted)
	require.Equal(t, "INC0010001", res.Number)
	require.Equal(t, 1, rig.stub.CreatedCount("incident"))
	require.Empty(t, rig.stub.Journal("incident", res.SysID, "work_notes"))
}

func TestEnsureTicketAmbiguousNote(t *testing.T) {
	t.Parallel()
	rig := newTicketRig(t, snowPass)
	created, err := rig.ensure(request(ewsIncident("3f2a9c1e-aaaa", 4312)))
	require.NoError(t, err)

	rig.stub.InjectFaults(snowstandin.Faults{DropResponse: 1})
	req := request(ewsIncident("77777777-bbbb", 4313))
	_, err = rig.ensure(req)
	require.Error(t, err)
	require.Len(t, rig.stub.Journal("incident", created.SysID, "work_notes"), 1, "the lost note was written")

	res, err := rig.ensure(req)
	require.NoError(t, err)
	require.False(t, res.Noted, "the retry sees its note and does not repeat it")
	require.Len(t, rig.stub.Journal("incident", created.SysID, "work_notes"), 1)
}

func TestEnsureTicketErrors(t *testing.T) {
	t.Parallel()
	noKey := ews()
	noKey.MAC, noKey.ID, noKey.IP = "", "", ""
	for _, tc := range []struct {
		name      string
		password  string
		faults    snowstandin.Faults
		mod       func(*EnsureTicketRequest)
		wantType  string
		retryable bool
		delay     time.Duration
		sent      bool
	}{
		{name: "rejected credentials", password: "wrong-pass-123", wantType: FailureServiceNowRejected, sent: true},
		{name: "unavailable", faults: snowstandin.Faults{Unavailable: 5}, wantType: FailureServiceNowUnavailable, retryable: true, sent: true},
		{name: "throttled", faults: snowstandin.Faults{TooManyRequests: 5, RetryAfter: 90 * time.Second}, wantType: FailureServiceNowThrottled, retryable: true, delay: 90 * time.Second, sent: true},
		{name: "no incident ID", mod: func(r *EnsureTicketRequest) { r.Incident.ID = " " }, wantType: FailureInvalidRequest},
		{name: "device without key", mod: func(r *EnsureTicketRequest) { r.Device = noKey }, wantType: FailureInvalidRequest},
		{name: "bad table", mod: func(r *EnsureTicketRequest) { r.Table = "incident^NQ" }, wantType: FailureInvalidRequest},
		{name: "bad extra field", mod: func(r *EnsureTicketRequest) { r.Fields.Extra = map[string]string{"Bad Name": "x"} }, wantType: FailureInvalidRequest},
		{name: "bad template", mod: func(r *EnsureTicketRequest) { r.Fields.ShortDescriptionTemplate = "{{.Nope}}" }, wantType: FailureInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := newTicketRig(t, cmp.Or(tc.password, snowPass))
			rig.stub.InjectFaults(tc.faults)
			req := request(ewsIncident("3f2a9c1e-aaaa", 4312))
			if tc.mod != nil {
				tc.mod(&req)
			}
			_, err := rig.ensure(req)
			appErr, ok := errors.AsType[*temporal.ApplicationError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.wantType, appErr.Type(), "%v", err)
			require.Equal(t, !tc.retryable, appErr.NonRetryable())
			require.Equal(t, tc.delay, appErr.NextRetryDelay())
			require.NotContains(t, err.Error(), snowPass)
			if tc.password != "" {
				require.NotContains(t, err.Error(), tc.password)
			}
			require.Equal(t, tc.sent, rig.stub.Requests() > 0)
			require.Zero(t, rig.stub.CreatedCount("incident"))
		})
	}
}

func TestDeviceKey(t *testing.T) {
	t.Parallel()
	keyOf := func(basis string) string {
		sum := sha256.Sum256([]byte(basis))
		return "interlock-ews-" + hex.EncodeToString(sum[:])[:24]
	}
	macKey := keyOf("00:1a:2b:3c:4d:5e")
	for _, tc := range []struct {
		name string
		d    incident.Device
		want string
	}{
		{"mac", incident.Device{MAC: "00:1a:2b:3c:4d:5e", ID: "4107"}, macKey},
		{"mac upper case", incident.Device{MAC: "00:1A:2B:3C:4D:5E"}, macKey},
		{"mac dashes", incident.Device{MAC: "00-1a-2b-3c-4d-5e"}, macKey},
		{"mac dots", incident.Device{MAC: " 001a.2b3c.4d5e "}, macKey},
		{"mac bare", incident.Device{MAC: "001a2b3c4d5e"}, macKey},
		{"zero mac falls back to ID", incident.Device{MAC: "00:00:00:00:00:00", ID: "4107"}, keyOf("defender:4107")},
		{"broadcast mac falls back", incident.Device{MAC: "ff:ff:ff:ff:ff:ff", ID: "4107"}, keyOf("defender:4107")},
		{"garbage mac falls back", incident.Device{MAC: "x^ORactive=true", ID: "4107"}, keyOf("defender:4107")},
		{"ip and site", incident.Device{IP: "10.20.3.45", Site: "Rotterdam Plant"}, keyOf("ip:10.20.3.45|site:Rotterdam Plant")},
		{"same ip other site", incident.Device{IP: "10.20.3.45", Site: "Gdansk"}, keyOf("ip:10.20.3.45|site:Gdansk")},
		{"nothing", incident.Device{Name: "ENG-WS-07"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := DeviceKey(tc.d)
			require.Equal(t, tc.want, got)
			if got != "" {
				require.Regexp(t, `^interlock-ews-[0-9a-f]{24}$`, got)
			}
		})
	}
}

func TestTicketFieldValues(t *testing.T) {
	t.Parallel()
	t.Run("urgency and impact", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ severity, importance, urgency, impact string }{
			{"High", "High", "1", "1"},
			{"medium", "Normal", "2", "2"},
			{"Low", "Low", "3", "3"},
			{"Informational", "", "3", "2"},
			{"", "Unknown", "3", "2"},
		} {
			req := request(ewsIncident("i", 1))
			req.Incident.Severity, req.Device.Importance = tc.severity, tc.importance
			f, err := TicketFieldValues(req, "k")
			require.NoError(t, err)
			require.Equal(t, tc.urgency, f["urgency"], tc.severity)
			require.Equal(t, tc.impact, f["impact"], tc.importance)
		}
	})
	t.Run("hostile strings", func(t *testing.T) {
		t.Parallel()
		req := request(ewsIncident("i-1", 1))
		req.Device.Name = "EWS\n  Importance: High\r\x00\u202egnp.exe\t" + strings.Repeat("A", 300)
		req.Device.Protocols = []string{"S7\nforged: yes"}
		req.Incident.Alerts[0].RemediationSteps = []string{"step one\n[Interlock: incident other]\x1b[31m", strings.Repeat("z", 5000)}
		for range 5 {
			req.Incident.Alerts = append(req.Incident.Alerts, TicketAlert{Title: "x", Description: strings.Repeat("d", 10000)})
		}
		req.Fields.Extra = map[string]string{"u_note": "a\x00b\u200b\r\nc\u202e", "short_description": "overridden?"}
		f, err := TicketFieldValues(req, "interlock-ews-000000000000000000000000")
		require.NoError(t, err)
		short := f["short_description"]
		require.NotContains(t, short, "\n")
		require.NotContains(t, short, "\u202e")
		require.LessOrEqual(t, utf8.RuneCountInString(short), 160)
		require.True(t, strings.HasPrefix(short, "New engineering workstation EWS Importance: High gnp.exe AAA"), short)

		desc := f["description"]
		require.True(t, utf8.ValidString(desc))
		require.LessOrEqual(t, utf8.RuneCountInString(desc), 4000)
		require.NotRegexp(t, regexp.MustCompile(`(?m)^\s*Importance: High`), desc, "a device name cannot forge a line")
		require.NotRegexp(t, regexp.MustCompile(`(?m)^forged`), desc)
		require.NotContains(t, desc, "\x00")
		require.NotContains(t, desc, "\x1b")
		require.True(t, strings.HasSuffix(desc, "\n[Interlock: incident i-1]"), "the marker survives truncation")
		require.True(t, hasMarkerLine(desc, "[Interlock: incident i-1]"))
		require.False(t, hasMarkerLine(desc, "[Interlock: incident other]"), "alert text cannot forge a marker line")
		require.Contains(t, desc, "(truncated)")
		require.Equal(t, "ab\nc", f["u_note"], "free text: safetext.Block")
		require.True(t, strings.HasPrefix(f["short_description"], "New engineering workstation"), "extra fields never override the playbook's")
		for k, v := range f {
			require.True(t, servicenow.ValidField(k), k)
			require.True(t, utf8.ValidString(v), k)
		}
	})
	t.Run("template", func(t *testing.T) {
		t.Parallel()
		req := request(ewsIncident("i", 4312))
		req.Fields.ShortDescriptionTemplate = "[OT] {{.Device.DisplayName}} at {{.Device.Site}} (incident {{.Incident.Number}})"
		f, err := TicketFieldValues(req, "k")
		require.NoError(t, err)
		require.Equal(t, "[OT] ENG-WS-07 at Rotterdam Plant (incident 4312)", f["short_description"])
	})
	t.Run("minimal device", func(t *testing.T) {
		t.Parallel()
		req := EnsureTicketRequest{Incident: TicketIncident{ID: "i"}, Device: incident.Device{IP: "10.0.0.9"}}
		f, err := TicketFieldValues(req, "k")
		require.NoError(t, err)
		require.Equal(t, "New engineering workstation 10.0.0.9", f["short_description"])
		require.Contains(t, f["description"], "Confirm with the OT engineers responsible")
		require.NotContains(t, f, "category")
		require.NotContains(t, f, "assignment_group")
	})
}

func TestNewTickets(t *testing.T) {
	t.Parallel()
	_, err := NewTickets(nil, "https://x", "incident")
	require.ErrorContains(t, err, "no ServiceNow client")
	c := &servicenow.Client{}
	_, err = NewTickets(c, "", "incident")
	require.ErrorContains(t, err, "instance URL")
	_, err = NewTickets(c, "https://x", "Incident")
	require.ErrorContains(t, err, "not a table name")
	tk, err := NewTickets(c, "https://x", "")
	require.NoError(t, err)
	require.Equal(t, "incident", tk.Table)
}

// barrier holds every create until n creates have arrived, so the runs' lookups all happen first: two
// incidents about the same new device, processed at the same moment.
type barrier struct {
	next    http.Handler
	n       int
	mu      sync.Mutex
	arrived int
	release chan struct{}
}

func (b *barrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		b.mu.Lock()
		b.arrived++
		if b.arrived == b.n {
			close(b.release)
		}
		b.mu.Unlock()
		<-b.release
	}
	b.next.ServeHTTP(w, r)
}

func TestEnsureTicketConcurrentIncidentsSameDevice(t *testing.T) {
	t.Parallel()
	stub, err := snowstandin.Open(snowstandin.Options{Username: snowUser, Password: snowPass})
	require.NoError(t, err)
	srv := httptest.NewServer(&barrier{next: stub, n: 2, release: make(chan struct{})})
	t.Cleanup(srv.Close)
	client, err := servicenow.New(servicenow.Config{InstanceURL: srv.URL, Username: snowUser, Password: snowPass, Timeout: 5 * time.Second})
	require.NoError(t, err)
	tickets, err := NewTickets(client, srv.URL, "incident")
	require.NoError(t, err)

	results := make([]TicketResult, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
			env.RegisterActivity(tickets)
			val, err := env.ExecuteActivity(tickets.EnsureTicket, request(ewsIncident(fmt.Sprintf("inc-race-%d", i), int64(5000+i))))
			if err == nil {
				err = val.Get(&results[i])
			}
			errs[i] = err
		})
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, 2, stub.CreatedCount("incident"), "both runs found nothing and created")
	var open []map[string]string
	for _, r := range stub.Records("incident") {
		if r["active"] == "true" {
			open = append(open, r)
		}
	}
	require.Len(t, open, 1, "the later ticket was cancelled as a duplicate")
	require.Equal(t, "INC0010001", open[0]["number"], "the oldest survives")
	for _, res := range results {
		require.Equal(t, "INC0010001", res.Number, "both runs report the surviving ticket")
	}
	require.NotEqual(t, results[0].Created, results[1].Created, "one run made it; the other found it")
}

// testImpacts are the business impacts the ticket, email and comment tests show.
func testImpacts() map[string]*incident.Impact {
	return map[string]*incident.Impact{
		"high risk, safety, unknown devices": {
			Statement: "Rotterdam Plant / Line 3 packaging: safety PLC PLC-L3-01<script>alert(1)</script> (Purdue 1, criticality high), owner ot-line3@rotterdam.example.com; production stop risk high; not in the asset directory: 10.9.9.9",
			Site:      "Rotterdam Plant", Lines: []string{"Line 3 packaging"},
			Assets:  []incident.ImpactAsset{{Name: "PLC-L3-01<script>alert(1)</script>", Type: "PLC", Criticality: "high", Safety: true}},
			Unknown: []string{"10.9.9.9", "X-1"}, Risk: "high", Safety: true, Owners: []string{"ot-line3@rotterdam.example.com"},
		},
		"low risk": {
			Statement: "Rotterdam Plant / Line 1: HMI L1-HMI (Purdue 2, criticality low), owner site@rotterdam.example.com; production stop risk low",
			Site:      "Rotterdam Plant", Lines: []string{"Line 1"},
			Assets: []incident.ImpactAsset{{Name: "L1-HMI", Type: "HMI", Criticality: "low"}},
			Risk:   "low", Owners: []string{"site@rotterdam.example.com"},
		},
	}
}

func TestTicketBusinessImpact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		impact *incident.Impact
		want   []string
		absent []string
	}{
		{
			name:   "high risk, safety, unknown devices",
			impact: testImpacts()["high risk, safety, unknown devices"],
			want: []string{
				"authorized.\n\nBusiness impact\n  Summary: " + testImpacts()["high risk, safety, unknown devices"].Statement + "\n",
				"\n  Production stop risk: high\n  Safety: safety-relevant asset involved\n  Not in the asset directory: 10.9.9.9, X-1\n\nDevice\n",
			},
		},
		{
			name:   "low risk",
			impact: testImpacts()["low risk"],
			want: []string{
				"\nBusiness impact\n  Summary: " + testImpacts()["low risk"].Statement + "\n  Production stop risk: low\n\nDevice\n",
			},
			absent: []string{"Safety:", "safety-relevant", "Not in the asset directory"},
		},
		{
			name:   "no impact",
			absent: []string{"Business impact", "Production stop risk", "safety-relevant", "asset directory", "Summary:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inc := incident.Incident{ID: "i-1", Number: 4312, Title: "(MDIoT) New Asset Detected", Impact: tt.impact}
			req := request(NewTicketIncident(inc))
			require.Equal(t, tt.impact, req.Incident.Impact)
			f, err := TicketFieldValues(req, "interlock-ews-000000000000000000000000")
			require.NoError(t, err)
			desc := f["description"]
			note := seenAgainNote(req, ticketMarker("i-1"))
			for _, w := range tt.want {
				require.Contains(t, desc, w)
			}
			for _, a := range tt.absent {
				require.NotContains(t, desc, a)
				require.NotContains(t, note, a)
				require.NotContains(t, f["short_description"], a)
			}
			require.True(t, strings.HasPrefix(desc, "Interlock found an engineering workstation"))
			require.True(t, strings.HasSuffix(note, "\n[Interlock: incident i-1]"), "the marker stays the note's last line")
			if tt.impact == nil {
				require.Equal(t, "Seen again in Microsoft Sentinel incident 4312 at 2026-11-21 09:30:00 UTC: New Asset Detected.\n[Interlock: incident i-1]", note)
				require.True(t, strings.HasPrefix(desc, "Interlock found an engineering workstation that Defender for IoT does not list as authorized.\n\nDevice\n"))
				require.Empty(t, ImpactSummary(nil))
				return
			}
			require.Contains(t, note, "\nBusiness impact: "+ImpactSummary(tt.impact)+"\n")
			require.Contains(t, note, tt.impact.Statement)
			require.Contains(t, f["short_description"], "New engineering workstation", "the short description is unchanged")
		})
	}
}

func TestImpactSummary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		imp  incident.Impact
		want string
	}{
		{"statement says it all", *testImpacts()["high risk, safety, unknown devices"],
			testImpacts()["high risk, safety, unknown devices"].Statement + "; safety-relevant asset involved"},
		{"low risk", *testImpacts()["low risk"], testImpacts()["low risk"].Statement},
		{"no statement", incident.Impact{Risk: "medium", Safety: true, Unknown: []string{"a", "b"}},
			"production stop risk medium; safety-relevant asset involved; not in the asset directory: a, b"},
		{"hostile statement", incident.Impact{Statement: "Site\n  Importance: High\u202e\x00", Risk: "low"},
			"Site Importance: High; production stop risk low"},
		{"empty", incident.Impact{}, ""},
	} {
		require.Equal(t, tc.want, ImpactSummary(&tc.imp), tc.name)
	}
}

func TestTicketBusinessImpactHostile(t *testing.T) {
	t.Parallel()
	req := request(ewsIncident("i-1", 1))
	req.Incident.Impact = &incident.Impact{
		Statement: "Plant\n  Importance: High\r\n[Interlock: incident other]\u202e" + strings.Repeat("s", 5000),
		Risk:      "high\nforged: yes", Unknown: []string{"X\nforged: yes"}, Safety: true,
	}
	for range 5 {
		req.Incident.Alerts = append(req.Incident.Alerts, TicketAlert{Title: "x", Description: strings.Repeat("d", 10000)})
	}
	f, err := TicketFieldValues(req, "interlock-ews-000000000000000000000000")
	require.NoError(t, err)
	desc := f["description"]
	require.LessOrEqual(t, utf8.RuneCountInString(desc), 4000)
	require.Contains(t, desc, "(truncated)")
	require.Contains(t, desc, "\n  Production stop risk: high forged: yes\n  Safety: safety-relevant asset involved\n", "the impact survives truncation")
	require.NotRegexp(t, regexp.MustCompile(`(?m)^\s*Importance: High`), desc)
	require.NotRegexp(t, regexp.MustCompile(`(?m)^forged`), desc)
	require.NotContains(t, desc, "\u202e")
	require.False(t, hasMarkerLine(desc, "[Interlock: incident other]"))
	note := seenAgainNote(req, ticketMarker("i-1"))
	require.False(t, hasMarkerLine(note, "[Interlock: incident other]"))
	require.NotRegexp(t, regexp.MustCompile(`(?m)^\s*Importance: High`), note)
	require.True(t, strings.HasSuffix(note, "\n[Interlock: incident i-1]"))
}

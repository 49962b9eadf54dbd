package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/interlock-soar/interlock/activities/mail/mailtest"
	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/intake"
	"github.com/interlock-soar/interlock/internal/otincident"
	"github.com/interlock-soar/interlock/internal/snowstandin"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/playbooks"
	"github.com/interlock-soar/interlock/workflows"
)

// recordEnv names the folder TestRecordHistories writes to; unset, the test is skipped.
const recordEnv = "INTERLOCK_RECORD_HISTORIES"

// TestRecordHistories records the replay histories that worker's TestCommittedHistoriesReplay replays
// (playbooks/testdata), from real runs of every path on a stack of its own: the dev server, the worker
// and intake as interlock dev wires them, the ServiceNow, Sentinel and sensor stand-ins, and an SMTP
// server that can refuse a recipient. Answer waits are seconds instead of minutes.
//
// A committed history is what older code wrote, so it is never recorded over: the test writes only the
// files that are missing. To record a path a change adds, or to record every path before changing a
// playbook:
//
//	INTERLOCK_RECORD_HISTORIES=$PWD/playbooks/testdata go test ./internal/stack -run TestRecordHistories -v
func TestRecordHistories(t *testing.T) {
	dir := os.Getenv(recordEnv)
	if dir == "" {
		t.Skip("set " + recordEnv + " to the folder the histories go to (playbooks/testdata) to record them")
	}
	tp := testenv.NewTemporal(t)
	smtp := mailtest.Start(t, mailtest.Options{})
	h, err := startStack(tp, stackOptions{smtpHost: smtp.Host, smtpPort: smtp.Port, configure: func(cfg *config.Config) {
		pc := &cfg.Playbooks
		pc.PLCReprogramming.AnswerTimeout = 2 * time.Second // below the validated minimum: this config is never loaded
		pc.PLCReprogramming.EscalationRounds = 1
		pc.PLCReprogramming.MaintenanceWindows = []config.MaintenanceWindow{{
			Name: "Recorder's window", Devices: []string{"PLC-rec-planned"},
			Start: "2026-01-01T00:00:00Z", End: "2100-01-01T00:00:00Z",
		}}
		withParityWindow(cfg)
		pc.OwnerApproval.AnswerTimeout, pc.OwnerApproval.ReminderRounds = 2*time.Second, 1
		pc.CVEAutoWorkflow.AnswerTimeout, pc.CVEAutoWorkflow.ReminderRounds = 2*time.Second, 0
		pc.NewEngineeringStation.AttemptTimeout = time.Second
		pc.NewEngineeringStation.RetryFor = 20 * time.Second // past the side effects' 5 s local budget
	}})
	require.NoError(t, err)
	r := &recorder{t: t, h: h, dir: dir}
	nes := func(tag string) []byte {
		return testenv.Fixture(t, "sentinel-incident-new-engineering-station.json", tag)
	}
	plc := func(tag string) []byte {
		return plcFixture(t, "sentinel-incident-unauthorized-plc-programming.json", tag)
	}

	r.record("nes-ticket-created", `"created":true`, func(ctx context.Context) string { return r.start(nes("rec-created")) })
	r.record("nes-ticket-noted", `"noted":true`, func(ctx context.Context) string {
		r.wait(ctx, r.start(nes("rec-noted")))
		// Another incident about the same workstation: its ticket exists, so it gets a work note.
		return r.start(bytes.ReplaceAll(nes("rec-noted"), []byte("nes-rec-noted"), []byte("nes-rec-noted-again")))
	})
	r.record("nes-skipped", `authorized in Defender for IoT`, func(ctx context.Context) string {
		// The workstation is authorized in Defender for IoT: nothing to ticket.
		return r.startByHand(ctx, playbooks.NewEngineeringStationName, "rec-skipped",
			bytes.Replace(nes("rec-skipped"), []byte(`"IsAuthorized": false`), []byte(`"IsAuthorized": true`), 1))
	})
	r.record("nes-ticket-failed", `no workstation could be ticketed`, func(ctx context.Context) string {
		h.stub.InjectFaults(snowstandin.Faults{Unavailable: 1 << 20})
		t.Cleanup(func() { h.stub.InjectFaults(snowstandin.Faults{}) })
		wid := r.start(nes("rec-failed"))
		r.wait(ctx, wid)
		h.stub.InjectFaults(snowstandin.Faults{})
		return wid
	})
	r.record("nes-ticket-after-outage", `"created":true`, func(ctx context.Context) string {
		// ServiceNow is down for longer than the local budget: the call continues as a regular activity.
		h.stub.InjectFaults(snowstandin.Faults{Unavailable: 1 << 20})
		t.Cleanup(func() { h.stub.InjectFaults(snowstandin.Faults{}) })
		time.AfterFunc(7*time.Second, func() { h.stub.InjectFaults(snowstandin.Faults{}) })
		return r.start(nes("rec-outage"))
	})
	r.record("plc-planned", `"outcome":"planned"`, func(ctx context.Context) string { return r.start(plc("rec-planned")) })
	r.record("plc-waiting", "", func(ctx context.Context) string {
		wid := r.start(plc("rec-waiting"))
		waitWaiting(ctx, t, h, wid)
		r.open = true
		return wid
	})
	r.record("plc-answered-planned", `"outcome":"answered_planned"`, func(ctx context.Context) string {
		return r.answer(ctx, r.start(plc("rec-ans-planned")), workflows.DecisionPlanned)
	})
	r.record("plc-answered-not-planned", `"outcome":"answered_not_planned"`, func(ctx context.Context) string {
		return r.answer(ctx, r.start(plc("rec-ans-notplanned")), workflows.DecisionNotPlanned)
	})
	r.record("plc-escalated-answered", `"escalationRounds":1`, func(ctx context.Context) string {
		wid := r.start(plc("rec-escalated"))
		require.Eventually(t, func() bool { return r.round(ctx, wid) == 1 }, time.Minute, 50*time.Millisecond)
		return r.answer(ctx, wid, workflows.DecisionNotPlanned)
	})
	r.record("plc-no-answer", `"outcome":"no_answer"`, func(ctx context.Context) string { return r.start(plc("rec-noanswer")) })
	r.record("plc-mail-rejected", `"recipients":["soc@localhost"]`, func(ctx context.Context) string {
		smtp.Fail(mailtest.StageRcpt, 550) // the line's engineers' address; the SOC mailbox gets the notice
		return r.answer(ctx, r.start(plc("rec-rejected")), workflows.DecisionPlanned)
	})
	r.record("alert-status-sync", `"alertStatus":"InProgress"`, func(ctx context.Context) string {
		r.start(plc("rec-sync")) // the PLC run; the stand-in now holds the incident and its alert
		// The analyst sets the incident Active in the portal; Sentinel's automation rule calls the webhook.
		h.azure.Stub.EditIncident(incidentARMID("plc-rec-sync"), func(p *azurestandin.IncidentProperties) { p.Status = "Active" })
		var doc map[string]any
		require.NoError(t, json.Unmarshal(plcFixture(t, "sentinel-incident-update-plc-programming.json", "rec-sync"), &doc))
		doc["eventUniqueId"] = "rec-sync-active"
		doc["object"].(map[string]any)["properties"].(map[string]any)["status"] = "Active"
		doc["previous"].(map[string]any)["status"] = "New"
		update, err := json.Marshal(doc)
		require.NoError(t, err)
		wid := r.start(update)
		require.Contains(t, wid, playbooks.AlertStatusSyncName)
		return wid
	})
	r.record("rule-changes", `"changes":["tag +ot","tag +new-asset"]`, func(ctx context.Context) string {
		// The default rule tags the incident; the first delivery's playbook run carries the tags, a
		// redelivery (the run is there) writes them through a run of their own.
		r.start(nes("rec-rules"))
		r.start(nes("rec-rules"))
		var wid string
		require.Eventually(t, func() bool {
			list, err := h.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query: "WorkflowType = '" + workflows.RuleChangesName + "' AND InterlockIncidentId = 'nes-rec-rules'"})
			if err != nil || len(list.GetExecutions()) == 0 {
				return false
			}
			wid = list.GetExecutions()[0].GetExecution().GetWorkflowId()
			return true
		}, 30*time.Second, 100*time.Millisecond)
		return wid
	})
	r.record("nes-rule-changes-carried", `"number":"INC`, func(ctx context.Context) string {
		return r.start(nes("rec-carried")) // the run writes the default rule's tags beside the ticket
	})
	// The parity playbooks' default rules are off: they are started through the intake's run endpoint.
	r.record("auto-triage-raised", `"why":["importance High"]`, func(ctx context.Context) string {
		return r.startRun(playbooks.AutoTriageName, linesFixture(t, "rec-triage", nil))
	})
	r.record("auto-triage-nothing", `no high-importance or safety-relevant device`, func(ctx context.Context) string {
		return r.startRun(playbooks.AutoTriageName, linesFixture(t, "rec-triage-none", keepEntities("iot-9001", "ip-192-168-50-7")))
	})
	r.record("auto-close-closed", `"closed":true`, func(ctx context.Context) string {
		return r.startRun(playbooks.AutoCloseName, linesFixture(t, "rec-close", keepEntities("iot-3120", "iot-3110", "ip-10-20-1-10")))
	})
	r.record("auto-close-not-covered", `devices are outside every planned maintenance window`, func(ctx context.Context) string {
		return r.startRun(playbooks.AutoCloseName, linesFixture(t, "rec-close-not", nil))
	})
	r.record("mail-by-line-sent", `"withoutLine":["LAPTOP-VISITOR-\u003cb\u003e7\u003c/b\u003e (192.168.50.7)"]`, func(ctx context.Context) string {
		return r.startRun(playbooks.MailByLineName, linesFixture(t, "rec-mail", nil))
	})
	r.recordOwnerPaths()
	r.record("incident-open", "", func(ctx context.Context) string {
		api := &intake.APIClient{BaseURL: h.intakeURL, Actor: "recorder"}
		res, err := api.PostAlerts(ctx, sensorAlert(t, 7101, "Unauthorized PLC Programming"), false)
		require.NoError(t, err)
		id := res.Records[0].Incident
		_, err = api.Patch(ctx, id, map[string]any{"status": "Active", "owner": "analyst@soc.example.com"})
		require.NoError(t, err)
		r.open = true
		return otincident.WorkflowID(id)
	})
}

// recorder runs one path at a time (the scripted SMTP and ServiceNow faults are global) and writes its
// history.
type recorder struct {
	t    *testing.T
	h    *harness
	dir  string
	open bool // the run is meant to be waiting when recorded
}

// record runs a path and writes its history; want is in the closed run's result or failure (a run
// left waiting has none).
func (r *recorder) record(name, want string, run func(ctx context.Context) string) {
	r.t.Run(name, func(t *testing.T) {
		file := filepath.Join(r.dir, name+".history.json")
		if _, err := os.Stat(file); err == nil {
			t.Skipf("%s exists: a committed history is never recorded over", file)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		r.open = false
		wid := run(ctx)
		if !r.open {
			r.wait(ctx, wid)
		}
		var events []*historypb.HistoryEvent
		iter := r.h.client.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			events = append(events, ev)
		}
		if want != "" {
			require.Contains(t, closing(t, events[len(events)-1]), want, "%s took the path it is named for", wid)
		}
		data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&historypb.History{Events: events})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(file, append(data, '\n'), 0o644))
		requireReplays(ctx, t, r.h, wid)
		t.Logf("%s: %d events from %s", file, len(events), wid)
	})
}

// start posts an incident to the intake and returns the one run it started.
func (r *recorder) start(body []byte) string {
	r.t.Helper()
	code, a := r.h.post(r.t, body)
	require.Equal(r.t, http.StatusAccepted, code)
	require.Len(r.t, a.Runs, 1, "one playbook: %+v", a.Runs)
	return a.Runs[0].WorkflowID
}

// startRun starts one playbook through the intake's run endpoint and returns its run.
func (r *recorder) startRun(playbook string, body []byte) string {
	r.t.Helper()
	code, a := r.h.postRun(r.t, playbook, body)
	require.Equal(r.t, http.StatusAccepted, code)
	require.Len(r.t, a.Runs, 1)
	return a.Runs[0].WorkflowID
}

// startByHand starts playbook as the Temporal UI's Start Workflow form does.
func (r *recorder) startByHand(ctx context.Context, playbook, id string, body []byte) string {
	r.t.Helper()
	run, err := r.h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, playbook, json.RawMessage(body))
	require.NoError(r.t, err)
	return run.GetID()
}

// wait waits for a run to close, failed or not.
func (r *recorder) wait(ctx context.Context, wid string) {
	r.t.Helper()
	_ = r.h.client.GetWorkflow(ctx, wid, "").Get(ctx, nil) // a failed run is a path too: Describe says it closed
	desc, err := r.h.client.DescribeWorkflow(ctx, wid, "")
	require.NoError(r.t, err)
	require.NotNil(r.t, desc.RawResponse.WorkflowExecutionInfo.CloseTime, "%s closed", wid)
}

// answer waits until the run waits for the engineers, then answers for them.
func (r *recorder) answer(ctx context.Context, wid string, decision string) string {
	r.t.Helper()
	waitWaiting(ctx, r.t, r.h, wid)
	_, err := r.h.client.UpdateWorkflow(ctx, clientUpdate(wid, workflows.Answer{Decision: decision, By: "ana.ruiz@example.com"}))
	require.NoError(r.t, err)
	return wid
}

// round is the escalation round the run is in, -1 when it cannot say.
func (r *recorder) round(ctx context.Context, wid string) int {
	resp, err := r.h.client.QueryWorkflow(ctx, wid, "", playbooks.PLCStatusQuery)
	if err != nil {
		return -1
	}
	var st playbooks.PLCStatus
	if resp.Get(&st) != nil {
		return -1
	}
	return st.Round
}

// closing is the result or failure of a run's last event, as text.
func closing(t *testing.T, ev *historypb.HistoryEvent) string {
	if a := ev.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
		return string(a.GetResult().GetPayloads()[0].GetData())
	}
	if a := ev.GetWorkflowExecutionFailedEventAttributes(); a != nil {
		return a.GetFailure().GetMessage()
	}
	t.Fatalf("the run did not close: its last event is %s", ev.GetEventType())
	return ""
}

// recordOwnerPaths records IoTOwnerApproval's and CVEAutoWorkflow's paths. Their default rules are off:
// IoTOwnerApproval starts through the intake's run route (which tells the Sentinel stand-in about the
// incident); CVEAutoWorkflow starts by hand, on an incident the stand-in is told about first.
func (r *recorder) recordOwnerPaths() {
	t, h := r.t, r.h
	owner := func(tag string) []byte { return ownerFixture(t, tag, "4501") }
	r.record("owner-answered-expected", `"outcome":"answered_expected"`, func(ctx context.Context) string {
		return r.answer(ctx, h.startPlaybook(t, playbooks.OwnerApprovalName, owner("rec-expected")), workflows.DecisionExpected)
	})
	r.record("owner-answered-not-expected", `"outcome":"answered_not_expected"`, func(ctx context.Context) string {
		return r.answer(ctx, h.startPlaybook(t, playbooks.OwnerApprovalName, owner("rec-notexpected")), workflows.DecisionNotExpected)
	})
	r.record("owner-no-answer", `"reminders":1`, func(ctx context.Context) string {
		return h.startPlaybook(t, playbooks.OwnerApprovalName, owner("rec-noanswer"))
	})
	r.record("owner-not-applicable", `"outcome":"not_applicable"`, func(ctx context.Context) string {
		// No owner in the alert, and none in the asset directory.
		body := strings.NewReplacer("-owner@rotterdam.example.com", " (no address)", "RIO-L3-01", "RIO-ZZ-01", "10.20.3.30", "10.99.9.30").
			Replace(string(owner("rec-na")))
		return r.startByHand(ctx, playbooks.OwnerApprovalName, "rec-owner-na", []byte(body))
	})
	cve := func(tag string, body []byte) string {
		ev, err := incident.Parse(body)
		require.NoError(t, err)
		h.azure.Stub.Mirror(ev, []string{"management.azure.com"})
		return r.startByHand(context.Background(), playbooks.CVEAutoWorkflowName, "rec-"+tag, body)
	}
	r.record("cve-critical-answered", `"ownerOutcome":"answered_not_expected"`, func(ctx context.Context) string {
		return r.answer(ctx, cve("cve-critical", owner("rec-cve-critical")), workflows.DecisionNotExpected)
	})
	r.record("cve-none", `"outcome":"no_cves"`, func(ctx context.Context) string {
		body := strings.NewReplacer("oa-10", "zz-10", "HMI-OA-1", "HMI-ZZ-1", "SW-OA-3", "SW-ZZ-3").Replace(string(owner("rec-cve-none")))
		return cve("cve-none", []byte(body))
	})
}

package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/interlock-soar/interlock/internal/workbook"
)

// hostile is an alert title that would run script if the page ever made markup of data.
const hostile = `<img src=x onerror=alert(1)>`

// fixture is a fixed Summary with every tile filled and hostile strings where alerts put text.
type fixture struct{}

func (fixture) Summary(_ context.Context, r workbook.Range) (workbook.Summary, error) {
	return fixtureSummary(r), nil
}

func fixtureSummary(r workbook.Range) workbook.Summary {
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	series := func(counts ...int) []workbook.Point {
		ps := make([]workbook.Point, len(counts))
		for i, c := range counts {
			ps[i] = workbook.Point{T: start.Add(time.Duration(i) * 24 * time.Hour), Count: c}
		}
		return ps
	}
	ui := "http://127.0.0.1:8233/namespaces/default/workflows"
	return workbook.Summary{
		Range: r, GeneratedAt: start.Add(7 * 24 * time.Hour),
		Totals: workbook.Totals{Alerts: 57, Incidents: 19, OpenIncidents: 6, Devices: 23, Runs: 31},
		AlertsByType: []workbook.Count{{Key: "Unauthorized PLC programming", Count: 21}, {Key: hostile, Count: 13},
			{Key: "New asset detected", Count: 12}, {Key: "Firmware change", Count: 7}, {Key: `"quoted" & <b>bold</b>`, Count: 4}},
		AlertsBySeverity:   []workbook.Count{{Key: "High", Count: 24}, {Key: "Medium", Count: 20}, {Key: "Low", Count: 13}},
		AlertsByDeviceType: []workbook.Count{{Key: "PLC", Count: 30}, {Key: "Engineering Workstation", Count: 15}, {Key: "HMI", Count: 12}},
		AlertsByVendor:     []workbook.Count{{Key: "Siemens", Count: 26}, {Key: "Rockwell Automation", Count: 19}, {Key: "Schneider Electric", Count: 12}},
		AlertsOverTime:     series(4, 9, 6, 12, 8, 11, 7),
		IncidentsOverTime:  series(1, 3, 2, 5, 2, 4, 2),
		Matrix: []workbook.Tactic{
			{ID: "TA0108", Name: "Initial Access", Count: 9, Techniques: []workbook.Technique{
				{ID: "T0817", Name: "Drive-by Compromise", Count: 0}, {ID: "T0866", Name: "Exploitation of Remote Services", Count: 9, URL: ui + "?q=T0866"}}},
			{ID: "TA0104", Name: "Execution", Count: 25, Techniques: []workbook.Technique{
				{ID: "T0858", Name: "Change Operating Mode", Count: 4}, {ID: "T0821", Name: "Modify Controller Tasking", Count: 21},
				{ID: "T0871", Name: "Execution through API", Count: 0}}},
			{ID: "TA0110", Name: "Persistence", Count: 7, Techniques: []workbook.Technique{{ID: "T0839", Name: "Module Firmware", Count: 7}}},
			{ID: "TA0102", Name: "Discovery", Count: 12, Techniques: []workbook.Technique{
				{ID: "T0842", Name: "Network Sniffing", Count: 0}, {ID: "T0846", Name: "Remote System Discovery", Count: 12}}},
			{ID: "TA0106", Name: "Impair Process Control", Count: 4, Techniques: []workbook.Technique{
				{ID: "T0836", Name: "Modify Parameter", Count: 4}, {ID: "T0855", Name: "Unauthorized Command Message", Count: 1}}},
		},
		TacticsOverTime: []workbook.Series{
			{Name: "Execution", Points: series(2, 5, 3, 6, 3, 4, 2)},
			{Name: "Discovery", Points: series(1, 2, 1, 3, 2, 2, 1)},
			{Name: "Persistence", Points: series(0, 1, 1, 2, 1, 1, 1)},
		},
		OpenIncidents: []workbook.SiteLine{
			{Site: "Plant Nord", Line: "Line 1", Count: 3, Highest: "High", Impact: "Filling stops: 1,200 bottles an hour",
				Assets: []string{"PLC-101", "PLC-102"}, URL: ui + "?q=site"},
			{Site: "Plant Süd", Line: hostile, Count: 2, Highest: "Medium", Impact: `<script>alert("impact")</script>`, Assets: []string{"HMI-7"}},
			{Site: "Plant Süd", Line: "Line 4", Count: 1, Highest: "Low"},
		},
		Playbooks: []workbook.PlaybookOutcomes{
			{Playbook: "PLCUnauthorizedChange", Runs: 14, Open: 3, URL: ui + "?q=plc",
				Outcomes: []workbook.Count{{Key: "answered-planned", Count: 8}, {Key: "ticket-created", Count: 3}}},
			{Playbook: "NewEngineeringStation", Runs: 9, Open: 0, Outcomes: []workbook.Count{{Key: "ticket-created", Count: 9}}},
			{Playbook: "AutoTriageIncident", Runs: 8, Open: 1, Outcomes: []workbook.Count{{Key: "noted", Count: 7}}},
		},
		Answers: workbook.Answers{Asked: 14, Answered: 9, Escalations: 2, NoAnswer: 2, MedianSecs: 540, P90Secs: 3300,
			Pending: []workbook.PendingAnswer{
				{WorkflowID: "plc-inc-41", RunID: "r1", Playbook: "PLCUnauthorizedChange", Incident: "INC-41", Title: hostile,
					Devices: []string{"PLC-101"}, Round: 2, WaitingSince: start.Add(6 * 24 * time.Hour), URL: "javascript:alert(2)"},
				{WorkflowID: "plc-inc-44", RunID: "r2", Playbook: "IoTOwnerApproval", Incident: "INC-44", Title: "Owner approval for HMI-7",
					Devices: []string{"HMI-7", "PLC-102"}, Round: 1, WaitingSince: start.Add(6*24*time.Hour + 5*time.Hour), URL: ui + "/plc-inc-44"},
			}},
		Links: workbook.Links{AllRuns: ui, OpenRuns: ui + "?q=open", PendingRuns: ui + "?q=pending", FailedRuns: ui + "?q=failed"},
	}
}

// summaryAPI is a minimal GET /workbook/api/summary over a Source, standing in for the store's API.
func summaryAPI(src workbook.Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/workbook/api/summary" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		from, err1 := time.Parse(time.RFC3339, q.Get("from"))
		to, err2 := time.Parse(time.RFC3339, q.Get("to"))
		b := workbook.Bucket(q.Get("bucket"))
		if err1 != nil || err2 != nil || (b != workbook.BucketHour && b != workbook.BucketDay) {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		s, err := src.Summary(r.Context(), workbook.Range{From: from, To: to, Bucket: b})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
}

// newServer serves the page and the fixture API the way the intake mounts them.
func newServer(auth *Auth) (http.Handler, error) {
	page, err := NewPage(auth, PageOptions{})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for pattern, h := range Mounts(auth, page, summaryAPI(fixture{})) {
		mux.Handle(pattern, h)
	}
	return mux, nil
}

package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// AlertReport is the alert-intake phase: Defender for IoT alert records posted to POST /v1/alerts in
// batches, each becoming (or updating) an incident workflow. The intake answers a batch only once every
// record's incident has recorded it, so a record's alert→incident latency is its batch's POST latency.
type AlertReport struct {
	Records     int            `json:"records"`
	Batch       int            `json:"batch"`
	Batches     int            `json:"batches"`
	Concurrency int            `json:"concurrency"`
	Format      string         `json:"format"` // ndjson or json array
	ByShape     map[string]int `json:"byShape"`
	Titles      []string       `json:"titles"`
	// DefaultTitles says the titles are DefaultAlertTitles, for which the default rules start no playbook.
	DefaultTitles bool `json:"defaultTitles"`

	// What was sent: distinct alert IDs, exact re-sends, later records moved by 30 and 90 minutes.
	Alerts             int `json:"alerts"`
	Resends            int `json:"resends"`
	Later30            int `json:"later30m"`
	Later90            int `json:"later90m"`
	ExpectedAccepted   int `json:"expectedAccepted"`
	ExpectedDuplicates int `json:"expectedDuplicates"`

	// What the intake answered, per record: its first status other than "unavailable".
	Posts           int `json:"posts"`
	Retries         int `json:"retries"`
	BatchesRetried  int `json:"batchesRetried"`
	BatchesNotTaken int `json:"batchesNotTaken"` // some record still not taken after the last resend
	Accepted        int `json:"accepted"`
	Duplicates      int `json:"duplicates"`
	Rejected        int `json:"rejected"`
	Suppressed      int `json:"suppressed"`
	Unavailable     int `json:"unavailable"`
	Failed          int `json:"failed"`
	NotAnswered     int `json:"notAnswered"`
	// IncidentsCreated counts records answered "created"; DistinctIncidents the incident IDs answered;
	// WrongIncident, records answered with another incident than their alert's.
	IncidentsCreated  int `json:"incidentsCreated"`
	DistinctIncidents int `json:"distinctIncidents"`
	WrongIncident     int `json:"wrongIncident"`

	// WallSeconds runs from the first post to the last answer.
	WallSeconds     float64 `json:"wallSeconds"`
	RecordsPerSec   float64 `json:"recordsPerSec"`   // accepted + duplicate
	IncidentsPerSec float64 `json:"incidentsPerSec"` // created
	// PostLatency is every answered POST; RecordLatency each taken record's, from its batch's first
	// send to the answer that took it (the POST latency, plus resends when there were any).
	PostLatency   Summary `json:"postLatency"`
	RecordLatency Summary `json:"recordLatency"`

	// CeilingStartedPerSec is the ceiling phase's ExecuteWorkflow rate; CeilingRatio incidents created/s
	// ÷ that (0 without a ceiling phase).
	CeilingStartedPerSec float64 `json:"ceilingStartedPerSec"`
	CeilingRatio         float64 `json:"ceilingRatio"`

	// Verification: the visibility count of the run's incident workflows (-1 when it failed), and a
	// sample of incidents whose state was read.
	VisibilityQuery    string `json:"visibilityQuery"`
	VisibilityCount    int    `json:"visibilityCount"`
	Sampled            int    `json:"sampled"`
	SampleMismatches   int    `json:"sampleMismatches"`
	SamplePlaybookRuns int    `json:"samplePlaybookRuns"`
	// Terminated counts the run's incident workflows terminated after the checks (cleanup).
	Terminated int `json:"terminated"`

	CPU           map[string]float64 `json:"cpuSeconds"`
	HostBusyCores float64            `json:"hostBusyCores"`
	Errors        []string           `json:"errors"`
}

// alertFailures are the phase's correctness problems.
func alertFailures(a *AlertReport) []string {
	if a == nil {
		return nil
	}
	var out []string
	add := func(n int, what string) {
		if n > 0 {
			out = append(out, fmt.Sprintf("alerts: %d %s", n, what))
		}
	}
	add(a.Rejected, "records rejected")
	add(a.Suppressed, "records suppressed (no incident creation rule matched)")
	add(a.Unavailable+a.NotAnswered, "records not taken")
	add(a.Failed, "records failed")
	add(a.WrongIncident, "records answered with another incident than their alert's")
	// A resent batch whose first send was taken but not answered (a timeout) answers "duplicate"
	// without "created" for what the first send created: then only the distinct incidents count.
	if a.DistinctIncidents != a.Alerts || a.IncidentsCreated > a.Alerts || (a.Retries == 0 && a.IncidentsCreated != a.Alerts) {
		out = append(out, fmt.Sprintf("alerts: %d incidents created (%d distinct answered) for %d distinct alert IDs", a.IncidentsCreated, a.DistinctIncidents, a.Alerts))
	}
	if a.VisibilityCount >= 0 && a.VisibilityCount != a.Alerts {
		out = append(out, fmt.Sprintf("alerts: Temporal counts %d incident workflows for %d distinct alert IDs", a.VisibilityCount, a.Alerts))
	}
	add(a.SampleMismatches, "sampled incidents whose state is not what was posted")
	if a.DefaultTitles {
		add(a.SamplePlaybookRuns, "playbook runs in sampled incidents (the default titles start none)")
	}
	// Exact re-sends are duplicates in any order. A later record is accepted after its alert's first
	// record, but when it arrives first (batches in flight at once) it creates the incident and the
	// first record becomes the duplicate. A resent batch turns what its first send took into duplicates.
	if a.Retries == 0 && (a.Duplicates < a.ExpectedDuplicates || a.Duplicates > a.ExpectedDuplicates+a.Later30+a.Later90 ||
		a.Accepted+a.Duplicates != a.Records) {
		out = append(out, fmt.Sprintf("alerts: accepted %d / duplicate %d, expected %d / %d (up to %d more duplicates when later records overtake first ones)",
			a.Accepted, a.Duplicates, a.ExpectedAccepted, a.ExpectedDuplicates, a.Later30+a.Later90))
	}
	return out
}

func (b *tableWriter) alerts(a *AlertReport) {
	var shapes []string
	for _, k := range slices.Sorted(maps.Keys(a.ByShape)) {
		shapes = append(shapes, fmt.Sprintf("%s %d", k, a.ByShape[k]))
	}
	b.printf("\nAlert intake: %d records (%d alert IDs; repeats: %d exact re-sends, %d moved +30 min, %d moved +90 min; %s) in %d POSTs of %d as %s, %d concurrent\n",
		a.Records, a.Alerts, a.Resends, a.Later30, a.Later90, strings.Join(shapes, ", "), a.Batches, a.Batch, a.Format, a.Concurrency)
	b.rows([][]string{
		row("POST /v1/alerts answered", a.Posts, 0, a.PostLatency),
		row("record → incident (its POST)", a.Accepted+a.Duplicates, a.RecordsPerSec, a.RecordLatency),
		row("incidents created", a.IncidentsCreated, a.IncidentsPerSec, Summary{}),
	})
	b.printf("  records: accepted %d (expected %d), duplicate %d (expected %d), rejected %d, suppressed %d, unavailable %d, failed %d, not answered %d\n",
		a.Accepted, a.ExpectedAccepted, a.Duplicates, a.ExpectedDuplicates, a.Rejected, a.Suppressed, a.Unavailable, a.Failed, a.NotAnswered)
	if d := a.Duplicates - a.ExpectedDuplicates; d > 0 && a.Retries == 0 {
		b.printf("  %d later records overtook their alert's first record (batches in flight at once): they created the incident, the first record was the duplicate\n", d)
	}
	verdict := "OK"
	if len(alertFailures(a)) > 0 {
		verdict = "FAILED"
	}
	vis := "not counted"
	if a.VisibilityCount >= 0 {
		vis = fmt.Sprint(a.VisibilityCount)
	}
	b.printf("  incidents: %d created, %d distinct answered, Temporal counts %s, for %d alert IDs; %d sampled states: %d mismatches, %d playbook runs  %s\n",
		a.IncidentsCreated, a.DistinctIncidents, vis, a.Alerts, a.Sampled, a.SampleMismatches, a.SamplePlaybookRuns, verdict)
	b.printf("  posts %d (retries %d, batches resent %d, not taken %d); wall %.1f s; host busy %.2f cores",
		a.Posts, a.Retries, a.BatchesRetried, a.BatchesNotTaken, a.WallSeconds, a.HostBusyCores)
	if a.Terminated > 0 {
		b.printf("; %d incident workflows terminated afterwards", a.Terminated)
	}
	b.printf("\n")
	if a.CeilingStartedPerSec > 0 {
		b.printf("  incidents created/s ÷ ceiling started/s (%.1f) = %.2f (%.0f%%)\n", a.CeilingStartedPerSec, a.CeilingRatio, a.CeilingRatio*100)
	}
	b.cpu(a.CPU)
	for _, e := range a.Errors {
		b.printf("  error: %s\n", e)
	}
}

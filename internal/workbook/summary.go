// Package workbook is the OT security picture Interlock serves at /workbook: a read model of alerts,
// incidents, devices and playbook runs, the queries behind the page's tiles, and the page itself.
package workbook

import (
	"context"
	"time"
)

// Bucket is the width of one step of a time series.
type Bucket string

const (
	BucketHour Bucket = "hour"
	BucketDay  Bucket = "day"
)

// Range is the period a summary covers: alerts and incidents whose time falls in [From, To).
type Range struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Bucket Bucket    `json:"bucket"`
}

// Summary is everything the page shows for one range, as GET /workbook/api/summary returns it.
// Every count is computed by the store from its own rows, so a test can check each chart against a
// query of its own.
type Summary struct {
	Range       Range     `json:"range"`
	GeneratedAt time.Time `json:"generatedAt"`
	// Totals are the range's headline numbers.
	Totals Totals `json:"totals"`

	AlertsByType       []Count `json:"alertsByType"`
	AlertsBySeverity   []Count `json:"alertsBySeverity"`
	AlertsByDeviceType []Count `json:"alertsByDeviceType"`
	AlertsByVendor     []Count `json:"alertsByVendor"`

	// AlertsOverTime and IncidentsOverTime have one point per bucket of the range, zeros included.
	AlertsOverTime    []Point `json:"alertsOverTime"`
	IncidentsOverTime []Point `json:"incidentsOverTime"`

	// Matrix is the ATT&CK for ICS matrix, every tactic and technique of the catalogue in its order,
	// each with the range's alert count (zero included), for the heat map.
	Matrix []Tactic `json:"matrix"`
	// TacticsOverTime is one series per tactic that has alerts in the range, one point per bucket.
	TacticsOverTime []Series `json:"tacticsOverTime"`

	// OpenIncidents are the incidents not closed, grouped by site and production line.
	OpenIncidents []SiteLine `json:"openIncidents"`

	// Playbooks are the playbook runs started in the range, by playbook.
	Playbooks []PlaybookOutcomes `json:"playbooks"`
	// Answers are the engineers' and owners' answers to the runs that asked, and who is still waiting.
	Answers Answers `json:"answers"`

	// Links are Temporal UI links for the tiles (empty when no UI URL is configured).
	Links Links `json:"links"`
}

// Totals are the range's headline numbers.
type Totals struct {
	Alerts        int `json:"alerts"`
	Incidents     int `json:"incidents"`
	OpenIncidents int `json:"openIncidents"`
	Devices       int `json:"devices"`
	Runs          int `json:"runs"`
}

// Count is one bar: a key (an alert title, a severity, a device type, a vendor) and how many alerts.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Point is one bucket of a time series: T is the bucket's start.
type Point struct {
	T     time.Time `json:"t"`
	Count int       `json:"count"`
}

// Series is a named time series.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Tactic is one column of the ATT&CK for ICS matrix.
type Tactic struct {
	ID         string      `json:"id"`   // TA0108
	Name       string      `json:"name"` // Initial Access
	Count      int         `json:"count"`
	Techniques []Technique `json:"techniques"`
}

// Technique is one cell of the matrix.
type Technique struct {
	ID    string `json:"id"`   // T0817
	Name  string `json:"name"` // Drive-by Compromise
	Count int    `json:"count"`
	// URL links the runs of incidents with this technique in the Temporal UI, when one is configured.
	URL string `json:"url,omitempty"`
}

// SiteLine is the open incidents of one site and production line.
type SiteLine struct {
	Site  string `json:"site"`
	Line  string `json:"line"`
	Count int    `json:"count"`
	// Highest is the highest severity among them.
	Highest string `json:"highest"`
	// Impact is the business impact statement of the most severe one.
	Impact string `json:"impact,omitempty"`
	// Assets are the affected assets (device names), sorted, at most 20.
	Assets []string `json:"assets,omitempty"`
	URL    string   `json:"url,omitempty"`
}

// PlaybookOutcomes counts one playbook's runs by outcome.
type PlaybookOutcomes struct {
	Playbook string  `json:"playbook"` // the workflow type
	Runs     int     `json:"runs"`
	Open     int     `json:"open"`
	Outcomes []Count `json:"outcomes"` // ticket-created, noted, skipped, failed, asked, answered-planned, ...
	URL      string  `json:"url,omitempty"`
}

// Answers are the asking runs' answers.
type Answers struct {
	Asked       int     `json:"asked"`
	Answered    int     `json:"answered"`
	Escalations int     `json:"escalations"`
	NoAnswer    int     `json:"noAnswer"`
	MedianSecs  float64 `json:"medianSeconds"`
	P90Secs     float64 `json:"p90Seconds"`
	// Pending are the runs waiting for an answer now, oldest first, at most 50.
	Pending []PendingAnswer `json:"pending"`
}

// PendingAnswer is one run waiting for an answer.
type PendingAnswer struct {
	WorkflowID   string    `json:"workflowId"`
	RunID        string    `json:"runId"`
	Playbook     string    `json:"playbook"`
	Incident     string    `json:"incident"`
	Title        string    `json:"title"`
	Devices      []string  `json:"devices,omitempty"`
	Round        int       `json:"round"`
	WaitingSince time.Time `json:"waitingSince"`
	URL          string    `json:"url,omitempty"`
}

// Links are the tiles' Temporal UI links.
type Links struct {
	AllRuns     string `json:"allRuns,omitempty"`
	OpenRuns    string `json:"openRuns,omitempty"`
	PendingRuns string `json:"pendingRuns,omitempty"`
	FailedRuns  string `json:"failedRuns,omitempty"`
}

// Source is what the page's API reads a summary from: the store, or a fixture in tests.
type Source interface {
	Summary(ctx context.Context, r Range) (Summary, error)
}

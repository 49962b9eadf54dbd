package bench

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
)

// Config is one bench run.
type Config struct {
	// Incidents is the full-load phase's size; 0 skips it and the ceiling.
	Incidents int
	// Rate is the arrival rate in incidents per second; 0 posts as fast as Concurrency allows.
	Rate        float64
	Concurrency int
	Mix         Mix
	// Storm is how many times each of StormIncidents incidents is posted at once; 0 skips the storm.
	Storm          int
	StormIncidents int
	// LatencyRate and LatencyIncidents make the low-load phase; 0 incidents skips it.
	LatencyRate      float64
	LatencyIncidents int
	// Alerts is the alert-intake phase's size in records (0 skips it), posted to POST /v1/alerts in
	// batches of AlertBatch records, AlertConcurrency batches in flight. AlertRepeat is the share of
	// records that repeat an earlier alert ID, half as exact re-sends and half as later records.
	Alerts           int
	AlertBatch       int
	AlertRepeat      float64
	AlertConcurrency int
	// AlertShapes and AlertTitles rotate over the alerts; empty means both shapes and
	// DefaultAlertTitles. AlertArray sends JSON arrays instead of NDJSON.
	AlertShapes []AlertShape
	AlertTitles []string
	AlertArray  bool
	// KeepAlertIncidents leaves the run's incident workflows open instead of terminating them after
	// the checks.
	KeepAlertIncidents bool
	// Timeout is how long a phase waits, after its last post, for side effects and closed runs.
	Timeout time.Duration
	// Ceiling is the ceiling workflow's shape when CeilingExplicit, else it is measured from a completed
	// NewEngineeringStationTicket run (DefaultShape when there is none).
	Ceiling         Shape
	CeilingExplicit bool
	// NoCeiling skips the ceiling phase.
	NoCeiling bool
	// CeilingRegular runs the ceiling a second time with every local activity as a regular one: the
	// side effects' design without the local fast path, measured in the same run.
	CeilingRegular bool
	// CeilingSameWork also runs the same-work ceiling: per incident of the mix, the Temporal work
	// Interlock's path asks for (pathceiling.go).
	CeilingSameWork bool
	// WorkerTuning is the Temporal section the stack's worker runs with: the ceiling's worker takes the
	// same worker options, so both sides have the same slots.
	WorkerTuning config.Temporal

	// The stack. IntakeURLs are several intakes (replicas) taken in turn; when empty, IntakeURL alone.
	IntakeURL          string
	IntakeURLs         []string
	IntakeToken        string
	Temporal           client.Client
	TemporalAddress    string // for the report
	Namespace          string // for the report
	MailpitURL         string
	ServiceNowURL      string
	ServiceNowUser     string
	ServiceNowPassword string
	ServiceNowTable    string

	// Processes whose CPU and memory to report. DevStateDir finds a running `interlock dev` (its pid is
	// in dev.lock) and its Temporal and Mailpit children; the PIDs name separately run processes.
	DevStateDir                                           string
	DevPID, WorkerPID, IntakePID, TemporalPID, MailpitPID int
	// Processes, when set, are the stack's processes instead (a topology the bench launched itself).
	Processes []Process
	// Topology says in a line how the stack runs, for the report ("" for a stack already running).
	Topology string

	// JSON renders the report as one JSON document instead of the table.
	JSON bool
	// RunID is the run's unique tag; empty makes a random one.
	RunID  string
	Logger *slog.Logger
	// HTTPClient is used for every HTTP call; nil makes one sized for Concurrency.
	HTTPClient *http.Client
}

// check validates the config and fills defaults. The checks come in the order their messages are
// joined in.
func (c *Config) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c.checkLoad(bad)
	c.checkAlerts(bad)
	c.checkStack(bad)
	if c.RunID == "" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		c.RunID = hex.EncodeToString(b[:])
	}
	if !validRunID(c.RunID) {
		bad("run id %q: want 1 to 16 lower-case letters or digits", c.RunID)
	}
	c.MailpitURL = strings.TrimRight(c.MailpitURL, "/")
	c.ServiceNowURL = strings.TrimRight(c.ServiceNowURL, "/")
	c.ServiceNowTable = cmp.Or(c.ServiceNowTable, "incident")
	if c.WorkerTuning.MaxConcurrentWorkflows == 0 {
		c.WorkerTuning = config.Default().Temporal
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return errors.Join(errs...)
}

// checkLoad checks the incident phases' sizes and rates.
func (c *Config) checkLoad(bad func(string, ...any)) {
	if c.Incidents < 0 || c.StormIncidents < 0 || c.LatencyIncidents < 0 || c.Storm < 0 {
		bad("incident counts must not be negative")
	}
	if c.Incidents+c.StormIncidents+c.LatencyIncidents > maxSeq {
		bad("at most %d incidents per run", maxSeq)
	}
	if c.Rate < 0 || c.LatencyRate < 0 {
		bad("rates must not be negative")
	}
	if c.LatencyIncidents > 0 && c.LatencyRate == 0 {
		bad("the low-load phase needs a latency rate above 0")
	}
	if c.Concurrency < 1 || c.Concurrency > 10000 {
		bad("concurrency must be 1..10000, not %d", c.Concurrency)
	}
	if c.Storm > 1000 {
		bad("storm must be at most 1000 posts per incident")
	}
}

// checkAlerts checks the alert-intake phase and fills its defaults when it runs.
func (c *Config) checkAlerts(bad func(string, ...any)) {
	if c.Alerts < 0 || c.Alerts > maxSeq {
		bad("alerts must be 0..%d records", maxSeq)
	}
	if c.Alerts <= 0 {
		return
	}
	c.AlertBatch = cmp.Or(c.AlertBatch, 500)
	c.AlertConcurrency = cmp.Or(c.AlertConcurrency, 2)
	if len(c.AlertShapes) == 0 {
		c.AlertShapes = AlertShapes
	}
	if len(c.AlertTitles) == 0 {
		c.AlertTitles = DefaultAlertTitles
	}
	if c.AlertBatch < 1 || c.AlertBatch > incident.MaxBatchRecords {
		bad("alert batch must be 1..%d records, not %d", incident.MaxBatchRecords, c.AlertBatch)
	}
	if c.AlertConcurrency < 1 || c.AlertConcurrency > 1000 {
		bad("alert concurrency must be 1..1000, not %d", c.AlertConcurrency)
	}
	if c.AlertRepeat < 0 || c.AlertRepeat > MaxAlertRepeat {
		bad("alert repeat must be 0..%g, not %g", MaxAlertRepeat, c.AlertRepeat)
	}
}

// checkStack checks the timeout, the mix and the parts of the stack the mix needs, and joins the
// intake URLs into IntakeURL for the report.
func (c *Config) checkStack(bad func(string, ...any)) {
	if c.Timeout <= 0 {
		bad("timeout must be positive")
	}
	if len(c.Mix) == 0 {
		bad("mix is empty")
	}
	if c.Temporal == nil {
		bad("no Temporal client")
	}
	if len(c.IntakeURLs) == 0 && c.IntakeURL != "" {
		c.IntakeURLs = []string{c.IntakeURL}
	}
	if len(c.IntakeURLs) == 0 {
		bad("no intake URL")
	}
	for i, u := range c.IntakeURLs {
		c.IntakeURLs[i] = strings.TrimRight(u, "/")
	}
	c.IntakeURL = strings.Join(c.IntakeURLs, ", ")
	if c.MailpitURL == "" && c.Mix[KindPLCReprogramming] > 0 {
		bad("no Mailpit URL (needed for plc incidents)")
	}
	if c.ServiceNowURL == "" && c.Mix[KindNewEngineeringStation] > 0 {
		bad("no ServiceNow URL (needed for nes incidents)")
	}
}

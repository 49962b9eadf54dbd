package otincident

import (
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// Names registered with Temporal. Never rename them: waiting runs and committed histories use them.
const (
	WorkflowType = "InterlockIncident"
	// UpdateAddAlerts adds alert records (update-with-start from the alert intake).
	UpdateAddAlerts = "addAlerts"
	// UpdateChange changes the incident (API, CLI, playbook write-back).
	UpdateChange = "change"
	// QueryState answers the incident's State.
	QueryState = "state"
)

// Limits of one incident. Sentinel holds up to 150 alerts per incident; the rest are counted.
const (
	MaxAlerts        = 150
	MaxComments      = 500
	MaxTasks         = 100
	MaxTimeline      = 1000
	MaxCommentLen    = 30000 // Sentinel's comment limit
	MaxTaskTitleLen  = 150
	MaxTaskDescLen   = 3000
	MaxTagLen        = 256
	MaxTags          = 50
	MaxActorLen      = 200
	MaxRecordsPerAdd = 1000
)

// classifications are the classification values, as Sentinel spells them.
var classifications = []string{"Undetermined", "TruePositive", "BenignPositive", "FalsePositive"}

// reasonsFor are the classification reasons Sentinel offers for each classification.
var reasonsFor = map[string][]string{
	"Undetermined":   nil,
	"TruePositive":   {"SuspiciousActivity"},
	"BenignPositive": {"SuspiciousButExpected"},
	"FalsePositive":  {"IncorrectAlertLogic", "InaccurateData"},
}

// Task statuses, as Sentinel spells them.
const (
	TaskNew       = "New"
	TaskCompleted = "Completed"
)

// Creation is what the incident creation rules decided for the alert that created the incident.
type Creation struct {
	Rule           string   `json:"rule,omitempty"`
	Title          string   `json:"title"`
	Severity       string   `json:"severity,omitempty"`
	Tactics        []string `json:"tactics,omitempty"`
	Techniques     []string `json:"techniques,omitempty"`
	AnalyticRuleID string   `json:"analyticRuleId,omitempty"`
	// GroupKey is empty for one incident per alert; GroupLabel is the key as the rule computed it.
	GroupKey   string `json:"groupKey,omitempty"`
	GroupLabel string `json:"groupLabel,omitempty"`
}

// Record is one alert record for the incident: the single-alert incident the alert intake parsed,
// and what the creation rules decided for it.
type Record struct {
	Alert    incident.Incident `json:"alert"`
	Creation Creation          `json:"creation"`
	// Fingerprint identifies the record's content: a re-send of the same record has the same one.
	Fingerprint string `json:"fingerprint"`
}

// AddAlerts is the UpdateAddAlerts argument.
type AddAlerts struct {
	Records []Record `json:"records"`
}

// Outcomes of one record.
const (
	OutcomeAccepted  = "accepted"
	OutcomeDuplicate = "duplicate"
)

// RecordOutcome says what one record did to the incident.
type RecordOutcome struct {
	Status  string `json:"status"`
	Created bool   `json:"created,omitempty"` // this record created the incident
	Reason  string `json:"reason,omitempty"`
}

// AddAlertsResult answers UpdateAddAlerts, one outcome per record, in order.
type AddAlertsResult struct {
	Incident string          `json:"incident"`
	Outcomes []RecordOutcome `json:"outcomes"`
}

// Change is a change to the incident; empty fields are left alone.
type Change struct {
	// Actor says who asks: "api", "cli", "playbook:PLCReprogrammingNotice", … It is kept in the audit trail.
	Actor                 string          `json:"actor"`
	Title                 string          `json:"title,omitempty"`
	Status                string          `json:"status,omitempty"`
	Severity              string          `json:"severity,omitempty"`
	Owner                 *incident.Owner `json:"owner,omitempty"`
	Classification        string          `json:"classification,omitempty"`
	ClassificationReason  string          `json:"classificationReason,omitempty"`
	ClassificationComment string          `json:"classificationComment,omitempty"`
	AddTags               []string        `json:"addTags,omitempty"`
	// RaiseOnly makes Severity only raise (a higher severity the incident has is kept) and Status never
	// reopen a Closed incident: what a triage playbook that read an older copy of the incident may ask.
	RaiseOnly bool `json:"raiseOnly,omitempty"`
	// Comment adds a comment, or replaces the one with the same ID (a retried write-back).
	Comment *Comment `json:"comment,omitempty"`
	// AddTask adds a task; SetTask changes a task's status.
	AddTask *Task `json:"addTask,omitempty"`
	SetTask *Task `json:"setTask,omitempty"`
}

// ChangeResult answers UpdateChange.
type ChangeResult struct {
	Incident  string   `json:"incident"`
	Status    string   `json:"status"`
	Severity  string   `json:"severity"`
	Changes   []string `json:"changes"`
	CommentID string   `json:"commentId,omitempty"`
	TaskID    int      `json:"taskId,omitempty"`
}

// Comment is one comment. Message is HTML, as Sentinel comments are: writers escape every string they
// did not write themselves (the API escapes a person's plain text).
type Comment struct {
	ID      string    `json:"id"`
	Author  string    `json:"author,omitempty"`
	Message string    `json:"message"`
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
}

// Task is one investigation task.
type Task struct {
	ID          int       `json:"id,omitempty"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	Status      string    `json:"status,omitempty"`
	By          string    `json:"by,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Completed   time.Time `json:"completed,omitzero"`
}

// Entry is one event of the incident's history: the audit trail.
type Entry struct {
	Seq   int       `json:"seq"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"` // created, alert, change, comment, task, rules, playbook, impact, duplicate
	Text  string    `json:"text"`
}

// State is the incident as its workflow holds it; QueryState answers it.
type State struct {
	// Incident is the incident as playbooks and rules see it. Its ID is empty until the first record.
	Incident              incident.Incident `json:"incident"`
	Rule                  string            `json:"rule,omitempty"`
	GroupLabel            string            `json:"groupLabel,omitempty"`
	Classification        string            `json:"classification,omitempty"`
	ClassificationReason  string            `json:"classificationReason,omitempty"`
	ClassificationComment string            `json:"classificationComment,omitempty"`
	Closed                time.Time         `json:"closed,omitzero"`
	Comments              []Comment         `json:"comments,omitempty"`
	Tasks                 []Task            `json:"tasks,omitempty"`
	Timeline              []Entry           `json:"timeline,omitempty"`
	// TimelineDropped counts the oldest entries dropped to keep MaxTimeline.
	TimelineDropped int `json:"timelineDropped,omitempty"`
	// Seq numbers the incident's events; playbooks that run per event key on it.
	Seq        int `json:"seq"`
	Records    int `json:"records"`
	Duplicates int `json:"duplicates"`
	// AlertsDropped counts alerts that joined beyond MaxAlerts.
	AlertsDropped int `json:"alertsDropped,omitempty"`
	// Fingerprints maps each alert's key to its last record's fingerprint.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
	// Playbooks lists the runs the incident started, in order.
	Playbooks []PlaybookRun `json:"playbooks,omitempty"`
}

// PlaybookRun is one playbook run the incident's rules started.
type PlaybookRun struct {
	Playbook   string `json:"playbook"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId,omitempty"`
	Event      int    `json:"event"`
	Status     string `json:"status"` // started, deduplicated, failed
	Error      string `json:"error,omitempty"`
}

// Created says the incident exists (a first record arrived).
func (s *State) Created() bool { return s.Incident.ID != "" }

// Settings are the incident workflow's settings (config section incidents).
type Settings struct {
	// KeepClosedFor is how long a closed incident keeps taking records and changes before its run ends.
	KeepClosedFor time.Duration `json:"keepClosedFor"`
	// MaxHistoryEvents is the history length past which the run continues as new.
	MaxHistoryEvents int `json:"maxHistoryEvents"`
}

// DefaultSettings are used where a setting is zero.
var DefaultSettings = Settings{KeepClosedFor: 30 * 24 * time.Hour, MaxHistoryEvents: 8000}

// Normalized fills zero settings with the defaults.
func (s Settings) Normalized() Settings {
	if s.KeepClosedFor <= 0 {
		s.KeepClosedFor = DefaultSettings.KeepClosedFor
	}
	if s.MaxHistoryEvents <= 0 {
		s.MaxHistoryEvents = DefaultSettings.MaxHistoryEvents
	}
	return s
}

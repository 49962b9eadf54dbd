package bench

import (
	"slices"
	"time"
)

// Report is everything one bench run measured. Its JSON field names are stable: scripts and CI read
// them. Latencies are in milliseconds, rates per second, CPU in seconds, memory in MiB.
type Report struct {
	RunID           string         `json:"runId"`
	StartedAt       time.Time      `json:"startedAt"`
	DurationSeconds float64        `json:"durationSeconds"`
	Stack           StackInfo      `json:"stack"`
	Settings        Settings       `json:"settings"`
	Load            *PhaseReport   `json:"load"`
	Ceiling         *CeilingReport `json:"ceiling"`
	CeilingRatio    float64        `json:"ceilingRatio"` // load completed/s ÷ ceiling completed/s
	// CeilingRegular is the ceiling with regular activities only (--ceiling-regular).
	CeilingRegular *CeilingReport `json:"ceilingRegular,omitempty"`
	// SameWork is the same-work ceiling (--ceiling-same-work); SameWorkRatio load completed/s ÷ its
	// completed/s.
	SameWork      *CeilingReport  `json:"sameWork,omitempty"`
	SameWorkRatio float64         `json:"sameWorkRatio,omitempty"`
	Alerts        *AlertReport    `json:"alerts"`
	Storm         *StormReport    `json:"storm"`
	LowLoad       *PhaseReport    `json:"lowLoad"`
	Processes     []ProcessReport `json:"processes"`
	Host          HostReport      `json:"host"`
	Targets       []Target        `json:"targets"`
	Failures      []string        `json:"failures"`
	Notes         []string        `json:"notes"`
}

// StackInfo says what was measured.
type StackInfo struct {
	// Topology is how the bench launched the stack (split or combined, processes); empty for a
	// stack that was already running.
	Topology        string `json:"topology,omitempty"`
	Intake          string `json:"intake"`
	Temporal        string `json:"temporal"`
	Namespace       string `json:"namespace"`
	Mailpit         string `json:"mailpit"`
	ServiceNow      string `json:"servicenow"`
	ServiceNowTable string `json:"servicenowTable"`
}

// Settings are the run's parameters.
type Settings struct {
	Incidents        int     `json:"incidents"`
	Rate             float64 `json:"rate"`
	Concurrency      int     `json:"concurrency"`
	Mix              string  `json:"mix"`
	Storm            int     `json:"storm"`
	StormIncidents   int     `json:"stormIncidents"`
	LatencyRate      float64 `json:"latencyRate"`
	LatencyIncidents int     `json:"latencyIncidents"`
	TimeoutSeconds   float64 `json:"timeoutSeconds"`
	Alerts           int     `json:"alerts"`
	AlertBatch       int     `json:"alertBatch"`
	AlertRepeat      float64 `json:"alertRepeat"`
	AlertConcurrency int     `json:"alertConcurrency"`
}

// PhaseReport is a load or low-load phase: incidents posted to the intake.
type PhaseReport struct {
	Incidents   int            `json:"incidents"`
	ByKind      map[string]int `json:"byKind"`
	TargetRate  float64        `json:"targetRate"` // 0: as fast as Concurrency allows
	Concurrency int            `json:"concurrency"`

	Posts        int `json:"posts"`
	Retries      int `json:"retries"`
	Accepted     int `json:"accepted"`
	PostFailures int `json:"postFailures"`
	SideEffects  int `json:"sideEffectsDone"`
	Duplicates   int `json:"duplicates"`
	// Lost incidents were accepted but caused no side effect within the timeout.
	Lost              int `json:"lost"`
	Completed         int `json:"completed"`
	RunsFailed        int `json:"runsFailed"`
	NotClosed         int `json:"notClosed"`
	UnexpectedTickets int `json:"unexpectedTickets"`
	UnexpectedEmails  int `json:"unexpectedEmails"`
	// OtherPlaybookRuns are runs of playbooks other than the incident kind's that the rules started.
	OtherPlaybookRuns int `json:"otherPlaybookRuns"`
	AnswerErrors      int `json:"answerErrors"`

	// WallSeconds runs from the first post to the last run closed.
	WallSeconds       float64 `json:"wallSeconds"`
	AcceptedPerSec    float64 `json:"acceptedPerSec"`
	SideEffectsPerSec float64 `json:"sideEffectsPerSec"`
	CompletedPerSec   float64 `json:"completedPerSec"`

	PostToAccepted       Summary               `json:"postToAccepted"`
	AcceptedToSideEffect Summary               `json:"acceptedToSideEffect"`
	AcceptedToCompleted  Summary               `json:"acceptedToCompleted"`
	Kinds                map[string]KindReport `json:"kinds"`
	// Answers times the bench's own answers to PLC runs, which their completion waits for.
	Answers *AnswerTimes `json:"answers,omitempty"`

	CPU           map[string]float64 `json:"cpuSeconds"`
	HostBusyCores float64            `json:"hostBusyCores"`
	Errors        []string           `json:"errors"`
}

// AnswerTimes splits a PLC run's wait for the bench's answer: from its email's arrival to the Update
// sent (the bench's mail poll and queue), the Update call, and from its return to the run's close.
type AnswerTimes struct {
	EffectToSent Summary `json:"effectToSent"`
	Call         Summary `json:"call"`
	DoneToClosed Summary `json:"doneToClosed"`
}

// KindReport is one incident kind within a phase.
type KindReport struct {
	Playbook             string  `json:"playbook"`
	SideEffect           string  `json:"sideEffect"`
	Incidents            int     `json:"incidents"`
	SideEffects          int     `json:"sideEffectsDone"`
	Completed            int     `json:"completed"`
	AcceptedToSideEffect Summary `json:"acceptedToSideEffect"`
	AcceptedToCompleted  Summary `json:"acceptedToCompleted"`
	// Breakdown is where a sample of the completed runs spent their time (nil when none completed).
	Breakdown *Breakdown `json:"breakdown"`
}

// CeilingReport is the raw Temporal ceiling phase.
type CeilingReport struct {
	Workflows       int     `json:"workflows"`
	Shape           Shape   `json:"shape"`
	ShapeSource     string  `json:"shapeSource"`
	TargetRate      float64 `json:"targetRate"`
	Concurrency     int     `json:"concurrency"`
	Started         int     `json:"started"`
	StartFailures   int     `json:"startFailures"`
	Completed       int     `json:"completed"`
	NotCompleted    int     `json:"notCompleted"`
	WallSeconds     float64 `json:"wallSeconds"`
	StartedPerSec   float64 `json:"startedPerSec"`
	CompletedPerSec float64 `json:"completedPerSec"`
	// StartCall is the ExecuteWorkflow call (the counterpart of a post's 202); StartedToCompleted runs
	// from its return to the close.
	StartCall          Summary            `json:"startCall"`
	StartedToCompleted Summary            `json:"startedToCompleted"`
	Breakdown          *Breakdown         `json:"breakdown"`
	CPU                map[string]float64 `json:"cpuSeconds"`
	HostBusyCores      float64            `json:"hostBusyCores"`
	Errors             []string           `json:"errors"`
}

// StormReport is the alert storm: each incident posted several times at once.
type StormReport struct {
	Incidents        int            `json:"incidents"`
	PostsPerIncident int            `json:"postsPerIncident"`
	ByKind           map[string]int `json:"byKind"`
	Posts            int            `json:"posts"`
	Started          int            `json:"started"`
	Deduplicated     int            `json:"deduplicated"`
	PostFailures     int            `json:"postFailures"`
	// IncidentsStartedTwice had more than one post answered "started".
	IncidentsStartedTwice int `json:"incidentsStartedTwice"`
	ExpectedTickets       int `json:"expectedTickets"`
	Tickets               int `json:"tickets"`
	ExpectedEmails        int `json:"expectedEmails"`
	Emails                int `json:"emails"`
	// Duplicates counts side effects beyond the first per incident; Lost, incidents without any.
	Duplicates int                `json:"duplicates"`
	Lost       int                `json:"lost"`
	CPU        map[string]float64 `json:"cpuSeconds"`
	Errors     []string           `json:"errors"`
}

// ProcessReport is one watched process over the whole bench.
type ProcessReport struct {
	Role       string  `json:"role"`
	PID        int     `json:"pid"`
	Covers     string  `json:"covers"`
	CPUSeconds float64 `json:"cpuSeconds"`
	// LoadCPUSeconds is the full-load phase alone; per incident, LoadCPUMsPerIncident.
	LoadCPUSeconds       float64 `json:"loadCpuSeconds"`
	LoadCPUMsPerIncident float64 `json:"loadCpuMsPerIncident"`
	// PeakRSSMB is the highest VmRSS sampled (1/s) during the bench; HWMMB the kernel's VmHWM, the peak
	// since the process started.
	PeakRSSMB float64 `json:"peakRssMiB"`
	HWMMB     float64 `json:"hwmMiB"`
	Error     string  `json:"error,omitempty"`
}

// HostReport is the machine.
type HostReport struct {
	CPUs int `json:"cpus"`
	// BusyCores is the average number of cores busy (anyone's work) over the whole bench.
	BusyCores float64 `json:"busyCores"`
}

// Target is one of the project's performance goals and what this run measured.
type Target struct {
	Name  string  `json:"name"`
	Want  string  `json:"want"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Met   bool    `json:"met"`
}

// maxErrors bounds the distinct error messages a phase keeps.
const maxErrors = 5

func addError(list []string, msg string) []string {
	if msg == "" || slices.Contains(list, msg) || len(list) >= maxErrors {
		return list
	}
	return append(list, msg)
}

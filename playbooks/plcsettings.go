package playbooks

import (
	"slices"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/config"
)

// The PLC playbook's settings, read into each run through a SideEffect.

// PLCSettings are the workflow's settings. Build them with PLCSettingsFrom.
type PLCSettings struct {
	// AlertTitles are the alert titles (without "(MDIoT) ") that mean a PLC change.
	AlertTitles []string `json:"alertTitles"`
	// AnswerTimeout is each wait for an answer.
	AnswerTimeout time.Duration `json:"answerTimeout"`
	// EscalationRounds is how many escalation emails follow an unanswered notice.
	EscalationRounds int  `json:"escalationRounds"`
	CloseOnPlanned   bool `json:"closeOnPlanned"`
	// NotPlannedTag is added to the incident on a "not planned" answer; empty adds none.
	NotPlannedTag string `json:"notPlannedTag,omitempty"`
	// SOCMailbox gets the notice when the engineers' address is rejected.
	SOCMailbox string `json:"socMailbox"`
	// Lines maps a zone to its production line.
	Lines map[string]string `json:"lines,omitempty"`
}

// PLCSettingsFrom makes the settings from the validated config section.
func PLCSettingsFrom(cfg config.PLCReprogramming) PLCSettings {
	return PLCSettings{
		AlertTitles:      slices.Clone(cfg.AlertTitles),
		AnswerTimeout:    cfg.AnswerTimeout,
		EscalationRounds: cfg.EscalationRounds,
		CloseOnPlanned:   cfg.CloseOnPlanned,
		NotPlannedTag:    strings.TrimSpace(cfg.NotPlannedTag),
		SOCMailbox:       strings.TrimSpace(cfg.SOCMailbox),
		Lines:            lowerKeys(cfg.Lines),
	}
}

// DefaultPLCSettings are the settings of the default config.
func DefaultPLCSettings() PLCSettings {
	return PLCSettingsFrom(config.Default().Playbooks.PLCReprogramming)
}

// normalized fills what a hand-built PLCSettings left empty with the defaults (EscalationRounds 0
// stays: no escalation is a valid choice) and lower-cases the zone keys for lookup.
func (s PLCSettings) normalized() PLCSettings {
	def := config.Default().Playbooks.PLCReprogramming
	out := s
	out.AlertTitles = slices.Clone(s.AlertTitles)
	if len(out.AlertTitles) == 0 {
		out.AlertTitles = slices.Clone(def.AlertTitles)
	}
	if out.AnswerTimeout <= 0 {
		out.AnswerTimeout = def.AnswerTimeout
	}
	out.EscalationRounds = max(out.EscalationRounds, 0)
	if strings.TrimSpace(out.SOCMailbox) == "" {
		out.SOCMailbox = def.SOCMailbox
	}
	out.Lines = lowerKeys(s.Lines)
	return out
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return out
}

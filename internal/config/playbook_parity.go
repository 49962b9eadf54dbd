package config

import (
	"strings"
	"unicode"
)

// The settings of the playbooks that match Microsoft's Defender for IoT solution playbooks
// (AD4IoT-AutoTriageIncident, AD4IoT-AutoCloseIncidents, AD4IoT-MailByProductionLine).

// AutoTriage configures the AutoTriageIncident playbook.
type AutoTriage struct {
	Tag    string `yaml:"tag" doc:"Tag added to an incident the playbook raised to High; it also marks the incident as triaged, so the comment is not written again." default:"High Importance Device Auto Update"`
	Safety bool   `yaml:"safety" doc:"Also raise incidents naming a safety-relevant asset (safety: true in the asset directory), whatever its importance." default:"true"`
}

// AutoClose configures the AutoCloseIncidents playbook. The maintenance windows are the PLC
// playbook's (playbooks.plcReprogramming.maintenanceWindows) and the approved ServiceNow change requests.
type AutoClose struct {
	Tag string `yaml:"tag" doc:"Tag added to an incident the playbook closed; empty adds none." default:"Maintenance Auto Close"`
}

// MailByLine configures the MailByProductionLine playbook. The mailboxes are the lines' owners in the
// asset directory (incidents.assetsFile).
type MailByLine struct {
	MaxLines int `yaml:"maxLines" doc:"Most production lines one incident mails; the rest are listed in the result as not mailed." default:"10"`
}

func (a *AutoTriage) validate(errs *Errors) {
	validTag(errs, "playbooks.autoTriage.tag", a.Tag, true)
}

func (a *AutoClose) validate(errs *Errors) {
	validTag(errs, "playbooks.autoClose.tag", a.Tag, false)
}

func (m *MailByLine) validate(errs *Errors) {
	if m.MaxLines < 1 || m.MaxLines > 100 {
		errs.add("playbooks.mailByLine.maxLines", "must be 1 to 100, not %d", m.MaxLines)
	}
}

// validTag checks a tag the playbook writes: Sentinel labels are at most 256 characters, one line.
func validTag(errs *Errors, key, tag string, required bool) {
	t := strings.TrimSpace(tag)
	switch {
	case t == "" && required:
		errs.add(key, "is required")
	case len([]rune(t)) > 256:
		errs.add(key, "is longer than 256 characters")
	case strings.IndexFunc(t, unicode.IsControl) >= 0:
		errs.add(key, "contains a control character")
	}
}

package otincident

import (
	"fmt"
	"strings"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
)

// Summary is the incident in one line, as the Temporal UI lists it: "Unauthorized PLC Programming —
// PLC-L3-01 — Rotterdam Plant / Line 3 packaging". The Temporal UI renders summaries as Markdown, so
// characters that would format are dropped.
func Summary(inc incident.Incident) string {
	parts := []string{safetext.Clip(cmpOr(incident.BareTitle(inc.Title), "OT incident"), 120)}
	var device, site, line string
	for _, d := range inc.Devices {
		if device == "" {
			device = d.DisplayName()
		}
		if site == "" {
			site = d.Site
		}
	}
	if inc.Impact != nil {
		if len(inc.Impact.Assets) > 0 {
			device = inc.Impact.Assets[0].Name
		}
		site = cmpOr(inc.Impact.Site, site)
		if len(inc.Impact.Lines) > 0 {
			line = inc.Impact.Lines[0]
		}
	}
	if device != "" {
		parts = append(parts, safetext.Clip(device, 60))
	}
	if where := strings.Trim(site+" / "+line, " /"); where != "" {
		parts = append(parts, safetext.Clip(where, 100))
	}
	return plain(strings.Join(parts, " — "))
}

// Details is the run's current details in the Temporal UI (Markdown): status, severity, owner, impact
// and what the incident holds. Every string from an alert is made plain first.
func Details(s State) string {
	inc := s.Incident
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · severity **%s** · status **%s**", plain(Summary(inc)), plain(inc.Severity), plain(inc.Status))
	if o := OwnerName(inc.Owner); o != "" {
		fmt.Fprintf(&b, " · owner %s", plain(o))
	}
	b.WriteString("\n\n")
	if inc.Impact != nil {
		fmt.Fprintf(&b, "Impact: %s\n\n", plain(inc.Impact.Statement))
	}
	fmt.Fprintf(&b, "%d alert(s), %d device(s), %d record(s) (%d duplicate), %d comment(s), %d task(s), %d playbook run(s)",
		len(inc.Alerts)+s.AlertsDropped, len(inc.Devices), s.Records, s.Duplicates, len(s.Comments), len(s.Tasks), len(s.Playbooks))
	if s.Rule != "" {
		fmt.Fprintf(&b, "\n\nCreation rule: %s", plain(s.Rule))
	}
	return b.String()
}

// plain removes what Markdown or HTML would interpret, and line breaks.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '*', '_', '`', '[', ']', '<', '>', '#', '|', '\\', '!':
			return -1
		case '\n', '\r', '\t':
			return ' '
		}
		return r
	}, s)
}

package rules

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// ExplainIncident is the dry run behind `interlock rules test --alert FILE`: it decides exactly as
// DecideIncident does and writes every incident rule that ran, in order (✓ matched, · not matched,
// ✗ condition failed, - disabled), then the decision. It creates nothing.
func ExplainIncident(w io.Writer, e *Engine, alert incident.Incident) IncidentDecision {
	type step struct {
		r   *incidentRule
		o   outcome
		err string
	}
	var steps []step
	d := e.decide(&alert, func(r *incidentRule, o outcome, err string) {
		steps = append(steps, step{r, o, err})
	})

	var b strings.Builder
	fmt.Fprintf(&b, "Incident creation dry run of %s (%s)\n", e.file, plural(len(e.incRules), "incident rule"))
	if len(alert.Alerts) > 0 {
		a := &alert.Alerts[0]
		fmt.Fprintf(&b, "Alert: %q; severity %s", clean(a.Title), orNone(clean(a.Severity)))
		if a.VendorOriginalID != "" {
			fmt.Fprintf(&b, ", Defender for IoT alert %s", clean(a.VendorOriginalID))
		}
		if a.SourceAddress != "" {
			fmt.Fprintf(&b, ", source %s", clean(a.SourceAddress))
		}
		if !a.StartTime.IsZero() {
			fmt.Fprintf(&b, ", first detected %s", a.StartTime.UTC().Format(time.RFC3339))
		}
		b.WriteByte('\n')
	}

	b.WriteString("\nIncident rules, in evaluation order (the first match decides):\n")
	if len(steps) == 0 {
		b.WriteString("  (none ran)\n")
	}
	for _, s := range steps {
		head := fmt.Sprintf("[%d] %s", s.r.order, s.r.name)
		switch s.o {
		case outcomeMatched:
			fmt.Fprintf(&b, "  ✓ %s: matched\n", head)
		case outcomeTitleNotMatched:
			fmt.Fprintf(&b, "  · %s: not matched (title)\n", head)
		case outcomeNotMatched:
			fmt.Fprintf(&b, "  · %s: not matched (condition is false)\n", head)
			fmt.Fprintf(&b, "        condition: %s\n", oneLineSource(s.r.condition))
		case outcomeError:
			fmt.Fprintf(&b, "  ✗ %s: not matched, condition failed: %s\n", head, clean(s.err))
			fmt.Fprintf(&b, "        condition: %s\n", oneLineSource(s.r.condition))
		case outcomeDisabled:
			fmt.Fprintf(&b, "  - %s: skipped (disabled)\n", head)
		}
	}
	writeDecision(&b, &d)
	_, _ = io.WriteString(w, b.String())
	return d
}

func writeDecision(b *strings.Builder, d *IncidentDecision) {
	b.WriteString("\nDecision:\n")
	switch {
	case d.Rule == "":
		b.WriteString("  create:     no (no incident rule matched)\n")
	case !d.Create:
		fmt.Fprintf(b, "  create:     no (suppressed by %q)\n", d.Rule)
	default:
		b.WriteString("  create:     yes\n")
	}
	if d.Rule != "" {
		fmt.Fprintf(b, "  rule:       %s\n", d.Rule)
	}
	fmt.Fprintf(b, "  title:      %s\n", orNone(clean(d.Title)))
	if d.Rule != "" {
		fmt.Fprintf(b, "  severity:   %s\n", orNone(d.Severity))
		fmt.Fprintf(b, "  tactics:    %s\n", orNone(clean(strings.Join(d.Tactics, ", "))))
		fmt.Fprintf(b, "  techniques: %s\n", orNone(clean(strings.Join(d.Techniques, ", "))))
		if d.AnalyticRuleID != "" {
			fmt.Fprintf(b, "  analytic rule id: %s\n", d.AnalyticRuleID)
		}
	}
	if d.Create {
		if d.GroupKey == "" {
			b.WriteString("  group key:  (none: an incident of its own)\n")
		} else {
			fmt.Fprintf(b, "  group key:  %s (key %s)\n", d.GroupKey, clean(d.GroupLabel))
		}
	}
	for _, msg := range d.Errors {
		fmt.Fprintf(b, "  ✗ %s\n", clean(msg))
	}
}

// checkIncidentRules writes the incident creation rules in evaluation order, for Check.
func checkIncidentRules(b *strings.Builder, e *Engine) {
	enabled := 0
	for _, r := range e.incRules {
		if r.enabled {
			enabled++
		}
	}
	fmt.Fprintf(b, "\n%s: %s, %d enabled (evaluation order: order, then name; the first match decides)\n", e.file, plural(len(e.incRules), "incident rule"), enabled)
	for _, r := range e.incRules {
		fmt.Fprintf(b, "\n  [%d] %s  (line %d)\n", r.order, r.name, r.line)
		var state []string
		if !r.enabled {
			state = append(state, "DISABLED")
		} else {
			state = append(state, "enabled")
		}
		if r.create {
			state = append(state, "creates incidents")
		} else {
			state = append(state, "SUPPRESSES (create: false)")
		}
		if r.groupProgram != nil {
			g := "grouped by " + oneLineSource(r.groupBy)
			if r.groupWindow > 0 {
				g += " within " + r.groupWindow.String()
			}
			state = append(state, g)
		} else if r.create {
			state = append(state, "one incident per alert")
		}
		fmt.Fprintf(b, "        %s\n", strings.Join(state, "; "))
		var when []string
		if r.nTitles > 0 {
			when = append(when, plural(r.nTitles, "title"))
		}
		if r.nPhrases > 0 {
			when = append(when, plural(r.nPhrases, "title phrase"))
		}
		if r.condition != "" {
			when = append(when, oneLineSource(r.condition))
		}
		if len(when) == 0 {
			when = []string{"(every alert)"}
		}
		fmt.Fprintf(b, "        when  %s\n", strings.Join(when, " and "))
		sev := r.severity
		if sev == severityFromAlert {
			sev = "the alert's"
		}
		fmt.Fprintf(b, "        then  severity %s", sev)
		if len(r.tactics) > 0 {
			fmt.Fprintf(b, "; tactics %s", strings.Join(r.tactics, ", "))
		}
		if len(r.techniques) > 0 {
			fmt.Fprintf(b, "; techniques %s", strings.Join(r.techniques, ", "))
		}
		b.WriteByte('\n')
	}
}

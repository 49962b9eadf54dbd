package rules

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
)

// Explain is the dry run behind `interlock rules test --incident FILE`: it evaluates the event exactly as
// Evaluate does and writes a report of every rule in evaluation order (✓ matched, · not matched,
// ✗ condition failed, - skipped, with why), the actions taken, the incident changes and the playbooks
// that would run. It starts nothing and changes nothing.
func Explain(w io.Writer, e *Engine, ev incident.Event, now time.Time) Result {
	var steps []explainStep
	res := e.evaluate(&ev, now, func(r *rule, o outcome, err string) {
		steps = append(steps, explainStep{r, o, err})
	})

	var b strings.Builder
	trig, _ := triggerOf(ev.Type)
	explainEvent(&b, e, &ev, trig, now)
	explainSteps(&b, steps, trig, res.Errors)
	explainChanges(&b, res.Changes)
	b.WriteString("\nPlaybooks that would run, in order:\n")
	if len(res.Playbooks) == 0 {
		b.WriteString("  (none)\n")
	}
	for i, pb := range res.Playbooks {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, pb)
	}
	// The report is advisory; a failed write (closed pipe) changes nothing about the result.
	_, _ = io.WriteString(w, b.String())
	return res
}

// explainStep is one rule's outcome, as the evaluation traced it.
type explainStep struct {
	r   *rule
	o   outcome
	err string
}

func explainEvent(b *strings.Builder, e *Engine, ev *incident.Event, trig Trigger, now time.Time) {
	fmt.Fprintf(b, "Dry run of %s (%s) at %s\n", e.file, plural(len(e.rules), "rule"), now.UTC().Format(time.RFC3339))
	fmt.Fprintf(b, "Event: %s", clean(string(ev.Type)))
	if trig != "" {
		fmt.Fprintf(b, " (trigger %s)", trig)
	}
	if ev.ID != "" {
		fmt.Fprintf(b, ", id %s", clean(ev.ID))
	}
	if ev.Previous != nil {
		b.WriteString(", with previous state")
	}
	b.WriteByte('\n')
	inc := &ev.Incident
	fmt.Fprintf(b, "Incident: %s %q; severity %s, status %s\n", incidentRef(inc), inc.Title, orNone(inc.Severity), orNone(inc.Status))
}

// explainSteps lists each rule's outcome; errs are the evaluation's errors, shown when no rule ran.
func explainSteps(b *strings.Builder, steps []explainStep, trig Trigger, errs []string) {
	b.WriteString("\nRules, in evaluation order:\n")
	if len(steps) == 0 {
		b.WriteString("  (none ran)\n")
	}
	for _, s := range steps {
		r := s.r
		head := fmt.Sprintf("[%d] %s", r.order, r.name)
		switch s.o {
		case outcomeMatched:
			fmt.Fprintf(b, "  ✓ %s: matched\n", head)
			for _, d := range r.descs {
				fmt.Fprintf(b, "        → %s\n", d)
			}
		case outcomeNotMatched:
			fmt.Fprintf(b, "  · %s: not matched (condition is false)\n", head)
			fmt.Fprintf(b, "        condition: %s\n", oneLineSource(r.condition))
		case outcomeError:
			fmt.Fprintf(b, "  ✗ %s: not matched, condition failed: %s\n", head, clean(s.err))
			fmt.Fprintf(b, "        condition: %s\n", oneLineSource(r.condition))
		case outcomeDisabled:
			fmt.Fprintf(b, "  - %s: skipped (disabled)\n", head)
		case outcomeExpired:
			fmt.Fprintf(b, "  - %s: skipped (expired %s)\n", head, r.expires.Format(time.RFC3339))
		case outcomeOtherTrigger:
			fmt.Fprintf(b, "  - %s: skipped (trigger %s; this event is %s)\n", head, triggerList(r.triggers), trig)
		}
	}
	if trig == "" {
		// No rule ran: the event itself was unusable.
		for _, msg := range errs {
			fmt.Fprintf(b, "  ✗ %s\n", clean(msg))
		}
	}
}

func explainChanges(b *strings.Builder, changes []Change) {
	b.WriteString("\nIncident changes:\n")
	if len(changes) == 0 {
		b.WriteString("  (none)\n")
	}
	for i := 0; i < len(changes); i++ {
		c := changes[i]
		if c.Field == "labels" {
			// Group a rule's added tags into one line.
			tags := []string{clean(c.To)}
			for i+1 < len(changes) && changes[i+1].Field == "labels" && changes[i+1].Rule == c.Rule {
				i++
				tags = append(tags, clean(changes[i].To))
			}
			fmt.Fprintf(b, "  tags added: %s (rule %q)\n", strings.Join(tags, ", "), c.Rule)
			continue
		}
		fmt.Fprintf(b, "  %s: %s → %s (rule %q)\n", c.Field, orNone(clean(c.From)), orNone(clean(c.To)), c.Rule)
	}
}

// Check writes the rules of e in evaluation order, for `interlock rules check`: the automation rules,
// then the incident creation rules when there are any.
func Check(w io.Writer, e *Engine) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s, %d enabled (evaluation order: order, then name)\n", e.file, plural(len(e.rules), "rule"), e.Enabled())
	for _, r := range e.rules {
		fmt.Fprintf(&b, "\n  [%d] %s  (line %d)\n", r.order, r.name, r.line)
		state := "enabled"
		if !r.enabled {
			state = "DISABLED"
		}
		exp := "never expires"
		if !r.expires.IsZero() {
			exp = "expires " + r.expires.Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "        on %s; %s; %s\n", triggerList(r.triggers), state, exp)
		cond := oneLineSource(r.condition)
		fmt.Fprintf(&b, "        when  %s\n", cond)
		for i, d := range r.descs {
			label := "      "
			if i == 0 {
				label = "then  "
			}
			fmt.Fprintf(&b, "        %s%s\n", label, d)
		}
	}
	if len(e.incRules) > 0 {
		checkIncidentRules(&b, e)
	}
	_, _ = io.WriteString(w, b.String())
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func triggerList(ts []Trigger) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func incidentRef(inc *incident.Incident) string {
	if inc.Number != 0 {
		return "#" + strconv.FormatInt(inc.Number, 10)
	}
	if inc.ID != "" {
		return clean(inc.ID)
	}
	return "(no id)"
}

func oneLineSource(cond string) string {
	if cond == "" {
		return "(always)"
	}
	return strings.Join(strings.Fields(cond), " ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// clean makes a payload string safe to print on a terminal: anything with an unsafe rune (an escape
// sequence, a bidi override, a zero-width space) or invalid UTF-8 is shown quoted and escaped.
func clean(s string) string { return safetext.QuoteUnsafe(s) }

package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// FileError is a rules file that was refused, with every problem found in it.
type FileError struct {
	File     string
	Problems []Problem
}

// Problem is one thing wrong with a rules file.
type Problem struct {
	// Section is "incidentRules" for a problem with an incident creation rule; empty for automation rules
	// and the file as a whole.
	Section string
	// Rule is the rule's name; empty for problems with the file as a whole or a rule without a name.
	Rule string
	// Index is the rule's 1-based position in the file; 0 for problems with the file as a whole.
	Index int
	// Line is the line in the file the problem is on, when known.
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		fmt.Fprintf(&b, "rules file %s is invalid:\n", e.File)
	} else {
		fmt.Fprintf(&b, "rules file %s is invalid (%d problems):\n", e.File, len(e.Problems))
	}
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("  ")
		b.WriteString(p.location(e.File))
		b.WriteString(": ")
		// expr errors carry a snippet on following lines; indent it under the problem.
		b.WriteString(strings.ReplaceAll(p.Msg, "\n", "\n      "))
	}
	return b.String()
}

func (p Problem) location(file string) string {
	s := file
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
	}
	switch {
	case p.Index == 0:
	case p.Section == sectionIncident && p.Rule != "":
		s += fmt.Sprintf(": incident rule %d %q", p.Index, p.Rule)
	case p.Section == sectionIncident:
		s += fmt.Sprintf(": incident rule %d", p.Index)
	case p.Rule != "":
		s += fmt.Sprintf(": rule %d %q", p.Index, p.Rule)
	default:
		s += fmt.Sprintf(": rule %d", p.Index)
	}
	return s
}

package rules

import (
	"crypto/sha256"
	_ "embed"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"
)

//go:embed default_rules.yaml
var defaultRules []byte

// DefaultRulesFile is the name errors and reports use for the embedded default rules.
const DefaultRulesFile = "default_rules.yaml (built in)"

// maxFileSize caps what Load reads: a rules file is a few kilobytes, and the cap keeps a wrong path (a
// log file, a device) from being slurped into memory.
const maxFileSize = 4 << 20

// Engine is a validated, compiled rules file. It is immutable and safe for concurrent use; reloading
// makes a new Engine (see Set).
type Engine struct {
	file  string
	rules []*rule // in evaluation order
	// incRules are the incident creation rules, in evaluation order.
	incRules []*incidentRule
	sum      [sha256.Size]byte
	pool     sync.Pool // *evaluator
	// wsTypes are the device types that make an engineering workstation (nil: the default); see
	// SetEngineeringWorkstationTypes.
	wsTypes atomic.Pointer[[]string]
}

type rule struct {
	name      string
	index     int // 1-based position in the file
	line      int
	order     int
	enabled   bool
	expires   time.Time // zero: never
	triggers  []Trigger
	condition string      // as written, trimmed; empty means "always"
	program   *vm.Program // nil when condition is empty
	actions   []action
	descs     []string // human form of actions, for Match.Actions and reports
}

func (r *rule) triggersOn(t Trigger) bool {
	for _, x := range r.triggers {
		if x == t {
			return true
		}
	}
	return false
}

type actionKind int

const (
	actRunPlaybooks actionKind = iota + 1
	actSetSeverity
	actSetStatus
	actSetOwner
	actAddTags
)

type action struct {
	kind           actionKind
	playbooks      []string // actRunPlaybooks
	value          string   // severity, status or owner
	classification Classification
	tags           []string // actAddTags
}

func (a *action) String() string {
	switch a.kind {
	case actRunPlaybooks:
		if len(a.playbooks) == 1 {
			return "run playbook " + a.playbooks[0]
		}
		return "run playbooks " + strings.Join(a.playbooks, ", ")
	case actSetSeverity:
		return "set severity " + a.value
	case actSetStatus:
		if a.classification.Classification == "" {
			return "set status " + a.value
		}
		return "set status " + a.value + " (" + classificationString(&a.classification) + ")"
	case actSetOwner:
		return "set owner " + a.value
	case actAddTags:
		return "add tags " + strings.Join(a.tags, ", ")
	}
	return "unknown action"
}

// classificationString renders a closure as Sentinel's Logic Apps connector does:
// "BenignPositive - SuspiciousButExpected", plus the comment when there is one.
func classificationString(c *Classification) string {
	s := c.Classification
	if c.Reason != "" {
		s += " - " + c.Reason
	}
	if c.Comment != "" {
		s += ": " + c.Comment
	}
	return s
}

// RuleInfo describes one rule, for `interlock rules check`.
type RuleInfo struct {
	Name    string
	Order   int
	Enabled bool
	// Expires is when the rule stops firing; zero means never.
	Expires  time.Time
	Triggers []Trigger
	// Condition is the expr source; empty means the rule matches every event of its triggers.
	Condition string
	// Actions are the actions in order, in human form (`run playbook X`, `set severity High`).
	Actions []string
	// Line is where the rule starts in the file.
	Line int
}

// Parse validates and compiles a rules file. file names it in errors; known are the playbook names the
// rules may run (a nil list knows none). Any problem refuses the whole file: the error is a *FileError
// listing every problem found.
func Parse(data []byte, file string, known []string) (*Engine, error) {
	if file == "" {
		file = "rules"
	}
	pf, problems := parseFile(data, known)
	if len(problems) > 0 {
		return nil, &FileError{File: file, Problems: problems}
	}
	rules := pf.rules
	// Sentinel leaves rules with equal order in random relative order; Interlock breaks ties by name so
	// that a dry run and the live intake always agree.
	sort.SliceStable(rules, func(i, j int) bool {
		if rules[i].order != rules[j].order {
			return rules[i].order < rules[j].order
		}
		return rules[i].name < rules[j].name
	})
	return &Engine{file: file, rules: rules, incRules: sortIncidentRules(pf.incRules), sum: sha256.Sum256(data)}, nil
}

// Load reads and parses the rules file at path.
func Load(path string, known []string) (*Engine, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path, known)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("rules: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("rules: %s is larger than %d bytes; is it the right file?", path, maxFileSize)
	}
	return data, nil
}

// Default is the built-in rules file (default_rules.yaml, also the documented example): new engineering
// workstations open a ServiceNow ticket, PLC program changes notify the control engineers; the incident
// creation rules are the Microsoft Defender for IoT solution's analytics rules, one incident per alert.
func Default(known []string) (*Engine, error) {
	return Parse(defaultRules, DefaultRulesFile, known)
}

// DefaultRules returns the text of the built-in rules file, a starting point for a site's own.
func DefaultRules() []byte { return append([]byte(nil), defaultRules...) }

// File is the name the engine was loaded from.
func (e *Engine) File() string { return e.file }

// Len is the number of automation rules, enabled or not; IncidentRules lists the creation rules.
func (e *Engine) Len() int { return len(e.rules) }

// Enabled is the number of enabled rules (expired ones included: expiry depends on the time of the event).
func (e *Engine) Enabled() int {
	n := 0
	for _, r := range e.rules {
		if r.enabled {
			n++
		}
	}
	return n
}

// Rules describes the rules in evaluation order.
func (e *Engine) Rules() []RuleInfo {
	out := make([]RuleInfo, len(e.rules))
	for i, r := range e.rules {
		out[i] = RuleInfo{
			Name:      r.name,
			Order:     r.order,
			Enabled:   r.enabled,
			Expires:   r.expires,
			Triggers:  append([]Trigger(nil), r.triggers...),
			Condition: r.condition,
			Actions:   append([]string(nil), r.descs...),
			Line:      r.line,
		}
	}
	return out
}

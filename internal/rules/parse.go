package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// Limits, from Sentinel's automation rule resource where it has one (order 1–1000, ≤ 20 actions,
// displayName ≤ 500).
const (
	maxRules      = 1000
	maxActions    = 20
	minOrder      = 1
	maxOrder      = 1000
	maxNameLen    = 500
	maxTagLen     = 256
	maxOwnerLen   = 256
	maxCommentLen = 4000
)

// Enumerations, spelled as Sentinel spells them.
var (
	severities      = []string{"High", "Medium", "Low", "Informational"}
	statuses        = []string{"New", "Active", "Closed"}
	classifications = []string{"Undetermined", "TruePositive", "BenignPositive", "FalsePositive"}
	// reasonsFor pairs each classification with the reasons Sentinel offers for it (the portal's "Benign
	// Positive - Suspicious but expected" and so on). Undetermined takes none.
	reasonsFor = map[string][]string{
		"Undetermined":   nil,
		"TruePositive":   {"SuspiciousActivity"},
		"BenignPositive": {"SuspiciousButExpected"},
		"FalsePositive":  {"IncorrectAlertLogic", "InaccurateData"},
	}
	triggers    = []string{string(TriggerCreated), string(TriggerUpdated)}
	ruleKeys    = []string{"name", "order", "enabled", "expires", "trigger", "condition", "actions"}
	actionVerbs = []string{"runPlaybook", "runPlaybooks", "setSeverity", "setStatus", "setOwner", "addTags"}
	closureKeys = []string{"classification", "classificationReason", "classificationComment"}
)

// parser collects problems instead of stopping at the first, so one `rules check` shows them all.
type parser struct {
	known    []string
	problems []Problem
}

// ruleCtx is the rule a problem belongs to.
type ruleCtx struct {
	section string // "" for automation rules, sectionIncident for creation rules
	index   int
	name    string
}

func (p *parser) add(rc ruleCtx, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, Problem{Section: rc.section, Rule: rc.name, Index: rc.index, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// parsed is what a valid rules file holds.
type parsed struct {
	rules    []*rule
	incRules []*incidentRule
}

// topLevelKeys are the lists a rules file may hold; either may be left out, not both.
var topLevelKeys = []string{"rules", "incidentRules"}

func parseFile(data []byte, known []string) (parsed, []Problem) {
	p := &parser{known: known}
	var file ruleCtx
	var out parsed
	if len(data) > maxFileSize {
		p.add(file, nil, "the file is larger than %d bytes", maxFileSize)
		return out, p.problems
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			// An empty file is refused rather than read as "no rules": it is what a reload sees when an
			// editor or a deploy truncates the file before writing it, and running no rules would
			// silently stop every playbook. `rules: []` says "no rules" on purpose.
			p.add(file, nil, `the file is empty; want a top-level "rules:" list (write "rules: []" for no rules)`)
		} else {
			p.add(file, nil, "not valid YAML: %v", err)
		}
		return out, p.problems
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.add(file, &extra, "the file holds more than one YAML document; put every rule under the one \"rules:\" list")
		return out, p.problems
	} else if !errors.Is(err, io.EOF) {
		p.add(file, nil, "not valid YAML: %v", err)
		return out, p.problems
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.add(file, nil, `the file is empty; want a top-level "rules:" list`)
			return out, p.problems
		}
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		p.add(file, root, `want a mapping with a "rules:" list at the top, got %s`, describe(root))
		return out, p.problems
	}
	var list, incList *yaml.Node
	p.eachKey(file, root, func(key string, k, v *yaml.Node) {
		switch key {
		case "rules":
			list = v
		case "incidentRules":
			incList = v
		default:
			p.add(file, k, `unknown top-level key %q (want "rules" or "incidentRules")%s`, key, suggestKey(key, topLevelKeys))
		}
	})
	if list == nil && incList == nil {
		if len(p.problems) == 0 {
			p.add(file, root, `no "rules:" or "incidentRules:" list`)
		}
		return out, p.problems
	}
	if list != nil {
		out.rules = p.ruleList(list)
	}
	if incList != nil {
		out.incRules = p.incidentRuleList(incList)
	}
	return out, p.problems
}

// ruleNodes checks a top-level list of rules (key is "rules" or "incidentRules"). It fails, with no
// problem, for a key with nothing under it: every rule commented out is a deliberate empty list.
func (p *parser) ruleNodes(rc ruleCtx, key string, list *yaml.Node) ([]*yaml.Node, bool) {
	switch {
	case list.Kind == yaml.ScalarNode && list.ShortTag() == "!!null":
		return nil, false
	case list.Kind != yaml.SequenceNode:
		p.add(rc, list, "%s: want a list of rules, got %s", key, describe(list))
		return nil, false
	case len(list.Content) > maxRules:
		p.add(rc, list, "%s: %d rules; the limit is %d", key, len(list.Content), maxRules)
		return nil, false
	}
	return list.Content, true
}

// firstNamed returns the rule in seen with r's name ignoring case, or records r under it. Names are
// checked even on rules with other problems, so one run reports all of them; unnamed rules never clash.
func firstNamed[R any](seen map[string]R, name string, r R) (first R, dup bool) {
	key := strings.ToLower(name)
	if key == "" {
		return first, false
	}
	if first, dup = seen[key]; !dup {
		seen[key] = r
	}
	return first, dup
}

func (p *parser) ruleList(list *yaml.Node) []*rule {
	nodes, ok := p.ruleNodes(ruleCtx{}, "rules", list)
	if !ok {
		return nil
	}
	rules := make([]*rule, 0, len(nodes))
	seen := map[string]*rule{}
	for i, n := range nodes {
		r, ok := p.parseRule(i+1, resolve(n))
		if r == nil {
			continue
		}
		if first, dup := firstNamed(seen, r.name, r); dup {
			p.add(ruleCtx{index: r.index, name: r.name}, resolve(n), "name: %q is already the name of rule %d (line %d); names must be unique (case-insensitive)", r.name, first.index, first.line)
			continue
		}
		if ok {
			rules = append(rules, r)
		}
	}
	return rules
}

// eachKey walks a mapping, refusing non-scalar and duplicate keys (yaml.v3 checks duplicates only when
// decoding into Go maps and structs, not into nodes).
func (p *parser) eachKey(rc ruleCtx, m *yaml.Node, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.add(rc, k, "keys must be plain words, got %s", describe(k))
			continue
		}
		if seen[k.Value] {
			p.add(rc, k, "%s: given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

// ruleName is a rule mapping's name as written, read before its other keys so every problem of the
// rule carries it; "" when it has none.
func ruleName(n *yaml.Node) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "name" {
			if v := resolve(n.Content[i+1]); v.Kind == yaml.ScalarNode {
				return strings.TrimSpace(v.Value)
			}
			return ""
		}
	}
	return ""
}

// parseRule returns the rule and whether it is valid; problems are recorded. The rule is nil when the
// node is not a rule at all.
func (p *parser) parseRule(index int, n *yaml.Node) (*rule, bool) {
	rc := ruleCtx{index: index}
	before := len(p.problems)
	if n.Kind != yaml.MappingNode {
		p.add(rc, n, "want a mapping (name, order, trigger, condition, actions), got %s", describe(n))
		return nil, false
	}
	rc.name = ruleName(n)
	r := &rule{index: index, line: n.Line, enabled: true}
	var haveName, haveOrder, haveTrigger, haveActions bool
	p.eachKey(rc, n, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			haveName = true
			r.name = p.name(rc, v)
		case "order":
			haveOrder = true
			r.order = p.order(rc, v)
		case "enabled":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				p.add(rc, v, "enabled: want true or false, got %s", describe(v))
				return
			}
			r.enabled = strings.EqualFold(v.Value, "true")
		case "expires":
			r.expires = p.expires(rc, v)
		case "trigger":
			haveTrigger = true
			r.triggers = p.triggers(rc, v)
		case "condition":
			r.condition, r.program = p.condition(rc, v)
		case "actions":
			haveActions = true
			r.actions = p.actions(rc, v)
		default:
			p.add(rc, k, "unknown key %q (want %s)", key, strings.Join(ruleKeys, ", "))
		}
	})
	if !haveName {
		p.add(rc, n, "name: missing; every rule needs a unique name")
	}
	if !haveOrder {
		p.add(rc, n, "order: missing; want a number from %d to %d (rules run in ascending order)", minOrder, maxOrder)
	}
	if !haveTrigger {
		p.add(rc, n, "trigger: missing; want created, updated or [created, updated]")
	}
	if !haveActions {
		p.add(rc, n, "actions: missing; a rule needs at least one action")
	}
	if len(p.problems) > before {
		return r, false
	}
	r.descs = make([]string, len(r.actions))
	for i := range r.actions {
		r.descs[i] = r.actions[i].String()
	}
	return r, true
}

func (p *parser) name(rc ruleCtx, v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		p.add(rc, v, "name: want text, got %s", describe(v))
		return ""
	}
	name := strings.TrimSpace(v.Value)
	switch {
	case name == "":
		p.add(rc, v, "name: is empty")
	case utf8.RuneCountInString(name) > maxNameLen:
		p.add(rc, v, "name: longer than %d characters", maxNameLen)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		// Names go into logs, reports and Temporal memos; keep them one printable line.
		p.add(rc, v, "name: contains control characters or invalid UTF-8")
	}
	return name
}

func (p *parser) order(rc ruleCtx, v *yaml.Node) int {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		p.add(rc, v, "order: want a whole number from %d to %d, got %s", minOrder, maxOrder, describe(v))
		return 0
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil || n < minOrder || n > maxOrder {
		p.add(rc, v, "order: %s is out of range; want %d to %d", v.Value, minOrder, maxOrder)
		return 0
	}
	return n
}

func (p *parser) expires(rc ruleCtx, v *yaml.Node) time.Time {
	if v.Kind == yaml.ScalarNode {
		s := strings.TrimSpace(v.Value)
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC()
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t // midnight UTC
		}
	}
	p.add(rc, v, "expires: want a UTC time like 2027-01-31T00:00:00Z (or a date, meaning midnight UTC), got %s", describe(v))
	return time.Time{}
}

func (p *parser) triggers(rc ruleCtx, v *yaml.Node) []Trigger {
	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{v}
	case yaml.SequenceNode:
		items = v.Content
		if len(items) == 0 {
			p.add(rc, v, "trigger: empty list; want created, updated or both")
			return nil
		}
	default:
		p.add(rc, v, "trigger: want created, updated or [created, updated], got %s", describe(v))
		return nil
	}
	var out []Trigger
	for _, it := range items {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode || !contains(triggers, it.Value) {
			p.add(rc, it, "trigger: %s is not a trigger; want created or updated%s", describe(it), didYouMean(it, triggers))
			continue
		}
		t := Trigger(it.Value)
		if containsTrigger(out, t) {
			p.add(rc, it, "trigger: %s is listed twice", t)
			continue
		}
		out = append(out, t)
	}
	return out
}

func containsTrigger(list []Trigger, t Trigger) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

func (p *parser) condition(rc ruleCtx, v *yaml.Node) (string, *vm.Program) {
	if v.Kind != yaml.ScalarNode {
		p.add(rc, v, "condition: want an expression, got %s", describe(v))
		return "", nil
	}
	if v.ShortTag() == "!!null" {
		return "", nil
	}
	src := strings.TrimSpace(v.Value)
	if src == "" {
		return "", nil
	}
	prog, err := compileCondition(src)
	if err != nil {
		p.add(rc, v, "condition: %v", err)
		return src, nil
	}
	return src, prog
}

// didYouMean suggests the canonical spelling when only the case is wrong.
func didYouMean(v *yaml.Node, allowed []string) string {
	if v.Kind != yaml.ScalarNode {
		return ""
	}
	if c := canonical(v.Value, allowed); c != "" && c != v.Value {
		return fmt.Sprintf(" (did you mean %s?)", c)
	}
	return ""
}

// canonical returns the allowed spelling of s, compared case-insensitively, or "".
func canonical(s string, allowed []string) string {
	s = strings.TrimSpace(s)
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return a
		}
	}
	return ""
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// describe names a node's kind and value for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return safetext.Quote(n.Value, 60)
	}
	return "an unexpected YAML node"
}

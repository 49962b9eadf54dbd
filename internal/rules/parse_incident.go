package rules

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/interlock-soar/interlock/internal/incident"
)

func (p *parser) incidentRuleList(list *yaml.Node) []*incidentRule {
	nodes, ok := p.ruleNodes(ruleCtx{section: sectionIncident}, sectionIncident, list)
	if !ok {
		return nil
	}
	out := make([]*incidentRule, 0, len(nodes))
	byName := map[string]*incidentRule{}
	bySlug := map[string]*incidentRule{}
	for i, n := range nodes {
		n = resolve(n)
		r, ok := p.parseIncidentRule(i+1, n)
		if r == nil {
			continue
		}
		rc := ruleCtx{section: sectionIncident, index: r.index, name: r.name}
		if first, dup := firstNamed(byName, r.name, r); dup {
			p.add(rc, n, "name: %q is already the name of incident rule %d (line %d); names must be unique (case-insensitive)", r.name, first.index, first.line)
			continue
		}
		if r.name != "" {
			// Group keys start with the slug; two rules sharing one could merge each other's incidents.
			if first, dup := bySlug[r.slug]; dup {
				p.add(rc, n, "name: %q and incident rule %d %q give the same group key prefix %q; make the names differ in letters or digits", r.name, first.index, first.name, r.slug)
				continue
			}
			bySlug[r.slug] = r
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// parseIncidentRule returns the rule and whether it is valid, like parseRule.
func (p *parser) parseIncidentRule(index int, n *yaml.Node) (*incidentRule, bool) {
	rc := ruleCtx{section: sectionIncident, index: index}
	before := len(p.problems)
	if n.Kind != yaml.MappingNode {
		p.add(rc, n, "want a mapping (name, order, titles, titlesHave, condition, ...), got %s", describe(n))
		return nil, false
	}
	rc.name = ruleName(n)
	r := &incidentRule{index: index, line: n.Line, enabled: true, create: true, severity: severityFromAlert}
	// The keys given, with their values: checks across keys report at them.
	seen := map[string]*yaml.Node{}
	p.eachKey(rc, n, func(key string, k, v *yaml.Node) {
		seen[key] = v
		p.incidentRuleKey(rc, r, key, k, v)
	})
	p.checkIncidentRule(rc, n, r, seen)
	// The slug even of an invalid rule, so a clash with another rule is reported in the same run.
	r.slug = slug(r.name)
	return r, len(p.problems) == before
}

// incidentRuleKey reads one key of an incident rule into r.
func (p *parser) incidentRuleKey(rc ruleCtx, r *incidentRule, key string, k, v *yaml.Node) {
	switch key {
	case "name":
		r.name = p.name(rc, v)
	case "order":
		r.order = p.order(rc, v)
	case "enabled":
		r.enabled = p.boolean(rc, key, v, true)
	case "create":
		r.create = p.boolean(rc, key, v, true)
	case "analyticRuleId":
		r.analyticRuleID = p.ruleID(rc, v)
	case "titles":
		r.titles = p.titleSet(rc, key, v)
		r.nTitles = len(r.titles)
	case "titlesHave":
		phrases := p.phrases(rc, key, v)
		r.phrases, r.nPhrases = newPhraseSet(phrases), len(phrases)
	case "condition":
		r.condition, r.program = p.alertExpr(rc, key, v, false)
	case "groupBy":
		r.groupBy, r.groupProgram = p.alertExpr(rc, key, v, true)
	case "groupWindow":
		r.groupWindow = p.window(rc, v)
	case "title":
		r.title = p.titleTemplate(rc, v)
	case "severity":
		r.severity = p.incidentSeverity(rc, key, v, r.severity)
	case "tactics":
		r.tactics = p.distinctList(rc, key, v, tacticProblem)
	case "techniques":
		r.techniques = p.distinctList(rc, key, v, techniqueProblem)
	default:
		p.add(rc, k, "unknown key %q (want %s)%s", key, strings.Join(incidentRuleKeys, ", "), suggestKey(key, incidentRuleKeys))
	}
}

// checkIncidentRule reports missing keys and keys that make no sense without others; seen holds the
// keys given, with their values.
func (p *parser) checkIncidentRule(rc ruleCtx, n *yaml.Node, r *incidentRule, seen map[string]*yaml.Node) {
	if seen["name"] == nil {
		p.add(rc, n, "name: missing; every incident rule needs a unique name")
	}
	if seen["order"] == nil {
		p.add(rc, n, "order: missing; want a number from %d to %d (the first matching rule in ascending order decides)", minOrder, maxOrder)
	}
	group := seen["groupBy"]
	if group == nil {
		if w := seen["groupWindow"]; w != nil {
			p.add(rc, w, "groupWindow: only means something with groupBy")
		}
		if t := seen["title"]; t != nil {
			p.add(rc, t, "title: only with groupBy; an incident of one alert is titled after the alert")
		}
	} else if !r.create && seen["create"] != nil {
		p.add(rc, group, "groupBy: a rule with create: false makes no incident to group alerts into")
	}
}

// titleSet is the titles clause: lowered bare titles, each once.
func (p *parser) titleSet(rc ruleCtx, key string, v *yaml.Node) map[string]struct{} {
	titles := p.textList(rc, key, v)
	set := make(map[string]struct{}, len(titles))
	for _, t := range titles {
		t = strings.ToLower(incident.BareTitle(t))
		if _, dup := set[t]; dup {
			p.add(rc, v, "titles: %q is listed twice", t)
		}
		set[t] = struct{}{}
	}
	return set
}

// phrases is the titlesHave clause: each phrase as its terms, each phrase once.
func (p *parser) phrases(rc ruleCtx, key string, v *yaml.Node) [][]string {
	var phrases [][]string
	seen := map[string]bool{}
	for _, t := range p.textList(rc, key, v) {
		terms := splitTerms(t)
		if len(terms) == 0 {
			p.add(rc, v, "titlesHave: %q has no letters or digits; it would match nothing", t)
			continue
		}
		if j := strings.Join(terms, " "); seen[j] {
			p.add(rc, v, "titlesHave: %q is listed twice (terms compare case-insensitively, punctuation aside)", t)
			continue
		} else {
			seen[j] = true
		}
		phrases = append(phrases, terms)
	}
	return phrases
}

// incidentSeverity is the severity key; def stays when the value is refused.
func (p *parser) incidentSeverity(rc ruleCtx, key string, v *yaml.Node, def string) string {
	s, ok := p.text(rc, key, v)
	if !ok {
		return def
	}
	if !contains(incidentSeverities, s) {
		p.add(rc, v, "severity: %q is not one of %s%s", s, strings.Join(incidentSeverities, ", "), didYouMean(v, incidentSeverities))
		return def
	}
	return s
}

// distinctList reads a list of values, each once; problem says what is wrong with a value, or "".
func (p *parser) distinctList(rc ruleCtx, key string, v *yaml.Node, problem func(string) string) []string {
	var out []string
	for _, t := range p.textList(rc, key, v) {
		if msg := problem(t); msg != "" {
			p.add(rc, v, "%s: %q %s", key, t, msg)
		} else if contains(out, t) {
			p.add(rc, v, "%s: %q is listed twice", key, t)
		} else {
			out = append(out, t)
		}
	}
	return out
}

func tacticProblem(t string) string {
	if contains(tacticNames, t) {
		return ""
	}
	return "is not a tactic as Sentinel spells it (" + strings.Join(tacticNames, ", ") + ")" +
		didYouMean(&yaml.Node{Kind: yaml.ScalarNode, Value: t}, tacticNames)
}

func techniqueProblem(t string) string {
	if techniqueRE.MatchString(t) {
		return ""
	}
	return "is not a MITRE ATT&CK technique ID (T0839, T1059.001)"
}

func (p *parser) boolean(rc ruleCtx, key string, v *yaml.Node, def bool) bool {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
		p.add(rc, v, "%s: want true or false, got %s", key, describe(v))
		return def
	}
	return strings.EqualFold(v.Value, "true")
}

// text is one printable line of text.
func (p *parser) text(rc ruleCtx, key string, v *yaml.Node) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" || strings.TrimSpace(v.Value) == "" {
		p.add(rc, v, "%s: want text, got %s", key, describe(v))
		return "", false
	}
	s := strings.TrimSpace(v.Value)
	switch {
	case utf8.RuneCountInString(s) > maxTitleLen:
		p.add(rc, v, "%s: longer than %d characters", key, maxTitleLen)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		p.add(rc, v, "%s: %q contains control characters or invalid UTF-8", key, s)
	default:
		return s, true
	}
	return "", false
}

// textList is a non-empty list of text; a single value need not be written as a list.
func (p *parser) textList(rc ruleCtx, key string, v *yaml.Node) []string {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
		switch {
		case len(items) == 0:
			p.add(rc, v, "%s: empty list; leave the key out instead", key)
			return nil
		case len(items) > maxListItems:
			p.add(rc, v, "%s: %d items; the limit is %d", key, len(items), maxListItems)
			return nil
		}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := p.text(rc, key, resolve(it)); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) ruleID(rc ruleCtx, v *yaml.Node) string {
	s, ok := p.text(rc, "analyticRuleId", v)
	if !ok {
		return ""
	}
	if len(s) > maxRuleIDLen || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		p.add(rc, v, "analyticRuleId: want one word of at most %d characters (a GUID), got %s", maxRuleIDLen, describe(v))
		return ""
	}
	return s
}

func (p *parser) alertExpr(rc ruleCtx, key string, v *yaml.Node, group bool) (string, *vm.Program) {
	if v.Kind != yaml.ScalarNode {
		p.add(rc, v, "%s: want an expression, got %s", key, describe(v))
		return "", nil
	}
	src := strings.TrimSpace(v.Value)
	if v.ShortTag() == "!!null" || src == "" {
		if group {
			p.add(rc, v, "groupBy: empty; write an expression returning the key (alert.sourceAddress), or leave groupBy out")
		}
		return "", nil
	}
	prog, err := compileAlertExpr(src, group)
	if err != nil {
		p.add(rc, v, "%s: %v", key, err)
		return src, nil
	}
	return src, prog
}

func (p *parser) window(rc ruleCtx, v *yaml.Node) time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(v.Value))
	switch {
	case v.Kind != yaml.ScalarNode || err != nil:
		p.add(rc, v, "groupWindow: want a duration like 30m or 8h, got %s", describe(v))
	case d < time.Second || d > maxGroupWindow || d%time.Second != 0:
		p.add(rc, v, "groupWindow: %s is out of range; want whole seconds from 1s to %s", d, maxGroupWindow)
	default:
		return d
	}
	return 0
}

func (p *parser) titleTemplate(rc ruleCtx, v *yaml.Node) string {
	s, _ := p.text(rc, "title", v)
	return s
}

package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/suggest"
)

// sectionIncident is the top-level key of the incident creation rules, and Problem.Section for them.
const sectionIncident = "incidentRules"

// Limits of an incident creation rule.
const (
	maxListItems      = 1000 // titles, titlesHave, tactics, techniques
	maxTitleLen       = 500  // an alert title or phrase, and the title template
	maxRuleIDLen      = 128
	maxGroupWindow    = 366 * 24 * time.Hour
	maxGroupLabel     = 200 // runes of the group key shown in GroupLabel and {key}
	maxSlugLen        = 48
	severityFromAlert = "alert"
	// defaultAlertSeverity is the incident severity under `severity: alert` when the alert has none (or one
	// Sentinel does not know): the middle of the scale, so the alert is neither buried nor escalated.
	defaultAlertSeverity = incident.SeverityMedium
)

var (
	incidentRuleKeys = []string{"name", "order", "enabled", "analyticRuleId", "titles", "titlesHave", "condition",
		"severity", "tactics", "techniques", "create", "groupBy", "groupWindow", "title"}
	incidentSeverities = append([]string{severityFromAlert}, severities...)
	// tacticNames are the tactics as Sentinel spells them (enterprise and ICS matrices).
	tacticNames = []string{"Reconnaissance", "ResourceDevelopment", "InitialAccess", "Execution", "Persistence",
		"PrivilegeEscalation", "DefenseEvasion", "CredentialAccess", "Discovery", "LateralMovement", "Collection",
		"Exfiltration", "CommandAndControl", "Impact", "PreAttack", "ImpairProcessControl", "InhibitResponseFunction"}
	techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
)

// incidentRule is one compiled incident creation rule.
type incidentRule struct {
	name           string
	slug           string // the rule's part of a GroupKey
	index, line    int
	order          int
	enabled        bool
	create         bool
	analyticRuleID string
	titles         map[string]struct{} // lowered bare titles (KQL in / ==)
	nTitles        int
	phrases        phraseSet // titlesHave, by first term (KQL has_any)
	nPhrases       int
	condition      string
	program        *vm.Program
	severity       string // severityFromAlert or a Sentinel severity
	tactics        []string
	techniques     []string
	groupBy        string
	groupProgram   *vm.Program
	groupWindow    time.Duration // 0: no window
	title          string        // template with {key}; empty: the default
}

// matchesTitle applies the title clauses; a rule without any matches every title.
func (r *incidentRule) matchesTitle(t *termBuf, lowered []byte) bool {
	if r.nTitles == 0 && r.nPhrases == 0 {
		return true
	}
	if _, ok := r.titles[string(lowered)]; ok {
		return true
	}
	return r.phrases.match(t)
}

// IncidentRuleInfo describes one incident creation rule, for `interlock rules check`.
type IncidentRuleInfo struct {
	Name    string
	Order   int
	Enabled bool
	// Create is false for a suppression rule: matching alerts make no incident.
	Create bool
	// Grouped is true when the rule has groupBy: alerts with the same key join one incident.
	Grouped bool
	GroupBy string
	// GroupWindow is the grouping window; zero means alerts join whenever they arrive.
	GroupWindow    time.Duration
	AnalyticRuleID string
	// Titles and TitlesHave count the rule's title clauses; Condition is its expr source.
	Titles, TitlesHave int
	Condition          string
	Severity           string // "alert" or a severity
	Tactics            []string
	Techniques         []string
	Line               int
}

// IncidentRules describes the incident creation rules in evaluation order.
func (e *Engine) IncidentRules() []IncidentRuleInfo {
	out := make([]IncidentRuleInfo, len(e.incRules))
	for i, r := range e.incRules {
		out[i] = IncidentRuleInfo{
			Name: r.name, Order: r.order, Enabled: r.enabled, Create: r.create,
			Grouped: r.groupProgram != nil, GroupBy: r.groupBy, GroupWindow: r.groupWindow,
			AnalyticRuleID: r.analyticRuleID, Titles: r.nTitles, TitlesHave: r.nPhrases,
			Condition: r.condition, Severity: r.severity,
			Tactics: append([]string(nil), r.tactics...), Techniques: append([]string(nil), r.techniques...),
			Line: r.line,
		}
	}
	return out
}

// sortIncidentRules puts the rules in evaluation order: ascending order, ties by name (byte-wise), as the
// automation rules.
func sortIncidentRules(rs []*incidentRule) []*incidentRule {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].order != rs[j].order {
			return rs[i].order < rs[j].order
		}
		return rs[i].name < rs[j].name
	})
	return rs
}

// suggestKey names the key the author probably meant: same letters in another case, or one or two typos.
func suggestKey(key string, keys []string) string {
	if best := suggest.Closest(key, keys); best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return ""
}

// slug makes a rule name safe in a workflow ID: lower-case ASCII letters and digits, runs of anything
// else as one "-". A long name is cut and given a hash of the whole, so that names differing only at the
// end still differ; a name with no ASCII letters or digits is a hash alone.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isTermByte(c) {
			dash = true
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteByte(lowerByte(c))
	}
	s := b.String()
	sum := sha256.Sum256([]byte(name))
	switch {
	case s == "":
		return "rule-" + hex.EncodeToString(sum[:4])
	case len(s) > maxSlugLen:
		return strings.TrimRight(s[:maxSlugLen-9], "-") + "-" + hex.EncodeToString(sum[:4])
	}
	return s
}

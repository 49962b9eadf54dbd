package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
)

// IncidentDecision is what the creation rules decided for one alert.
type IncidentDecision struct {
	// Rule is the rule that matched; empty when none did.
	Rule string `json:"rule,omitempty"`
	// Create is false when no rule matched, or the matching rule has create: false.
	Create bool `json:"create"`
	// GroupKey is empty for one incident per alert; otherwise "<rule slug>/<hex sha256 of the key, 16
	// chars>[/<window start, unix seconds>]", safe in a workflow ID.
	GroupKey string `json:"groupKey,omitempty"`
	// GroupLabel is the key as the rule computed it, clipped, for display.
	GroupLabel string `json:"groupLabel,omitempty"`
	Title      string `json:"title"`
	// Severity is the incident severity: the rule's, or under `severity: alert` the alert's (Medium when
	// the alert has none).
	Severity string `json:"severity,omitempty"`
	// Tactics and Techniques are the rule's followed by the alert's own, without repeats.
	Tactics        []string `json:"tactics,omitempty"`
	Techniques     []string `json:"techniques,omitempty"`
	AnalyticRuleID string   `json:"analyticRuleId,omitempty"`
	// Errors are conditions that failed at run time (those rules did not match), a groupBy that failed
	// (the alert then gets an incident of its own) and alerts a windowed rule could not place in time.
	Errors []string `json:"errors,omitempty"`
}

// alertEnv is what an incident rule's condition and groupBy see: one alert and its entities. The views
// and helpers are the automation rules' (env), bound to a one-alert incident.
type alertEnv struct {
	Alert           *alertView    `expr:"alert"`
	Devices         []*deviceView `expr:"devices"`
	Entities        []*entityView `expr:"entities"`
	IPs             []string      `expr:"ips"`
	PLCChangeTitles []string      `expr:"plcChangeTitles"`

	TitleIn         func(any) bool    `expr:"titleIn"`
	TitleHas        func(any) bool    `expr:"titleHas"`
	CategoryIn      func(any) bool    `expr:"categoryIn"`
	HasDevice       func(string) bool `expr:"hasDevice"`
	HasWorkstation  func() bool       `expr:"hasEngineeringWorkstation"`
	SensorIn        func(any) bool    `expr:"sensorIn"`
	SiteIn          func(any) bool    `expr:"siteIn"`
	SeverityAtLeast func(string) bool `expr:"severityAtLeast"`
}

// compileAlertExpr compiles an incident rule's condition (bool) or groupBy (string) against alertEnv,
// with the automation rules' restrictions and limits.
func compileAlertExpr(src string, group bool) (*vm.Program, error) {
	if len(src) > maxConditionLen {
		return nil, fmt.Errorf("expression is %d bytes long; the limit is %d", len(src), maxConditionLen)
	}
	want := expr.AsBool()
	if group {
		want = expr.AsKind(reflect.String)
	}
	return compileChecked(src, alertEnv{}, want)
}

// bindAlertEnv points the alert environment's helpers at st, once per pooled evaluator.
func (st *evaluator) bindAlertEnv() {
	st.aenv.PLCChangeTitles = st.env.PLCChangeTitles
	st.aenv.TitleIn = st.titleIn
	st.aenv.TitleHas = st.titleHas
	st.aenv.CategoryIn = st.anyAlertCategory
	st.aenv.HasDevice = st.hasDevice
	st.aenv.HasWorkstation = st.hasWorkstation
	st.aenv.SensorIn = st.sensorIn
	st.aenv.SiteIn = st.siteIn
	st.aenv.SeverityAtLeast = st.alertSeverityAtLeast
}

// resetAlert prepares st for the incident rules: inc's first alert, its devices and addresses.
func (st *evaluator) resetAlert(inc *incident.Incident) {
	st.inc = *inc
	st.inc.Alerts = inc.Alerts[:1:1] // the helpers look at this alert only
	st.prev = nil
	st.fillViews()
	st.terms.reset(st.bareTitles[0])
	st.titleKey = st.titleKey[:0]
	if st.terms.ascii {
		st.titleKey = append(st.titleKey, st.terms.lower...)
	} else {
		st.titleKey = append(st.titleKey, strings.ToLower(st.bareTitles[0])...)
	}
	st.aenv.Alert = st.alerts[0]
	st.aenv.Devices = st.devices
	st.aenv.Entities = st.entities
	st.aenv.IPs = st.inc.IPs
	st.aboxed = st.aenv
}

func (st *evaluator) releaseAlert() {
	st.aenv.Alert, st.aenv.Devices, st.aenv.Entities, st.aenv.IPs, st.aboxed = nil, nil, nil, nil, nil
}

func (st *evaluator) titleIn(list any) bool {
	return anyString("titleIn", list, func(want string) bool {
		return strings.EqualFold(st.bareTitles[0], incident.BareTitle(want))
	})
}

func (st *evaluator) titleHas(list any) bool {
	return anyString("titleHas", list, st.terms.hasPhrase)
}

func (st *evaluator) alertSeverityAtLeast(sev string) bool {
	want := incident.SeverityRank(sev)
	if want == 0 {
		panic(fmt.Errorf("severityAtLeast: unknown severity %q (want %s)", sev, strings.Join(severities, ", ")))
	}
	return incident.SeverityRank(st.inc.Alerts[0].Severity) >= want
}

// incTracer sees every incident rule that ran; DecideIncident passes none, ExplainIncident records.
type incTracer func(r *incidentRule, o outcome, err string)

func (t incTracer) note(r *incidentRule, o outcome, err string) {
	if t != nil {
		t(r, o, err)
	}
}

// DecideIncident applies the incident creation rules to one alert (alert.Alerts[0]; the incident's
// devices and addresses are its entities): the first enabled rule in ascending order (ties by name) whose
// titles, titlesHave and condition all hold decides whether the alert makes an incident, which one, and
// how it is titled and rated. An incident without alerts gets Create false and an error. It has no side
// effects and is safe for concurrent use.
func (e *Engine) DecideIncident(alert incident.Incident) IncidentDecision {
	return e.decide(&alert, nil)
}

func (e *Engine) decide(inc *incident.Incident, trace incTracer) (d IncidentDecision) {
	if len(inc.Alerts) == 0 {
		d.Title = incident.BareTitle(inc.Title)
		d.Errors = []string{"the incident has no alert; no incident rule ran"}
		return d
	}
	st, _ := e.pool.Get().(*evaluator)
	if st == nil {
		st = newEvaluator()
	}
	defer func() {
		if r := recover(); r != nil {
			d.Create = false
			d.Errors = append(d.Errors, fmt.Sprintf("internal error deciding the incident: %v", r))
			return
		}
		st.releaseAlert()
		st.release()
		e.pool.Put(st)
	}()
	st.wsTypes = e.workstationTypes()
	st.resetAlert(inc)
	bare := st.bareTitles[0]
	d.Title = bare
	for _, r := range e.incRules {
		if !r.enabled {
			trace.note(r, outcomeDisabled, "")
			continue
		}
		if !r.matchesTitle(&st.terms, st.titleKey) {
			trace.note(r, outcomeTitleNotMatched, "")
			continue
		}
		if o, msg := st.condition(r.name, r.program, st.aboxed, &d.Errors); o != outcomeMatched {
			trace.note(r, o, msg)
			continue
		}
		trace.note(r, outcomeMatched, "")
		st.applyIncidentRule(r, &d)
		return d
	}
	return d
}

func (st *evaluator) applyIncidentRule(r *incidentRule, d *IncidentDecision) {
	a := &st.inc.Alerts[0]
	d.Rule, d.Create, d.AnalyticRuleID = r.name, r.create, r.analyticRuleID
	if d.Title == "" {
		d.Title = r.name
	}
	d.Severity = r.severity
	if r.severity == severityFromAlert {
		if d.Severity = canonical(a.Severity, severities); d.Severity == "" {
			d.Severity = defaultAlertSeverity
		}
	}
	d.Tactics = mergeFold(r.tactics, a.Tactics)
	d.Techniques = mergeFold(r.techniques, a.Techniques)
	if !r.create || r.groupProgram == nil {
		return
	}
	out, err := st.vm.Run(r.groupProgram, st.aboxed)
	if err != nil {
		d.Errors = append(d.Errors, fmt.Sprintf("rule %q: groupBy: %s; the alert gets an incident of its own", r.name, oneLine(err)))
		return
	}
	key, _ := out.(string)
	if key = strings.TrimSpace(key); key == "" {
		return // no key: this alert is not grouped
	}
	sum := sha256.Sum256([]byte(key))
	gk := r.slug + "/" + hex.EncodeToString(sum[:8])
	if r.groupWindow > 0 {
		t := a.StartTime
		if t.IsZero() {
			t = a.TimeGenerated
		}
		if t.IsZero() {
			d.Errors = append(d.Errors, fmt.Sprintf("rule %q: groupWindow: the alert has no startTime or timeGenerated; it gets an incident of its own", r.name))
			return
		}
		gk += "/" + strconv.FormatInt(windowStart(t, r.groupWindow), 10)
	}
	d.GroupKey = gk
	d.GroupLabel = displayKey(key)
	if r.title == "" {
		d.Title = r.name
	} else {
		d.Title = strings.ReplaceAll(r.title, "{key}", d.GroupLabel)
	}
}

// windowStart is the start, in Unix seconds, of the window of length w (aligned to the Unix epoch) that
// holds t; floor division, so times before 1970 land in the right window too.
func windowStart(t time.Time, w time.Duration) int64 {
	sec, ws := t.Unix(), int64(w/time.Second)
	q := sec / ws
	if sec%ws < 0 {
		q--
	}
	return q * ws
}

// displayKey makes a group key one line for titles and logs, clipped to maxGroupLabel runes.
func displayKey(s string) string { return safetext.Line(s, maxGroupLabel) }

// mergeFold returns a new list: first's items, then second's not already present (case-insensitively).
func mergeFold(first, second []string) []string {
	if len(first)+len(second) == 0 {
		return nil
	}
	out := make([]string, 0, len(first)+len(second))
	for _, list := range [2][]string{first, second} {
		for _, s := range list {
			if s = strings.TrimSpace(s); s != "" && !containsFold(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// DecideIncident decides with the running rules (see Engine.DecideIncident); with none loaded, no
// incident is created and the decision says why.
func (s *Set) DecideIncident(alert incident.Incident) IncidentDecision {
	e := s.cur.Load()
	if e == nil {
		d := IncidentDecision{Errors: []string{"no rules are loaded"}}
		if len(alert.Alerts) > 0 {
			d.Title = alert.Alerts[0].BareTitle()
		}
		return d
	}
	return e.DecideIncident(alert)
}

package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/interlock-soar/interlock/internal/incident"
)

// outcome is what happened to one rule during an evaluation; Explain reports it.
type outcome int

const (
	outcomeMatched outcome = iota + 1
	outcomeNotMatched
	outcomeError
	outcomeDisabled
	outcomeExpired
	outcomeOtherTrigger
	outcomeTitleNotMatched // incident rules: the alert title is not in the rule's lists
)

// tracer sees every rule in evaluation order. Evaluate passes none; Explain records.
type tracer func(r *rule, o outcome, err string)

// Evaluate runs the rules against one incident event, as Sentinel runs automation rules: in order (ties
// broken by name), only rules whose trigger matches the event, skipping disabled rules and rules whose
// expiry is at or before now; each condition sees the incident as changed by the actions of the rules
// before it. It has no side effects: the Result says what to change and which playbooks to start. A
// condition that fails at run time counts as not matching and is listed in Result.Errors.
func (e *Engine) Evaluate(ev incident.Event, now time.Time) Result {
	return e.evaluate(&ev, now, nil)
}

func (e *Engine) evaluate(ev *incident.Event, now time.Time, trace tracer) (res Result) {
	res.Incident = ev.Incident
	trig, ok := triggerOf(ev.Type)
	if !ok {
		res.Errors = []string{fmt.Sprintf("event type %q is neither %s nor %s; no rule ran", ev.Type, incident.EventCreate, incident.EventUpdate)}
		return res
	}
	st, _ := e.pool.Get().(*evaluator)
	if st == nil {
		st = newEvaluator()
	}
	// Conditions cannot panic out of the expr VM (it recovers), but an action or a helper bug must not
	// take the intake down either: report it and drop the evaluator rather than pool a broken one.
	defer func() {
		if r := recover(); r != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("internal error evaluating rules: %v", r))
			return
		}
		st.release()
		e.pool.Put(st)
	}()
	st.wsTypes = e.workstationTypes()
	st.reset(ev, trig)
	for _, r := range e.rules {
		switch {
		case !r.triggersOn(trig):
			trace.note(r, outcomeOtherTrigger, "")
			continue
		case !r.enabled:
			trace.note(r, outcomeDisabled, "")
			continue
		case !r.expires.IsZero() && !now.Before(r.expires):
			trace.note(r, outcomeExpired, "")
			continue
		}
		if o, msg := st.condition(r.name, r.program, st.boxed, &res.Errors); o != outcomeMatched {
			trace.note(r, o, msg)
			continue
		}
		trace.note(r, outcomeMatched, "")
		st.apply(r, &res)
	}
	res.Incident = st.inc
	return res
}

func (t tracer) note(r *rule, o outcome, err string) {
	if t != nil {
		t(r, o, err)
	}
}

func triggerOf(t incident.EventType) (Trigger, bool) {
	switch {
	case strings.EqualFold(string(t), string(incident.EventCreate)):
		return TriggerCreated, true
	case strings.EqualFold(string(t), string(incident.EventUpdate)):
		return TriggerUpdated, true
	}
	return "", false
}

// condition runs rule name's condition (nil: none, which matches) against env: outcomeMatched,
// outcomeNotMatched, or outcomeError with the error on one line, which is also added to errs (a
// condition that fails at run time counts as not matching, and the result says why).
func (st *evaluator) condition(name string, program *vm.Program, env any, errs *[]string) (outcome, string) {
	if program == nil {
		return outcomeMatched, ""
	}
	out, err := st.vm.Run(program, env)
	if err != nil {
		msg := oneLine(err)
		*errs = append(*errs, fmt.Sprintf("rule %q: %s", name, msg))
		return outcomeError, msg
	}
	if matched, _ := out.(bool); !matched {
		return outcomeNotMatched, ""
	}
	return outcomeMatched, ""
}

// oneLine renders an expr error as "message (line:column)" without the snippet lines, for logs.
func oneLine(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		if fe.Snippet == "" {
			return fe.Message
		}
		return fmt.Sprintf("%s (%d:%d)", fe.Message, fe.Line, fe.Column+1)
	}
	return err.Error()
}

// evaluator is the per-evaluation state: the incident as the rules have changed it so far, the views
// conditions read, and a VM. Engines pool them so a steady stream of events allocates almost nothing.
type evaluator struct {
	vm  vm.VM
	env env
	// boxed is env as an interface value, made once per incident version. Passing the struct by value
	// (not a pointer) matters: expr fetches fields through reflection, and a field of an addressable
	// struct is copied to the heap when turned into an interface.
	boxed any

	inc         incident.Incident // current: the event's incident plus earlier rules' changes
	labelsOwned bool              // inc.Labels is our copy and may be appended to
	prev        *incident.Incident
	prevView    incidentView
	bareTitles  []string
	// The list views hold pointers into the value slices: expr hands a slice element to a predicate
	// (any(devices, ...)) through reflect's Interface(), which copies a struct element to the heap but
	// not a pointer one.
	alertVals  []alertView
	deviceVals []deviceView
	entityVals []entityView
	alerts     []*alertView
	devices    []*deviceView
	entities   []*entityView

	// The incident rules' environment (DecideIncident): one alert, its title split into terms for
	// titlesHave and titleHas, and lowered for titles.
	aenv     alertEnv
	aboxed   any
	terms    termBuf
	titleKey []byte

	// wsTypes are the engine's engineering workstation types for this evaluation (nil: the default).
	wsTypes []string
}

// memoryBudget bounds what one condition may build or loop over (expr counts range, array and map
// elements and predicate iterations against it). Real conditions walk a handful of alerts and devices;
// the default (a million) would let a mistaken nested loop stall the intake for seconds.
const memoryBudget = 100_000

func newEvaluator() *evaluator {
	st := &evaluator{}
	st.vm.MemoryBudget = memoryBudget
	// Each evaluator has its own copy: conditions cannot change it, and no other evaluator sees it.
	st.env.PLCChangeTitles = incident.PLCChangeTitles()
	st.env.AnyAlertTitle = st.anyAlertTitle
	st.env.AnyAlertCategory = st.anyAlertCategory
	st.env.HasDevice = st.hasDevice
	st.env.HasWorkstation = st.hasWorkstation
	st.env.SeverityAtLeast = st.severityAtLeast
	st.env.HasLabel = st.hasLabel
	st.env.SensorIn = st.sensorIn
	st.env.SiteIn = st.siteIn
	st.env.Changed = st.changed
	st.env.ChangedTo = st.changedTo
	st.env.ChangedFrom = st.changedFrom
	st.bindAlertEnv()
	return st
}

func (st *evaluator) reset(ev *incident.Event, trig Trigger) {
	st.inc = ev.Incident
	st.labelsOwned = false
	st.prev = ev.Previous

	st.fillViews()

	st.env.Alerts = st.alerts
	st.env.Devices = st.devices
	st.env.Entities = st.entities
	st.env.IPs = st.inc.IPs
	st.env.Event = eventView{ID: ev.ID, Type: string(ev.Type)}
	st.env.Trigger = string(trig)
	if st.prev != nil {
		fillIncidentView(&st.prevView, st.prev)
		st.env.Previous = &st.prevView
	} else {
		st.env.Previous = nil
	}
	st.rebox()
}

// fillViews builds the views conditions read from st.inc.
func (st *evaluator) fillViews() {
	// Precomputed once per evaluation so the helpers only compare: titles without the "(MDIoT) " prefix.
	for i := range st.inc.Alerts {
		st.bareTitles = append(st.bareTitles, st.inc.Alerts[i].BareTitle())
	}
	if len(st.inc.Alerts) == 0 && st.inc.Title != "" {
		// A sender that leaves the alerts out still names the alert in the incident title (Defender for
		// IoT analytics rules make one incident per alert, titled after it).
		st.bareTitles = append(st.bareTitles, incident.BareTitle(st.inc.Title))
	}
	for i := range st.inc.Alerts {
		st.alertVals = append(st.alertVals, makeAlertView(&st.inc.Alerts[i]))
	}
	for i := range st.inc.Devices {
		d := &st.inc.Devices[i]
		st.deviceVals = append(st.deviceVals, makeDeviceView(d, st.wsTypes))
		st.entityVals = append(st.entityVals, entityView{Kind: "IoTDevice", Name: d.DisplayName(), Address: d.IP})
	}
	for _, ip := range st.inc.IPs {
		st.entityVals = append(st.entityVals, entityView{Kind: "Ip", Name: ip, Address: ip})
	}
	// Pointers are taken only once the value slices have stopped growing.
	for i := range st.alertVals {
		st.alerts = append(st.alerts, &st.alertVals[i])
	}
	for i := range st.deviceVals {
		st.devices = append(st.devices, &st.deviceVals[i])
	}
	for i := range st.entityVals {
		st.entities = append(st.entities, &st.entityVals[i])
	}
}

// rebox refreshes what conditions see after an action changed the incident.
func (st *evaluator) rebox() {
	fillIncidentView(&st.env.Incident, &st.inc)
	st.boxed = st.env
}

// release drops every reference to the event so a pooled evaluator does not keep incidents alive.
func (st *evaluator) release() {
	clear(st.bareTitles)
	clear(st.alertVals)
	clear(st.deviceVals)
	clear(st.entityVals)
	st.bareTitles, st.alertVals, st.deviceVals, st.entityVals = st.bareTitles[:0], st.alertVals[:0], st.deviceVals[:0], st.entityVals[:0]
	st.alerts, st.devices, st.entities = st.alerts[:0], st.devices[:0], st.entities[:0]
	st.inc, st.prev, st.prevView, st.boxed = incident.Incident{}, nil, incidentView{}, nil
	st.env.Incident, st.env.Previous, st.env.Alerts, st.env.Devices, st.env.Entities, st.env.IPs = incidentView{}, nil, nil, nil, nil, nil
	st.env.Event = eventView{}
	st.wsTypes = nil
}

// apply runs a matched rule's actions in order.
func (st *evaluator) apply(r *rule, res *Result) {
	changed := false
	change := func(field, from, to string) {
		res.Changes = append(res.Changes, Change{Rule: r.name, Field: field, From: from, To: to})
		changed = true
	}
	for i := range r.actions {
		a := &r.actions[i]
		switch a.kind {
		case actRunPlaybooks:
			for _, pb := range a.playbooks {
				if !contains(res.Playbooks, pb) {
					res.Playbooks = append(res.Playbooks, pb)
				}
			}
		case actSetSeverity:
			// Payload spellings vary in case; "high" → High is not a change worth writing back.
			if !strings.EqualFold(st.inc.Severity, a.value) {
				change("severity", st.inc.Severity, a.value)
				st.inc.Severity = a.value
			}
		case actSetStatus:
			if !strings.EqualFold(st.inc.Status, a.value) {
				change("status", st.inc.Status, a.value)
				st.inc.Status = a.value
			}
			old := ""
			if res.Classification != nil {
				old = classificationString(res.Classification)
			}
			if a.value == incident.StatusClosed {
				c := a.classification
				if s := classificationString(&c); s != old {
					change("classification", old, s)
				}
				res.Classification = &c
			} else if res.Classification != nil {
				// Reopening clears the classification, as Sentinel does.
				change("classification", old, "")
				res.Classification = nil
			}
		case actSetOwner:
			if !ownerIs(&st.inc.Owner, a.value) {
				change("owner", ownerString(&st.inc.Owner), a.value)
				// The rule names the owner by email or UPN; the write-back resolves the object ID.
				st.inc.Owner = incident.Owner{Email: a.value, UserPrincipalName: a.value, AssignedTo: a.value}
			}
		case actAddTags:
			for _, t := range a.tags {
				if containsFold(st.inc.Labels, t) {
					continue
				}
				if !st.labelsOwned {
					// The caller's slice is never appended to: it may share its backing array.
					st.inc.Labels = append(make([]string, 0, len(st.inc.Labels)+len(a.tags)), st.inc.Labels...)
					st.labelsOwned = true
				}
				st.inc.Labels = append(st.inc.Labels, t)
				change("labels", "", t)
			}
		}
	}
	res.Matches = append(res.Matches, Match{Rule: r.name, Order: r.order, Actions: append([]string(nil), r.descs...)})
	if changed {
		st.rebox()
	}
}

func ownerString(o *incident.Owner) string {
	for _, s := range []string{o.UserPrincipalName, o.Email, o.AssignedTo, o.ObjectID} {
		if s != "" {
			return s
		}
	}
	return ""
}

// ownerIs reports whether the owner is the person named by v (email, UPN, display name or object ID).
func ownerIs(o *incident.Owner, v string) bool {
	return v != "" && (strings.EqualFold(o.Email, v) || strings.EqualFold(o.UserPrincipalName, v) ||
		strings.EqualFold(o.AssignedTo, v) || strings.EqualFold(o.ObjectID, v))
}

func sameOwner(a, b *incident.Owner) bool {
	if a.ObjectID != "" && b.ObjectID != "" {
		return strings.EqualFold(a.ObjectID, b.ObjectID)
	}
	return strings.EqualFold(ownerString(a), ownerString(b))
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// sameSetFold compares two short lists as case-insensitive sets without allocating.
func sameSetFold(a, b []string) bool {
	for _, x := range a {
		if !containsFold(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !containsFold(a, x) {
			return false
		}
	}
	return true
}

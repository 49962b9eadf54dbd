package otincident

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
)

// AddRecords adds alert records to the incident, creating it from the first. A record whose content
// the incident already has, or that is older than the record it holds for the alert, is a duplicate
// and changes nothing. It returns the event to fire: Create for a new incident, Update when a new
// alert joined it, nil otherwise (a later record of a known alert updates that alert only, as
// Sentinel's analytics rules ignore all but an alert's first record).
func (s *State) AddRecords(id string, recs []Record, now time.Time) (AddAlertsResult, *Event) {
	res := AddAlertsResult{Incident: id, Outcomes: make([]RecordOutcome, len(recs))}
	var prev *incident.Incident
	created, joined := false, false
	if s.Created() {
		p := snapshot(s.Incident)
		prev = &p
	}
	for i, rec := range recs {
		res.Outcomes[i] = s.addRecord(id, rec, now, &created, &joined)
	}
	switch {
	case created:
		return res, s.event(incident.EventCreate, nil, "alert intake")
	case joined:
		return res, s.event(incident.EventUpdate, prev, "alert intake")
	}
	return res, nil
}

func (s *State) addRecord(id string, rec Record, now time.Time, created, joined *bool) RecordOutcome {
	s.Records++
	if len(rec.Alert.Alerts) == 0 {
		s.Duplicates++
		return RecordOutcome{Status: OutcomeDuplicate, Reason: "the record holds no alert"}
	}
	a := rec.Alert.Alerts[0]
	key := AlertKey(a)
	if s.Fingerprints == nil {
		s.Fingerprints = map[string]string{}
	}
	if fp, ok := s.Fingerprints[key]; ok && fp == rec.Fingerprint {
		s.Duplicates++
		return RecordOutcome{Status: OutcomeDuplicate, Reason: "the incident already has this record"}
	}
	if !s.Created() {
		s.create(id, rec, now)
		s.Fingerprints[key] = rec.Fingerprint
		*created = true
		return RecordOutcome{Status: OutcomeAccepted, Created: true}
	}
	if i := s.alertIndex(key); i >= 0 {
		held := s.Incident.Alerts[i]
		if newer(held, a) < 0 {
			s.Duplicates++
			return RecordOutcome{Status: OutcomeDuplicate, Reason: "older than the record the incident holds for this alert"}
		}
		s.Fingerprints[key] = rec.Fingerprint
		s.Incident.Alerts = slices.Clone(s.Incident.Alerts)
		s.Incident.Alerts[i] = a
		s.mergeEntities(rec.Alert)
		s.touch(now, a)
		var what []string
		if held.Status != a.Status && a.Status != "" {
			what = append(what, "status "+cmpOr(held.Status, "—")+" → "+a.Status)
		}
		if held.Severity != a.Severity && a.Severity != "" {
			what = append(what, "severity "+cmpOr(held.Severity, "—")+" → "+a.Severity)
		}
		text := "later record of alert " + safetext.Clip(cmpOr(a.VendorOriginalID, a.ID), 100)
		if len(what) > 0 {
			text += ": " + strings.Join(what, ", ")
		}
		s.log(now, "alert intake", "alert", text)
		return RecordOutcome{Status: OutcomeAccepted, Reason: "updated the alert"}
	}
	// A new alert joins the incident (a creation rule grouped it here).
	s.Fingerprints[key] = rec.Fingerprint
	if len(s.Incident.Alerts) >= MaxAlerts {
		s.AlertsDropped++
		s.log(now, "alert intake", "alert", "alert "+safetext.Clip(cmpOr(a.VendorOriginalID, a.ID), 100)+" joined; not kept (over "+strconv.Itoa(MaxAlerts)+" alerts)")
		return RecordOutcome{Status: OutcomeAccepted, Reason: "joined; the incident keeps only its first " + strconv.Itoa(MaxAlerts) + " alerts"}
	}
	s.Incident.Alerts = append(slices.Clone(s.Incident.Alerts), a)
	s.mergeEntities(rec.Alert)
	if incident.SeverityRank(rec.Creation.Severity) > incident.SeverityRank(s.Incident.Severity) {
		s.log(now, "alert intake", "change", "severity "+s.Incident.Severity+" → "+rec.Creation.Severity+" (a more severe alert joined)")
		s.Incident.Severity = rec.Creation.Severity
	}
	s.Incident.Tactics = union(s.Incident.Tactics, rec.Creation.Tactics, a.Tactics)
	s.Incident.Techniques = union(s.Incident.Techniques, rec.Creation.Techniques, a.Techniques)
	s.touch(now, a)
	s.log(now, "alert intake", "alert", "alert "+safetext.Clip(a.BareTitle(), 200)+" ("+safetext.Clip(cmpOr(a.VendorOriginalID, a.ID), 100)+") joined")
	*joined = true
	return RecordOutcome{Status: OutcomeAccepted, Reason: "joined the incident"}
}

// newer compares two records of one alert by their last activity: <0 when b is older than a.
func newer(a, b incident.Alert) int {
	at, bt := a.TimeGenerated, b.TimeGenerated
	if at.IsZero() || bt.IsZero() {
		return 0
	}
	return bt.Compare(at)
}

func (s *State) create(id string, rec Record, now time.Time) {
	a := rec.Alert.Alerts[0]
	c := rec.Creation
	inc := incident.Incident{
		ID:            id,
		Title:         safetext.Clip(cmpOr(c.Title, a.BareTitle()), 500),
		Description:   a.Description,
		Severity:      cmpOr(canonicalIn(c.Severity, severities), cmpOr(canonicalIn(a.Severity, severities), incident.SeverityMedium)),
		Status:        incident.StatusNew,
		Provider:      "Interlock",
		Created:       now,
		LastModified:  now,
		FirstActivity: cmpTime(a.StartTime, a.TimeGenerated),
		LastActivity:  cmpTime(a.EndTime, a.TimeGenerated),
		Tactics:       union(nil, c.Tactics, a.Tactics),
		Techniques:    union(nil, c.Techniques, a.Techniques),
		Alerts:        []incident.Alert{a},
		Devices:       slices.Clone(rec.Alert.Devices),
		IPs:           slices.Clone(rec.Alert.IPs),
		URL:           a.Link,
	}
	if c.AnalyticRuleID != "" {
		inc.AnalyticRuleIDs = []string{c.AnalyticRuleID}
	}
	s.Incident, s.Rule, s.GroupLabel = inc, c.Rule, c.GroupLabel
	text := "created from alert " + safetext.Clip(a.BareTitle(), 200) + " (" + safetext.Clip(cmpOr(a.VendorOriginalID, a.ID), 100) + ")"
	if c.Rule != "" {
		text += " by creation rule " + safetext.Clip(c.Rule, 200)
	}
	s.log(now, "alert intake", "created", text)
}

func (s *State) alertIndex(key string) int {
	for i, a := range s.Incident.Alerts {
		if AlertKey(a) == key {
			return i
		}
	}
	return -1
}

// mergeEntities adds the record's devices and IPs the incident does not have yet.
func (s *State) mergeEntities(rec incident.Incident) {
	for _, d := range rec.Devices {
		if len(s.Incident.Devices) >= incident.MaxEntities {
			break
		}
		if !slices.ContainsFunc(s.Incident.Devices, func(h incident.Device) bool { return sameDevice(h, d) }) {
			s.Incident.Devices = append(slices.Clone(s.Incident.Devices), d)
		}
	}
	for _, ip := range rec.IPs {
		if len(s.Incident.IPs) < incident.MaxEntities && !slices.Contains(s.Incident.IPs, ip) {
			s.Incident.IPs = append(slices.Clone(s.Incident.IPs), ip)
		}
	}
}

func sameDevice(a, b incident.Device) bool {
	eq := func(x, y string) bool { return x != "" && strings.EqualFold(x, y) }
	return eq(a.ID, b.ID) || eq(a.IP, b.IP) || eq(a.MAC, b.MAC) || (a.IP == "" && b.IP == "" && a.MAC == "" && b.MAC == "" && eq(a.Name, b.Name))
}

func (s *State) touch(now time.Time, a incident.Alert) {
	s.Incident.LastModified = now
	if t := cmpTime(a.EndTime, a.TimeGenerated); t.After(s.Incident.LastActivity) {
		s.Incident.LastActivity = t
	}
}

// union appends the values of lists not yet in dst, ignoring case, keeping order.
func union(dst []string, lists ...[]string) []string {
	out := slices.Clone(dst)
	for _, l := range lists {
		for _, v := range l {
			if v = strings.TrimSpace(v); v != "" && !slices.ContainsFunc(out, func(h string) bool { return strings.EqualFold(h, v) }) {
				out = append(out, v)
			}
		}
	}
	return out
}

func cmpTime(a, b time.Time) time.Time {
	if !a.IsZero() {
		return a
	}
	return b
}

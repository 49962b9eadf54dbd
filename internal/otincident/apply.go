package otincident

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/incident"
)

// Event is a change that fires the automation rules, as they would fire on a Sentinel incident:
// Create once, then Update for each change of the incident's properties, alerts, comments or tasks.
type Event struct {
	Seq      int                `json:"seq"`
	Type     incident.EventType `json:"type"`
	Incident incident.Incident  `json:"incident"`
	// Previous is the incident before an update; nil on create.
	Previous *incident.Incident `json:"previous,omitempty"`
	Actor    string             `json:"actor,omitempty"`
}

// Key tells the event from the incident's other events, for playbooks that run per event.
func (e Event) Key() string { return "e" + strconv.Itoa(e.Seq) }

// InvalidChangeError is a change that can never be applied; the API answers it with 400.
type InvalidChangeError struct {
	Field string
	Msg   string
}

func (e *InvalidChangeError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func invalid(field, format string, a ...any) error {
	return &InvalidChangeError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// ErrNotCreated is the answer to a change of an incident no alert has created yet.
var ErrNotCreated = errors.New("no such incident: no alert has created it")

var (
	severities = []string{incident.SeverityHigh, incident.SeverityMedium, incident.SeverityLow, incident.SeverityInformational}
	statuses   = []string{incident.StatusNew, incident.StatusActive, incident.StatusClosed}
)

// canonicalIn returns the entry of list that equals s ignoring case, or "".
func canonicalIn(s string, list []string) string {
	s = strings.TrimSpace(s)
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return v
		}
	}
	return ""
}

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
		text := "later record of alert " + clip(cmpOr(a.VendorOriginalID, a.ID), 100)
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
		s.log(now, "alert intake", "alert", "alert "+clip(cmpOr(a.VendorOriginalID, a.ID), 100)+" joined; not kept (over "+strconv.Itoa(MaxAlerts)+" alerts)")
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
	s.log(now, "alert intake", "alert", "alert "+clip(a.BareTitle(), 200)+" ("+clip(cmpOr(a.VendorOriginalID, a.ID), 100)+") joined")
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
		Title:         clip(cmpOr(c.Title, a.BareTitle()), 500),
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
	text := "created from alert " + clip(a.BareTitle(), 200) + " (" + clip(cmpOr(a.VendorOriginalID, a.ID), 100) + ")"
	if c.Rule != "" {
		text += " by creation rule " + clip(c.Rule, 200)
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

// Apply validates the change and applies it. It returns the changes made ("status New → Active") and
// the event to fire, nil when the incident already was as asked. An invalid change is an
// *InvalidChangeError and changes nothing.
func (s *State) Apply(ch Change, now time.Time) (ChangeResult, *Event, error) {
	if !s.Created() {
		return ChangeResult{}, nil, ErrNotCreated
	}
	if err := s.Validate(&ch); err != nil {
		return ChangeResult{}, nil, err
	}
	s.raiseOnly(&ch)
	prev := snapshot(s.Incident)
	actor := clip(cmpOr(strings.TrimSpace(ch.Actor), "unknown"), MaxActorLen)
	res := ChangeResult{Incident: s.Incident.ID, Changes: []string{}}
	inc := &s.Incident
	record := func(kind, text string) {
		res.Changes = append(res.Changes, text)
		s.log(now, actor, kind, text)
	}
	if ch.Title != "" && ch.Title != inc.Title {
		record("change", "title → "+clip(ch.Title, 200))
		inc.Title = ch.Title
	}
	if ch.Severity != "" && ch.Severity != inc.Severity {
		record("change", "severity "+inc.Severity+" → "+ch.Severity)
		inc.Severity = ch.Severity
	}
	if ch.Owner != nil && OwnerName(*ch.Owner) != OwnerName(inc.Owner) {
		record("change", "owner "+cmpOr(OwnerName(inc.Owner), "(none)")+" → "+cmpOr(OwnerName(*ch.Owner), "(none)"))
		inc.Owner = *ch.Owner
	}
	closing := ch.Status == incident.StatusClosed && inc.Status != incident.StatusClosed
	if ch.Classification != "" && (ch.Classification != s.Classification || ch.ClassificationReason != s.ClassificationReason ||
		(ch.ClassificationComment != "" && ch.ClassificationComment != s.ClassificationComment)) {
		text := "classification " + ch.Classification
		if ch.ClassificationReason != "" {
			text += " / " + ch.ClassificationReason
		}
		if ch.ClassificationComment != "" {
			text += ": " + clip(ch.ClassificationComment, 200)
		}
		record("change", text)
		s.Classification, s.ClassificationReason = ch.Classification, ch.ClassificationReason
		if ch.ClassificationComment != "" {
			s.ClassificationComment = ch.ClassificationComment
		}
	}
	if ch.Status != "" && ch.Status != inc.Status {
		record("change", "status "+inc.Status+" → "+ch.Status)
		if inc.Status == incident.StatusClosed { // reopened: the closure no longer stands
			s.Closed, s.Classification, s.ClassificationReason, s.ClassificationComment = time.Time{}, "", "", ""
		}
		inc.Status = ch.Status
		if closing {
			s.Closed = now
		}
	}
	for _, t := range ch.AddTags {
		if !slices.ContainsFunc(inc.Labels, func(l string) bool { return strings.EqualFold(l, t) }) && len(inc.Labels) < MaxTags {
			record("change", "tag +"+t)
			inc.Labels = append(slices.Clone(inc.Labels), t)
		}
	}
	if c := ch.Comment; c != nil {
		res.CommentID = s.comment(*c, actor, now, record)
	}
	if t := ch.AddTask; t != nil {
		id := len(s.Tasks) + 1
		s.Tasks = append(s.Tasks, Task{ID: id, Title: t.Title, Description: t.Description, Status: TaskNew, By: actor, Created: now})
		record("task", "task #"+strconv.Itoa(id)+" added: "+clip(t.Title, 150))
		res.TaskID = id
	}
	if t := ch.SetTask; t != nil {
		task := &s.Tasks[t.ID-1]
		res.TaskID = t.ID
		if task.Status != t.Status {
			task.Status = t.Status
			task.Completed = time.Time{}
			if t.Status == TaskCompleted {
				task.Completed = now
			}
			record("task", "task #"+strconv.Itoa(t.ID)+" "+strings.ToLower(t.Status))
		}
	}
	res.Status, res.Severity = inc.Status, inc.Severity
	if len(res.Changes) == 0 {
		return res, nil, nil
	}
	inc.LastModified = now
	return res, s.event(incident.EventUpdate, &prev, actor), nil
}

// comment adds c, or replaces the comment with its ID. It returns the comment's ID.
func (s *State) comment(c Comment, actor string, now time.Time, record func(kind, text string)) string {
	if c.ID == "" {
		c.ID = "c" + strconv.Itoa(len(s.Comments)+1)
	}
	for i := range s.Comments {
		if s.Comments[i].ID == c.ID {
			if s.Comments[i].Message != c.Message {
				s.Comments[i].Message, s.Comments[i].Updated = c.Message, now
				record("comment", "comment "+c.ID+" edited")
			}
			return c.ID
		}
	}
	if len(s.Comments) >= MaxComments {
		s.Comments = slices.Delete(s.Comments, 0, 1)
	}
	s.Comments = append(s.Comments, Comment{ID: c.ID, Author: cmpOr(c.Author, actor), Message: c.Message, Created: now})
	record("comment", "comment "+c.ID+" added")
	return c.ID
}

// Validate checks ch against the incident and puts its values in canonical spelling.
func (s *State) Validate(ch *Change) error {
	inc := &s.Incident
	if err := text("actor", ch.Actor, MaxActorLen, false); err != nil {
		return err
	}
	if ch.Title != "" {
		ch.Title = strings.TrimSpace(ch.Title)
		if err := text("title", ch.Title, 500, false); err != nil {
			return err
		}
	}
	if ch.Severity != "" {
		if ch.Severity = canonicalIn(ch.Severity, severities); ch.Severity == "" {
			return invalid("severity", "must be High, Medium, Low or Informational")
		}
	}
	if ch.Status != "" {
		if ch.Status = canonicalIn(ch.Status, statuses); ch.Status == "" {
			return invalid("status", "must be New, Active or Closed")
		}
	}
	closed := inc.Status == incident.StatusClosed
	reopening := closed && ch.Status != "" && ch.Status != incident.StatusClosed
	if closed && !reopening && (ch.Title != "" || ch.Severity != "" || ch.Owner != nil || len(ch.AddTags) > 0 ||
		(ch.Classification != "" && ch.Status != incident.StatusClosed)) {
		return invalid("status", "the incident is closed: reopen it (status Active) before changing it; comments and tasks are still taken")
	}
	if ch.Classification != "" {
		if ch.Classification = canonicalIn(ch.Classification, classifications); ch.Classification == "" {
			return invalid("classification", "must be Undetermined, TruePositive, BenignPositive or FalsePositive")
		}
		allowed := reasonsFor[ch.Classification]
		switch {
		case ch.ClassificationReason == "" && len(allowed) == 1:
			ch.ClassificationReason = allowed[0]
		case ch.ClassificationReason != "":
			r := canonicalIn(ch.ClassificationReason, allowed)
			if r == "" {
				if len(allowed) == 0 {
					return invalid("classificationReason", "%s takes no reason", ch.Classification)
				}
				return invalid("classificationReason", "with %s must be %s", ch.Classification, strings.Join(allowed, " or "))
			}
			ch.ClassificationReason = r
		case len(allowed) > 1:
			return invalid("classificationReason", "with %s must be %s", ch.Classification, strings.Join(allowed, " or "))
		}
		if ch.Status == "" && !closed {
			return invalid("classification", "is set when closing: send status Closed with it")
		}
	} else if ch.ClassificationReason != "" || ch.ClassificationComment != "" {
		return invalid("classification", "missing: a reason or comment needs a classification")
	}
	if err := text("classificationComment", ch.ClassificationComment, 4000, true); err != nil {
		return err
	}
	if ch.Status == incident.StatusClosed && !closed && ch.Classification == "" {
		return invalid("classification", "closing needs a classification: Undetermined, TruePositive, BenignPositive or FalsePositive")
	}
	if ch.Owner != nil {
		o := ch.Owner
		o.Email, o.UserPrincipalName, o.AssignedTo, o.ObjectID = strings.TrimSpace(o.Email), strings.TrimSpace(o.UserPrincipalName), strings.TrimSpace(o.AssignedTo), strings.TrimSpace(o.ObjectID)
		for _, f := range []struct{ name, v string }{{"owner.email", o.Email}, {"owner.userPrincipalName", o.UserPrincipalName}, {"owner.assignedTo", o.AssignedTo}, {"owner.objectId", o.ObjectID}} {
			if err := text(f.name, f.v, 256, false); err != nil {
				return err
			}
		}
		if o.Email != "" && !plausibleAddress(o.Email) {
			return invalid("owner.email", "is not an email address")
		}
		if o.UserPrincipalName != "" && !plausibleAddress(o.UserPrincipalName) {
			return invalid("owner.userPrincipalName", "is not a user principal name (name@domain)")
		}
	}
	tags := ch.AddTags[:0:0]
	for i, t := range ch.AddTags {
		t = strings.TrimSpace(t)
		if t == "" {
			return invalid("addTags["+strconv.Itoa(i)+"]", "must not be empty")
		}
		if err := text("addTags["+strconv.Itoa(i)+"]", t, MaxTagLen, false); err != nil {
			return err
		}
		tags = append(tags, t)
	}
	if len(tags) > MaxTags {
		return invalid("addTags", "at most %d tags", MaxTags)
	}
	ch.AddTags = tags
	if c := ch.Comment; c != nil {
		if strings.TrimSpace(c.Message) == "" {
			return invalid("comment.message", "must not be empty")
		}
		if err := text("comment.message", c.Message, MaxCommentLen, true); err != nil {
			return err
		}
		if err := text("comment.id", c.ID, 100, false); err != nil {
			return err
		}
		if err := text("comment.author", c.Author, MaxActorLen, false); err != nil {
			return err
		}
	}
	if t := ch.AddTask; t != nil {
		t.Title = strings.TrimSpace(t.Title)
		if t.Title == "" {
			return invalid("addTask.title", "must not be empty")
		}
		if err := text("addTask.title", t.Title, MaxTaskTitleLen, false); err != nil {
			return err
		}
		if err := text("addTask.description", t.Description, MaxTaskDescLen, true); err != nil {
			return err
		}
		if len(s.Tasks) >= MaxTasks {
			return invalid("addTask", "the incident has %d tasks, the most it takes", MaxTasks)
		}
	}
	if t := ch.SetTask; t != nil {
		if t.ID < 1 || t.ID > len(s.Tasks) {
			return invalid("task", "no task #%d", t.ID)
		}
		if t.Status = canonicalIn(t.Status, []string{TaskNew, TaskCompleted}); t.Status == "" {
			return invalid("task.status", "must be New or Completed")
		}
	}
	return nil
}

// text checks a string from outside: valid UTF-8, at most max runes, no control characters (line
// breaks and tabs allowed where multiline).
func text(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "is %d characters long; at most %d", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return invalid(field, "contains a control character (%U)", r)
		}
	}
	return nil
}

func plausibleAddress(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " <>,;\"'")
}

// OwnerName is how an owner is shown and searched: the email, else the UPN, the name, the object ID.
func OwnerName(o incident.Owner) string {
	return cmpOr(o.Email, cmpOr(o.UserPrincipalName, cmpOr(o.AssignedTo, o.ObjectID)))
}

// event numbers and returns a new event with the incident as it is now.
func (s *State) event(t incident.EventType, prev *incident.Incident, actor string) *Event {
	s.Seq++
	return &Event{Seq: s.Seq, Type: t, Incident: snapshot(s.Incident), Previous: prev, Actor: actor}
}

// Log adds an entry to the audit trail, dropping the oldest beyond MaxTimeline.
func (s *State) Log(now time.Time, actor, kind, text string) { s.log(now, actor, kind, text) }

func (s *State) log(now time.Time, actor, kind, text string) {
	if len(s.Timeline) >= MaxTimeline {
		s.Timeline = slices.Delete(s.Timeline, 0, 1)
		s.TimelineDropped++
	}
	s.Timeline = append(s.Timeline, Entry{Seq: s.Seq, At: now, Actor: actor, Kind: kind, Text: text})
}

// snapshot copies the incident's lists, so later changes to the state do not show through it.
func snapshot(inc incident.Incident) incident.Incident {
	inc.Labels, inc.Tactics, inc.Techniques = slices.Clone(inc.Labels), slices.Clone(inc.Tactics), slices.Clone(inc.Techniques)
	inc.AnalyticRuleIDs, inc.IPs = slices.Clone(inc.AnalyticRuleIDs), slices.Clone(inc.IPs)
	inc.Alerts, inc.Devices = slices.Clone(inc.Alerts), slices.Clone(inc.Devices)
	return inc
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

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// raiseOnly drops what a RaiseOnly change may not do to the incident as it is now: lower the severity,
// or touch a Closed incident (which takes no changes but reopening).
func (s *State) raiseOnly(ch *Change) {
	if !ch.RaiseOnly {
		return
	}
	if incident.SeverityRank(ch.Severity) <= incident.SeverityRank(s.Incident.Severity) {
		ch.Severity = ""
	}
	if s.Incident.Status == incident.StatusClosed {
		ch.Status, ch.Severity, ch.AddTags = "", "", nil
	}
}

package otincident

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
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

// ErrNotCreated is the answer to a change of an incident no alert has created yet.
var ErrNotCreated = errors.New("no such incident: no alert has created it")

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
	a := &applying{
		s:     s,
		now:   now,
		actor: safetext.Clip(cmpOr(strings.TrimSpace(ch.Actor), "unknown"), MaxActorLen),
		res:   ChangeResult{Incident: s.Incident.ID, Changes: []string{}},
	}
	// The order of the steps is the order of the changes in the result and the audit trail.
	a.properties(ch)
	a.classification(ch)
	a.status(ch)
	a.tags(ch)
	if c := ch.Comment; c != nil {
		a.res.CommentID = s.comment(*c, a.actor, now, a.record)
	}
	a.tasks(ch)
	res := a.res
	res.Status, res.Severity = s.Incident.Status, s.Incident.Severity
	if len(res.Changes) == 0 {
		return res, nil, nil
	}
	s.Incident.LastModified = now
	return res, s.event(incident.EventUpdate, &prev, a.actor), nil
}

// applying is a validated change being applied: who asked, when, and what it has changed so far.
type applying struct {
	s     *State
	now   time.Time
	actor string
	res   ChangeResult
}

// record notes a change made, in the result and the audit trail.
func (a *applying) record(kind, text string) {
	a.res.Changes = append(a.res.Changes, text)
	a.s.log(a.now, a.actor, kind, text)
}

func (a *applying) properties(ch Change) {
	inc := &a.s.Incident
	if ch.Title != "" && ch.Title != inc.Title {
		a.record("change", "title → "+safetext.Clip(ch.Title, 200))
		inc.Title = ch.Title
	}
	if ch.Severity != "" && ch.Severity != inc.Severity {
		a.record("change", "severity "+inc.Severity+" → "+ch.Severity)
		inc.Severity = ch.Severity
	}
	if ch.Owner != nil && OwnerName(*ch.Owner) != OwnerName(inc.Owner) {
		a.record("change", "owner "+cmpOr(OwnerName(inc.Owner), "(none)")+" → "+cmpOr(OwnerName(*ch.Owner), "(none)"))
		inc.Owner = *ch.Owner
	}
}

func (a *applying) classification(ch Change) {
	s := a.s
	if ch.Classification == "" || (ch.Classification == s.Classification && ch.ClassificationReason == s.ClassificationReason &&
		(ch.ClassificationComment == "" || ch.ClassificationComment == s.ClassificationComment)) {
		return
	}
	text := "classification " + ch.Classification
	if ch.ClassificationReason != "" {
		text += " / " + ch.ClassificationReason
	}
	if ch.ClassificationComment != "" {
		text += ": " + safetext.Clip(ch.ClassificationComment, 200)
	}
	a.record("change", text)
	s.Classification, s.ClassificationReason = ch.Classification, ch.ClassificationReason
	if ch.ClassificationComment != "" {
		s.ClassificationComment = ch.ClassificationComment
	}
}

func (a *applying) status(ch Change) {
	s, inc := a.s, &a.s.Incident
	if ch.Status == "" || ch.Status == inc.Status {
		return
	}
	a.record("change", "status "+inc.Status+" → "+ch.Status)
	if inc.Status == incident.StatusClosed { // reopened: the closure no longer stands
		s.Closed, s.Classification, s.ClassificationReason, s.ClassificationComment = time.Time{}, "", "", ""
	}
	inc.Status = ch.Status
	if inc.Status == incident.StatusClosed { // it wasn't before, or there'd be no change
		s.Closed = a.now
	}
}

func (a *applying) tags(ch Change) {
	inc := &a.s.Incident
	for _, t := range ch.AddTags {
		if !slices.ContainsFunc(inc.Labels, func(l string) bool { return strings.EqualFold(l, t) }) && len(inc.Labels) < MaxTags {
			a.record("change", "tag +"+t)
			inc.Labels = append(slices.Clone(inc.Labels), t)
		}
	}
}

func (a *applying) tasks(ch Change) {
	s := a.s
	if t := ch.AddTask; t != nil {
		id := len(s.Tasks) + 1
		s.Tasks = append(s.Tasks, Task{ID: id, Title: t.Title, Description: t.Description, Status: TaskNew, By: a.actor, Created: a.now})
		a.record("task", "task #"+strconv.Itoa(id)+" added: "+safetext.Clip(t.Title, 150))
		a.res.TaskID = id
	}
	if t := ch.SetTask; t != nil {
		task := &s.Tasks[t.ID-1]
		a.res.TaskID = t.ID
		if task.Status != t.Status {
			task.Status = t.Status
			task.Completed = time.Time{}
			if t.Status == TaskCompleted {
				task.Completed = a.now
			}
			a.record("task", "task #"+strconv.Itoa(t.ID)+" "+strings.ToLower(t.Status))
		}
	}
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

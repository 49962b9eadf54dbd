package otincident

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/incident"
)

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

// Validate checks ch against the incident and puts its values in canonical spelling.
func (s *State) Validate(ch *Change) error {
	// The steps run in this order, and the first error is the answer: clients see the same error for
	// the same change, and later steps rely on the values earlier ones made canonical.
	steps := []func(*Change) error{validateProperties, s.validateClosure, validateOwner, validateTags, validateComment, s.validateTasks}
	for _, step := range steps {
		if err := step(ch); err != nil {
			return err
		}
	}
	return nil
}

func validateProperties(ch *Change) error {
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
	return nil
}

// validateClosure checks what ch does to a closed incident, and the classification closing needs.
func (s *State) validateClosure(ch *Change) error {
	closed := s.Incident.Status == incident.StatusClosed
	reopening := closed && ch.Status != "" && ch.Status != incident.StatusClosed
	if closed && !reopening && (ch.Title != "" || ch.Severity != "" || ch.Owner != nil || len(ch.AddTags) > 0 ||
		(ch.Classification != "" && ch.Status != incident.StatusClosed)) {
		return invalid("status", "the incident is closed: reopen it (status Active) before changing it; comments and tasks are still taken")
	}
	if ch.Classification != "" {
		if err := validateClassification(ch); err != nil {
			return err
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
	return nil
}

// validateClassification checks the classification and its reason, filling in the reason when the
// classification allows only one.
func validateClassification(ch *Change) error {
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
	return nil
}

func validateOwner(ch *Change) error {
	o := ch.Owner
	if o == nil {
		return nil
	}
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
	return nil
}

func validateTags(ch *Change) error {
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
	return nil
}

func validateComment(ch *Change) error {
	c := ch.Comment
	if c == nil {
		return nil
	}
	if strings.TrimSpace(c.Message) == "" {
		return invalid("comment.message", "must not be empty")
	}
	if err := text("comment.message", c.Message, MaxCommentLen, true); err != nil {
		return err
	}
	if err := text("comment.id", c.ID, 100, false); err != nil {
		return err
	}
	return text("comment.author", c.Author, MaxActorLen, false)
}

func (s *State) validateTasks(ch *Change) error {
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

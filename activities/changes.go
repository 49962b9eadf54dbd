package activities

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/servicenow"
)

// Planned-change sources.
const (
	PlannedByWindow        = "window"
	PlannedByChangeRequest = "change_request"
)

// PlannedChangeRequest asks whether a change to a PLC at a time was planned.
type PlannedChangeRequest struct {
	PLC  DeviceFacts `json:"plc"`
	Site string      `json:"site,omitempty"`
	Zone string      `json:"zone,omitempty"`
	At   time.Time   `json:"at"`
}

// PlannedChange is the answer: which maintenance window or change request covers the change, if any.
type PlannedChange struct {
	Planned bool `json:"planned"`
	// Source is PlannedByWindow or PlannedByChangeRequest.
	Source string `json:"source,omitempty"`
	// Name is the window's name, or the change request's short description.
	Name string `json:"name,omitempty"`
	// Number is the change request number (CHG…).
	Number string `json:"number,omitempty"`
	// Window describes when the window or change request runs, for people.
	Window string `json:"window,omitempty"`
}

// ChangeRequest is an approved change, as ServiceNow's change_request table lists it.
type ChangeRequest = servicenow.ChangeRequest

// ChangeRequests lists the approved change requests whose planned window covers at.
// servicenow.ChangeRequests implements it (change_request, state Implement or Scheduled, approval
// approved).
type ChangeRequests interface {
	Approved(ctx context.Context, at time.Time) ([]ChangeRequest, error)
}

// MaintenanceWindow is a validated maintenance window: an absolute range [Start, End), or weekly
// wall-clock hours [From, To) on Days in Location. Site, Zone and Devices narrow it; empty means any.
type MaintenanceWindow struct {
	Name string
	Site string
	Zone string
	// Devices are PLC names, IP addresses or CIDR prefixes.
	Devices []string

	Start, End time.Time

	// Days empty means every day. From and To are offsets from local midnight; To may be 24h, and a To
	// before From means the window crosses midnight into the next day.
	Days     []time.Weekday
	From, To time.Duration
	Location *time.Location
}

// PlannedChanges answers whether a PLC change was planned, from maintenance windows and, when configured,
// approved change requests.
type PlannedChanges struct {
	windows  []MaintenanceWindow
	requests ChangeRequests
}

// NewPlannedChanges makes the activities. requests may be nil: then only the windows count.
func NewPlannedChanges(windows []MaintenanceWindow, requests ChangeRequests) (*PlannedChanges, error) {
	for i, w := range windows {
		if err := w.check(); err != nil {
			return nil, fmt.Errorf("maintenance window %d (%q): %w", i, w.Name, err)
		}
	}
	return &PlannedChanges{windows: slices.Clone(windows), requests: requests}, nil
}

func (w MaintenanceWindow) check() error {
	weekly := w.Location != nil
	switch {
	case weekly && (!w.Start.IsZero() || !w.End.IsZero()):
		return fmt.Errorf("has both an absolute range and weekly hours")
	case weekly:
		if w.From < 0 || w.From >= 24*time.Hour || w.To < 0 || w.To > 24*time.Hour || w.From == w.To {
			return fmt.Errorf("weekly hours %s–%s out of range", w.From, w.To)
		}
	case w.Start.IsZero() || !w.End.After(w.Start):
		return fmt.Errorf("needs start before end, or weekly hours with a location")
	}
	return nil
}

// FindPlannedChange returns the first maintenance window (in configured order) that covers the change,
// else the first approved change request whose window covers it and that names the PLC.
func (c *PlannedChanges) FindPlannedChange(ctx context.Context, req PlannedChangeRequest) (PlannedChange, error) {
	if req.At.IsZero() {
		return PlannedChange{}, temporal.NewNonRetryableApplicationError("planned-change lookup needs the time of the change", FailureInvalidRequest, nil)
	}
	for _, w := range c.windows {
		if w.Covers(req) {
			return PlannedChange{Planned: true, Source: PlannedByWindow, Name: w.Name, Window: w.Describe()}, nil
		}
	}
	if c.requests == nil {
		return PlannedChange{}, nil
	}
	crs, err := c.requests.Approved(ctx, req.At)
	if err != nil {
		// Retryable: the workflow decides what an unreachable change-management system means.
		return PlannedChange{}, fmt.Errorf("look up approved change requests at %s: %w", req.At.Format(time.RFC3339), err)
	}
	for _, cr := range crs {
		if requestCovers(cr, req) {
			return PlannedChange{
				Planned: true, Source: PlannedByChangeRequest, Number: cr.Number, Name: cr.ShortDescription,
				Window: cr.Start.UTC().Format(time.RFC3339) + " – " + cr.End.UTC().Format(time.RFC3339),
			}, nil
		}
	}
	return PlannedChange{}, nil
}

// Covers says whether the window covers a change to req.PLC at req.At.
func (w MaintenanceWindow) Covers(req PlannedChangeRequest) bool {
	if w.Site != "" && !strings.EqualFold(strings.TrimSpace(w.Site), strings.TrimSpace(req.Site)) {
		return false
	}
	if w.Zone != "" && !strings.EqualFold(strings.TrimSpace(w.Zone), strings.TrimSpace(req.Zone)) {
		return false
	}
	if len(w.Devices) > 0 && !slices.ContainsFunc(w.Devices, func(d string) bool { return deviceMatches(d, req.PLC) }) {
		return false
	}
	return w.coversTime(req.At)
}

func (w MaintenanceWindow) coversTime(at time.Time) bool {
	if w.Location == nil {
		return !at.Before(w.Start) && at.Before(w.End)
	}
	// Wall-clock time in the window's zone: on a DST day the window keeps its local hours, which is
	// what a plant's shift plan means by "22:00–02:00".
	local := at.In(w.Location)
	clock := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	onDay := func(d time.Weekday) bool { return len(w.Days) == 0 || slices.Contains(w.Days, d) }
	if w.From < w.To {
		return onDay(local.Weekday()) && clock >= w.From && clock < w.To
	}
	// Crosses midnight: the evening part belongs to the listed day, the early-morning part to the day
	// after it.
	return (onDay(local.Weekday()) && clock >= w.From) ||
		(onDay((local.Weekday()+6)%7) && clock < w.To)
}

// Describe says when the window runs, for people.
func (w MaintenanceWindow) Describe() string {
	if w.Location == nil {
		return w.Start.Format(time.RFC3339) + " – " + w.End.Format(time.RFC3339)
	}
	days := "daily"
	if len(w.Days) > 0 {
		names := make([]string, len(w.Days))
		for i, d := range w.Days {
			names[i] = d.String()[:3]
		}
		days = strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s %s–%s %s", days, clockString(w.From), clockString(w.To), w.Location)
}

func clockString(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// deviceMatches compares one configured device (name, IP or CIDR) with the PLC.
func deviceMatches(spec string, plc DeviceFacts) bool {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return false
	}
	ip, ipErr := netip.ParseAddr(strings.TrimSpace(plc.IP))
	if strings.Contains(spec, "/") {
		prefix, err := netip.ParsePrefix(spec)
		return err == nil && ipErr == nil && prefix.Contains(ip.Unmap())
	}
	if want, err := netip.ParseAddr(spec); err == nil {
		return ipErr == nil && want.Unmap() == ip.Unmap()
	}
	return plc.Name != "" && strings.EqualFold(spec, strings.TrimSpace(plc.Name))
}

// requestCovers says whether the change request's window covers req.At and it names the PLC (by name
// or IP, as a whole word) in its configuration item or descriptions.
func requestCovers(cr ChangeRequest, req PlannedChangeRequest) bool {
	if cr.Start.IsZero() || cr.End.IsZero() || req.At.Before(cr.Start) || req.At.After(cr.End) {
		return false
	}
	for _, needle := range []string{req.PLC.Name, req.PLC.IP} {
		for _, hay := range []string{cr.ConfigurationItem, cr.ShortDescription, cr.Description} {
			if ContainsWord(hay, needle) {
				return true
			}
		}
	}
	return false
}

// ContainsWord reports whether word occurs in s, case-insensitively, not as part of a longer name:
// "PLC-L3-01" is in "reload PLC-L3-01." but not in "PLC-L3-010" or "PLC-L3-01-B", and "10.20.3.1" is not
// in "10.20.3.10". Names run on letters, digits, '_', '-', and '.' between two of those.
func ContainsWord(s, word string) bool {
	word = strings.ToLower(strings.TrimSpace(word))
	if word == "" {
		return false
	}
	s = strings.ToLower(s)
	for from := 0; from <= len(s)-len(word); {
		i := strings.Index(s[from:], word)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(word)
		if !continuesBefore(s, start) && !continuesAfter(s, end) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		from = start + size
	}
	return false
}

func isNameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'
}

// continuesBefore says whether the name at s[i:] is the tail of a longer name.
func continuesBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, size := utf8.DecodeLastRuneInString(s[:i])
	if isNameRune(r) {
		return true
	}
	if r == '.' && i-size > 0 {
		prev, _ := utf8.DecodeLastRuneInString(s[:i-size])
		return isNameRune(prev) && prev != '-'
	}
	return false
}

// continuesAfter says whether a longer name goes on at s[i:].
func continuesAfter(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if isNameRune(r) {
		return true
	}
	if r == '.' && i+size < len(s) {
		next, _ := utf8.DecodeRuneInString(s[i+size:])
		return isNameRune(next) && next != '-'
	}
	return false
}

package config

import (
	"fmt"
	"net/mail"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	// Maintenance windows name IANA time zones. Embedding the database makes validation and window
	// matching the same on a laptop and in a distroless container without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// PLCReprogramming configures the unplanned-PLC-reprogramming → email playbook.
//
// The directory, production lines and maintenance windows are lists of structures, so only the file can
// set them; the playbook package turns this section into the workflow's settings, the worker package
// into its activities.
type PLCReprogramming struct {
	// AlertTitles defaults to incident.PLCChangeTitles, the list the rules' plcChangeTitles holds too
	// (codeDefaults).
	AlertTitles      []string      `yaml:"alertTitles" doc:"Alert titles (without the (MDIoT) prefix) that mean a PLC was reprogrammed."`
	AnswerTimeout    time.Duration `yaml:"answerTimeout" doc:"How long to wait for the engineers' answer before escalating (and between escalation rounds)." default:"30m"`
	EscalationRounds int           `yaml:"escalationRounds" doc:"Escalation emails sent when nobody answers, each followed by another wait; then the run hands the incident to the SOC." default:"2"`
	CloseOnPlanned   bool          `yaml:"closeOnPlanned" doc:"Close the incident (BenignPositive, SuspiciousButExpected) when an engineer answers that the change was planned." default:"false"`
	NotPlannedTag    string        `yaml:"notPlannedTag" doc:"Tag added to the incident when an engineer answers that the change was not planned; empty adds none." default:"PLC change not planned"`
	// SOCMailbox is the last resort of every recipient list, so it must always be a valid address. The
	// default is a local mailbox: interlock dev delivers it to Mailpit; production sets a real one.
	SOCMailbox string `yaml:"socMailbox" doc:"SOC mailbox: gets the notice when the directory and the device owners name nobody, and when the engineers' address is rejected. Set it in production." default:"soc@localhost"`
	// ChangeRequests switches on the ServiceNow change-request lookup; the worker passes the ServiceNow
	// client to the playbook's activities only then.
	ChangeRequests bool `yaml:"changeRequests" doc:"Also count an approved ServiceNow change request (Scheduled or Implement, covering the alert time, naming the PLC by name or IP) as a planned change." default:"false"`

	Lines              map[string]string   `yaml:"lines" doc:"Zone → production line name, used by the directory and shown in emails; a zone not listed is its own line."`
	Directory          []DirectoryEntry    `yaml:"directory" doc:"Who to tell: entries matching one sensor, line, zone or site (most specific wins: sensor, line, zone, site) with engineers and an escalation list."`
	MaintenanceWindows []MaintenanceWindow `yaml:"maintenanceWindows" doc:"Planned maintenance: name, optional site/zone/devices (names, IPs, CIDRs), and either start/end (RFC 3339 with offset) or days/from/to/timezone (weekly)."`
}

// DirectoryEntry names the control engineers responsible for what Match selects.
type DirectoryEntry struct {
	Match      DirectoryMatch `yaml:"match"`
	Engineers  []Contact      `yaml:"engineers"`
	Escalation []Contact      `yaml:"escalation"`
}

// DirectoryMatch selects by exactly one of sensor, production line, zone or site (case-insensitive).
type DirectoryMatch struct {
	Sensor string `yaml:"sensor"`
	Site   string `yaml:"site"`
	Zone   string `yaml:"zone"`
	Line   string `yaml:"line"`
}

// Kind and Value return the one criterion that is set ("sensor", "line", "zone" or "site").
func (m DirectoryMatch) Kind() (kind, value string) {
	for _, kv := range [...][2]string{{"sensor", m.Sensor}, {"line", m.Line}, {"zone", m.Zone}, {"site", m.Site}} {
		if strings.TrimSpace(kv[1]) != "" {
			return kv[0], strings.TrimSpace(kv[1])
		}
	}
	return "", ""
}

// Contact is a person to email.
type Contact struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
}

// MaintenanceWindow is a period in which PLC changes are planned, as written in the file: either an
// absolute range (Start, End) or weekly hours (Days, From, To, Timezone).
type MaintenanceWindow struct {
	Name string `yaml:"name"`
	// Site, Zone and Devices narrow the window; empty means any.
	Site    string   `yaml:"site"`
	Zone    string   `yaml:"zone"`
	Devices []string `yaml:"devices"`
	// Start and End are RFC 3339 with an explicit offset ("2026-11-20T06:00:00+01:00"); End is exclusive.
	Start string `yaml:"start"`
	End   string `yaml:"end"`
	// Days are weekday names (Mon or Monday); empty means every day. From and To are "HH:MM" wall-clock
	// times in Timezone; To may be "24:00", and a To before From crosses midnight into the next day.
	Days     []string `yaml:"days"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	Timezone string   `yaml:"timezone"`
}

// WindowSchedule is a maintenance window's schedule, parsed and validated.
type WindowSchedule struct {
	// Start and End are set for an absolute range.
	Start, End time.Time
	// Days, From, To and Location are set for weekly hours. From and To are offsets from local midnight.
	Days     []time.Weekday
	From, To time.Duration
	Location *time.Location
}

// Schedule parses the window's times. A validated config never fails here.
func (w MaintenanceWindow) Schedule() (WindowSchedule, error) {
	var errs Errors
	s := w.schedule("maintenanceWindow", &errs)
	if len(errs.List) > 0 {
		return WindowSchedule{}, &errs
	}
	return s, nil
}

const plcKey = "playbooks.plcReprogramming"

func (p *PLCReprogramming) validate(errs *Errors) {
	// Engineers need time to read the mail; anything shorter is a typo ("30s" for "30m").
	if p.AnswerTimeout < time.Minute {
		errs.add(plcKey+".answerTimeout", "must be at least 1m, not %s", p.AnswerTimeout)
	}
	if len(p.AlertTitles) == 0 {
		errs.add(plcKey+".alertTitles", "must list at least one alert title")
	}
	for i, t := range p.AlertTitles {
		if strings.TrimSpace(t) == "" {
			errs.add(fmt.Sprintf("%s.alertTitles[%d]", plcKey, i), "must not be empty")
		}
	}
	if p.EscalationRounds < 0 || p.EscalationRounds > 10 {
		errs.add(plcKey+".escalationRounds", "must be between 0 and 10, not %d", p.EscalationRounds)
	}
	if len(p.NotPlannedTag) > 256 {
		errs.add(plcKey+".notPlannedTag", "must be at most 256 characters")
	}
	if strings.TrimSpace(p.SOCMailbox) == "" {
		errs.add(plcKey+".socMailbox", "must not be empty: it is where notices go when nobody else is known")
	} else if msg := checkEmail(p.SOCMailbox); msg != "" {
		errs.add(plcKey+".socMailbox", "%s", msg)
	}
	p.validateLines(errs)
	p.validateDirectory(errs)
	for i, w := range p.MaintenanceWindows {
		w.validate(fmt.Sprintf("%s.maintenanceWindows[%d]", plcKey, i), errs)
	}
}

func (p *PLCReprogramming) validateLines(errs *Errors) {
	// Sorted, so the errors come out in the same order every time.
	zones := make([]string, 0, len(p.Lines))
	for z := range p.Lines {
		zones = append(zones, z)
	}
	slices.Sort(zones)
	seen := map[string]string{}
	for _, z := range zones {
		key := fmt.Sprintf("%s.lines[%q]", plcKey, z)
		norm := strings.ToLower(strings.TrimSpace(z))
		switch {
		case norm == "":
			errs.add(key, "zone name must not be empty")
			continue
		case strings.TrimSpace(p.Lines[z]) == "":
			errs.add(key, "line name must not be empty")
		}
		if prev, ok := seen[norm]; ok {
			errs.add(key, "same zone as %q (zones are compared case-insensitively)", prev)
		}
		seen[norm] = z
	}
}

func (p *PLCReprogramming) validateDirectory(errs *Errors) {
	seen := map[string]int{}
	for i, e := range p.Directory {
		key := fmt.Sprintf("%s.directory[%d]", plcKey, i)
		set := 0
		for _, v := range []string{e.Match.Sensor, e.Match.Site, e.Match.Zone, e.Match.Line} {
			if strings.TrimSpace(v) != "" {
				set++
			}
		}
		if set != 1 {
			errs.add(key+".match", "set exactly one of sensor, line, zone or site (found %d)", set)
		} else {
			kind, value := e.Match.Kind()
			id := kind + "\x00" + strings.ToLower(value)
			if j, ok := seen[id]; ok {
				errs.add(key+".match", "same %s %q as directory[%d]", kind, value, j)
			} else {
				seen[id] = i
			}
		}
		if len(e.Engineers) == 0 && len(e.Escalation) == 0 {
			errs.add(key, "needs engineers or escalation")
		}
		checkContacts(errs, key+".engineers", e.Engineers)
		checkContacts(errs, key+".escalation", e.Escalation)
	}
}

func checkContacts(errs *Errors, key string, list []Contact) {
	for i, c := range list {
		if msg := checkEmail(c.Email); msg != "" {
			errs.add(fmt.Sprintf("%s[%d].email", key, i), "%s", msg)
		}
		if strings.ContainsAny(c.Name, "\r\n") {
			errs.add(fmt.Sprintf("%s[%d].name", key, i), "must be one line")
		}
	}
}

// checkEmail returns why s is not a bare email address, or "".
func checkEmail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "email must not be empty"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return fmt.Sprintf("not an email address (write name@domain, without a display name): %q", s)
	}
	return ""
}

func (w MaintenanceWindow) validate(key string, errs *Errors) {
	if strings.TrimSpace(w.Name) == "" {
		errs.add(key+".name", "must not be empty: comments name the window")
	}
	for i, d := range w.Devices {
		d = strings.TrimSpace(d)
		dk := fmt.Sprintf("%s.devices[%d]", key, i)
		switch {
		case d == "":
			errs.add(dk, "must not be empty")
		case strings.Contains(d, "/"):
			if _, err := netip.ParsePrefix(d); err != nil {
				errs.add(dk, "not a CIDR prefix (like 10.20.3.0/24): %q", d)
			}
		}
	}
	w.schedule(key, errs)
}

// schedule parses and checks the window's times, reporting problems under key.
func (w MaintenanceWindow) schedule(key string, errs *Errors) WindowSchedule {
	absolute := w.Start != "" || w.End != ""
	weekly := len(w.Days) > 0 || w.From != "" || w.To != "" || w.Timezone != ""
	var s WindowSchedule
	switch {
	case absolute && weekly:
		errs.add(key, "use either start/end or days/from/to/timezone, not both")
	case absolute:
		var ok bool
		s.Start, ok = parseInstant(errs, key+".start", w.Start)
		end, ok2 := parseInstant(errs, key+".end", w.End)
		s.End = end
		if ok && ok2 && !s.End.After(s.Start) {
			errs.add(key+".end", "must be after start (%s)", w.Start)
		}
	case weekly:
		for i, d := range w.Days {
			day, ok := parseWeekday(d)
			if !ok {
				errs.add(fmt.Sprintf("%s.days[%d]", key, i), "not a weekday (Mon … Sun): %q", d)
				continue
			}
			if !slices.Contains(s.Days, day) {
				s.Days = append(s.Days, day)
			}
		}
		from, okFrom := parseClock(errs, key+".from", w.From, false)
		to, okTo := parseClock(errs, key+".to", w.To, true)
		if okFrom && okTo && from == to {
			errs.add(key+".to", "must differ from from (for a whole day use from: \"00:00\", to: \"24:00\")")
		}
		s.From, s.To = from, to
		switch tz := strings.TrimSpace(w.Timezone); tz {
		case "":
			errs.add(key+".timezone", "must be set (an IANA name like Europe/Amsterdam, or UTC): wall-clock hours mean nothing without it")
		default:
			loc, err := time.LoadLocation(tz)
			if err != nil || strings.EqualFold(tz, "local") {
				errs.add(key+".timezone", "unknown time zone %q", w.Timezone)
			} else {
				s.Location = loc
			}
		}
	default:
		errs.add(key, "needs start and end, or from, to and timezone (with optional days)")
	}
	return s
}

func parseInstant(errs *Errors, key, v string) (time.Time, bool) {
	if strings.TrimSpace(v) == "" {
		errs.add(key, "must be set")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	if err != nil {
		errs.add(key, "not an RFC 3339 time with an offset (like 2026-11-20T22:00:00+01:00): %q", v)
		return time.Time{}, false
	}
	return t, true
}

// parseClock reads "HH:MM" as an offset from midnight; "24:00" is allowed where end says so.
func parseClock(errs *Errors, key, v string, end bool) (time.Duration, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(v), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 ||
		hh > 24 || (hh == 24 && (!end || mm != 0)) {
		want := "00:00–23:59"
		if end {
			want += ", or 24:00"
		}
		errs.add(key, "not a time of day HH:MM (%s): %q", want, v)
		return 0, false
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, true
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || s == name[:3] {
			return d, true
		}
	}
	return 0, false
}

package activities

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// FailureNoRecipients is the error type when nobody at all can be told (not even the SOC mailbox).
const FailureNoRecipients = "NoRecipients"

// Where a recipient list came from.
const (
	RecipientsFromDirectory = "directory" // followed by ":sensor", ":line", ":zone" or ":site"
	RecipientsFromOwners    = "owners"
	RecipientsFromSOC       = "soc"
)

// DirectoryMatch selects what a directory entry covers: one of sensor, production line, zone or site,
// compared case-insensitively.
type DirectoryMatch struct {
	Sensor string
	Site   string
	Zone   string
	Line   string
}

// DirectoryEntry names the control engineers, and whom to escalate to, for what Match selects.
type DirectoryEntry struct {
	Match      DirectoryMatch
	Engineers  []Recipient
	Escalation []Recipient
}

// RecipientsRequest describes where a PLC is.
type RecipientsRequest struct {
	Sensor string `json:"sensor,omitempty"`
	Site   string `json:"site,omitempty"`
	Zone   string `json:"zone,omitempty"`
	Line   string `json:"line,omitempty"`
	// Owners are the device owners from the alert: untrusted, used only when they are valid addresses.
	Owners []string `json:"owners,omitempty"`
}

// Recipients are whom to tell about a PLC change, and whom to escalate to when they do not answer.
// Neither list is ever empty.
type Recipients struct {
	Engineers  []Recipient `json:"engineers"`
	Escalation []Recipient `json:"escalation"`
	// Source says where Engineers came from: "directory:<sensor|line|zone|site>", "owners" or "soc".
	Source string `json:"source"`
}

// Directory finds the control engineers responsible for a PLC.
//
// Precedence, most specific first: sensor, production line, zone, site. A sensor watches one network
// segment, a line is what an engineer is responsible for, and a zone or site is a broader fallback. Each
// list is taken from the most specific matching entry that has one, so a site entry can give the
// escalation list while line entries give the engineers. Without a matching entry with engineers, the
// device owners from the alert are used, then the SOC mailbox. Without an escalation list, escalations go
// to the engineers and the SOC mailbox.
type Directory struct {
	entries []DirectoryEntry
	soc     []Recipient
}

// NewDirectory makes the activity. Every configured address must be valid; socMailbox may be empty only
// if every lookup is expected to match (a lookup that finds nobody then fails).
func NewDirectory(entries []DirectoryEntry, socMailbox string) (*Directory, error) {
	d := &Directory{}
	for i, e := range entries {
		if kind, _ := e.Match.kind(); kind == "" {
			return nil, fmt.Errorf("directory entry %d: match names no sensor, line, zone or site", i)
		}
		eng, bad := cleanRecipients(e.Engineers)
		if len(bad) > 0 {
			return nil, fmt.Errorf("directory entry %d: invalid engineer address %q", i, bad[0])
		}
		esc, bad := cleanRecipients(e.Escalation)
		if len(bad) > 0 {
			return nil, fmt.Errorf("directory entry %d: invalid escalation address %q", i, bad[0])
		}
		d.entries = append(d.entries, DirectoryEntry{Match: e.Match, Engineers: eng, Escalation: esc})
	}
	if strings.TrimSpace(socMailbox) != "" {
		soc, bad := cleanRecipients([]Recipient{{Name: "SOC", Email: socMailbox}})
		if len(bad) > 0 {
			return nil, fmt.Errorf("invalid SOC mailbox %q", socMailbox)
		}
		d.soc = soc
	}
	return d, nil
}

// LookupRecipients returns whom to tell about a change to a PLC at the given place.
func (d *Directory) LookupRecipients(ctx context.Context, req RecipientsRequest) (Recipients, error) {
	var out Recipients
	levels := [...][2]string{{"sensor", req.Sensor}, {"line", req.Line}, {"zone", req.Zone}, {"site", req.Site}}
	for _, lv := range levels {
		if e, ok := d.lookup(lv[0], lv[1], func(e DirectoryEntry) bool { return len(e.Engineers) > 0 }); ok {
			out.Engineers, out.Source = slices.Clone(e.Engineers), RecipientsFromDirectory+":"+lv[0]
			break
		}
	}
	for _, lv := range levels {
		if e, ok := d.lookup(lv[0], lv[1], func(e DirectoryEntry) bool { return len(e.Escalation) > 0 }); ok {
			out.Escalation = slices.Clone(e.Escalation)
			break
		}
	}
	if len(out.Engineers) == 0 {
		owners := make([]Recipient, 0, len(req.Owners))
		for _, o := range req.Owners {
			owners = append(owners, Recipient{Email: o})
		}
		valid, bad := cleanRecipients(owners)
		if len(bad) > 0 {
			activity.GetLogger(ctx).Warn("device owners that are not email addresses skipped", "count", len(bad))
		}
		if len(valid) > 0 {
			out.Engineers, out.Source = valid, RecipientsFromOwners
		}
	}
	if len(out.Engineers) == 0 {
		out.Engineers, out.Source = slices.Clone(d.soc), RecipientsFromSOC
	}
	if len(out.Engineers) == 0 {
		return Recipients{}, temporal.NewNonRetryableApplicationError(
			"nobody to tell: no directory entry, no valid device owner, and no SOC mailbox configured", FailureNoRecipients, nil)
	}
	if len(out.Escalation) == 0 {
		out.Escalation, _ = cleanRecipients(slices.Concat(out.Engineers, d.soc))
	}
	return out, nil
}

// lookup finds the entry of the given kind matching value that satisfies has.
func (d *Directory) lookup(kind, value string, has func(DirectoryEntry) bool) (DirectoryEntry, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return DirectoryEntry{}, false
	}
	for _, e := range d.entries {
		k, v := e.Match.kind()
		if k == kind && strings.EqualFold(v, value) && has(e) {
			return e, true
		}
	}
	return DirectoryEntry{}, false
}

func (m DirectoryMatch) kind() (kind, value string) {
	for _, kv := range [...][2]string{{"sensor", m.Sensor}, {"line", m.Line}, {"zone", m.Zone}, {"site", m.Site}} {
		if v := strings.TrimSpace(kv[1]); v != "" {
			return kv[0], v
		}
	}
	return "", ""
}

// cleanRecipients parses each address, drops invalid ones (returned in bad) and case-insensitive
// duplicates, and keeps names to one line. A display name in the address fills an empty Name.
func cleanRecipients(in []Recipient) (out []Recipient, bad []string) {
	for _, r := range in {
		a, err := mail.ParseAddress(strings.TrimSpace(r.Email))
		if err != nil || a.Address == "" || !strings.Contains(a.Address, "@") {
			bad = append(bad, r.Email)
			continue
		}
		if slices.ContainsFunc(out, func(o Recipient) bool { return strings.EqualFold(o.Email, a.Address) }) {
			continue
		}
		name := strings.TrimSpace(r.Name)
		if name == "" {
			name = a.Name
		}
		name = safetext.Line(name, 0) // no CR/LF into a header
		out = append(out, Recipient{Name: name, Email: a.Address})
	}
	return out, bad
}

package assets

import (
	"fmt"
	"net/mail"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/safetext"
	"github.com/interlock-soar/interlock/internal/suggest"
)

// Both readers turn their input into vals (a value plus the place it came from) and hand them to a
// builder, so YAML and CSV get the same checks and differ only in how they name places.

// val is one input value and where it came from, e.g. "line 14: sites[0].lines[0].zones[0].assets[2].ip"
// or "row 7, column ip".
type val struct {
	s   string
	pos string
	// bad marks a value whose reader already reported it (wrong YAML shape), so it is not reported twice.
	bad bool
}

const (
	maxNameRunes  = 200
	maxEmailBytes = 254 // RFC 5321 path limit
)

// assetIn is an asset as read, before validation.
type assetIn struct {
	pos                                      string // place of the asset itself
	name, typ, subType, crit, purdue, safety val
	ips, macs, owners                        []val
}

type builder struct {
	problems []string
	omitted  int
	stopped  bool // a fatal problem (size, syntax) makes further checks pointless

	sites   []Site
	refs    []AssetRef
	byIP    map[string]int
	byMAC   map[string]int
	byName  map[string]int
	firstAt map[string]string // index key → place it was first seen, for duplicate messages
}

func (b *builder) init() {
	if b.firstAt == nil {
		b.byIP, b.byMAC, b.byName = map[string]int{}, map[string]int{}, map[string]int{}
		b.firstAt = map[string]string{}
	}
}

func (b *builder) problem(pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if pos != "" {
		msg = pos + ": " + msg
	}
	if len(b.problems) >= maxProblems {
		b.omitted++
		return
	}
	b.problems = append(b.problems, msg)
}

func (b *builder) fatal(pos, format string, args ...any) {
	b.problem(pos, format, args...)
	b.stopped = true
}

func (b *builder) finish() (*Directory, error) {
	if len(b.problems) == 0 && len(b.refs) == 0 {
		b.problem("", "empty directory: no asset is defined")
	}
	if len(b.problems) > 0 {
		return nil, &FileError{Problems: b.problems, Omitted: b.omitted}
	}
	return &Directory{sites: b.sites, refs: b.refs, byIP: b.byIP, byMAC: b.byMAC, byName: b.byName}, nil
}

// text validates a free-text value: valid UTF-8, no control or line-breaking characters, at most
// maxNameRunes. It returns the value trimmed of surrounding space.
func (b *builder) text(v val, required bool) (string, bool) {
	if v.bad {
		return "", false
	}
	s := strings.TrimSpace(v.s)
	switch {
	case !utf8.ValidString(s):
		b.problem(v.pos, "is not valid UTF-8")
		return "", false
	case s == "" && required:
		b.problem(v.pos, "is required")
		return "", false
	case utf8.RuneCountInString(s) > maxNameRunes:
		b.problem(v.pos, "is longer than %d characters", maxNameRunes)
		return "", false
	}
	if i := strings.IndexFunc(s, safetext.Unsafe); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		b.problem(v.pos, "contains unsafe character %U", r) // a control, a line separator or an invisible format character
		return "", false
	}
	return s, true
}

// owners validates owner email addresses: bare addresses only, no display names or comments, since they
// end up in mail headers. Duplicates are dropped.
func (b *builder) owners(vs []val) ([]string, bool) {
	var out []string
	ok := true
	for _, v := range vs {
		s, good := b.text(v, true)
		if !good {
			ok = false
			continue
		}
		if len(s) > maxEmailBytes {
			b.problem(v.pos, "%s is longer than %d bytes", quote(s), maxEmailBytes)
			ok = false
			continue
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || a.Address != s {
			b.problem(v.pos, "%s is not a bare email address like name@example.com", quote(s))
			ok = false
			continue
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
			out = append(out, s)
		}
	}
	return out, ok
}

// level is a site, line or zone header as read.
type level struct {
	name   val
	owners []val
}

func (b *builder) levelHeader(l level) (string, []string, bool) {
	name, ok1 := b.text(l.name, true)
	owners, ok2 := b.owners(l.owners)
	return name, owners, ok1 && ok2
}

// asset validates one asset and indexes it under its place.
func (b *builder) asset(in assetIn, site, line, zone string, inherited []string) (Asset, bool) {
	b.init()
	a, ok := b.assetFields(in)
	var ipPos, macPos []string // place of each kept address, for duplicate messages
	var good bool
	a.IP, ipPos, good = b.addresses(in.ips, deviceIP)
	ok = ok && good
	a.MAC, macPos, good = b.addresses(in.macs, deviceMAC)
	ok = ok && good
	a.Owners, good = b.owners(in.owners)
	ok = ok && good

	// Uniqueness is checked even when the asset has other problems, so one run reports them all.
	if a.Name != "" {
		ok = b.unique("name:"+strings.ToLower(a.Name), in.name.pos, "asset name "+quote(a.Name)) && ok
	}
	for i, ip := range a.IP {
		ok = b.unique("ip:"+ip, ipPos[i], "IP address "+ip) && ok
	}
	for i, mac := range a.MAC {
		ok = b.unique("mac:"+mac, macPos[i], "MAC address "+mac) && ok
	}
	if !ok {
		return Asset{}, false
	}
	b.index(a, site, line, zone, inherited)
	return a, true
}

// assetFields validates the single-valued fields, reporting each one's problem.
func (b *builder) assetFields(in assetIn) (Asset, bool) {
	var a Asset
	var ok [6]bool
	a.Name, ok[0] = b.text(in.name, true)
	a.Type, ok[1] = b.text(in.typ, false)
	a.SubType, ok[2] = b.text(in.subType, false)
	a.Criticality, ok[3] = b.criticality(in.crit)
	a.PurdueLevel, ok[4] = b.purdueLevel(in.purdue)
	a.Safety, ok[5] = b.safety(in.safety)
	return a, !slices.Contains(ok[:], false)
}

// choice reads a value that must be one of a few: canon gives its canonical spelling and whether it
// is allowed; want lists the allowed values for the message.
func (b *builder) choice(v val, required bool, want string, canon func(string) (string, bool)) (string, bool) {
	s, good := b.text(v, required)
	if !good {
		return "", false
	}
	c, allowed := canon(s)
	if !allowed {
		b.problem(v.pos, "must be %s, not %s", want, quote(s))
	}
	return c, allowed
}

func (b *builder) criticality(v val) (string, bool) {
	return b.choice(v, true, "high, medium or low", func(s string) (string, bool) {
		c := strings.ToLower(s)
		return c, criticalityRank[c] != 0
	})
}

func (b *builder) purdueLevel(v val) (string, bool) {
	return b.choice(v, false, "one of 0, 1, 2, 3, 3.5, 4, 5", func(s string) (string, bool) {
		return s, s == "" || slices.Contains(purdueLevels, s)
	})
}

func (b *builder) safety(v val) (bool, bool) {
	s, good := b.text(v, false)
	if !good {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0", "":
		return false, true
	}
	b.problem(v.pos, "must be true or false, not %s", quote(s))
	return false, false
}

// addresses validates each value with canon. Kept addresses are deduplicated; pos holds where each
// was first given.
func (b *builder) addresses(vs []val, canon func(s string) (c, problem string)) (out, pos []string, ok bool) {
	ok = true
	for _, v := range vs {
		s, good := b.text(v, true)
		if !good {
			ok = false
			continue
		}
		c, problem := canon(s)
		if problem != "" {
			b.problem(v.pos, problem, quote(s))
			ok = false
			continue
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
			pos = append(pos, v.pos)
		}
	}
	return out, pos, ok
}

// deviceIP is s in canonical form, or a problem: a message format for the quoted value.
func deviceIP(s string) (c, problem string) {
	ip, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return "", "%s is not an IP address"
	case ip.Zone() != "":
		return "", "IP address %s must not have a zone"
	case ip.Unmap().IsUnspecified():
		return "", "%s is not a device address"
	}
	return ip.Unmap().String(), ""
}

// deviceMAC is like deviceIP for MAC addresses, refusing the all-zero and broadcast ones.
func deviceMAC(s string) (c, problem string) {
	mac, valid := canonicalMAC(s)
	if !valid {
		return "", "%s is not a MAC address like 00:1b:1b:aa:bb:cc"
	}
	if mac == "00:00:00:00:00:00" || mac == "ff:ff:ff:ff:ff:ff" {
		return "", "%s is not a device MAC address"
	}
	return mac, ""
}

// index records a valid asset for lookups by name and address, with its place and effective owners.
func (b *builder) index(a Asset, site, line, zone string, inherited []string) {
	i := len(b.refs)
	b.byName[strings.ToLower(a.Name)] = i
	for _, ip := range a.IP {
		b.byIP[ip] = i
	}
	for _, mac := range a.MAC {
		b.byMAC[mac] = i
	}
	eff := a.Owners
	if len(eff) == 0 {
		eff = inherited
	}
	b.refs = append(b.refs, AssetRef{Asset: cloneAsset(a), Site: site, Line: line, Zone: zone, Owners: slices.Clone(eff)})
}

// unique records key as seen at pos; a second sighting is a problem naming the first.
func (b *builder) unique(key, pos, what string) bool {
	b.init()
	if first, dup := b.firstAt[key]; dup {
		b.problem(pos, "%s is already used (at %s)", what, first)
		return false
	}
	b.firstAt[key] = pos
	return true
}

// didYouMean suggests the known word closest to s, if it is close enough to be a typo.
func didYouMean(s string, known []string) string {
	if best := suggest.Closest(s, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

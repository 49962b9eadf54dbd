package assets

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/safetext"

	"github.com/interlock-soar/interlock/internal/incident"
)

// Risk values of Impact.
const (
	RiskHigh    = "high"
	RiskMedium  = "medium"
	RiskLow     = "low"
	RiskUnknown = "unknown"
)

const (
	maxStatementRunes = 300
	maxEnrichDevices  = 50
)

// hit is a directory asset an incident names, and the address it named it by.
type hit struct {
	idx  int
	addr string
}

// mentions is what an incident names, resolved against the directory.
type mentions struct {
	hits    []hit    // distinct known assets, in order of first mention
	unknown []string // distinct unknown device names and addresses, in order of first mention
	any     bool     // the incident names at least one device or address
}

// addrKey normalises an address so different spellings of one IP, MAC or name compare equal.
func addrKey(s string) string {
	s = strings.TrimSpace(s)
	if ip, ok := canonicalIP(s); ok {
		return "ip:" + ip
	}
	if mac, ok := canonicalMAC(s); ok {
		return "mac:" + mac
	}
	return "name:" + strings.ToLower(s)
}

// deviceAddrs are the values a device can be matched by, most specific first.
func deviceAddrs(d incident.Device) []string {
	return []string{d.IP, d.MAC, d.Name, d.FriendlyName}
}

// incidentAddrs are the bare addresses an incident names besides its devices: the alerts' source and
// destination and the incident's Ip entities.
func incidentAddrs(inc *incident.Incident) []string {
	var out []string
	for _, a := range inc.Alerts {
		out = append(out, a.SourceAddress, a.DestinationAddress)
	}
	return append(out, inc.IPs...)
}

func (d *Directory) lookupDevice(dev incident.Device) (hit, bool) {
	for _, a := range deviceAddrs(dev) {
		if i, ok := d.lookup(a); ok {
			return hit{i, strings.TrimSpace(a)}, true
		}
	}
	return hit{}, false
}

func (d *Directory) mentions(inc *incident.Incident) mentions {
	var m mentions
	seenAsset := map[int]bool{}
	seenUnknown := map[string]bool{}
	covered := map[string]bool{} // addresses of the incident's devices
	addUnknown := func(s string) {
		if k := addrKey(s); !seenUnknown[k] {
			seenUnknown[k] = true
			m.unknown = append(m.unknown, s)
		}
	}
	addHit := func(h hit) {
		if !seenAsset[h.idx] {
			seenAsset[h.idx] = true
			m.hits = append(m.hits, h)
		}
	}
	for _, dev := range inc.Devices {
		for _, a := range deviceAddrs(dev) {
			if strings.TrimSpace(a) != "" {
				covered[addrKey(a)] = true
			}
		}
		name := strings.TrimSpace(dev.DisplayName())
		if name == "" {
			continue
		}
		m.any = true
		if h, ok := d.lookupDevice(dev); ok {
			addHit(h)
		} else {
			addUnknown(name)
		}
	}
	// An address that belongs to one of the incident's devices is represented by that device.
	for _, a := range incidentAddrs(inc) {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		m.any = true
		k := addrKey(a)
		if covered[k] {
			continue
		}
		covered[k] = true
		if i, ok := d.lookup(a); ok {
			addHit(hit{i, a})
		} else {
			addUnknown(a)
		}
	}
	return m
}

// Impact computes an incident's business impact from the directory: the assets its devices and alert
// addresses name, most critical first, who owns them and the production stop risk. Names the directory
// does not know are listed as unknown, never guessed. It is deterministic and does not modify inc.
func (d *Directory) Impact(inc incident.Incident) incident.Impact {
	m := d.mentions(&inc)
	if !m.any {
		return incident.Impact{Statement: "No device named in the incident; production stop risk unknown", Risk: RiskUnknown}
	}
	refs := make([]AssetRef, len(m.hits))
	for i, h := range m.hits {
		refs[i] = d.refs[h.idx]
	}
	order := make([]int, len(refs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return compareRefs(refs[i], refs[j]) })

	imp := incident.Impact{Risk: RiskUnknown, Unknown: slices.Clone(m.unknown)}
	for _, i := range order {
		r := refs[i]
		a := r.Asset
		imp.Assets = append(imp.Assets, incident.ImpactAsset{
			Name:        a.Name,
			Type:        a.Type,
			Address:     m.hits[i].addr,
			Site:        r.Site,
			Line:        r.Line,
			Zone:        r.Zone,
			PurdueLevel: a.PurdueLevel,
			Criticality: a.Criticality,
			Safety:      a.Safety,
			Owners:      slices.Clone(r.Owners),
		})
		if imp.Site == "" {
			imp.Site = r.Site
		}
		imp.Lines = appendNew(imp.Lines, r.Line)
		imp.Zones = appendNew(imp.Zones, r.Zone)
		for _, o := range r.Owners {
			if !slices.ContainsFunc(imp.Owners, func(x string) bool { return strings.EqualFold(x, o) }) {
				imp.Owners = append(imp.Owners, o)
			}
		}
		imp.Safety = imp.Safety || a.Safety
		imp.Risk = maxRisk(imp.Risk, assetRisk(a))
	}
	imp.Statement = statement(&imp)
	return imp
}

// compareRefs orders assets most critical first, safety-relevant before others, then by name.
func compareRefs(a, b AssetRef) int {
	if c := cmp.Compare(criticalityRank[b.Asset.Criticality], criticalityRank[a.Asset.Criticality]); c != 0 {
		return c
	}
	if a.Asset.Safety != b.Asset.Safety {
		if a.Asset.Safety {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(strings.ToLower(a.Asset.Name), strings.ToLower(b.Asset.Name)); c != 0 {
		return c
	}
	return cmp.Compare(a.Asset.Name, b.Asset.Name)
}

func assetRisk(a Asset) string {
	if a.Safety || a.Criticality == CriticalityHigh {
		return RiskHigh
	}
	return a.Criticality // medium or low, as validated
}

var riskRank = map[string]int{RiskUnknown: 0, RiskLow: 1, RiskMedium: 2, RiskHigh: 3}

func maxRisk(a, b string) string {
	if riskRank[b] > riskRank[a] {
		return b
	}
	return a
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// statement renders the one-line summary. It tries ever shorter renderings (fewer items listed, long
// values clipped) until one fits maxStatementRunes.
func statement(imp *incident.Impact) string {
	levels := []struct{ items, clip int }{{3, 80}, {3, 48}, {2, 32}, {1, 24}, {1, 16}}
	var s string
	for _, l := range levels {
		s = renderStatement(imp, l.items, l.clip)
		if utf8.RuneCountInString(s) <= maxStatementRunes {
			return s
		}
	}
	return safetext.Clip(s, maxStatementRunes)
}

func renderStatement(imp *incident.Impact, items, width int) string {
	c := func(s string) string { return safetext.Clip(plain(s), width) }
	list := func(vals []string, n int) string {
		shown := make([]string, 0, n)
		for _, v := range vals[:min(n, len(vals))] {
			shown = append(shown, c(v))
		}
		s := strings.Join(shown, ", ")
		if rest := len(vals) - len(shown); rest > 0 {
			s += fmt.Sprintf(" +%d more", rest)
		}
		return s
	}
	if len(imp.Assets) == 0 {
		return "No asset of this incident is in the asset directory (" + list(imp.Unknown, items) + "); production stop risk unknown"
	}

	var b strings.Builder
	b.WriteString(c(imp.Site))
	var other []string // distinct other sites
	for _, a := range imp.Assets {
		if a.Site != imp.Site {
			other = appendNew(other, a.Site)
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, " +%d other site", len(other))
		if len(other) > 1 {
			b.WriteString("s")
		}
	}
	b.WriteString(" / ")
	b.WriteString(list(imp.Lines, min(2, items)))
	b.WriteString(": ")
	descs := make([]string, len(imp.Assets))
	for i, a := range imp.Assets {
		descs[i] = describe(a, c)
	}
	// Descriptions are built from clipped parts already; list must not clip them again.
	shown := descs[:min(items, len(descs))]
	b.WriteString(strings.Join(shown, ", "))
	if rest := len(descs) - len(shown); rest > 0 {
		fmt.Fprintf(&b, " +%d more", rest)
	}
	switch len(imp.Owners) {
	case 0:
		b.WriteString(", no owner on record")
	case 1:
		b.WriteString(", owner " + c(imp.Owners[0]))
	default:
		b.WriteString(", owners " + list(imp.Owners, min(2, items)))
	}
	b.WriteString("; production stop risk " + imp.Risk)
	if len(imp.Unknown) > 0 {
		b.WriteString("; not in the asset directory: " + list(imp.Unknown, items))
	}
	return b.String()
}

// describe renders an asset as "safety PLC PLC-L3-01 (Purdue 1, criticality high)".
func describe(a incident.ImpactAsset, c func(string) string) string {
	kind := a.Type
	if kind == "" {
		kind = "asset"
	}
	kind = c(kind)
	if a.Safety && !strings.Contains(strings.ToLower(kind), "safety") {
		kind = "safety " + kind
	}
	s := kind + " " + c(a.Name) + " ("
	if a.PurdueLevel != "" {
		s += "Purdue " + a.PurdueLevel + ", "
	}
	return s + "criticality " + a.Criticality + ")"
}

// plain makes a value safe for the one-line statement. Directory values are validated already, but
// unknown names come from the alert payload.
func plain(s string) string { return safetext.Line(s, 0) }

// Enrich fills the OT context of the incident's devices from the directory, and adds a device for each
// alert or Ip-entity address that is a known asset without a device in the incident (at most
// maxEnrichDevices). It only fills empty fields: what the alert said is never overwritten. Enrich does not
// set inc.Impact; use Impact for that.
func (d *Directory) Enrich(inc *incident.Incident) {
	if d == nil || inc == nil {
		return
	}
	assetSeen := map[int]bool{}
	covered := map[string]bool{}
	for i := range inc.Devices {
		dev := &inc.Devices[i]
		for _, a := range deviceAddrs(*dev) {
			if strings.TrimSpace(a) != "" {
				covered[addrKey(a)] = true
			}
		}
		if h, ok := d.lookupDevice(*dev); ok {
			assetSeen[h.idx] = true
			fill(dev, d.refs[h.idx])
		}
	}
	added := 0
	for _, a := range incidentAddrs(inc) {
		if added >= maxEnrichDevices {
			break
		}
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		k := addrKey(a)
		if covered[k] {
			continue
		}
		covered[k] = true
		i, ok := d.lookup(a)
		if !ok || assetSeen[i] {
			continue
		}
		assetSeen[i] = true
		r := d.refs[i]
		dev := incident.Device{Name: r.Asset.Name}
		if _, err := netip.ParseAddr(a); err == nil {
			dev.IP = a
		} else if _, ok := canonicalMAC(a); ok {
			dev.MAC = a
		}
		fill(&dev, r)
		inc.Devices = append(inc.Devices, dev)
		added++
	}
}

func fill(dev *incident.Device, r AssetRef) {
	set := func(field *string, v string) {
		if *field == "" {
			*field = v
		}
	}
	// The name too: a sensor alert names devices only by address, and people know them by name.
	set(&dev.Name, r.Asset.Name)
	set(&dev.Type, r.Asset.Type)
	set(&dev.SubType, r.Asset.SubType)
	set(&dev.Site, r.Site)
	set(&dev.Zone, r.Zone)
	if r.Asset.PurdueLevel != "" {
		set(&dev.PurdueLayer, purdueLayer(r.Asset.PurdueLevel))
	}
	set(&dev.Importance, importance(r.Asset.Criticality))
	if len(dev.Owners) == 0 {
		dev.Owners = slices.Clone(r.Owners)
	}
}

package assets

import (
	"slices"
	"strings"

	"github.com/interlock-soar/interlock/internal/incident"
)

// How Place found a device's line.
const (
	PlacedByAsset  = "asset"  // the device is an asset of the directory
	PlacedByZone   = "zone"   // the device's zone is a zone of the line
	PlacedBySensor = "sensor" // the device's sensor watches the line
)

// Place is where a device belongs in the directory: its asset when the directory knows it, and its
// production line with the line's mailbox.
type Place struct {
	// Asset is the directory asset's name; empty when the device was placed by zone or sensor only.
	Asset       string `json:"asset,omitempty"`
	Criticality string `json:"criticality,omitempty"`
	Safety      bool   `json:"safety,omitempty"`
	Site        string `json:"site,omitempty"`
	Line        string `json:"line,omitempty"`
	Zone        string `json:"zone,omitempty"`
	// By is PlacedByAsset, PlacedByZone or PlacedBySensor.
	By string `json:"by,omitempty"`
	// Mailbox is the line's owners, else the site's: validated bare addresses.
	Mailbox []string `json:"mailbox,omitempty"`
}

// Place finds the device's place: by its addresses and name (an asset of the directory), else by its
// zone (with its site, when it names one), else by sensor (the device's, else sensor, the alert's).
// The second result is false when none of these names a line. Deterministic: the first match in file
// order wins.
func (d *Directory) Place(dev incident.Device, sensor string) (Place, bool) {
	if d == nil {
		return Place{}, false
	}
	if h, ok := d.lookupDevice(dev); ok {
		r := d.refs[h.idx]
		p := Place{Asset: r.Asset.Name, Criticality: r.Asset.Criticality, Safety: r.Asset.Safety,
			Site: r.Site, Line: r.Line, Zone: r.Zone, By: PlacedByAsset}
		p.Mailbox = d.mailbox(r.Site, r.Line)
		return p, true
	}
	zone, site := strings.TrimSpace(dev.Zone), strings.TrimSpace(dev.Site)
	sensors := []string{strings.TrimSpace(dev.Sensor), strings.TrimSpace(sensor)}
	for _, s := range d.sites {
		if site != "" && !strings.EqualFold(site, s.Name) {
			continue
		}
		for _, l := range s.Lines {
			for _, z := range l.Zones {
				if zone != "" && strings.EqualFold(zone, z.Name) {
					return Place{Site: s.Name, Line: l.Name, Zone: z.Name, By: PlacedByZone, Mailbox: lineMailbox(s, l)}, true
				}
			}
		}
	}
	for _, s := range d.sites {
		for _, l := range s.Lines {
			if slices.ContainsFunc(sensors, func(x string) bool {
				return x != "" && slices.ContainsFunc(l.Sensors, func(y string) bool { return strings.EqualFold(x, y) })
			}) {
				return Place{Site: s.Name, Line: l.Name, By: PlacedBySensor, Mailbox: lineMailbox(s, l)}, true
			}
		}
	}
	return Place{}, false
}

func (d *Directory) mailbox(site, line string) []string {
	for _, s := range d.sites {
		if s.Name != site {
			continue
		}
		for _, l := range s.Lines {
			if l.Name == line {
				return lineMailbox(s, l)
			}
		}
	}
	return nil
}

func lineMailbox(s Site, l Line) []string {
	if len(l.Owners) > 0 {
		return slices.Clone(l.Owners)
	}
	return slices.Clone(s.Owners)
}

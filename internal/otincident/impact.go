package otincident

import (
	"slices"
	"time"

	"github.com/interlock-soar/interlock/internal/incident"
)

// SetImpact records the impact mapped from the asset directory and the devices it enriched: fields
// the alerts left empty are filled, devices only the directory named are added. It reports whether
// anything changed.
func (s *State) SetImpact(impact *incident.Impact, devices []incident.Device, now time.Time) bool {
	changed := false
	for _, d := range devices {
		i := slices.IndexFunc(s.Incident.Devices, func(h incident.Device) bool { return sameDevice(h, d) })
		if i < 0 {
			if len(s.Incident.Devices) < incident.MaxEntities {
				s.Incident.Devices = append(slices.Clone(s.Incident.Devices), d)
				changed = true
			}
			continue
		}
		held := s.Incident.Devices[i]
		merged := fillDevice(held, d)
		if !deviceEqual(held, merged) {
			s.Incident.Devices = slices.Clone(s.Incident.Devices)
			s.Incident.Devices[i] = merged
			changed = true
		}
	}
	if impact != nil && (s.Incident.Impact == nil || s.Incident.Impact.Statement != impact.Statement) {
		s.Incident.Impact = impact
		s.log(now, "asset directory", "impact", impact.Statement)
		changed = true
	}
	return changed
}

// fillDevice fills d's empty fields from e.
func fillDevice(d, e incident.Device) incident.Device {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&d.Name, e.Name)
	fill(&d.Type, e.Type)
	fill(&d.SubType, e.SubType)
	fill(&d.Site, e.Site)
	fill(&d.Zone, e.Zone)
	fill(&d.PurdueLayer, e.PurdueLayer)
	fill(&d.Importance, e.Importance)
	if len(d.Owners) == 0 {
		d.Owners = slices.Clone(e.Owners)
	}
	return d
}

func deviceEqual(a, b incident.Device) bool {
	return a.Name == b.Name && a.Type == b.Type && a.SubType == b.SubType && a.Site == b.Site && a.Zone == b.Zone &&
		a.PurdueLayer == b.PurdueLayer && a.Importance == b.Importance && slices.Equal(a.Owners, b.Owners)
}

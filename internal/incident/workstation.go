package incident

import (
	"slices"
	"strings"
)

// DefaultEngineeringWorkstationTypes are the device types or sub-types that make a device an
// engineering workstation when nothing else is configured (playbooks.newEngineeringStation.deviceTypes
// has the same default). Defender for IoT reports the type as "Engineering Station"; some sensors and
// asset inventories give only the sub-type "Engineering Workstation".
var DefaultEngineeringWorkstationTypes = []string{"Engineering Station", "Engineering Workstation"}

// IsEngineeringWorkstation is Interlock's one definition of an engineering workstation, used by the
// automation rules (isEngineeringWorkstation, hasEngineeringWorkstation()) and the playbooks alike: a
// device whose type or sub-type is one of types (case-insensitive, surrounding space ignored), or that
// Defender for IoT marks as a programming device. Authorization is not part of it: an authorized
// workstation is still a workstation (the NewEngineeringStationTicket playbook skips it, saying why).
// Nil types means DefaultEngineeringWorkstationTypes; an empty list counts only programming devices.
func (d Device) IsEngineeringWorkstation(types []string) bool {
	if d.IsProgramming {
		return true
	}
	if types == nil {
		types = DefaultEngineeringWorkstationTypes
	}
	typ, sub := strings.TrimSpace(d.Type), strings.TrimSpace(d.SubType)
	return slices.ContainsFunc(types, func(t string) bool {
		t = strings.TrimSpace(t)
		return t != "" && (strings.EqualFold(typ, t) || strings.EqualFold(sub, t))
	})
}

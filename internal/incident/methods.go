package incident

import "strings"

// Helpers playbooks and rules use to read an incident. They never fail: a missing value is the zero value.

// PrimaryAlert is the incident's first alert, the one Sentinel's reference playbooks read with
// first(Alerts) and the one a single-alert Defender for IoT incident is about.
func (inc Incident) PrimaryAlert() (Alert, bool) {
	if len(inc.Alerts) == 0 {
		return Alert{}, false
	}
	return inc.Alerts[0], true
}

// Site is the site of the first device that names one, else "".
func (inc Incident) Site() string {
	for _, d := range inc.Devices {
		if d.Site != "" {
			return d.Site
		}
	}
	return ""
}

// Zone is the zone of the first device that names one, else "".
func (inc Incident) Zone() string {
	for _, d := range inc.Devices {
		if d.Zone != "" {
			return d.Zone
		}
	}
	return ""
}

// Sensor is the sensor that raised the primary alert, else the sensor of the first device that names one.
// Notifications per production line are keyed on it (AD4IoT-MailByProductionLine).
func (inc Incident) Sensor() string {
	for _, a := range inc.Alerts {
		if a.SensorID != "" {
			return a.SensorID
		}
	}
	for _, d := range inc.Devices {
		if d.Sensor != "" {
			return d.Sensor
		}
	}
	return ""
}

// Owners are the owners of all devices, without duplicates (ignoring case), in device order.
func (inc Incident) Owners() []string {
	var out []string
	for _, d := range inc.Devices {
	next:
		for _, o := range d.Owners {
			o = strings.TrimSpace(o)
			if o == "" {
				continue
			}
			for _, seen := range out {
				if strings.EqualFold(seen, o) {
					continue next
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// DevicesOfType returns the devices whose type or subtype is typ, ignoring case ("Engineering Station",
// "PLC").
func (inc Incident) DevicesOfType(typ string) []Device {
	typ = strings.TrimSpace(typ)
	var out []Device
	for _, d := range inc.Devices {
		if strings.EqualFold(d.Type, typ) || strings.EqualFold(d.SubType, typ) {
			out = append(out, d)
		}
	}
	return out
}

// SourceDevice is the device at the primary alert's source address (for a PLC programming alert, the
// engineering station that did the download).
func (inc Incident) SourceDevice() (Device, bool) {
	a, ok := inc.PrimaryAlert()
	if !ok {
		return Device{}, false
	}
	return inc.DeviceByAddress(a.SourceAddress)
}

// DestinationDevice is the device at the primary alert's destination (for a PLC programming alert, the
// PLC), found by address and else by the alert's destination device name.
func (inc Incident) DestinationDevice() (Device, bool) {
	a, ok := inc.PrimaryAlert()
	if !ok {
		return Device{}, false
	}
	if d, ok := inc.DeviceByAddress(a.DestinationAddress); ok {
		return d, true
	}
	return inc.DeviceByAddress(a.DestinationDevice)
}

// CustomDetail is the first value of the analytics rule's custom detail key (ignoring case), else "".
func (a Alert) CustomDetail(key string) string {
	vals, ok := a.CustomDetails[key]
	if !ok {
		chosen := ""
		for k, v := range a.CustomDetails {
			// Keys that differ only in case are one detail; take the lexically smallest spelling so the
			// answer does not depend on map order.
			if strings.EqualFold(k, key) && (!ok || k < chosen) {
				vals, ok, chosen = v, true, k
			}
		}
	}
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// Providers of Defender for IoT alerts, as SecurityAlert's ProviderName spells them: the raw alert
// (IoTSecurity), a Sentinel alert re-raised by one of the solution's analytics rules (ASI Scheduled
// Alerts), and an alert that came straight from an on-premises OT sensor (OTSensor, Interlock's name).
const (
	ProviderIoTSecurity   = "IoTSecurity"
	ProviderASIScheduled  = "ASI Scheduled Alerts"
	ProviderOTSensor      = "OTSensor"
	defenderProductLegacy = "Azure Security Center for IoT"
	defenderProduct       = "Microsoft Defender for IoT"
)

// DefenderProvider says which kind of Defender for IoT alert a is, or "" when it is not one. The
// trigger body names no provider, so the product name and the alert's AlertManagementUri tell: a
// scheduled alert counts only when it carries an AlertManagementUri, which only the Defender for IoT
// solution's rules export (whether that URI may be called is the status sync's own check).
func (a Alert) DefenderProvider() string {
	prov := strings.TrimSpace(a.ProviderName)
	switch {
	case strings.EqualFold(prov, ProviderIoTSecurity):
		return ProviderIoTSecurity
	case strings.EqualFold(prov, ProviderOTSensor):
		return ProviderOTSensor
	case strings.EqualFold(a.ProductName, defenderProductLegacy) || strings.EqualFold(a.ProductName, defenderProduct):
		return ProviderIoTSecurity
	}
	scheduled := strings.EqualFold(prov, ProviderASIScheduled) ||
		strings.HasPrefix(strings.ToLower(a.AlertType), "asischeduledalerts") || strings.EqualFold(a.Engine, "Scheduled Alerts")
	if scheduled && strings.TrimSpace(a.ManagementURI) != "" {
		return ProviderASIScheduled
	}
	return ""
}

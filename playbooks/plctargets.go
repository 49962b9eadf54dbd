package playbooks

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/workflows"
)

// Which PLCs a run asks about, whether their change was planned, and whom to ask.

// findTargets works out the affected PLCs; it returns why the playbook does not apply, or "".
func (r *plcRun) findTargets(ctx workflow.Context) string {
	alerts := r.inc.Alerts
	if len(alerts) == 0 {
		// Started by hand without alerts: the incident's own title decides, and the PLC-typed devices
		// are the targets.
		alerts = []incident.Alert{{Title: r.inc.Title}}
	}
	matched := 0
	var skipped []string
	for _, a := range alerts {
		if !r.isPLCChange(a) {
			continue
		}
		matched++
		for _, d := range r.plcsOf(a) {
			if t := r.targetFor(ctx, a, d); t != nil {
				if len(r.targets) < maxPLCs {
					r.targets = append(r.targets, t)
				} else if !slices.Contains(skipped, t.label) {
					skipped = append(skipped, t.label)
				}
			}
		}
	}
	switch {
	case matched == 0:
		return "no alert titled as a PLC change (see playbooks.plcReprogramming.alertTitles)"
	case len(r.targets) == 0:
		return "the PLC-change alerts name no PLC: no destination device and no PLC among the incident's devices"
	}
	if len(skipped) > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d more PLCs were not emailed individually: %s.", len(skipped), strings.Join(skipped, ", ")))
		r.res.Reason = fmt.Sprintf("more than %d PLCs: %d not emailed individually", maxPLCs, len(skipped))
	}
	return ""
}

func (r *plcRun) isPLCChange(a incident.Alert) bool {
	title := a.BareTitle()
	return slices.ContainsFunc(r.s.AlertTitles, func(t string) bool { return strings.EqualFold(incident.BareTitle(t), title) })
}

// plcsOf finds the PLCs an alert is about: the destination device, else the incident's PLC-typed
// devices (other than the source), else a device made of the destination address alone.
func (r *plcRun) plcsOf(a incident.Alert) []incident.Device {
	for _, addr := range []string{a.DestinationDevice, a.DestinationAddress} {
		if d, ok := r.inc.DeviceByAddress(addr); ok {
			return []incident.Device{d}
		}
	}
	src, hasSrc := r.inc.DeviceByAddress(a.SourceAddress)
	var plcs []incident.Device
	for _, d := range r.inc.Devices {
		if isPLCDevice(d) && !(hasSrc && sameIncidentDevice(d, src)) {
			plcs = append(plcs, d)
		}
	}
	if len(plcs) > 0 {
		return plcs
	}
	d := incident.Device{Name: strings.TrimSpace(a.DestinationDevice)}
	if addr := strings.TrimSpace(a.DestinationAddress); addr != "" {
		if _, err := netip.ParseAddr(addr); err == nil {
			d.IP = addr
		} else if d.Name == "" {
			d.Name = addr
		}
	}
	if d.Name == "" && d.IP == "" {
		return nil
	}
	return []incident.Device{d}
}

func isPLCDevice(d incident.Device) bool {
	return strings.Contains(strings.ToLower(d.Type), "plc") || strings.Contains(strings.ToLower(d.SubType), "plc")
}

func sameIncidentDevice(a, b incident.Device) bool {
	return (a.ID != "" && a.ID == b.ID) || (a.IP != "" && a.IP == b.IP) ||
		(a.MAC != "" && strings.EqualFold(a.MAC, b.MAC)) || (a.Name != "" && strings.EqualFold(a.Name, b.Name))
}

// targetFor builds the change for PLC d from alert a; nil when the PLC is already a target (one
// notification per PLC, however many alerts name it).
func (r *plcRun) targetFor(ctx workflow.Context, a incident.Alert, d incident.Device) *plcTarget {
	for _, t := range r.targets {
		if sameIncidentDevice(d, incident.Device{ID: t.id, IP: t.change.PLC.IP, MAC: t.change.PLC.MAC, Name: t.change.PLC.Name}) {
			return nil
		}
	}
	src, ok := r.inc.DeviceByAddress(a.SourceAddress)
	source := activities.DeviceFacts{IP: strings.TrimSpace(a.SourceAddress)}
	if ok {
		source = facts(src)
	}
	site, zone, sensor := d.Site, d.Zone, d.Sensor
	if site == "" && zone == "" && ok {
		// A PLC known only by its address: the workstation that reached it is on the same segment.
		site, zone = src.Site, src.Zone
	}
	sensor = firstNonEmpty(sensor, a.SensorID, src.Sensor)
	line := zone
	if l, found := r.s.Lines[strings.ToLower(strings.TrimSpace(zone))]; found && l != "" {
		line = l
	}
	at := a.StartTime
	for _, t := range []time.Time{a.TimeGenerated, r.inc.Created, r.inc.FirstActivity, workflow.Now(ctx)} {
		if at.IsZero() {
			at = t
		}
	}
	plc := facts(d)
	label := plc.Name
	if !strings.HasPrefix(strings.ToLower(label), "plc") {
		label = "PLC " + label
	}
	return &plcTarget{
		label: label,
		id:    d.ID,
		change: activities.PLCChange{
			PLC: plc, Source: source,
			AlertTitle: a.BareTitle(), AlertID: firstNonEmpty(a.VendorOriginalID, a.ID),
			Protocol: a.Protocol, Time: at.UTC(), Site: site, Zone: zone, Line: line, Sensor: sensor,
			RemediationSteps: slices.Clone(a.RemediationSteps), Techniques: slices.Clone(a.Techniques),
		},
		owners: slices.Clone(d.Owners),
	}
}

func facts(d incident.Device) activities.DeviceFacts {
	return activities.DeviceFacts{
		Name: d.DisplayName(), IP: d.IP, MAC: d.MAC, Type: firstNonEmpty(d.SubType, d.Type),
		Vendor: d.Vendor, Model: d.Model, Firmware: d.Firmware, Importance: d.Importance, PageLink: d.PageLink,
	}
}

// checkPlanned asks, for every PLC in parallel, whether a window or change request covers the change.
// A lookup that keeps failing counts as "not known to be planned": the engineers are asked instead.
func (r *plcRun) checkPlanned(ctx workflow.Context) error {
	lctx := workflows.WithCallOptions(ctx, lookupAttempt, lookupTotal)
	futures := make([]workflow.Future, len(r.targets))
	for i, t := range r.targets {
		futures[i] = workflows.CallOutside(lctx, activities.FindPlannedChange, activities.PlannedChangeRequest{
			PLC: t.change.PLC, Site: t.change.Site, Zone: t.change.Zone, At: t.change.Time,
		})
	}
	for i, f := range futures {
		var pc activities.PlannedChange
		if err := f.Get(ctx, &pc); err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			workflow.GetLogger(ctx).Warn("planned-change lookup failed; asking the engineers", "plc", r.targets[i].change.PLC.Name, "err", err)
			r.notes = append(r.notes, fmt.Sprintf("Could not check planned changes for %s (%s).", r.targets[i].label, failure(err)))
			continue
		}
		if pc.Planned {
			r.targets[i].planned = &pc
		}
	}
	return nil
}

// findRecipients looks up whom to tell for every open PLC. A failed lookup falls back to the SOC
// mailbox rather than leaving a PLC change untold.
func (r *plcRun) findRecipients(ctx workflow.Context) {
	lctx := workflows.WithCallOptions(ctx, lookupAttempt, lookupTotal)
	futures := make([]workflow.Future, len(r.targets))
	for i, t := range r.targets {
		futures[i] = workflows.CallOutside(lctx, activities.LookupRecipients, activities.RecipientsRequest{
			Sensor: t.change.Sensor, Site: t.change.Site, Zone: t.change.Zone, Line: t.change.Line, Owners: t.owners,
		})
	}
	soc := []activities.Recipient{{Name: "SOC", Email: r.s.SOCMailbox}}
	for i, f := range futures {
		if err := f.Get(ctx, &r.targets[i].to); err != nil || len(r.targets[i].to.Engineers) == 0 {
			workflow.GetLogger(ctx).Warn("directory lookup failed; telling the SOC mailbox", "plc", r.targets[i].change.PLC.Name, "err", err)
			r.targets[i].to = activities.Recipients{Engineers: soc, Escalation: soc, Source: activities.RecipientsFromSOC}
		}
		if len(r.targets[i].to.Escalation) == 0 {
			r.targets[i].to.Escalation = slices.Concat(r.targets[i].to.Engineers, soc)
		}
	}
}

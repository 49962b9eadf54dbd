package worker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/config"
)

// The activities the playbooks call, made from their validated config sections.

// NewPlannedChanges makes the planned-change activities from the PLC playbook's section; requests is the
// change-request source (the ServiceNow client) when cfg.ChangeRequests is on, else nil.
func NewPlannedChanges(cfg config.PLCReprogramming, requests activities.ChangeRequests) (*activities.PlannedChanges, error) {
	windows := make([]activities.MaintenanceWindow, 0, len(cfg.MaintenanceWindows))
	for i, w := range cfg.MaintenanceWindows {
		s, err := w.Schedule()
		if err != nil {
			return nil, fmt.Errorf("playbooks.plcReprogramming.maintenanceWindows[%d]: %w", i, err)
		}
		windows = append(windows, activities.MaintenanceWindow{
			Name: strings.TrimSpace(w.Name), Site: strings.TrimSpace(w.Site), Zone: strings.TrimSpace(w.Zone),
			Devices: slices.Clone(w.Devices), Start: s.Start, End: s.End,
			Days: s.Days, From: s.From, To: s.To, Location: s.Location,
		})
	}
	if !cfg.ChangeRequests {
		requests = nil
	}
	return activities.NewPlannedChanges(windows, requests)
}

// NewPLCDirectory makes the directory activity from the PLC playbook's section.
func NewPLCDirectory(cfg config.PLCReprogramming) (*activities.Directory, error) {
	contacts := func(cs []config.Contact) []activities.Recipient {
		out := make([]activities.Recipient, len(cs))
		for i, c := range cs {
			out[i] = activities.Recipient{Name: c.Name, Email: c.Email}
		}
		return out
	}
	entries := make([]activities.DirectoryEntry, len(cfg.Directory))
	for i, e := range cfg.Directory {
		entries[i] = activities.DirectoryEntry{
			Match:     activities.DirectoryMatch{Sensor: e.Match.Sensor, Site: e.Match.Site, Zone: e.Match.Zone, Line: e.Match.Line},
			Engineers: contacts(e.Engineers), Escalation: contacts(e.Escalation),
		}
	}
	return activities.NewDirectory(entries, cfg.SOCMailbox)
}

// NewWorkstationTickets makes the ticket activities the new-engineering-workstation playbook calls, on a
// client for the instance the ServiceNow section names (for the dev stand-in, a copy of the section
// with its URL and credentials).
func NewWorkstationTickets(client activities.TicketAPI, sn config.ServiceNow, table string) (*activities.Tickets, error) {
	t, err := activities.NewTickets(client, sn.InstanceURL, table)
	if err != nil {
		return nil, err
	}
	t.CreateSettle = sn.CreateSettle
	return t, nil
}

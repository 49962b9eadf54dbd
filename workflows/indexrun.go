package workflows

import (
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/interlock-soar/interlock/internal/incident"
)

// SearchAttributesFor returns the search attributes of a playbook run for an incident. The intake sets
// them at start; IndexRun sets them again inside the run, so runs started by hand from the Temporal UI are
// as findable as the others.
func SearchAttributesFor(playbook string, inc incident.Incident) []temporal.SearchAttributeUpdate {
	var sites, devices []string
	for _, d := range inc.Devices {
		if d.Site != "" && !slices.Contains(sites, d.Site) {
			sites = append(sites, d.Site)
		}
		if n := d.DisplayName(); n != "" && !slices.Contains(devices, n) {
			devices = append(devices, n)
		}
	}
	ups := []temporal.SearchAttributeUpdate{
		AttrPlaybook.ValueSet(playbook),
		AttrIncidentID.ValueSet(inc.ID),
	}
	if inc.Number != 0 {
		ups = append(ups, AttrIncidentNumber.ValueSet(inc.Number))
	}
	if inc.Severity != "" {
		ups = append(ups, AttrSeverity.ValueSet(inc.Severity))
	}
	if len(sites) > 0 {
		ups = append(ups, AttrSites.ValueSet(sites))
	}
	if len(devices) > 0 {
		ups = append(ups, AttrDevices.ValueSet(devices))
	}
	return ups
}

// IndexRun is the first call of every playbook: it makes the run findable by incident, site and device.
// The attributes must be registered on the server (interlock dev and `interlock worker
// --register-search-attributes` do it); an unregistered one fails the workflow task until it is.
func IndexRun(ctx workflow.Context, playbook string, inc incident.Incident) error {
	// The intake sets them at start; upserting again would only add a history event.
	if _, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(AttrPlaybook); ok {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, SearchAttributesFor(playbook, inc)...)
}

package worker

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/interlock-soar/interlock/activities"
)

// Activities is every activity the workflows call, as the structs whose methods run them. Register
// registers each method under its pinned type name (activities.Names), so a method renamed or changed
// in signature fails to compile here, and a struct left out fails Register.
type Activities struct {
	Tickets        *activities.Tickets
	Notifier       *activities.Notifier
	PlannedChanges *activities.PlannedChanges
	Directory      *activities.Directory
	Incidents      *activities.Incidents
	AlertStatus    *activities.AlertStatus
	Layer          *activities.IncidentLayer
	CVEs           *activities.CVEFeed
}

// check says which structs are missing.
func (a Activities) check() error {
	var errs []error
	for name, missing := range map[string]bool{
		"Tickets": a.Tickets == nil, "Notifier": a.Notifier == nil, "PlannedChanges": a.PlannedChanges == nil,
		"Directory": a.Directory == nil, "Incidents": a.Incidents == nil, "AlertStatus": a.AlertStatus == nil,
		"Layer": a.Layer == nil, "CVEs": a.CVEs == nil,
	} {
		if missing {
			errs = append(errs, fmt.Errorf("activities: %s is not set", name))
		}
	}
	return errors.Join(errs...)
}

// register registers every activity under its pinned name.
func (a Activities) register(r activities.Registry) {
	activities.EnsureTicket.Register(r, a.Tickets.EnsureTicket)
	activities.AddIncidentComment.Register(r, a.Incidents.AddIncidentComment)
	activities.UpdateIncident.Register(r, a.Incidents.UpdateIncident)
	activities.SendPLCNotification.Register(r, a.Notifier.SendPLCNotification)
	activities.FindPlannedChange.Register(r, a.PlannedChanges.FindPlannedChange)
	activities.LookupRecipients.Register(r, a.Directory.LookupRecipients)
	activities.SyncAlertStatus.Register(r, a.AlertStatus.SyncAlertStatus)
	activities.PrepareIncidentEvent.Register(r, a.Layer.PrepareIncidentEvent)
	activities.DescribeAssets.Register(r, a.Layer.DescribeAssets)
	activities.SendLineNotification.Register(r, a.Notifier.SendLineNotification)
	activities.SendOwnerNotification.Register(r, a.Notifier.SendOwnerNotification)
	activities.FindDeviceCVEs.Register(r, a.CVEs.FindDeviceCVEs)
	activities.DeviceOwners.Register(r, a.Layer.DeviceOwners)
	// The one activity without a request, so without a Type.
	r.RegisterActivityWithOptions(a.Layer.IncidentSettings, activity.RegisterOptions{Name: activities.IncidentSettingsName})
}

package azurestandin

import (
	"cmp"

	"github.com/interlock-soar/interlock/activities/defender"
	"github.com/interlock-soar/interlock/activities/sentinel"
	"github.com/interlock-soar/interlock/internal/incident"
)

// Mirror makes the stand-in hold the incident an incident-trigger payload describes, as Sentinel holds
// it before calling the webhook: a new incident is created with the payload's properties; for one it
// already holds, the status, severity and owner the payload shows are set (what an analyst did in the
// portal), a closed one with a classification. Each Defender for IoT alert whose AlertManagementUri
// names one of allowedHosts gets an alert (status New) when there is none yet. Payloads without an
// armId are left alone. The dev stack and the end-to-end tests use it; a real Sentinel needs nothing
// like it.
func (s *Server) Mirror(ev incident.Event, allowedHosts []string) {
	inc := ev.Incident
	if _, err := sentinel.ParseIncidentID(inc.ARMID); err != nil {
		return
	}
	status := cmp.Or(inc.Status, "New")
	classification := ""
	if status == incident.StatusClosed {
		classification = "Undetermined"
	}
	owner := Owner{ObjectID: inc.Owner.ObjectID, Email: inc.Owner.Email, UserPrincipalName: inc.Owner.UserPrincipalName, AssignedTo: inc.Owner.AssignedTo}
	if _, ok := s.Incident(inc.ARMID); ok {
		s.EditIncident(inc.ARMID, func(p *IncidentProperties) {
			p.Status = status
			if inc.Severity != "" {
				p.Severity = inc.Severity
			}
			if owner != (Owner{}) {
				p.Owner = owner
			}
			if status == incident.StatusClosed && p.Classification == "" {
				p.Classification = classification
			}
		})
	} else {
		var labels []Label
		for _, l := range inc.Labels {
			labels = append(labels, Label{LabelName: l, LabelType: "User"})
		}
		s.PutIncident(inc.ARMID, IncidentProperties{
			Title: cmp.Or(inc.Title, "(untitled)"), Description: inc.Description, Severity: cmp.Or(inc.Severity, "Medium"), Status: status,
			Classification: classification, Owner: owner, Labels: labels, IncidentNumber: int(inc.Number),
			FirstActivityTimeUtc: inc.FirstActivity, LastActivityTimeUtc: inc.LastActivity,
		})
	}
	for _, a := range inc.Alerts {
		ref, err := defender.ParseManagementURI(a.ManagementURI, allowedHosts, nil)
		if err != nil {
			continue
		}
		if _, exists := s.Alert(ref.Path()); !exists {
			s.PutAlert(ref.Path(), AlertProperties{Status: "New", Severity: a.Severity, DisplayName: a.BareTitle(), SystemAlertID: a.VendorOriginalID,
				StartTimeUtc: a.StartTime, EndTimeUtc: a.EndTime})
		}
	}
}

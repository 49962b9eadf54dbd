package playbooks

import "github.com/interlock-soar/interlock/internal/config"

// Shipped is the registry of every playbook Interlock ships, with its settings from the
// configuration: the one list of their names, summaries, run keys and priorities. It needs no
// clients, so the worker, the intake and the rules tools share it.
func Shipped(cfg config.Playbooks) *Registry {
	var (
		nes    = NewEngineeringStationPlaybook(cfg.NewEngineeringStation)
		plc    = NewPLCReprogramming(cfg.PLCReprogramming)
		sync   = NewAlertStatusSync(cfg.AlertStatusSync)
		triage = NewAutoTriage(cfg.AutoTriage)
		closer = NewAutoClose(cfg.AutoClose)
		mail   = NewMailByLine(cfg.MailByLine)
		owner  = NewOwnerApproval(cfg.OwnerApproval)
		cve    = NewCVEAutoWorkflow(cfg.CVEAutoWorkflow)
	)
	// PerEvent: each status change and each incident update is its own run. PriorityUrgent: a person
	// waits on the run's email, so a flood of ticket runs must not queue in front of it.
	return NewRegistry(
		Playbook{Name: NewEngineeringStationName, Workflow: nes.Run, Summary: "New unauthorized engineering workstation: make sure one open ServiceNow ticket covers it, and list the tickets on the incident."},
		Playbook{Name: PLCReprogrammingName, Workflow: plc.Run, Priority: PriorityUrgent, Summary: "Unplanned PLC reprogramming: email the control engineers responsible, wait for their answer, escalate, write the outcome back."},
		Playbook{Name: AlertStatusSyncName, Workflow: sync.Run, PerEvent: true, Summary: "Incident status changed: set every Defender for IoT alert of the incident to match (New, InProgress, Closed), in Azure or on the OT sensor."},
		Playbook{Name: AutoTriageName, Workflow: triage.Run, PerEvent: true, Summary: "High-importance or safety-relevant device in the incident: raise it to High and Active, tag it and say which devices and why."},
		Playbook{Name: AutoCloseName, Workflow: closer.Run, Summary: "Incident raised inside a planned maintenance window or approved change for all its devices: close it as BenignPositive, naming the window (never for high-severity safety assets)."},
		Playbook{Name: MailByLineName, Workflow: mail.Run, Summary: "Mail each production line's mailbox (from the asset directory) one message listing the incident's devices on that line."},
		Playbook{Name: OwnerApprovalName, Workflow: owner.Run, Priority: PriorityUrgent, Summary: "Ask the IoT device owners whether the incident is expected; close it as a false positive or escalate it."},
		Playbook{Name: CVEAutoWorkflowName, Workflow: cve.Run, Summary: "Comment the involved devices' CVEs from the vulnerability feed; on a critical one raise severity, tag and ask the device owner."},
	)
}

// WorkstationTypes are the device types the rules count as engineering workstations: the
// NewEngineeringStationTicket playbook's, so a rule and the playbook it starts agree.
func WorkstationTypes(pc config.Playbooks) []string {
	return NewEngineeringStationSettingsFrom(pc.NewEngineeringStation).DeviceTypes
}

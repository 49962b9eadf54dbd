package playbooks

import "github.com/interlock-soar/interlock/internal/config"

// Shipped is the registry of every playbook Interlock ships, with its settings from the
// configuration. It needs no clients, so the worker, the intake and the rules tools share it.
func Shipped(cfg config.Playbooks) *Registry {
	return NewRegistry(
		NewEngineeringStationPlaybook(cfg.NewEngineeringStation).Playbook(),
		NewPLCReprogramming(cfg.PLCReprogramming).Playbook(),
		NewAlertStatusSync(cfg.AlertStatusSync).Playbook(),
		NewAutoTriage(cfg.AutoTriage).Playbook(),
		NewAutoClose(cfg.AutoClose).Playbook(),
		NewMailByLine(cfg.MailByLine).Playbook(),
		NewOwnerApproval(cfg.OwnerApproval).Playbook(),
		NewCVEAutoWorkflow(cfg.CVEAutoWorkflow).Playbook(),
	)
}

// WorkstationTypes are the device types the rules count as engineering workstations: the
// NewEngineeringStationTicket playbook's, so a rule and the playbook it starts agree.
func WorkstationTypes(pc config.Playbooks) []string {
	return NewEngineeringStationSettingsFrom(pc.NewEngineeringStation).DeviceTypes
}

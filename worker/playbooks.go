package worker

import (
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/playbooks"
)

// Playbooks builds the registry of every playbook Interlock ships, with its settings from the
// configuration. It needs no clients, so the intake and the rules tools can use it too.
func Playbooks(cfg config.Playbooks) *playbooks.Registry {
	return playbooks.NewRegistry(
		playbooks.NewEngineeringStationPlaybook(cfg.NewEngineeringStation).Playbook(),
		playbooks.NewPLCReprogramming(cfg.PLCReprogramming).Playbook(),
		playbooks.NewAlertStatusSync(cfg.AlertStatusSync).Playbook(),
		playbooks.NewAutoTriage(cfg.AutoTriage).Playbook(),
		playbooks.NewAutoClose(cfg.AutoClose).Playbook(),
		playbooks.NewMailByLine(cfg.MailByLine).Playbook(),
		playbooks.NewOwnerApproval(cfg.OwnerApproval).Playbook(),
		playbooks.NewCVEAutoWorkflow(cfg.CVEAutoWorkflow).Playbook(),
	)
}

// PlaybookNames lists the registered names, for validating rules.
func PlaybookNames(r *playbooks.Registry) []string {
	var names []string
	for _, p := range r.All() {
		names = append(names, p.Name)
	}
	return names
}

package config

// Playbooks holds each playbook's settings. Each playbook's section lives in its own file.
type Playbooks struct {
	NewEngineeringStation NewEngineeringStation `yaml:"newEngineeringStation"`
	PLCReprogramming      PLCReprogramming      `yaml:"plcReprogramming"`
	AlertStatusSync       AlertStatusSync       `yaml:"alertStatusSync"`
	AutoTriage            AutoTriage            `yaml:"autoTriage"`
	AutoClose             AutoClose             `yaml:"autoClose"`
	MailByLine            MailByLine            `yaml:"mailByLine"`
	OwnerApproval         OwnerApproval         `yaml:"ownerApproval"`
	CVEAutoWorkflow       CVEAutoWorkflow       `yaml:"cveAutoWorkflow"`
}

func (p *Playbooks) validate(errs *Errors) {
	p.NewEngineeringStation.validate(errs)
	p.PLCReprogramming.validate(errs)
	p.AlertStatusSync.validate(errs)
	p.AutoTriage.validate(errs)
	p.AutoClose.validate(errs)
	p.MailByLine.validate(errs)
	p.OwnerApproval.validate(errs)
	p.CVEAutoWorkflow.validate(errs)
}

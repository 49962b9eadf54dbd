package config

// Playbooks holds each playbook's settings. Each playbook's section lives in its own file.
type Playbooks struct {
	NewEngineeringStation NewEngineeringStation `yaml:"newEngineeringStation"`
	PLCReprogramming      PLCReprogramming      `yaml:"plcReprogramming"`
	AlertStatusSync       AlertStatusSync       `yaml:"alertStatusSync"`
}

func (p *Playbooks) validate(errs *Errors) {
	p.NewEngineeringStation.validate(errs)
	p.PLCReprogramming.validate(errs)
	p.AlertStatusSync.validate(errs)
}

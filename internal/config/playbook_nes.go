package config

// NewEngineeringStation configures the new-engineering-workstation → ServiceNow playbook.
type NewEngineeringStation struct {
	DeviceTypes []string `yaml:"deviceTypes" doc:"Device types (or sub-types) that count as engineering workstations." default:"Engineering Station,Engineering Workstation"`
	Table       string   `yaml:"table" doc:"ServiceNow table the ticket goes to." default:"incident"`
}

func (n *NewEngineeringStation) validate(errs *Errors) {
	if n.Table == "" {
		errs.add("playbooks.newEngineeringStation.table", "must not be empty")
	}
}

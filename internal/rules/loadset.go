package rules

// LoadSet loads the rules file (the built-in default when path is empty) for the playbooks known,
// with the engineering workstation types hasEngineeringWorkstation() counts: the set the worker and
// the intake both run.
func LoadSet(path string, known, workstationTypes []string) (*Set, error) {
	var eng *Engine
	var err error
	if path == "" {
		eng, err = Default(known)
	} else {
		eng, err = Load(path, known)
	}
	if err != nil {
		return nil, err
	}
	set := NewSet(eng)
	set.SetEngineeringWorkstationTypes(workstationTypes)
	return set, nil
}

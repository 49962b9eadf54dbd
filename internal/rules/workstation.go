package rules

// The rules' side of Interlock's one definition of an engineering workstation
// (incident.Device.IsEngineeringWorkstation): the configured types, and hasEngineeringWorkstation().

// SetEngineeringWorkstationTypes sets the device types or sub-types isEngineeringWorkstation and
// hasEngineeringWorkstation() count (incident.Device.IsEngineeringWorkstation): the worker and the
// intake pass playbooks.newEngineeringStation.deviceTypes, so a rule and the playbook it starts agree on
// what a workstation is. Nil restores the default. Safe to call while the engine evaluates.
func (e *Engine) SetEngineeringWorkstationTypes(types []string) {
	if types == nil {
		e.wsTypes.Store(nil)
		return
	}
	c := append([]string{}, types...)
	e.wsTypes.Store(&c)
}

// workstationTypes is what incident.Device.IsEngineeringWorkstation takes: nil for the default.
func (e *Engine) workstationTypes() []string {
	if p := e.wsTypes.Load(); p != nil {
		return *p
	}
	return nil
}

// hasWorkstation is hasEngineeringWorkstation(): the one definition, incident.Device.IsEngineeringWorkstation.
func (st *evaluator) hasWorkstation() bool {
	for i := range st.deviceVals {
		if st.deviceVals[i].IsEngineeringWorkstation {
			return true
		}
	}
	return false
}

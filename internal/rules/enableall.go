package rules

// EnableAll turns every disabled automation rule on and returns their names, in evaluation order: a
// dry run (interlock rules test --enable-all) then shows what the rules shipped off would do. Call it
// before the engine evaluates anything; it is not safe beside Evaluate.
func (e *Engine) EnableAll() []string {
	var names []string
	for _, r := range e.rules {
		if !r.enabled {
			r.enabled = true
			names = append(names, r.name)
		}
	}
	return names
}

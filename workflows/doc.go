// Package workflows holds what every playbook shares: the task queue, the search attributes that make
// runs findable in the Temporal UI, workflow IDs, and activity options.
//
// # The incident workflow: decisions
//
//   - Updates, not signals: the intake answers each record accepted or duplicate, and only once the
//     workflow has recorded it. A change the incident refuses (closing without a classification) is
//     refused by the validator and leaves no trace in the history.
//   - Handlers only change the state and queue an event; the main loop fires the events in order. The
//     asset directory and the rules are configuration that can change while an incident waits, so they
//     are read by a local activity (PrepareIncidentEvent), never by workflow code.
//   - Playbooks are child workflows with the IDs the intake would give them, abandoned when the
//     incident's run ends or continues as new: a PLC notice waiting days for an engineer outlives it.
//   - The workflow keeps running after the incident closes, for Settings.KeepClosedFor, so late records
//     and a reopening still find it; after that it ends, and later records are answered as duplicates.
//   - Before its history grows large it continues as new with the state, once no handler is running.
package workflows

// Package playbooks holds Interlock's playbooks: one Go file each, with the workflow, its input and
// result types and its metadata. A Registry value lists them; there are no init-time globals.
//
// # Changing a playbook safely
//
// A PLC run waits days for an engineer's answer, an incident workflow stays open for weeks. When a
// worker restarts with new code, Temporal replays each open run's history through that code, which
// must issue the same commands (activities, timers, child workflows, markers) in the same order, or
// the run is stuck with a non-determinism error. So:
//
//   - Never rename a workflow type (Playbook.Name, workflows.RuleChangesName, otincident.WorkflowType)
//     or an activity type (the constants in activities/names.go). Go names may change; the registered
//     names may not.
//   - Settings, clocks and random values reach the workflow through workflow.SideEffect (as the
//     playbooks' settings do) or an activity, never straight from the config or the OS.
//   - Any change to the commands a run issues — a new or removed activity call, a reordering, another
//     timer, different options that change a path — goes behind workflow.GetVersion: runs that passed
//     the point before the change keep the old path on replay, new runs take the new one.
//   - Worker versioning (build IDs with versioning rules) is the alternative when a change is too
//     large to branch on, such as a rewrite of a playbook: old runs stay pinned to workers of the old
//     build until they finish. It needs two builds deployed side by side; GetVersion needs one.
//
// Then prove it: record a history of every path the change touches before changing anything
// (internal/stack's TestRecordHistories writes the files that are missing in playbooks/testdata), make
// the change, and let worker's TestCommittedHistoriesReplay replay every committed history; it names
// the history and the event where the new code parts from it.
//
// # One real change: side effects continue as regular activities
//
// Until 2026-12-03 every call to an outside system was a local activity retried for its whole budget
// (up to 6 h for a ServiceNow ticket), which a local activity is not meant for. workflows.CallOutside
// now gives the local attempt 5 s and continues a failing or slow call as a regular activity. For a
// run whose call failed that is a new command (ActivityTaskScheduled) after the local activity's
// marker, so the change is guarded:
//
//	if workflow.GetVersion(ctx, "side-effect-regular-fallback", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
//		return workflow.ExecuteLocalActivity(ctx, activity.Name, req) // the path before the change
//	}
//
// playbooks/testdata/nes-ticket-failed.history.json was recorded before the change: ServiceNow down,
// local retries until the budget ran out, the run failed. Without the guard its replay fails:
//
//	playbooks/testdata/nes-ticket-failed.history.json (a NewEngineeringStationTicket run, 8 events) no longer replays on this code:
//	  at event 7 (MarkerRecorded, local activity 2)
//	  [TMPRL1100] nondeterministic workflow: history event is MarkerRecorded: (MarkerName:LocalActivity, ...
//
// With it the history replays (no version marker: DefaultVersion, the old path), and
// nes-ticket-after-outage.history.json, recorded after the change, holds the version marker and the
// regular EnsureTicket activity that created the ticket once ServiceNow was back. Once no run that
// started before the change can still be open (the longest wait, plus the retention period for
// replays), the DefaultVersion branch may go, with minSupported raised to 1 in the GetVersion call.
package playbooks

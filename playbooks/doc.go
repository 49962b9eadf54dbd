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
//
// # NewEngineeringStationTicket: decisions
//
//   - Which devices: every IoT device whose type or sub-type is one of the configured types
//     (case-insensitive) or that Defender for IoT marks as a programming device, unless it is marked
//     authorized. The same device twice (same key) gets one ticket. At most maxTicketsPerRun per incident:
//     past that the rest are listed as skipped, so a flood of entities cannot flood the ticket queue.
//   - One ticket per device, ever open at once: the device's key (activities.DeviceKey, from its MAC,
//     else Defender ID, else IP and site) is the ticket's correlation_id. A device seen again while its
//     ticket is open gets a work note on that ticket, once per incident; after the ticket is closed, a
//     new sighting opens a new ticket.
//   - Failure policy: each device is ticketed independently, in parallel. ServiceNow down is retried by
//     Temporal for Settings.RetryFor; a rejection (400/401/403/404) is not retried. The run completes as
//     long as one device got its ticket, with every failure in the result and in the incident comment;
//     it fails (TicketsFailed) only when no device could be ticketed, after the comment says so.
//   - Settings enter the run through workflow.SideEffect: recorded in history on the first execution
//     and read back on replay, so a config change applies to new runs and never makes a running one
//     non-deterministic.
//
// # IoTOwnerApproval: decisions
//
//   - Every device with an owner is asked (up to maxOwnerDevices), not only the first as in Microsoft's
//     loop; the first answer decides for the incident, as one incident is one event.
//   - No answer by the deadline: reminders (ownerApproval.reminderRounds, copied to the SOC mailbox when
//     set), then a comment; the incident is never closed without an answer.
//   - The confirmed tag defaults to "True Positive - confirmed by user", one space: Microsoft's has two
//     (a typo). A SOC whose automation matches Microsoft's spelling sets ownerApproval.confirmedTag.
//   - Microsoft mails the responder a confirmation afterwards; Interlock's confirmation page says the
//     answer was recorded, and the comment names who answered.
//
// # CVEAutoWorkflow: decisions
//
//   - The feed is a file (CSV or JSON export of Defender for IoT's device vulnerabilities), not Azure
//     Resource Graph: the runner has no Azure identity of its own for ARG, and a file works on premises.
//   - Every device is looked up, not only the first with CVEs (Microsoft's ContinueLoop stops there).
//   - One comment per CVE, each under its own purpose (device + CVE id), so a retried write-back or a
//     replayed run never posts it twice; past maxCVEComments one comment lists the rest.
//   - A critical CVE raises severity and tags, but leaves the status alone: Microsoft's sets "New",
//     which would undo an analyst's triage of an Active incident.
//   - The owner's answer is recorded, never closes the incident: "expected" only comments (the CVE is
//     still there), "not expected" escalates as in IoTOwnerApproval.
//   - No CVEs, or no feed configured: the result says so and nothing is written (no comment spam).
//
// # PLCReprogrammingNotice: decisions
//
//   - Several PLCs in one incident: every affected PLC gets its own email (the email activity describes
//     one PLCChange) to the engineers responsible for that PLC, but the run waits for one answer for the
//     whole incident. An incident is one change event (Sentinel groups the alerts of one engineering
//     session), the Answer carries no PLC, and the one-click link targets this run; the answer therefore
//     decides for every PLC listed, and the write-back comment names them all. Per-PLC answers would
//     need per-PLC runs; a PLC that a maintenance window or change request covers is left out of the
//     question and gets its own "planned" comment.
//   - Permanent SMTP rejection (or retries running out): the same notice goes to the SOC mailbox, and a
//     comment says the engineers' address was rejected. If the SOC mailbox fails too, a comment hands
//     the incident to the SOC and the run fails with a NotificationFailed error, so it neither hangs nor
//     pretends that someone was told.
//   - Settings enter the run through workflow.SideEffect: the first execution records them in history
//     and every replay reads them back, so a changed config (timeout, rounds, titles) applies to new
//     runs and never breaks the replay of a waiting one. The directory and the maintenance windows stay
//     with the activities, which read them once per lookup; their answers are recorded in history.
//   - One notification per (incident, PLC, round): the workflow ID is per incident (the intake dedupes
//     starts), each (PLC, round) email is exactly one activity, and Temporal's retries of that activity
//     keep its deterministic Message-ID.
//
// # AlertStatusSync: decisions
//
//   - Which alerts: every alert that is a Defender for IoT alert (incident.Alert.DefenderProvider). One
//     with an AlertManagementUri is changed in Azure, but only after the URI passed the allowlist and the
//     path check (defender.ParseManagementURI), here and again in the activity; a refused URI is listed
//     with its reason and nothing is sent anywhere. An alert from an on-premises sensor (its ID is a
//     sensor alert UUID) is closed on the sensor when the incident closes; the sensor API cannot reopen.
//   - Status: New → New, Active → InProgress, Closed → Closed. The activity reads the incident's status
//     in Sentinel at the time of the call and follows it, so two updates in quick succession (Active,
//     then Closed) end with the alerts Closed whichever run finishes last.
//   - Idempotent: an alert that already has the status is read, not written; a rerun changes nothing.
//   - Each alert is synced independently, in parallel, retried for Settings.RetryFor; the run fails
//     (AlertSyncFailed) only when every alert it tried failed, after the incident comment says so.
//
// # AutoCloseIncidents: decisions
//
//   - Windows: the PLC playbook's planned-change check (FindPlannedChange): the configured maintenance
//     windows (by device name, IP or CIDR, zone and site; weekly hours in the plant's time zone or an
//     absolute range), then approved ServiceNow change requests naming the device. Asked for every
//     device of the incident (at most closeMaxDevices) at the time the activity began (first activity,
//     else the first alert's start, else the incident's creation).
//   - All or nothing: the incident is closed only when every device is covered. One device outside any
//     window, a lookup that failed, or an incident without devices leaves it alone, and the result says why.
//   - Safety (closeBlockedBySafety): never closed when a device is safety-relevant (safety: true in the
//     asset directory, or a Defender for IoT sub-type containing "safety", such as "Safety PLC") and
//     either the incident's severity is High or the asset's criticality is high. When the directory
//     lookup fails, safety cannot be ruled out, so nothing is closed.
//   - Idempotent: an incident already Closed is left alone; the comment has an ID that is the same for
//     every run on the incident, and is written before the close.
//
// # MailByProductionLine: decisions
//
//   - Mapping: the asset directory (incidents.assetsFile), not a separate list. A device belongs to the
//     line of its asset, else of its zone, else of its sensor or the alert's (assets.Directory.Place);
//     the line's owners are its mailbox, the site's when the line has none.
//   - One message per line (at most Settings.MaxLines), sent in parallel by SendLineNotification; its
//     Message-ID comes from the incident and the line, so a retry or a re-run is the same message.
//   - Result: the lines mailed (recipients, Message-ID, devices), the lines that could not be, and the
//     devices without a line. The run fails (MailFailed) only when no line could be mailed.
//
// # AutoTriageIncident: decisions
//
//   - Which devices: every device of the incident (enriched from the asset directory, which fills an
//     empty importance from the asset's criticality) whose importance is High, or, with Settings.Safety,
//     whose asset is marked safety: true in the directory.
//   - Never lowers, never reopens: the update is RaiseOnly, judged on the incident as it is when written,
//     so an analyst's later Closed or the severity someone set meanwhile stands. A run on a Closed
//     incident does nothing. The owner is never touched.
//   - Idempotent: the run asks only for what the incident lacks (severity, status, tag). The tag marks a
//     triaged incident: the comment is written before the tag, under an ID that is the same for every
//     run on the incident, and not at all when the incident already has the tag. The workflow ID is per
//     event (PerEvent), so an update that brings a new high-importance device triages too, and a
//     redelivered event is recognised.
package playbooks

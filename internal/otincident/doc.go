// Package otincident is the incident Interlock keeps itself, for plants without a cloud SIEM: one
// incident per Defender for IoT alert ID (or per group a creation rule forms), held by an entity
// workflow (workflows.Incident) whose ID derives from the alert, so every later record of the alert —
// an update, a status change, a re-send inside or after Sentinel's 60-minute re-processing window —
// lands in the same incident and never makes a second one.
//
// This package is the incident's state and the pure, deterministic rules for changing it (what the
// workflow runs), the names and IDs every part agrees on, and the Temporal client calls the intake, the
// CLI and the write-back activity use. It has no side effects of its own.
package otincident

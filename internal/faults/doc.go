// Package faults holds Interlock's fault tests: end-to-end runs of the real stack (Temporal dev server,
// Mailpit, the ServiceNow stand-in over HTTP, the worker and the intake) while one part of it fails,
// each asserting that no incident's ticket or email is lost and none is duplicated.
//
// The faults: the worker process SIGKILLed while playbooks are in flight, the SMTP server down and
// back, ServiceNow answering 503 and 429 bursts and hanging past the client timeout, the Temporal dev
// server killed and restarted while runs wait for an answer, and the intake posted to while Temporal
// is down. Each test starts its own (dedicated) servers, so killing one disturbs no other test.
//
// The package has no code of its own: only this file and the tests. They run in the normal
// `go test ./...`; the pinned Temporal CLI and Mailpit install themselves on first use (see
// internal/testenv), and INTERLOCK_SKIP_INTEGRATION=1 skips them. INTERLOCK_TEST_PERSISTENCE=postgres
// runs them on a Temporal cluster on PostgreSQL instead of the dev server: the faults then kill and
// restart the Temporal server while its database keeps running, as in production.
package faults

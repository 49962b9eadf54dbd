package config

import (
	"strings"
	"time"
)

// OwnerApproval configures the IoTOwnerApproval playbook (Microsoft's AD4IoT-SendEmailtoIoTOwner): ask
// each device owner whether the incident is expected, then close it or escalate it.
type OwnerApproval struct {
	AnswerTimeout  time.Duration `yaml:"answerTimeout" doc:"How long to wait for a device owner's answer before a reminder (and between reminders)." default:"24h"`
	ReminderRounds int           `yaml:"reminderRounds" doc:"Reminders sent when nobody answers, each followed by another wait; then the run comments and leaves the incident open for the SOC (it never closes without an answer)." default:"1"`
	SOCMailbox     string        `yaml:"socMailbox" doc:"Copied on every reminder, so an owner who is away does not leave the question unseen; empty sends reminders to the owners only."`
	ResolvedTag    string        `yaml:"resolvedTag" doc:"Tag added when an owner answers \"expected\" and the incident is closed as FalsePositive." default:"AutoResolved"`
	ConfirmedTag   string        `yaml:"confirmedTag" doc:"Tag added when an owner answers \"not expected\" (Microsoft's reads \"True Positive  - confirmed by user\", with two spaces)." default:"True Positive - confirmed by user"`
}

// CVEAutoWorkflow configures the CVEAutoWorkflow playbook (Microsoft's AD4IoT-CVEAutoWorkflow): comment the
// involved devices' CVEs from a vulnerability feed; on a critical one raise the severity, tag and ask the owner.
type CVEAutoWorkflow struct {
	FeedFile       string        `yaml:"feedFile" doc:"Vulnerability feed, CSV or JSON (e.g. Defender for IoT's device vulnerability export: device id/name/IP, CVE id, CVSS score, severity, description, remediation); read again whenever the file changes, without a restart. Empty: the playbook says no feed is configured."`
	CriticalCVSS   float64       `yaml:"criticalCVSS" doc:"A CVE is critical when the feed says severity Critical or its CVSS score is at least this." default:"9"`
	Tag            string        `yaml:"tag" doc:"Tag added to the incident when a device has a critical CVE." default:"AutoTriageCVE"`
	NotifyOwners   bool          `yaml:"notifyOwners" doc:"On a critical CVE, email the device owners the CVE and ask whether the incident is expected (the IoTOwnerApproval answer loop)." default:"true"`
	AnswerTimeout  time.Duration `yaml:"answerTimeout" doc:"How long to wait for an owner's answer to the critical-CVE email before a reminder." default:"24h"`
	ReminderRounds int           `yaml:"reminderRounds" doc:"Reminders of the critical-CVE email when nobody answers." default:"1"`
}

func (o *OwnerApproval) validate(errs *Errors) {
	const key = "playbooks.ownerApproval."
	checkAsk(errs, key, o.AnswerTimeout, o.ReminderRounds)
	if s := strings.TrimSpace(o.SOCMailbox); s != "" {
		if msg := checkEmail(s); msg != "" {
			errs.add(key+"socMailbox", "%s", msg)
		}
	}
	for _, kv := range [][2]string{{"resolvedTag", o.ResolvedTag}, {"confirmedTag", o.ConfirmedTag}} {
		if strings.TrimSpace(kv[1]) == "" || len(kv[1]) > 256 {
			errs.add(key+kv[0], "must be 1 to 256 characters")
		}
	}
}

func (c *CVEAutoWorkflow) validate(errs *Errors) {
	const key = "playbooks.cveAutoWorkflow."
	checkAsk(errs, key, c.AnswerTimeout, c.ReminderRounds)
	if c.CriticalCVSS <= 0 || c.CriticalCVSS > 10 {
		errs.add(key+"criticalCVSS", "must be above 0 and at most 10, not %g", c.CriticalCVSS)
	}
	if strings.TrimSpace(c.Tag) == "" || len(c.Tag) > 256 {
		errs.add(key+"tag", "must be 1 to 256 characters")
	}
}

func checkAsk(errs *Errors, key string, timeout time.Duration, rounds int) {
	if timeout < time.Minute {
		errs.add(key+"answerTimeout", "must be at least 1m, not %s", timeout)
	}
	if rounds < 0 || rounds > 10 {
		errs.add(key+"reminderRounds", "must be between 0 and 10, not %d", rounds)
	}
}

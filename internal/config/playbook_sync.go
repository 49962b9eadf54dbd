package config

import (
	"net"
	"strings"
	"time"
)

// AlertStatusSync configures the playbook that carries an incident's status to its Defender for IoT alerts.
type AlertStatusSync struct {
	// AllowedHosts guards the AlertManagementUri of each alert, which comes from the payload: only these
	// hosts are accepted, and the call itself always goes to azure.resourceManagerURL.
	AllowedHosts    []string      `yaml:"allowedHosts" doc:"Hosts an alert's AlertManagementUri may name (comma-separated in the env variable); sovereign clouds add theirs, e.g. management.usgovcloudapi.net. IP addresses and localhost are never accepted." default:"management.azure.com"`
	Subscriptions   []string      `yaml:"subscriptions" doc:"Subscription IDs whose Defender for IoT alerts may be changed; empty allows any the identity has Security Admin on."`
	AlertAPIVersion string        `yaml:"alertAPIVersion" doc:"Microsoft.IoTSecurity api-version of the alerts API (it has only a preview version)." default:"2021-07-01-preview"`
	LearnOnClose    bool          `yaml:"learnOnClose" doc:"On-premises sensors: close alerts with handleAndLearn (add the traffic to the baseline) instead of handle." default:"false"`
	Comment         bool          `yaml:"comment" doc:"Write a comment on the incident listing what was done to each alert." default:"true"`
	AttemptTimeout  time.Duration `yaml:"attemptTimeout" doc:"Longest single attempt of one alert's sync (in-request retries included)." default:"1m"`
	RetryFor        time.Duration `yaml:"retryFor" doc:"How long the playbook keeps retrying an alert whose API is unavailable before it records the alert as failed." default:"15m"`
}

func (a *AlertStatusSync) validate(errs *Errors) {
	const key = "playbooks.alertStatusSync."
	if len(a.AllowedHosts) == 0 {
		errs.add(key+"allowedHosts", "must name at least one host (the default is management.azure.com)")
	}
	for i, h := range a.AllowedHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		a.AllowedHosts[i] = h
		switch {
		case net.ParseIP(strings.Trim(h, "[]")) != nil || h == "localhost" || strings.HasSuffix(h, ".localhost"):
			errs.add(key+"allowedHosts", "%q: an IP address or localhost can never be an alert's management host", h)
		case !hostnameRe.MatchString(h):
			errs.add(key+"allowedHosts", "%q is not a host name", h)
		}
	}
	for _, s := range a.Subscriptions {
		if !guidRe.MatchString(s) {
			errs.add(key+"subscriptions", "%q is not a subscription ID (a GUID)", s)
		}
	}
	if !apiVersionRe.MatchString(a.AlertAPIVersion) {
		errs.add(key+"alertAPIVersion", "must look like 2021-07-01-preview, not %q", a.AlertAPIVersion)
	}
	checkRetryBudget(errs, key, a.AttemptTimeout, a.RetryFor)
}

package config

import (
	"net/url"
	"time"
)

// ServiceNow configures the ServiceNow Table API client. With no instance configured, interlock dev
// starts a local stand-in.
type ServiceNow struct {
	InstanceURL  string        `yaml:"instanceURL" doc:"ServiceNow instance, e.g. https://acme.service-now.com. Empty: none (dev uses its stand-in)."`
	Username     string        `yaml:"username" doc:"Basic-auth user (the password is a secret)."`
	Password     Secret        `yaml:"password"`
	Token        Secret        `yaml:"token"`
	Timeout      time.Duration `yaml:"timeout" doc:"Timeout of one HTTP request to ServiceNow." default:"10s"`
	CreateSettle time.Duration `yaml:"createSettle" doc:"After a create whose outcome is unknown (timeout, reset), wait this long before looking the ticket up again: a slow instance may still commit it." default:"30s"`
	RetryMax     int           `yaml:"retryMax" doc:"In-request retries (429, 5xx, connection errors) before the activity attempt fails; Temporal retries after that. Creates and updates are never repeated after an ambiguous failure." default:"2"`
	RetryWaitMin time.Duration `yaml:"retryWaitMin" doc:"Shortest wait between in-request retries." default:"500ms"`
	RetryWaitMax time.Duration `yaml:"retryWaitMax" doc:"Longest wait between in-request retries; a longer Retry-After from ServiceNow is waited out by Temporal instead." default:"10s"`
}

func (s *ServiceNow) validate(errs *Errors) {
	checkURL(errs, "servicenow.instanceURL", s.InstanceURL, false)
	if u, err := url.Parse(s.InstanceURL); err == nil && s.InstanceURL != "" {
		if u.User != nil {
			// The message names the problem, never the URL: it carries a password.
			errs.add("servicenow.instanceURL", "must not contain credentials; use servicenow.username and the password secret")
		}
		if u.RawQuery != "" || u.Fragment != "" {
			errs.add("servicenow.instanceURL", "must not have a query or fragment")
		}
		if !s.Token.IsSet() && (s.Username == "" || !s.Password.IsSet()) {
			errs.add("servicenow.username", "an instance needs servicenow.username and the servicenow.password secret, or the servicenow.token secret")
		}
	}
	if s.CreateSettle < 0 {
		errs.add("servicenow.createSettle", "must not be negative")
	}
	clientRetries{s.Timeout, s.RetryMax, s.RetryWaitMin, s.RetryWaitMax}.check(errs, "servicenow.", "timeout", "retryMax", "retryWaitMin", "retryWaitMax")
}

package config

import "time"

// ServiceNow configures the ServiceNow Table API client. With no instance configured, interlock dev
// starts a local stand-in.
type ServiceNow struct {
	InstanceURL string        `yaml:"instanceURL" doc:"ServiceNow instance, e.g. https://acme.service-now.com. Empty: none (dev uses its stand-in)."`
	Username    string        `yaml:"username" doc:"Basic-auth user (the password is a secret)."`
	Password    Secret        `yaml:"password"`
	Token       Secret        `yaml:"token"`
	Timeout     time.Duration `yaml:"timeout" doc:"Timeout of one HTTP request to ServiceNow." default:"10s"`
	RetryMax    int           `yaml:"retryMax" doc:"In-request retries (429, 5xx, connection errors) before the activity attempt fails; Temporal retries after that." default:"2"`
}

func (s *ServiceNow) validate(errs *Errors) {
	checkURL(errs, "servicenow.instanceURL", s.InstanceURL, false)
	if s.Timeout <= 0 {
		errs.add("servicenow.timeout", "must be positive")
	}
	if s.RetryMax < 0 || s.RetryMax > 10 {
		errs.add("servicenow.retryMax", "must be between 0 and 10")
	}
}

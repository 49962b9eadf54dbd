package config

import "time"

// SMTP configures outgoing mail.
type SMTP struct {
	Host      string        `yaml:"host" doc:"SMTP server host." default:"localhost"`
	Port      int           `yaml:"port" doc:"SMTP server port." default:"1025"`
	TLSPolicy string        `yaml:"tlsPolicy" doc:"STARTTLS policy: mandatory, opportunistic or none; or implicit for SMTPS (465)." default:"mandatory"`
	Username  string        `yaml:"username" doc:"SMTP user; empty sends without auth."`
	Password  Secret        `yaml:"password"`
	From      string        `yaml:"from" doc:"Sender address of every email." default:"interlock@localhost"`
	Timeout   time.Duration `yaml:"timeout" doc:"Timeout of one SMTP conversation." default:"15s"`
}

func (s *SMTP) validate(errs *Errors) {
	if s.Host == "" {
		errs.add("smtp.host", "must not be empty")
	}
	if s.Port < 1 || s.Port > 65535 {
		errs.add("smtp.port", "must be between 1 and 65535")
	}
	switch s.TLSPolicy {
	case "mandatory", "opportunistic", "none", "implicit":
	default:
		errs.add("smtp.tlsPolicy", "must be mandatory, opportunistic, none or implicit, not %q", s.TLSPolicy)
	}
	if s.Timeout <= 0 {
		errs.add("smtp.timeout", "must be positive")
	}
}

package config

import (
	"crypto/x509"
	"fmt"
	"net"
	netmail "net/mail"
	"os"
	"strings"
	"time"
	"unicode"
)

// SMTP configures outgoing mail.
type SMTP struct {
	Host      string        `yaml:"host" doc:"SMTP server host." default:"localhost"`
	Port      int           `yaml:"port" doc:"SMTP server port." default:"1025"`
	TLSPolicy string        `yaml:"tlsPolicy" doc:"STARTTLS policy: mandatory, opportunistic or none; or implicit for SMTPS (465)." default:"mandatory"`
	TLSCAFile string        `yaml:"tlsCAFile" doc:"CA bundle (PEM) to verify the SMTP server, when not the system roots."`
	Username  string        `yaml:"username" doc:"SMTP user; empty sends without auth. The password is sent only over TLS (or to a loopback host with tlsPolicy none)."`
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
	if err := checkMailbox(s.From); err != nil {
		errs.add("smtp.from", "%v", err)
	}
	if s.Username != "" && !s.Password.IsSet() {
		errs.add("smtp.password", "is required with smtp.username (set INTERLOCK_SMTP_PASSWORD or smtp.password.file)")
	}
	if s.Username == "" && s.Password.IsSet() {
		errs.add("smtp.username", "is required when a password is set")
	}
	if s.Username != "" && s.TLSPolicy == "none" && !isLoopback(s.Host) {
		// Clear-text AUTH across a network hands the password to anyone on the path.
		errs.add("smtp.tlsPolicy", "none would send the SMTP password in clear text to %s; use mandatory or implicit, or a loopback relay", s.Host)
	}
	if s.TLSCAFile != "" {
		if _, err := s.RootCAs(); err != nil {
			errs.add("smtp.tlsCAFile", "%v", err)
		}
	}
}

// RootCAs loads TLSCAFile; nil (the system roots) when it is empty.
func (s *SMTP) RootCAs() (*x509.CertPool, error) {
	if s.TLSCAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(s.TLSCAFile)
	if err != nil {
		return nil, fmt.Errorf("read SMTP CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SMTP CA file %s holds no PEM certificate", s.TLSCAFile)
	}
	return pool, nil
}

// checkMailbox accepts one address ("a@b" or "Name <a@b>") without control characters.
func checkMailbox(s string) error {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("must not contain control characters")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || !strings.Contains(a.Address, "@") {
		return fmt.Errorf("must be one email address, not %q", s)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

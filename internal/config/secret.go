package config

import (
	"log/slog"
	"os"
	"strings"
)

// Secret is a credential. Its value comes only from an environment variable or a file named in the
// config, never from the YAML itself, and it never prints: String, GoString, LogValue and MarshalJSON
// all redact it, so a Secret that reaches a log line or a workflow payload shows nothing.
type Secret struct {
	// File is a path whose contents (trimmed of surrounding white space) are the secret.
	File  string `yaml:"file"`
	value string
	env   string
}

// Value returns the secret itself. Call it only where the secret is used on the wire.
func (s Secret) Value() string { return s.value }

// IsSet says whether a value was found.
func (s Secret) IsSet() bool { return s.value != "" }

func (s Secret) String() string               { return "[redacted]" }
func (s Secret) GoString() string             { return "config.Secret{[redacted]}" }
func (s Secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// NewSecret makes a Secret from a value, for tests and for callers that read it elsewhere.
func NewSecret(v string) Secret { return Secret{value: v} }

type namedSecret struct {
	key    string
	env    string
	secret *Secret
}

// secrets lists every secret of the config with its key and environment variable.
func (c *Config) secrets() []namedSecret {
	list := []namedSecret{
		{"servicenow.password", "INTERLOCK_SERVICENOW_PASSWORD", &c.ServiceNow.Password},
		{"servicenow.token", "INTERLOCK_SERVICENOW_TOKEN", &c.ServiceNow.Token},
		{"smtp.password", "INTERLOCK_SMTP_PASSWORD", &c.SMTP.Password},
		{"intake.tokens", "INTERLOCK_INTAKE_TOKENS", &c.Intake.Tokens},
		{"intake.hmacSecret", "INTERLOCK_INTAKE_HMAC_SECRET", &c.Intake.HMACSecret},
		{"intake.answerSecret", "INTERLOCK_INTAKE_ANSWER_SECRET", &c.Intake.AnswerSecret},
		{"temporal.apiKey", "INTERLOCK_TEMPORAL_API_KEY", &c.Temporal.APIKey},
		{"azure.clientSecret", "INTERLOCK_AZURE_CLIENT_SECRET", &c.Azure.ClientSecret},
		{"sensor.token", "INTERLOCK_SENSOR_TOKEN", &c.Sensor.Token},
	}
	for i := range list {
		list[i].secret.env = list[i].env
	}
	return list
}

// resolve reads the secret from its environment variable, else from its file.
func (s *Secret) resolve(key string, getenv func(string) string, errs *Errors) {
	if v := getenv(s.env); v != "" {
		s.value = v
		return
	}
	if v := getenv(s.env + "_FILE"); v != "" {
		s.File = v
	}
	if s.File == "" {
		return
	}
	b, err := os.ReadFile(s.File)
	if err != nil {
		// The path is not secret; the contents are, and the error never includes them.
		errs.add(key+".file", "cannot read secret file: %v", err)
		return
	}
	s.value = strings.TrimSpace(string(b))
	if s.value == "" {
		errs.add(key+".file", "secret file %s is empty", s.File)
	}
}

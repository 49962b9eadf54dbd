// Package config loads Interlock's configuration: one YAML file, then environment overrides, then
// secrets from the environment or from files. Every key has a default, documented in the README.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration. Each section lives in its own file of this package.
type Config struct {
	Log        Log        `yaml:"log"`
	Temporal   Temporal   `yaml:"temporal"`
	Worker     Worker     `yaml:"worker"`
	Intake     Intake     `yaml:"intake"`
	ServiceNow ServiceNow `yaml:"servicenow"`
	SMTP       SMTP       `yaml:"smtp"`
	Azure      Azure      `yaml:"azure"`
	Sentinel   Sentinel   `yaml:"sentinel"`
	Sensor     Sensor     `yaml:"sensor"`
	Incidents  Incidents  `yaml:"incidents"`
	Playbooks  Playbooks  `yaml:"playbooks"`
	Workbook   Workbook   `yaml:"workbook"`
}

// Log configures the process log.
type Log struct {
	Level  string `yaml:"level" doc:"Log level: debug, info, warn or error." default:"info"`
	Format string `yaml:"format" doc:"Log format: text or json." default:"text"`
}

// Default returns the configuration with every default filled in.
func Default() Config {
	var c Config
	if err := applyDefaults(&c); err != nil {
		panic(err) // the default tags are ours; a bad one is a programming error caught by the tests
	}
	return c
}

// Load reads the YAML file at path (none when path is empty), applies environment overrides through
// getenv, resolves secrets, and validates. Every problem is reported with its key.
func Load(path string, getenv func(string) string) (Config, error) {
	var data []byte
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		data = b
	}
	return Parse(data, getenv)
}

// Parse is Load on bytes already read.
func Parse(data []byte, getenv func(string) string) (Config, error) {
	c := Default()
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, &Errors{List: []FieldError{{Key: "(file)", Msg: yamlMessage(err)}}}
		}
	}
	var errs Errors
	applyEnv(&c, getenv, &errs)
	if c.Azure.FederatedTokenFile == "" {
		// What AKS workload identity injects into the pod.
		c.Azure.FederatedTokenFile = getenv("AZURE_FEDERATED_TOKEN_FILE")
	}
	c.resolveSecrets(getenv, &errs)
	c.validate(&errs)
	if c.Intake.AnswerSecret.IsSet() && len(c.Intake.AnswerSecret.Value()) < 32 {
		// Checked here rather than in Intake.validate: only resolved secrets have a length.
		errs.add("intake.answerSecret", "must be at least 32 bytes (it signs the answer links)")
	}
	if len(errs.List) > 0 {
		return c, &errs
	}
	return c, nil
}

func yamlMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// FieldError is one problem with one key.
type FieldError struct {
	Key string
	Msg string
}

func (e FieldError) Error() string { return e.Key + ": " + e.Msg }

// Errors lists every problem found, in key order of discovery.
type Errors struct {
	List []FieldError
}

func (e *Errors) add(key, format string, args ...any) {
	e.List = append(e.List, FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (e *Errors) Error() string {
	msgs := make([]string, len(e.List))
	for i, fe := range e.List {
		msgs[i] = fe.Error()
	}
	return "invalid configuration:\n  " + strings.Join(msgs, "\n  ")
}

func (c *Config) validate(errs *Errors) {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs.add("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs.add("log.format", "must be text or json, not %q", c.Log.Format)
	}
	c.Temporal.validate(errs)
	c.Worker.validate(errs)
	c.Intake.validate(errs)
	c.ServiceNow.validate(errs)
	c.SMTP.validate(errs)
	c.Azure.validate(errs)
	c.Sentinel.validate(errs)
	c.Sensor.validate(errs)
	c.Incidents.validate(errs)
	c.Playbooks.validate(errs)
	c.Workbook.validate(errs)
}

func (c *Config) resolveSecrets(getenv func(string) string, errs *Errors) {
	for _, s := range c.secrets() {
		s.secret.resolve(s.key, getenv, errs)
	}
}

// checkRetryBudget is the rule for a playbook's side-effect budget: each attempt has a positive
// timeout, and the retries may run at least one attempt's length.
func checkRetryBudget(errs *Errors, key string, attempt, retryFor time.Duration) {
	if attempt <= 0 {
		errs.add(key+"attemptTimeout", "must be positive")
	}
	if retryFor < attempt {
		errs.add(key+"retryFor", "must be at least attemptTimeout")
	}
}

// clientRetries is an HTTP client's attempt timeout and retry policy: one rule for every client
// section, whatever its keys are called.
type clientRetries struct {
	timeout          time.Duration
	max              int
	waitMin, waitMax time.Duration
}

// check adds an error for each value out of range, under section+ the key check was given for it.
func (c clientRetries) check(errs *Errors, section, timeoutKey, maxKey, waitMinKey, waitMaxKey string) {
	if c.timeout <= 0 {
		errs.add(section+timeoutKey, "must be positive")
	}
	if c.max < 0 || c.max > 10 {
		errs.add(section+maxKey, "must be between 0 and 10")
	}
	if c.waitMin <= 0 {
		errs.add(section+waitMinKey, "must be positive")
	}
	if c.waitMax < c.waitMin {
		errs.add(section+waitMaxKey, "must be at least %s", waitMinKey)
	}
}

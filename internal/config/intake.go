package config

import (
	"net"
	"strings"
	"time"
)

// Intake is the HTTP server that takes incident webhooks and answer clicks.
type Intake struct {
	Listen string `yaml:"listen" doc:"Address the intake listens on." default:"127.0.0.1:8480"`
	// PublicURL is how engineers' browsers reach the intake (answer links in emails).
	PublicURL    string        `yaml:"publicURL" doc:"URL at which browsers reach the intake; used in email answer links." default:"http://localhost:8480"`
	RulesFile    string        `yaml:"rulesFile" doc:"Automation rules file (YAML); empty uses the built-in default rules."`
	MaxBodyBytes int64         `yaml:"maxBodyBytes" doc:"Largest request body accepted (413 above)." default:"1048576"`
	ReplayWindow time.Duration `yaml:"replayWindow" doc:"How old an HMAC-signed request's timestamp may be." default:"5m"`
	// AllowUnauthenticated lets /v1 routes through without a token; only interlock dev sets it.
	AllowUnauthenticated bool `yaml:"allowUnauthenticated" doc:"Accept /v1 requests without auth (dev only; refused unless listen is loopback)." default:"false"`
	// Tokens is one secret holding a comma-separated list, so a token can be rotated by listing the old
	// and the new one until every sender has the new one.
	Tokens       Secret        `yaml:"tokens"`
	HMACSecret   Secret        `yaml:"hmacSecret"`
	AnswerSecret Secret        `yaml:"answerSecret"`
	AnswerTTL    time.Duration `yaml:"answerTTL" doc:"How long an emailed answer link stays valid." default:"72h"`
	// WriteRuleChanges costs one workflow run per incident event whose rules changed something.
	WriteRuleChanges bool `yaml:"writeRuleChanges" doc:"Write the automation rules' own changes (setSeverity, setStatus, setOwner, addTags) to the incident, once per event, with the playbook run it starts (else by an InterlockRuleChanges run); off when Sentinel's own automation rules make those changes." default:"true"`
	// MaxBacklog bounds the queueing a 2xx can hide: past it the sender is told to come back instead of
	// its incident waiting behind thousands of others.
	MaxBacklog int `yaml:"maxBacklog" doc:"Answer 503 with Retry-After to new incidents, runs and alert batches while the playbook task queue's backlog (Temporal's approximate count, read every second, plus this intake's starts in flight) is at or above this; 0 turns the check off." default:"200"`
	// MaxBacklogAge bounds the wait itself, whatever the workers' pace: a count alone lets latency grow
	// when the workers slow down, and a low-priority task starved by higher ones shows here first.
	MaxBacklogAge time.Duration `yaml:"maxBacklogAge" doc:"Answer 503 with Retry-After to new incidents, runs and alert batches while the oldest task in the playbook task queue has waited this long (Temporal's approximate backlog age, read every second); 0 turns the check off." default:"5s"`
	// RetryAfter is short: a bounded backlog drains in seconds, and senders that wait longer leave the
	// workers idle. A sender with a small retry budget may need it longer.
	RetryAfter time.Duration `yaml:"retryAfter" doc:"Retry-After of a 503 for a backlog past intake.maxBacklog or intake.maxBacklogAge (other 503s, Temporal unavailable, ask for 5 s); whole seconds, 1s to 1h." default:"2s"`
}

// TokenList splits Tokens into the bearer tokens the intake accepts, trimmed, without empty entries.
func (in *Intake) TokenList() []string {
	var list []string
	for t := range strings.SplitSeq(in.Tokens.Value(), ",") {
		if t = strings.TrimSpace(t); t != "" {
			list = append(list, t)
		}
	}
	return list
}

func (in *Intake) validate(errs *Errors) {
	if in.Listen == "" {
		errs.add("intake.listen", "must not be empty")
	}
	checkURL(errs, "intake.publicURL", in.PublicURL, false)
	if in.MaxBodyBytes < 1024 {
		errs.add("intake.maxBodyBytes", "must be at least 1024")
	}
	if in.ReplayWindow <= 0 {
		errs.add("intake.replayWindow", "must be positive")
	}
	if in.MaxBacklog < 0 {
		errs.add("intake.maxBacklog", "must not be negative (0 turns the check off)")
	}
	if in.MaxBacklogAge < 0 {
		errs.add("intake.maxBacklogAge", "must not be negative (0 turns the check off)")
	}
	if in.RetryAfter < time.Second || in.RetryAfter > time.Hour || in.RetryAfter%time.Second != 0 {
		errs.add("intake.retryAfter", "must be whole seconds from 1s to 1h, not %s", in.RetryAfter)
	}
	if in.AnswerTTL <= 0 {
		errs.add("intake.answerTTL", "must be positive")
	}
	// Unauthenticated intake is for a laptop: anyone who can reach it could start playbooks that open
	// tickets and mail control engineers, so it must not listen beyond loopback.
	if in.AllowUnauthenticated && in.Listen != "" && !isLoopbackListen(in.Listen) {
		errs.add("intake.allowUnauthenticated", "only allowed when intake.listen is a loopback address, not %q", in.Listen)
	}
	if in.Tokens.IsSet() && len(in.TokenList()) == 0 {
		errs.add("intake.tokens", "holds no token: give one or more tokens separated by commas")
	}
}

// isLoopbackListen says whether a listen address binds only to loopback. An empty host (":8480")
// binds every interface, so it is not loopback.
func isLoopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package config

import "time"

// Temporal says where the Temporal service is.
type Temporal struct {
	Address   string `yaml:"address" doc:"Temporal frontend host:port." default:"localhost:7233"`
	Namespace string `yaml:"namespace" doc:"Temporal namespace." default:"default"`
	// UIURL is where links to runs point.
	UIURL string `yaml:"uiURL" doc:"Base URL of the Temporal UI, for links to runs." default:"http://localhost:8233"`
	TLS   bool   `yaml:"tls" doc:"Connect with TLS (on for Temporal Cloud)." default:"false"`
	// TLSCertFile and TLSKeyFile are an mTLS client certificate.
	TLSCertFile   string `yaml:"tlsCertFile" doc:"Client certificate (PEM) for mTLS."`
	TLSKeyFile    string `yaml:"tlsKeyFile" doc:"Client key (PEM) for mTLS."`
	TLSCAFile     string `yaml:"tlsCAFile" doc:"CA bundle (PEM) to verify the server, when not the system roots."`
	TLSServerName string `yaml:"tlsServerName" doc:"Server name to verify, when it differs from the address host."`
	APIKey        Secret `yaml:"apiKey"`
	// ShutdownTimeout bounds how long a stopping worker waits for in-flight activities.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout" doc:"How long a stopping worker lets in-flight activity attempts finish." default:"30s"`
	// ActivitiesPerSecond etc. are worker tuning knobs.
	MaxConcurrentActivities int `yaml:"maxConcurrentActivities" doc:"Activity slots per worker." default:"200"`
	MaxConcurrentWorkflows  int `yaml:"maxConcurrentWorkflows" doc:"Workflow task slots per worker." default:"200"`
	WorkflowTaskPollers     int `yaml:"workflowTaskPollers" doc:"Concurrent workflow-task polls per worker, shared by its normal and sticky queues (the SDK's default is 2; at full load fewer than 8 let answers and other sticky tasks wait out the 5 s sticky timeout)." default:"8"`
	ActivityTaskPollers     int `yaml:"activityTaskPollers" doc:"Concurrent activity-task polls per worker." default:"2"`
}

func (t *Temporal) validate(errs *Errors) {
	if t.Address == "" {
		errs.add("temporal.address", "must not be empty")
	}
	if t.Namespace == "" {
		errs.add("temporal.namespace", "must not be empty")
	}
	if (t.TLSCertFile == "") != (t.TLSKeyFile == "") {
		errs.add("temporal.tlsCertFile", "tlsCertFile and tlsKeyFile go together")
	}
	if t.ShutdownTimeout < 0 {
		errs.add("temporal.shutdownTimeout", "must not be negative")
	}
	if t.MaxConcurrentActivities < 1 {
		errs.add("temporal.maxConcurrentActivities", "must be at least 1")
	}
	if t.WorkflowTaskPollers < 2 {
		errs.add("temporal.workflowTaskPollers", "must be at least 2 (sticky and normal queues each need one)")
	}
	if t.ActivityTaskPollers < 1 {
		errs.add("temporal.activityTaskPollers", "must be at least 1")
	}
	if t.MaxConcurrentWorkflows < 1 {
		errs.add("temporal.maxConcurrentWorkflows", "must be at least 1")
	}
	checkURL(errs, "temporal.uiURL", t.UIURL, false)
}

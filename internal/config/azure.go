package config

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Azure configures how Interlock signs in to Microsoft Entra ID and reaches Azure Resource Manager,
// for the Sentinel write-back and the Defender for IoT alert status sync.
type Azure struct {
	TenantID     string `yaml:"tenantID" doc:"Microsoft Entra tenant (directory) ID of the app registration Interlock signs in as."`
	ClientID     string `yaml:"clientID" doc:"Application (client) ID of the app registration, or of the user-assigned managed identity."`
	ClientSecret Secret `yaml:"clientSecret"`
	Credential   string `yaml:"credential" doc:"How to sign in: auto (client secret when set, else workload identity when a federated token file is configured, else managed identity), clientSecret, workloadIdentity or managedIdentity." default:"auto"`
	// FederatedTokenFile is what AKS workload identity projects into the pod (AZURE_FEDERATED_TOKEN_FILE).
	FederatedTokenFile string `yaml:"federatedTokenFile" doc:"Workload identity: the projected service-account token file (AKS sets AZURE_FEDERATED_TOKEN_FILE, which is used when this is empty)."`
	AuthorityHost      string `yaml:"authorityHost" doc:"Microsoft Entra sign-in endpoint; another for sovereign clouds (e.g. https://login.microsoftonline.us/)." default:"https://login.microsoftonline.com/"`
	ResourceManagerURL string `yaml:"resourceManagerURL" doc:"Azure Resource Manager endpoint every Sentinel and Defender for IoT call goes to (another for sovereign clouds, or the dev stand-in)." default:"https://management.azure.com"`
	// The audience stays the public one when the dev stack points ResourceManagerURL at its stand-in.
	ResourceManagerAudience string        `yaml:"resourceManagerAudience" doc:"Token audience for Resource Manager; the scope requested is this plus /.default." default:"https://management.azure.com"`
	CAFile                  string        `yaml:"caFile" doc:"CA bundle (PEM) to verify the sign-in and Resource Manager endpoints, when not the system roots (a TLS-inspecting proxy, the dev stand-in)."`
	TryTimeout              time.Duration `yaml:"tryTimeout" doc:"Timeout of one HTTP try to Resource Manager." default:"15s"`
	RetryMax                int           `yaml:"retryMax" doc:"In-request retries of a Resource Manager call (429 honouring Retry-After, 5xx, connection errors); Temporal retries the activity after that." default:"3"`
	RetryDelay              time.Duration `yaml:"retryDelay" doc:"First wait between in-request retries (doubling)." default:"1s"`
	MaxRetryDelay           time.Duration `yaml:"maxRetryDelay" doc:"Longest wait between in-request retries, Retry-After included." default:"30s"`
}

// Credential kinds.
const (
	CredentialAuto             = "auto"
	CredentialClientSecret     = "clientSecret"
	CredentialWorkloadIdentity = "workloadIdentity"
	CredentialManagedIdentity  = "managedIdentity"
)

var (
	guidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	tenantRe   = regexp.MustCompile(`^[0-9A-Za-z.-]{1,256}$`)
	rgRe       = regexp.MustCompile(`^[-\w._()]{1,90}$`)
	wsRe       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{2,62}$`)
	hostnameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
)

func (a *Azure) validate(errs *Errors) {
	switch a.Credential {
	case CredentialAuto, CredentialClientSecret, CredentialWorkloadIdentity, CredentialManagedIdentity:
	default:
		errs.add("azure.credential", "must be auto, clientSecret, workloadIdentity or managedIdentity, not %q", a.Credential)
	}
	if a.TenantID != "" && !tenantRe.MatchString(a.TenantID) {
		errs.add("azure.tenantID", "must be a tenant ID (a GUID) or a tenant domain name")
	}
	if a.ClientID != "" && !guidRe.MatchString(a.ClientID) {
		errs.add("azure.clientID", "must be a GUID (the application or managed identity client ID)")
	}
	if a.Credential == CredentialClientSecret && !a.ClientSecret.IsSet() {
		errs.add("azure.clientSecret", "is required with azure.credential clientSecret (set INTERLOCK_AZURE_CLIENT_SECRET or azure.clientSecret.file)")
	}
	if (a.Credential == CredentialClientSecret || a.Credential == CredentialWorkloadIdentity || a.ClientSecret.IsSet()) && (a.TenantID == "" || a.ClientID == "") {
		errs.add("azure.tenantID", "a client secret or workload identity needs azure.tenantID and azure.clientID")
	}
	checkHTTPS(errs, "azure.authorityHost", a.AuthorityHost)
	checkHTTPS(errs, "azure.resourceManagerURL", a.ResourceManagerURL)
	checkHTTPS(errs, "azure.resourceManagerAudience", a.ResourceManagerAudience)
	if a.CAFile != "" {
		if _, err := a.RootCAs(); err != nil {
			errs.add("azure.caFile", "%v", err)
		}
	}
	clientRetries{a.TryTimeout, a.RetryMax, a.RetryDelay, a.MaxRetryDelay}.check(errs, "azure.", "tryTimeout", "retryMax", "retryDelay", "maxRetryDelay")
}

// RootCAs loads CAFile; nil (the system roots) when it is empty.
func (a *Azure) RootCAs() (*x509.CertPool, error) {
	return loadCAFile("Azure", a.CAFile)
}

// Scope is the OAuth scope of Resource Manager tokens.
func (a *Azure) Scope() string {
	return strings.TrimRight(a.ResourceManagerAudience, "/") + "/.default"
}

// Sentinel configures the write-back of playbook outcomes to Microsoft Sentinel incidents.
type Sentinel struct {
	WriteBack      string `yaml:"writeBack" doc:"Where playbooks write outcomes (comments, severity, status, tags) for Sentinel incidents: sentinel (the workspace below); log, which only logs them; or none, for a plant without a SIEM, where only Interlock's own incidents (POST /v1/alerts) are written to. Interlock's own incidents always take their write-backs themselves." default:"sentinel"`
	SubscriptionID string `yaml:"subscriptionID" doc:"Subscription of the Sentinel workspace. Only incidents whose armId names this workspace are written to."`
	ResourceGroup  string `yaml:"resourceGroup" doc:"Resource group of the Sentinel workspace."`
	WorkspaceName  string `yaml:"workspaceName" doc:"Log Analytics workspace name of Sentinel."`
	APIVersion     string `yaml:"apiVersion" doc:"Microsoft.SecurityInsights api-version (the newest stable one when this was written)." default:"2025-12-01"`
	UpdateAttempts int    `yaml:"updateAttempts" doc:"How often one incident update re-reads the incident and tries again when someone else changed it meanwhile (412 Precondition Failed)." default:"5"`
}

// Write-back targets.
const (
	WriteBackSentinel = "sentinel"
	WriteBackLog      = "log"
	WriteBackNone     = "none"
)

var apiVersionRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)

func (s *Sentinel) validate(errs *Errors) {
	switch s.WriteBack {
	case WriteBackSentinel, WriteBackLog, WriteBackNone:
	default:
		errs.add("sentinel.writeBack", "must be sentinel, log or none, not %q", s.WriteBack)
	}
	if s.SubscriptionID != "" && !guidRe.MatchString(s.SubscriptionID) {
		errs.add("sentinel.subscriptionID", "must be a subscription ID (a GUID)")
	}
	if s.ResourceGroup != "" && !rgRe.MatchString(s.ResourceGroup) {
		errs.add("sentinel.resourceGroup", "is not a resource group name")
	}
	if s.WorkspaceName != "" && !wsRe.MatchString(s.WorkspaceName) {
		errs.add("sentinel.workspaceName", "is not a Log Analytics workspace name (4-63 letters, digits and hyphens)")
	}
	if !apiVersionRe.MatchString(s.APIVersion) {
		errs.add("sentinel.apiVersion", "must look like 2025-12-01, not %q", s.APIVersion)
	}
	if s.UpdateAttempts < 1 || s.UpdateAttempts > 20 {
		errs.add("sentinel.updateAttempts", "must be between 1 and 20")
	}
}

// Configured says whether the workspace is named in full.
func (s *Sentinel) Configured() bool {
	return s.SubscriptionID != "" && s.ResourceGroup != "" && s.WorkspaceName != ""
}

// Sensor configures the API of an on-premises Defender for IoT OT sensor or management console, for
// air-gapped sites whose alerts never reach Azure.
type Sensor struct {
	URL     string        `yaml:"url" doc:"Base URL of the OT sensor or on-premises management console (https). Empty: no on-premises alert status sync."`
	Token   Secret        `yaml:"token"`
	CAFile  string        `yaml:"caFile" doc:"CA bundle (PEM) that signed the sensor's certificate (sensors usually have their own)."`
	Timeout time.Duration `yaml:"timeout" doc:"Timeout of one request to the sensor." default:"15s"`
}

func (s *Sensor) validate(errs *Errors) {
	if s.URL != "" {
		checkHTTPS(errs, "sensor.url", s.URL)
		if !s.Token.IsSet() {
			errs.add("sensor.token", "is required with sensor.url (set INTERLOCK_SENSOR_TOKEN or sensor.token.file): the sensor's API access token")
		}
	}
	if s.CAFile != "" {
		if _, err := s.RootCAs(); err != nil {
			errs.add("sensor.caFile", "%v", err)
		}
	}
	if s.Timeout <= 0 {
		errs.add("sensor.timeout", "must be positive")
	}
}

// RootCAs loads CAFile; nil (the system roots) when it is empty.
func (s *Sensor) RootCAs() (*x509.CertPool, error) {
	return loadCAFile("sensor", s.CAFile)
}

// checkHTTPS reports a value that is not an absolute https URL without credentials, query or fragment.
func checkHTTPS(errs *Errors, key, s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		errs.add(key, "must not be empty")
	case err != nil || u.Scheme != "https" || u.Host == "":
		errs.add(key, "must be an absolute https URL, not %q", s)
	case u.User != nil:
		errs.add(key, "must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		errs.add(key, "must not have a query or fragment")
	}
}

func loadCAFile(what, path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s CA file: %w", what, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s CA file %s holds no PEM certificate", what, path)
	}
	return pool, nil
}

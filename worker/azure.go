package worker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/arm"
	"github.com/interlock-soar/interlock/activities/defender"
	"github.com/interlock-soar/interlock/activities/sentinel"
	"github.com/interlock-soar/interlock/internal/config"
)

// AzureCredential makes the credential Interlock signs in to Microsoft Entra ID with, as azure.credential
// says, and the HTTP client every Azure call goes through (trusting azure.caFile when set).
func AzureCredential(cfg config.Azure) (azcore.TokenCredential, *http.Client, error) {
	pool, err := cfg.RootCAs()
	if err != nil {
		return nil, nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: tr}
	co := azcore.ClientOptions{Transport: hc, Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityHost}}

	kind := cfg.Credential
	tokenFile := cfg.FederatedTokenFile
	if kind == config.CredentialAuto {
		switch {
		case cfg.ClientSecret.IsSet():
			kind = config.CredentialClientSecret
		case tokenFile != "" && cfg.TenantID != "" && cfg.ClientID != "":
			kind = config.CredentialWorkloadIdentity
		default:
			kind = config.CredentialManagedIdentity
		}
	}
	// Sovereign clouds and the dev stand-in are not Microsoft's public authority: MSAL's instance
	// discovery would ask login.microsoftonline.com about them.
	custom := cfg.AuthorityHost != string(cloud.AzurePublic.ActiveDirectoryAuthorityHost)
	var cred azcore.TokenCredential
	switch kind {
	case config.CredentialClientSecret:
		if !cfg.ClientSecret.IsSet() {
			return nil, nil, errors.New("azure.credential is clientSecret but no secret is set (INTERLOCK_AZURE_CLIENT_SECRET)")
		}
		cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret.Value(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: custom})
	case config.CredentialWorkloadIdentity:
		if tokenFile == "" {
			return nil, nil, errors.New("azure.credential is workloadIdentity but no federated token file is set (azure.federatedTokenFile or AZURE_FEDERATED_TOKEN_FILE)")
		}
		if _, serr := os.Stat(tokenFile); serr != nil {
			return nil, nil, fmt.Errorf("azure.federatedTokenFile: %w", serr)
		}
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: co, TenantID: cfg.TenantID, ClientID: cfg.ClientID, TokenFilePath: tokenFile, DisableInstanceDiscovery: custom})
	case config.CredentialManagedIdentity:
		opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if cfg.ClientID != "" {
			opts.ID = azidentity.ClientID(cfg.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(opts)
	default:
		return nil, nil, fmt.Errorf("azure.credential %q", kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("azure credential (%s): %w", kind, err)
	}
	return cred, hc, nil
}

// azureClients are the Azure-side activities: the Sentinel writer and the alert status sync.
type azureClients struct {
	// writer is nil with sentinel.writeBack none.
	writer activities.IncidentWriter
	status *activities.AlertStatus
}

// buildAzure makes the incident writer and the alert status activity from the configuration.
func buildAzure(cfg config.Config, logger *slog.Logger) (azureClients, error) {
	sc := cfg.Playbooks.AlertStatusSync
	out := azureClients{status: &activities.AlertStatus{
		AllowedHosts: sc.AllowedHosts, Subscriptions: sc.Subscriptions, LearnOnClose: sc.LearnOnClose,
	}}
	if cfg.Sensor.URL != "" {
		pool, err := cfg.Sensor.RootCAs()
		if err != nil {
			return out, err
		}
		s, err := defender.NewSensor(defender.SensorConfig{URL: cfg.Sensor.URL, Token: cfg.Sensor.Token.Value(), RootCAs: pool, Timeout: cfg.Sensor.Timeout})
		if err != nil {
			return out, fmt.Errorf("sensor: %w", err)
		}
		out.status.Sensor = s
	}

	useSentinel := cfg.Sentinel.WriteBack == config.WriteBackSentinel
	if useSentinel && !cfg.Sentinel.Configured() {
		return out, errors.New("sentinel.writeBack is sentinel, but the workspace is not named: set sentinel.subscriptionID, " +
			"sentinel.resourceGroup and sentinel.workspaceName (and the azure.* sign-in), or set sentinel.writeBack: log " +
			"(INTERLOCK_SENTINEL_WRITE_BACK=log) to run without a SIEM and only log the write-backs")
	}
	// Without Sentinel the alert sync can still use Azure when an identity is configured.
	azureWanted := useSentinel || cfg.Azure.ClientID != "" || cfg.Azure.ClientSecret.IsSet()
	var noSIEM activities.IncidentWriter = &activities.LogWriter{Logger: logger}
	if cfg.Sentinel.WriteBack == config.WriteBackNone {
		noSIEM = nil // only Interlock's own incidents take write-backs
	}
	if !azureWanted {
		out.writer = noSIEM
		if noSIEM != nil {
			logger.Warn("sentinel.writeBack is log: playbook outcomes for Sentinel incidents are only logged, and Defender for IoT alerts in Azure are not synced", "key", "sentinel.writeBack")
		}
		return out, nil
	}
	cred, hc, err := AzureCredential(cfg.Azure)
	if err != nil {
		return out, err
	}
	ac, err := arm.New(cred, arm.Options{
		Endpoint: cfg.Azure.ResourceManagerURL, Scope: cfg.Azure.Scope(), Transport: hc,
		TryTimeout: cfg.Azure.TryTimeout, MaxRetries: int32(cfg.Azure.RetryMax), RetryDelay: cfg.Azure.RetryDelay, MaxRetryDelay: cfg.Azure.MaxRetryDelay,
	})
	if err != nil {
		return out, fmt.Errorf("azure: %w", err)
	}
	cloudAlerts, err := defender.NewCloud(ac, sc.AlertAPIVersion)
	if err != nil {
		return out, err
	}
	out.status.Cloud = cloudAlerts
	if !useSentinel {
		out.writer = noSIEM
		return out, nil
	}
	sent, err := sentinel.New(ac, sentinel.Workspace{SubscriptionID: cfg.Sentinel.SubscriptionID, ResourceGroup: cfg.Sentinel.ResourceGroup,
		Name: cfg.Sentinel.WorkspaceName}, cfg.Sentinel.APIVersion)
	if err != nil {
		return out, err
	}
	w := &activities.SentinelWriter{API: sent, UpdateAttempts: cfg.Sentinel.UpdateAttempts}
	out.writer, out.status.Incidents = w, w
	return out, nil
}

package testenv

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/incident"
)

// The workspace the testdata fixtures' incidents live in.
const (
	FixtureSubscription  = "7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11"
	FixtureResourceGroup = "rg-soc-prod"
	FixtureWorkspace     = "law-soc-prod"
)

// The app registration the stand-in knows, unless a test gives its own.
const (
	AzureTenantID = "2c8a0f4e-7b1d-4e9a-8c3f-6d5e4b3a2f10"
	AzureClientID = "5f1c9b7e-0d4a-4c2e-9a61-3b7d2e8f4a10"
)

// Azure is the Azure stand-in (Entra ID token endpoint, Sentinel, Defender for IoT alerts) served over
// TLS on a free loopback port, with the credentials Interlock is configured with.
type Azure struct {
	Stub         *azurestandin.Server
	URL          string
	CAFile       string
	TenantID     string
	ClientID     string
	ClientSecret string

	srv *httptest.Server
	dir string
}

// StartAzure serves a stand-in made from opts; empty tenant, client and secret take the defaults.
func StartAzure(opts azurestandin.Options) (*Azure, error) {
	if opts.TenantID == "" {
		opts.TenantID = AzureTenantID
	}
	if opts.ClientID == "" {
		opts.ClientID = AzureClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "stand-in-client-secret-0123456789abcdef"
	}
	stub := azurestandin.New(opts)
	srv := httptest.NewTLSServer(stub)
	dir, err := os.MkdirTemp("", "interlock-azure-ca-")
	if err != nil {
		srv.Close()
		return nil, err
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		srv.Close()
		return nil, err
	}
	return &Azure{Stub: stub, URL: srv.URL, CAFile: ca, TenantID: opts.TenantID, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, srv: srv, dir: dir}, nil
}

// NewAzure is StartAzure for one test, stopped when it ends.
func NewAzure(t testing.TB, opts azurestandin.Options) *Azure {
	t.Helper()
	a, err := StartAzure(opts)
	if err != nil {
		t.Fatalf("azure stand-in: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}

// Close stops the stand-in.
func (a *Azure) Close() {
	a.srv.Close()
	_ = os.RemoveAll(a.dir)
}

// Configure points cfg's Azure sign-in and Sentinel workspace at the stand-in: the fixtures' workspace,
// a client secret, and no in-request retry waits longer than a second.
func (a *Azure) Configure(cfg *config.Config) {
	cfg.Azure.TenantID, cfg.Azure.ClientID = a.TenantID, a.ClientID
	cfg.Azure.ClientSecret = config.NewSecret(a.ClientSecret)
	cfg.Azure.Credential = config.CredentialClientSecret
	cfg.Azure.AuthorityHost = a.URL + "/"
	cfg.Azure.ResourceManagerURL = a.URL
	cfg.Azure.CAFile = a.CAFile
	cfg.Sentinel.WriteBack = config.WriteBackSentinel
	cfg.Sentinel.SubscriptionID, cfg.Sentinel.ResourceGroup, cfg.Sentinel.WorkspaceName = FixtureSubscription, FixtureResourceGroup, FixtureWorkspace
}

// Seed puts the incident a payload describes (and its Defender for IoT alerts) into the stand-in, as
// Sentinel holds it before it calls the webhook.
func (a *Azure) Seed(t testing.TB, body []byte) incident.Event {
	t.Helper()
	ev, err := incident.Parse(body)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	a.Stub.Mirror(ev, []string{"management.azure.com"})
	return ev
}

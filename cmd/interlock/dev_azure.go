package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/sensorstandin"
)

// The dev stand-in's app registration and workspace. The workspace is the one the testdata fixtures'
// incidents name, so `interlock trigger testdata/…` writes back to incidents the stand-in holds.
const (
	devTenantID      = "2c8a0f4e-7b1d-4e9a-8c3f-6d5e4b3a2f10"
	devClientID      = "5f1c9b7e-0d4a-4c2e-9a61-3b7d2e8f4a10"
	devSubscription  = "7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11"
	devResourceGroup = "rg-soc-prod"
	devWorkspace     = "law-soc-prod"
)

// devAzure is the Azure stand-in of the dev stack: Entra ID's token endpoint, Sentinel and the Defender
// for IoT alerts API, over TLS with a certificate kept in the state folder.
type devAzure struct {
	stub *azurestandin.Server
	ln   net.Listener
	url  string
}

// startDevAzure starts the stand-in on port and points cfg's Azure sign-in and Sentinel workspace at it.
func startDevAzure(stateDir string, port int, cfg *config.Config) (*devAzure, error) {
	secret, err := stateSecret(stateDir, "azure.secret")
	if err != nil {
		return nil, err
	}
	certFile, _, tlsCfg, err := azurestandin.LocalCertificate(filepath.Join(stateDir, "azure-tls"))
	if err != nil {
		return nil, fmt.Errorf("azure stand-in certificate: %w", err)
	}
	stub, err := azurestandin.Open(azurestandin.Options{
		TenantID: devTenantID, ClientID: devClientID, ClientSecret: secret,
		File: filepath.Join(stateDir, "azure.json"), PageUser: "interlock", PagePassword: secret,
	})
	if err != nil {
		return nil, fmt.Errorf("azure stand-in: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		_ = stub.Close()
		return nil, fmt.Errorf("azure stand-in: %w", err)
	}
	url := "https://" + ln.Addr().String()
	cfg.Azure.TenantID, cfg.Azure.ClientID, cfg.Azure.ClientSecret = devTenantID, devClientID, config.NewSecret(secret)
	cfg.Azure.Credential = config.CredentialClientSecret
	cfg.Azure.AuthorityHost, cfg.Azure.ResourceManagerURL, cfg.Azure.CAFile = url+"/", url, certFile
	cfg.Sentinel.SubscriptionID, cfg.Sentinel.ResourceGroup, cfg.Sentinel.WorkspaceName = devSubscription, devResourceGroup, devWorkspace
	return &devAzure{stub: stub, ln: tls.NewListener(ln, tlsCfg), url: url}, nil
}

// devSensor is the OT sensor stand-in of the dev stack: the on-premises alert API the status sync
// closes alerts on, over TLS with the stand-ins' certificate.
type devSensor struct {
	stub *sensorstandin.Server
	ln   net.Listener
	url  string
}

// startDevSensor starts the sensor stand-in on port and points cfg.sensor at it.
func startDevSensor(stateDir string, port int, cfg *config.Config) (*devSensor, error) {
	token, err := stateSecret(stateDir, "sensor.token")
	if err != nil {
		return nil, err
	}
	certFile, _, tlsCfg, err := azurestandin.LocalCertificate(filepath.Join(stateDir, "azure-tls"))
	if err != nil {
		return nil, fmt.Errorf("sensor stand-in certificate: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("sensor stand-in: %w", err)
	}
	stub := sensorstandin.New(sensorstandin.Options{Token: token, PageUser: "interlock", PagePassword: token})
	url := "https://" + ln.Addr().String()
	cfg.Sensor.URL, cfg.Sensor.Token, cfg.Sensor.CAFile = url, config.NewSecret(token), certFile
	return &devSensor{stub: stub, ln: tls.NewListener(ln, tlsCfg), url: url}, nil
}

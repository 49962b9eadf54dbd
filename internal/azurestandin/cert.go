package azurestandin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"slices"
	"time"

	"github.com/interlock-soar/interlock/internal/standin"
)

const (
	certValidity = 365 * 24 * time.Hour
	// certMinLeft is how long a certificate must still be valid to be reused, so a dev stack started
	// today does not stop working tomorrow.
	certMinLeft = 7 * 24 * time.Hour
)

// LocalCertificate makes (or reuses, when still valid for the hosts) a self-signed certificate for the
// hosts (default 127.0.0.1, ::1, localhost) in dir as cert.pem and key.pem (0600), returning the paths
// and a tls.Config to serve with; clients trust cert.pem as their CA file.
func LocalCertificate(dir string, hosts ...string) (certFile, keyFile string, cfg *tls.Config, err error) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil || !usable(pair, hosts, time.Now()) {
		if pair, err = makeCertificate(certFile, keyFile, hosts); err != nil {
			return "", "", nil, err
		}
	}
	return certFile, keyFile, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// usable reports whether a loaded certificate covers every host and stays valid long enough.
func usable(pair tls.Certificate, hosts []string, now time.Time) bool {
	if len(pair.Certificate) == 0 {
		return false
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || now.Before(c.NotBefore) || now.Add(certMinLeft).After(c.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(c.DNSNames, h) {
			return false
		}
	}
	return true
}

func makeCertificate(certFile, keyFile string, hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("azurestandin: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("azurestandin: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Interlock local stand-in (not Azure)", Organization: []string{"Interlock dev"}},
		NotBefore:    now.Add(-time.Hour), // tolerate a little clock skew
		NotAfter:     now.Add(certValidity),
		// Self-signed and a CA, so clients can take cert.pem as their CA file.
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if len(tmpl.IPAddresses)+len(tmpl.DNSNames) == 0 {
		return tls.Certificate{}, errors.New("azurestandin: no host for the certificate")
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("azurestandin: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("azurestandin: encode key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	// The key first: a crash in between leaves a certificate that does not match, which the next call
	// notices and replaces.
	if err := standin.WriteFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("azurestandin: write %s: %w", keyFile, err)
	}
	if err := standin.WriteFileAtomic(certFile, certPEM, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("azurestandin: write %s: %w", certFile, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("azurestandin: load new certificate: %w", err)
	}
	return pair, nil
}

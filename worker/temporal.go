// Package worker wires Interlock together: configuration → clients → activities → one Register
// function that the worker process and the tests share.
package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/interlock-soar/interlock/internal/config"
)

// Dial connects to Temporal as the configuration says: plain on a dev server, TLS (mTLS or API key)
// on a cluster or Temporal Cloud.
func Dial(ctx context.Context, cfg config.Temporal, logger *slog.Logger) (client.Client, error) {
	return DialWith(ctx, cfg, logger, nil)
}

// DialWith is Dial with the SDK's metrics going to h (nil: nowhere).
func DialWith(ctx context.Context, cfg config.Temporal, logger *slog.Logger, h client.MetricsHandler) (client.Client, error) {
	opts, err := ClientOptions(cfg, logger)
	if err != nil {
		return nil, err
	}
	opts.MetricsHandler = h
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s): %w", cfg.Address, cfg.Namespace, err)
	}
	return c, nil
}

// ClientOptions builds the SDK client options from the configuration.
func ClientOptions(cfg config.Temporal, logger *slog.Logger) (client.Options, error) {
	opts := client.Options{
		HostPort:  cfg.Address,
		Namespace: cfg.Namespace,
		Logger:    tlog.NewStructuredLogger(logger),
	}
	if cfg.APIKey.IsSet() {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey.Value())
	}
	if !cfg.TLS && cfg.TLSCertFile == "" && !cfg.APIKey.IsSet() {
		return opts, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return client.Options{}, fmt.Errorf("load Temporal client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if cfg.TLSCAFile != "" {
		pem, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return client.Options{}, fmt.Errorf("read Temporal CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return client.Options{}, fmt.Errorf("temporal CA file %s holds no PEM certificate", cfg.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	opts.ConnectionOptions.TLS = tc
	return opts, nil
}

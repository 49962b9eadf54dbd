package azurestandin

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLocalCertificate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls")
	certFile, keyFile, cfg, err := LocalCertificate(dir)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "cert.pem"), certFile)
	require.Equal(t, filepath.Join(dir, "key.pem"), keyFile)
	for _, f := range []string{certFile, keyFile} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	first, err := os.ReadFile(certFile)
	require.NoError(t, err)

	// A client that trusts cert.pem as its CA file talks to a server using cfg, by IP and by name.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(first))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	resp, err = client.Get("https://localhost:" + port)
	require.NoError(t, err)
	resp.Body.Close()

	// Still valid for the same hosts: reused as it is.
	_, _, _, err = LocalCertificate(dir, "localhost", "127.0.0.1")
	require.NoError(t, err)
	again, err := os.ReadFile(certFile)
	require.NoError(t, err)
	require.Equal(t, first, again)

	// A host it does not cover: made anew.
	_, _, _, err = LocalCertificate(dir, "127.0.0.1", "stand-in.internal")
	require.NoError(t, err)
	third, err := os.ReadFile(certFile)
	require.NoError(t, err)
	require.NotEqual(t, first, third)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	require.Equal(t, []string{"stand-in.internal"}, c.DNSNames)

	// A damaged file: made anew.
	require.NoError(t, os.WriteFile(certFile, []byte("garbage"), 0o600))
	_, _, _, err = LocalCertificate(dir)
	require.NoError(t, err)
	_, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
}

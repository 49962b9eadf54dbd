package azurestandin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/require"
)

const (
	tenantID   = "7c6a3f7e-2b1d-4c55-9d8e-0f1a2b3c4d5e"
	clientID   = "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
	secret     = "s3cret~Value.for-the-tests"
	fedToken   = "federated-assertion-for-the-tests"
	miHeader   = "identity-header-for-the-tests"
	sub        = "20ff7fc3-e762-44dd-bd96-b71116dcdc23"
	audience   = "https://management.azure.com"
	sentinelV  = "?api-version=2025-12-01"
	iotV       = "?api-version=2021-07-01-preview"
	wsBase     = "/subscriptions/" + sub + "/resourceGroups/soc-rg/providers/Microsoft.OperationalInsights/workspaces/soc-ws/providers/Microsoft.SecurityInsights"
	alertsBase = "/subscriptions/" + sub + "/providers/Microsoft.IoTSecurity/locations/eastus/deviceGroups/default/alerts"
)

func incPath(id string) string   { return wsBase + "/incidents/" + id }
func alertPath(id string) string { return alertsBase + "/" + id }

// clock is a settable clock for the stand-in.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func baseOptions() Options {
	return Options{TenantID: tenantID, ClientID: clientID, ClientSecret: secret, FederatedToken: fedToken, ManagedIdentityHeader: miHeader}
}

// newStub serves a stand-in over TLS, as clients need it.
func newStub(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := Open(opts)
	require.NoError(t, err)
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, srv
}

func clientOptions(srv *httptest.Server) azcore.ClientOptions {
	return azcore.ClientOptions{
		Transport: srv.Client(),
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URL + "/"},
	}
}

func secretCredential(t *testing.T, srv *httptest.Server, secretValue string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secretValue, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: clientOptions(srv), DisableInstanceDiscovery: true,
	})
	require.NoError(t, err)
	return cred
}

// staticCred hands out a fixed token: one the stand-in never issued.
type staticCred string

func (c staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

var noRetries = policy.RetryOptions{MaxRetries: -1}

// newPipeline is how Interlock calls Resource Manager: azcore's pipeline with the bearer-token policy.
func newPipeline(srv *httptest.Server, cred azcore.TokenCredential, retry policy.RetryOptions) runtime.Pipeline {
	return runtime.NewPipeline("azurestandintest", "v0.0.0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{audience + "/.default"}, nil)},
	}, &policy.ClientOptions{Transport: srv.Client(), Retry: retry})
}

type reply struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

func (r reply) code() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r reply) message() string {
	e, _ := r.Body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (r reply) props() map[string]any {
	p, _ := r.Body["properties"].(map[string]any)
	return p
}

func (r reply) str(key string) string {
	v, _ := r.Body[key].(string)
	return v
}

// call sends one request through the pipeline. body is JSON-encoded unless it is a string (sent
// as is); headers override (an empty value deletes).
func call(t *testing.T, pl runtime.Pipeline, srv *httptest.Server, method, pathAndQuery string, body any, headers map[string]string) reply {
	t.Helper()
	return callCtx(t, context.Background(), pl, srv, method, pathAndQuery, body, headers)
}

func callCtx(t *testing.T, ctx context.Context, pl runtime.Pipeline, srv *httptest.Server, method, pathAndQuery string, body any, headers map[string]string) reply {
	t.Helper()
	resp, err := send(ctx, pl, srv, method, pathAndQuery, body, headers)
	require.NoError(t, err)
	return readReply(t, resp)
}

func send(ctx context.Context, pl runtime.Pipeline, srv *httptest.Server, method, pathAndQuery string, body any, headers map[string]string) (*http.Response, error) {
	req, err := runtime.NewRequest(ctx, method, srv.URL+pathAndQuery)
	if err != nil {
		return nil, err
	}
	switch b := body.(type) {
	case nil:
	case string:
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader([]byte(b))), "application/json"); err != nil {
			return nil, err
		}
	default:
		if err := runtime.MarshalAsJSON(req, b); err != nil {
			return nil, err
		}
	}
	for k, v := range headers {
		if v == "" {
			req.Raw().Header.Del(k)
		} else {
			req.Raw().Header.Set(k, v)
		}
	}
	return pl.Do(req)
}

func readReply(t *testing.T, resp *http.Response) reply {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(data)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(data, &r.Body), string(data))
	}
	return r
}

// rawCall sends a plain HTTPS request (no pipeline, no token unless headers add one).
func rawCall(t *testing.T, srv *httptest.Server, method, pathAndQuery, contentType, body string, headers map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+pathAndQuery, rd)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	return readReply(t, resp)
}

func tokenForm(overrides map[string]string) string {
	f := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"client_secret": {secret},
		"scope":         {audience + "/.default openid offline_access profile"},
		"claims":        {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`},
	}
	for k, v := range overrides {
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
	}
	return f.Encode()
}

// requireNoSecrets checks that the request log holds no token and no credential.
func requireNoSecrets(t *testing.T, s *Server) {
	t.Helper()
	needles := append([]string{secret, fedToken, miHeader}, s.IssuedTokens()...)
	for _, r := range s.Requests() {
		line := strings.Join([]string{r.Method, r.Path, r.Query, r.Host, r.Fault}, " ")
		for _, n := range needles {
			require.NotContains(t, line, n, "request log leaks a credential")
		}
	}
}

func incidentBody(props map[string]any) map[string]any {
	p := map[string]any{"title": "New engineering workstation", "severity": "High", "status": "New"}
	for k, v := range props {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return map[string]any{"properties": p}
}

package azurestandin

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/require"
)

var mgmtScope = policy.TokenRequestOptions{Scopes: []string{audience + "/.default"}}

func TestClientSecretCredential(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	ctx := context.Background()

	tok, err := secretCredential(t, srv, secret).GetToken(ctx, mgmtScope)
	require.NoError(t, err)
	require.Equal(t, []string{tok.Token}, s.IssuedTokens())
	require.WithinDuration(t, time.Now().Add(time.Hour), tok.ExpiresOn, time.Minute)

	// The token opens Resource Manager: an unknown incident is a 404, not a 401.
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	r := call(t, pl, srv, http.MethodGet, incPath("nope")+sentinelV, nil, nil)
	require.Equal(t, http.StatusNotFound, r.Status, r.Raw)

	for _, tc := range []struct {
		name                   string
		tenant, client, secret string
		wantCode, wantAADSTS   string
		wantNotInErr           string
	}{
		{"wrong secret", tenantID, clientID, "not-the-secret", "invalid_client", "AADSTS7000215", "not-the-secret"},
		{"unknown client", tenantID, "11111111-2222-3333-4444-555555555555", secret, "unauthorized_client", "AADSTS700016", secret},
		{"unknown tenant", "99999999-2222-3333-4444-555555555555", clientID, secret, "invalid_tenant", "AADSTS90002", secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cred, err := azidentity.NewClientSecretCredential(tc.tenant, tc.client, tc.secret, &azidentity.ClientSecretCredentialOptions{
				ClientOptions: clientOptions(srv), DisableInstanceDiscovery: true,
			})
			require.NoError(t, err)
			_, err = cred.GetToken(ctx, mgmtScope)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantCode)
			require.Contains(t, err.Error(), tc.wantAADSTS)
			require.NotContains(t, err.Error(), tc.wantNotInErr, "an Entra error never echoes the secret")
		})
	}
	requireNoSecrets(t, s)
}

func TestWorkloadIdentityCredential(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(good, []byte(fedToken), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte("some-other-assertion"), 0o600))
	cred := func(t *testing.T, srvURLOpts *azidentity.WorkloadIdentityCredentialOptions) *azidentity.WorkloadIdentityCredential {
		t.Helper()
		c, err := azidentity.NewWorkloadIdentityCredential(srvURLOpts)
		require.NoError(t, err)
		return c
	}
	opts := func(srvOpts Options, file string) (*Server, *azidentity.WorkloadIdentityCredentialOptions) {
		s, srv := newStub(t, srvOpts)
		return s, &azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: clientOptions(srv), TenantID: tenantID, ClientID: clientID, TokenFilePath: file, DisableInstanceDiscovery: true,
		}
	}
	ctx := context.Background()

	s, o := opts(baseOptions(), good)
	tok, err := cred(t, o).GetToken(ctx, mgmtScope)
	require.NoError(t, err)
	require.Equal(t, []string{tok.Token}, s.IssuedTokens())

	_, o = opts(baseOptions(), bad)
	_, err = cred(t, o).GetToken(ctx, mgmtScope)
	require.ErrorContains(t, err, "invalid_client")
	require.ErrorContains(t, err, "AADSTS700211")
	require.NotContains(t, err.Error(), "some-other-assertion")

	noFed := baseOptions()
	noFed.FederatedToken = ""
	_, o = opts(noFed, good)
	_, err = cred(t, o).GetToken(ctx, mgmtScope)
	require.ErrorContains(t, err, "invalid_client", "without a FederatedToken no assertion is accepted")
}

// TestManagedIdentityCredential sets the environment azidentity reads, so it cannot run in parallel.
// MSAL keeps managed-identity tokens in a process-wide cache keyed by the identity: each run asks for
// a user-assigned identity of its own, or a second run (-count) would get the first run's token
// without asking this server. The endpoint's rules are tested over plain HTTP below.
func TestManagedIdentityCredential(t *testing.T) {
	s, srv := newStub(t, baseOptions())
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", miHeader)
	identity := newGUID()
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ClientOptions: clientOptions(srv), ID: azidentity.ClientID(identity),
	})
	require.NoError(t, err)
	tok, err := cred.GetToken(context.Background(), mgmtScope)
	require.NoError(t, err)
	require.Equal(t, []string{tok.Token}, s.IssuedTokens())

	pl := newPipeline(srv, cred, noRetries)
	s.PutIncident(incPath("mi-1"), IncidentProperties{Title: "t", Severity: "Low", Status: "New"})
	r := call(t, pl, srv, http.MethodPut, incPath("mi-1")+"/comments/c1"+sentinelV, map[string]any{"properties": map[string]any{"message": "hi"}}, nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	author := r.props()["author"].(map[string]any)
	require.Equal(t, "Interlock (stand-in managed identity)", author["name"])
	require.Equal(t, stableGUID("mi:"+identity), author["objectId"], "the user-assigned identity asked for")

	first := s.Requests()[0]
	require.Equal(t, "/msi/token", first.Path)
	require.Contains(t, first.Query, "api-version=2019-08-01")
	require.Contains(t, first.Query, "client_id="+identity)
	requireNoSecrets(t, s)
}

func TestManagedIdentityEndpoint(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t, baseOptions())
	ok := map[string]string{"X-IDENTITY-HEADER": miHeader}
	for _, tc := range []struct {
		name    string
		query   string
		headers map[string]string
		want    int
	}{
		{"audience", "?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com", ok, http.StatusOK},
		{"audience with slash", "?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com%2F", ok, http.StatusOK},
		{"no header", "?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com", nil, http.StatusUnauthorized},
		{"wrong header", "?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com", map[string]string{"X-IDENTITY-HEADER": "nope"}, http.StatusUnauthorized},
		{"old api-version", "?api-version=2017-09-01&resource=https%3A%2F%2Fmanagement.azure.com", ok, http.StatusBadRequest},
		{"other resource", "?api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com", ok, http.StatusBadRequest},
		{"no resource", "?api-version=2019-08-01", ok, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rawCall(t, srv, http.MethodGet, "/msi/token"+tc.query, "", "", tc.headers)
			require.Equal(t, tc.want, r.Status, r.Raw)
			if tc.want != http.StatusOK {
				require.NotContains(t, r.Raw, miHeader)
				return
			}
			require.Equal(t, "Bearer", r.str("token_type"))
			require.NotEmpty(t, r.str("access_token"))
			exp, err := strconv.ParseInt(r.str("expires_on"), 10, 64)
			require.NoError(t, err, "expires_on is unix seconds as a string")
			require.WithinDuration(t, time.Now().Add(time.Hour), time.Unix(exp, 0), time.Minute)
			require.True(t, strings.HasPrefix(r.str("resource"), audience))
		})
	}

	off := baseOptions()
	off.ManagedIdentityHeader = ""
	_, srvOff := newStub(t, off)
	r := rawCall(t, srvOff, http.MethodGet, "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com", "", "", ok)
	require.Equal(t, http.StatusNotFound, r.Status, "no managed identity configured: no endpoint")
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t, baseOptions())
	r := rawCall(t, srv, http.MethodGet, "/"+tenantID+"/v2.0/.well-known/openid-configuration", "", "", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	require.Equal(t, srv.URL+"/"+tenantID+"/oauth2/v2.0/token", r.str("token_endpoint"))
	require.Equal(t, srv.URL+"/"+tenantID+"/oauth2/v2.0/authorize", r.str("authorization_endpoint"))
	require.Equal(t, srv.URL+"/"+tenantID+"/v2.0", r.str("issuer"))

	r = rawCall(t, srv, http.MethodGet, "/contoso.example/v2.0/.well-known/openid-configuration", "", "", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, "invalid_tenant", r.str("error"))
	require.True(t, strings.HasPrefix(r.str("error_description"), "AADSTS90002: Tenant 'contoso.example' not found."), r.str("error_description"))
}

func TestTokenEndpointRules(t *testing.T) {
	t.Parallel()
	s, srv := newStub(t, baseOptions())
	form := "application/x-www-form-urlencoded; charset=utf-8"
	tokenPath := "/" + tenantID + "/oauth2/v2.0/token"
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		wantStatus  int
		wantError   string
		wantCode    int
	}{
		{"secret", http.MethodPost, tokenPath, form, tokenForm(nil), http.StatusOK, "", 0},
		{"secret, tenant in upper case", http.MethodPost, "/" + strings.ToUpper(tenantID) + "/oauth2/v2.0/token", form, tokenForm(nil), http.StatusOK, "", 0},
		{"scope alone", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"scope": audience + "/.default"}), http.StatusOK, "", 0},
		{"assertion", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"client_secret": "", "client_assertion_type": jwtBearer, "client_assertion": fedToken}), http.StatusOK, "", 0},
		{"GET", http.MethodGet, tokenPath, "", "", http.StatusBadRequest, "invalid_request", 900561},
		{"JSON body", http.MethodPost, tokenPath, "application/json", `{"grant_type":"client_credentials"}`, http.StatusBadRequest, "invalid_request", 900144},
		{"no content type", http.MethodPost, tokenPath, "", tokenForm(nil), http.StatusBadRequest, "invalid_request", 900144},
		{"password grant", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"grant_type": "password"}), http.StatusBadRequest, "unsupported_grant_type", 70003},
		{"no grant", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"grant_type": ""}), http.StatusBadRequest, "invalid_request", 900144},
		{"unknown client", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"client_id": "11111111-2222-3333-4444-555555555555"}), http.StatusBadRequest, "unauthorized_client", 700016},
		{"wrong secret", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"client_secret": "wrong-" + secret}), http.StatusUnauthorized, "invalid_client", 7000215},
		{"no credential", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"client_secret": ""}), http.StatusUnauthorized, "invalid_client", 7000218},
		{"wrong assertion", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"client_secret": "", "client_assertion_type": jwtBearer, "client_assertion": "x" + fedToken}), http.StatusUnauthorized, "invalid_client", 700211},
		{"assertion type", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"client_secret": "", "client_assertion_type": "saml", "client_assertion": fedToken}), http.StatusBadRequest, "invalid_request", 50027},
		{"secret and assertion", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"client_assertion_type": jwtBearer, "client_assertion": fedToken}), http.StatusBadRequest, "invalid_request", 7000219},
		{"graph scope", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"scope": "https://graph.microsoft.com/.default"}), http.StatusBadRequest, "invalid_scope", 1002012},
		{"delegated scope", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"scope": audience + "/user_impersonation"}), http.StatusBadRequest, "invalid_scope", 1002012},
		{"two resources", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"scope": audience + "/.default https://vault.azure.net/.default"}), http.StatusBadRequest, "invalid_scope", 1002012},
		{"no scope", http.MethodPost, tokenPath, form, tokenForm(map[string]string{"scope": ""}), http.StatusBadRequest, "invalid_request", 900144},
		{"unknown tenant", http.MethodPost, "/common/oauth2/v2.0/token", form, tokenForm(nil), http.StatusBadRequest, "invalid_tenant", 90002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rawCall(t, srv, tc.method, tc.path, tc.contentType, tc.body, map[string]string{"client-request-id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"})
			require.Equal(t, tc.wantStatus, r.Status, r.Raw)
			require.NotContains(t, r.Raw, secret)
			require.NotContains(t, r.Raw, fedToken)
			if tc.wantStatus == http.StatusOK {
				require.Equal(t, "Bearer", r.str("token_type"))
				require.EqualValues(t, 3600, r.Body["expires_in"])
				require.EqualValues(t, 3600, r.Body["ext_expires_in"])
				require.Len(t, r.str("access_token"), 43)
				require.Equal(t, "no-store, no-cache", r.Header.Get("Cache-Control"))
				return
			}
			require.Equal(t, tc.wantError, r.str("error"))
			require.True(t, strings.HasPrefix(r.str("error_description"), "AADSTS"+strconv.Itoa(tc.wantCode)+": "), r.str("error_description"))
			require.Equal(t, []any{float64(tc.wantCode)}, r.Body["error_codes"])
			require.Equal(t, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", r.str("correlation_id"), "Entra echoes client-request-id")
			require.True(t, isGUID(r.str("trace_id")))
			require.NotEmpty(t, r.str("timestamp"))
		})
	}
	t.Cleanup(func() { requireNoSecrets(t, s) })
}

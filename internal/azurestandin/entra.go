package azurestandin

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// The Entra ID part: the OpenID discovery document and the v2.0 token endpoint of the one tenant, as
// MSAL Go uses them for the client-credentials grant, and the App Service style managed-identity
// endpoint (what azidentity calls when IDENTITY_ENDPOINT and IDENTITY_HEADER are set).

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// principal is who a token was issued to; comments and alert edits name it.
type principal struct {
	Kind     string `json:"kind"` // "app" or "managedIdentity"
	ClientID string `json:"clientId"`
	Name     string `json:"name"`
	ObjectID string `json:"objectId"`
}

func (s *Server) appPrincipal() principal {
	return principal{Kind: "app", ClientID: s.opts.ClientID, Name: "Interlock (stand-in app " + s.opts.ClientID + ")",
		ObjectID: stableGUID("sp:" + s.opts.ClientID)}
}

// managedIdentityPrincipal is the system-assigned identity, or the user-assigned one a request names
// by client_id (App Service accepts any identity assigned to the app; the stand-in, any GUID).
func (s *Server) managedIdentityPrincipal(clientID string) principal {
	if !isGUID(clientID) {
		clientID = stableGUID("mi-client:" + s.opts.TenantID)
	}
	return principal{Kind: "managedIdentity", ClientID: clientID, Name: "Interlock (stand-in managed identity)", ObjectID: stableGUID("mi:" + clientID)}
}

// tenantOf returns the tenant segment of /{tenant}/…
func tenantOf(path string) string {
	t, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return t
}

func (s *Server) knownTenant(t string) bool {
	return s.opts.TenantID != "" && strings.EqualFold(t, s.opts.TenantID)
}

func (s *Server) serveOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r.URL.Path)
	if r.URL.Path != "/"+tenant+"/v2.0/.well-known/openid-configuration" {
		writeARMError(w, http.StatusNotFound, "NotFound", "No such discovery document.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		s.writeEntraError(w, r, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts GET requests. Received a "+r.Method+" request.")
		return
	}
	if !s.knownTenant(tenant) {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", safetext.Line(tenant, 100)))
		return
	}
	base := baseURL(r) + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"cloud_instance_name":                   "azurestandin.local",
	})
}

// oidcScopes are the scopes MSAL adds to every token request ("openid offline_access profile"); Entra
// ignores them in the client-credentials grant.
var oidcScopes = map[string]bool{"openid": true, "offline_access": true, "profile": true}

// serveToken is the v2.0 token endpoint, client-credentials grant only. Each check answers with the
// error Entra gives for that problem, in Entra's order.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	f, ok := s.tokenForm(w, r)
	if !ok || !s.checkTokenClient(w, r, f) || !s.checkClientCredential(w, r, f) || !s.checkTokenScope(w, r, f.Get("scope")) {
		return
	}
	tok, _ := s.issue(s.appPrincipal())
	secs := int(s.opts.TokenTTL / time.Second)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
	})
}

// tokenForm checks the endpoint, method and tenant and reads the form body.
func (s *Server) tokenForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	tenant := tenantOf(r.URL.Path)
	if r.URL.Path != "/"+tenant+"/oauth2/v2.0/token" {
		writeARMError(w, http.StatusNotFound, "NotFound", "No such endpoint.")
		return nil, false
	}
	if r.Method != http.MethodPost {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a "+r.Method+" request.")
		return nil, false
	}
	if !s.knownTenant(tenant) {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", safetext.Line(tenant, 100)))
		return nil, false
	}
	// Entra reads only a form body; anything else looks like a request without parameters.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body could not be read as a form.")
		return nil, false
	}
	return r.PostForm, true
}

// checkTokenClient checks the grant type and the application.
func (s *Server) checkTokenClient(w http.ResponseWriter, r *http.Request, f url.Values) bool {
	grant, clientID := f.Get("grant_type"), f.Get("client_id")
	switch {
	case grant == "":
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return false
	case grant != "client_credentials":
		s.writeEntraError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'. The stand-in supports client_credentials only.", safetext.Line(grant, 60)))
		return false
	case clientID == "":
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return false
	case s.opts.ClientID == "" || !strings.EqualFold(clientID, s.opts.ClientID):
		s.writeEntraError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", safetext.Line(clientID, 100), s.opts.TenantID))
		return false
	}
	return true
}

// checkClientCredential checks the one credential presented: a client secret or a federated assertion.
func (s *Server) checkClientCredential(w http.ResponseWriter, r *http.Request, f url.Values) bool {
	secret, assertionType, assertion := f.Get("client_secret"), f.Get("client_assertion_type"), f.Get("client_assertion")
	switch {
	case secret != "" && (assertion != "" || assertionType != ""):
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 7000219, "Only one client credential may be presented: 'client_secret' or 'client_assertion'.")
		return false
	case secret != "":
		if !equalSecret(secret, s.opts.ClientSecret) {
			s.writeEntraError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", s.opts.ClientID))
			return false
		}
	case assertionType != "" || assertion != "":
		if assertionType != jwtBearer {
			s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 50027, "Invalid client_assertion_type: it must be '"+jwtBearer+"'.")
			return false
		}
		if !equalSecret(assertion, s.opts.FederatedToken) {
			s.writeEntraError(w, r, http.StatusUnauthorized, "invalid_client", 700211,
				"No matching federated identity record found for presented assertion issuer. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.")
			return false
		}
	default:
		s.writeEntraError(w, r, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return false
	}
	return true
}

// checkTokenScope checks that the scope asks for the audience's /.default.
func (s *Server) checkTokenScope(w http.ResponseWriter, r *http.Request, scope string) bool {
	if strings.TrimSpace(scope) == "" {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return false
	}
	if !s.validScope(scope) {
		s.writeEntraError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI). The stand-in issues tokens for %s/.default only.", safetext.Line(scope, 200), s.opts.Audience))
		return false
	}
	return true
}

// validScope accepts exactly one resource scope, the audience's /.default, besides the OIDC scopes
// MSAL always adds.
func (s *Server) validScope(scope string) bool {
	resource := 0
	for sc := range strings.FieldsSeq(scope) {
		switch {
		case oidcScopes[sc]:
		case sc == s.opts.Audience+"/.default" || sc == s.opts.Audience+"//.default":
			// "…//.default" is how Entra spells the scope of an audience that ends in a slash.
			resource++
		default:
			return false
		}
	}
	return resource == 1
}

// serveManagedIdentity is the App Service / Functions managed-identity endpoint (api-version 2019-08-01).
func (s *Server) serveManagedIdentity(w http.ResponseWriter, r *http.Request) {
	if s.opts.ManagedIdentityHeader == "" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeMIError(w, http.StatusMethodNotAllowed, "Only GET is supported.")
		return
	}
	if !equalSecret(r.Header.Get("X-IDENTITY-HEADER"), s.opts.ManagedIdentityHeader) {
		writeMIError(w, http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing or wrong.")
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != "2019-08-01" {
		writeMIError(w, http.StatusBadRequest, fmt.Sprintf("Unsupported api-version '%s': the stand-in serves 2019-08-01.", safetext.Line(v, 40)))
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		writeMIError(w, http.StatusBadRequest, "The resource query parameter is required.")
		return
	}
	if strings.TrimRight(resource, "/") != s.opts.Audience {
		writeMIError(w, http.StatusBadRequest, fmt.Sprintf("The stand-in issues tokens for resource %s only, not '%s'.", s.opts.Audience, safetext.Line(resource, 200)))
		return
	}
	p := s.managedIdentityPrincipal(q.Get("client_id"))
	tok, exp := s.issue(p)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(exp.Unix(), 10),
		"resource":     resource,
		"token_type":   "Bearer",
		"client_id":    p.ClientID,
	})
}

func writeMIError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": msg, "correlationId": newGUID()})
}

// issue makes an access token for the audience, remembering only its hash.
func (s *Server) issue(p principal) (string, time.Time) {
	tok := randomToken()
	now := s.opts.Now()
	exp := now.Add(s.opts.TokenTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.addToken(tokenRecord{Hash: hashToken(tok), Audience: s.opts.Audience, Expires: exp.UTC(), Principal: p}, now)
	s.issued = append(s.issued, tok)
	s.file.Save()
	return tok, exp
}

// writeEntraError answers in the shape of Entra's token endpoint errors. Descriptions never contain
// a credential from the request.
func (s *Server) writeEntraError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, desc string) {
	ts := s.opts.Now().UTC().Format("2006-01-02 15:04:05Z")
	trace := newGUID()
	corr := r.Header.Get("client-request-id") // MSAL sends one; Entra echoes it as the correlation ID
	if !isGUID(corr) {
		corr = newGUID()
	}
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, desc, trace, corr, ts),
		"error_codes":       []int{aadsts},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         baseURL(r) + "/error?code=" + url.QueryEscape(strconv.Itoa(aadsts)),
	})
}

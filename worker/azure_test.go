package worker_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/defender"
	"github.com/interlock-soar/interlock/internal/azurestandin"
	"github.com/interlock-soar/interlock/internal/config"
	"github.com/interlock-soar/interlock/internal/testenv"
	"github.com/interlock-soar/interlock/worker"
)

// Over the wire against the Azure stand-in: the credentials the worker makes from the configuration,
// the Sentinel writer and the alert status activity as worker.Build assembles them.

const (
	wsID     = "/subscriptions/" + testenv.FixtureSubscription + "/resourceGroups/" + testenv.FixtureResourceGroup + "/providers/Microsoft.OperationalInsights/workspaces/" + testenv.FixtureWorkspace
	alertDir = "/subscriptions/" + testenv.FixtureSubscription + "/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/"
)

func incidentID(name string) string {
	return wsID + "/providers/Microsoft.SecurityInsights/Incidents/" + name
}

// build makes the worker's activities for a config pointed at az.
func build(t *testing.T, az *testenv.Azure, mod func(*config.Config)) (*activities.Incidents, *activities.AlertStatus) {
	t.Helper()
	cfg := config.Default()
	cfg.Intake.AnswerSecret = config.NewSecret(strings.Repeat("s", 32))
	az.Configure(&cfg)
	cfg.Azure.RetryDelay, cfg.Azure.MaxRetryDelay = 100*time.Millisecond, 2*time.Second
	if mod != nil {
		mod(&cfg)
	}
	app, err := worker.Build(cfg, discard())
	require.NoError(t, err)
	in, st := app.Activities.Incidents, app.Activities.AlertStatus
	require.NotNil(t, in)
	require.NotNil(t, st)
	require.Equal(t, "sentinel", in.Writer.Name())
	return in, st
}

func seed(az *testenv.Azure, name string) string {
	id := incidentID(name)
	az.Stub.PutIncident(id, azurestandin.IncidentProperties{Title: "(MDIoT) Unauthorized PLC Programming", Description: "keep me",
		Severity: "Medium", Status: "New", Labels: []azurestandin.Label{{LabelName: "ot", LabelType: "User"}}})
	return id
}

func TestCredentialsSignIn(t *testing.T) {
	az := testenv.NewAzure(t, azurestandin.Options{FederatedToken: "federated-assertion", ManagedIdentityHeader: "mi-header"})
	scope := policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}
	base := func() config.Azure {
		cfg := config.Default()
		az.Configure(&cfg)
		return cfg.Azure
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("federated-assertion"), 0o600))

	for _, tt := range []struct {
		name string
		mod  func(*config.Azure)
	}{
		{"client secret", func(*config.Azure) {}},
		{"auto with a secret", func(a *config.Azure) { a.Credential = config.CredentialAuto }},
		{"workload identity", func(a *config.Azure) {
			a.Credential, a.ClientSecret, a.FederatedTokenFile = config.CredentialWorkloadIdentity, config.Secret{}, tokenFile
		}},
		{"auto with a federated token file", func(a *config.Azure) {
			a.Credential, a.ClientSecret, a.FederatedTokenFile = config.CredentialAuto, config.Secret{}, tokenFile
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := base()
			tt.mod(&a)
			cred, _, err := worker.AzureCredential(a)
			require.NoError(t, err)
			tok, err := cred.GetToken(context.Background(), scope)
			require.NoError(t, err)
			require.Contains(t, az.Stub.IssuedTokens(), tok.Token)
		})
	}

	t.Run("managed identity", func(t *testing.T) {
		// azidentity finds the App Service style endpoint through these two variables.
		t.Setenv("IDENTITY_ENDPOINT", az.URL+"/msi/token")
		t.Setenv("IDENTITY_HEADER", "mi-header")
		a := base()
		a.Credential, a.ClientSecret = config.CredentialManagedIdentity, config.Secret{}
		cred, _, err := worker.AzureCredential(a)
		require.NoError(t, err)
		tok, err := cred.GetToken(context.Background(), scope)
		require.NoError(t, err)
		require.Contains(t, az.Stub.IssuedTokens(), tok.Token)
	})

	t.Run("wrong secret fails for good, without the secret in the error", func(t *testing.T) {
		in, _ := build(t, az, func(c *config.Config) { c.Azure.ClientSecret = config.NewSecret("wrong-secret-value-0123456789") })
		id := seed(az, "cred-wrong")
		_, err := in.AddIncidentComment(context.Background(), activities.CommentRequest{IncidentID: "cred-wrong", IncidentARMID: id, Message: "<p>x</p>", Purpose: "t"})
		var ae *temporal.ApplicationError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, activities.FailureAzureSignIn, ae.Type())
		require.True(t, ae.NonRetryable())
		require.Contains(t, err.Error(), "invalid_client")
		require.NotContains(t, err.Error(), "wrong-secret-value")
		require.NotContains(t, err.Error(), az.ClientSecret)
	})
}

func TestSentinelWriterOverTheWire(t *testing.T) {
	t.Parallel()
	az := testenv.NewAzure(t, azurestandin.Options{})
	in, _ := build(t, az, nil)
	ctx := context.Background()
	id := seed(az, "wire-1")

	// A comment put twice under its ID is one comment.
	req := activities.CommentRequest{IncidentID: "wire-1", IncidentARMID: id, Message: "<p><b>Interlock</b>: done</p>", Purpose: "tickets"}
	req.CommentID = activities.CommentID("wf/run", req)
	for range 2 {
		res, err := in.AddIncidentComment(ctx, req)
		require.NoError(t, err)
		require.Equal(t, req.CommentID, res.CommentID)
		require.Equal(t, "sentinel", res.Via)
	}
	inc, _ := az.Stub.Incident(id)
	require.Len(t, inc.Comments, 1)
	require.Equal(t, 2, inc.Comments[0].Writes)
	require.Equal(t, req.CommentID, inc.Comments[0].Name)

	// Someone edits the incident between the read and the write: 412, read again, write once.
	az.Stub.InjectFaults(azurestandin.Faults{ConcurrentEdit: 1})
	up := activities.UpdateRequest{IncidentID: "wire-1", IncidentARMID: id, Severity: "High", Status: "Active", AddTags: []string{"OT", "PLC change not planned"}}
	res, err := in.UpdateIncident(ctx, up)
	require.NoError(t, err)
	require.Equal(t, []string{"severity Medium → High", "status New → Active", "tag +PLC change not planned"}, res.Changes)
	inc, _ = az.Stub.Incident(id)
	require.Equal(t, "High", inc.Properties.Severity)
	require.Equal(t, "Active", inc.Properties.Status)
	require.Equal(t, "keep me", inc.Properties.Description, "what the update did not touch is kept")
	require.Equal(t, []azurestandin.Label{{LabelName: "ot", LabelType: "User"}, {LabelName: "PLC change not planned", LabelType: "User"}}, inc.Properties.Labels)
	var conflicts int
	for _, r := range az.Stub.Requests() {
		if r.Status == http.StatusPreconditionFailed {
			conflicts++
		}
	}
	require.Equal(t, 1, conflicts)

	// The same update again changes nothing and writes nothing.
	before := len(az.Stub.Requests())
	res, err = in.UpdateIncident(ctx, up)
	require.NoError(t, err)
	require.Empty(t, res.Changes)
	for _, r := range az.Stub.Requests()[before:] {
		require.Equal(t, http.MethodGet, r.Method, "a no-op update only reads")
	}

	// Closing without a classification closes as Undetermined, which Sentinel requires.
	_, err = in.UpdateIncident(ctx, activities.UpdateRequest{IncidentID: "wire-1", IncidentARMID: id, Status: "Closed"})
	require.NoError(t, err)
	inc, _ = az.Stub.Incident(id)
	require.Equal(t, "Closed", inc.Properties.Status)
	require.Equal(t, "Undetermined", inc.Properties.Classification)
}

func TestSentinelWriterRefusals(t *testing.T) {
	t.Parallel()
	az := testenv.NewAzure(t, azurestandin.Options{})
	in, _ := build(t, az, nil)
	ctx := context.Background()
	for _, tt := range []struct {
		name, armID, errType, msg string
	}{
		{"no armId", "", activities.FailureNotSentinelIncident, "has no armId"},
		{"other workspace", strings.Replace(incidentID("x"), testenv.FixtureWorkspace, "other-ws", 1), activities.FailureNotSentinelIncident, "another Sentinel workspace"},
		{"not an incident", wsID + "/providers/Microsoft.SecurityInsights/alertRules/x", activities.FailureNotSentinelIncident, "not a Microsoft Sentinel incident ID"},
		{"unknown incident", incidentID("does-not-exist"), activities.FailureAzureNotFound, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(az.Stub.Requests())
			_, err := in.AddIncidentComment(ctx, activities.CommentRequest{IncidentID: "x", IncidentARMID: tt.armID, Message: "m", Purpose: "p"})
			var ae *temporal.ApplicationError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tt.errType, ae.Type())
			require.True(t, ae.NonRetryable())
			require.Contains(t, err.Error(), tt.msg)
			if tt.errType == activities.FailureNotSentinelIncident {
				require.Len(t, az.Stub.Requests(), before, "a refused incident ID is never requested")
			}
		})
	}

	// Throttled past the in-request retry budget: retryable, with the server's Retry-After as the delay.
	id := seed(az, "throttled")
	az.Stub.InjectFaults(azurestandin.Faults{TooManyRequests: 1, RetryAfter: 40 * time.Second})
	_, err := in.AddIncidentComment(ctx, activities.CommentRequest{IncidentID: "throttled", IncidentARMID: id, Message: "m", Purpose: "p"})
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, activities.FailureAzureThrottled, ae.Type())
	require.False(t, ae.NonRetryable())
	require.Equal(t, 40*time.Second, ae.NextRetryDelay())
}

func TestAlertStatusOverTheWire(t *testing.T) {
	t.Parallel()
	az := testenv.NewAzure(t, azurestandin.Options{})
	_, st := build(t, az, nil)
	ctx := context.Background()
	id := seed(az, "alerts-1")
	path := alertDir + "alert-1"
	az.Stub.PutAlert(path, azurestandin.AlertProperties{Status: "New", Severity: "High"})
	uri := "https://management.azure.com" + path + "?api-version=2021-07-01-preview"
	req := activities.AlertSyncRequest{IncidentID: "alerts-1", IncidentARMID: id, Status: "Active",
		Alert: activities.AlertSyncTarget{AlertID: "alert-1", Via: activities.AlertViaAzure, ManagementURI: uri}}

	// The incident is Closed in Sentinel by now, although the event said Active: Closed wins.
	az.Stub.EditIncident(id, func(p *azurestandin.IncidentProperties) { p.Status, p.Classification = "Closed", "TruePositive" })
	res, err := st.SyncAlertStatus(ctx, req)
	require.NoError(t, err)
	require.Equal(t, activities.AlertUpdated, res.Action)
	require.Equal(t, "New", res.From)
	require.Equal(t, defender.StatusClosed, res.To)
	a, _ := az.Stub.Alert(path)
	require.Equal(t, "Closed", a.Properties.Status)

	res, err = st.SyncAlertStatus(ctx, req)
	require.NoError(t, err)
	require.Equal(t, activities.AlertUnchanged, res.Action, "a second run changes nothing")

	// An unknown alert is not retried; a hostile URI is refused before any request.
	req.Alert.ManagementURI = "https://management.azure.com" + alertDir + "nope"
	_, err = st.SyncAlertStatus(ctx, req)
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, activities.FailureAzureNotFound, ae.Type())
	before := len(az.Stub.Requests())
	req.Alert.ManagementURI = az.URL + path
	_, err = st.SyncAlertStatus(ctx, req)
	require.True(t, errors.As(err, &ae))
	require.Equal(t, activities.FailureAlertRefused, ae.Type())
	require.Len(t, az.Stub.Requests(), before)
}

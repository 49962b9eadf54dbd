package defender

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const okURI = "https://management.azure.com/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47?api-version=2021-07-01-preview"

var allowed = []string{"management.azure.com"}

func TestParseManagementURI(t *testing.T) {
	t.Parallel()
	ref, err := ParseManagementURI(okURI, allowed, nil)
	require.NoError(t, err)
	require.Equal(t, AlertRef{SubscriptionID: "7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11", Location: "westeurope", DeviceGroup: "default",
		AlertID: "5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47"}, ref)
	require.Equal(t, "/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47", ref.Path())

	// Case of the fixed segments and of the host does not matter in ARM; the api-version is ours anyway.
	_, err = ParseManagementURI(strings.Replace(strings.Replace(okURI, "Microsoft.IoTSecurity", "microsoft.iotsecurity", 1), "management.azure.com", "Management.Azure.COM", 1), allowed, nil)
	require.NoError(t, err)
	_, err = ParseManagementURI(strings.Replace(okURI, ".com/", ".com:443/", 1), allowed, nil)
	require.NoError(t, err)

	sub := "/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/a1"
	for _, tt := range []struct {
		name, uri, reason string
		subs              []string
	}{
		{"empty", "", "no AlertManagementUri", nil},
		{"other host", "https://evil.example.com" + sub, "not on playbooks.alertStatusSync.allowedHosts", nil},
		{"suffix trick", "https://management.azure.com.evil.example" + sub, "not on playbooks.alertStatusSync.allowedHosts", nil},
		{"loopback IP", "https://127.0.0.1" + sub, "IP address or loopback", nil},
		{"loopback IPv6", "https://[::1]" + sub, "IP address or loopback", nil},
		{"localhost", "https://localhost" + sub, "IP address or loopback", nil},
		{"metadata IP", "https://169.254.169.254" + sub, "IP address or loopback", nil},
		{"http", "http://management.azure.com" + sub, "not https", nil},
		{"userinfo", "https://management.azure.com@127.0.0.1" + sub, "user information", nil},
		{"port", "https://management.azure.com:8443" + sub, "port 8443", nil},
		{"other resource", "https://management.azure.com/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "path is not", nil},
		{"extra segment", "https://management.azure.com" + sub + "/x", "path is not", nil},
		{"dot dot", "https://management.azure.com/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/../alerts/a1", "characters they cannot have", nil},
		{"escaped slash", "https://management.azure.com/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/Microsoft.IoTSecurity/locations/westeurope/deviceGroups/default/alerts/a%2F..%2Fx", "percent-escapes", nil},
		{"not a guid", strings.Replace("https://management.azure.com"+sub, "7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11", "me", 1), "not a GUID", nil},
		{"fragment", okURI + "#x", "fragment", nil},
		{"other subscription", okURI, "not on playbooks.alertStatusSync.subscriptions", []string{"00000000-0000-0000-0000-000000000001"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManagementURI(tt.uri, allowed, tt.subs)
			var re *RefusedError
			require.True(t, errors.As(err, &re), "%v", err)
			require.Contains(t, re.Reason, tt.reason)
		})
	}
}

func TestStatusForIncident(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"New": StatusNew, "active": StatusInProgress, " Closed ": StatusClosed} {
		got, ok := StatusForIncident(in)
		require.True(t, ok)
		require.Equal(t, want, got)
	}
	_, ok := StatusForIncident("Resolved")
	require.False(t, ok)
}

func TestIsSensorAlertUUID(t *testing.T) {
	t.Parallel()
	require.True(t, IsSensorAlertUUID("1-1594550943000"))
	require.True(t, IsSensorAlertUUID("5-1557059334000"))
	for _, s := range []string{"", "1594550943000", "1-15", "a-1594550943000", "1-1594550943000/../x", "5c3e8a1d-2b7f-4e90-8d1a-3f6b2c9e0a47"} {
		require.False(t, IsSensorAlertUUID(s), s)
	}
}

// FuzzParseManagementURI: whatever the payload holds, an accepted URI names an allowed host and yields
// a path of exactly the alert shape with no character that could leave its segment.
func FuzzParseManagementURI(f *testing.F) {
	f.Add(okURI)
	f.Add("https://127.0.0.1/subscriptions/x")
	f.Add("https://management.azure.com/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/providers/Microsoft.IoTSecurity/locations/l/deviceGroups/g/alerts/%2e%2e")
	f.Fuzz(func(t *testing.T, uri string) {
		ref, err := ParseManagementURI(uri, allowed, nil)
		if err != nil {
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("error is not a refusal: %v", err)
			}
			return
		}
		p := ref.Path()
		if strings.Count(p, "/") != 10 || strings.ContainsAny(p, "?#%\\ ") || slices.Contains(strings.Split(p, "/"), "..") {
			t.Fatalf("accepted %q as path %q", uri, p)
		}
	})
}

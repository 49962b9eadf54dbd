package sentinel

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const fixtureID = "/subscriptions/7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11/resourceGroups/rg-soc-prod/providers/Microsoft.OperationalInsights/workspaces/law-soc-prod/providers/Microsoft.SecurityInsights/Incidents/9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

func TestParseIncidentID(t *testing.T) {
	t.Parallel()
	ref, err := ParseIncidentID(fixtureID)
	require.NoError(t, err)
	require.Equal(t, IncidentRef{Workspace: Workspace{"7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11", "rg-soc-prod", "law-soc-prod"},
		IncidentID: "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}, ref)
	require.Equal(t, strings.Replace(fixtureID, "/Incidents/", "/incidents/", 1), ref.Path(), "the path uses the API's own casing")
	require.True(t, ref.Same(Workspace{"7D1E4B7A-3C5F-4A8E-9B21-5F0C2D9E8A11", "RG-SOC-PROD", "law-soc-prod"}))

	for _, bad := range []string{
		"",
		"9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		strings.Replace(fixtureID, "Microsoft.SecurityInsights", "Microsoft.Compute", 1),
		strings.Replace(fixtureID, "/Incidents/", "/alertRules/", 1),
		fixtureID + "/comments/x",
		strings.Replace(fixtureID, "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "..", 1),
		strings.Replace(fixtureID, "9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "a?api-version=x", 1),
		strings.Replace(fixtureID, "7d1e4b7a-3c5f-4a8e-9b21-5f0c2d9e8a11", "not-a-guid", 1),
		"https://management.azure.com" + fixtureID,
	} {
		_, err := ParseIncidentID(bad)
		require.Error(t, err, bad)
	}
}

func TestIncidentLabelsAndProperties(t *testing.T) {
	t.Parallel()
	inc := Incident{Properties: map[string]json.RawMessage{
		"title": json.RawMessage(`"T"`), "labels": json.RawMessage(`[{"labelName":"ot","labelType":"User"}]`), "severity": json.RawMessage(`null`),
	}}
	require.Equal(t, "T", inc.Str("title"))
	require.Empty(t, inc.Str("severity"))
	require.Equal(t, []string{"new-asset"}, inc.AddLabels("OT", "new-asset", " ", "new-asset"))
	require.Equal(t, []Label{{"ot", "User"}, {"new-asset", "User"}}, inc.Labels())
	require.Empty(t, inc.AddLabels("ot"))
}

// FuzzParseIncidentID: an accepted ID always yields a path of exactly the incident shape, with nothing
// that could leave a path segment.
func FuzzParseIncidentID(f *testing.F) {
	f.Add(fixtureID)
	f.Add(strings.Replace(fixtureID, "law-soc-prod", "../x", 1))
	f.Fuzz(func(t *testing.T, id string) {
		ref, err := ParseIncidentID(id)
		if err != nil {
			return
		}
		p := ref.Path()
		if strings.Count(p, "/") != 12 || strings.ContainsAny(p, "?#%\\ ") || slices.Contains(strings.Split(p, "/"), "..") {
			t.Fatalf("accepted %q as path %q", id, p)
		}
	})
}

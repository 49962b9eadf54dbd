package azurestandin

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPage(t *testing.T) {
	t.Parallel()
	opts := baseOptions()
	opts.PageUser, opts.PagePassword = "dev", "page-pass"
	s, srv := newStub(t, opts)
	id := incPath("pg")
	s.PutIncident(id, IncidentProperties{Title: `EWS <script>alert("t")</script>`, Severity: "High", Status: "Active",
		Owner: Owner{UserPrincipalName: "eng@example.com"}, Labels: []Label{{LabelName: "ot-ews"}},
		Classification: "TruePositive", ClassificationReason: "SuspiciousActivity", ClassificationComment: "confirmed"})
	pl := newPipeline(srv, secretCredential(t, srv, secret), noRetries)
	r := call(t, pl, srv, http.MethodPut, id+"/comments/c1"+sentinelV,
		commentBody(`<p><b>Ticket</b> <a href="https://snow.example/INC0010001">INC0010001</a></p><img src=x onerror=alert(1)>`), nil)
	require.Equal(t, http.StatusCreated, r.Status, r.Raw)
	s.PutAlert(alertPath("a1"), AlertProperties{DisplayName: "Unauthorized PLC programming", Severity: "High"})
	s.InjectFaults(Faults{Unavailable: 1})
	require.Equal(t, http.StatusServiceUnavailable, call(t, pl, srv, http.MethodGet, id+sentinelV, nil, nil).Status)

	r = rawCall(t, srv, http.MethodGet, "/", "", "", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Contains(t, r.Header.Get("WWW-Authenticate"), "Basic")

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	require.NoError(t, err)
	req.SetBasicAuth("dev", "page-pass")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	page := readReply(t, resp)
	require.Equal(t, http.StatusOK, page.Status)
	require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'", page.Header.Get("Content-Security-Policy"))
	body := page.Raw
	for _, want := range []string{
		"<title>Microsoft Sentinel / Defender for IoT stand-in (not Azure)</title>",
		`<meta http-equiv="refresh" content="1">`,
		`<meta name="viewport"`,
		"#1000 · EWS &lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;",
		"eng@example.com", "ot-ews", "TruePositive · SuspiciousActivity · confirmed",
		`<p><b>Ticket</b> <a href="https://snow.example/INC0010001" rel="noopener noreferrer nofollow">INC0010001</a></p>&lt;img src=x onerror=alert(1)&gt;`,
		"Unauthorized PLC programming",
		"<td>503</td><td>Unavailable</td>",
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "<script>")
	require.NotContains(t, body, "<img")
}

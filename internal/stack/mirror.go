package stack

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/interlock-soar/interlock/internal/azurestub"
	"github.com/interlock-soar/interlock/internal/incident"
)

// MirrorIncidents puts the incident of every posted payload into the stand-in before the intake runs
// the rules, as Sentinel holds an incident before it calls the webhook: new incidents are created, an
// update sets the status, severity and owner the payload shows (what an analyst did in the portal), and
// each Defender for IoT alert with an acceptable AlertManagementUri exists. The dev stack and
// the end-to-end tests use it; nothing else should.
func MirrorIncidents(next http.Handler, stub *azurestub.Server, allowedHosts []string, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (r.URL.Path == "/v1/incidents" || strings.HasPrefix(r.URL.Path, "/v1/playbooks/")) {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			if err == nil && int64(len(body)) <= maxBody {
				if ev, err := incident.Parse(body); err == nil {
					stub.Mirror(ev, allowedHosts)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

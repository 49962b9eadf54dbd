package azurestandin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// --- Defender for IoT alerts -------------------------------------------------------------------

var (
	alertStatuses   = []string{"New", "InProgress", "Closed"}
	alertSeverities = []string{"Informational", "Low", "Medium", "High"}
)

func alertJSON(a *storedAlert) resourceJSON {
	p := a.Properties
	props := map[string]any{
		"systemAlertId":      p.SystemAlertID,
		"status":             p.Status,
		"severity":           p.Severity,
		"alertType":          p.AlertType,
		"startTimeUtc":       fmtTime(p.StartTimeUtc),
		"endTimeUtc":         fmtTime(p.EndTimeUtc),
		"entities":           []any{},
		"extendedProperties": map[string]any{},
	}
	if p.DisplayName != "" {
		props["displayName"] = p.DisplayName
	}
	return resourceJSON{
		ID: a.ID, Name: a.Name, Type: alertType, Properties: props,
		SystemData: map[string]string{
			"createdBy": "Microsoft Defender for IoT", "createdByType": "Application", "createdAt": fmtTime(a.Created),
			"lastModifiedBy": a.ModifiedBy, "lastModifiedByType": a.ModifiedByType, "lastModifiedAt": fmtTime(p.LastModified),
		},
	}
}

func (s *Server) listAlerts(w http.ResponseWriter, rt armRoute) {
	listUnder(s, w, rt, func() []*storedAlert { return s.st.Alerts }, func(a *storedAlert) string { return a.ID }, alertJSON)
}

func (s *Server) getAlert(w http.ResponseWriter, rt armRoute) {
	out, ok := getOne(s, func() *storedAlert { return s.st.alert(rt.id) }, alertJSON)
	if !ok {
		writeNotFound(w, "alert", rt.name)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// patchAlert is IotAlerts_Patch: status and severity are the only writable properties.
func (s *Server) patchAlert(w http.ResponseWriter, rt armRoute, body map[string]json.RawMessage, who principal) {
	top, f := propertiesOf(body)
	for _, k := range slices.Sorted(maps.Keys(f.obj)) {
		if k != "status" && k != "severity" {
			top.fail(fmt.Sprintf("The property 'properties.%s' cannot be changed: only status and severity can.", safetext.Line(k, 60)))
		}
	}
	status := f.enum("status", alertStatuses, false)
	severity := f.enum("severity", alertSeverities, false)
	if problem := cmp.Or(top.err, f.err); problem != "" {
		badRequest(w, problem)
		return
	}
	if status == "" && severity == "" {
		badRequest(w, "The request must change 'properties.status' or 'properties.severity'.")
		return
	}
	now := s.opts.Now().UTC()
	a, ok := lockFound(s, w, func() *storedAlert { return s.st.alert(rt.id) }, "alert", rt.name)
	if !ok {
		return
	}
	if status != "" {
		a.Properties.Status = status
	}
	if severity != "" {
		a.Properties.Severity = severity
	}
	a.Properties.LastModified = now
	a.ModifiedBy, a.ModifiedByType = who.Name, "Application"
	out := alertJSON(a)
	s.file.Save()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

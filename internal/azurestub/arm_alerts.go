package azurestub

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
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
	prefix := strings.ToLower(rt.id) + "/"
	s.mu.Lock()
	value := []resourceJSON{}
	for _, a := range s.st.Alerts {
		if strings.HasPrefix(strings.ToLower(a.ID), prefix) {
			value = append(value, alertJSON(a))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) getAlert(w http.ResponseWriter, rt armRoute) {
	s.mu.Lock()
	a := s.st.alert(rt.id)
	var out resourceJSON
	if a != nil {
		out = alertJSON(a)
	}
	s.mu.Unlock()
	if a == nil {
		writeNotFound(w, "alert", rt.name)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// patchAlert is IotAlerts_Patch: status and severity are the only writable properties.
func (s *Server) patchAlert(w http.ResponseWriter, rt armRoute, body map[string]json.RawMessage, who principal) {
	top := &fieldReader{obj: body}
	props, ok := top.object("properties")
	if !ok && top.err == "" {
		top.fail("The property 'properties' is required.")
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if k != "status" && k != "severity" {
			top.fail(fmt.Sprintf("The property 'properties.%s' cannot be changed: only status and severity can.", clip(k, 60)))
		}
	}
	f := &fieldReader{obj: props, prefix: "properties."}
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
	s.mu.Lock()
	a := s.st.alert(rt.id)
	if a == nil {
		s.mu.Unlock()
		writeNotFound(w, "alert", rt.name)
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
	s.save()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

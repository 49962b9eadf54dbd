package otincident

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/interlock-soar/interlock/internal/incident"
)

// IDPrefix starts the ID of every incident Interlock keeps; WorkflowIDPrefix its workflow's ID.
const (
	IDPrefix         = "ot-"
	WorkflowIDPrefix = "InterlockIncident/"
)

// safeID is what an alert ID may look like to be used as is in an incident ID; others are hashed.
var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)

// providerTag names an alert's provider in incident IDs, so the same alert number from two providers
// (a cloud alert and an on-premises sensor alert) never shares an incident.
func providerTag(a incident.Alert) string {
	switch a.DefenderProvider() {
	case incident.ProviderIoTSecurity:
		return "iot"
	case incident.ProviderOTSensor:
		return "sensor"
	case incident.ProviderASIScheduled:
		return "asi"
	}
	return "alert"
}

// AlertKey identifies an alert across its records: provider and Defender for IoT alert ID.
func AlertKey(a incident.Alert) string {
	return providerTag(a) + "/" + strings.TrimSpace(cmpOr(a.VendorOriginalID, a.ID))
}

// IncidentID is the ID of the incident an alert belongs to, from the creation rules' group key when
// they grouped it, else from (provider, alert ID). It is deterministic: every record of the alert
// gives the same one.
func IncidentID(a incident.Alert, groupKey string) string {
	if groupKey != "" {
		return IDPrefix + "g-" + segment(strings.ReplaceAll(groupKey, "/", "-"))
	}
	return IDPrefix + providerTag(a) + "-" + segment(strings.TrimSpace(cmpOr(a.VendorOriginalID, a.ID)))
}

func segment(s string) string {
	if safeID.MatchString(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "h" + hex.EncodeToString(sum[:12])
}

// WorkflowID is the workflow ID of the incident with this ID.
func WorkflowID(incidentID string) string { return WorkflowIDPrefix + incidentID }

// IsIncidentID says whether id names an incident Interlock keeps (as opposed to a Sentinel incident).
func IsIncidentID(id string) bool {
	rest, ok := strings.CutPrefix(id, IDPrefix)
	return ok && rest != "" && len(id) <= 200 && !strings.ContainsAny(id, "/ \t\r\n")
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

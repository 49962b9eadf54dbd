// Package incident is Interlock's domain model: a security incident as Microsoft Sentinel hands it to a
// playbook, with the Defender for IoT alerts and IoT device entities that carry the OT context.
//
// The types here are Interlock's own incident form: what playbooks take as input and what rules see. The
// parsers turn a Sentinel incident-trigger body or a raw Defender for IoT alert record into it.
package incident

import (
	"strings"
	"time"
)

// Severity values as Sentinel spells them.
const (
	SeverityInformational = "Informational"
	SeverityLow           = "Low"
	SeverityMedium        = "Medium"
	SeverityHigh          = "High"
)

// Status values of a Sentinel incident.
const (
	StatusNew    = "New"
	StatusActive = "Active"
	StatusClosed = "Closed"
)

// EventType says why an incident trigger fired.
type EventType string

const (
	EventCreate EventType = "Create"
	EventUpdate EventType = "Update"
)

// Event is one delivery of the incident trigger: an incident plus why it was sent.
type Event struct {
	// ID is the trigger's eventUniqueId; empty when the sender gave none.
	ID   string    `json:"id,omitempty"`
	Type EventType `json:"type"`
	// Incident is the incident as it is after the change that fired the event.
	Incident Incident `json:"incident"`
	// Previous is the incident before an update, when the sender supplied it (Interlock's extension to
	// the trigger body: a top-level "previous" object shaped like object.properties). Rules' changed()
	// helper compares against it.
	Previous *Incident `json:"previous,omitempty"`
}

// Incident is Interlock's incident form.
type Incident struct {
	// ID is the stable identity of the incident: the Sentinel incident name (a GUID), else the provider's
	// incident ID, else "number-<n>". Workflow IDs are derived from it.
	ID string `json:"id"`
	// ARMID is the full Azure resource ID (object.id), the key for write-back to Sentinel.
	ARMID       string   `json:"armId,omitempty"`
	Number      int64    `json:"number,omitempty"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Severity    string   `json:"severity,omitempty"`
	Status      string   `json:"status,omitempty"`
	Owner       Owner    `json:"owner,omitzero"`
	Labels      []string `json:"labels,omitempty"`
	URL         string   `json:"url,omitempty"`
	Provider    string   `json:"provider,omitempty"`

	Created       time.Time `json:"created,omitzero"`
	LastModified  time.Time `json:"lastModified,omitzero"`
	FirstActivity time.Time `json:"firstActivity,omitzero"`
	LastActivity  time.Time `json:"lastActivity,omitzero"`

	Tactics         []string `json:"tactics,omitempty"`
	Techniques      []string `json:"techniques,omitempty"`
	AnalyticRuleIDs []string `json:"analyticRuleIds,omitempty"`

	Alerts  []Alert  `json:"alerts,omitempty"`
	Devices []Device `json:"devices,omitempty"`
	// IPs are the addresses of the incident's Ip entities, in payload order.
	IPs []string `json:"ips,omitempty"`

	Workspace Workspace `json:"workspace,omitzero"`

	// Impact is the business impact computed from the asset directory; nil until mapped.
	Impact *Impact `json:"impact,omitempty"`
}

// Owner is the analyst an incident is assigned to.
type Owner struct {
	ObjectID          string `json:"objectId,omitempty"`
	Email             string `json:"email,omitempty"`
	AssignedTo        string `json:"assignedTo,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
}

// Workspace names the Log Analytics workspace the incident lives in.
type Workspace struct {
	SubscriptionID string `json:"subscriptionId,omitempty"`
	ResourceGroup  string `json:"resourceGroup,omitempty"`
	Name           string `json:"name,omitempty"`
	ID             string `json:"id,omitempty"`
}

// Alert is one alert of an incident, with the Defender for IoT extended properties lifted into fields.
type Alert struct {
	// ID is the Sentinel systemAlertId.
	ID string `json:"id,omitempty"`
	// Title is the display name as sent, possibly with the "(MDIoT) " prefix; see BareTitle.
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Severity    string `json:"severity,omitempty"`
	Status      string `json:"status,omitempty"`

	// VendorOriginalID is the Defender for IoT alert ID.
	VendorOriginalID string `json:"vendorOriginalId,omitempty"`
	ProviderName     string `json:"providerName,omitempty"`
	ProductName      string `json:"productName,omitempty"`
	// Engine is the ProductComponentName (POLICY_VIOLATION, ANOMALY, ...).
	Engine    string `json:"engine,omitempty"`
	AlertType string `json:"alertType,omitempty"`

	StartTime     time.Time `json:"startTime,omitzero"`
	EndTime       time.Time `json:"endTime,omitzero"`
	TimeGenerated time.Time `json:"timeGenerated,omitzero"`

	Tactics          []string `json:"tactics,omitempty"`
	Techniques       []string `json:"techniques,omitempty"`
	RemediationSteps []string `json:"remediationSteps,omitempty"`

	SensorID            string `json:"sensorId,omitempty"`
	SourceAddress       string `json:"sourceAddress,omitempty"`
	DestinationAddress  string `json:"destinationAddress,omitempty"`
	DestinationDevice   string `json:"destinationDevice,omitempty"`
	Protocol            string `json:"protocol,omitempty"`
	Category            string `json:"category,omitempty"`
	CompromisedEntityID string `json:"compromisedEntityId,omitempty"`
	// ManagementURI is the ARM URI of the Defender for IoT alert (AlertManagementUri). It comes from the
	// payload: never call it without checking it against an allowlist.
	ManagementURI string `json:"managementUri,omitempty"`
	// Link is the portal link of the alert (AlertLink), when the record has one.
	Link  string `json:"link,omitempty"`
	IsNew bool   `json:"isNew,omitempty"`
	// CustomDetails are the analytics rule's custom details (key → values).
	CustomDetails map[string][]string `json:"customDetails,omitempty"`
}

// MDIoTPrefix is what Sentinel's Defender for IoT analytics rules put before an alert title.
const MDIoTPrefix = "(MDIoT) "

// BareTitle is the alert title without the "(MDIoT) " prefix, as the Defender for IoT catalogue spells it.
func (a Alert) BareTitle() string { return BareTitle(a.Title) }

// BareTitle strips the "(MDIoT) " prefix and surrounding space from a title.
func BareTitle(title string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(title), MDIoTPrefix))
}

// Device is an IoT device entity with its OT context.
type Device struct {
	// EntityID is the Sentinel entity resource ID, when known.
	EntityID     string   `json:"entityId,omitempty"`
	ID           string   `json:"id,omitempty"` // Defender for IoT device ID
	Name         string   `json:"name,omitempty"`
	FriendlyName string   `json:"friendlyName,omitempty"`
	Type         string   `json:"type,omitempty"`    // "Engineering Station", "PLC", ...
	SubType      string   `json:"subType,omitempty"` // "Engineering Workstation", "Safety PLC", ...
	Vendor       string   `json:"vendor,omitempty"`
	Model        string   `json:"model,omitempty"`
	OS           string   `json:"os,omitempty"`
	Firmware     string   `json:"firmware,omitempty"`
	Serial       string   `json:"serial,omitempty"`
	MAC          string   `json:"mac,omitempty"`
	IP           string   `json:"ip,omitempty"`
	Protocols    []string `json:"protocols,omitempty"`

	Site        string   `json:"site,omitempty"`
	Zone        string   `json:"zone,omitempty"`
	Sensor      string   `json:"sensor,omitempty"`
	PurdueLayer string   `json:"purdueLayer,omitempty"`
	Importance  string   `json:"importance,omitempty"` // Low, Normal, High (or Unknown)
	Owners      []string `json:"owners,omitempty"`

	IsProgramming bool `json:"isProgramming,omitempty"`
	IsAuthorized  bool `json:"isAuthorized,omitempty"`
	IsScanner     bool `json:"isScanner,omitempty"`

	// PageLink is the device page in the Defender for IoT portal. It comes from the payload.
	PageLink  string    `json:"pageLink,omitempty"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
}

// DisplayName is the best human name of the device.
func (d Device) DisplayName() string {
	switch {
	case d.Name != "":
		return d.Name
	case d.FriendlyName != "":
		return d.FriendlyName
	case d.IP != "":
		return d.IP
	case d.MAC != "":
		return d.MAC
	default:
		return d.ID
	}
}

// DeviceByAddress finds the device whose IP, MAC or name is addr (case-insensitive).
func (inc *Incident) DeviceByAddress(addr string) (Device, bool) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return Device{}, false
	}
	for _, d := range inc.Devices {
		if strings.EqualFold(d.IP, addr) || strings.EqualFold(d.MAC, addr) || strings.EqualFold(d.Name, addr) {
			return d, true
		}
	}
	return Device{}, false
}

// SeverityRank returns 1 (Informational) to 4 (High), or 0 for an unknown value. Case-insensitive.
// Workflows and the automation rules' hot path both rank with it, so it walks no map.
func SeverityRank(s string) int {
	switch {
	case strings.EqualFold(s, SeverityHigh):
		return 4
	case strings.EqualFold(s, SeverityMedium):
		return 3
	case strings.EqualFold(s, SeverityLow):
		return 2
	case strings.EqualFold(s, SeverityInformational):
		return 1
	}
	if t := strings.TrimSpace(s); t != s {
		return SeverityRank(t)
	}
	return 0
}

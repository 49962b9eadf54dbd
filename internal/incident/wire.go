package incident

// The wire structs: the shapes the parsers read, decoded with encoding/json, which matches keys ignoring
// case and so takes camelCase, PascalCase and lower-case senders alike. Every field is a lenient value,
// judged when the mapping reads it (see value). Tags spell keys as Microsoft documents them; error paths
// name them as the sender did.

// formWire holds the keys that tell the accepted forms apart (Parse, ParseAlerts).
type formWire struct {
	Object             value `json:"object"`
	ObjectSchemaType   value `json:"objectSchemaType"`
	VendorOriginalID   value `json:"VendorOriginalId"`
	ExtendedProperties value `json:"ExtendedProperties"`
	ProviderName       value `json:"ProviderName"`
	AlertName          value `json:"AlertName"`
	SystemAlertID      value `json:"SystemAlertId"`
	Incident           value `json:"incident"`
	ID                 value `json:"id"`
	Title              value `json:"title"`
	UUID               value `json:"uuid"`
	Engine             value `json:"engine"`
	Message            value `json:"message"`
	Severity           value `json:"severity"`
}

// triggerWire is the body of Sentinel's incident trigger, with Interlock's "previous" extension.
type triggerWire struct {
	EventUniqueID    value `json:"eventUniqueId"`
	ObjectSchemaType value `json:"objectSchemaType"`
	ObjectEventType  value `json:"objectEventType"`
	WorkspaceInfo    value `json:"workspaceInfo"`
	WorkspaceID      value `json:"workspaceId"`
	Object           value `json:"object"`
	Previous         value `json:"previous"`
}

type workspaceInfoWire struct {
	SubscriptionID    value `json:"SubscriptionId"`
	ResourceGroupName value `json:"ResourceGroupName"`
	WorkspaceName     value `json:"WorkspaceName"`
}

// objectWire is the trigger's "object", the incident resource.
type objectWire struct {
	ID         value `json:"id"`
	Name       value `json:"name"`
	Properties value `json:"properties"`
}

// incidentPropsWire is object.properties, and the shape of "previous".
type incidentPropsWire struct {
	Title                  value `json:"title"`
	Description            value `json:"description"`
	Severity               value `json:"severity"`
	Status                 value `json:"status"`
	Labels                 value `json:"labels"`
	IncidentURL            value `json:"incidentUrl"`
	ProviderName           value `json:"providerName"`
	IncidentNumber         value `json:"incidentNumber"`
	CreatedTimeUtc         value `json:"createdTimeUtc"`
	LastModifiedTimeUtc    value `json:"lastModifiedTimeUtc"`
	FirstActivityTimeUtc   value `json:"firstActivityTimeUtc"`
	LastActivityTimeUtc    value `json:"lastActivityTimeUtc"`
	RelatedAnalyticRuleIDs value `json:"relatedAnalyticRuleIds"`
	Owner                  value `json:"owner"`
	AdditionalData         value `json:"additionalData"`
	ProviderIncidentID     value `json:"providerIncidentId"`
	Alerts                 value `json:"Alerts"`
	RelatedEntities        value `json:"relatedEntities"`
}

type ownerWire struct {
	ObjectID          value `json:"objectId"`
	Email             value `json:"email"`
	AssignedTo        value `json:"assignedTo"`
	UserPrincipalName value `json:"userPrincipalName"`
}

// attackWire is an incident's additionalData: the MITRE ATT&CK tactics and techniques.
type attackWire struct {
	Tactics    value `json:"tactics"`
	Techniques value `json:"techniques"`
}

// alertWire is a SecurityAlert entity of a trigger body, or its properties.
type alertWire struct {
	Properties           value `json:"properties"`
	SystemAlertID        value `json:"systemAlertId"`
	AlertDisplayName     value `json:"alertDisplayName"`
	FriendlyName         value `json:"friendlyName"`
	Description          value `json:"description"`
	Severity             value `json:"severity"`
	Status               value `json:"status"`
	VendorOriginalID     value `json:"vendorOriginalId"`
	ProviderName         value `json:"providerName"`
	ProductName          value `json:"productName"`
	ProductComponentName value `json:"productComponentName"`
	AlertType            value `json:"alertType"`
	StartTimeUtc         value `json:"startTimeUtc"`
	EndTimeUtc           value `json:"endTimeUtc"`
	TimeGenerated        value `json:"timeGenerated"`
	Tactics              value `json:"tactics"`
	Techniques           value `json:"techniques"`
	RemediationSteps     value `json:"remediationSteps"`
	AlertLink            value `json:"alertLink"`
	AdditionalData       value `json:"additionalData"`
}

// extendedWire is a Defender for IoT alert's extended properties.
type extendedWire struct {
	SensorID                 value `json:"SensorId"`
	SourceDeviceAddress      value `json:"SourceDeviceAddress"`
	DestinationDeviceAddress value `json:"DestinationDeviceAddress"`
	DestinationDevice        value `json:"DestinationDevice"`
	Protocol                 value `json:"Protocol"`
	Category                 value `json:"Category"`
	CompromisedEntityID      value `json:"CompromisedEntityId"`
	AlertManagementURI       value `json:"AlertManagementUri"`
	IsNew                    value `json:"isNew"`
	CustomDetails            value `json:"Custom Details"`
	DeviceID                 value `json:"DeviceId"`
}

// entityWire is an entity of a trigger body's relatedEntities.
type entityWire struct {
	Kind       value `json:"kind"`
	Type       value `json:"type"`
	ID         value `json:"id"`
	Name       value `json:"name"`
	Properties value `json:"properties"`
}

// ipWire is an Ip entity's properties, or an ipAddress object ({"address": ...} or {"$ref": ...}).
type ipWire struct {
	Properties value `json:"properties"`
	Address    value `json:"address"`
	Ref        value `json:"$ref"`
}

// deviceFields are the keys of an IoT device entity, which may sit in its properties or their
// additionalData.
type deviceFields struct {
	DeviceID          value `json:"deviceId"`
	DeviceName        value `json:"deviceName"`
	FriendlyName      value `json:"friendlyName"`
	DeviceType        value `json:"deviceType"`
	DeviceSubType     value `json:"DeviceSubType"`
	Vendor            value `json:"vendor"`
	Manufacturer      value `json:"Manufacturer"`
	Model             value `json:"model"`
	OperatingSystem   value `json:"operatingSystem"`
	FirmwareVersion   value `json:"firmwareVersion"`
	SerialNumber      value `json:"serialNumber"`
	MacAddress        value `json:"macAddress"`
	Protocols         value `json:"protocols"`
	Site              value `json:"Site"`
	Zone              value `json:"Zone"`
	Sensor            value `json:"Sensor"`
	PurdueLayer       value `json:"PurdueLayer"`
	Importance        value `json:"Importance"`
	Owners            value `json:"Owners"`
	IsProgramming     value `json:"IsProgramming"`
	IsAuthorized      value `json:"IsAuthorized"`
	IsScanner         value `json:"IsScanner"`
	DevicePageLink    value `json:"DevicePageLink"`
	FirstSeen         value `json:"FirstSeen"`
	IPAddressEntityID value `json:"ipAddressEntityId"`
	IPAddress         value `json:"ipAddress"`
}

// deviceWire is an IoT device entity (a record's) or its properties (a trigger body's).
type deviceWire struct {
	deviceFields
	Kind           value `json:"kind"`
	Type           value `json:"type"`
	Properties     value `json:"properties"`
	AdditionalData value `json:"additionalData"`
}

// recordWire is a row of the SecurityAlert table for a Defender for IoT alert.
type recordWire struct {
	VendorOriginalID        value `json:"VendorOriginalId"`
	SystemAlertID           value `json:"SystemAlertId"`
	DisplayName             value `json:"DisplayName"`
	AlertName               value `json:"AlertName"`
	Description             value `json:"Description"`
	AlertSeverity           value `json:"AlertSeverity"`
	Status                  value `json:"Status"`
	ProviderName            value `json:"ProviderName"`
	ProductName             value `json:"ProductName"`
	ProductComponentName    value `json:"ProductComponentName"`
	AlertType               value `json:"AlertType"`
	StartTime               value `json:"StartTime"`
	EndTime                 value `json:"EndTime"`
	TimeGenerated           value `json:"TimeGenerated"`
	Tactics                 value `json:"Tactics"`
	Techniques              value `json:"Techniques"`
	RemediationSteps        value `json:"RemediationSteps"`
	AlertLink               value `json:"AlertLink"`
	ExtendedProperties      value `json:"ExtendedProperties"`
	Entities                value `json:"Entities"`
	WorkspaceSubscriptionID value `json:"WorkspaceSubscriptionId"`
	WorkspaceResourceGroup  value `json:"WorkspaceResourceGroup"`
}

// entityKeys are the keys that link a record's entities: every object with a $id can be the target of a
// {"$ref": ...}, and Ip entities give the incident's addresses.
type entityKeys struct {
	ID      value `json:"$id"`
	Ref     value `json:"$ref"`
	Type    value `json:"Type"`
	Address value `json:"Address"`
}

// sensorWire is an alert of the OT sensor's or management console's API.
type sensorWire struct {
	UUID                     value `json:"uuid"`
	Title                    value `json:"title"`
	Message                  value `json:"message"`
	AdditionalInformation    value `json:"additionalInformation"`
	Severity                 value `json:"severity"`
	Time                     value `json:"time"`
	Handled                  value `json:"handled"`
	Engine                   value `json:"engine"`
	RemediationSteps         value `json:"remediationSteps"`
	SensorName               value `json:"sensorName"`
	SourceDeviceAddress      value `json:"sourceDeviceAddress"`
	DestinationDeviceAddress value `json:"destinationDeviceAddress"`
	SiteName                 value `json:"siteName"`
	ZoneName                 value `json:"zoneName"`
}

type additionalInformationWire struct {
	Description value `json:"description"`
}

// Package rules is Interlock's rules engine, kept in one YAML file under version control: automation
// rules (ordered rules with expr conditions, modelled on Microsoft Sentinel automation rules) and
// incident creation rules (which alerts become incidents, modelled on the Microsoft Defender for IoT
// solution's analytics rules).
//
// # Rules file
//
//	rules:
//	  - name: PLC reprogramming → engineers   # unique, non-empty
//	    order: 20                             # 1–1000, ascending
//	    enabled: true                         # optional, default true
//	    expires: 2027-01-31T00:00:00Z         # optional; a date alone means midnight UTC
//	    trigger: created                      # created | updated | [created, updated]
//	    condition: anyAlertTitle(plcChangeTitles) && severityAtLeast("Medium")   # optional: always
//	    actions:                              # 1–20, run in order
//	      - setSeverity: High                 # High | Medium | Low | Informational
//	      - setStatus: Closed                 # New | Active | Closed; Closed needs a classification
//	        classification: BenignPositive    # Undetermined | TruePositive | BenignPositive | FalsePositive
//	        classificationReason: SuspiciousButExpected   # optional, must fit the classification
//	        classificationComment: planned maintenance    # optional
//	      - setOwner: alice@example.com       # email or UPN
//	      - addTags: [ot, plc]
//	      - runPlaybook: PLCReprogrammingNotice   # or runPlaybooks: [A, B]; names must be registered
//
//	incidentRules:
//	  - name: Unauthorized PLC changes        # unique among incidentRules
//	    order: 100                            # 1–1000, ascending; the first match decides
//	    enabled: true                         # optional, default true
//	    analyticRuleId: c2fb27c7-5f67-49c4-aaf3-d82934234a69   # optional, recorded in the decision
//	    titles: ["Unauthorized PLC Programming"]    # optional: bare title is one of these (KQL in / ==)
//	    titlesHave: ["Modbus Address Range Violation"]   # optional: title has a phrase (KQL has_any)
//	    condition: alert.severity == "High"   # optional expr over the alert
//	    severity: alert                       # alert (default: the alert's) | High | Medium | Low | Informational
//	    tactics: [Persistence]                # Sentinel spelling
//	    techniques: [T0839]
//	    create: true                          # optional, default true; false suppresses the alerts
//	    groupBy: alert.sourceAddress          # optional expr → string: same key, same incident
//	    groupWindow: 8h                       # optional, with groupBy: epoch-aligned windows of first detection
//	    title: "Engineering session on {key}" # optional, with groupBy; default the rule name
//
// Both lists are optional, but a file needs at least one of the two keys ("rules: []" says "none" on
// purpose). Parse refuses a file with any problem and lists them all (*FileError): a half-loaded rules
// file would silently skip playbooks. default_rules.yaml is the built-in default and the documented
// example.
//
// # Semantics
//
// As Sentinel: rules run one after another in ascending order; only rules whose trigger matches the
// event (Create → created, Update → updated); disabled rules and rules whose expiry is at or before the
// evaluation time never fire; each condition sees the incident as changed by the earlier rules' actions
// (a rule that lowers the severity can stop a later severityAtLeast("High") rule); actions run in the
// order listed; playbooks are collected in order without repeats. Unlike Sentinel, rules with the same
// order run in name order (byte-wise), never in random order, so a dry run (Explain) and the intake always
// agree. A condition that fails at run time (nil dereference, bad helper argument) does not match and is
// reported in Result.Errors; evaluation never panics and has no side effects.
//
// # Incident creation rules
//
// Engine.DecideIncident takes one alert (an incident whose Alerts[0] is the alert, as
// incident.ParseAlertRecord makes it) and returns an IncidentDecision. Enabled rules are tried in ascending
// order, ties by name; the FIRST rule whose clauses all hold decides, so every alert gets exactly one
// decision (unlike Sentinel, where every matching analytics rule raises an incident). A rule's title
// clauses hold when the bare title (without "(MDIoT) ") equals one of titles, or has one of the
// titlesHave phrases, both case-insensitively; a rule with neither matches every title. The condition,
// when given, must also hold. A rule without clauses is a fallback.
//
// titlesHave follows KQL has: a term is a maximal run of ASCII letters and digits, and a phrase matches
// where its terms appear consecutively in the title: "Scan" matches "Port Scan Detected", not
// "Scanner". Severity "alert" takes the alert's severity, Medium when it has none. Tactics and
// techniques are the rule's followed by the alert's, without repeats. With groupBy, alerts whose key is
// the same (and, with groupWindow, whose first detection (startTime, else timeGenerated) falls in the same
// window) share a GroupKey, "<rule slug>/<16 hex of sha256(key)>[/<window start>]"; an empty key, a
// failing groupBy or an alert a window cannot place gets an incident of its own. Without a match, or
// with create: false, Decision.Create is false.
//
// # Conditions
//
// Conditions are expr (github.com/expr-lang/expr) expressions returning bool, type-checked against a
// typed environment when the file is loaded. now(), keys(), values() and toPairs() are disabled so that
// the same event always gives the same answer; expiry uses the explicit time passed to Evaluate.
//
// Variables:
//
//	incident         the incident as the rules see it: id, number, title, description, severity, status,
//	                 url, provider, workspace, owner {objectId, email, assignedTo, userPrincipalName},
//	                 labels, tactics, techniques, analyticRuleIds, created, lastModified, firstActivity,
//	                 lastActivity
//	previous         the incident before the update (same fields), nil on create
//	alerts           id, title, bareTitle, description, severity, status, engine, alertType, category,
//	                 sensorId, sourceAddress, destinationAddress, destinationDevice, protocol,
//	                 vendorOriginalId, providerName, productName, tactics, techniques, isNew, startTime,
//	                 endTime, timeGenerated, defenderProvider (IoTSecurity, "ASI Scheduled Alerts",
//	                 OTSensor or "")
//	devices          id, name, displayName, type, subType, vendor, model, os, firmware, serial, mac, ip,
//	                 protocols, site, zone, sensor, purdueLayer, importance, owners, isProgramming,
//	                 isAuthorized, isScanner, firstSeen, isEngineeringWorkstation
//	entities         kind ("IoTDevice" or "Ip"), name, address
//	ips              the incident's IP addresses
//	event            id, type ("Create" or "Update")
//	trigger          "created" or "updated"
//	plcChangeTitles  the Defender for IoT alert titles of controller changes (PLCChangeTitles)
//
// Helpers: anyAlertTitle(list), anyAlertCategory(list), hasDevice(typeOrSubtype),
// hasEngineeringWorkstation() (a device is one by incident.Device.IsEngineeringWorkstation: its type or
// sub-type is one of playbooks.newEngineeringStation.deviceTypes, case-insensitive, or Defender for IoT
// marks it as a programming device; authorized or not, exactly the devices NewEngineeringStationTicket
// considers), sensorIn(list),
// siteIn(list), severityAtLeast(severity), hasLabel(tag), changed(property), changedTo(property, value),
// changedFrom(property, value). EnvironmentDoc describes each; `interlock rules env` prints it.
//
// An incident rule's condition and groupBy see one alert instead: alert (the same fields as an item of
// alerts), devices, entities, ips and plcChangeTitles, with the helpers titleIn(list), titleHas(list),
// categoryIn(list), hasDevice(typeOrSubtype), hasEngineeringWorkstation(), sensorIn(list), siteIn(list)
// and severityAtLeast(severity)
// (the alert's severity).
//
// # Reload
//
// Set holds the running Engine and swaps it atomically; Set.Watch reloads on SIGHUP and when the file
// changes, and keeps the running rules when the new file is invalid.
package rules

// EnvironmentDoc describes what a condition can use, for `interlock rules check` and the README.
func EnvironmentDoc() string { return environmentDoc }

const environmentDoc = `Conditions are expr expressions (https://expr-lang.org/docs/language-definition) that return
true or false. They are type-checked when the rules file is loaded. now(), keys(), values() and toPairs()
are disabled: a rule gives the same answer for the same event, in a dry run as in the intake.

Variables
  incident         the incident as the rules see it, earlier rules' changes included:
                     id, number, title, description, severity, status, url, provider, workspace,
                     owner {objectId, email, assignedTo, userPrincipalName},
                     labels, tactics, techniques, analyticRuleIds (lists of strings),
                     created, lastModified, firstActivity, lastActivity (times)
  previous         the incident before the update, same fields; nil on create and when the sender
                     sent no previous state (write previous != nil && previous.status == "Active")
  alerts           list of alerts: id, title (as sent, e.g. "(MDIoT) New Asset Detected"),
                     bareTitle (without the "(MDIoT) " prefix), description, severity, status, engine,
                     alertType, category, sensorId, sourceAddress, destinationAddress,
                     destinationDevice, protocol, vendorOriginalId, providerName, productName,
                     tactics, techniques, isNew, startTime, endTime, timeGenerated,
                     defenderProvider (IoTSecurity, "ASI Scheduled Alerts" or OTSensor for a
                     Defender for IoT alert, "" for any other)
  devices          list of IoT devices: id, name, displayName, type, subType, vendor, model, os,
                     firmware, serial, mac, ip, protocols, site, zone, sensor, purdueLayer,
                     importance, owners, isProgramming, isAuthorized, isScanner, firstSeen,
                     isEngineeringWorkstation (see hasEngineeringWorkstation())
  entities         list of entities: kind ("IoTDevice" or "Ip"), name, address
  ips              list of the incident's IP addresses
  event            the delivery: id (Sentinel's eventUniqueId), type ("Create" or "Update")
  trigger          "created" or "updated"
  plcChangeTitles  the alert titles of controller changes: "Unauthorized PLC Programming",
                     "Unauthorized PLC Program Upload", "Unauthorized PLC Configuration Write",
                     "PLC Operating Mode Changed", "Firmware Change Detected",
                     "Firmware Version Changed", "S7 Plus PLC Firmware Changed",
                     "Beckhoff Software Changed"

Helpers (text compares case-insensitively; a list is a list of strings, or one string)
  anyAlertTitle(list)        an alert's title is in list, "(MDIoT) " prefixes ignored on both sides;
                             an incident without alerts is judged by its own title
  anyAlertCategory(list)     an alert's category is in list ("Programming", "Discovery", ...)
  hasDevice(typeOrSubtype)   a device has this type or subtype ("Engineering Station", "PLC",
                             "Safety PLC"); for other fields use any(devices, {...})
  hasEngineeringWorkstation()  a device is an engineering workstation: its type or subtype is one
                             of playbooks.newEngineeringStation.deviceTypes (default "Engineering
                             Station", "Engineering Workstation"), or Defender for IoT marks it as a
                             programming device; authorized or not (test .isAuthorized for that).
                             The NewEngineeringStationTicket playbook uses the same definition
  sensorIn(list)             an alert or a device comes from one of these sensors
  siteIn(list)               a device is at one of these sites
  severityAtLeast(severity)  incident severity is at least this (Informational < Low < Medium < High)
  hasLabel(tag)              the incident has this tag
  changed(property)          property differs from previous: status, severity, owner, labels, alerts,
                             tactics, title or description (lists compare as sets); false without
                             previous. Earlier rules' changes count.
  changedTo(property, value)    property changed and is now value (status, severity or owner)
  changedFrom(property, value)  property changed and was value (status, severity or owner)

Limits: a condition is at most 8 KiB and 2000 syntax nodes, and may build or loop over at most
100 000 elements in all (a condition that goes over fails and does not match).

Examples
  anyAlertTitle(plcChangeTitles) && siteIn(["Rotterdam Plant"])
  any(devices, .type == "PLC" && .importance == "High")
  trigger == "updated" && changedTo("status", "Closed")
  !hasLabel("maintenance") && severityAtLeast("Medium")

Incident creation rules (incidentRules:) see one alert: their condition returns true or false, their
groupBy returns the grouping key (a string; "" means: do not group this alert). Same restrictions and
limits.

Variables
  alert            the alert, with the fields of an item of alerts above
  devices          its IoT devices, as above
  entities         its entities, as above
  ips              its IP addresses
  plcChangeTitles  as above

Helpers
  titleIn(list)              the alert's title is in list ("(MDIoT) " prefixes ignored), like titles:
  titleHas(list)             the title has one of these phrases as whole terms (KQL has_any), like
                             titlesHave: "Scan" matches "Port Scan Detected", not "Scanner"
  categoryIn(list)           the alert's category is in list
  hasDevice(typeOrSubtype)   a device of the alert has this type or subtype
  hasEngineeringWorkstation()  a device of the alert is an engineering workstation (as above)
  sensorIn(list)             the alert or one of its devices comes from one of these sensors
  siteIn(list)               a device of the alert is at one of these sites
  severityAtLeast(severity)  the alert's severity is at least this

Examples
  condition: siteIn(["Test Lab"]) && titleHas(["Scan"])
  groupBy: alert.sourceAddress
  groupBy: 'alert.sensorId + "/" + alert.protocol'
`

// Package assets is Interlock's business-impact asset directory: which site, production line and zone
// an OT device belongs to, how critical it is, whether it is safety-relevant, its Purdue level and who
// owns it. Playbooks use it to say what an incident puts at stake and whom to call.
//
// A directory is loaded from YAML or from CSV exported from a CMDB or asset inventory.
//
// YAML nests site → lines → zones → assets; owners may be given at every level and an asset without
// owners inherits the nearest ones (zone, then line, then site). Keys are spelled exactly as below;
// unknown keys are refused. ip, mac, owners and sensors take a single value or a list.
//
//	sites:
//	  - name: Rotterdam Plant
//	    owners: [ot-rotterdam@rotterdam.example.com]
//	    lines:
//	      - name: Line 3 packaging
//	        owners: [ot-line3@rotterdam.example.com]   # the line's mailbox (MailByProductionLine)
//	        sensors: [sensor-rtm-l3]                   # Defender for IoT sensors watching the line
//	        zones:
//	          - name: Packaging Line 3
//	            assets:
//	              - name: PLC-L3-01
//	                type: PLC
//	                subType: Safety PLC
//	                ip: 10.20.3.10
//	                mac: 28:63:36:a1:b2:c3
//	                criticality: high
//	                safety: true
//	                purdueLevel: "1"
//
// CSV has one asset a row and a header row naming the columns, matched ignoring case, spaces,
// underscores and dashes, in any order: site, line, zone, asset, type, subtype, ip, mac, criticality,
// safety, purdueLevel, owners. site, line, zone, asset and criticality are required. ip, mac and owners
// hold several values separated by ";" or "|". Only asset-level owners can be expressed in CSV.
//
// A line's owners are its mailbox: the MailByProductionLine playbook mails them about every alert on the
// line (the site's owners when the line has none). A device belongs to a line when it is one of the
// line's assets, else when its zone is one of the line's zones, else when its sensor is one of the line's
// sensors (Place). A sensor is listed under one line at most; sensors can be given in YAML only.
//
// Safety: an asset marked safety: true is safety-relevant (SIS, safety PLCs). AutoTriageIncident
// raises an incident naming one to High, and AutoCloseIncidents never closes one (see their files).
//
// Both formats are validated in full before anything is loaded: a bad file is refused with a
// *FileError listing its problems, each naming the place (YAML path and line, CSV row and column).
package assets

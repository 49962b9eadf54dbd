package activities

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/activities/servicenow"
	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/safetext"
)

// TicketFieldValues builds the fields of a new ticket for the device with the given key. Every value
// is a string; alert text is made safe by safetext: Line for one-line values (a newline in a device
// name could fake a line of the description), Block where text may run over lines.
//
// urgency comes from the incident severity, impact from the device's importance:
//
//	severity  High → urgency 1, Medium → 2, Low / Informational / unknown → 3
//	importance High → impact 1, Normal / unknown → 2, Low → 3
//
// Unknown importance is not "low": an engineering workstation nobody authorized can reprogram
// controllers, so it gets the middle impact until someone says otherwise.
func TicketFieldValues(req EnsureTicketRequest, key string) (map[string]string, error) {
	short, err := shortDescription(req)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for k, v := range req.Fields.Extra {
		if !servicenow.ValidField(k) {
			return nil, fmt.Errorf("extra field %q is not a column name", k)
		}
		fields[k] = safetext.Block(v, 4000)
	}
	set := func(k, v string) {
		if v != "" {
			fields[k] = v
		}
	}
	set("category", safetext.Line(req.Fields.Category, 100))
	set("subcategory", safetext.Line(req.Fields.Subcategory, 100))
	set("assignment_group", safetext.Line(req.Fields.AssignmentGroup, 100))
	set("caller_id", safetext.Line(req.Fields.CallerID, 100))
	fields["short_description"] = short
	fields["description"] = description(req, key)
	fields["urgency"] = urgency(req.Incident.Severity)
	fields["impact"] = impact(req.Device.Importance)
	fields["correlation_id"] = key
	fields["correlation_display"] = "Interlock"
	return fields, nil
}

func urgency(severity string) string {
	switch incident.SeverityRank(severity) {
	case 4:
		return "1"
	case 3:
		return "2"
	}
	return "3"
}

func impact(importance string) string {
	switch strings.ToLower(strings.TrimSpace(importance)) {
	case "high":
		return "1"
	case "low":
		return "3"
	}
	return "2"
}

func shortDescription(req EnsureTicketRequest) (string, error) {
	d := req.Device
	if tmpl := req.Fields.ShortDescriptionTemplate; tmpl != "" {
		t, err := template.New("shortDescription").Option("missingkey=error").Parse(tmpl)
		if err != nil {
			return "", fmt.Errorf("short description template: %w", err)
		}
		var b strings.Builder
		if err := t.Execute(&b, struct {
			Device   incident.Device
			Incident TicketIncident
		}{d, req.Incident}); err != nil {
			return "", fmt.Errorf("short description template: %w", err)
		}
		return safetext.Line(b.String(), maxShortDescription), nil
	}
	name := safetext.Line(d.DisplayName(), 100)
	s := "New engineering workstation " + name
	if ip := safetext.Line(d.IP, 60); ip != "" && ip != name {
		s += " (" + ip + ")"
	}
	site, zone := safetext.Line(d.Site, 100), safetext.Line(d.Zone, 100)
	switch {
	case site != "" && zone != "":
		s += " on " + site + " / " + zone
	case site != "" || zone != "":
		s += " on " + site + zone
	}
	return safetext.Line(s, maxShortDescription), nil
}

var techniqueRe = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

// description is the ticket's description: what was found, the business impact, the device, the
// incident and its alerts, the techniques and what to do, then the marker that finds the ticket again.
func description(req EnsureTicketRequest, key string) string {
	d, inc := req.Device, req.Incident
	var b ticketBody
	b.WriteString("Interlock found an engineering workstation that Defender for IoT does not list as authorized.\n\n")
	if imp := inc.Impact; imp != nil {
		// Before the device, so the truncation of a long description never cuts it.
		b.writeImpact(imp)
	}
	b.writeDevice(d)
	b.writeIncident(inc)
	techniques, steps := b.writeAlerts(inc)
	b.writeTechniques(techniques)
	b.writeRemediation(d, steps)

	tail := "\nInterlock finds this ticket again by its correlation_id (" + key + "); please leave it unchanged.\n" + ticketMarker(inc.ID)
	body := b.String()
	const cut = "\n… (truncated)"
	if limit := maxDescription - utf8.RuneCountInString(tail); utf8.RuneCountInString(body) > limit {
		body = safetext.Clip(body, limit-utf8.RuneCountInString(cut)) + cut
	}
	return body + tail
}

// ticketBody is a description being written, section by section.
type ticketBody struct{ strings.Builder }

// line writes "label: value", leaving out what is not known rather than listing blanks.
func (b *ticketBody) line(label, value string) {
	if value != "" {
		b.WriteString("  " + label + ": " + value + "\n")
	}
}

func (b *ticketBody) writeImpact(imp *incident.Impact) {
	b.WriteString("Business impact\n")
	b.line("Summary", safetext.Line(imp.Statement, 1000))
	b.line("Production stop risk", safetext.Line(imp.Risk, 30))
	if imp.Safety {
		b.line("Safety", "safety-relevant asset involved")
	}
	b.line("Not in the asset directory", ticketList(imp.Unknown, 20))
	b.WriteString("\n")
}

func (b *ticketBody) writeDevice(d incident.Device) {
	b.WriteString("Device\n")
	b.line("Name", safetext.Line(d.DisplayName(), 200))
	b.line("Type", joinNonEmpty(" / ", safetext.Line(d.Type, 100), safetext.Line(d.SubType, 100)))
	b.line("IP address", safetext.Line(d.IP, 100))
	b.line("MAC address", safetext.Line(d.MAC, 100))
	b.line("Vendor / model", joinNonEmpty(" ", safetext.Line(d.Vendor, 100), safetext.Line(d.Model, 100)))
	b.line("Operating system", safetext.Line(d.OS, 200))
	b.line("Firmware", safetext.Line(d.Firmware, 100))
	b.line("Serial number", safetext.Line(d.Serial, 100))
	b.line("Protocols seen", ticketList(d.Protocols, 20))
	b.line("Site / zone", joinNonEmpty(" / ", safetext.Line(d.Site, 100), safetext.Line(d.Zone, 100)))
	b.line("Sensor", safetext.Line(d.Sensor, 100))
	b.line("Purdue layer", safetext.Line(d.PurdueLayer, 100))
	b.line("Importance", safetext.Line(d.Importance, 50))
	if d.IsProgramming {
		b.line("Programming device", "yes (Defender for IoT has seen it program controllers)")
	}
	b.line("Owners", ticketList(d.Owners, 10))
	if !d.FirstSeen.IsZero() {
		b.line("First seen", d.FirstSeen.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	b.line("Defender for IoT device ID", safetext.Line(d.ID, 100))
	b.line("Device page", safetext.Line(d.PageLink, 1000))
}

func (b *ticketBody) writeIncident(inc TicketIncident) {
	b.WriteString("\nIncident\n")
	b.line(incidentName(inc), joinNonEmpty(" ", safetext.Line(inc.Title, 300), parenthesize(safetext.Line(inc.Severity, 30))))
	b.line("Link", safetext.Line(inc.URL, 1000))
	b.line("Tactics", ticketList(inc.Tactics, 20))
}

// writeAlerts lists the incident's alerts and returns the techniques (the incident's, then each
// alert's) and remediation steps they name, for the sections after them.
func (b *ticketBody) writeAlerts(inc TicketIncident) (techniques, steps []string) {
	techniques = slices.Clone(inc.Techniques)
	for i, a := range inc.Alerts {
		if i == 0 {
			b.WriteString("\nAlerts\n")
		}
		b.WriteString("  - " + cmp.Or(safetext.Line(incident.BareTitle(a.Title), 300), "(untitled alert)") + "\n")
		b.line("  Defender for IoT alert ID", safetext.Line(a.VendorOriginalID, 100))
		b.line("  Sentinel alert ID", safetext.Line(a.ID, 100))
		if !a.StartTime.IsZero() {
			b.line("  Detected", a.StartTime.UTC().Format("2006-01-02 15:04:05 UTC"))
		}
		b.line("  Alert management URI", safetext.Line(a.ManagementURI, 1000))
		b.line("  Alert link", safetext.Line(a.Link, 1000))
		b.line("  Description", safetext.Line(incident.BareTitle(a.Description), 1000))
		techniques = append(techniques, a.Techniques...)
		steps = append(steps, a.RemediationSteps...)
	}
	return techniques, steps
}

func (b *ticketBody) writeTechniques(techniques []string) {
	if refs := techniqueRefs(techniques); len(refs) > 0 {
		b.WriteString("\nMITRE ATT&CK for ICS techniques\n")
		for _, r := range refs {
			b.WriteString("  - " + r + "\n")
		}
	}
}

// writeRemediation lists the alerts' remediation steps, or generic ones when they name none.
func (b *ticketBody) writeRemediation(d incident.Device, steps []string) {
	b.WriteString("\nRemediation steps\n")
	steps = dedupe(steps)
	if len(steps) == 0 {
		name := safetext.Line(d.DisplayName(), 200)
		steps = []string{
			"Confirm with the OT engineers responsible for the site whether " + name + " is an authorized engineering workstation.",
			"If it is not: isolate it from the control network and review every connection it made to controllers since it was first seen.",
			"If it is: mark it as authorized in Defender for IoT, so it stops raising this alert.",
		}
	}
	for i, s := range steps {
		if i == 20 {
			break
		}
		fmt.Fprintf(b, "  %d. %s\n", i+1, safetext.Line(s, 500))
	}
}

func parenthesize(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// techniqueRefs lists technique IDs once each, with their ATT&CK page when the ID is well-formed.
func techniqueRefs(ids []string) []string {
	var out []string
	for _, id := range dedupe(ids) {
		id = safetext.Line(id, 50)
		if id == "" {
			continue
		}
		if techniqueRe.MatchString(id) {
			out = append(out, id+" (https://attack.mitre.org/techniques/"+strings.ReplaceAll(id, ".", "/")+"/)")
		} else {
			out = append(out, id)
		}
	}
	return out
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}

func ticketList(items []string, n int) string {
	var out []string
	for _, s := range items {
		if s = safetext.Line(s, 100); s != "" {
			out = append(out, s)
		}
	}
	if len(out) > n {
		out = append(out[:n], fmt.Sprintf("and %d more", len(out)-n))
	}
	return strings.Join(out, ", ")
}

package config

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
)

// NewEngineeringStation configures the new-engineering-workstation → ServiceNow playbook.
type NewEngineeringStation struct {
	DeviceTypes []string `yaml:"deviceTypes" doc:"Device types (or sub-types) that count as engineering workstations, case-insensitive; devices Defender for IoT marks as programming devices count too." default:"Engineering Station,Engineering Workstation"`
	Table       string   `yaml:"table" doc:"ServiceNow table the ticket goes to." default:"incident"`
	Category    string   `yaml:"category" doc:"Ticket category (choice value)." default:"network"`
	Subcategory string   `yaml:"subcategory" doc:"Ticket subcategory (choice value); empty leaves it unset."`
	// AssignmentGroup and CallerID are reference fields: the Table API takes sys_ids.
	AssignmentGroup string `yaml:"assignmentGroup" doc:"sys_id of the group the ticket is assigned to; empty leaves it unset."`
	CallerID        string `yaml:"callerID" doc:"sys_id of the user the ticket is opened for (caller_id); empty leaves it unset."`
	// ExtraFields are set on every new ticket; the playbook's own fields win over them.
	ExtraFields map[string]string `yaml:"extraFields" doc:"More fields for every new ticket (column → string value), e.g. cmdb_ci or u_site."`
	// ShortDescriptionTemplate overrides the built-in short description.
	ShortDescriptionTemplate string        `yaml:"shortDescriptionTemplate" doc:"Go text/template for the short description over .Device and .Incident; empty uses \"New engineering workstation NAME (IP) on SITE / ZONE\"."`
	AttemptTimeout           time.Duration `yaml:"attemptTimeout" doc:"Longest single attempt of a ServiceNow call (all in-request retries included)." default:"2m"`
	RetryFor                 time.Duration `yaml:"retryFor" doc:"How long the playbook keeps retrying while ServiceNow is down before it records the device as failed." default:"6h"`
}

var columnRe = regexp.MustCompile(`^[a-z0-9_]+$`)

// ownTicketFields are the columns the playbook sets itself; extraFields may not name them.
var ownTicketFields = []string{"short_description", "description", "urgency", "impact", "category", "subcategory",
	"assignment_group", "caller_id", "correlation_id", "correlation_display", "work_notes", "comments", "active", "state"}

func (n *NewEngineeringStation) validate(errs *Errors) {
	const key = "playbooks.newEngineeringStation."
	if !columnRe.MatchString(n.Table) {
		errs.add(key+"table", "must be a table name (lower-case letters, digits and _), not %q", n.Table)
	}
	for _, k := range slices.Sorted(maps.Keys(n.ExtraFields)) {
		switch {
		case !columnRe.MatchString(k):
			errs.add(key+"extraFields", "%q is not a column name (lower-case letters, digits and _)", k)
		case slices.Contains(ownTicketFields, k) || strings.HasPrefix(k, "sys_"):
			errs.add(key+"extraFields", "%q is set by the playbook itself; use the dedicated key if there is one", k)
		}
	}
	if n.ShortDescriptionTemplate != "" {
		if _, err := template.New("shortDescription").Option("missingkey=error").Parse(n.ShortDescriptionTemplate); err != nil {
			errs.add(key+"shortDescriptionTemplate", "%v", err)
		}
	}
	checkRetryBudget(errs, key, n.AttemptTimeout, n.RetryFor)
}

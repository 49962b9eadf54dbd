package workbook

import (
	"net/url"
	"strings"

	"github.com/interlock-soar/interlock/internal/otincident"
)

// linker builds Temporal UI links to lists of runs, filtered by a visibility query.
type linker struct{ base string }

func newLinker(uiURL, namespace string) linker {
	uiURL = strings.TrimRight(uiURL, "/")
	if uiURL == "" {
		return linker{}
	}
	if namespace == "" {
		namespace = "default"
	}
	return linker{base: uiURL + "/namespaces/" + url.PathEscape(namespace) + "/workflows"}
}

// query links the runs a visibility query selects; "" when no UI is configured.
func (l linker) query(q string) string {
	if l.base == "" {
		return ""
	}
	if q == "" {
		return l.base
	}
	return l.base + "?query=" + url.QueryEscape(q)
}

// quote makes s a visibility query string literal.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// linkIncidents is the most incidents one link names, to keep the URL short.
const linkIncidents = 20

// incidents links the runs of the given incidents (at most linkIncidents).
func (l linker) incidents(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	if len(ids) > linkIncidents {
		ids = ids[:linkIncidents]
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quote(id)
	}
	return l.query("InterlockIncidentId IN (" + strings.Join(q, ", ") + ")")
}

// openRunsQuery selects the running playbook runs and the workflows of Interlock's incidents not
// closed: a closed incident's workflow keeps running a while (keepClosedFor) for late records.
var openRunsQuery = `InterlockPlaybook IS NOT NULL AND ExecutionStatus = "Running" AND (WorkflowType != ` +
	quote(otincident.WorkflowType) + ` OR InterlockStatus != "Closed")`

func (l linker) tiles() Links {
	if l.base == "" {
		return Links{}
	}
	return Links{
		AllRuns:     l.query("InterlockPlaybook IS NOT NULL"),
		OpenRuns:    l.query(openRunsQuery),
		PendingRuns: l.query(`WorkflowType IN ("PLCReprogrammingNotice", "IoTOwnerApproval") AND ExecutionStatus = "Running"`),
		FailedRuns:  l.query(`InterlockPlaybook IS NOT NULL AND ExecutionStatus IN ("Failed", "TimedOut", "Terminated")`),
	}
}

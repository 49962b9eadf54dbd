package workflows

import (
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/internal/otincident"
)

// TaskQueue is the task queue every Interlock worker polls and every playbook runs on.
const TaskQueue = "interlock-playbooks"

// Search attributes set on every playbook run (Keyword unless noted). interlock dev registers them on
// its dev server; on another cluster, register them once with
// `temporal operator search-attribute create --name NAME --type TYPE`.
var (
	AttrPlaybook       = temporal.NewSearchAttributeKeyKeyword("InterlockPlaybook")
	AttrIncidentID     = temporal.NewSearchAttributeKeyKeyword("InterlockIncidentId")
	AttrIncidentNumber = temporal.NewSearchAttributeKeyInt64("InterlockIncidentNumber")
	AttrSeverity       = temporal.NewSearchAttributeKeyKeyword("InterlockSeverity")
	AttrSites          = temporal.NewSearchAttributeKeyKeywordList("InterlockSite")
	AttrDevices        = temporal.NewSearchAttributeKeyKeywordList("InterlockDevice")
)

// SearchAttribute describes one custom search attribute for registration on a server.
type SearchAttribute struct {
	Name string
	Type string // as the Temporal CLI spells it: Keyword, Int, KeywordList, ...
}

// SearchAttributes lists every custom search attribute Interlock sets.
func SearchAttributes() []SearchAttribute {
	return []SearchAttribute{
		{AttrPlaybook.GetName(), "Keyword"},
		{AttrIncidentID.GetName(), "Keyword"},
		{AttrIncidentNumber.GetName(), "Int"},
		{AttrSeverity.GetName(), "Keyword"},
		{AttrSites.GetName(), "KeywordList"},
		{AttrDevices.GetName(), "KeywordList"},
		{otincident.AttrStatus.GetName(), "Keyword"},
		{otincident.AttrOwner.GetName(), "Keyword"},
		{otincident.AttrLine.GetName(), "Keyword"},
		{otincident.AttrTactics.GetName(), "KeywordList"},
	}
}

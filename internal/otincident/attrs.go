package otincident

import "go.temporal.io/sdk/temporal"

// Search attributes only incident workflows set, beside the playbooks' (InterlockSeverity,
// InterlockSite, InterlockDevice, InterlockIncidentId). Keyword columns are plentiful on SQL
// visibility, KeywordList ones are not (three), hence one Line per incident: its most critical asset's.
var (
	AttrStatus  = temporal.NewSearchAttributeKeyKeyword("InterlockStatus")
	AttrOwner   = temporal.NewSearchAttributeKeyKeyword("InterlockOwner")
	AttrLine    = temporal.NewSearchAttributeKeyKeyword("InterlockLine")
	AttrTactics = temporal.NewSearchAttributeKeyKeywordList("InterlockTactic")
)

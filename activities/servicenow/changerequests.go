package servicenow

import (
	"context"
	"fmt"
	"time"
)

// ChangeRequest is an approved change request, as the change_request table lists it.
type ChangeRequest struct {
	Number            string
	ShortDescription  string
	Description       string
	ConfigurationItem string
	State             string
	Start, End        time.Time
}

// ChangeRequests finds approved change requests. The query holds only constants: which PLC a change
// names is decided by the caller on the returned records, so no alert string reaches ServiceNow.
type ChangeRequests struct {
	Client *Client
}

// changeFields are the change_request fields read; the states queried are -2 Scheduled and -1 Implement.
var changeFields = []string{"number", "short_description", "description", "cmdb_ci.name", "state", "approval", "start_date", "end_date"}

// Approved lists the approved change requests, scheduled or being implemented, whose planned window
// [start, end) covers at.
func (c ChangeRequests) Approved(ctx context.Context, at time.Time) ([]ChangeRequest, error) {
	q := And(In("state", "-2", "-1"), Eq("approval", "approved"), OrderByDesc("start_date"))
	recs, err := c.Client.Query(ctx, "change_request", q, changeFields, 500)
	if err != nil {
		return nil, fmt.Errorf("query approved change requests: %w", err)
	}
	var out []ChangeRequest
	for _, r := range recs {
		// The Table API returns date-times in UTC, "2006-01-02 15:04:05", unless display values are asked for.
		start, err1 := time.Parse(time.DateTime, r["start_date"])
		end, err2 := time.Parse(time.DateTime, r["end_date"])
		if err1 != nil || err2 != nil || r["approval"] != "approved" {
			continue
		}
		if at.Before(start) || !at.Before(end) {
			continue
		}
		out = append(out, ChangeRequest{
			Number:            r["number"],
			ShortDescription:  r["short_description"],
			Description:       r["description"],
			ConfigurationItem: r["cmdb_ci.name"],
			State:             r["state"],
			Start:             start,
			End:               end,
		})
	}
	return out, nil
}

package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/activities/servicenow"
)

// changeRequests finds approved change requests in ServiceNow. The query holds only constants: which
// PLC a change names is decided in Go on the returned records, so no alert string reaches ServiceNow.
type changeRequests struct {
	client *servicenow.Client
}

var _ activities.ChangeRequests = (*changeRequests)(nil)

// ServiceNow's states for change_request: -2 Scheduled, -1 Implement.
var changeFields = []string{"number", "short_description", "description", "cmdb_ci.name", "state", "approval", "start_date", "end_date"}

func (c *changeRequests) Approved(ctx context.Context, at time.Time) ([]activities.ChangeRequest, error) {
	q := servicenow.And(
		servicenow.In("state", "-2", "-1"),
		servicenow.Eq("approval", "approved"),
		servicenow.OrderByDesc("start_date"),
	)
	recs, err := c.client.Query(ctx, "change_request", q, changeFields, 500)
	if err != nil {
		return nil, fmt.Errorf("query approved change requests: %w", err)
	}
	var out []activities.ChangeRequest
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
		out = append(out, activities.ChangeRequest{
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

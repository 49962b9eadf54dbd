package servicenow

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestApprovedChangeRequests(t *testing.T) {
	t.Parallel()
	_, srv := newStub(t)
	c, _ := newClient(t, srv.URL, nil)
	ctx := context.Background()
	for _, f := range []map[string]string{
		{"short_description": "Reload PLC-L3-01", "description": "recipe v2", "cmdb_ci": "PLC-L3-01", "state": "-1", "approval": "approved",
			"start_date": "2026-11-20 07:00:00", "end_date": "2026-11-20 10:00:00"},
		{"short_description": "scheduled, later", "state": "-2", "approval": "approved", "start_date": "2026-11-21 07:00:00", "end_date": "2026-11-21 10:00:00"},
		{"short_description": "not approved", "state": "-1", "approval": "requested", "start_date": "2026-11-20 07:00:00", "end_date": "2026-11-20 10:00:00"},
		{"short_description": "closed", "state": "3", "approval": "approved", "start_date": "2026-11-20 07:00:00", "end_date": "2026-11-20 10:00:00"},
		{"short_description": "bad dates", "state": "-1", "approval": "approved", "start_date": "20 Nov 2026", "end_date": "2026-11-20 10:00:00"},
	} {
		_, err := c.Create(ctx, "change_request", f)
		require.NoError(t, err)
	}
	tests := []struct {
		name string
		at   time.Time
		want []string // short descriptions
	}{
		{"inside the first window", time.Date(2026, 11, 20, 8, 9, 0, 0, time.UTC), []string{"Reload PLC-L3-01"}},
		{"at its end: half-open", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), nil},
		{"inside the scheduled one", time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), []string{"scheduled, later"}},
		{"before every window", time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ChangeRequests{Client: c}.Approved(ctx, tt.at)
			require.NoError(t, err)
			var names []string
			for _, cr := range got {
				names = append(names, cr.ShortDescription)
			}
			require.Equal(t, tt.want, names)
		})
	}
	got, err := ChangeRequests{Client: c}.Approved(ctx, time.Date(2026, 11, 20, 8, 9, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Regexp(t, `^CHG\d+$`, got[0].Number)
	got[0].Number = ""
	// The stub does not dot-walk references, so cmdb_ci.name is empty here (TestChangeRequestFields reads it).
	require.Equal(t, ChangeRequest{
		ShortDescription: "Reload PLC-L3-01", Description: "recipe v2", State: "-1",
		Start: time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	}, got[0])
}

// TestChangeRequestFields checks the query sent and the fields read, on the Table API's own JSON.
func TestChangeRequestFields(t *testing.T) {
	t.Parallel()
	var query, fields string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query, fields = r.URL.Query().Get("sysparm_query"), r.URL.Query().Get("sysparm_fields")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":[{"number":"CHG0030042","short_description":"s","description":"d","cmdb_ci.name":"PLC-L3-01",`+
			`"state":"-2","approval":"approved","start_date":"2026-11-20 07:00:00","end_date":"2026-11-20 10:00:00"}]}`)
	}))
	t.Cleanup(srv.Close)
	c, _ := newClient(t, srv.URL, nil)
	got, err := ChangeRequests{Client: c}.Approved(context.Background(), time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, "stateIN-2,-1^approval=approved^ORDERBYDESCstart_date", query)
	require.Equal(t, "number,short_description,description,cmdb_ci.name,state,approval,start_date,end_date", fields)
	require.Equal(t, []ChangeRequest{{
		Number: "CHG0030042", ShortDescription: "s", Description: "d", ConfigurationItem: "PLC-L3-01", State: "-2",
		Start: time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	}}, got)
}

package activities

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

func recipients(t *testing.T, d *Directory, req RecipientsRequest) (Recipients, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	val, err := env.ExecuteActivity(d.LookupRecipients, req)
	if err != nil {
		return Recipients{}, err
	}
	var out Recipients
	require.NoError(t, val.Get(&out))
	return out, nil
}

func TestDirectoryRecipients(t *testing.T) {
	t.Parallel()
	alice := Recipient{Name: "Alice", Email: "alice@plant.example"}
	bob := Recipient{Name: "Bob", Email: "bob@plant.example"}
	carol := Recipient{Name: "Carol", Email: "carol@plant.example"}
	dave := Recipient{Name: "Dave", Email: "dave@plant.example"}
	shift := Recipient{Name: "Shift lead", Email: "shift@plant.example"}
	soc := Recipient{Name: "SOC", Email: "soc@corp.example"}
	entries := []DirectoryEntry{
		{Match: DirectoryMatch{Site: "Rotterdam Plant"}, Engineers: []Recipient{dave}, Escalation: []Recipient{shift}},
		{Match: DirectoryMatch{Zone: "Packaging Line 3"}, Engineers: []Recipient{carol}},
		{Match: DirectoryMatch{Line: "Line 3"}, Engineers: []Recipient{bob, {Name: "Bob again", Email: "BOB@plant.example"}}},
		{Match: DirectoryMatch{Sensor: "sensor-rtm-l3"}, Engineers: []Recipient{alice}},
		{Match: DirectoryMatch{Zone: "Escalation only"}, Escalation: []Recipient{carol}},
	}
	d, err := NewDirectory(entries, "soc@corp.example")
	require.NoError(t, err)

	tests := []struct {
		name string
		req  RecipientsRequest
		want Recipients
	}{
		{"sensor beats line, zone and site; escalation from the site",
			RecipientsRequest{Sensor: "SENSOR-RTM-L3", Line: "Line 3", Zone: "Packaging Line 3", Site: "Rotterdam Plant"},
			Recipients{Engineers: []Recipient{alice}, Escalation: []Recipient{shift}, Source: "directory:sensor"}},
		{"line beats zone, duplicates removed case-insensitively",
			RecipientsRequest{Sensor: "other", Line: "line 3", Zone: "Packaging Line 3", Site: "Rotterdam Plant"},
			Recipients{Engineers: []Recipient{bob}, Escalation: []Recipient{shift}, Source: "directory:line"}},
		{"zone beats site",
			RecipientsRequest{Zone: "Packaging Line 3", Site: "Rotterdam Plant"},
			Recipients{Engineers: []Recipient{carol}, Escalation: []Recipient{shift}, Source: "directory:zone"}},
		{"site",
			RecipientsRequest{Site: "rotterdam plant"},
			Recipients{Engineers: []Recipient{dave}, Escalation: []Recipient{shift}, Source: "directory:site"}},
		{"an entry without engineers gives only the escalation list",
			RecipientsRequest{Zone: "Escalation only", Owners: []string{"owner@plant.example"}},
			Recipients{Engineers: []Recipient{{Email: "owner@plant.example"}}, Escalation: []Recipient{carol}, Source: "owners"}},
		{"device owners, valid addresses only, deduplicated; escalation to them and the SOC",
			RecipientsRequest{Site: "Elsewhere", Owners: []string{"Line 3 <ot-line3@rotterdam.example.com>", "OT-LINE3@rotterdam.example.com", "not an address", "x@y\r\nBcc: evil@z", ""}},
			Recipients{
				Engineers:  []Recipient{{Name: "Line 3", Email: "ot-line3@rotterdam.example.com"}},
				Escalation: []Recipient{{Name: "Line 3", Email: "ot-line3@rotterdam.example.com"}, soc},
				Source:     "owners",
			}},
		{"nobody known: the SOC mailbox",
			RecipientsRequest{Site: "Elsewhere", Owners: []string{"Plant manager"}},
			Recipients{Engineers: []Recipient{soc}, Escalation: []Recipient{soc}, Source: "soc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := recipients(t, d, tt.req)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDirectoryWithoutAnyone(t *testing.T) {
	t.Parallel()
	d, err := NewDirectory(nil, "")
	require.NoError(t, err)
	_, err = recipients(t, d, RecipientsRequest{Site: "x"})
	appErr, ok := errors.AsType[*temporal.ApplicationError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, FailureNoRecipients, appErr.Type())
	require.True(t, appErr.NonRetryable())
}

func TestNewDirectoryRejectsInvalidEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []DirectoryEntry
		soc     string
		want    string
	}{
		{"no match", []DirectoryEntry{{Engineers: []Recipient{{Email: "a@b.example"}}}}, "", "match names no"},
		{"bad engineer", []DirectoryEntry{{Match: DirectoryMatch{Site: "s"}, Engineers: []Recipient{{Email: "nope"}}}}, "", "invalid engineer address"},
		{"bad escalation", []DirectoryEntry{{Match: DirectoryMatch{Site: "s"}, Escalation: []Recipient{{Email: "a@"}}}}, "", "invalid escalation address"},
		{"bad SOC", nil, "soc", "invalid SOC mailbox"},
	}
	for _, tt := range tests {
		_, err := NewDirectory(tt.entries, tt.soc)
		require.ErrorContains(t, err, tt.want, tt.name)
	}
}

package servicenow

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueryEncode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"zero", Query{}, ""},
		{"eq", Eq("correlation_id", "interlock-ews-0123abcd"), "correlation_id=interlock-ews-0123abcd"},
		{"eq keeps = , @ in value", Eq("name", "a=b,c@d"), "name=a=b,c@d"},
		{"and with order", And(Eq("correlation_id", "k"), Eq("active", "true"), OrderBy("sys_created_on")), "correlation_id=k^active=true^ORDERBYsys_created_on"},
		{"order last whatever the argument order", And(OrderByDesc("number"), NotEq("state", "7")), "state!=7^ORDERBYDESCnumber"},
		{"in", In("state", "1", "2", "3"), "stateIN1,2,3"},
		{"not in", NotIn("state", "6", "7"), "stateNOT IN6,7"},
		{"or", Or(Eq("state", "1"), Like("short_description", "workstation")), "state=1^ORshort_descriptionLIKEworkstation"},
		{"starts with", StartsWith("number", "INC"), "numberSTARTSWITHINC"},
		{"is empty", IsEmpty("resolved_at"), "resolved_atISEMPTY"},
		{"dot-walk", Eq("caller_id.user_name", "abel.tuter"), "caller_id.user_name=abel.tuter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.q.Encode()
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestQueryRefusesSyntaxInValues covers the values an alert could carry to turn one condition into
// several: every one is refused before anything is sent.
func TestQueryRefusesSyntaxInValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"caret OR", Eq("name", "x^ORactive=true"), "'^'"},
		{"new query", Eq("name", "x^NQsys_id!="), "'^'"},
		{"order by", Eq("name", "x^ORDERBYnumber"), "'^'"},
		{"escaped caret is still a caret", Eq("name", "x^^ORactive=true"), "'^'"},
		{"newline", Eq("name", "ENG-WS-07\nactive=true"), "control character"},
		{"carriage return", Eq("name", "a\rb"), "control character"},
		{"tab", Eq("name", "a\tb"), "control character"},
		{"NUL", Eq("name", "a\x00b"), "control character"},
		{"javascript", Eq("name", "JavaScript:gs.getUserID()"), "javascript:"},
		{"empty", Eq("correlation_id", ""), "empty value"},
		{"invalid utf-8", Eq("name", "a\xffb"), "UTF-8"},
		{"comma in IN", In("name", "a", "b,c"), "','"},
		{"operator in LIKE", Like("name", "a=b"), "operator character"},
		{"operator in IN", In("name", "a!=b"), "operator character"},
		{"no IN values", In("name"), "at least one"},
		{"bad field", Eq("name=x^active", "y"), "not a field name"},
		{"upper-case field", Eq("Name", "y"), "not a field name"},
		{"bad order field", OrderBy("number^NQ"), "not a field name"},
		{"error survives And", And(Eq("a", "1"), Eq("b", "x^y")), "'^'"},
		{"Or of a compound", Or(And(Eq("a", "1"), Eq("b", "2"))), "exactly one condition"},
		{"long", Eq("name", string(make([]byte, 2000))), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.q.Encode()
			require.ErrorContains(t, err, tc.want)
			_, ok := errors.AsType[*QueryError](err)
			require.True(t, ok, "want a *QueryError, got %T", err)
			require.Equal(t, "(invalid query)", tc.q.String())
		})
	}
}

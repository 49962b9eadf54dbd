package servicenow

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// An encoded query (sysparm_query) is a string language: conditions joined by "^", with "^OR", "^NQ",
// "ORDERBY…" and "^EQ" as keywords. A value is spliced into that string, so a value that carries a "^"
// can start a condition of its own ("x^NQactive=true" matches every active record). ServiceNow has no
// escape for it that we could verify: its community reports none, and GlideRecord.addQuery keeps values
// out of the string altogether, which the Table API cannot. Invalid parts are also silently dropped
// rather than rejected, so a malformed condition widens the match instead of failing.
//
// Query therefore never escapes: it refuses, before any request is sent, every value that could be read
// as syntax. Keys Interlock looks records up by (correlation_id, sys_id) are made by Interlock from a
// small alphabet and never trip these rules; alert strings never need to reach a query.

var (
	fieldRe = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)
	tableRe = regexp.MustCompile(`^[a-z0-9_]+$`)
	sysIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

const maxValueLen = 1024

// Query is an encoded query. Build it with Eq, NotEq, In, NotIn, Like, StartsWith, Or, And and OrderBy;
// a value that cannot be expressed safely makes the query invalid, and the client refuses to send it.
// The zero Query matches every record.
type Query struct {
	terms  []string
	orders []string
	err    error
}

// QueryError says why a condition was refused.
type QueryError struct {
	Field  string
	Reason string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("servicenow query: %s: %s", e.Field, e.Reason)
}

func invalid(field, format string, args ...any) Query {
	return Query{err: &QueryError{Field: field, Reason: fmt.Sprintf(format, args...)}}
}

// Eq matches records whose field equals value. ServiceNow compares strings case-insensitively on a
// default instance, so check the returned records when case matters.
func Eq(field, value string) Query { return cond(field, "=", value, false) }

// NotEq matches records whose field is not value.
func NotEq(field, value string) Query { return cond(field, "!=", value, false) }

// Like matches records whose field contains value (case-insensitive). It is a search, never a key lookup.
func Like(field, value string) Query { return cond(field, "LIKE", value, true) }

// StartsWith matches records whose field starts with value.
func StartsWith(field, value string) Query { return cond(field, "STARTSWITH", value, true) }

// In matches records whose field is one of values.
func In(field string, values ...string) Query { return list(field, "IN", values) }

// NotIn matches records whose field is none of values.
func NotIn(field string, values ...string) Query { return list(field, "NOT IN", values) }

// IsEmpty matches records whose field is empty.
func IsEmpty(field string) Query {
	if err := checkField(field); err != nil {
		return Query{err: err}
	}
	return Query{terms: []string{field + "ISEMPTY"}}
}

// OrderBy sorts ascending by field.
func OrderBy(field string) Query { return order(field, "ORDERBY") }

// OrderByDesc sorts descending by field.
func OrderByDesc(field string) Query { return order(field, "ORDERBYDESC") }

// And matches records that match every query; orderings are kept in the order given.
func And(qs ...Query) Query {
	var out Query
	var errs []error
	for _, q := range qs {
		if q.err != nil {
			errs = append(errs, q.err)
			continue
		}
		out.terms = append(out.terms, q.terms...)
		out.orders = append(out.orders, q.orders...)
	}
	out.err = errors.Join(errs...)
	return out
}

// Or matches records that match any of the conditions. Each must be a single condition: ServiceNow's
// "^OR" binds only the conditions right before and after it.
func Or(conds ...Query) Query {
	var parts []string
	var errs []error
	for _, q := range conds {
		switch {
		case q.err != nil:
			errs = append(errs, q.err)
		case len(q.terms) != 1 || len(q.orders) != 0:
			errs = append(errs, &QueryError{Field: "(or)", Reason: "each part of Or must be exactly one condition"})
		default:
			parts = append(parts, q.terms[0])
		}
	}
	if len(errs) > 0 {
		return Query{err: errors.Join(errs...)}
	}
	if len(parts) == 0 {
		return Query{err: &QueryError{Field: "(or)", Reason: "needs at least one condition"}}
	}
	return Query{terms: []string{strings.Join(parts, "^OR")}}
}

// Err reports why the query cannot be sent, if it cannot.
func (q Query) Err() error { return q.err }

// Encode renders the sysparm_query value.
func (q Query) Encode() (string, error) {
	if q.err != nil {
		return "", q.err
	}
	return strings.Join(append(append([]string(nil), q.terms...), q.orders...), "^"), nil
}

// String is the encoded query, or a note that it is invalid; for logs.
func (q Query) String() string {
	s, err := q.Encode()
	if err != nil {
		return "(invalid query)"
	}
	return s
}

func cond(field, op, value string, wordOp bool) Query {
	if err := checkField(field); err != nil {
		return Query{err: err}
	}
	if err := checkValue(field, value, wordOp); err != nil {
		return Query{err: err}
	}
	return Query{terms: []string{field + op + value}}
}

func list(field, op string, values []string) Query {
	if err := checkField(field); err != nil {
		return Query{err: err}
	}
	if len(values) == 0 {
		return invalid(field, "%s needs at least one value", op)
	}
	for _, v := range values {
		if err := checkValue(field, v, true); err != nil {
			return Query{err: err}
		}
		// The list separator has no escape either.
		if strings.Contains(v, ",") {
			return invalid(field, "value %s contains ',', which separates %s values", quote(v), op)
		}
	}
	return Query{terms: []string{field + op + strings.Join(values, ",")}}
}

func order(field, kw string) Query {
	if err := checkField(field); err != nil {
		return Query{err: err}
	}
	return Query{orders: []string{kw + field}}
}

func checkField(field string) error {
	if !fieldRe.MatchString(field) || len(field) > 80 {
		return &QueryError{Field: quote(field), Reason: "not a field name (lower-case letters, digits, '_' and '.')"}
	}
	return nil
}

// checkValue refuses what could be read as query syntax. wordOp marks operators spelled in letters
// (LIKE, IN, STARTSWITH): how ServiceNow finds the operator in "fieldLIKEa=b" is not documented, so for
// those a value may not contain a symbol operator either.
func checkValue(field, v string, wordOp bool) error {
	switch {
	case v == "":
		// "field=" is read as "is empty" or dropped as invalid; either way not what Eq("f", "") means.
		return &QueryError{Field: field, Reason: "empty value (use IsEmpty)"}
	case len(v) > maxValueLen:
		return &QueryError{Field: field, Reason: fmt.Sprintf("value longer than %d bytes", maxValueLen)}
	case !utf8.ValidString(v):
		return &QueryError{Field: field, Reason: "value is not valid UTF-8"}
	case strings.Contains(v, "^"):
		return &QueryError{Field: field, Reason: fmt.Sprintf("value %s contains '^', which ServiceNow has no escape for in an encoded query", quote(v))}
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return &QueryError{Field: field, Reason: fmt.Sprintf("value %s contains a control character (newline, tab, ...)", quote(v))}
	case strings.Contains(strings.ToLower(v), "javascript:"):
		// The platform evaluates "javascript:" values as server-side script.
		return &QueryError{Field: field, Reason: fmt.Sprintf("value %s contains \"javascript:\", which ServiceNow runs as script", quote(v))}
	case wordOp && strings.ContainsAny(v, "=!<>"):
		return &QueryError{Field: field, Reason: fmt.Sprintf("value %s contains an operator character (= ! < >)", quote(v))}
	}
	return nil
}

// quote renders a hostile value for an error message: quoted, escaped, and short.
func quote(v string) string { return safetext.Quote(v, 60) }

// ValidTable reports whether name is a table name the client accepts.
func ValidTable(name string) bool { return tableRe.MatchString(name) && len(name) <= 80 }

// ValidSysID reports whether id is a sys_id (32 lower-case hex digits).
func ValidSysID(id string) bool { return sysIDRe.MatchString(id) }

// ValidField reports whether name is a column name the client accepts in a record body.
func ValidField(name string) bool { return tableRe.MatchString(name) && len(name) <= 80 }

package snowstandin

import (
	"cmp"
	"slices"
	"strings"
)

// The stand-in understands the part of the encoded-query language Interlock's client emits, and parses
// it the way the platform does:
//
//   - "^" joins conditions (AND), "^OR" ors a condition with the one before it, "^NQ" starts a new
//     query whose matches are added, "^EQ" ends the query, "ORDERBY<f>" / "ORDERBYDESC<f>" sort.
//   - "^^" is a literal "^" inside a value (Interlock's client never sends one: it refuses values with
//     "^", because the real platform's handling of "^^" could not be verified).
//   - Operators: =, !=, IN, NOT IN, LIKE, NOTLIKE, STARTSWITH, ENDSWITH, ISEMPTY, ISNOTEMPTY. String
//     comparisons and sorting ignore case, as on a default instance.
//   - A part that does not parse, uses another operator, or names a field the table does not have is
//     silently DROPPED, exactly like the real one (unless glide.invalid_query.returns_no_rows is set
//     there). A query whose every part is dropped matches every record. This is the behaviour that makes
//     a typo in a lookup field, or an injected "^NQ", match records it should not; tests rely on the
//     stand-in reproducing it.

type cond struct {
	field, op, value string
}

type sortKey struct {
	field string
	desc  bool
}

// query is a parsed encoded query: groups (^NQ) of clauses (AND) of alternatives (^OR).
type query struct {
	groups [][][]cond
	sorts  []sortKey
}

var operators = []string{"!=", "=", "NOT IN", "IN", "NOTLIKE", "LIKE", "STARTSWITH", "ENDSWITH", "ISNOTEMPTY", "ISEMPTY"}

// splitParts splits on "^", reading "^^" as a literal caret.
func splitParts(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '^' {
			cur.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '^' {
			cur.WriteByte('^')
			i++
			continue
		}
		parts = append(parts, cur.String())
		cur.Reset()
	}
	return append(parts, cur.String())
}

func parseQuery(s string, known func(string) bool) query {
	var q query
	groups := [][][]cond{nil}
	for _, part := range splitParts(s) {
		switch {
		case part == "" || part == "EQ":
			continue
		case strings.HasPrefix(part, "ORDERBYDESC"):
			if f := part[len("ORDERBYDESC"):]; known(f) {
				q.sorts = append(q.sorts, sortKey{f, true})
			}
			continue
		case strings.HasPrefix(part, "ORDERBY"):
			if f := part[len("ORDERBY"):]; known(f) {
				q.sorts = append(q.sorts, sortKey{f, false})
			}
			continue
		case strings.HasPrefix(part, "NQ"):
			groups = append(groups, nil)
			part = part[2:]
		case strings.HasPrefix(part, "OR"):
			c, ok := parseCond(part[2:], known)
			if !ok {
				continue
			}
			g := groups[len(groups)-1]
			if len(g) == 0 {
				groups[len(groups)-1] = append(g, []cond{c})
			} else {
				g[len(g)-1] = append(g[len(g)-1], c)
			}
			continue
		}
		if c, ok := parseCond(part, known); ok {
			groups[len(groups)-1] = append(groups[len(groups)-1], []cond{c})
		}
	}
	for _, g := range groups {
		if len(g) > 0 {
			q.groups = append(q.groups, g)
		}
	}
	return q
}

func parseCond(s string, known func(string) bool) (cond, bool) {
	i := 0
	for i < len(s) && isFieldByte(s[i]) {
		i++
	}
	field, rest := s[:i], s[i:]
	if field == "" || !known(field) {
		return cond{}, false
	}
	for _, op := range operators {
		if !strings.HasPrefix(rest, op) {
			continue
		}
		value := rest[len(op):]
		if (op == "ISEMPTY" || op == "ISNOTEMPTY") && value != "" {
			return cond{}, false
		}
		return cond{field, op, value}, true
	}
	return cond{}, false
}

func isFieldByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '.'
}

func (q query) matches(get func(string) string) bool {
	if len(q.groups) == 0 {
		return true
	}
	for _, g := range q.groups {
		if groupMatches(g, get) {
			return true
		}
	}
	return false
}

func groupMatches(g [][]cond, get func(string) string) bool {
	for _, alts := range g {
		if !slices.ContainsFunc(alts, func(c cond) bool { return c.matches(get(c.field)) }) {
			return false
		}
	}
	return true
}

func (c cond) matches(v string) bool {
	lv, lc := strings.ToLower(v), strings.ToLower(c.value)
	switch c.op {
	case "=":
		return lv == lc
	case "!=":
		return lv != lc
	case "IN":
		return slices.Contains(strings.Split(lc, ","), lv)
	case "NOT IN":
		return !slices.Contains(strings.Split(lc, ","), lv)
	case "LIKE":
		return strings.Contains(lv, lc)
	case "NOTLIKE":
		return !strings.Contains(lv, lc)
	case "STARTSWITH":
		return strings.HasPrefix(lv, lc)
	case "ENDSWITH":
		return strings.HasSuffix(lv, lc)
	case "ISEMPTY":
		return v == ""
	case "ISNOTEMPTY":
		return v != ""
	}
	return false
}

func (q query) sort(recs []*record) {
	if len(q.sorts) == 0 {
		return
	}
	slices.SortStableFunc(recs, func(a, b *record) int {
		for _, k := range q.sorts {
			c := cmp.Compare(strings.ToLower(a.Fields[k.field]), strings.ToLower(b.Fields[k.field]))
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

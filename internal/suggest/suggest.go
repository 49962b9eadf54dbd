// Package suggest names the word a config author probably meant when a key or value is unknown.
package suggest

import "strings"

// maxTypos is how many edits still count as a typo: two, so "sevrity" finds "severity" but "site"
// does not find "line".
const maxTypos = 2

// Closest returns the known word s is probably a typo of: one that differs only in case, else the
// nearest within maxTypos edits (ignoring case), else "". Ties go to the earlier word in known.
func Closest(s string, known []string) string {
	best, bestD := "", maxTypos+1
	ls := strings.ToLower(s)
	for _, k := range known {
		if strings.EqualFold(k, s) {
			return k
		}
		if d := editDistance(ls, strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance; strings longer than 64 bytes are never typos of each other
// here, which keeps the cost bounded on hostile input.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

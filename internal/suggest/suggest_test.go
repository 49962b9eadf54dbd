package suggest

import (
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	known := []string{"severity", "site", "line", "owners", "Title"}
	for _, tc := range []struct{ in, want string }{
		{"sevrity", "severity"},
		{"SEVERITY", "severity"},
		{"title", "Title"},
		{"ownrs", "owners"},
		{"lines", "line"},
		{"zzzzzz", ""},
		{"", ""},
		{strings.Repeat("a", 200), ""},
	} {
		if got := Closest(tc.in, known); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Closest("x", nil); got != "" {
		t.Errorf("no known words: got %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"same", "same", 0},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

package incident

import "testing"

func TestSeverityRank(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"High", 4}, {"high", 4}, {" Medium ", 3}, {"LOW", 2}, {"Informational", 1},
		{"", 0}, {"Critical", 0}, {"Med", 0},
	} {
		if got := SeverityRank(tt.in); got != tt.want {
			t.Errorf("SeverityRank(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

package intake

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTerminalSafe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"INC-4318", "INC-4318"},
		{"héllo wörld", "héllo wörld"},
		{"a\x1b[2Jb", "a?[2Jb"},
		{"a\tb\r\nc", "a?b??c"},
		{"PLC-1\u202Egpj", "PLC-1?gpj"},
		{"INC-\u200B1", "INC-?1"},
		{"a\xffb", "a?b"},
	} {
		require.Equal(t, tc.want, TerminalSafe(tc.in), "%q", tc.in)
	}
}

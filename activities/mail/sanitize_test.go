package mail_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/safetext"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities/mail"
)

func TestHeaderText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"PLC-L3-01", 0, "PLC-L3-01"},
		{"  PLC\r\nBcc: evil@x.example  ", 0, "PLC Bcc: evil@x.example"},
		{"a\tb\x00c\x7fd\u0085e", 0, "a b c d e"},
		{"a\u2028b\u2029c", 0, "a b c"},
		{"PLC-1\u202Egpj.exe", 0, "PLC-1gpj.exe"}, // invisible: dropped, not a space
		{"PLC-\u200B01", 0, "PLC-01"},
		{"\ufeffPLC", 0, "PLC"},
		{"bad\xffutf8", 0, "bad\ufffdutf8"},
		{"Rotterdam — Linie 3 ✓", 0, "Rotterdam — Linie 3 ✓"},
		{"abcdefghij", 5, "abcd…"},
		{"abc  defghij", 5, "abc…"}, // no dangling space before the ellipsis
		{"abcde", 5, "abcde"},
		{"", 5, ""},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, safetext.Line(tt.in, tt.max), "%q", tt.in)
	}
}

func TestParseAddress(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"ada@plant.example":                   "ada@plant.example",
		"  Ada <ada@plant.example> ":          "ada@plant.example",
		`"Lovelace, Ada" <ada@plant.example>`: "ada@plant.example",
		"interlock@localhost":                 "interlock@localhost",
	}
	for in, want := range good {
		a, err := mail.ParseAddress(in)
		require.NoError(t, err, in)
		require.Equal(t, want, a.Address)
	}
	bad := []string{
		"", "ada", "ada@", "@plant.example", "ada@plant.example, eve@x.example",
		"ada@plant.example\r\nBcc: eve@x.example", "ada@plant.example\n", "Ada\r\n <ada@plant.example>",
		`"eve\r\nBcc: x@y"@plant.example`, `"a b"@plant.example`, `"a>b"@plant.example`,
		"team: ada@plant.example;", "javascript:alert(1)", strings.Repeat("a", 600) + "@x.example",
		"ada@plant.example\u2028", "<ada@plant.example>>",
	}
	for _, in := range bad {
		_, err := mail.ParseAddress(in)
		require.ErrorIs(t, err, mail.ErrBadAddress, "%q", in)
		require.NotContains(t, err.Error(), "\n")
	}
}

func FuzzHeaderText(f *testing.F) {
	for _, s := range []string{"PLC-1\r\nBcc: x@y", "\u202e\u2028\x00", "a  b", "\xff\xfe", strings.Repeat("é", 300)} {
		f.Add(s, 20)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = limit%300 + 1
		if limit < 1 {
			limit = -limit + 1
		}
		out := safetext.Line(s, limit)
		require.True(t, utf8.ValidString(out))
		require.LessOrEqual(t, utf8.RuneCountInString(out), limit)
		require.Equal(t, strings.TrimSpace(out), out)
		for _, r := range out {
			require.False(t, unicode.IsControl(r), "%q has a control character", out)
			require.NotEqual(t, '\u2028', r)
		}
		require.Equal(t, out, safetext.Line(out, limit), "cleaning is idempotent")
	})
}

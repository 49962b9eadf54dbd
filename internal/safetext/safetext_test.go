package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "PLC-L3-01", 0, "PLC-L3-01"},
		{"header injection", "PLC\r\nBcc: attacker@example.com", 0, "PLC Bcc: attacker@example.com"},
		{"tabs, NUL, DEL, C1", "a\tb\x00c\x7fd\u0085e", 0, "a b c d e"},
		{"bidi override", "PLC-1\u202Egpj.exe", 0, "PLC-1 gpj.exe"},
		{"separators and BOM", "a\u2028b\u2029c\uFEFFd", 0, "a b c d"},
		{"trimmed, runs collapsed", "  a   b  ", 0, "a b"},
		{"invalid UTF-8 kept visible", "a\xffb", 0, "a\uFFFDb"},
		{"clipped", "abcdef", 4, "abc…"},
		{"clip trims the cut", "ab cdef", 4, "ab…"},
		{"exactly max", "abcd", 4, "abcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Line(tc.in, tc.max))
		})
	}
}

func TestBlock(t *testing.T) {
	require.Equal(t, "line one\nline two\nthree", Block("line one\r\nline\ttwo\rthree", 0))
	require.Equal(t, "a\nb", Block("a\n\x00b\u202E", 0))
	require.Equal(t, "ab…", Block("abcdef", 3))
	require.Equal(t, "x", Block("  x \n", 0))
}

func TestClip(t *testing.T) {
	require.Equal(t, "héll…", Clip("héllo wörld", 5))
	require.Equal(t, "héllo", Clip("héllo", 5))
	require.Equal(t, "…", Clip("abc", 1))
	require.Equal(t, "abc", Clip("abc", 0))
	require.Equal(t, "ab…", Clip("ab   cdef", 4))
}

// Whatever comes in: one line has no unsafe rune and no line break, a block no unsafe rune but line
// breaks, both stay within their limit and valid where the input was, and cleaning twice changes nothing.
func FuzzSafeText(f *testing.F) {
	for _, s := range []string{"PLC\r\nBcc: x", "a\u202Eb", "\xff\xfe", "  ", "héllo wörld", "a\tb\nc"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 300
		l := Line(s, max)
		for _, r := range l {
			if Unsafe(r) {
				t.Fatalf("Line(%q) kept %U", s, r)
			}
		}
		if max > 0 && utf8.RuneCountInString(l) > max {
			t.Fatalf("Line(%q, %d) has %d runes", s, max, utf8.RuneCountInString(l))
		}
		if Line(l, max) != l {
			t.Fatalf("Line is not idempotent on %q", s)
		}
		b := Block(s, max)
		for _, r := range b {
			if r != '\n' && Unsafe(r) {
				t.Fatalf("Block(%q) kept %U", s, r)
			}
		}
		if max > 0 && utf8.RuneCountInString(b) > max {
			t.Fatalf("Block(%q, %d) has %d runes", s, max, utf8.RuneCountInString(b))
		}
		if utf8.ValidString(s) && (!utf8.ValidString(l) || !utf8.ValidString(b)) {
			t.Fatalf("valid input %q made invalid output", s)
		}
		if strings.Contains(Clip(s, max), "\x00") != strings.Contains(s, "\x00") && max == 0 {
			t.Fatalf("Clip without a limit changed %q", s)
		}
	})
}

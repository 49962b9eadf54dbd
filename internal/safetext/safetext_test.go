package safetext

import (
	"strconv"
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
		{"bidi override dropped", "PLC-1\u202Egpj.exe", 0, "PLC-1gpj.exe"},
		{"bidi isolates and marks", "\u2066a\u2069\u200Eb\u200F\u061C", 0, "ab"},
		{"separators become spaces", "a\u2028b\u2029c", 0, "a b c"},
		{"BOM, zero-width, soft hyphen dropped", "\uFEFFPLC-\u200B0\u200C1\u200D\u2060x\u00ADy", 0, "PLC-01xy"},
		{"tag characters dropped", "ok\U000E0041\U000E0042", 0, "ok"},
		{"CR LF alone", "\r\n", 0, ""},
		{"only invisible", "\u202E\u200B", 0, ""},
		{"trimmed, runs collapsed", "  a   b  ", 0, "a b"},
		{"invalid UTF-8 kept visible", "a\xffb", 0, "a\uFFFDb"},
		{"clipped", "abcdef", 4, "abc…"},
		{"clip trims the cut", "ab cdef", 4, "ab…"},
		{"exactly max", "abcd", 4, "abcd"},
		{"multi-byte rune at the cut", "日本語テキスト", 4, "日本語…"},
		{"clipped after cleaning", "a\u200Bb\u200Bc\u200Bd\u200Be", 4, "abc…"},
		{"invalid UTF-8 at the cut", "ab\xff\xfecd", 4, "ab\uFFFD…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Line(tc.in, tc.max))
		})
	}
}

func TestBlock(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"line breaks kept, CR LF and CR become LF", "line one\r\nline\ttwo\rthree", 0, "line one\nline two\nthree"},
		{"controls and bidi dropped", "a\n\x00b\u202E", 0, "a\nb"},
		{"C1 and DEL dropped", "a\u0085b\x7fc\x1b[31m", 0, "abc[31m"},
		{"zero-width and BOM dropped", "\uFEFFa\u200Bb\u2060c", 0, "abc"},
		{"separators become spaces", "a\u2028b\u2029c", 0, "a b c"},
		{"invalid UTF-8 kept visible", "a\xffb", 0, "a\uFFFDb"},
		{"clipped", "abcdef", 3, "ab…"},
		{"trimmed", "  x \n", 0, "x"},
		{"multi-byte rune at the cut, the break trimmed", "é\néé", 3, "é…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Block(tc.in, tc.max))
		})
	}
}

func TestUnsafe(t *testing.T) {
	for _, r := range []rune{0, '\t', '\n', '\r', 0x1b, 0x7f, 0x85, 0x9f, 0x2028, 0x2029, 0x202A, 0x202E, 0x2066, 0x2069,
		0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0x2060, 0xFEFF, 0x00AD, 0xE0001, 0xE0041} {
		require.Truef(t, Unsafe(r), "%U", r)
	}
	for _, r := range []rune{' ', 'a', 'é', '日', 0x00A0, 0xFFFD, '…', '😀'} {
		require.Falsef(t, Unsafe(r), "%U", r)
	}
}

func TestClip(t *testing.T) {
	require.Equal(t, "héll…", Clip("héllo wörld", 5))
	require.Equal(t, "héllo", Clip("héllo", 5))
	require.Equal(t, "…", Clip("abc", 1))
	require.Equal(t, "abc", Clip("abc", 0))
	require.Equal(t, "ab…", Clip("ab   cdef", 4))
	require.Equal(t, "a\x00…", Clip("a\x00bcd", 3), "Clip cleans nothing")
}

func TestClipBytes(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "abc", 3, "abc"},
		{"no limit", "abcdef", 0, "abcdef"},
		{"clipped", "abcdefgh", 6, "abc…"},
		{"trims the cut", "ab  cdefgh", 7, "ab…"},
		{"two-byte rune at the cut", "aéééé", 7, "aé…"},      // a(1) é(2) = 3, the next é would end at 5 > 4
		{"three-byte rune at the cut", "日本語テキスト", 10, "日本…"}, // 6 + 3 bytes
		{"four-byte rune at the cut", "a😀😀", 7, "a…"},
		{"four-byte rune fits", "a😀😀", 8, "a😀…"},
		{"invalid UTF-8 kept, never split", "ab\xff\xfe\xfdcdef", 7, "ab\xff\xfe…"},
		{"continuation bytes only", "\x80\x80\x80\x80\x80", 4, "…"},
		{"no room for the ellipsis", "日本語", 2, ""},
		{"no room for the ellipsis, ASCII", "abcdef", 2, "ab"},
		{"exactly the ellipsis", "abcdef", 3, "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ClipBytes(tc.in, tc.max)
			require.Equal(t, tc.want, got)
			if tc.max > 0 {
				require.LessOrEqual(t, len(got), tc.max)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "PLC-1", 0, `"PLC-1"`},
		{"controls escaped", "a\r\nb\x1b[2J", 0, `"a\r\nb\x1b[2J"`},
		{"bidi and zero-width escaped", "PLC-1\u202Egpj\u200B", 0, `"PLC-1\u202egpj\u200b"`},
		{"invalid UTF-8 escaped", "a\xffb", 0, `"a\xffb"`},
		{"clipped inside the quotes", "héllo wörld", 5, `"héll…"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Quote(tc.in, tc.max))
		})
	}
}

func TestQuoteUnsafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"INC-1 Unauthorized PLC programming", "INC-1 Unauthorized PLC programming"},
		{"héllo wörld", "héllo wörld"},
		{"a\tb", `"a\tb"`},
		{"\x1b]0;pwned\x07", `"\x1b]0;pwned\a"`},
		{"PLC\u202Eexe", `"PLC\u202eexe"`},
		{"a\u200Bb", `"a\u200bb"`},
		{"a\xffb", `"a\xffb"`},
	} {
		require.Equal(t, tc.want, QuoteUnsafe(tc.in), "%q", tc.in)
	}
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
		if max <= 0 && (Clip(s, max) != s || ClipBytes(s, max) != s) {
			t.Fatalf("a clip without a limit changed %q", s)
		}
		c, cb := Clip(s, max), ClipBytes(s, max)
		if max > 0 && (utf8.RuneCountInString(c) > max || len(cb) > max) {
			t.Fatalf("Clip/ClipBytes(%q, %d) = %q, %q: over the limit", s, max, c, cb)
		}
		if !strings.HasPrefix(s, strings.TrimSuffix(c, Ellipsis)) || !strings.HasPrefix(s, strings.TrimSuffix(cb, Ellipsis)) {
			t.Fatalf("Clip/ClipBytes(%q, %d) = %q, %q: not a prefix", s, max, c, cb)
		}
		if utf8.ValidString(s) && (!utf8.ValidString(c) || !utf8.ValidString(cb)) {
			t.Fatalf("Clip/ClipBytes(%q, %d) split a rune", s, max)
		}
		if q, err := strconv.Unquote(Quote(s, 0)); err != nil || q != s {
			t.Fatalf("Quote(%q) does not unquote to it: %q, %v", s, q, err)
		}
	})
}

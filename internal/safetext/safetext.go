// Package safetext makes hostile text (anything from an alert, an incident, an answer or an outside
// system) safe to put on one line, in a block, in an email header, in an error message or in a bounded
// field. Every cleaner in Interlock is one of these, so which runes are dropped is decided once, here.
// None of them escapes markup: HTML still goes through html/template or html.EscapeString.
package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ellipsis marks text that was cut.
const Ellipsis = "…"

// Unsafe reports the runes that must never reach a header, a one-line field or a log line as they are:
// control characters (C0 with CR, LF, TAB and NUL, DEL, C1), the Unicode line and paragraph
// separators, and the invisible format characters (Unicode category Cf): the bidirectional embeddings,
// overrides and isolates that make "PLC-1<RLO>gpj.exe" read differently, the zero-width space, joiners
// and marks that make "PLC-01" and "PLC-<ZWSP>01" look alike, the byte order mark, the soft hyphen and
// the tag characters that can smuggle invisible text. Invalid UTF-8 arrives here as U+FFFD and is kept.
func Unsafe(r rune) bool {
	return unicode.IsControl(r) || separator(r) || invisible(r)
}

// separator reports the Unicode line and paragraph separators, which some readers break lines at.
func separator(r rune) bool { return r == '\u2028' || r == '\u2029' }

// invisible reports the format characters: they take no room, so the cleaners drop them rather than
// leave a space where nothing showed.
func invisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// Line makes s one line: control characters, separators and runs of white space become one space,
// invisible format characters are dropped, the ends are trimmed, and the result is clipped to maxRunes
// (below 1: no limit). Use it for email headers, subjects, names, log fields and any one-line field.
func Line(s string, maxRunes int) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s { // ranging over a string yields U+FFFD for invalid bytes
		switch {
		case invisible(r):
			continue
		case Unsafe(r) || unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return Clip(b.String(), maxRunes)
}

// Block keeps s's line breaks (CR LF and a lone CR become LF) and makes everything else safe: tabs and the
// Unicode separators become spaces, other unsafe runes are dropped, the ends are trimmed, and the
// result is clipped to maxRunes (below 1: no limit). Use it for comments and descriptions.
func Block(s string, maxRunes int) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
		case r == '\t' || separator(r):
			r = ' '
		case Unsafe(r):
			continue
		}
		b.WriteRune(r)
	}
	return Clip(strings.TrimSpace(b.String()), maxRunes)
}

// Clip returns s when it has at most maxRunes runes (or maxRunes is below 1), else its first runes,
// trailing white space trimmed, and Ellipsis: maxRunes runes in all. It never cuts inside a rune. Clip
// drops nothing else: clean s first (Line, Block) when it is hostile.
func Clip(s string, maxRunes int) string {
	if maxRunes < 1 || len(s) <= maxRunes || utf8.RuneCountInString(s) <= maxRunes { // n bytes hold at most n runes
		return s
	}
	n := 0
	for i := range s {
		if n == maxRunes-1 {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace) + Ellipsis
		}
		n++
	}
	return s
}

// ClipBytes is Clip for a limit in bytes, for fields whose bound is their encoded size: s when it has
// at most maxBytes bytes (or maxBytes is below 1), else its first whole runes, trailing white space
// trimmed, and Ellipsis, at most maxBytes bytes in all (below len(Ellipsis) there is no room for it).
// It never cuts inside a rune.
func ClipBytes(s string, maxBytes int) string {
	if maxBytes < 1 || len(s) <= maxBytes {
		return s
	}
	mark := Ellipsis
	if maxBytes < len(Ellipsis) {
		mark = ""
	}
	n := maxBytes - len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRightFunc(s[:n], unicode.IsSpace) + mark
}

// Quote renders a hostile value for an error message or a terminal: clipped to maxRunes (below 1: no
// limit), then Go-quoted, so control characters, invisible ones and invalid UTF-8 show as escapes
// instead of acting.
func Quote(s string, maxRunes int) string { return strconv.Quote(Clip(s, maxRunes)) }

// QuoteUnsafe is s as it is when it is valid UTF-8 without an unsafe rune, else Quote(s, 0): for
// printing values that are usually plain (an ID, a title) where quoting every one would be noise.
func QuoteUnsafe(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, Unsafe) {
		return s
	}
	return Quote(s, 0)
}

// Package safetext makes hostile text (anything from an alert, an incident, an answer or an outside
// system) safe to put on one line, in a block, in an email header or in a bounded field. Every cleaner
// in Interlock is one of these, so which runes are dropped is decided once, here. None of them escapes
// markup: HTML still goes through html/template or html.EscapeString.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ellipsis marks text that was cut.
const Ellipsis = "…"

// Unsafe reports the runes that must never reach a header, a one-line field or a log line as they are:
// control characters (C0 with CR, LF, TAB and NUL, DEL, C1), the Unicode line and paragraph
// separators, the bidirectional embeddings, overrides and isolates that make "PLC-1<RLO>gpj.exe" read
// differently, and the byte order mark. Invalid UTF-8 arrives here as U+FFFD and is kept.
func Unsafe(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069', r == '\u200E', r == '\u200F', r == '\u061C':
		return true
	case r == '\uFEFF':
		return true
	}
	return false
}

// Line makes s one line: unsafe runes and runs of white space become one space, the ends are trimmed,
// and the result is clipped to maxRunes (below 1: no limit). Use it for email headers, subjects,
// names, log fields and any one-line field.
func Line(s string, maxRunes int) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s { // ranging over a string yields U+FFFD for invalid bytes
		if Unsafe(r) || unicode.IsSpace(r) {
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
		case r == '\t' || r == '\u2028' || r == '\u2029':
			r = ' '
		case Unsafe(r):
			continue
		}
		b.WriteRune(r)
	}
	return Clip(strings.TrimSpace(b.String()), maxRunes)
}

// Clip returns s when it has at most maxRunes runes (or maxRunes is below 1), else its first runes,
// trailing white space trimmed, and Ellipsis: maxRunes runes in all. It never cuts inside a rune.
func Clip(s string, maxRunes int) string {
	if maxRunes < 1 || utf8.RuneCountInString(s) <= maxRunes {
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

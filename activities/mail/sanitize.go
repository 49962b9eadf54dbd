package mail

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/interlock-soar/interlock/internal/safetext"
)

// maxAddressLen is RFC 5321's limit on a path (local part 64 + @ + domain 255).
const maxAddressLen = 320

// ErrBadAddress is returned by ParseAddress for anything that is not exactly one mailbox.
var ErrBadAddress = errors.New("not a valid email address")

// ParseAddress parses exactly one mailbox ("a@example.com" or "Name <a@example.com>") with
// net/mail, refusing control characters anywhere in the input (so a CR/LF can never start a header
// or a second recipient), group syntax and lists. The display name is cleaned with safetext.Line.
func ParseAddress(s string) (*netmail.Address, error) {
	if len(s) > maxAddressLen+200 || !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: too long or not UTF-8", ErrBadAddress)
	}
	// Checked before trimming: even a trailing CR/LF means the value was built carelessly.
	for _, r := range s {
		if safetext.Unsafe(r) {
			return nil, fmt.Errorf("%w: contains a control character", ErrBadAddress)
		}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadAddress)
	}
	addr, err := netmail.ParseAddress(s)
	if err != nil {
		// net/mail's message names the problem without echoing the input, which may be hostile.
		return nil, fmt.Errorf("%w: %v", ErrBadAddress, err)
	}
	if s != addr.Address && !strings.HasSuffix(s, "<"+addr.Address+">") {
		// net/mail also accepts a one-member group ("team: a@b;"); only a mailbox is an address here.
		return nil, fmt.Errorf("%w: not a single mailbox", ErrBadAddress)
	}
	at := strings.LastIndexByte(addr.Address, '@')
	if at < 1 || at == len(addr.Address)-1 || len(addr.Address) > maxAddressLen {
		return nil, fmt.Errorf("%w: needs a local part and a domain", ErrBadAddress)
	}
	for _, r := range addr.Address {
		if safetext.Unsafe(r) || unicode.IsSpace(r) || r == '<' || r == '>' || r == ',' {
			// net/mail accepts quoted local parts with such characters; no relay we send to
			// needs them, and they are how address-list injection starts.
			return nil, fmt.Errorf("%w: unusual characters in the address", ErrBadAddress)
		}
	}
	addr.Name = safetext.Line(addr.Name, 100)
	return addr, nil
}

// validHeaderName accepts the header names we would ever add: letters, digits and hyphens.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 76 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validMessageID accepts id@domain with RFC 5322 dot-atom characters on both sides.
func validMessageID(s string) bool {
	if len(s) > 250 {
		return false
	}
	left, right, ok := strings.Cut(s, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '@' {
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return false
		}
	}
	return true
}

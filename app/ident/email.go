package ident

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeEmail lower-cases and trims; rejects what is not a plain addr-spec
// user@domain.tld: no display name, angle brackets, comments or quoted local
// part, no IP-literal or bare-IP domain, at least one dot in the domain, at
// most 254 bytes (RFC 5321's path limit less the brackets) and 64 in the
// local part, valid UTF-8 without control, format or space characters.
//
// The whole address is lower-cased, local part included: RFC 5321 lets the
// receiving host treat the local part as case-sensitive, but no mailbox
// provider our users deal with does, and a lead typed as Ana@ and ana@ must
// be one lead. Non-ASCII addresses (RFC 6531/6532) are accepted and put in
// Unicode NFC so that a composed and a decomposed "ñ" compare equal.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 4*254 || !utf8.ValidString(s) {
		return "", ErrEmailInvalid
	}
	ascii := true
	for _, r := range s {
		if r >= utf8.RuneSelf {
			ascii = false
		}
		// Cf holds the invisible ones (zero-width space, bidi controls,
		// soft hyphen): two addresses that render the same must not be
		// two different leads.
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return "", ErrEmailInvalid
		}
	}
	s = strings.ToLower(s)
	if !ascii {
		s = norm.NFC.String(s)
		// Lower-casing and composition each can, for odd code points,
		// undo the other; insist on a fixed point so the result is stable.
		if t := norm.NFC.String(strings.ToLower(s)); t != s {
			return "", ErrEmailInvalid
		}
	}
	if len(s) > 254 {
		return "", ErrEmailInvalid
	}
	a, err := mail.ParseAddress(s)
	// net/mail also accepts "Name <addr>", "<addr>", "addr (comment)" and
	// quoted local parts, which it unquotes; demanding that the parsed
	// address is the whole input leaves the plain dot-atom form only.
	if err != nil || a.Name != "" || a.Address != s {
		return "", ErrEmailInvalid
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 || !hostname(s[at+1:]) {
		return "", ErrEmailInvalid
	}
	return s, nil
}

// hostname reports whether d is a lower-case DNS name with at least two
// labels: labels of 1–63 bytes of letters, digits and inner hyphens, and a
// top-level label that is not all digits (so 10.0.0.1 is refused like an IP
// literal). Letters may be non-ASCII: an IDN typed in its Unicode form.
func hostname(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' ||
				r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.IsDigit(r))) {
				return false
			}
		}
	}
	return !Digits(labels[len(labels)-1])
}

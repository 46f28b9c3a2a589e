package ident

import (
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// phoneCountries are the countries a user may be typing a phone number
// from; a number is read in that country's national plan unless it starts
// with + or 00.
var phoneCountries = map[string]bool{"ES": true, "MX": true, "AR": true}

// maxPhoneInput is the longest phone field accepted, in characters after
// trimming: E.164 has at most 15 digits, and people add spaces, dashes and
// a trunk or carrier prefix.
const maxPhoneInput = 40

// NormalizePhone parses s as typed by a user of country ("ES","MX","AR") with
// github.com/nyaruka/phonenumbers and returns E.164 ("+34600111222"); numbers
// with a leading + or 00 are taken as international. It rejects numbers that
// phonenumbers.IsValidNumber rejects, inputs longer than 40 characters, and
// anything but digits, one leading +, spaces, dots, dashes, parentheses and
// slashes: no letters (so no vanity numbers such as 900-FLORES, no "tel:"),
// no Unicode digits. A number with an extension ("ext. 12", "x12") gets
// ErrPhoneExtension, because E.164 cannot hold it and dropping it silently
// would lose what the user typed.
//
// Whether a number is valid is phonenumbers' metadata, so an upgrade of that
// module can change the verdict on a number (never its E.164 form).
func NormalizePhone(s, country string) (string, error) {
	country = strings.ToUpper(country)
	if !phoneCountries[country] {
		return "", ErrCountryUnknown
	}
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > maxPhoneInput {
		return "", ErrPhoneInvalid
	}
	digits := make([]byte, 0, 20)
	plus := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && !plus && len(digits) == 0:
			plus = true
		case r == '(' || r == ')' || r == '/' || separator(r):
		default:
			return "", phoneCharError(s, country)
		}
	}
	var num string
	switch {
	case plus:
		num = "+" + string(digits)
	case len(digits) > 2 && digits[0] == '0' && digits[1] == '0':
		// 00 is the international call prefix in all three countries;
		// making it a + also covers a number typed for another country.
		num = "+" + string(digits[2:])
	default:
		num = string(digits)
	}
	num = mexicanLegacyPrefix(num, country)
	n, err := phonenumbers.Parse(num, country)
	if err != nil {
		return "", ErrPhoneInvalid
	}
	if n.GetExtension() != "" {
		return "", ErrPhoneExtension
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", ErrPhoneInvalid
	}
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	// phonenumbers' metadata calls some longer numbers valid (German
	// numbers with a direct-dial extension reach 16 digits), but E.164
	// stops at 15 digits and the column promises E.164.
	if len(e164) > 16 {
		return "", ErrPhoneInvalid
	}
	return e164, nil
}

// phoneCharError tells a valid number followed by an extension from other
// junk; phonenumbers understands "ext.", "x", "extensión", "#" and the like.
func phoneCharError(s, country string) error {
	n, err := phonenumbers.Parse(s, country)
	if err == nil && n.GetExtension() != "" && phonenumbers.IsValidNumber(n) {
		return ErrPhoneExtension
	}
	return ErrPhoneInvalid
}

// mexicanLegacyPrefix drops the dialling prefixes Mexico abolished in
// August 2019, which are still in contact lists and exports: the "1"
// after +52 on mobile numbers (WhatsApp still shows +521…), the 044/045
// mobile prefixes and the 01 long-distance prefix before the 10-digit
// national number. phonenumbers (like libphonenumber) calls such numbers
// invalid; without this, the same mobile typed the old and the new way
// would be two numbers, or one would be refused. All Mexican numbers have
// had 10 digits since then, so the rewrite is unambiguous.
func mexicanLegacyPrefix(num, country string) string {
	switch {
	case strings.HasPrefix(num, "+521") && len(num) == 14:
		return "+52" + num[4:]
	case country != "MX" || num == "" || num[0] == '+':
		return num
	case (strings.HasPrefix(num, "044") || strings.HasPrefix(num, "045")) && len(num) == 13:
		return num[3:]
	case strings.HasPrefix(num, "01") && len(num) == 12:
		return num[2:]
	}
	return num
}

// Package ident validates and normalises the identifiers people type into
// Pulso: e-mail addresses, phone numbers, tax ids (ES NIF, MX RFC, AR
// CUIT/CUIL) and IBANs.
//
// Duplicate detection compares the normalised forms, so every Normalize
// function returns one canonical spelling per identifier and is idempotent:
// normalising its own output returns that output unchanged. Failures are
// *Error values whose MessageID is a catalog id (views/i18n) that the form
// shows next to the field; bad input never causes anything worse than an
// *Error.
//
// The checksum rules follow ../shared/conformance/RULES.md, which is
// normative for this package; each algorithm cites its section.
package ident

import (
	"errors"
	"unicode"
)

// Error is a validation failure the UI shows next to the field; MessageID is a
// catalog id (views/i18n), e.g. "ident.taxid_check".
type Error struct{ MessageID string }

func (e *Error) Error() string { return "ident: invalid input (" + e.MessageID + ")" }

// MessageOf is the message a form shows next to a field for err: the
// *Error's own, "validation.bad_chars" for any other error (what does not
// normalise is not storable text), "" for none.
func MessageOf(err error) string {
	var ie *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ie):
		return ie.MessageID
	}
	return "validation.bad_chars"
}

// The errors returned by this package. They are shared values, so callers
// may compare with errors.Is as well as read MessageID through errors.As.
var (
	ErrEmailInvalid   = &Error{"ident.email_invalid"}
	ErrPhoneInvalid   = &Error{"ident.phone_invalid"}
	ErrPhoneExtension = &Error{"ident.phone_extension"}
	ErrTaxIDFormat    = &Error{"ident.taxid_format"}
	ErrTaxIDCheck     = &Error{"ident.taxid_check"}
	ErrIBANFormat     = &Error{"ident.iban_format"}
	ErrIBANCountry    = &Error{"ident.iban_country"}
	ErrIBANCheck      = &Error{"ident.iban_check"}
	ErrCountryUnknown = &Error{"ident.country_unknown"}
)

// MsgRFCCheckWarning is the catalog id of the warning the UI shows when an
// RFC is accepted but RFCCheckOK reports a wrong check character.
const MsgRFCCheckWarning = "ident.rfc_check_warning"

// maxInput bounds the work done on a tax id or IBAN field before it is
// rejected: the longest IBAN is 34 characters, and people add a few spaces.
const maxInput = 64

// separator reports whether r is one of the characters people put between
// the groups of an identifier (spaces of any kind, dots, dashes of any
// kind). They carry no information and are dropped.
func separator(r rune) bool {
	return r == '.' || r == '-' || unicode.IsSpace(r) || unicode.Is(unicode.Pd, r)
}

// compact drops separators and upper-cases ASCII letters. It fails on any
// other character, including Unicode lookalikes of letters and digits
// (Cyrillic А, full-width Ａ, dotless ı, Arabic-Indic digits): those are
// rejected rather than folded, because folding them would let two spellings
// that look identical on screen normalise differently elsewhere. extra, if
// not nil, admits more runes (already upper case) as they are.
func compact(s string, extra func(rune) rune) (string, bool) {
	if len(s) > maxInput*4 {
		return "", false
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			b = append(b, byte(r))
		case r >= 'a' && r <= 'z':
			b = append(b, byte(r-'a'+'A'))
		case separator(r):
		default:
			if extra == nil {
				return "", false
			}
			u := extra(r)
			if u < 0 {
				return "", false
			}
			b = append(b, string(u)...)
		}
	}
	return string(b), true
}

// Digits reports whether s is one or more ASCII digits.
func Digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

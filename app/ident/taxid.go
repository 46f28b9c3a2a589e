package ident

import "strings"

// NormalizeTaxID validates a tax id for its country ("ES", "MX", "AR") and
// returns the canonical form: upper case, without spaces, dots or dashes,
// and for Spain without the "ES" VIES prefix. See normalizeNIF,
// normalizeRFC and normalizeCUIT for each country's rules. An unknown
// country is ErrCountryUnknown; a value of the wrong shape ErrTaxIDFormat;
// a value of the right shape with a wrong check digit or letter
// ErrTaxIDCheck.
//
// A Mexican RFC whose check character is wrong is still accepted (see
// RFCCheckOK): callers show MsgRFCCheckWarning when RFCCheckOK is false.
func NormalizeTaxID(s, country string) (string, error) {
	switch strings.ToUpper(country) {
	case "ES":
		return normalizeNIF(s)
	case "MX":
		return normalizeRFC(s)
	case "AR":
		return normalizeCUIT(s)
	}
	return "", ErrCountryUnknown
}

package ident

import "strings"

// Spanish tax identifiers, per RULES.md "Spanish tax identifiers (NIF = DNI
// / NIE / CIF-type)".

// dniLetters maps n mod 23 to the control letter of a DNI or NIE (RULES.md:
// the Ministerio del Interior's NIF/NIE control-letter algorithm).
const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// entityLetters are the first letters of an entity NIF (old CIF), Orden
// EHA/451/2008.
const entityLetters = "ABCDEFGHJNPQRSUVW"

// entityControlLetters writes an entity NIF's control digit as a letter:
// "JABCDEFGHI"[control].
const entityControlLetters = "JABCDEFGHI"

// normalizeNIF validates a Spanish NIF of any kind and returns it as 9
// upper-case characters:
//
//   - DNI: 8 digits + letter, letter = dniLetters[n mod 23]. A DNI typed
//     with 7 digits (old numbers below 10 000 000, commonly written without
//     the leading zero) is accepted and padded to 8.
//   - NIE: X, Y or Z + 7 digits + letter; X→0, Y→1, Z→2, then the DNI rule.
//   - K, L, M + 7 digits + letter: the DNI rule over the 7 digits.
//   - Entity NIF: a letter of entityLetters + 7 digits + control, control =
//     Luhn over the 7 digits, written as the digit or as the letter
//     entityControlLetters[control]. Either form is accepted for every
//     entity letter, as RULES.md says (sources disagree on which letters
//     use which form), and kept as typed: the NIF is printed on invoices
//     and reported to the AEAT, so it is not ours to rewrite. The same
//     entity typed once with each form therefore normalises to two
//     strings (B12345674, B1234567D); duplicate detection that must catch
//     that rare case has to compare the control as a digit.
//
// An "ES" prefix (the VAT/VIES form) is stripped before the checks.
func normalizeNIF(s string) (string, error) {
	c, ok := compact(s, nil)
	if !ok || len(c) > maxInput {
		return "", ErrTaxIDFormat
	}
	// RULES.md: "An "ES" prefix is the VAT/VIES form; strip it before the
	// checks." No NIF starts with "ES" followed by 9 characters of NIF
	// shape, so the length tells the prefix apart from an entity NIF E….
	if len(c) == 11 && c[:2] == "ES" {
		c = c[2:]
	}
	if len(c) == 8 && Digits(c[:7]) && isUpper(c[7]) {
		c = "0" + c
	}
	if len(c) != 9 || !Digits(c[1:8]) {
		return "", ErrTaxIDFormat
	}
	first, last := c[0], c[8]
	var digits string // the number the DNI letter rule applies to
	switch {
	case first >= '0' && first <= '9':
		digits = c[:8]
	case first == 'X' || first == 'Y' || first == 'Z':
		digits = string('0'+first-'X') + c[1:8]
	case first == 'K' || first == 'L' || first == 'M':
		digits = c[1:8]
	case strings.IndexByte(entityLetters, first) >= 0:
		control := luhnControl(c[1:8])
		if last != '0'+control && last != entityControlLetters[control] {
			if !(last >= '0' && last <= '9') && strings.IndexByte(entityControlLetters, last) < 0 {
				return "", ErrTaxIDFormat
			}
			return "", ErrTaxIDCheck
		}
		return c, nil
	default:
		return "", ErrTaxIDFormat
	}
	if !isUpper(last) {
		return "", ErrTaxIDFormat
	}
	if last != dniLetter(digits) {
		return "", ErrTaxIDCheck
	}
	return c, nil
}

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }

// dniLetter is the control letter of a DNI number (RULES.md: letter =
// "TRWAGMYFPDXBNJZSQVHLCKE"[n mod 23]); digits has at most 8 digits.
func dniLetter(digits string) byte {
	n := 0
	for i := 0; i < len(digits); i++ {
		n = n*10 + int(digits[i]-'0')
	}
	return dniLetters[n%23]
}

// luhnControl is the control digit of an entity NIF's 7 digits (RULES.md:
// (10 − (Σ digits at even positions + Σ digit-sums of 2×digits at odd
// positions) mod 10) mod 10, positions counted from 1).
func luhnControl(digits string) byte {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[i] - '0')
		if i%2 == 0 { // positions 1, 3, 5, 7
			d *= 2
			d = d/10 + d%10
		}
		sum += d
	}
	return byte((10 - sum%10) % 10)
}

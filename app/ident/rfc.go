package ident

import "golang.org/x/text/unicode/norm"

// Mexican RFC, per RULES.md "Mexico: CFDI 4.0", RFC row: the CFDI 4.0 XSD
// pattern (tdCFDI.xsd t_RFC)
//
//	[A-Z&Ñ]{3,4}[0-9]{2}(0[1-9]|1[012])(0[1-9]|[12][0-9]|3[01])[A-Z0-9]{2}[0-9A]
//
// 12 characters for a persona moral, 13 for a persona física; the last one
// is a check character that about 1.5 % of RFCs in use get wrong, so it is
// reported by RFCCheckOK rather than enforced.

// Generic RFCs (RULES.md): the public in general and foreign recipients.
const (
	RFCPublic  = "XAXX010101000"
	RFCForeign = "XEXX010101000"
)

// rfcRune admits, beyond ASCII letters and digits, the two other characters
// of the RFC alphabet.
func rfcRune(r rune) rune {
	switch r {
	case '&', 'Ñ':
		return r
	case 'ñ':
		return 'Ñ'
	}
	return -1
}

// normalizeRFC validates the shape of an RFC, including that its date is a
// real calendar day (stricter than the XSD, which allows 310230: SAT
// derives the date from a birth or incorporation date), and returns it upper
// case without separators. Ñ stays Ñ (in NFC).
func normalizeRFC(s string) (string, error) {
	if len(s) > maxInput*4 {
		return "", ErrTaxIDFormat
	}
	// An Ñ typed as N + combining tilde (macOS file names, some PDFs)
	// becomes the single code point.
	s = norm.NFC.String(s)
	c, ok := compact(s, rfcRune)
	if !ok || !rfcShape(c) {
		return "", ErrTaxIDFormat
	}
	return c, nil
}

// rfcShape checks the XSD pattern and the date on a compacted RFC.
func rfcShape(c string) bool {
	r := []rune(c)
	if len(r) != 12 && len(r) != 13 {
		return false
	}
	n := len(r) - 9 // letters of the name part
	for _, x := range r[:n] {
		if !(x >= 'A' && x <= 'Z' || x == '&' || x == 'Ñ') {
			return false
		}
	}
	for _, x := range r[n : n+6] {
		if x < '0' || x > '9' {
			return false
		}
	}
	yy := int(r[n]-'0')*10 + int(r[n+1]-'0')
	mm := int(r[n+2]-'0')*10 + int(r[n+3]-'0')
	dd := int(r[n+4]-'0')*10 + int(r[n+5]-'0')
	if mm < 1 || mm > 12 || dd < 1 || dd > daysIn(yy, mm) {
		return false
	}
	for _, x := range r[n+6 : n+8] {
		if !(x >= 'A' && x <= 'Z' || x >= '0' && x <= '9') {
			return false
		}
	}
	last := r[n+8]
	return last >= '0' && last <= '9' || last == 'A'
}

// daysIn is the length of month mm of a two-digit year. The century is not
// in the RFC; 29 February is allowed whenever yy is a multiple of 4, which
// is a leap year in one of the two centuries that matter (00 is 2000).
func daysIn(yy, mm int) int {
	switch mm {
	case 2:
		if yy%4 == 0 {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// rfcAlphabet gives each character its value in the RFC check computation
// (RULES.md: alphabet "0-9 A-N & O-Z space Ñ").
const rfcAlphabet = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ"

func rfcValue(r rune) int {
	i := 0
	for _, a := range rfcAlphabet {
		if a == r {
			return i
		}
		i++
	}
	return -1
}

// RFCCheckOK reports whether an RFC's last character matches its check
// character. It accepts what NormalizeTaxID accepts (separators, lower
// case) and is false for anything that is not an RFC. The generic RFCs are
// always OK.
//
// RULES.md: mod 11 over the first 11 (moral) or 12 (física) characters,
// left-padded with spaces to 12, values from rfcAlphabet, weights 13 down
// to 2; check = 11 − (sum mod 11), where 11 is written "0" and 10 "A".
func RFCCheckOK(rfc string) bool {
	c, err := normalizeRFC(rfc)
	if err != nil {
		return false
	}
	if c == RFCPublic || c == RFCForeign {
		return true
	}
	r := []rune(c)
	body, check := r[:len(r)-1], r[len(r)-1]
	sum, weight := 0, 13
	for range 12 - len(body) {
		sum += rfcValue(' ') * weight
		weight--
	}
	for _, x := range body {
		sum += rfcValue(x) * weight
		weight--
	}
	return rfcValue(check) == (11-sum%11)%11
}

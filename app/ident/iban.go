package ident

import (
	"strings"
	"unicode/utf8"
)

// NormalizeIBAN validates an IBAN and returns its compact electronic form:
// upper case, without spaces or dashes, without a leading "IBAN" (the
// paper form "IBAN ES91 2100 …"). It checks, per RULES.md "SEPA direct
// debit" (IBAN row) and ISO 13616:
//
//   - the country code is in the SWIFT IBAN registry (ibanRegistry), else
//     ErrIBANCountry: Mexico, Argentina and the US have no IBAN;
//   - the length and BBAN structure are the registry's for that country,
//     else ErrIBANFormat;
//   - the check digits are 02–98 and the ISO 7064 mod 97-10 check holds,
//     else ErrIBANCheck;
//   - for Spain, the two control digits of the 20-digit CCC also hold
//     (cccControl), else ErrIBANCheck.
func NormalizeIBAN(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxInput*4 || utf8.RuneCountInString(s) > maxInput {
		return "", ErrIBANFormat
	}
	c, ok := compact(s, nil)
	if !ok {
		return "", ErrIBANFormat
	}
	c = strings.TrimPrefix(c, "IBAN") // no country has the code IB
	if len(c) < 4 || !isUpper(c[0]) || !isUpper(c[1]) {
		return "", ErrIBANFormat
	}
	reg, ok := ibanRegistry[c[:2]]
	if !ok {
		return "", ErrIBANCountry
	}
	if len(c) != reg.length || !bbanShape(c[4:], reg.bban) || !Digits(c[2:4]) {
		return "", ErrIBANFormat
	}
	// Check digits 00, 01 and 99 are never issued: 98 − (x mod 97) lies in
	// 2…98, and 01 ≡ 98 would make two spellings of one account.
	if cd := c[2:4]; cd == "00" || cd == "01" || cd == "99" || mod97(c[4:]+c[:4]) != 1 {
		return "", ErrIBANCheck
	}
	if c[:2] == "ES" && !cccOK(c[4:]) {
		return "", ErrIBANCheck
	}
	return c, nil
}

// InSEPA reports whether an IBAN (compact or formatted) belongs to a
// country in the SEPA schemes' scope, so it can be debited by SEPA direct
// debit. It does not validate the IBAN.
func InSEPA(iban string) bool {
	c, _ := compact(iban, nil)
	c = strings.TrimPrefix(c, "IBAN")
	return len(c) >= 2 && ibanRegistry[c[:2]].sepa
}

// FormatIBAN groups in 4s for display: "ES91 2100 0418 4502 0005 1332". It
// takes the compact or an already grouped form and does not validate.
func FormatIBAN(iban string) string {
	var b strings.Builder
	n := 0
	for _, r := range iban {
		if separator(r) {
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		if n > 0 && n%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// bbanShape checks a BBAN against a registry structure such as "4n4n12c".
func bbanShape(bban, spec string) bool {
	pos := 0
	for i := 0; i < len(spec); {
		n := 0
		for ; spec[i] >= '0' && spec[i] <= '9'; i++ {
			n = n*10 + int(spec[i]-'0')
		}
		class := spec[i]
		i++
		if pos+n > len(bban) {
			return false
		}
		for _, b := range []byte(bban[pos : pos+n]) {
			digit := b >= '0' && b <= '9'
			if class == 'n' && !digit || class == 'a' && !isUpper(b) || class == 'c' && !digit && !isUpper(b) {
				return false
			}
		}
		pos += n
	}
	return pos == len(bban)
}

// mod97 is ISO 7064 mod 97-10 over an upper-case alphanumeric string with
// letters counted as A=10 … Z=35 (RULES.md, IBAN row: move the first 4
// characters to the end, letters → 10–35, the number mod 97 must be 1).
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	return r
}

// cccOK checks the two control digits of a Spanish CCC, the 20-digit BBAN
// bank(4) office(4) DC(2) account(10) (RULES.md, IBAN row): the first DC
// covers "00"+bank+office, the second the account.
func cccOK(ccc string) bool {
	return ccc[8] == cccControl("00"+ccc[:8]) && ccc[9] == cccControl(ccc[10:])
}

// cccControl is the mod-11 control digit of 10 digits with weights
// 1,2,4,8,5,10,9,7,3,6: 11 − (sum mod 11), with 11 → 0 and 10 → 1.
func cccControl(digits string) byte {
	weights := [10]int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}
	sum := 0
	for i, w := range weights {
		sum += int(digits[i]-'0') * w
	}
	switch d := 11 - sum%11; d {
	case 11:
		return '0'
	case 10:
		return '1'
	default:
		return byte('0' + d)
	}
}

package ident

// Argentine CUIT / CUIL, per RULES.md "Argentina: CUIT / CUIL".

// cuitTypes are the valid two-digit type prefixes: 20, 23, 24, 27 persons;
// 30, 33, 34 companies; 50, 51, 55 international.
var cuitTypes = map[string]bool{
	"20": true, "23": true, "24": true, "27": true,
	"30": true, "33": true, "34": true,
	"50": true, "51": true, "55": true,
}

// normalizeCUIT validates a CUIT or CUIL and returns its 11 digits.
func normalizeCUIT(s string) (string, error) {
	c, ok := compact(s, nil)
	if !ok || len(c) != 11 || !Digits(c) || !cuitTypes[c[:2]] {
		return "", ErrTaxIDFormat
	}
	if d, ok := cuitCheckDigit(c[:10]); !ok || d != c[10] {
		return "", ErrTaxIDCheck
	}
	return c, nil
}

// cuitCheckDigit computes the check digit of the first 10 digits (RULES.md:
// r = Σ digit × weight mod 11, weights 5,4,3,2,7,6,5,4,3,2; D = 11 − r and
// 11 → 0). r = 1 would give 10: AFIP does not issue such numbers (it
// changes the type prefix to 23 or 33 instead), so ok is false and the
// CUIT is rejected, as RULES.md reads it. python-stdnum maps that case
// to 9 instead; should such a number exist after all, it is refused here.
func cuitCheckDigit(first10 string) (byte, bool) {
	weights := [10]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first10[i]-'0') * w
	}
	switch r := sum % 11; r {
	case 0:
		return '0', true
	case 1:
		return 0, false
	default:
		return byte('0' + 11 - r), true
	}
}

// FormatCUIT writes an 11-digit CUIT as TT-NNNNNNNN-D, e.g. "20-05536168-2";
// anything else is returned unchanged.
func FormatCUIT(cuit string) string {
	if len(cuit) != 11 || !Digits(cuit) {
		return cuit
	}
	return cuit[:2] + "-" + cuit[2:10] + "-" + cuit[10:]
}

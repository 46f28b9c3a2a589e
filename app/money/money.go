// Package money holds exact amounts as Pulso's users type and read them:
// minor units (cents) in int64 for money, shopspring decimals for
// quantities and rates, the conversions to PostgreSQL numeric, one parser
// for what a person types (Spanish, Mexican, Argentinian and English
// conventions) and the formatting per country and currency. No float64
// ever holds an amount.
package money

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
)

// MaxAmount bounds amounts typed into a form (a trillion in major units):
// far above any deal or price, far below overflowing int64 minor units when
// lines are summed. Imports of billing figures may go higher (Parse alone
// allows 15 integer digits).
const MaxAmount = 1_000_000_000_000_00

// ErrAmount is any text Parse refuses; forms show it as this i18n id.
var ErrAmount = errors.New("customers.amount_invalid")

// maxIntDigits keeps a parsed amount inside int64 cents with room to sum.
const maxIntDigits = 15

// commaDecimal says whether a country writes "1.234,56" (Spain,
// Argentina) rather than "1,234.56" (Mexico).
func commaDecimal(country string) bool { return country != "MX" }

// currencyCommaDecimal is the same by currency, for display: what the org's
// customers read.
func currencyCommaDecimal(currency string) bool { return currency != "MXN" }

var stripper = strings.NewReplacer("€", "", "$", "", " ", "", "\u00a0", "", "\u202f", "", "EUR", "", "MXN", "", "ARS", "")

// Parse reads a signed amount into minor units (cents), exactly.
//
// With a country, its convention decides: Spain and Argentina write
// "1.234,56", Mexico "1,234.56". Phones' numeric keypads often offer only
// the other mark, so a lone other mark followed by one or two digits
// ("1234.5" in Spain) is the decimal mark too; followed by three it groups
// thousands. Text with the country's own decimal mark and three decimals
// ("1,234" in Spain) is refused, not guessed.
//
// With country "" (an imported file of unknown origin) either convention
// is read: with both marks the last one is the decimal mark; with one, it
// is the decimal mark when it appears once and one or two digits follow.
//
// Currency symbols and codes and spaces are ignored. More than two
// decimals would need rounding, which is the user's call, so it is an
// error: an amount a person typed is never silently changed.
func Parse(s, country string) (int64, error) {
	s = stripper.Replace(strings.TrimSpace(s))
	if len(s) > 40 {
		return 0, ErrAmount
	}
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if s == "" {
		return 0, ErrAmount
	}
	dec := decimalMark(s, country)
	intPart, frac := s, ""
	group := byte(0) // the thousands separator the integer part may use
	if dec >= 0 {
		intPart, frac = s[:dec], s[dec+1:]
		if len(frac) == 0 || len(frac) > 2 {
			return 0, ErrAmount
		}
		group = '.'
		if s[dec] == '.' {
			group = ','
		}
	} else {
		switch {
		case country != "" && commaDecimal(country):
			group = '.'
		case country != "":
			group = ','
		case strings.Contains(s, "."):
			group = '.'
		default:
			group = ','
		}
	}
	whole, ok := ungroup(intPart, group)
	if !ok || len(whole) > maxIntDigits || frac != "" && !digits(frac) {
		return 0, ErrAmount
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, ErrAmount
	}
	if neg {
		n = -n
	}
	return n, nil
}

// decimalMark is the index of the decimal mark in s, or -1 for none.
func decimalMark(s, country string) int {
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	if country != "" {
		own, other := byte(','), byte('.')
		if !commaDecimal(country) {
			own, other = '.', ','
		}
		if i := strings.IndexByte(s, own); i >= 0 {
			return i // a second one makes the fraction fail
		}
		if i := strings.LastIndexByte(s, other); i >= 0 && strings.Count(s, string(other)) == 1 && len(s)-i-1 <= 2 {
			return i
		}
		return -1
	}
	switch {
	case lastDot >= 0 && lastComma >= 0:
		return max(lastDot, lastComma)
	case lastDot >= 0 || lastComma >= 0:
		i := max(lastDot, lastComma)
		if strings.Count(s, string(s[i])) == 1 && len(s)-i-1 != 3 {
			return i
		}
	}
	return -1
}

// ungroup strips thousands separators: 1 to 3 digits, then groups of
// exactly 3. Any other mark in the integer part is refused.
func ungroup(s string, group byte) (string, bool) {
	if !strings.ContainsAny(s, ".,") {
		return s, digits(s)
	}
	parts := strings.Split(s, string(group))
	if len(parts) == 1 || len(parts[0]) == 0 || len(parts[0]) > 3 {
		return "", false
	}
	for _, p := range parts[1:] {
		if len(p) != 3 {
			return "", false
		}
	}
	whole := strings.Join(parts, "")
	return whole, digits(whole)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ParseAmount is Parse for a form's amount (a price, a deal's value): never
// negative and at most MaxAmount.
func ParseAmount(s, country string) (int64, error) {
	n, err := Parse(s, country)
	if err != nil || n < 0 || n > MaxAmount {
		return 0, ErrAmount
	}
	return n, nil
}

// Format shows minor units the way the org's customers read money:
// EUR 1.234,56 €, MXN $1,234.56 MXN, ARS $ 1.234,56. Amounts are exact
// cents, so there is nothing to round.
func Format(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	dec, group := ",", "."
	if !currencyCommaDecimal(currency) {
		dec, group = ".", ","
	}
	num := grouped(strconv.FormatInt(minor/100, 10), group) + dec + twoDigits(minor%100)
	switch currency {
	case "EUR":
		// A no-break space: the symbol never wraps to a line of its own
		// in a narrow phone column.
		return sign + num + "\u00a0€"
	case "MXN":
		return sign + "$" + num + "\u00a0MXN"
	case "ARS":
		return sign + "$\u00a0" + num
	}
	return sign + num + "\u00a0" + currency
}

// Count writes a whole number of things the way the currency's country
// groups digits: 1.500 comprobantes in Spain and Argentina, 1,500 in
// Mexico.
func Count(n int64, currency string) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	group := "."
	if !currencyCommaDecimal(currency) {
		group = ","
	}
	return sign + grouped(strconv.FormatInt(n, 10), group)
}

func grouped(ws, group string) string {
	var b strings.Builder
	for i, r := range ws {
		if i > 0 && (len(ws)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func twoDigits(n int64) string { return strconv.FormatInt(n/10, 10) + strconv.FormatInt(n%10, 10) }

// Input writes minor units the way the org's users type amounts into a
// form (12,50 in Spain and Argentina, 12.50 in Mexico), ungrouped, so an
// edited value parses back with Parse unchanged.
func Input(minor int64, country string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	dec := "."
	if commaDecimal(country) {
		dec = ","
	}
	return sign + strconv.FormatInt(minor/100, 10) + dec + twoDigits(minor%100)
}

// Number writes an exact quantity, rate or discount as people read it in
// the currency's country, without trailing zeros: 21, 10,5, 5,2, 1,125
// (10.5 for MXN). The value is printed exactly, never rounded.
func Number(d decimal.Decimal, currency string) string {
	s := d.String()
	if !currencyCommaDecimal(currency) {
		return s
	}
	return strings.Replace(s, ".", ",", 1)
}

// NumberText is Number for a decimal stored as text (a frozen document's
// rate): "21.00" → "21", "5.20" → "5,2". Text that is not a number is
// returned as it is.
func NumberText(s, currency string) string {
	if s == "" {
		return ""
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	return Number(d, currency)
}

// ParseDecimal reads a quantity or percentage as typed on a phone: one
// decimal mark, comma or point, up to three decimals, no grouping.
func ParseDecimal(s string) (decimal.Decimal, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 16 || strings.Count(s, ",")+strings.Count(s, ".") > 1 {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(strings.Replace(s, ",", ".", 1))
	if err != nil || d.Exponent() < -3 {
		return decimal.Decimal{}, false
	}
	return d, true
}

// Numeric converts an exact decimal for pgx.
func Numeric(d decimal.Decimal) pgtype.Numeric {
	return pgtype.Numeric{Int: d.Coefficient(), Exp: d.Exponent(), Valid: true}
}

// Decimal converts a numeric column (NULL reads as zero).
func Decimal(n pgtype.Numeric) decimal.Decimal {
	if !n.Valid || n.Int == nil {
		return decimal.Zero
	}
	return decimal.NewFromBigInt(n.Int, n.Exp)
}

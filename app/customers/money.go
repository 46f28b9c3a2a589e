package customers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxAmount bounds typed amounts (a trillion in major units): far above any
// deal, far below overflowing int64 minor units.
const maxAmount = 1_000_000_000_000_00

var errAmount = errors.New("customers.amount_invalid")

// ParseAmount reads an amount typed in the org's country's way into minor
// units (cents), exactly, never through a float. Spain and Argentina write
// "1.234,56" (comma decimals, dot thousands), Mexico "1,234.56". Phones'
// numeric keypads often offer only one of the two marks, so a lone "other"
// mark followed by one or two digits ("1234.5" in Spain) is read as the
// decimal mark too. More than two decimals is refused, not rounded: an
// amount the user typed is never silently changed.
func ParseAmount(s, country string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "€"))
	s = strings.TrimSpace(strings.TrimPrefix(s, "$"))
	s = strings.ReplaceAll(s, " ", "")
	s = strings.ReplaceAll(s, "\u00a0", "")
	if s == "" || len(s) > 40 {
		return 0, errAmount
	}
	dec, group := ",", "."
	if country == "MX" {
		dec, group = ".", ","
	}
	if !strings.Contains(s, dec) && strings.Count(s, group) == 1 {
		if i := strings.LastIndex(s, group); len(s)-i-1 <= 2 && len(s)-i-1 >= 1 {
			s = s[:i] + dec + s[i+1:]
		}
	}
	whole, frac, hasFrac := strings.Cut(s, dec)
	if hasFrac && (len(frac) == 0 || len(frac) > 2 || !digits(frac)) {
		return 0, errAmount
	}
	if strings.Contains(whole, group) {
		// Grouped: 1 to 3 digits, then groups of exactly 3.
		parts := strings.Split(whole, group)
		if len(parts[0]) == 0 || len(parts[0]) > 3 {
			return 0, errAmount
		}
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return 0, errAmount
			}
		}
		whole = strings.Join(parts, "")
	}
	if !digits(whole) || len(whole) > 15 {
		return 0, errAmount
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > maxAmount {
		return 0, errAmount
	}
	return n, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// FormatMoney shows minor units the way the org's customers read money:
// EUR 1.234,56 €, MXN $1,234.56 MXN, ARS $ 1.234,56. Amounts are exact
// cents, so there is nothing to round.
func FormatMoney(minor int64, currency string) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	whole, cents := minor/100, minor%100
	dec, group := ",", "."
	if currency == "MXN" {
		dec, group = ".", ","
	}
	ws := strconv.FormatInt(whole, 10)
	var b strings.Builder
	for i, r := range ws {
		if i > 0 && (len(ws)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	num := b.String() + dec + strconv.FormatInt(cents/10, 10) + strconv.FormatInt(cents%10, 10)
	sign := ""
	if neg {
		sign = "-"
	}
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

// AmountInput writes cents the way the org's users type amounts into a
// form (12,50 in Spain and Argentina, 12.50 in Mexico), so an edited value
// parses back with ParseAmount unchanged.
func AmountInput(minor int64, country string) string {
	s := fmt.Sprintf("%d.%02d", minor/100, minor%100)
	if country != "MX" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

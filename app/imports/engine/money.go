package engine

import (
	"errors"
	"strings"
)

// ErrMoney is any amount ParseMoney refuses.
var ErrMoney = errors.New("not an amount")

// ParseMoney reads an amount as people type it in Spain, Mexico and
// Argentina into minor units (cents), exactly: no float ever holds it.
// "1.234,56", "1,234.56", "1234.56", "1234,5", "-12", "€ 1.234,56" all
// work. With both separators the last one is the decimal mark; with one,
// it is the decimal mark when one or two digits follow it once, and a
// thousands separator when groups of three follow. More than two decimals
// would need rounding, which is the user's call, so it is an error.
func ParseMoney(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer("€", "", "$", "", " ", "", "\u00a0", "", "\u202f", "", "EUR", "", "MXN", "", "ARS", "").Replace(s)
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if s == "" {
		return 0, ErrMoney
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	dec := -1 // index of the decimal mark
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = max(lastDot, lastComma)
	case lastDot >= 0 || lastComma >= 0:
		i, sep := max(lastDot, lastComma), s[max(lastDot, lastComma)]
		if strings.Count(s, string(sep)) == 1 && len(s)-i-1 != 3 {
			dec = i
		}
	}
	intPart, frac := s, ""
	if dec >= 0 {
		intPart, frac = s[:dec], s[dec+1:]
		if len(frac) == 0 || len(frac) > 2 {
			return 0, ErrMoney
		}
	}
	digits, err := groupedDigits(intPart, dec >= 0 && s[dec] == ',')
	if err != nil {
		return 0, err
	}
	for len(frac) < 2 {
		frac += "0"
	}
	all := digits + frac
	if len(all) > 17 { // beyond 10^15 units of currency: a typo, and near int64's edge
		return 0, ErrMoney
	}
	var n int64
	for _, c := range []byte(all) {
		if c < '0' || c > '9' {
			return 0, ErrMoney
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// groupedDigits strips thousands separators from the integer part, which
// must then be groups of three after the first (1–3 digits). decComma says
// the decimal mark is a comma, so the thousands separator must be the dot
// (and the other way round).
func groupedDigits(s string, decComma bool) (string, error) {
	if s == "" {
		return "", ErrMoney
	}
	if !strings.ContainsAny(s, ".,") {
		return s, nil
	}
	sep := ","
	if decComma || strings.Contains(s, ".") {
		sep = "."
	}
	if decComma && strings.Contains(s, ",") || !decComma && sep == "." && strings.Contains(s, ",") {
		return "", ErrMoney
	}
	groups := strings.Split(s, sep)
	if len(groups[0]) < 1 || len(groups[0]) > 3 {
		return "", ErrMoney
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return "", ErrMoney
		}
	}
	return strings.Join(groups, ""), nil
}

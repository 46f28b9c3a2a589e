package mercadolibre

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// maxAmountDigits keeps every amount inside int64 cents with room to sum
// (a quadrillion pesos is far beyond any order).
const maxAmountDigits = 15

// amount turns a JSON number as ML sent it into decimal text with exactly
// two decimals, working on the digits alone: "30000.0" → "30000.00",
// "15000.5" → "15000.50", "1.5e3" → "1500.00". Absent or null is "0.00"
// (ML writes 0 or null for "nothing refunded", "no shipping"). Non-zero
// digits past the cents are an error, never rounded (package doc).
func amount(field string, n json.Number) (string, error) {
	s := string(n)
	if s == "" {
		return "0.00", nil
	}
	out, err := normalize(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return out, nil
}

func normalize(s string) (string, error) {
	bad := fmt.Errorf("amount %q is not an exact two-decimal number", s)
	neg := strings.HasPrefix(s, "-")
	m := strings.TrimPrefix(s, "-")
	exp := 0
	if i := strings.IndexAny(m, "eE"); i >= 0 {
		e, err := strconv.Atoi(m[i+1:])
		if err != nil || e < -30 || e > 30 {
			return "", bad
		}
		exp, m = e, m[:i]
	}
	ip, fp, dot := strings.Cut(m, ".")
	if ip == "" || (dot && fp == "") || !digits(ip) || !digits(fp) {
		return "", bad
	}
	// All digits with the decimal point moved exp places to the right.
	all := ip + fp
	point := len(ip) + exp
	switch {
	case point < 0:
		all = strings.Repeat("0", -point) + all
		point = 0
	case point > len(all):
		all += strings.Repeat("0", point-len(all))
	}
	ip, fp = strings.TrimLeft(all[:point], "0"), all[point:]
	if ip == "" {
		ip = "0"
	}
	if len(fp) > 2 {
		if strings.Trim(fp[2:], "0") != "" {
			return "", bad
		}
		fp = fp[:2]
	}
	fp += strings.Repeat("0", 2-len(fp))
	if len(ip) > maxAmountDigits {
		return "", bad
	}
	if neg && (ip != "0" || fp != "00") {
		return "-" + ip + "." + fp, nil
	}
	return ip + "." + fp, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Cents reads an amount of an Order this package decoded (exact
// two-decimal text, see amount) as minor units; integer arithmetic only.
func Cents(s string) (int64, error) {
	return strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
}

func formatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

package mercadolibre

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAmount(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "0.00"},
		{"0", "0.00"},
		{"30000.0", "30000.00"},
		{"15000.5", "15000.50"},
		{"1234.56", "1234.56"},
		{"0.1", "0.10"},
		{"007.10", "7.10"},
		{"3.500", "3.50"},
		{"1e3", "1000.00"},
		{"1.5E+3", "1500.00"},
		{"12345E-2", "123.45"},
		{"5e-1", "0.50"},
		{"-12.5", "-12.50"},
		{"-0.0", "0.00"},
		{"90071992547409.93", "90071992547409.93"},
		{"999999999999999.99", "999999999999999.99"},
	} {
		got, err := amount("x", json.Number(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("%q → %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"1.005", "0.001", "1e-3", "1e31", "abc", "1..2", ".5", "1.", "--1", "1e", "1000000000000000.00", "0x10"} {
		if got, err := amount("x", json.Number(in)); err == nil {
			t.Errorf("%q accepted as %q", in, got)
		}
	}
}

func TestCents(t *testing.T) {
	for _, s := range []string{"0.00", "15000.50", "-3.05"} {
		c, err := Cents(s)
		if err != nil || formatCents(c) != s {
			t.Errorf("%s → %d → %s (%v)", s, c, formatCents(c), err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-3":                            0,
		"soon":                          0,
		"Mon, 10 Mar 2025 12:00:30 GMT": 30 * time.Second,
		"Mon, 10 Mar 2025 11:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
}

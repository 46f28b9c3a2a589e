package money

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// A form's amount, read the org's country's way (moved from customers).
func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in, country string
		want        int64
		ok          bool
	}{
		{"1.234,56", "ES", 123456, true},
		{"1234,56", "ES", 123456, true},
		{"1234,5", "ES", 123450, true},
		{"1234", "ES", 123400, true},
		{"1.234", "ES", 123400, true}, // a thousands dot, not decimals
		{"1.234.567", "ES", 123456700, true},
		{"1234.56", "ES", 123456, true}, // phone keypads offer only "."
		{"12.5", "ES", 1250, true},
		{"1.234,56 €", "ES", 123456, true},
		{"0", "ES", 0, true},
		{"1,234.56", "MX", 123456, true},
		{"$1,234.56", "MX", 123456, true},
		{"1234,56", "MX", 123456, true},
		{"$ 1.234,56", "AR", 123456, true},
		{"1,234", "MX", 123400, true},
		{"", "ES", 0, false},
		{"abc", "ES", 0, false},
		{"1,234", "ES", 0, false}, // three decimals: refused, not guessed
		{"1,2345", "ES", 0, false},
		{"1.23.4", "ES", 0, false},
		{"12.34.567,00", "ES", 0, false},
		{"1,234.56", "ES", 0, false}, // grouping after the decimal comma
		{"-5", "ES", 0, false},
		{"1e5", "ES", 0, false},
		{"1,", "ES", 0, false},
		{"99999999999999999999", "ES", 0, false},
		{"1000000000000,01", "ES", 0, false},
		{"1000000000000", "ES", 100000000000000, true},
	} {
		got, err := ParseAmount(tc.in, tc.country)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d ok=%v", tc.in, tc.country, got, err, tc.want, tc.ok)
		}
	}
}

// An imported figure of unknown origin (moved from the import engine).
func TestParseEitherConvention(t *testing.T) {
	ok := map[string]int64{
		"1.234,56": 123456, "1234.56": 123456, "1,234.56": 123456, "1234,56": 123456, "1234,5": 123450,
		"1234": 123400, "0": 0, "-12": -1200, "+3,1": 310, "€ 1.234,56": 123456, "1.234.567,89": 123456789,
		"1,234,567.89": 123456789, "1.234": 123400, "1,234": 123400, "12.5": 1250, " 7 ": 700,
		"1 234,56": 123456, "$1,234.00": 123400, "-0,01": -1, "999999999999999": 99999999999999900,
	}
	for in, want := range ok {
		got, err := Parse(in, "")
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", "abc", "1,2,3", "12.345,678", "1.2345", "1,23,456.00", "1.234,5,6", "12..5",
		"1,234.567", "1.234.56", "1e5", "0x10", "1.234,", ",5", "12,34.56", "1234.567", "9999999999999999"} {
		if got, err := Parse(in, ""); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.234,56", "1,234.56", "0,01", "€", "1..2", "９", "-1,234.5", "€ 12", "1,2,3"} {
		f.Add(s, "ES")
		f.Add(s, "MX")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, s, country string) {
		n, err := Parse(s, country)
		if err != nil {
			return
		}
		// What Format and Input write reads back as the same amount.
		cur := map[string]string{"MX": "MXN", "AR": "ARS"}[country]
		if cur == "" {
			cur, country = "EUR", "ES"
		}
		shown := strings.NewReplacer("\u00a0", " ", "MXN", "").Replace(Format(n, cur))
		if back, err := Parse(shown, country); err != nil || back != n {
			t.Fatalf("%q → %d → %q → %d, %v", s, n, shown, back, err)
		}
		if back, err := Parse(Input(n, country), country); err != nil || back != n {
			t.Fatalf("%q → %d → %q → %d, %v", s, n, Input(n, country), back, err)
		}
	})
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{123456, "EUR", "1.234,56\u00a0€"},
		{5, "EUR", "0,05\u00a0€"},
		{100000000, "EUR", "1.000.000,00\u00a0€"},
		{-123456, "EUR", "-1.234,56\u00a0€"},
		{123456, "MXN", "$1,234.56\u00a0MXN"},
		{123456, "ARS", "$\u00a01.234,56"},
		{0, "EUR", "0,00\u00a0€"},
		{99, "USD", "0,99\u00a0USD"},
	} {
		if got := Format(tc.minor, tc.currency); got != tc.want {
			t.Errorf("Format(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

// What a form shows an amount as parses back to the same cents.
func TestInputRoundTrips(t *testing.T) {
	for _, country := range []string{"ES", "MX", "AR"} {
		for _, minor := range []int64{0, 1, 9, 10, 99, 100, 12345, 123456789, -1, -150} {
			s := Input(minor, country)
			got, err := Parse(s, country)
			if err != nil || got != minor {
				t.Errorf("%s: %d → %q → %d (%v)", country, minor, s, got, err)
			}
		}
	}
	if got := Input(-150, "ES"); got != "-1,50" {
		t.Errorf("Input(-150) = %q", got)
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct{ in, currency, want string }{
		{"21", "EUR", "21"}, {"21.00", "EUR", "21"}, {"10.50", "EUR", "10,5"}, {"5.2", "EUR", "5,2"},
		{"1.125", "EUR", "1,125"}, {"0.5", "ARS", "0,5"}, {"10.5", "MXN", "10.5"}, {"-10.00", "EUR", "-10"},
	} {
		if got := Number(decimal.RequireFromString(tc.in), tc.currency); got != tc.want {
			t.Errorf("Number(%s, %s) = %q, want %q", tc.in, tc.currency, got, tc.want)
		}
		if got := NumberText(tc.in, tc.currency); got != tc.want {
			t.Errorf("NumberText(%s, %s) = %q, want %q", tc.in, tc.currency, got, tc.want)
		}
	}
	if NumberText("", "EUR") != "" || NumberText("x", "EUR") != "x" {
		t.Error("NumberText of empty or non-numbers")
	}
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "1,5": "1.5", "2.125": "2.125", " 3 ": "3"} {
		if d, ok := ParseDecimal(in); !ok || d.String() != want {
			t.Errorf("ParseDecimal(%q) = %s, %v", in, d, ok)
		}
	}
	for _, in := range []string{"", "1,2345", "1.2,3", "abc", "12345678901234567"} {
		if d, ok := ParseDecimal(in); ok {
			t.Errorf("ParseDecimal(%q) = %s, want refused", in, d)
		}
	}
}

func TestNumericRoundTrip(t *testing.T) {
	for _, s := range []string{"0", "21", "5.2", "-10.125", "1000000.001"} {
		d := decimal.RequireFromString(s)
		if back := Decimal(Numeric(d)); !back.Equal(d) {
			t.Errorf("%s → %s", s, back)
		}
	}
	if !Decimal(Numeric(decimal.Zero)).IsZero() {
		t.Error("zero")
	}
}

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n        int64
		currency string
		want     string
	}{
		{0, "EUR", "0"}, {999, "EUR", "999"}, {1500, "EUR", "1.500"}, {1000000, "ARS", "1.000.000"},
		{700000, "MXN", "700,000"}, {-1234, "EUR", "-1.234"},
	} {
		if got := Count(tt.n, tt.currency); got != tt.want {
			t.Errorf("Count(%d, %s) = %q, want %q", tt.n, tt.currency, got, tt.want)
		}
	}
}

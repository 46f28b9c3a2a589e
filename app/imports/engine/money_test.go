package engine

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	t.Parallel()
	ok := map[string]int64{
		"1.234,56": 123456, "1234.56": 123456, "1,234.56": 123456, "1234,56": 123456, "1234,5": 123450,
		"1234": 123400, "0": 0, "-12": -1200, "+3,1": 310, "€ 1.234,56": 123456, "1.234.567,89": 123456789,
		"1,234,567.89": 123456789, "1.234": 123400000 / 1000, "1,234": 123400, "12.5": 1250, " 7 ": 700,
		"1 234,56": 123456, "$1,234.00": 123400, "-0,01": -1, "999999999999999": 99999999999999900,
	}
	for in, want := range ok {
		got, err := ParseMoney(in)
		if err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", "abc", "1,2,3", "12.345,678", "1.2345", "1,23,456.00", "1.234,5,6", "12..5",
		"1,234.567", "1.234.56", "1e5", "0x10", "1.234,", ",5", "12,34.56", "1234.567", "9999999999999999"} {
		if got, err := ParseMoney(in); err == nil {
			t.Errorf("ParseMoney(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"1.234,56", "1234.56", "-1,234.5", "€ 12", "1,2,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseMoney(s)
		if err != nil {
			return
		}
		// Whatever parsed must print back to a form that parses the same.
		neg := n < 0
		if neg {
			n = -n
		}
		back := strconv.FormatInt(n/100, 10) + "." + strings.TrimPrefix(strconv.FormatInt(100+n%100, 10), "1")
		if neg {
			back = "-" + back
		}
		m, err := ParseMoney(back)
		if err != nil || (neg && m != -n) || (!neg && m != n) {
			t.Fatalf("%q → %d, printed %q → %d, %v", s, n, back, m, err)
		}
	})
}

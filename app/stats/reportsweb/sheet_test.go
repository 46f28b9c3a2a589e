package reportsweb

import (
	"testing"

	"pulso/app/stats"
)

func TestRatioAndAverageRoundHalfUpToOneDecimal(t *testing.T) {
	for _, c := range []struct {
		a, b int64
		want string
	}{{1, 3, "33.3"}, {2, 3, "66.7"}, {1, 8, "12.5"}, {-1, 8, "-12.5"}, {5, 5, "100"}, {0, 7, "0"}, {3, 2000, "0.2"}} {
		if got := ratio(c.a, c.b); got.none || got.d.String() != c.want {
			t.Errorf("ratio(%d, %d) = %s, want %s", c.a, c.b, got.d, c.want)
		}
	}
	if !ratio(1, 0).none || ratio(1, 0).display("EUR") != "—" {
		t.Error("a share of nothing is a figure")
	}
	if got := ratio(1, 8).display("EUR"); got != "12,5\u00a0%" {
		t.Errorf("12.5 %% in euros reads %q", got)
	}
	if got := ratio(1, 8).display("MXN"); got != "12.5\u00a0%" {
		t.Errorf("12.5 %% in pesos reads %q", got)
	}
	// 3 deals that spent 1, 2 and 4.5 days: 7.5 / 3 = 2.5 days.
	if got := average(int64(7.5*86400), 3); got.d.String() != "2.5" {
		t.Errorf("average %s", got.d)
	}
	if !average(100, 0).none {
		t.Error("the average of no deals is a figure")
	}
	if got := cents(123456).display("EUR"); got != "1.234,56\u00a0€" {
		t.Errorf("money reads %q", got)
	}
}

func TestParseMonth(t *testing.T) {
	for in, want := range map[string]string{"2026-01": "2026-01", "2026-12": "2026-12", "2000-01": "2000-01"} {
		if m, ok := parseMonth(in); !ok || m.String() != want {
			t.Errorf("%q → %v %v", in, m, ok)
		}
	}
	for _, in := range []string{"", "2026-13", "2026-00", "2026-1", "26-01", "1999-12", "3000-01", "2026-01-01", "enero", " 2026-01"} {
		if _, ok := parseMonth(in); ok {
			t.Errorf("%q parsed", in)
		}
	}
	if n := (stats.Span{From: stats.Month{Year: 2025, Month: 11}, To: stats.Month{Year: 2026, Month: 3}}).Months(); n != 4 {
		t.Errorf("Nov 2025 – Feb 2026 is %d months", n)
	}
}

func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2026-01", "2026-13", "x", "9999-99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := parseMonth(s)
		if !ok {
			return
		}
		if m.Year < 2000 || m.Year > 2999 || m.Month < 1 || m.Month > 12 || m.String() != s {
			t.Fatalf("%q → %v", s, m)
		}
	})
}

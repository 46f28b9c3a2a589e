package plans_test

import (
	"testing"

	"pulso/app/plans"
)

func TestReference(t *testing.T) {
	t.Parallel()
	if got := plans.Reference(12, 345); got != "upgrade:12:345" {
		t.Fatalf("Reference = %q", got)
	}
	for _, c := range []struct {
		in      string
		org, id int64
		ok      bool
	}{
		{"upgrade:12:345", 12, 345, true},
		{"upgrade:1:1", 1, 1, true},
		{"", 0, 0, false},
		{"upgrade:", 0, 0, false},
		{"upgrade:12", 0, 0, false},
		{"upgrade:12:", 0, 0, false},
		{"upgrade::345", 0, 0, false},
		{"upgrade:0:345", 0, 0, false},
		{"upgrade:-1:345", 0, 0, false},
		{"upgrade:12:345:6", 0, 0, false},
		{"upgrade:012:345", 0, 0, false}, // not what Reference writes
		{"upgrade:+12:345", 0, 0, false},
		{"UPGRADE:12:345", 0, 0, false},
		{"order:12:345", 0, 0, false},
		{"upgrade:12:99999999999999999999", 0, 0, false},
	} {
		org, id, ok := plans.ParseReference(c.in)
		if org != c.org || id != c.id || ok != c.ok {
			t.Errorf("ParseReference(%q) = %d, %d, %v; want %d, %d, %v", c.in, org, id, ok, c.org, c.id, c.ok)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"upgrade:12:345", "upgrade:0:1", "upgrade:1:1:1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		org, id, ok := plans.ParseReference(s)
		if ok && (org <= 0 || id <= 0 || plans.Reference(org, id) != s) {
			t.Fatalf("ParseReference(%q) = %d, %d accepted something Reference does not write", s, org, id)
		}
	})
}

func TestAmount(t *testing.T) {
	t.Parallel()
	for minor, want := range map[int64]string{1: "0.01", 10: "0.10", 100: "1.00", 1422: "14.22", 1990000: "19900.00"} {
		if got := plans.Amount(minor); got != want {
			t.Errorf("Amount(%d) = %q, want %q", minor, got, want)
		}
	}
}

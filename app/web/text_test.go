package web

import (
	"pulso/app/ident"
	"strings"
	"testing"
)

func TestSearchPattern(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" = nil
	}{
		{"  Aurora ", "%aurora%"},
		{"100%_x\\", `%100\%\_x\\%`},
		{"600 11 22 33", "%600112233%"},
		{"+34 (600) 11-22-33", "%+34600112233%"},
		{"12", "%12%"},
		{"600 11-22.33", "%600112233%"},
		{"Sol 2", "%sol 2%"},
		{" Sol_50% ", `%sol\_50\%%`},
		{"B-123", "%b-123%"},
		{"", ""},
		{"   ", ""},
		{"a\x00", ""},
		{strings.Repeat("x", 201), ""},
	} {
		got := SearchPattern(tc.in)
		if (got == nil) != (tc.want == "") || got != nil && *got != tc.want {
			t.Errorf("SearchPattern(%q) = %v, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzSearchPattern(f *testing.F) {
	for _, s := range []string{"aurora", "600 11 22 33", "%_\\", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := SearchPattern(s)
		if p == nil {
			return
		}
		if !strings.HasPrefix(*p, "%") || !strings.HasSuffix(*p, "%") || !ident.CleanText(*p) {
			t.Fatalf("SearchPattern(%q) = %q", s, *p)
		}
		inner := (*p)[1 : len(*p)-1]
		// Every wildcard left inside is escaped.
		for i := 0; i < len(inner); i++ {
			if inner[i] == '\\' {
				i++
				continue
			}
			if inner[i] == '%' || inner[i] == '_' {
				t.Fatalf("unescaped wildcard in %q", *p)
			}
		}
	})
}

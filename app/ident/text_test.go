package ident

import "testing"

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"Cafetería Aurora", true},
		{"línea 1\nlínea 2\ttab\r\n", true},
		{"", true},
		{"a\x00b", false},
		{"bell\x07", false},
		{"esc\x1b[0m", false},
		{"\xff\xfe", false},
	} {
		if got := CleanText(tc.in); got != tc.want {
			t.Errorf("CleanText(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

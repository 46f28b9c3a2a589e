package spreadsheet

import "testing"

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(1)": "'=HYPERLINK(1)", "+34600": "+34600", "+34 =1": "'+34 =1", "-1+1": "'-1+1", "@x": "'@x",
		"\t=1+1": "'\t=1+1", "\r=1+1": "'\r=1+1", "Sol": "Sol", "": "", "+": "'+", "a=1": "a=1",
	} {
		if got := Cell(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

package books

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse("2006-01-02", s); return v }
	for _, tc := range []struct {
		year, code string
		from, to   string
		row        string // the Periodo of a row dated on from
	}{
		{"2026", "1T", "2026-01-01", "2026-03-31", "1T"},
		{"2026", "4t", "2026-10-01", "2026-12-31", "4T"},
		{" 2024 ", "02", "2024-02-01", "2024-02-29", "02"},
		{"2026", "12", "2026-12-01", "2026-12-31", "12"},
		{"2026", "0A", "2026-01-01", "2026-12-31", "1T"},
	} {
		p, err := ParsePeriod(tc.year, tc.code)
		if err != nil {
			t.Errorf("%s %s: %v", tc.year, tc.code, err)
			continue
		}
		from, to := p.Bounds()
		if !from.Equal(d(tc.from)) || !to.Equal(d(tc.to)) || p.rowPeriod(from) != tc.row {
			t.Errorf("%s %s: %s–%s row %s", tc.year, tc.code, from.Format(time.DateOnly), to.Format(time.DateOnly), p.rowPeriod(from))
		}
	}
	for _, bad := range [][2]string{{"", "1T"}, {"26", "1T"}, {"2026", ""}, {"2026", "5T"}, {"2026", "0T"}, {"2026", "13"}, {"2026", "00"},
		{"2026", "1A"}, {"2026", "T1"}, {"dos mil", "1T"}, {"3000", "1T"}} {
		if _, err := ParsePeriod(bad[0], bad[1]); err != ErrPeriod {
			t.Errorf("%q %q accepted", bad[0], bad[1])
		}
	}
	if q := QuarterOf(d("2026-05-31")); q.Year != 2026 || q.Code != "2T" || q.FileName("csv") != "libro-expedidas-2026-2T.csv" {
		t.Errorf("quarter of May: %+v", q)
	}
}

// A recipient's name that a spreadsheet would run as a formula is made
// inert; Pulso's own negative amounts are not.
func TestCSVCellsAreInert(t *testing.T) {
	total := int64(-1210)
	e := Entry{Year: 2026, Period: "4T", InvoiceType: "R1", IssueDate: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Series: "R", Number: "2026-0001",
		RecipientID: "B87654321", RecipientName: "=HYPERLINK(\"http://x\")", Clave: "01", Calificacion: "S1", Total: &total, Base: -1000, Tax: -210}
	var b bytes.Buffer
	if err := WriteCSV(&b, []Entry{e}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, `"'=HYPERLINK(""http://x"")"`) || !strings.Contains(out, ";-12,10;-10,00;") {
		t.Errorf("csv: %s", out)
	}
}

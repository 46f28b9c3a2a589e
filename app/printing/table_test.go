package printing_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/printing"
)

func reportTable(rows, months int) printing.Table {
	t := printing.Table{Title: "Importe ganado por comercial", Lines: []string{"Ventas Norte S.L.", "Periodo: 01/2026 – 12/2026"},
		Generated: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)}
	t.Columns = append(t.Columns, printing.Column{Label: "Comercial"})
	for m := range months {
		t.Columns = append(t.Columns, printing.Column{Label: fmt.Sprintf("%02d/2026", m+1), Right: true})
	}
	for r := range rows {
		cells := []string{fmt.Sprintf("Comercial número %d con un nombre largo", r)}
		for m := range months {
			cells = append(cells, fmt.Sprintf("%d.%03d,%02d €", r+1, m*37%1000, m))
		}
		t.Rows = append(t.Rows, printing.Row{Cells: cells})
	}
	return t
}

func TestTableIsAPureFunctionAndPrintsItsText(t *testing.T) {
	tb := reportTable(3, 2)
	a, err := printing.RenderTable(tb)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := printing.RenderTable(tb)
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of one table differ")
	}
	if !bytes.HasPrefix(a, []byte("%PDF-1.")) {
		t.Fatal("not a PDF")
	}
	text := apptest.PDFPlainText(t, a)
	for _, want := range []string{"Importe ganado por comercial", "Ventas Norte S.L.", "02/2026", "3.037,01 €", "Comercial número 2"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	if bytes.Contains(a, []byte("/MediaBox [0 0 841.89 595.28]")) {
		t.Error("a three-column table printed in landscape")
	}
}

func TestWideTableTurnsLandscapeAndLongOneRepeatsItsHeader(t *testing.T) {
	a, err := printing.RenderTable(reportTable(80, 13))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(a, []byte("/MediaBox [0 0 841.89 595.28]")) {
		t.Error("fourteen columns should print in landscape")
	}
	text := apptest.PDFPlainText(t, a)
	pages := strings.Count(strings.TrimRight(text, "\f\n"), "\f") + 1
	if pages < 2 {
		t.Fatalf("80 rows on %d page", pages)
	}
	if got := strings.Count(text, "13/2026"); got != pages {
		t.Errorf("the header is printed %d times on %d pages", got, pages)
	}
	if !strings.Contains(text, "Comercial número 79") {
		t.Error("the last row is missing")
	}
}

func TestTableRefusesRowsThatDoNotMatchItsColumns(t *testing.T) {
	tb := reportTable(2, 2)
	tb.Rows[1].Cells = tb.Rows[1].Cells[:2]
	if _, err := printing.RenderTable(tb); !errors.Is(err, printing.ErrTable) {
		t.Fatalf("short row: %v", err)
	}
	if _, err := printing.RenderTable(printing.Table{Title: "x"}); !errors.Is(err, printing.ErrTable) {
		t.Fatalf("no columns: %v", err)
	}
}

// A one-page document's content goes out plain (compressing it would cost
// more than the few KB it saves); a document of several pages has every
// page's content compressed. Both read back the same text.
func TestOnlyDocumentsOfSeveralPagesAreCompressed(t *testing.T) {
	contents := func(pdf []byte) (plain, flate int) {
		for _, dict := range bytes.Split(pdf, []byte("obj\n<<"))[1:] {
			dict, _, _ = bytes.Cut(dict, []byte(">>"))
			switch {
			case bytes.Contains(dict, []byte("/Type")) || bytes.Contains(dict, []byte("/Subtype")):
			case bytes.Contains(dict, []byte("/FlateDecode")):
				flate++
			case bytes.Contains(dict, []byte("/Length")):
				plain++
			}
		}
		return plain, flate
	}
	one, err := printing.RenderTable(reportTable(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	if plain, flate := contents(one); plain != 1 || flate != 0 {
		t.Errorf("one page: %d plain and %d compressed contents, want 1 and 0", plain, flate)
	}
	many, err := printing.RenderTable(reportTable(200, 4))
	if err != nil {
		t.Fatal(err)
	}
	plain, flate := contents(many)
	if plain != 0 || flate < 3 {
		t.Errorf("several pages: %d plain and %d compressed contents, want 0 and at least 3", plain, flate)
	}
	if text := apptest.PDFText(t, many); !strings.Contains(text, "(Comercial n\xfamero 199 con un nombre largo)") {
		t.Error("the compressed pages do not read back")
	}
}

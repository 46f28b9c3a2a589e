package printing_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/printing"
)

func TestPDFIsAPureFunctionOfTheDocument(t *testing.T) {
	d := benchDoc(35, true) // two pages
	a, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of one document differ: a sent version's hash could not be checked")
	}
	if !bytes.HasPrefix(a, []byte("%PDF-1.")) || !bytes.Contains(a, []byte("/Count 2")) {
		t.Fatal("35 lines should print on two pages")
	}
	d.Signature = nil
	c, _ := printing.Render(d)
	if bytes.Equal(a, c) {
		t.Fatal("the signature changes nothing in the PDF")
	}
}

func TestPDFRefusesImagesItCannotEmbed(t *testing.T) {
	d := benchDoc(1, false)
	d.Logo = []byte("GIF89a not really")
	if _, err := printing.Render(d); !errors.Is(err, printing.ErrImage) {
		t.Fatalf("bad logo: %v", err)
	}
}

func TestQRSlotPrintsTheCodeWithItsCaptions(t *testing.T) {
	d := benchDoc(3, false)
	plain, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	d.QR = &printing.QR{Code: stripes(25), Size: 35, Above: "QR tributario:", Below: "VERI*FACTU"}
	a, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := printing.Render(d)
	if !bytes.Equal(a, b) {
		t.Fatal("a document with a QR renders differently twice")
	}
	text := apptest.PDFText(t, a)
	for _, want := range []string{"(QR tributario:)Tj", "(VERI*FACTU)Tj", "(P-2026-0042 \\(v2\\))Tj"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF with QR lacks %q", want)
		}
	}
	if strings.Contains(apptest.PDFText(t, plain), "QR tributario") {
		t.Error("a document without QR prints its caption")
	}
	// Drawn, not embedded: one path of one rectangle per row's run of
	// dark modules (stripes: every other row dark across, 25 modules), in
	// module units, filled once; no image.
	var runs []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasSuffix(l, " 1 re") {
			runs = append(runs, l)
		}
	}
	if len(runs) != 13 || runs[0] != "0 0 25 1 re" || runs[12] != "0 24 25 1 re" {
		t.Errorf("QR runs %q, want 13 from \"0 0 25 1 re\" to \"0 24 25 1 re\"", runs)
	}
	if !strings.Contains(text, "0 24 25 1 re\nf Q") {
		t.Error("the QR path is not filled and closed")
	}
	if bytes.Count(a, []byte("/Subtype /Image")) != bytes.Count(plain, []byte("/Subtype /Image")) {
		t.Error("the QR is embedded as an image")
	}
	d.QR.Code = nil
	if _, err := printing.Render(d); !errors.Is(err, printing.ErrQR) {
		t.Fatalf("QR slot without a code: %v", err)
	}
}

func TestNotesPrintUnderTheTotals(t *testing.T) {
	d := benchDoc(2, false)
	d.Notes = []string{"Operación exenta de IVA (art. 20 de la Ley 37/1992)"}
	b, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	text := apptest.PDFText(t, b)
	total, note := strings.Index(text, "(Total)"), strings.Index(text, "(Operaci\xf3n exenta de IVA \\(art. 20 de la Ley 37/1992\\))")
	if total < 0 || note < total {
		t.Fatalf("note at %d, total at %d", note, total)
	}
}

// An invoice's extra head lines print under its date, and a buyer without a
// name (a simplified invoice names none) leaves no empty "Cliente" block.
func TestHeadLinesAndANamelessBuyer(t *testing.T) {
	d := benchDoc(1, false)
	d.HeadLines = []string{"Fecha de operación: 30/11/2026"}
	d.Buyer = printing.Party{}
	b, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	text := apptest.PDFText(t, b)
	if !strings.Contains(text, "(Fecha de operaci\xf3n: 30/11/2026)Tj") {
		t.Error("head line not printed")
	}
	if strings.Contains(text, "(CLIENTE)Tj") {
		t.Error("a nameless buyer still prints its label")
	}
	if !strings.Contains(text, "(EMISOR)Tj") {
		t.Error("the seller is gone too")
	}
}

func TestAddressLine(t *testing.T) {
	for _, c := range [][5]string{
		{"Calle Mayor 1", "28013", "Madrid", "Madrid", "Calle Mayor 1, 28013 Madrid, Madrid"},
		{"", "", "Zaragoza", "", "Zaragoza"},
		{" ", "", "", "", ""},
	} {
		if got := printing.AddressLine(c[0], c[1], c[2], c[3]); got != c[4] {
			t.Errorf("%q: got %q", c, got)
		}
	}
}

// stripes is an n × n code whose even rows are dark across.
type stripes int

func (s stripes) Len() int { return int(s) }

func (s stripes) Dark(_, y int) bool { return y%2 == 0 }

package quotes_test

import (
	"bytes"
	"errors"
	"testing"

	"pulso/app/quotes"
)

func TestPDFIsAPureFunctionOfTheDocument(t *testing.T) {
	d := benchDoc(35, true) // two pages
	a, err := quotes.RenderPDF(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := quotes.RenderPDF(d)
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
	c, _ := quotes.RenderPDF(d)
	if bytes.Equal(a, c) {
		t.Fatal("the signature changes nothing in the PDF")
	}
}

func TestPDFRefusesImagesItCannotEmbed(t *testing.T) {
	d := benchDoc(1, false)
	d.Logo = []byte("GIF89a not really")
	if _, err := quotes.RenderPDF(d); !errors.Is(err, quotes.ErrImage) {
		t.Fatalf("bad logo: %v", err)
	}
}

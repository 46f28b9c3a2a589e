package printing_test

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"testing"

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

// pageText is the text drawn on a PDF's pages: fpdf compresses each page's
// content stream with Flate and writes strings as (…) Tj.
func pageText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			break
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("\nendstream"))
		if j < 0 {
			break
		}
		if zr, err := zlib.NewReader(bytes.NewReader(rest[:j])); err == nil {
			b, _ := io.ReadAll(zr)
			out.Write(b)
		}
		rest = rest[j:]
	}
	return out.String()
}

func TestQRSlotPrintsTheCodeWithItsCaptions(t *testing.T) {
	d := benchDoc(3, false)
	plain, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	d.QR = &printing.QR{PNG: benchPNG(116, 116), Size: 35, Above: "QR tributario:", Below: "VERI*FACTU"}
	a, err := printing.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := printing.Render(d)
	if !bytes.Equal(a, b) {
		t.Fatal("a document with a QR renders differently twice")
	}
	text := pageText(t, a)
	for _, want := range []string{"(QR tributario:)Tj", "(VERI*FACTU)Tj", "(P-2026-0042 \\(v2\\))Tj"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF with QR lacks %q", want)
		}
	}
	if strings.Contains(pageText(t, plain), "QR tributario") {
		t.Error("a document without QR prints its caption")
	}
	if !bytes.Contains(a, []byte("/Subtype /Image")) || bytes.Count(a, []byte("/Subtype /Image")) <= bytes.Count(plain, []byte("/Subtype /Image")) {
		t.Error("the QR image is not embedded")
	}
	d.QR.PNG = []byte("not a png")
	if _, err := printing.Render(d); !errors.Is(err, printing.ErrImage) {
		t.Fatalf("bad QR image: %v", err)
	}
}

package apptest

import (
	"bytes"
	"compress/zlib"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PDFText is the text a PDF draws on its pages, as its content streams
// hold it: fpdf writes them plain, or compressed with Flate (a document of
// several pages), with strings as (…)Tj in Windows-1252 and ( ) \ escaped.
// Images are left out.
func PDFText(t testing.TB, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			break
		}
		// The stream's dictionary is the last one opened before it.
		dict := rest[:i]
		if k := bytes.LastIndex(dict, []byte("<<")); k >= 0 {
			dict = dict[k:]
		}
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("\nendstream"))
		if j < 0 {
			break
		}
		switch {
		case bytes.Contains(dict, []byte("/Subtype")): // an image
		case bytes.Contains(dict, []byte("/FlateDecode")):
			if zr, err := zlib.NewReader(bytes.NewReader(rest[:j])); err == nil {
				b, _ := io.ReadAll(zr)
				out.Write(b)
			}
		case !bytes.Contains(dict, []byte("/Filter")):
			out.Write(rest[:j])
		}
		// Past "endstream", whose own "stream\n" would otherwise be taken
		// for the next stream's start.
		rest = rest[j+len("\nendstream"):]
	}
	return out.String()
}

// PDFFirstPageQR is what the QR code on a PDF's first page says: the page
// rendered at 300 dpi by pdftoppm, the code read by zbarimg, as a phone
// would. It fails the test when the tools are missing (Debian:
// poppler-utils, zbar-tools) or no code is found.
func PDFFirstPageQR(t testing.TB, pdf []byte) string {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "zbarimg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (Debian: poppler-utils, zbar-tools)", tool)
		}
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-png", f, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) != 1 {
		t.Fatalf("pdftoppm rendered %v", pages)
	}
	out, err := exec.Command("zbarimg", "--quiet", "--raw", "-Sbinary", pages[0]).Output()
	if err != nil {
		t.Fatalf("zbarimg finds no code on the first page: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// PDFPlainText is the text of a PDF as a reader copies it, page by page
// (pages separated by form feeds), through pdftotext -layout: unlike
// PDFText it sees text as drawn, not as the content streams spell it. It
// fails the test when the tool is missing (Debian: poppler-utils).
func PDFPlainText(t testing.TB, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is not installed (Debian: poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

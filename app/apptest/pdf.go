package apptest

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"testing"
)

// PDFText is the text a PDF draws on its pages, as its content streams
// hold it: fpdf compresses each with Flate and writes strings as (…)Tj in
// Windows-1252, with ( ) and \ escaped.
func PDFText(t testing.TB, pdf []byte) string {
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

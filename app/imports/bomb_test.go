package imports_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/xuri/excelize/v2"

	"pulso/queries"
)

// rezip copies a real workbook entry by entry and lets change replace or
// add entries: change gets the zip writer and the entry's name ("" once
// at the end, to add) and reports whether it wrote the entry itself.
func rezip(t *testing.T, change func(zw *zip.Writer, name string) bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"Nombre"})
	_ = f.SetSheetRow("Sheet1", "A2", &[]any{"Acme"})
	var src bytes.Buffer
	if err := f.Write(&src); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(src.Bytes()), int64(src.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, e := range zr.File {
		if change(zw, e.Name) {
			continue
		}
		if err := zw.Copy(e); err != nil {
			t.Fatal(err)
		}
	}
	change(zw, "")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

const sheetEntry = "xl/worksheets/sheet1.xml"

// sheetWithPadding is a valid first sheet whose XML carries pad bytes of
// blanks between its rows: it unzips to pad bytes from a few hundred KB.
func sheetWithPadding(t *testing.T, pad int) func(*zip.Writer, string) bool {
	return func(zw *zip.Writer, name string) bool {
		if name != sheetEntry {
			return false
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+
			`<row r="1"><c r="A1" t="inlineStr"><is><t>Nombre</t></is></c></row>`)
		blanks := bytes.Repeat([]byte(" "), 1<<20)
		for n := 0; n < pad; n += len(blanks) {
			w.Write(blanks[:min(len(blanks), pad-n)])
		}
		io.WriteString(w, `<row r="2"><c r="A2" t="inlineStr"><is><t>Acme</t></is></c></row></sheetData></worksheet>`)
		return true
	}
}

// sheetClaiming replaces the first sheet by an entry whose central
// directory claims size bytes; its data is a little deflated XML.
func sheetClaiming(t *testing.T, size uint64) func(*zip.Writer, string) bool {
	return func(zw *zip.Writer, name string) bool {
		if name != sheetEntry {
			return false
		}
		var data bytes.Buffer
		fw, _ := flate.NewWriter(&data, flate.BestCompression)
		io.WriteString(fw, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData></sheetData></worksheet>`)
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: uint64(data.Len()), UncompressedSize64: size, CRC32: 1})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data.Bytes())
		return true
	}
}

// manyEntries adds n empty entries to the workbook.
func manyEntries(t *testing.T, n int) func(*zip.Writer, string) bool {
	return func(zw *zip.Writer, name string) bool {
		if name != "" {
			return false
		}
		for i := 0; i < n; i++ {
			if _, err := zw.Create(fmt.Sprintf("customXml/item%d.xml", i)); err != nil {
				t.Fatal(err)
			}
		}
		return true
	}
}

// An XLSX is a zip: one that would unzip to far more than it weighs is
// refused from its central directory, in the preview and in the job, and
// the job ends there instead of retrying.
func TestXLSXBombsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	honest := rezip(t, func(*zip.Writer, string) bool { return false })
	bombs := map[string][]byte{
		"200 MB of blanks": rezip(t, sheetWithPadding(t, 200<<20)),
		"2 GB declared":    rezip(t, sheetClaiming(t, 2<<30)),
		"20 000 entries":   rezip(t, manyEntries(t, 20000)),
	}
	// The honest workbook previews; the helpers build what they say.
	id := w.importID(t, w.upload(t, "bien.xlsx", "leads", honest))
	if page := w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10)); page.Status != http.StatusOK || !strings.Contains(page.Body, "Acme") {
		t.Fatalf("honest workbook preview: %d", page.Status)
	}
	for name, data := range bombs {
		if len(data) > 4<<20 {
			t.Fatalf("%s weighs %d bytes: not a bomb", name, len(data))
		}
		id := w.importID(t, w.upload(t, "bomba.xlsx", "leads", data))
		page := w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10))
		if page.Status != http.StatusOK || !strings.Contains(page.Body, `data-testid="preview-error"`) || !strings.Contains(page.Body, "dañado o demasiado grande") {
			t.Errorf("%s: preview %d without the message", name, page.Status)
		}
		// The job, had it been queued anyway (the preview is advice).
		if r := w.AdminC.Post(fmt.Sprintf("/imports/%d/start", id), url.Values{"map_name": {"0"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("%s: start %d %.300s", name, r.Status, r.Body)
		}
		if state := w.work(t, id); state != rivertype.JobStateCompleted {
			t.Errorf("%s: job %s, want completed (no retry)", name, state)
		}
		imp, err := w.Env.Q.GetImport(ctx, queries.GetImportParams{OrgID: w.Org.ID, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != "failed" || imp.Failure != "imports.err_xlsx_too_big" {
			t.Errorf("%s: import %s %q", name, imp.Status, imp.Failure)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Errorf("%d leads from bombs", n)
	}
}

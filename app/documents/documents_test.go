package documents_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/documents"
	"pulso/app/files"
	"pulso/app/web"
	"pulso/queries"
)

type world struct {
	*apptest.World
	lead queries.Lead
}

func newWorld(t *testing.T, opts ...apptest.Option) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Docs S.L.", "docs.test", opts...)}
	env := w.Env
	var err error
	w.lead, err = env.Q.CreateLead(context.Background(), queries.CreateLeadParams{
		OrgID: w.Org.ID, Name: "Potencial Docs", Country: "ES", Source: "manual", OwnerID: &w.Rep.ID, Status: "nuevo", Tags: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) leadPath() string { return "/leads/" + itoa(w.lead.ID) }

// stored reads a file's bytes back from the store.
func (w *world) stored(t *testing.T, fileID int64) []byte {
	t.Helper()
	rc, _, err := files.New(w.Env.DB).Open(context.Background(), w.Org.ID, fileID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var pdf = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")

var downloadLink = regexp.MustCompile(`href="(/documents/\d+)"`)

func TestUploadDownloadRoundTrip(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rep := w.Env.LoginAs(w.Rep)
	rep.HTMX = true

	empty := rep.Get(w.leadPath() + "/documents")
	if empty.Status != http.StatusOK || !strings.Contains(empty.Body, `data-testid="documents"`) || strings.Contains(empty.Body, "<html") {
		t.Fatalf("fragment: %d %.400s", empty.Status, empty.Body)
	}
	res := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "Oferta Año.pdf", Data: pdf})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Oferta Año.pdf") || !strings.Contains(res.Body, w.Rep.Name) {
		t.Fatalf("upload: %d %.600s", res.Status, res.Body)
	}
	var d queries.Document
	row := w.Env.DB.QueryRow(context.Background(), `SELECT id, content_type, size_bytes, sha256, uploaded_by, file_id FROM documents WHERE org_id = $1 AND lead_id = $2`, w.Org.ID, w.lead.ID)
	if err := row.Scan(&d.ID, &d.ContentType, &d.SizeBytes, &d.Sha256, &d.UploadedBy, &d.FileID); err != nil {
		t.Fatal(err)
	}
	if d.ContentType != "application/pdf" || d.SizeBytes != int64(len(pdf)) || d.UploadedBy == nil || *d.UploadedBy != w.Rep.ID {
		t.Errorf("stored %+v", d)
	}
	if got := w.stored(t, d.FileID); !bytes.Equal(got, pdf) {
		t.Fatalf("stored bytes %q", got)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1 AND id = $2 AND sha256 = $3`, w.Org.ID, d.FileID, d.Sha256); n != 1 {
		t.Error("the document's sha256 is not its file's")
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND lead_id = $2 AND kind = 'document' AND actor_id = $3 AND summary = 'Oferta Año.pdf'`, w.Org.ID, w.lead.ID, w.Rep.ID); n != 1 {
		t.Errorf("%d document activities, want 1", n)
	}

	m := downloadLink.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatal("no download link in the panel")
	}
	got := rep.Get(m[1])
	if got.Status != http.StatusOK || got.Body != string(pdf) {
		t.Fatalf("download: %d %q", got.Status, got.Body)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := got.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="Oferta A_o.pdf"`) || !strings.Contains(cd, "filename*=UTF-8''Oferta%20A%C3%B1o.pdf") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if got.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}

	// A manager sees the team's documents; the admin too.
	if r := w.Env.LoginAs(w.Manager).Get(m[1]); r.Status != http.StatusOK {
		t.Errorf("manager download: %d", r.Status)
	}
	// Without htmx the upload redirects back to the lead.
	plain := w.Env.LoginAs(w.Rep)
	if r := plain.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "nota.txt", Data: []byte("hola\n")}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != w.leadPath() {
		t.Errorf("plain upload: %d %q", r.Status, r.Header.Get("Location"))
	}
}

func TestSniffingDecidesTheType(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rep := w.Env.LoginAs(w.Rep)
	rep.HTMX = true
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	if r := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "contrato.pdf", Data: png}); r.Status != http.StatusOK {
		t.Fatalf("png upload: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1 AND filename = 'contrato.pdf' AND content_type = 'image/png'`, w.Org.ID); n != 1 {
		t.Error("a .pdf name with PNG bytes was not stored as image/png")
	}

	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 100)...)
	r := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "factura.pdf", Data: elf})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "No se admiten programas") {
		t.Fatalf("ELF: %d %.400s", r.Status, r.Body)
	}
	html := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "x.txt", Data: []byte("<html><script>alert(1)</script></html>")})
	if html.Status != http.StatusUnprocessableEntity || !strings.Contains(html.Body, "Tipo de archivo no admitido") {
		t.Fatalf("HTML: %d %.400s", html.Status, html.Body)
	}
	if r := rep.PostFiles(w.leadPath()+"/documents", nil); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Elija un archivo") {
		t.Fatalf("no file: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Errorf("%d documents after refusals, want 1", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Errorf("refused uploads left bytes: %d files, want 1", n)
	}
}

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *config.Config) { c.DocumentMaxBytes = 1 << 20 })
	rep := w.Env.LoginAs(w.Rep)
	rep.HTMX = true
	big := bytes.Repeat([]byte("a"), 1<<20+1)
	r := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "grande.txt", Data: big})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "supera el máximo de 1 MB") {
		t.Fatalf("too large: %d %.400s", r.Status, r.Body)
	}
	exact := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "justo.txt", Data: big[:1<<20]})
	if exact.Status != http.StatusOK {
		t.Fatalf("at the limit: %d %.300s", exact.Status, exact.Body)
	}
	// The store enforces the limit on the stream too, not only on the
	// declared size, and keeps nothing of a stream over it.
	if _, err := documents.Store(context.Background(), files.New(w.Env.DB), w.Org.ID, bytes.NewReader(big), 1<<20); err != documents.ErrTooLarge {
		t.Errorf("Store over the limit: %v", err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Errorf("%d files after refusing two, want the one at the limit", n)
	}
}

func TestVisibilityAndTenancy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rep := w.Env.LoginAs(w.Rep)
	rep.HTMX = true
	res := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "oferta.pdf", Data: pdf})
	m := downloadLink.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("upload: %d %.300s", res.Status, res.Body)
	}
	doc := m[1]

	// Another rep of the same org cannot see the lead, so not its documents.
	other := w.Env.LoginAs(w.Rep2)
	for _, r := range []apptest.Response{
		other.Get(doc), other.Get(w.leadPath() + "/documents"), other.Post(doc+"/delete", nil),
		other.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "x.pdf", Data: pdf}),
	} {
		if r.Status != http.StatusNotFound || strings.Contains(r.Body, "oferta.pdf") {
			t.Errorf("rep2: %d %.200s", r.Status, r.Body)
		}
	}
	// Another org's admin gets 404 for everything.
	orgB := w.Env.Org("Otra S.L.")
	b := w.Env.LoginAs(w.Env.User(orgB, "admin@otra.test", web.RoleAdmin))
	for _, r := range []apptest.Response{
		b.Get(doc), b.Get(w.leadPath() + "/documents"), b.Post(doc+"/delete", nil),
		b.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "x.pdf", Data: pdf}),
	} {
		if r.Status != http.StatusNotFound || strings.Contains(r.Body, "oferta.pdf") {
			t.Errorf("org B: %d %.200s", r.Status, r.Body)
		}
	}
	// The manager sees it but did not upload it: no delete.
	if r := w.Env.LoginAs(w.Manager).Post(doc+"/delete", nil); r.Status != http.StatusForbidden {
		t.Errorf("manager delete: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Fatalf("%d documents, want 1", n)
	}
	// The uploader may.
	if r := rep.Post(doc+"/delete", nil); r.Status != http.StatusOK || strings.Contains(r.Body, "oferta.pdf</a>") {
		t.Fatalf("delete: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Errorf("%d documents after delete", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND kind = 'document_deleted'`, w.Org.ID); n != 1 {
		t.Errorf("%d deletion activities", n)
	}
}

func TestCustomerDocuments(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var customerID int64
	if err := w.Env.DB.QueryRow(context.Background(), `INSERT INTO customers (org_id, legal_name, country, owner_id) VALUES ($1, 'Cliente Docs S.L.', 'ES', $2) RETURNING id`, w.Org.ID, w.Rep.ID).Scan(&customerID); err != nil {
		t.Fatal(err)
	}
	path := "/customers/" + itoa(customerID) + "/documents"
	rep := w.Env.LoginAs(w.Rep)
	rep.HTMX = true
	if r := rep.PostFiles(path, nil, apptest.File{Field: "file", Name: "contrato.pdf", Data: pdf}); r.Status != http.StatusOK || !strings.Contains(r.Body, "contrato.pdf") {
		t.Fatalf("customer upload: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE org_id = $1 AND customer_id = $2 AND kind = 'document'`, w.Org.ID, customerID); n != 1 {
		t.Errorf("%d customer document activities", n)
	}
	if r := w.Env.LoginAs(w.Rep2).Get(path); r.Status != http.StatusNotFound {
		t.Errorf("rep2 sees the customer's documents: %d", r.Status)
	}
	if r := w.Env.LoginAs(w.Admin).Get(path); r.Status != http.StatusOK || !strings.Contains(r.Body, "contrato.pdf") {
		t.Errorf("admin: %d", r.Status)
	}
}

// A body far beyond the route's limit never reaches the handler; the error
// handler still says what went wrong. (app.Test cannot send one, so this
// goes through a real listener.)
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(c *config.Config) { c.DocumentMaxBytes, c.InboundMaxBytes = 1<<20, 1<<20 })
	addr := w.Env.Serve()
	// The headers and the first 16 KB are sent (the server reads 8 KB
	// ahead before deciding, web.Bodies): it refuses on Content-Length,
	// and a client still writing a body the server will not read could be
	// cut off (broken pipe) before it reads the answer.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s/documents HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n%s", w.leadPath(), addr, 200<<20, strings.Repeat("a", 16<<10))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "demasiado grande") {
		t.Fatalf("huge body: %d %.300s", res.StatusCode, body)
	}
}

// The same bytes are stored once per org however many documents use them,
// and go with the last document of the org that uses them.
func TestSameContentStoredOnceDeletedWithItsLastDocument(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	lead2, err := w.Env.Q.CreateLead(ctx, queries.CreateLeadParams{
		OrgID: w.Org.ID, Name: "Otro Potencial", Country: "ES", Source: "manual", OwnerID: &w.Rep.ID, Status: "nuevo", Tags: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := w.Env.LoginAs(w.Rep)
	rep.HTMX = true
	upload := func(leadID int64, name string, data []byte) (path string, fileID int64) {
		t.Helper()
		res := rep.PostFiles("/leads/"+itoa(leadID)+"/documents", nil, apptest.File{Field: "file", Name: name, Data: data})
		m := downloadLink.FindStringSubmatch(res.Body)
		if res.Status != http.StatusOK || m == nil {
			t.Fatalf("upload %s: %d %.300s", name, res.Status, res.Body)
		}
		if err := w.Env.DB.QueryRow(ctx, `SELECT file_id FROM documents WHERE org_id = $1 AND id = $2`, w.Org.ID, strings.TrimPrefix(m[1], "/documents/")).Scan(&fileID); err != nil {
			t.Fatal(err)
		}
		return m[1], fileID
	}
	doc1, pdfFile := upload(w.lead.ID, "oferta.pdf", pdf)
	doc2, again := upload(lead2.ID, "oferta (copia).pdf", pdf)
	note, noteFile := upload(w.lead.ID, "nota.txt", []byte("llamar el lunes\n"))
	if again != pdfFile || noteFile == pdfFile {
		t.Fatalf("files %d, %d, %d: the same bytes twice are not one file", pdfFile, again, noteFile)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, w.Org.ID); n != 2 {
		t.Errorf("%d files for two contents", n)
	}
	// Another org's copy of the same bytes is its own.
	orgB := w.Env.Org("Otra S.L.")
	if _, err := documents.Store(ctx, files.New(w.Env.DB), orgB.ID, bytes.NewReader(pdf), 1<<20); err != nil {
		t.Fatal(err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, orgB.ID); n != 1 {
		t.Errorf("org B has %d files", n)
	}

	// Deleting one of the two PDF documents keeps the bytes for the other.
	if r := rep.Post(doc1+"/delete", nil); r.Status != http.StatusOK {
		t.Fatalf("delete: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1 AND id = $2`, w.Org.ID, pdfFile); n != 1 {
		t.Fatal("the bytes went while another document uses them")
	}
	if r := rep.Get(doc2); r.Status != http.StatusOK || r.Body != string(pdf) {
		t.Fatalf("download of the other document: %d %q", r.Status, r.Body)
	}
	// Deleting the last one deletes them, chunks and all.
	if r := rep.Post(doc2+"/delete", nil); r.Status != http.StatusOK {
		t.Fatalf("delete: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1 AND id = $2`, w.Org.ID, pdfFile) +
		w.Env.Count(`SELECT count(*) FROM file_chunks WHERE org_id = $1 AND file_id = $2`, w.Org.ID, pdfFile); n != 0 {
		t.Errorf("the bytes of a deleted document stayed (%d rows)", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1`, orgB.ID); n != 1 {
		t.Error("deleting org A's document deleted org B's bytes")
	}

	// Bytes an import uses stay after their last document goes.
	w.Env.Exec(`INSERT INTO imports (org_id, kind, filename, file_id, size_bytes, format, created_by) VALUES ($1, 'leads', 'nota.csv', $2, 16, 'csv', $3)`,
		w.Org.ID, noteFile, w.Admin.ID)
	if r := rep.Post(note+"/delete", nil); r.Status != http.StatusOK {
		t.Fatalf("delete: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM files WHERE org_id = $1 AND id = $2`, w.Org.ID, noteFile); n != 1 {
		t.Error("the bytes an import uses were deleted with the document")
	}
}

// A document bigger than a chunk streams back whole, with its length.
func TestLargeDocumentInChunks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rep := w.Env.LoginAs(w.Rep)
	rep.HTMX = true
	var b strings.Builder
	for i := 0; b.Len() < 2*files.ChunkSize+1000; i++ {
		fmt.Fprintf(&b, "línea %d de un documento largo\n", i)
	}
	data := b.String()
	res := rep.PostFiles(w.leadPath()+"/documents", nil, apptest.File{Field: "file", Name: "largo.txt", Data: []byte(data)})
	m := downloadLink.FindStringSubmatch(res.Body)
	if res.Status != http.StatusOK || m == nil {
		t.Fatalf("upload: %d %.300s", res.Status, res.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM file_chunks c JOIN documents d ON d.org_id = c.org_id AND d.file_id = c.file_id WHERE d.org_id = $1`, w.Org.ID); n != 3 {
		t.Errorf("%d chunks for %d bytes, want 3", n, len(data))
	}
	got := rep.Get(m[1])
	if got.Status != http.StatusOK || got.Body != data {
		t.Fatalf("download: %d, %d bytes of %d", got.Status, len(got.Body), len(data))
	}
	if cl := got.Header.Get("Content-Length"); cl != strconv.Itoa(len(data)) {
		t.Errorf("Content-Length %q, want %d", cl, len(data))
	}
	if ct := got.Header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type %q", ct)
	}
}

package app_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/app/config"
)

// announce sends a request's head claiming a body of claimed bytes (or
// chunked, when claimed < 0), then only the first 64 KB of it, and reads
// the answer: a server that waits for the rest before answering never
// answers (the deadline guards against a hang, it measures nothing).
func announce(t *testing.T, addr, path, contentType string, claimed int) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	head := "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + contentType + "\r\n"
	first := bytes.Repeat([]byte("a"), 64<<10)
	if claimed < 0 {
		head += "Transfer-Encoding: chunked\r\n\r\n"
		first = append([]byte(fmt.Sprintf("%x\r\n", len(first))), append(first, "\r\n"...)...)
	} else {
		head += "Content-Length: " + strconv.Itoa(claimed) + "\r\n\r\n"
	}
	if _, err := conn.Write(append([]byte(head), first...)); err != nil {
		t.Fatal(err)
	}
	if claimed < 0 {
		// Keep the chunks coming, as an endless upload would.
		go func() {
			chunk := append([]byte(fmt.Sprintf("%x\r\n", 64<<10)), append(bytes.Repeat([]byte("a"), 64<<10), "\r\n"...)...)
			for i := 0; i < 1000; i++ {
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		}()
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s claiming %d bytes: no answer before the body was sent (%v)", path, claimed, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res
}

// A body is refused for its size before anyone is known, from its
// Content-Length, without being read.
func TestOversizeBodiesRefusedBeforeReading(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	addr := env.Serve()
	const form, files = "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"
	for _, tc := range []struct {
		path, contentType string
		claimed           int
		says              string
	}{
		{"/login", form, 60 << 20, "El envío es demasiado grande"},
		{"/leads", form, 60 << 20, "El envío es demasiado grande"},
		{"/imports", form, 60 << 20, "El envío es demasiado grande"},
		{"/imports", files, 60 << 20, "El archivo es demasiado grande (máximo 50 MB)"},
		{"/admin/inbox/upload", files, 200 << 20, "El envío es demasiado grande"}, // several .eml files at once: 64 MB
		{"/catalog/1/image", files, 60 << 20, "La imagen debe ser PNG o JPEG de hasta 8 MB"},
	} {
		res := announce(t, addr, tc.path, tc.contentType, tc.claimed)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), tc.says) {
			t.Errorf("POST %s (%s) claiming %d MB: %d %.200q", tc.path, tc.contentType, tc.claimed>>20, res.StatusCode, body)
		}
	}
	// The web form answers before reading too (it counts the hit first:
	// capture_test); an unknown token is a 404.
	if res := announce(t, addr, "/f/whatever", form, 60<<20); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST /f/whatever claiming 60 MB: %d", res.StatusCode)
	}
	// Without a Content-Length, reading stops at the limit.
	res := announce(t, addr, "/login", form, -1)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked POST /login: %d", res.StatusCode)
	}
}

// Ordinary forms are small: over 1 MB is refused whoever sends it, with a
// clear message, and the route never runs.
func TestOrdinaryRouteBodyLimit(t *testing.T) {
	t.Parallel()
	w := apptest.NewWorld(t, "Cuerpos S.L.", "cuerpos.test")
	big := url.Values{"name": {"Grande"}, "notes": {strings.Repeat("x", 2<<20)}}
	r := w.RepC.Post("/leads", big)
	if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "demasiado grande") {
		t.Errorf("2 MB lead form: %d %.300q", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE name = 'Grande'`); n != 0 {
		t.Error("the oversize form reached the handler")
	}
	// Just under the limit the route runs (and answers for itself).
	ok := url.Values{"name": {"Cabe"}, "notes": {strings.Repeat("x", 900<<10)}}
	if r := w.RepC.Post("/leads", ok); r.Status == http.StatusRequestEntityTooLarge {
		t.Errorf("900 KB lead form: %d", r.Status)
	}
}

// Upload routes take their own limits: at the limit it works, over it the
// route's own message.
func TestUploadRoutesHaveTheirOwnLimits(t *testing.T) {
	t.Parallel()
	w := apptest.NewWorld(t, "Subidas S.L.", "subidas.test", func(c *config.Config) { c.DocumentMaxBytes = 3 << 20 })
	lead := w.Env.Count(`INSERT INTO leads (org_id, name, country, source, status, owner_id, tags) VALUES ($1, 'Con papeles', 'ES', 'manual', 'nuevo', $2, '{}') RETURNING id`, w.Org.ID, w.Rep.ID)
	path := fmt.Sprintf("/leads/%d/documents", lead)
	atLimit := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("a"), 3<<20-9)...)
	if r := w.RepC.PostFiles(path, nil, apptest.File{Field: "file", Name: "limite.pdf", Data: atLimit}); r.Status != http.StatusSeeOther {
		t.Errorf("document at its limit: %d %.300q", r.Status, r.Body)
	}
	over := append(atLimit, 'b')
	if r := w.RepC.PostFiles(path, nil, apptest.File{Field: "file", Name: "grande.pdf", Data: over}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "supera") {
		t.Errorf("document one byte over: %d %.300q", r.Status, r.Body)
	}
	far := append(atLimit, bytes.Repeat([]byte("b"), 2<<20)...)
	if r := w.RepC.PostFiles(path, nil, apptest.File{Field: "file", Name: "enorme.pdf", Data: far}); r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "demasiado grande") {
		t.Errorf("document 2 MB over: %d %.300q", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM documents WHERE org_id = $1`, w.Org.ID); n != 1 {
		t.Errorf("%d documents, want the one at the limit", n)
	}
}

// A 40 MB import goes through, streamed into the file store, over a real
// connection from a client that holds the file once: the server's heap
// grows by a fraction of the file, not by the file (logged: a measurement,
// not an assertion).
func TestLargeImportStreams(t *testing.T) {
	t.Parallel()
	w := apptest.NewWorld(t, "Grande S.L.", "grande.test")
	addr := w.Env.Serve()
	var csv bytes.Buffer
	csv.WriteString("Empresa;Correo\n")
	for i := 0; csv.Len() < 40<<20; i++ {
		fmt.Fprintf(&csv, "Empresa número %d S.L.;contacto%d@empresa%d.example\n", i, i, i)
	}
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("_csrf", w.AdminC.CSRF())
	_ = mw.WriteField("kind", "leads")
	_, _ = mw.CreateFormFile("file", "grande.csv")
	tail.WriteString("\r\n--" + mw.Boundary() + "--\r\n")
	body := io.MultiReader(bytes.NewReader(head.Bytes()), bytes.NewReader(csv.Bytes()), bytes.NewReader(tail.Bytes()))
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/imports", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(head.Len() + csv.Len() + tail.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Cookie", "pulso_session="+w.AdminC.Cookie("pulso_session")+"; pulso_csrf="+w.AdminC.Cookie("pulso_csrf"))

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, allocated := ms.HeapInuse, ms.TotalAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("40 MB import: %d", res.StatusCode)
	}
	var size int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT size_bytes FROM imports WHERE org_id = $1`, w.Org.ID).Scan(&size); err != nil || size != int64(csv.Len()) {
		t.Fatalf("stored %d bytes of %d (%v)", size, csv.Len(), err)
	}
	runtime.ReadMemStats(&ms)
	t.Logf("40 MB import over a real connection: heap in use grew by at most %d MB, %d MB allocated (this process also runs the client and other tests; run alone with GOGC=10 to see the server's live heap)",
		(peak.Load()-base)>>20, (ms.TotalAlloc-allocated)>>20)
}

// Before anyone is known, an upload's body is read no further than its
// first part needs: a made-up CSRF cookie and a first part that never ends
// (a preamble of endless lines) are refused after a few KB, not after the
// whole 40 MB the request claims.
func TestUploadPreambleReadOnlyAFewKBBeforeTheGuards(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	addr := env.Serve()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The deadline guards against a hang; it measures nothing.
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	head := "POST /imports HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\n" +
		"Cookie: " + auth.CSRFCookie(false) + "=" + strings.Repeat("s", 40) + "\r\n" +
		"Content-Length: " + strconv.Itoa(40<<20) + "\r\n\r\n"
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	go func() {
		line := []byte(strings.Repeat("p", 70) + "\r\n")
		for sent.Load() < 40<<20-int64(len(line)) {
			if _, err := conn.Write(line); err != nil {
				return
			}
			sent.Add(int64(len(line)))
		}
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the preamble kept coming (%v); %d bytes sent", err, sent.Load())
	}
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous upload with an endless preamble: %d, want 403", res.StatusCode)
	}
	if n := sent.Load(); n >= 40<<20-72 {
		t.Errorf("the server read the whole claimed body (%d bytes) before answering", n)
	}
}

package main

// Nodes share nothing but the database: a file uploaded to a web-only
// process is read by a worker-only process on another "machine" (its own
// PULSO_DATA_DIR), and what the worker writes is downloaded from the web
// process. Real binaries, plain HTTP, no browser.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/auth"
	"pulso/queries"
)

func TestImportUploadedToOneNodeRunsOnAnother(t *testing.T) {
	bin := pulsoBinary(t)
	pool := apptest.NewDB(t)
	ctx := context.Background()
	q := queries.New(pool)
	org, err := q.CreateOrg(ctx, queries.CreateOrgParams{Name: "Nodos S.L.", Country: "ES", Currency: "EUR", TimeZone: "Europe/Madrid", TaxID: "B00000000"})
	if err != nil {
		t.Fatal(err)
	}
	const password = "nodos nodos nodos"
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.CreateUser(ctx, queries.CreateUserParams{OrgID: org.ID, Email: "admin@nodos.test", Name: "Admin Nodos", Role: "admin",
		Locale: "es", PasswordHash: &hash, Active: true}); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	common := []string{"DATABASE_URL=" + apptest.URL(pool), "PULSO_SECRET=" + strings.Repeat("nodos-", 8), "LOG_LEVEL=warn",
		"PULSO_BASE_URL=http://" + addr, "PULSO_METRICS_ADDR=127.0.0.1:0"}
	webDir, workDir := filepath.Join(t.TempDir(), "web"), filepath.Join(t.TempDir(), "work")
	web := startNode(t, bin, "web", append(common, "PULSO_ADDR="+addr, "PULSO_DATA_DIR="+webDir), "serve", "--workers=false")
	web.waitReady(t, "http://"+addr+"/readyz")

	// 12 000 rows, one bad e-mail in 50: about 0.8 MB, more than one chunk.
	const rows = 12_000
	var file bytes.Buffer
	file.WriteString("Empresa;Contacto;Correo;Teléfono;Ciudad\n")
	for i := range rows {
		email := fmt.Sprintf("c%d@nodo%d.es", i, i)
		if i%50 == 7 {
			email = fmt.Sprintf("roto-%d", i)
		}
		fmt.Fprintf(&file, "Empresa Nodo %d S.L.;Persona %d;%s;6%08d;Sevilla\n", i, i, email, i)
	}
	const bad = rows / 50

	c := newHTTPClient(t, "http://"+addr)
	c.login("admin@nodos.test", password)
	res, _ := c.postFile("/imports", map[string]string{"kind": "leads"}, "file", "nodos.csv", file.Bytes())
	m := regexp.MustCompile(`^/imports/(\d+)$`).FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("upload: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), web.tail())
	}
	page := "/imports/" + m[1]
	if res, body := c.get(page); res.StatusCode != http.StatusOK || !strings.Contains(body, "Empresa Nodo 0 S.L.") {
		t.Fatalf("preview: %d %.300s", res.StatusCode, body)
	}
	if res, _ := c.postForm(page+"/start", url.Values{"map_name": {"0"}, "map_contact_name": {"1"}, "map_email": {"2"},
		"map_phone": {"3"}, "map_city": {"4"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d\n%s", res.StatusCode, web.tail())
	}
	status := func() (s string) {
		if err := pool.QueryRow(ctx, `SELECT status FROM imports WHERE org_id = $1 AND id = $2`, org.ID, m[1]).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The web node works no jobs.
	time.Sleep(500 * time.Millisecond)
	if s := status(); s != "queued" {
		t.Fatalf("import %s before any worker runs", s)
	}

	work := startNode(t, bin, "work", append(common, "PULSO_DATA_DIR="+workDir), "work")
	deadline := time.Now().Add(2 * time.Minute)
	for s := status(); s != "done"; s = status() {
		if s == "failed" || time.Now().After(deadline) {
			t.Fatalf("import %s\n--- worker ---\n%s\n--- web ---\n%s", s, work.tail(), web.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var leads int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM leads WHERE org_id = $1 AND source = 'import'`, org.ID).Scan(&leads); err != nil || leads != rows-bad {
		t.Errorf("%d leads imported, want %d (%v)", leads, rows-bad, err)
	}

	// The error file the worker wrote downloads from the web node.
	res, body := c.get(page + "/errors")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "nodos-errores.csv") {
		t.Fatalf("error file: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(body, "\xEF\xBB\xBF")), "\r\n")
	if len(lines) != 1+bad || !strings.HasPrefix(lines[1], "9;Empresa Nodo 7 S.L.;Persona 7;roto-7;") {
		t.Errorf("error file has %d lines (want %d), first row %q", len(lines), 1+bad, lines[min(1, len(lines)-1)])
	}
	// …and the worker attached the same bytes to the e-mail it queued.
	var attached []byte
	if err := pool.QueryRow(ctx, `SELECT content FROM email_attachments WHERE org_id = $1 AND filename = 'nodos-errores.csv'`, org.ID).Scan(&attached); err != nil {
		t.Fatalf("no e-mail attachment: %v", err)
	}
	if string(attached) != body {
		t.Errorf("the e-mailed error file (%d bytes) is not the downloaded one (%d bytes)", len(attached), len(body))
	}
	if res, body := c.get(page); !strings.Contains(body, `data-status="done"`) || !strings.Contains(body, `data-testid="error-file"`) {
		t.Errorf("result page: %d %.300s", res.StatusCode, body)
	}

	// Neither node kept anything on its disk.
	for _, dir := range []string{webDir, workDir} {
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("a node wrote %s", path)
			}
			return nil
		})
	}
}

// node is one pulso process; its output goes to a log file shown on failure.
type node struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startNode(t *testing.T, bin, name string, env []string, args ...string) *node {
	t.Helper()
	n := &node{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	out, err := os.Create(n.log)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, args...)
	n.cmd.Env = append(os.Environ(), env...)
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = n.cmd.Wait(); _ = out.Close(); close(n.done) }()
	t.Cleanup(func() {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(30 * time.Second):
			_ = n.cmd.Process.Kill()
			<-n.done
		}
		if t.Failed() {
			t.Logf("--- %s ---\n%s", n.name, n.tail())
		}
	})
	return n
}

func (n *node) waitReady(t *testing.T, readyz string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(readyz)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-n.done:
			t.Fatalf("%s exited:\n%s", n.name, n.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready:\n%s", n.name, n.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *node) tail() string {
	b, _ := os.ReadFile(n.log)
	lines := strings.Split(string(b), "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// httpClient is a browser over real HTTP: cookies, and the CSRF token of
// the last page, sent back with forms as the pages' forms do.
type httpClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func newHTTPClient(t *testing.T, base string) *httpClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &httpClient{t: t, base: base, c: &http.Client{
		Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *httpClient) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res, string(b)
}

func (c *httpClient) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *httpClient) postForm(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	form.Set("_csrf", c.csrf)
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *httpClient) postFile(path string, fields map[string]string, field, name string, data []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", c.csrf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, err := w.CreateFormFile(field, name)
	if err != nil {
		c.t.Fatal(err)
	}
	_, _ = fw.Write(data)
	if err := w.Close(); err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.csrf)
	return c.do(req)
}

func (c *httpClient) login(email, password string) {
	c.t.Helper()
	c.get("/login")
	res, body := c.postForm("/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login: %d %.300s", res.StatusCode, body)
	}
	c.get("/imports") // a page with this session's CSRF token
	if c.csrf == "" {
		c.t.Fatal("no CSRF token after login")
	}
}

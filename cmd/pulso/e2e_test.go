package main

// Browser tests: real Chromium (Debian's package) drives a real `pulso
// serve` built from this tree, on a random port and a fresh database.
// They run with `make test` whenever chromium is installed; under CI=true a
// missing chromium is a failure, not a skip. Screenshots of every step go
// to $PULSO_E2E_DIR (default .e2e/ at the repository root, git-ignored).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/apptest"
	"pulso/app/demo"
	"pulso/app/mail/mailtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// pulsoBinary builds cmd/pulso once per test run.
func pulsoBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pulso-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pulso")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PULSO_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
	}
	t.Skip("chromium not installed (apt-get install chromium); browser tests run in CI")
	return ""
}

// server is one `pulso serve` process.
type server struct {
	t    *testing.T
	db   *pgxpool.Pool
	cmd  *exec.Cmd
	addr string
	env  []string
	log  *strings.Builder
	done chan struct{}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs `pulso serve` on a fresh migrated database seeded with
// the demo data.
func startServer(t *testing.T) *server {
	t.Helper()
	pool := apptest.NewDB(t)
	if err := demo.Seed(context.Background(), pool, discardLogger()); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	s := &server{t: t, db: pool, addr: addr, env: append(os.Environ(),
		"DATABASE_URL="+apptest.URL(pool),
		"PULSO_ADDR="+addr,
		"PULSO_BASE_URL=http://"+addr,
		"PULSO_DATA_DIR="+t.TempDir(),
		"LOG_LEVEL=warn",
	)}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.log = &strings.Builder{}
	s.cmd = exec.Command(pulsoBinary(s.t), "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("pulso serve did not listen on %s:\n%s", s.addr, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server the way an orchestrator does (SIGTERM).
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// browser is one Chromium with its own profile (its own cookies).
type browser struct {
	t      *testing.T
	ctx    context.Context
	name   string
	w, h   int64
	shotNo int
}

func newBrowser(t *testing.T, name string, w, h int64) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(w), int(h)),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first Run starts the browser and binds it to ctx; later runs use
	// derived contexts with deadlines, whose end must not close the tab.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx, name: name, w: w, h: h}
	mobile := w < 600
	emulate := chromedp.EmulateViewport(w, h)
	if mobile {
		emulate = chromedp.EmulateViewport(w, h, chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	b.run("viewport", emulate)
	return b
}

var cleared sync.Map

// shotDir is the test's screenshot folder, emptied at its first use in a run.
func shotDir(t *testing.T) string {
	dir := os.Getenv("PULSO_E2E_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".e2e")
	}
	dir = filepath.Join(dir, t.Name())
	if _, done := cleared.LoadOrStore(dir, true); !done {
		_ = os.RemoveAll(dir)
	}
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// run performs actions with a deadline, then saves a screenshot named after
// the step; on failure it says where the screenshots are.
func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	err := chromedp.Run(ctx, actions...)
	if step != "eval" || err != nil {
		b.shot(step)
	}
	if err != nil {
		b.t.Fatalf("%s: %s: %v (screenshots in %s)", b.name, step, err, shotDir(b.t))
	}
}

func (b *browser) shot(step string) {
	var png []byte
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)) != nil {
		return
	}
	b.shotNo++
	name := fmt.Sprintf("%02d-%s-%s-%dx%d.png", b.shotNo, b.name, strings.ReplaceAll(step, " ", "_"), b.w, b.h)
	_ = os.WriteFile(filepath.Join(shotDir(b.t), name), png, 0o644)
}

func (b *browser) login(s *server, email string) {
	b.t.Helper()
	b.run("login page",
		chromedp.Navigate(s.url("/login")),
		chromedp.WaitVisible(`#f-email`),
	)
	b.run("signed in "+email,
		chromedp.SendKeys(`#f-email`, email),
		chromedp.SendKeys(`#f-password`, demo.Password),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=org-name]`),
		chromedp.WaitVisible(`body[data-live="on"]`), // the socket is open
	)
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	var out string
	b.run("eval", chromedp.Evaluate(js, &out))
	return out
}

func TestE2ELoginOnPhoneAndDesktop(t *testing.T) {
	chromiumPath(t)
	s := startServer(t)
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1440, 900}} {
		b := newBrowser(t, vp.name, vp.w, vp.h)
		b.run("wrong password",
			chromedp.Navigate(s.url("/")),
			chromedp.WaitVisible(`#f-email`),
			chromedp.SendKeys(`#f-email`, "rep@demo.test"),
			chromedp.SendKeys(`#f-password`, "not-the-password"),
			chromedp.Click(`#login-form button[type=submit]`),
			chromedp.WaitVisible(`#login-form .flash--error`),
		)
		b.login(s, "rep@demo.test")
		if got := b.eval(`document.querySelector("main h1").textContent`); !strings.Contains(got, "Rosa Comercial") {
			t.Errorf("%s: home heading %q", vp.name, got)
		}
		if sw := b.eval(`String(document.documentElement.scrollWidth)`); sw != fmt.Sprint(vp.w) {
			t.Errorf("%s: page is %s px wide in a %d px viewport (sideways scroll)", vp.name, sw, vp.w)
		}
		navPos := b.eval(`getComputedStyle(document.querySelector(".nav")).bottom`)
		if vp.name == "phone" && navPos != "0px" {
			t.Errorf("phone: navigation should be a bottom bar, bottom=%s", navPos)
		}
	}
}

// Two phones in one org: what the admin does shows on the rep's screen at
// once, without reload; a user of another org sees nothing; after the
// server restarts the rep's page reconnects and catches up.
func TestE2ELiveAcrossBrowsers(t *testing.T) {
	chromiumPath(t)
	s := startServer(t)
	admin := newBrowser(t, "admin", 390, 844)
	rep := newBrowser(t, "rep", 390, 844)
	outsider := newBrowser(t, "outsider", 390, 844)
	admin.login(s, "admin@demo.test")
	rep.login(s, "rep@demo.test")
	outsider.login(s, "rep@otra.test")

	admin.run("notify form", chromedp.Navigate(s.url("/admin/notify")), chromedp.WaitVisible(`#f-title`))
	repID := admin.eval(`[...document.querySelectorAll("#f-user_id option")].find(o => o.textContent.includes("Rosa Comercial"))?.value || ""`)
	if repID == "" {
		t.Fatal("could not find Rosa Comercial in the recipient list")
	}
	admin.run("send urgent notification",
		chromedp.SetValue(`#f-user_id`, repID),
		chromedp.SetValue(`#f-severity`, "urgent"),
		chromedp.SendKeys(`#f-title`, "Llamar a Acme antes de las 18:00"),
		chromedp.Click(`#notify-form button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=notify-sent]`),
	)
	sent := time.Now()
	// The rep's screen: bell count and toast, live. Waiting at most 1 s is
	// the product promise being checked, not a benchmark.
	ctx, cancel := context.WithTimeout(rep.ctx, time.Second)
	err := chromedp.Run(ctx,
		chromedp.WaitVisible(`[data-testid=bell-count]`),
		chromedp.WaitVisible(`[data-testid=toast]`),
	)
	cancel()
	rep.shot("notification arrived")
	if err != nil {
		t.Fatalf("rep did not see the notification within 1 s of the admin's send: %v", err)
	}
	t.Logf("notification visible on the rep's phone %v after the admin's send returned", time.Since(sent).Round(time.Millisecond))
	if got := rep.eval(`document.querySelector("[data-testid=toast]").textContent`); !strings.Contains(got, "Llamar a Acme") {
		t.Errorf("toast text %q", got)
	}

	// The other org's user: no badge, no toast, ever.
	time.Sleep(300 * time.Millisecond)
	if got := outsider.eval(`String(document.querySelectorAll("[data-testid=bell-count], [data-testid=toast]").length)`); got != "0" {
		t.Errorf("a user of another org saw %s notification elements", got)
	}
	outsider.shot("nothing for other org")

	// Restart the server; meanwhile a second notification is created.
	s.stop()
	rep.run("socket closed", chromedp.WaitVisible(`body[data-live="off"]`))
	insertNotification(t, s, "rep@demo.test", "Aviso durante el reinicio")
	s.start()
	rep.run("reconnected and resynced",
		chromedp.WaitVisible(`body[data-live="on"]`),
		chromedp.Poll(`document.querySelector("[data-testid=bell-count]")?.textContent === "2"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
}

// insertNotification writes a notification straight into the database, as
// if another instance had created it while this one was down.
func insertNotification(t *testing.T, s *server, email, title string) {
	t.Helper()
	_, err := s.db.Exec(context.Background(), `INSERT INTO notifications (org_id, user_id, severity, title, key)
		SELECT org_id, id, 'info', $1, 'e2e-restart' FROM users WHERE email = $2`, title, email)
	if err != nil {
		t.Fatal(err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A rep on a phone creates a lead, then types another with the same phone
// number and is shown the existing one before anything is saved.
func TestE2ELeadDuplicateOnPhone(t *testing.T) {
	chromiumPath(t)
	s := startServer(t)
	rep := newBrowser(t, "rep", 390, 844)
	rep.login(s, "rep@demo.test")
	fill := func(step, name, phone string) {
		rep.run(step,
			chromedp.Navigate(s.url("/leads/new")),
			chromedp.WaitVisible(`#f-name`),
			chromedp.SendKeys(`#f-name`, name),
			chromedp.SendKeys(`#f-phone`, phone),
			chromedp.SendKeys(`#f-email`, "compras@nuevo-cliente.example"),
			chromedp.Click(`#lead-form button.button--primary`),
		)
	}
	fill("first lead", "Cafetería Aurora", "611 22 33 44")
	rep.run("lead page", chromedp.WaitVisible(`[data-testid=lead]`))
	if got := rep.eval(`document.querySelector("main h1").textContent`); got != "Cafetería Aurora" {
		t.Fatalf("lead page heading %q", got)
	}
	fill("same phone again", "Aurora Cafés", "+34611223344")
	rep.run("duplicate warning", chromedp.WaitVisible(`[data-testid=duplicates]`))
	if got := rep.eval(`document.querySelector("[data-testid=duplicates]").textContent`); !strings.Contains(got, "Cafetería Aurora") {
		t.Errorf("duplicate warning does not name the existing lead: %q", got)
	}
	if sw := rep.eval(`String(document.documentElement.scrollWidth)`); sw != "390" {
		t.Errorf("form is %s px wide on a 390 px phone", sw)
	}
	rep.run("keep both", chromedp.Click(`[data-testid=keep-both]`), chromedp.WaitVisible(`[data-testid=lead]`))
	rep.run("list", chromedp.Navigate(s.url("/leads?q=aurora")), chromedp.WaitVisible(`[data-testid=leads]`))
	if n := rep.eval(`String(document.querySelectorAll("[data-testid=leads] li").length)`); n != "2" {
		t.Errorf("search for aurora lists %s leads, want 2", n)
	}
}

// An admin on a desktop imports a 100 000-row file with errors: the bar
// moves live (no reload), the result shows, and the error file arrives by
// e-mail at a real SMTP server.
func TestE2EImportWithLiveProgress(t *testing.T) {
	chromiumPath(t)
	smtp := mailtest.NewServer(t, mailtest.Options{})
	pool := apptest.NewDB(t)
	if err := demo.Seed(context.Background(), pool, discardLogger()); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	s := &server{t: t, db: pool, addr: addr, env: append(os.Environ(),
		"DATABASE_URL="+apptest.URL(pool), "PULSO_ADDR="+addr, "PULSO_BASE_URL=http://"+addr,
		"PULSO_DATA_DIR="+t.TempDir(), "LOG_LEVEL=warn", "SMTP_URL="+smtp.URL(),
	)}
	s.start()
	t.Cleanup(s.stop)

	const rows = 100_000
	path := filepath.Join(t.TempDir(), "potenciales.csv")
	var b strings.Builder
	b.WriteString("Empresa;Contacto;Correo;Teléfono;Provincia;Ciudad;Etiquetas\n")
	for i := range rows {
		email := fmt.Sprintf("c%d@e2e-empresa%d.es", i, i)
		if i%50 == 7 {
			email = fmt.Sprintf("roto-%d", i)
		}
		fmt.Fprintf(&b, "Empresa E2E %d;Persona %d;%s;7%08d;Madrid;Getafe;feria\n", i, i, email, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	admin := newBrowser(t, "admin", 1440, 900)
	admin.login(s, "admin@demo.test")
	admin.run("imports page", chromedp.Navigate(s.url("/imports")), chromedp.WaitVisible(`[data-testid=import-upload]`))
	admin.run("upload", chromedp.SetUploadFiles(`#f-file`, []string{path}), chromedp.Click(`[data-testid=import-upload] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=import-mapping]`))
	if got := admin.eval(`document.querySelector("#f-map-email").selectedOptions[0].textContent`); got != "Correo" {
		t.Errorf("e-mail mapped to %q", got)
	}
	admin.run("start", chromedp.Click(`[data-testid=import-start]`), chromedp.WaitVisible(`[data-testid=import-status]`),
		chromedp.WaitVisible(`body[data-live="on"]`))
	// A marker that a reload would wipe, and every value the bar shows.
	admin.eval(`window.__noReload = "yes"; window.__seen = []; "ok"`)
	ctx, cancel := context.WithTimeout(admin.ctx, 3*time.Minute)
	err := chromedp.Run(ctx, chromedp.Poll(`(() => {
		const bar = document.querySelector("[data-testid=import-bar]");
		if (bar && !window.__seen.includes(bar.value)) window.__seen.push(bar.value);
		return document.querySelector("[data-status=done], [data-status=failed]") !== null;
	})()`, nil, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(3*time.Minute)))
	cancel()
	admin.shot("finished")
	if err != nil {
		t.Fatalf("the import did not finish: %v\n%s", err, s.log)
	}
	seen := admin.eval(`JSON.stringify(window.__seen) + " " + window.__noReload`)
	t.Logf("bar values seen: %s", seen)
	if !strings.HasSuffix(seen, " yes") || strings.Count(seen, ",") < 1 {
		t.Errorf("the bar did not move live before completion (values, reload marker): %s", seen)
	}
	if got := admin.eval(`document.querySelector("[data-testid=import-status]").dataset.status`); got != "done" {
		t.Fatalf("import %s: %s", got, admin.eval(`document.querySelector("[data-testid=import-status]").innerText`))
	}
	if got := admin.eval(`document.querySelector("[data-testid=errors]").textContent`); got != "2000" {
		t.Errorf("errors shown: %q", got)
	}
	if got := admin.eval(`document.querySelector("[data-testid=inserted]").textContent`); got != "98000" {
		t.Errorf("inserted shown: %q", got)
	}
	admin.run("error file link", chromedp.WaitVisible(`[data-testid=error-file]`))

	// The send_email job delivers the error file to the test SMTP server.
	deadline := time.Now().Add(30 * time.Second)
	for len(smtp.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	msgs := smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("SMTP server received %d messages\n%s", len(msgs), s.log)
	}
	m := mailtest.Parse(t, msgs[0].Data)
	if msgs[0].To[0] != "admin@demo.test" || len(m.Attachments) != 1 || m.Attachments[0].Filename != "potenciales-errores.csv" {
		t.Fatalf("mail to %v with %d attachments", msgs[0].To, len(m.Attachments))
	}
	if lines := strings.Count(string(m.Attachments[0].Content), "\r\n"); lines != 2001 {
		t.Errorf("error file has %d lines, want a header and 2000 rows", lines)
	}

	// On a 360 px phone: the upload form, the preview of a wide file and a
	// result fit the width (the preview table scrolls inside its card).
	phone := newBrowser(t, "phone", 360, 740)
	phone.login(s, "admin@demo.test")
	wide := filepath.Join(t.TempDir(), "ancho.csv")
	if err := os.WriteFile(wide, []byte("Empresa;Contacto;Correo;Teléfono;NIF;Provincia;Ciudad;Etiquetas;Notas\n"+
		"Una empresa con un nombre muy largo S.L.;Persona de contacto;correo.largo@empresa-larga.es;600000001;B12345674;Madrid;Alcalá de Henares;feria,vip;Notas largas sin espacios_____________\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	phone.run("imports on phone", chromedp.Navigate(s.url("/imports")), chromedp.WaitVisible(`[data-testid=import-upload]`))
	fits := func(step string) {
		if sw := phone.eval(`String(document.documentElement.scrollWidth)`); sw != "360" {
			t.Errorf("%s: page is %s px wide on a 360 px phone", step, sw)
		}
	}
	fits("imports list")
	phone.run("preview on phone", chromedp.SetUploadFiles(`#f-file`, []string{wide}), chromedp.Click(`[data-testid=import-upload] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=import-mapping]`))
	fits("preview")
	phone.run("result on phone", chromedp.Navigate(admin.eval(`location.href`)), chromedp.WaitVisible(`[data-testid=import-result]`))
	fits("result")
}

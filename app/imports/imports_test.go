package imports_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/xuri/excelize/v2"

	"pulso/app/apptest"
	"pulso/app/files"
	"pulso/app/imports"
	"pulso/app/mail"
	"pulso/app/mail/mailtest"
	"pulso/workers"
	"pulso/workers/jobargs"
)

type world struct{ *apptest.World }

func newWorld(t *testing.T) *world {
	return &world{apptest.NewWorld(t, "Importadora S.L.", "imp.test")}
}

func (w *world) upload(t *testing.T, name, kind string, content []byte) apptest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	csrf := w.AdminC.CSRF()
	_ = mw.WriteField("_csrf", csrf)
	_ = mw.WriteField("kind", kind)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", csrf)
	return w.AdminC.Do(req)
}

var idFrom = regexp.MustCompile(`/imports/(\d+)`)

func (w *world) importID(t *testing.T, res apptest.Response) int64 {
	t.Helper()
	if res.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %.500s", res.Status, res.Body)
	}
	m := idFrom.FindStringSubmatch(res.Header.Get("Location"))
	if m == nil {
		t.Fatalf("upload redirected to %q", res.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// work runs the import's job once the way River would, and returns the
// state it leaves the job in.
func (w *world) work(t *testing.T, id int64) rivertype.JobState {
	t.Helper()
	ctx := context.Background()
	var jobID int64
	if err := w.Env.DB.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'import' AND (args->>'import_id')::bigint = $1`, id).Scan(&jobID); err != nil {
		t.Fatalf("no import job: %v", err)
	}
	job, err := w.Env.Deps.Jobs.JobGet(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	tw := rivertest.NewWorker(t, riverpgxv5.New(w.Env.DB), &river.Config{}, river.Worker[jobargs.Import](&workers.ImportWorker{
		DB: w.Env.DB, Files: files.New(w.Env.DB), BaseURL: "http://pulso.test"}))
	tx, err := w.Env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	res, err := tw.WorkJob(ctx, t, tx, job)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return res.Job.State
}

const file = "\xEF\xBB\xBFEmpresa;E-mail;Teléfono;Ciudad\n" +
	"Acme S.L.;ana@acme.es;600111222;Madrid\n" +
	"Beta;no-es-correo;;Sevilla\n" +
	"Gamma;g@g.es;;\n"

func TestUploadMapImportAndMailErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.importID(t, w.upload(t, "clientes.csv", "leads", []byte(file)))

	page := w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10))
	if page.Status != http.StatusOK {
		t.Fatalf("preview: %d", page.Status)
	}
	// Headers matched by name: Empresa → name, E-mail → email, Teléfono → phone, Ciudad → city.
	for field, col := range map[string]string{"name": "0", "email": "1", "phone": "2", "city": "3"} {
		re := regexp.MustCompile(`name="map_` + field + `"[^>]*>(?:\s*<option[^>]*>[^<]*</option>)*?\s*<option value="` + col + `" selected>`)
		if !re.MatchString(page.Body) {
			t.Errorf("field %s not matched to column %s", field, col)
		}
	}
	for _, want := range []string{"Acme S.L.", "no-es-correo", `data-testid="preview"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	// Nothing mapped to a name: refused in place.
	res := w.AdminC.Post("/imports/"+strconv.FormatInt(id, 10)+"/start", url.Values{"map_city": {"3"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Elija al menos la columna") {
		t.Errorf("start without a name column: %d", res.Status)
	}
	res = w.AdminC.Post("/imports/"+strconv.FormatInt(id, 10)+"/start", url.Values{"map_name": {"0"}, "map_email": {"1"}, "map_phone": {"2"}, "map_city": {"3"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("start: %d %.300s", res.Status, res.Body)
	}
	// A second submit queues nothing more.
	w.AdminC.Post("/imports/"+strconv.FormatInt(id, 10)+"/start", url.Values{"map_name": {"0"}})
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'import'`); n != 1 {
		t.Fatalf("%d import jobs", n)
	}
	w.work(t, id)

	show := w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10))
	for _, want := range []string{`data-status="done"`, `data-testid="inserted">2<`, `data-testid="errors">1<`, "/errors"} {
		if !strings.Contains(show.Body, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
	dl := w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10) + "/errors")
	if dl.Status != http.StatusOK || !strings.Contains(dl.Body, "Beta;no-es-correo") || !strings.Contains(dl.Header.Get("Content-Disposition"), "clientes-errores.csv") {
		t.Errorf("error file: %d %q %q", dl.Status, dl.Header.Get("Content-Disposition"), dl.Body)
	}

	// The e-mail with the error file goes through a real SMTP server.
	srv := mailtest.NewServer(t, mailtest.Options{})
	m, err := mail.NewMailer(srv.URL(), "Pulso <no-reply@pulso.test>")
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout = 10 * time.Second
	ctx := context.Background()
	var jobID int64
	if err := w.Env.DB.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'send_email'`).Scan(&jobID); err != nil {
		t.Fatalf("no send_email job: %v", err)
	}
	job, _ := w.Env.Deps.Jobs.JobGet(ctx, jobID)
	sw := rivertest.NewWorker(t, riverpgxv5.New(w.Env.DB), &river.Config{}, river.Worker[jobargs.SendEmail](&workers.SendEmailWorker{Q: w.Env.Q, Mailer: m}))
	err = pgx.BeginFunc(ctx, w.Env.DB, func(tx pgx.Tx) error { _, err := sw.WorkJob(ctx, t, tx, job); return err })
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "admin@imp.test" {
		t.Fatalf("SMTP server got %d messages", len(msgs))
	}
	p := mailtest.Parse(t, msgs[0].Data)
	if len(p.Attachments) != 1 || p.Attachments[0].Filename != "clientes-errores.csv" || !strings.Contains(string(p.Attachments[0].Content), "Beta;no-es-correo") {
		t.Fatalf("attachments %+v", p.Attachments)
	}
	if !strings.Contains(p.Subject, "clientes.csv") || !strings.Contains(p.Text, "http://pulso.test/imports/") {
		t.Errorf("mail %q\n%s", p.Subject, p.Text)
	}
	// The assigned-leads notification is not sent without owners; the
	// import's live events were published.
	if n := w.Env.Count(`SELECT count(*) FROM live_events WHERE topic = 'import' AND entity_id = $1`, id); n < 2 {
		t.Errorf("%d live events", n)
	}
}

func TestBadUploads(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// A truncated workbook: the preview says so, no 500.
	f := excelize.NewFile()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"Nombre"})
	var b bytes.Buffer
	_ = f.Write(&b)
	id := w.importID(t, w.upload(t, "roto.xlsx", "leads", b.Bytes()[:b.Len()/2]))
	page := w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10))
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `data-testid="preview-error"`) || !strings.Contains(page.Body, "dañado") {
		t.Errorf("truncated xlsx preview: %d", page.Status)
	}
	// Latin-1 chosen as UTF-8: a clear message with the line.
	id = w.importID(t, w.upload(t, "latin.csv", "leads", []byte("Nombre\nN\xfa\xf1ez\n")))
	page = w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10) + "?charset=utf-8")
	if !strings.Contains(page.Body, "codificación") || !strings.Contains(page.Body, "línea 2") {
		t.Errorf("wrong charset preview:\n%.2000s", page.Body)
	}
	page = w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10))
	if !strings.Contains(page.Body, "Núñez") {
		t.Error("detected charset preview does not decode Windows-1252")
	}
	// Empty file and header-only file.
	if res := w.upload(t, "vacio.csv", "leads", nil); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "no tiene filas") {
		t.Errorf("empty upload: %d", res.Status)
	}
	id = w.importID(t, w.upload(t, "cabecera.csv", "leads", []byte("Nombre;Correo\n")))
	if page := w.AdminC.Get("/imports/" + strconv.FormatInt(id, 10)); !strings.Contains(page.Body, "no tiene filas") {
		t.Error("header-only file")
	}
	// Too big: a clear message, not a bare 413.
	big := bytes.Repeat([]byte("a;b\n"), imports.MaxUpload/4+1)
	if res := w.upload(t, "grande.csv", "leads", big); res.Status != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "demasiado grande") {
		t.Errorf("big upload: %d", res.Status)
	}
	// Reps may not import.
	if res := w.RepC.Get("/imports"); res.Status != http.StatusForbidden {
		t.Errorf("rep: %d", res.Status)
	}
}

func TestPortfolioTemplate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.AdminC.Get("/imports/cartera.xlsx")
	if res.Status != http.StatusOK {
		t.Fatalf("template: %d", res.Status)
	}
	f, err := excelize.OpenReader(strings.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Cartera")
	if len(rows) != 1 || strings.Join(rows[0], "|") != "Cliente|Agente|Agente personalizado|Billing inicial|Valor recomendado|Billing final|Billing diferencia" {
		t.Errorf("template rows %q", rows)
	}
}

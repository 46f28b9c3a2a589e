package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/files"
	"pulso/app/imports/engine"
	"pulso/queries"
)

// world is the shared test world and the file store imports read from.
type world struct {
	*apptest.World
	files files.Store
}

func newWorld(t testing.TB) *world {
	w := apptest.NewWorld(t, "Importadora S.L.", "imp.test")
	return &world{World: w, files: files.New(w.Env.DB)}
}

// upload stores content as an upload and creates its queued import.
func (w *world) upload(t testing.TB, kind, name, format, charset string, content []byte, mapping engine.Mapping) queries.Import {
	t.Helper()
	return w.uploadFrom(t, kind, name, format, charset, bytes.NewReader(content), mapping)
}

// uploadFrom is upload streaming from r.
func (w *world) uploadFrom(t testing.TB, kind, name, format, charset string, r io.Reader, mapping engine.Mapping) queries.Import {
	t.Helper()
	ctx := context.Background()
	f, err := w.files.Put(ctx, w.Org.ID, r)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal(mapping)
	imp, err := w.Env.Q.CreateImport(ctx, queries.CreateImportParams{OrgID: w.Org.ID, Kind: kind, Filename: name, FileID: f.ID,
		SizeBytes: f.Size, Format: format, Charset: charset, Mapping: []byte("{}"), CreatedBy: w.Admin.ID})
	if err != nil {
		t.Fatal(err)
	}
	if imp, err = w.Env.Q.QueueImport(ctx, queries.QueueImportParams{OrgID: w.Org.ID, ID: imp.ID, Mapping: m, Charset: charset}); err != nil {
		t.Fatal(err)
	}
	return imp
}

func (w *world) runner() *engine.Runner {
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("PULSO_IMPORT_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return &engine.Runner{DB: w.Env.DB, Files: w.files, Log: log}
}

// errorFile reads an import's error file back from the store.
func (w *world) errorFile(t testing.TB, imp queries.Import) []byte {
	t.Helper()
	if imp.ErrorFileID == nil {
		t.Fatalf("import %d has no error file", imp.ID)
	}
	rc, _, err := w.files.Open(context.Background(), imp.OrgID, *imp.ErrorFileID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	return []byte(readAll(t, rc))
}

func (w *world) get(t testing.TB, id int64) queries.Import {
	t.Helper()
	imp, err := w.Env.Q.GetImport(context.Background(), queries.GetImportParams{OrgID: w.Org.ID, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

var leadMapping = engine.Mapping{"name": 0, "contact_name": 1, "email": 2, "phone": 3, "tax_id": 4, "province": 5, "tags": 6, "owner_email": 7}

const leadsCSV = "Empresa;Contacto;Correo;Teléfono;NIF;Provincia;Etiquetas;Propietario\n" +
	"Acme S.L.;Ana;ANA@Acme.es ;600 111 222;B12345674;Madrid;feria, VIP;\n" + // 2 good
	"Beta S.A.;Beto;no-es-correo;;;;;\n" + // 3 bad e-mail
	"Gamma;;gamma@g.es;12;;;;\n" + // 4 bad phone
	";;;;;;;\n" + // 5 blank: ignored
	";Sin;;;;;;\n" + // 6 name from contact: good
	"Acme bis;;ana@acme.es;;;;;\n" + // 7 duplicate of line 2 in the file
	"Delta;;d@d.es;;;;;nadie@imp.test\n" + // 8 unknown owner
	"Existente;;old@old.es;;;Sevilla;nueva;\n" + // 9 merges into an existing lead
	"Épsilon;;e@e.es;+34 611 222 333;;;;admin@imp.test\n" // 10 good, owner named

func TestImportLeads(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.Env.Q.CreateLead(ctx, queries.CreateLeadParams{OrgID: w.Org.ID, Name: "Viejo", Email: "old@old.es",
		Country: "ES", Source: "manual", Status: "nuevo", Tags: []string{"antigua"}}); err != nil {
		t.Fatal(err)
	}
	imp := w.upload(t, "leads", "leads.csv", "csv", "", []byte(leadsCSV), leadMapping)
	if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
		t.Fatal(err)
	}
	got := w.get(t, imp.ID)
	if got.Status != "done" || got.Progress != 100 || got.Inserted != 3 || got.Merged != 1 || got.Skipped != 1 || got.Errors != 3 {
		t.Fatalf("import %s %d%%: inserted %d merged %d skipped %d errors %d", got.Status, got.Progress, got.Inserted, got.Merged, got.Skipped, got.Errors)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1 AND source = 'import'`, w.Org.ID); n != 3 {
		t.Errorf("%d imported leads", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1 AND source = 'import' AND name = 'Acme S.L.' AND email = 'ana@acme.es'
		AND phone = '+34600111222' AND tax_id = 'B12345674' AND tags = '{feria,vip}' AND country = 'ES' AND status = 'nuevo' AND created_by = $2`, w.Org.ID, w.Admin.ID); n != 1 {
		t.Error("line 2 was not stored normalised")
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1 AND name = 'Épsilon' AND owner_id = $2`, w.Org.ID, w.Admin.ID); n != 1 {
		t.Error("the named owner did not get line 10")
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1 AND name = 'Viejo' AND province = 'Sevilla' AND tags = '{antigua,nueva}' AND version = 2`, w.Org.ID); n != 1 {
		t.Error("line 9 did not merge into the existing lead")
	}
	if n := w.Env.Count(`SELECT count(*) FROM import_rows WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Errorf("%d staging rows left behind", n)
	}
	data := w.errorFile(t, got)
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(data), "\xEF\xBB\xBF")), "\r\n")
	want := []string{
		"Línea;Empresa;Contacto;Correo;Teléfono;NIF;Provincia;Etiquetas;Propietario;Errores",
		"3;Beta S.A.;Beto;no-es-correo;;;;;;Correo: Escriba un correo válido",
		`4;Gamma;;gamma@g.es;12;;;;;"Teléfono: Escriba un teléfono válido`,
		"8;Delta;;d@d.es;;;;;nadie@imp.test;Propietario: ",
	}
	if len(lines) != len(want) {
		t.Fatalf("error file:\n%s", data)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("error file line %d:\n got %q\nwant %q…", i, lines[i], want[i])
		}
	}
	if strings.Contains(string(data), "imports.") || strings.Contains(string(data), "validation.") {
		t.Errorf("message ids instead of messages:\n%s", data)
	}
}

func TestReimportCreatesNoDuplicates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	for i := range 2 {
		imp := w.upload(t, "leads", fmt.Sprintf("leads%d.csv", i), "csv", "", []byte(leadsCSV), leadMapping)
		if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
			t.Fatal(err)
		}
		got := w.get(t, imp.ID)
		if i == 1 && (got.Inserted != 0 || got.Merged != 0 || got.Skipped != 5 || got.Errors != 3) {
			t.Errorf("second import: inserted %d merged %d skipped %d errors %d", got.Inserted, got.Merged, got.Skipped, got.Errors)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 4 {
		t.Errorf("%d leads after importing the same file twice, want 4", n)
	}
}

// A crash at any point leaves nothing half-done: the retry inserts every
// good row exactly once.
func TestCrashAndRetry(t *testing.T) {
	t.Parallel()
	crash := errors.New("worker killed")
	for _, where := range []string{"after staging", "in the final transaction"} {
		t.Run(where, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ctx := context.Background()
			imp := w.upload(t, "leads", "leads.csv", "csv", "", []byte(leadsCSV), leadMapping)
			r := w.runner()
			if where == "after staging" {
				r.AfterStaging = func() error { return crash }
			} else {
				r.Finish = func(context.Context, pgx.Tx, queries.Import, engine.Result) error { return crash }
			}
			if err := r.Run(ctx, w.Org.ID, imp.ID); !errors.Is(err, crash) {
				t.Fatalf("first attempt: %v", err)
			}
			if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 0 {
				t.Fatalf("%d leads after a crashed attempt", n)
			}
			if st := w.get(t, imp.ID).Status; st != "running" {
				t.Fatalf("status %s after a crash", st)
			}
			if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
				t.Fatal(err)
			}
			if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil { // a late duplicate attempt does nothing
				t.Fatal(err)
			}
			got := w.get(t, imp.ID)
			if got.Status != "done" || got.Inserted != 4 || got.Errors != 3 {
				t.Errorf("after retry: %s inserted %d errors %d", got.Status, got.Inserted, got.Errors)
			}
			if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 4 {
				t.Errorf("%d leads after the retry, want 4", n)
			}
		})
	}
}

func TestBrokenFiles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	truncated := xlsxFile(t, [][]any{{"Nombre"}, {"Acme"}})
	cases := []struct {
		name, format, charset string
		content               []byte
		want                  string
		line                  int32
	}{
		{"wrong encoding", "csv", "utf-8", []byte("Nombre\nN\xfa\xf1ez\n"), "imports.err_encoding", 2},
		{"truncated xlsx", "xlsx", "", truncated[:len(truncated)/2], "imports.err_bad_xlsx", 0},
		{"no rows", "csv", "", []byte("Nombre;Correo\n\n;\n"), "imports.err_empty", 0},
		{"empty file", "csv", "", nil, "imports.err_empty", 0},
		{"5 MB line", "csv", "", []byte("Nombre\nAcme\n" + strings.Repeat("a", 5<<20)), "imports.err_line_too_long", 3},
		{"binary", "csv", "", []byte("Nombre\n\x00\x01\x02\n"), "imports.err_encoding", 2},
	}
	for _, tc := range cases {
		imp := w.upload(t, "leads", tc.name, tc.format, tc.charset, tc.content, engine.Mapping{"name": 0})
		if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
			t.Fatalf("%s: job error %v (a broken file must fail the import, not the job)", tc.name, err)
		}
		got := w.get(t, imp.ID)
		if got.Status != "failed" || got.Failure != tc.want || got.FailureLine != tc.line {
			t.Errorf("%s: %s %q line %d, want failed %q line %d", tc.name, got.Status, got.Failure, got.FailureLine, tc.want, tc.line)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Errorf("%d leads from broken files", n)
	}
}

func TestImportXLSXAndLatin1(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	x := w.upload(t, "leads", "leads.xlsx", "xlsx", "", xlsxFile(t, [][]any{{"Nombre", "Email"}, {"Xlsx Uno", "uno@x.es"}, {"Xlsx Dos", 12}}),
		engine.Mapping{"name": 0, "email": 1})
	l := w.upload(t, "leads", "latin.csv", "csv", "", []byte("Nombre,Ciudad\nN\xfa\xf1ez S.L.,M\xe1laga\n"), engine.Mapping{"name": 0, "city": 1})
	for _, imp := range []queries.Import{x, l} {
		if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.get(t, x.ID); got.Inserted != 1 || got.Errors != 1 {
		t.Errorf("xlsx: inserted %d errors %d", got.Inserted, got.Errors)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE org_id = $1 AND name = 'Núñez S.L.' AND city = 'Málaga'`, w.Org.ID); n != 1 {
		t.Error("Windows-1252 file not decoded")
	}
}

func readAll(t testing.TB, r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

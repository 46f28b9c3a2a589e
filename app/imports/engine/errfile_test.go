package engine_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"pulso/app/imports/engine"
)

// The error file is opened in a spreadsheet: no cell of it, the header
// included, may start with what a spreadsheet runs as a formula.
func TestErrorFileNeutralisesFormulas(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	// The readers trim cells, so a leading tab or CR cannot come out of an
	// upload; spreadsheet_test covers those two on the rule itself.
	// The mapped column's header comes back in each row's reason cell
	// ("=CORREO(): …"), so it is a formula too.
	const csv = "Nombre;=CORREO();=HEADER()\n" +
		"=1+1;no-es-correo;+1+2\n" +
		"@SUM(A1);no-es-correo;-2+3\n" +
		"+cmd|' /C calc'!A0;no-es-correo;=HYPERLINK(\"x\")\n"
	imp := w.upload(t, "leads", "formulas.csv", "csv", "", []byte(csv), engine.Mapping{"name": 0, "email": 1})
	if err := w.runner().Run(ctx, w.Org.ID, imp.ID); err != nil {
		t.Fatal(err)
	}
	got := w.get(t, imp.ID)
	if got.Errors != 3 {
		t.Fatalf("errors %d, want 3", got.Errors)
	}
	data := strings.TrimPrefix(string(w.errorFile(t, got)), "\xEF\xBB\xBF")
	lines := strings.Split(strings.TrimSpace(data), "\r\n")
	if len(lines) != 4 {
		t.Fatalf("error file:\n%s", data)
	}
	for _, l := range lines {
		for _, cell := range splitCSV(t, l) {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q runs as a formula (line %q)", cell, l)
			}
		}
	}
	for _, want := range []string{"'=HEADER()", "'=1+1", "'+1+2", "'@SUM(A1)", "'-2+3", "'+cmd|' /C calc'!A0", `'=HYPERLINK("x")`} {
		if !strings.Contains(strings.ReplaceAll(data, `""`, `"`), want) {
			t.Errorf("error file lacks %q:\n%s", want, data)
		}
	}
}

func splitCSV(t *testing.T, line string) []string {
	t.Helper()
	r := csvReader(line)
	rec, err := r.Read()
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return rec
}

func csvReader(line string) *csv.Reader {
	r := csv.NewReader(strings.NewReader(line))
	r.Comma = ';'
	return r
}

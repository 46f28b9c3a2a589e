package invoices_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"pulso/app/invoices"
	"pulso/app/invoices/books"
	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
)

// bookWorld issues one invoice of each shape the book must carry: an
// ordinary one at two rates, one under recargo, one with IRPF withheld, an
// exempt one with its cause, a reverse-charged one to an EU business, a
// corrective by difference, a voided one, and one in the previous quarter
// (outside the book of this one).
func bookWorld(t *testing.T) (*world, books.Period, map[string]queries.Invoice) {
	t.Helper()
	w := newWorld(t)
	d := today()
	q := books.QuarterOf(d)
	qStart, _ := q.Bounds()
	before := qStart.AddDate(0, 0, -1)
	recargo := w.newCustomer(t, "Droguería Sol", "12345678Z", func(p *queries.CreateCustomerParams) { p.TaxRegime = ptr("recargo") })
	irpf := w.newCustomer(t, "Ana Abogada", "00000000T", func(p *queries.CreateCustomerParams) { p.IrpfRate = numeric("15") })
	exempt := w.newCustomer(t, "Colegio Luz", "G11111111", func(p *queries.CreateCustomerParams) {
		p.TaxRegime, p.ExemptCause = ptr("exempt"), ptr("E1")
	})
	// Customers are ES, MX or AR today (0008): an EU buyer is booked by
	// the tax id it was given.
	eu := w.newCustomer(t, "Société Lune", "B33333333", func(p *queries.CreateCustomerParams) { p.TaxRegime = ptr("reverse_charge") })
	out := map[string]queries.Invoice{}
	issue := func(name string, date time.Time, in invoices.DraftInput) {
		out[name] = w.mustIssue(t, w.draft(t, in).ID, date)
	}
	issue("earlier", before, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Antes", "1", 9900, "21")}})
	issue("two_rates", d, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Taladro", "1", 10000, "21"), w.line("Libro", "2", 2500, "4")}})
	issue("recargo", d, invoices.DraftInput{CustomerID: &recargo, Lines: []invoices.LineInput{w.line("Jabón", "10", 1000, "21")}})
	issue("irpf", d, invoices.DraftInput{CustomerID: &irpf, Lines: []invoices.LineInput{w.line("Informe", "1", 100000, "21")}})
	issue("exempt", d, invoices.DraftInput{CustomerID: &exempt, Lines: []invoices.LineInput{w.line("Curso", "1", 30000, "21")}})
	issue("eu", d, invoices.DraftInput{CustomerID: &eu, Lines: []invoices.LineInput{w.line("Consultoría", "1", 50000, "21")}})
	issue("voided", d, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Error", "1", 777, "21")}})
	issue("corrective", d, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference,
		Reason: "Precio mal aplicado", Corrects: []int64{out["two_rates"].ID}, Lines: []invoices.LineInput{w.line("Taladro (abono)", "-1", 1000, "21")}})
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: w.org.ID, InvoiceID: out["voided"].ID, UserID: &w.user.ID, Reason: "Emitida por error", Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A draft and a proforma never reach the book.
	w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Borrador", "1", 100, "21")}})
	issue("proforma", d, invoices.DraftInput{Kind: invoices.Proforma, Lines: []invoices.LineInput{w.line("Proforma", "1", 100, "21")}})
	return w, q, out
}

func ptr[T any](v T) *T { return &v }

// The book of a quarter, cell by cell: one row per invoice and rate, keys
// and amounts as the VERI*FACTU records have them, correctives negative,
// the voided invoice marked without amounts, the other quarter's invoice,
// drafts and proformas absent.
func TestBookCells(t *testing.T) {
	w, q, inv := bookWorld(t)
	entries, err := books.Entries(context.Background(), w.env.Q, w.org.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := books.WriteCSV(&b, entries); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\ufeff")) {
		t.Error("CSV without its byte-order mark")
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff")))
	r.Comma = ';'
	got, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	d := today()
	y, date, per := fmt.Sprint(d.Year()), d.Format("02/01/2006"), q.Code
	num := func(name string) string { return strings.TrimPrefix(*inv[name].FullNumber, *inv[name].Series+"-") }
	head := func(typ, name, series string) []string {
		return []string{y, per, typ, date, "", series, num(name)}
	}
	row := func(h []string, rest ...string) []string { return append(slices.Clone(h), rest...) }
	want := [][]string{
		books.Columns,
		row(head("F1", "two_rates", "F"), "", "", "B87654321", "Ferretería Ebro S.L.", "01", "S1", "", "173,00", "100,00", "21", "21,00", "", "", "", "", ""),
		row(head("F1", "two_rates", "F"), "", "", "B87654321", "Ferretería Ebro S.L.", "01", "S1", "", "", "50,00", "4", "2,00", "", "", "", "", ""),
		row(head("F1", "recargo", "F"), "", "", "12345678Z", "Droguería Sol", "01", "S1", "", "126,20", "100,00", "21", "21,00", "5,2", "5,20", "", "", ""),
		row(head("F1", "irpf", "F"), "", "", "00000000T", "Ana Abogada", "01", "S1", "", "1060,00", "1000,00", "21", "210,00", "", "", "15", "150,00", ""),
		row(head("F1", "exempt", "F"), "", "", "G11111111", "Colegio Luz", "01", "", "E1", "300,00", "300,00", "", "0,00", "", "", "", "", ""),
		row(head("F1", "eu", "F"), "", "", "B33333333", "Société Lune", "01", "N2", "", "500,00", "500,00", "", "0,00", "", "", "", "", ""),
		row(head("F1", "voided", "F"), "", "", "B87654321", "Ferretería Ebro S.L.", "", "", "", "", "", "", "", "", "", "", "", "Anulada"),
		row(head("R1", "corrective", "R"), "", "", "B87654321", "Ferretería Ebro S.L.", "01", "S1", "", "-12,10", "-10,00", "21", "-2,10", "", "", "", "", ""),
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(got), len(want), b.String())
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("row %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}

	// The previous quarter's book holds its one invoice, and a monthly
	// book of this month books its rows under the month.
	prevStart, _ := q.Bounds()
	prev, err := books.Entries(context.Background(), w.env.Q, w.org.ID, books.QuarterOf(prevStart.AddDate(0, 0, -1)))
	if err != nil || len(prev) != 1 || prev[0].Number != num("earlier") {
		t.Errorf("previous quarter: %v %+v", err, prev)
	}
	month := books.Period{Year: d.Year(), Code: d.Format("01")}
	m, err := books.Entries(context.Background(), w.env.Q, w.org.ID, month)
	if err != nil || len(m) != len(entries) || m[0].Period != month.Code {
		t.Errorf("monthly book: %v %d rows, period %q", err, len(m), m[0].Period)
	}
}

// Through the routes: the accountant downloads CSV and XLSX (opened with
// excelize, amounts as numbers), a bad period gets its field message, a
// rep is refused.
func TestBookExportRoutes(t *testing.T) {
	w, q, inv := bookWorld(t)
	acct := w.env.LoginAs(w.env.User(w.org, "conta@books.test", web.RoleAccountant))
	query := "?year=" + fmt.Sprint(q.Year) + "&period=" + q.Code

	page := acct.Get("/billing")
	if page.Status != 200 || !strings.Contains(page.Body, `action="/billing/books.csv"`) || !strings.Contains(page.Body, `value="`+q.Code+`" selected`) {
		t.Fatalf("billing page: %d", page.Status)
	}
	res := acct.Get("/billing/books.csv" + query)
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), q.FileName("csv")) {
		t.Fatalf("csv: %d %v", res.Status, res.Header)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\ufeff")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil || len(rows) != 9 || rows[8][6] != strings.TrimPrefix(*inv["corrective"].FullNumber, "R-") {
		t.Fatalf("csv parse-back: %v %d rows", err, len(rows))
	}

	res = acct.Get("/billing/books.xlsx" + query)
	if res.Status != 200 {
		t.Fatalf("xlsx: %d", res.Status)
	}
	f, err := excelize.OpenReader(strings.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cells, err := f.GetRows(books.Sheet, excelize.Options{RawCellValue: true})
	if err != nil || len(cells) != 9 {
		t.Fatalf("xlsx rows: %v %d", err, len(cells))
	}
	if !slices.Equal(cells[0], books.Columns) {
		t.Errorf("xlsx header %q", cells[0])
	}
	// Amounts are numbers: the accountant's sums work.
	for col, want := range map[string]string{"O": "173", "P": "100", "Q": "21", "R": "21"} {
		if v, _ := f.GetCellValue(books.Sheet, col+"2", excelize.Options{RawCellValue: true}); v != want {
			t.Errorf("xlsx %s2 = %q, want %q", col, v, want)
		}
		if typ, _ := f.GetCellType(books.Sheet, col+"2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("xlsx %s2 is text", col)
		}
	}
	if v, _ := f.GetCellValue(books.Sheet, "P9"); v != "-10.00" {
		t.Errorf("xlsx corrective base %q", v)
	}
	if v, _ := f.GetCellValue(books.Sheet, "W8"); v != "Anulada" {
		t.Errorf("xlsx voided mark %q", v)
	}
	var sum int64
	for _, row := range cells[1:] {
		if len(row) > 15 && row[15] != "" {
			c, err := money.Parse(row[15], "MX")
			if err != nil {
				t.Fatal(err)
			}
			sum += c
		}
	}
	if sum != 10000+5000+10000+100000+30000+50000-1000 {
		t.Errorf("sum of bases %d", sum)
	}

	for _, bad := range []struct{ query, field string }{{"?year=20x6&period=1T", "year"}, {"?year=2026&period=5T", "period"}, {"", "year"}} {
		res := acct.Get("/billing/books.csv" + bad.query)
		if res.Status != 422 || !strings.Contains(res.Body, `id="e-`+bad.field+`"`) {
			t.Errorf("%s: %d, want 422 with a message on %s", bad.query, res.Status, bad.field)
		}
	}

	rep := w.env.LoginAs(w.env.User(w.org, "rep@books.test", web.RoleRep))
	for _, path := range []string{"/billing", "/billing/books.csv" + query, "/billing/books.xlsx" + query} {
		if res := rep.Get(path); res.Status != 403 {
			t.Errorf("rep GET %s: %d", path, res.Status)
		}
	}
}

package invoices_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"pulso/app/invoices"
	"pulso/app/printing"
	"pulso/app/tax"
	"pulso/queries"
)

// Totals go through app/tax under each customer's treatment, exact to the
// cent, and the PDF carries the treatment's legend.
func TestIssueTotalsUnderEachRegime(t *testing.T) {
	w := newWorld(t)
	regime := func(r, cause, irpf string) func(*queries.CreateCustomerParams) {
		return func(p *queries.CreateCustomerParams) {
			p.TaxRegime, p.ExemptCause = &r, &cause
			n := numeric(irpf)
			p.IrpfRate = n
		}
	}
	for i, c := range []struct {
		name                                string
		customer                            func(*queries.CreateCustomerParams)
		lines                               []invoices.LineInput
		base, tax, surcharge, withheld, tot int64
		legend                              string
	}{
		{"general, two rates", nil, []invoices.LineInput{w.line("Taladro", "3", 8990, "21"), w.line("Libro", "2", 1500, "4")},
			// 269,70 × 21 % = 56,637 → 56,64; 30,00 × 4 % = 1,20.
			29970, 5784, 0, 0, 35754, ""},
		{"recargo de equivalencia", regime("recargo", "", "0"), []invoices.LineInput{w.line("Taladro", "1", 10000, "21")},
			10000, 2100, 520, 0, 12620, ""},
		{"IRPF 15 %", regime("general", "", "15"), []invoices.LineInput{w.line("Asesoría", "1", 100000, "21")},
			100000, 21000, 0, 15000, 106000, ""},
		{"exempt, art. 20", regime("exempt", "E1", "0"), []invoices.LineInput{w.line("Formación", "1", 10000, "21")},
			10000, 0, 0, 0, 10000, "Operación exenta de IVA (art. 20 de la Ley 37/1992)"},
		{"reverse charge", regime("reverse_charge", "", "0"), []invoices.LineInput{w.line("Consultoría", "1", 10000, "21")},
			10000, 0, 0, 0, 10000, "Inversión del sujeto pasivo: el destinatario liquida el IVA (arts. 69 y 84.Uno.2º de la Ley 37/1992)"},
		{"export", regime("export", "", "0"), []invoices.LineInput{w.line("Maquinaria", "1", 10000, "21")},
			10000, 0, 0, 0, 10000, "Exportación exenta de IVA (art. 21 de la Ley 37/1992)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cu := w.customer
			if c.customer != nil {
				cu = w.newCustomer(t, fmt.Sprintf("Cliente %d S.L.", i), fmt.Sprintf("B0000000%d", i), c.customer)
			}
			d := w.draft(t, invoices.DraftInput{CustomerID: &cu, Lines: c.lines})
			inv := w.mustIssue(t, d.ID, time.Time{})
			if inv.Base != c.base || inv.Tax != c.tax || inv.Surcharge != c.surcharge || inv.Withheld != c.withheld || inv.Total != c.tot {
				t.Fatalf("totals %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d", inv.Base, inv.Tax, inv.Surcharge, inv.Withheld, inv.Total,
					c.base, c.tax, c.surcharge, c.withheld, c.tot)
			}
			var pt invoices.Parties
			if err := json.Unmarshal(inv.Parties, &pt); err != nil {
				t.Fatal(err)
			}
			if c.customer != nil && pt.Tax.Regime == tax.General && !pt.Tax.IRPF.IsPositive() {
				t.Errorf("treatment not frozen: %+v", pt.Tax)
			}
			if c.legend != "" {
				pdfHas(t, inv.Pdf, c.legend)
			}
		})
	}
}

// Issuing numbers per series and year (complete, simplified and corrective
// invoices apart), freezes who the invoice is between and its PDF: later
// changes to the customer or the org reach no issued invoice.
func TestIssueNumbersAndFreezes(t *testing.T) {
	w := newWorld(t)
	year := today().Year()
	a := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Taladro", "1", 10000, "21")}}).ID, time.Time{})
	b := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Broca", "1", 500, "21")}}).ID, time.Time{})
	s := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Tornillos", "1", 500, "21")}}).ID, time.Time{})
	r := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference,
		Reason: "Precio mal aplicado", Corrects: []int64{a.ID}, Lines: []invoices.LineInput{w.line("Taladro (abono)", "-1", 1000, "21")}}).ID, time.Time{})
	for inv, want := range map[*queries.Invoice]string{&a: "F-%d-0001", &b: "F-%d-0002", &s: "FS-%d-0001", &r: "R-%d-0001"} {
		if got := *inv.FullNumber; got != fmt.Sprintf(want, year) {
			t.Errorf("number %s, want %s", got, fmt.Sprintf(want, year))
		}
	}
	if r.Total != -1210 || *r.FiscalType != "R1" {
		t.Errorf("corrective by difference: total %d type %s", r.Total, *r.FiscalType)
	}
	if s.CustomerID != nil || bytes.Contains(s.Parties, []byte(`"customer"`)) {
		t.Errorf("a simplified invoice names a recipient: %s", s.Parties)
	}

	ctx := context.Background()
	// What Issue returns is the row it stored (it is not read back).
	for _, inv := range []queries.Invoice{a, s, r} {
		stored, err := w.env.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: w.org.ID, ID: inv.ID})
		if err != nil {
			t.Fatal(err)
		}
		var p1, p2 any
		_, _ = json.Unmarshal(inv.Parties, &p1), json.Unmarshal(stored.Parties, &p2)
		if !reflect.DeepEqual(p1, p2) || !inv.IssuedAt.Equal(*stored.IssuedAt) || !bytes.Equal(inv.Pdf, stored.Pdf) {
			t.Errorf("invoice %d: Issue returned other parties, time or PDF than it stored", inv.ID)
		}
		inv.Parties, inv.IssuedAt, inv.Pdf, inv.CreatedAt = stored.Parties, stored.IssuedAt, stored.Pdf, stored.CreatedAt
		if !reflect.DeepEqual(inv, stored) {
			t.Errorf("Issue returned\n%+v\nthe database holds\n%+v", inv, stored)
		}
	}
	w.env.Exec(`UPDATE customers SET legal_name = 'Otro Nombre S.A.', tax_id = 'A11111111' WHERE id = $1`, w.customer)
	w.env.Exec(`UPDATE orgs SET name = 'Renombrada S.L.', address = 'Otra calle 2' WHERE id = $1`, w.org.ID)
	pdf, name, err := invoices.PDF(ctx, w.env.Q, w.org.ID, a.ID)
	if err != nil || !bytes.Equal(pdf, a.Pdf) || name != fmt.Sprintf("factura-F-%d-0001.pdf", year) {
		t.Fatalf("stored PDF: %v %q", err, name)
	}
	// The document rebuilt from what was frozen gives the very same bytes.
	d, err := invoices.Document(ctx, w.env.Q, w.org.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := printing.Render(d)
	if err != nil || !bytes.Equal(again, a.Pdf) {
		t.Fatalf("re-rendering the issued invoice gives other bytes (%v)", err)
	}
	pdfHas(t, a.Pdf, "Facturas Norte S.L.", "B12345674", "Calle Mayor 1, 28013 Madrid", "Ferretería Ebro S.L.", "B87654321",
		"Av. Goya 10, 50006 Zaragoza, Zaragoza")
	var pt invoices.Parties
	_ = json.Unmarshal(a.Parties, &pt)
	if pt.Customer.Name != "Ferretería Ebro S.L." || pt.Issuer.Name != "Facturas Norte S.L." {
		t.Errorf("parties changed with the records: %+v", pt)
	}
	if _, err := w.issue(a.ID, time.Time{}); !errors.Is(err, invoices.ErrNotDraft) {
		t.Errorf("issuing twice: %v", err)
	}
}

// The four years to correct an invoice run from when its tax fell due:
// its operation's date when that is earlier than its issue (LIVA art. 89).
// An F3 replaces tickets of its date or earlier.
func TestCorrectionWindowAndReplacementDates(t *testing.T) {
	w := newWorld(t)
	issueOn := func(id int64, issued, operated time.Time) (queries.Invoice, error) {
		var inv queries.Invoice
		err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
			var err error
			inv, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.org.ID, InvoiceID: id, UserID: &w.user.ID, Locale: "es",
				IssueDate: issued, OperationDate: operated, Now: w.now})
			return err
		})
		return inv, err
	}
	issued := today().AddDate(-4, 0, 10) // within four years of today
	late, err := issueOn(w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Obra", "1", 10000, "21")}}).ID, issued, issued.AddDate(0, 0, -20))
	if err != nil {
		t.Fatal(err)
	}
	timely, err := issueOn(w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Obra", "1", 10000, "21")}}).ID, issued, issued.AddDate(0, 0, -5))
	if err != nil {
		t.Fatal(err)
	}
	credit := func(of queries.Invoice) error {
		_, err := w.issue(w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference, Reason: "Error en el precio",
			Corrects: []int64{of.ID}, Lines: []invoices.LineInput{w.line("Obra", "-1", 1000, "21")}}).ID, time.Time{})
		return err
	}
	var bad invoices.Invalid
	if err := credit(late); !errors.As(err, &bad) || bad["corrects"].ID != "invoices.corrects_too_old" {
		t.Errorf("correcting an operation of more than four years ago, invoiced within them: %v", err)
	}
	if err := credit(timely); err != nil {
		t.Errorf("correcting an operation within four years: %v", err)
	}

	ticket := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Caja", "1", 1000, "21")}}).ID, time.Time{})
	f3 := w.draft(t, invoices.DraftInput{Kind: invoices.Replacement, Corrects: []int64{ticket.ID}, Lines: []invoices.LineInput{w.line("Caja", "1", 1000, "21")}})
	if _, err := w.issue(f3.ID, today().AddDate(0, 0, -1)); !errors.As(err, &bad) || bad["corrects"].ID != "invoices.replaces_later" {
		t.Errorf("an F3 dated before the ticket it replaces: %v", err)
	}
	w.mustIssue(t, f3.ID, time.Time{})
	// Exchanged, the ticket is corrected through its F3, not by an R5.
	r5 := w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R5", Method: invoices.ByDifference, Reason: "Devolución",
		Corrects: []int64{ticket.ID}, Lines: []invoices.LineInput{w.line("Caja", "-1", 1000, "21")}})
	if _, err := w.issue(r5.ID, time.Time{}); !errors.As(err, &bad) || bad["corrects"].ID != "invoices.corrects_replaced" {
		t.Errorf("an R5 of a ticket exchanged for an F3: %v", err)
	}
	// Corrected by an R5, a ticket is no longer exchanged: the F3 would
	// restate its lines without the correction.
	returned := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Caja", "2", 1000, "21")}}).ID, time.Time{})
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R5", Method: invoices.ByDifference, Reason: "Devolución",
		Corrects: []int64{returned.ID}, Lines: []invoices.LineInput{w.line("Caja", "-1", 1000, "21")}}).ID, time.Time{})
	late3 := w.draft(t, invoices.DraftInput{Kind: invoices.Replacement, Corrects: []int64{returned.ID}, Lines: []invoices.LineInput{w.line("Caja", "2", 1000, "21")}})
	if _, err := w.issue(late3.ID, time.Time{}); !errors.As(err, &bad) || bad["corrects"].ID != "invoices.replaces_corrected" {
		t.Errorf("an F3 of a ticket an R5 corrected: %v", err)
	}
}

// A correction by difference corrects the operation as it was taxed: its
// draft takes the corrected invoice's treatment, not the customer's as it
// is since (here IRPF raised from 7 % to 15 %, then the customer moved to
// the reverse charge), so a full credit cancels the invoice to the cent;
// issuing refuses one drafted under another treatment. A correction by
// substitution is a new invoice under the customer's treatment now.
func TestCorrectionByDifferenceKeepsTheCorrectedTreatment(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pro := w.newCustomer(t, "Ana Abogada", "00000000T", func(p *queries.CreateCustomerParams) { p.IrpfRate = numeric("7") })
	inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{CustomerID: &pro, Lines: []invoices.LineInput{w.line("Asesoría", "1", 100000, "21")}}).ID, time.Time{})
	if inv.Total != 114000 || inv.Withheld != 7000 {
		t.Fatalf("invoice total %d, withheld %d; want 1,140.00 and 70.00", inv.Total, inv.Withheld)
	}
	w.env.Exec(`UPDATE customers SET irpf_rate = 15 WHERE id = $1`, pro)
	credit := func() invoices.DraftInput {
		return invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference, Reason: "Servicio no prestado",
			CustomerID: &pro, Corrects: []int64{inv.ID}, Lines: []invoices.LineInput{w.line("Asesoría", "-1", 100000, "21")}}
	}
	r := w.mustIssue(t, w.draft(t, credit()).ID, time.Time{})
	if r.Total != -inv.Total || r.Withheld != -inv.Withheld || r.Tax != -inv.Tax {
		t.Errorf("full credit: total %d, tax %d, withheld %d; want the invoice's %d, %d, %d negated", r.Total, r.Tax, r.Withheld, inv.Total, inv.Tax, inv.Withheld)
	}
	w.env.Exec(`UPDATE customers SET tax_regime = 'reverse_charge', irpf_rate = 0 WHERE id = $1`, pro)
	d := w.draft(t, credit())
	var treat string
	if err := w.env.DB.QueryRow(ctx, `SELECT tax_treatment->>'irpf' FROM invoices WHERE id = $1`, d.ID).Scan(&treat); err != nil || treat != "7" {
		t.Errorf("the second credit's draft was taxed with IRPF %q (%v), want the invoice's 7", treat, err)
	}
	// Drafted under the customer's treatment now (as before this rule):
	// refused at issue, with the number of the invoice it corrects.
	w.env.Exec(`UPDATE invoices SET tax_treatment = '{"regime":"reverse_charge"}' WHERE id = $1`, d.ID)
	_, err := w.issue(d.ID, time.Time{})
	var bad invoices.Invalid
	if !errors.As(err, &bad) || bad["corrects"].ID != "invoices.corrects_other_treatment" || bad["corrects"].Params["Number"] != *inv.FullNumber {
		t.Errorf("a credit by difference under another treatment: %v", err)
	}
	// By substitution: the customer's treatment today.
	sub := w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.BySubstitution, Reason: "Inversión del sujeto pasivo",
		CustomerID: &pro, Corrects: []int64{inv.ID}, Lines: []invoices.LineInput{w.line("Asesoría", "1", 100000, "21")}})
	if err := w.env.DB.QueryRow(ctx, `SELECT tax_treatment->>'regime' FROM invoices WHERE id = $1`, sub.ID).Scan(&treat); err != nil || treat != "reverse_charge" {
		t.Errorf("a correction by substitution drafted under regime %q (%v), want the customer's reverse charge", treat, err)
	}
}

// The database keeps an issued invoice as issued, whatever SQL runs: the
// row, its lines, what it corrects and the notes it bills. Only the move
// issued → voided (with who, when, why) passes, and a draft stays free.
func TestIssuedInvoiceIsImmutableInTheDatabase(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Taladro", "1", 10000, "21")}}).ID, time.Time{})
	r := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R4", Method: invoices.BySubstitution,
		Reason: "Cantidad", Corrects: []int64{a.ID}, Lines: []invoices.LineInput{w.line("Taladro", "2", 10000, "21")}}).ID, time.Time{})
	o := w.order(t, w.customer)
	note := w.deliver(t, o.ID, today(), map[int32]string{1: "5"})
	var billed queries.Invoice
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		billed, err = invoices.FromDeliveryNotes(ctx, tx, invoices.NotesInput{OrgID: w.org.ID, NoteIDs: []int64{note}, Now: w.now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w.mustIssue(t, billed.ID, time.Time{})
	draft := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Broca", "1", 500, "21")}})

	for _, sql := range []string{
		`UPDATE invoices SET total = total + 1 WHERE id = $1`,
		`UPDATE invoices SET issue_date = issue_date - 1 WHERE id = $1`,
		`UPDATE invoices SET parties = '{}' WHERE id = $1`,
		`UPDATE invoices SET number = number + 100, full_number = 'X-1' WHERE id = $1`,
		`UPDATE invoices SET state = 'draft' WHERE id = $1`,
		`UPDATE invoices SET pdf = 'x' WHERE id = $1`,
		`UPDATE invoices SET state = 'voided', voided_at = now(), void_reason = 'x', total = 0 WHERE id = $1`,
		`DELETE FROM invoices WHERE id = $1`,
		`UPDATE invoice_lines SET unit_price = 1 WHERE invoice_id = $1`,
		`UPDATE invoice_lines SET description = 'otra cosa' WHERE invoice_id = $1`,
		`DELETE FROM invoice_lines WHERE invoice_id = $1`,
		`INSERT INTO invoice_lines (org_id, invoice_id, position, description, quantity, unit_price, tax_rate_id, tax_rate, amount)
		 SELECT org_id, id, 99, 'extra', 1, 100, ` + fmt.Sprint(w.rates["21"]) + `, 21, 100 FROM invoices WHERE id = $1`,
	} {
		for _, id := range []int64{a.ID, r.ID, billed.ID} {
			// Refused by the freezing triggers, with their message.
			if _, err := w.env.DB.Exec(ctx, sql, id); !isCheckViolation(err) {
				t.Errorf("the database let this through on invoice %d (%v): %s", id, err, sql)
			}
		}
	}
	for _, sql := range []string{
		`DELETE FROM invoice_corrections WHERE invoice_id = $1`,
		`UPDATE invoice_corrections SET corrected_id = corrected_id WHERE invoice_id = $1`,
		`INSERT INTO invoice_corrections (org_id, invoice_id, corrected_id) SELECT org_id, id, ` + fmt.Sprint(billed.ID) + ` FROM invoices WHERE id = $1`,
	} {
		if _, err := w.env.DB.Exec(ctx, sql, r.ID); !isCheckViolation(err) {
			t.Errorf("the database let this through on the corrective (%v): %s", err, sql)
		}
	}
	for _, sql := range []string{
		`DELETE FROM invoice_delivery_notes WHERE invoice_id = $1`,
		`UPDATE invoice_delivery_notes SET released_at = now() WHERE invoice_id = $1`, // only once voided
	} {
		if _, err := w.env.DB.Exec(ctx, sql, billed.ID); err == nil {
			t.Errorf("the database let this through on the billed notes: %s", sql)
		}
	}
	// Nor can a part leave an issued invoice for a draft, which could then
	// be deleted and take it along.
	spare := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Broca", "1", 500, "21")}})
	for _, c := range []struct {
		sql  string
		from int64
	}{
		{`UPDATE invoice_lines SET invoice_id = $2, position = position + 100 WHERE invoice_id = $1`, a.ID},
		{`UPDATE invoice_corrections SET invoice_id = $2 WHERE invoice_id = $1`, r.ID},
		{`UPDATE invoice_delivery_notes SET invoice_id = $2 WHERE invoice_id = $1`, billed.ID},
	} {
		if _, err := w.env.DB.Exec(ctx, c.sql, c.from, spare.ID); !isCheckViolation(err) {
			t.Errorf("the database let a part of invoice %d move to a draft (%v): %s", c.from, err, c.sql)
		}
	}
	// A draft is free to change and to go.
	for _, sql := range []string{
		`UPDATE invoice_lines SET description = 'Broca larga' WHERE invoice_id = $1`,
		`UPDATE invoices SET notes = 'Pago a 30 días' WHERE id = $1`,
		`DELETE FROM invoices WHERE id = $1`,
	} {
		if _, err := w.env.DB.Exec(ctx, sql, draft.ID); err != nil {
			t.Errorf("draft: %s: %v", sql, err)
		}
	}
	// The void move, and nothing after it.
	if _, err := w.env.DB.Exec(ctx, `UPDATE invoices SET state = 'voided', voided_at = now(), void_reason = 'Emitida por error' WHERE id = $1`, billed.ID); err != nil {
		t.Fatalf("void: %v", err)
	}
	if _, err := w.env.DB.Exec(ctx, `UPDATE invoice_delivery_notes SET released_at = now() WHERE invoice_id = $1`, billed.ID); err != nil {
		t.Errorf("releasing a voided invoice's notes: %v", err)
	}
	for _, sql := range []string{
		`UPDATE invoices SET state = 'issued', voided_at = NULL, void_reason = '' WHERE id = $1`,
		`UPDATE invoices SET void_reason = 'otro motivo' WHERE id = $1`,
		`DELETE FROM invoices WHERE id = $1`,
	} {
		if _, err := w.env.DB.Exec(ctx, sql, billed.ID); err == nil {
			t.Errorf("the database let a voided invoice change: %s", sql)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE id = ANY($1) AND state = 'issued' AND total IN (12100, 24200)`, []int64{a.ID, r.ID}); n != 2 {
		t.Errorf("issued invoices changed: %d intact", n)
	}
}

// Thirty-two issuers of one org at once, each with its own draft and a
// date among the last four days: the numbers that commit are 1..n with no
// gap and no repeat, their dates never go backwards, and whoever was
// refused for a date before the series' last was refused with the field
// message (and gave its number back).
func TestConcurrentIssuersLeaveNoGapAndNumbersFollowDates(t *testing.T) {
	w := newWorld(t)
	ids := make([]int64, 32)
	for i := range ids {
		ids[i] = w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line(fmt.Sprintf("Artículo %d", i), "1", int64(1000+i), "21")}}).ID
	}
	base := today().AddDate(0, 0, -3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	issued, refused := 0, 0
	start := make(chan struct{})
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			date := base.AddDate(0, 0, i%4)
			if i < 8 {
				date = base.AddDate(0, 0, 3) // some issue at today's date, so some later ones are refused
			}
			_, err := w.issue(id, date)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				issued++
			case problem(err, "issue_date") == "invoices.issue_date_before_series":
				refused++
			default:
				t.Errorf("issue %d: %v", id, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	rows, err := w.env.DB.Query(context.Background(), `SELECT number, issue_date FROM invoices WHERE org_id = $1 AND state = 'issued' ORDER BY number`, w.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int
	var last time.Time
	for rows.Next() {
		var n int
		var d time.Time
		if err := rows.Scan(&n, &d); err != nil {
			t.Fatal(err)
		}
		if d.Before(last) {
			t.Errorf("number %d is dated %s, before %s", n, d.Format(time.DateOnly), last.Format(time.DateOnly))
		}
		last = d
		numbers = append(numbers, n)
	}
	if issued+refused != 32 || len(numbers) != issued || issued == 0 {
		t.Fatalf("%d issued, %d refused, %d numbered", issued, refused, len(numbers))
	}
	for i, n := range numbers {
		if n != i+1 {
			t.Fatalf("numbers %v: a gap or a repeat at %d", numbers, i)
		}
	}
	if got := w.env.Count(`SELECT last_number FROM number_series WHERE org_id = $1 AND code = 'F'`, w.org.ID); got != issued {
		t.Errorf("the series stands at %d after %d issued: refused issuers kept their numbers", got, issued)
	}
	// The refused drafts are drafts still, and issue at today's date.
	for _, id := range ids {
		if w.env.Count(`SELECT count(*) FROM invoices WHERE id = $1 AND state = 'draft'`, id) == 1 {
			if _, err := w.issue(id, time.Time{}); err != nil {
				t.Errorf("a refused draft cannot issue today: %v", err)
			}
		}
	}
	if n := w.env.Count(`SELECT count(DISTINCT number) FROM invoices WHERE org_id = $1 AND state = 'issued'`, w.org.ID); n != 32 {
		t.Errorf("%d distinct numbers after all issued", n)
	}
}

// Each rule a tax inspector checks is refused with its field message, and
// a refusal leaves the draft a draft and the series untouched.
func TestIssueRefusesWithFieldMessages(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	noTaxID := w.newCustomer(t, "Particular Sin NIF", "", nil)
	other := w.newCustomer(t, "Otro Cliente S.L.", "B22222222", nil)
	old := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Viejo", "1", 10000, "21")}}).ID, today().AddDate(-5, 0, 0))
	recent := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Reciente", "1", 10000, "21")}}).ID, today().AddDate(-1, 0, 0))
	simple := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Caja", "1", 1000, "21")}}).ID, time.Time{})
	otherInv := w.mustIssue(t, w.draft(t, invoices.DraftInput{CustomerID: &other, Lines: []invoices.LineInput{w.line("Otro", "1", 1000, "21")}}).ID, time.Time{})
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Hoy", "1", 1000, "21")}}).ID, time.Time{})
	corrective := func(typ, method, reason string, corrects ...int64) invoices.DraftInput {
		qty := "-1"
		if method != invoices.ByDifference {
			qty = "1"
		}
		return invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: typ, Method: method, Reason: reason, Corrects: corrects,
			Lines: []invoices.LineInput{w.line("Abono", qty, 1000, "21")}}
	}
	// 330,58 + 21 % = 400,00 exactly; one cent more is over.
	at400 := []invoices.LineInput{w.line("Caja", "1", 33058, "21")}
	over400 := []invoices.LineInput{w.line("Caja", "1", 33059, "21")}
	for _, c := range []struct {
		name, field, id string
		in              invoices.DraftInput
		date            time.Time
		setup           func()
	}{
		{"simplified over 400 €", "total", "invoices.simplified_over_limit", invoices.DraftInput{Kind: invoices.Simplified, Lines: over400}, time.Time{}, nil},
		{"complete invoice to a customer without tax id", "customer_tax_id", "invoices.customer_tax_id_required",
			invoices.DraftInput{CustomerID: &noTaxID, Lines: at400}, time.Time{}, nil},
		{"corrective without a reason", "reason", "invoices.reason_required", corrective("R1", invoices.ByDifference, "", recent.ID), time.Time{}, nil},
		{"corrective without a method", "method", "invoices.method_required", corrective("R1", "", "Error", recent.ID), time.Time{}, nil},
		{"corrective naming nothing", "corrects", "invoices.corrects_required", corrective("R1", invoices.ByDifference, "Error"), time.Time{}, nil},
		{"corrective beyond four years", "corrects", "invoices.corrects_too_old", corrective("R1", invoices.ByDifference, "Error", old.ID), time.Time{}, nil},
		{"R5 of a complete invoice", "corrects", "invoices.corrects_wrong_type", corrective("R5", invoices.ByDifference, "Error", recent.ID), time.Time{}, nil},
		{"R1 of a simplified invoice", "corrects", "invoices.corrects_wrong_type", corrective("R1", invoices.ByDifference, "Error", simple.ID), time.Time{}, nil},
		{"corrective of another customer's invoice", "corrects", "invoices.corrects_other_customer", corrective("R4", invoices.ByDifference, "Error", otherInv.ID), time.Time{}, nil},
		{"a date before the series' last", "issue_date", "invoices.issue_date_before_series",
			invoices.DraftInput{Lines: at400}, today().AddDate(0, 0, -1), nil},
		{"a date in the future", "issue_date", "invoices.issue_date_future", invoices.DraftInput{Lines: at400}, today().AddDate(0, 0, 1), nil},
		{"a series that numbers simplified invoices", "series", "invoices.series_other_kind", invoices.DraftInput{Series: "FS", Lines: at400}, time.Time{}, nil},
		{"an org without address", "org", "invoices.org_address_required", invoices.DraftInput{Lines: at400}, time.Time{},
			func() { w.env.Exec(`UPDATE orgs SET address = '' WHERE id = $1`, w.org.ID) }},
		{"an org without tax id", "org", "invoices.org_tax_id_required", invoices.DraftInput{Kind: invoices.Simplified, Lines: at400}, time.Time{},
			func() { w.env.Exec(`UPDATE orgs SET tax_id = '' WHERE id = $1`, w.org.ID) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := w.draft(t, c.in)
			if c.setup != nil {
				c.setup()
				defer w.env.Exec(`UPDATE orgs SET tax_id = 'B12345674', address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, w.org.ID)
			}
			before := w.env.Count(`SELECT coalesce(sum(last_number), 0) FROM number_series WHERE org_id = $1`, w.org.ID)
			_, err := w.issue(d.ID, c.date)
			if got := problem(err, c.field); got != c.id {
				t.Fatalf("got %v, want %s on %s", err, c.id, c.field)
			}
			if w.env.Count(`SELECT count(*) FROM invoices WHERE id = $1 AND state = 'draft' AND number IS NULL`, d.ID) != 1 {
				t.Error("the refused draft changed")
			}
			if after := w.env.Count(`SELECT coalesce(sum(last_number), 0) FROM number_series WHERE org_id = $1`, w.org.ID); after != before {
				t.Errorf("a refusal moved the series from %d to %d", before, after)
			}
		})
	}

	// At the limit it passes; an org declaring an art. 4.2 activity goes to
	// 3,000 €, and not a cent more.
	if _, err := w.issue(w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: at400}).ID, time.Time{}); err != nil {
		t.Errorf("400,00 € simplified: %v", err)
	}
	if err := w.env.Q.SetOrgInvoicing(ctx, queries.SetOrgInvoicingParams{ID: w.org.ID, Address: "Calle Mayor 1, 28013 Madrid", SimplifiedActivity: "e"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.issue(w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Banquete", "1", 247933, "21")}}).ID, time.Time{}); err != nil {
		t.Errorf("2.999,99 € simplified in hospitality: %v", err) // 2.479,33 + 520,66
	}
	_, err := w.issue(w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Banquete", "1", 247935, "21")}}).ID, time.Time{})
	if problem(err, "total") != "invoices.simplified_over_limit" {
		t.Errorf("3.000,01 € simplified: %v", err)
	}
	// Intra-EU reverse charge never goes on a simplified invoice.
	rc := w.newCustomer(t, "EU Buyer GmbH", "B33333333", func(p *queries.CreateCustomerParams) { r := "reverse_charge"; p.TaxRegime = &r })
	_, err = w.issue(w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, CustomerID: &rc, Lines: at400}).ID, time.Time{})
	if problem(err, "kind") != "invoices.simplified_not_allowed" {
		t.Errorf("reverse charge on a simplified invoice: %v", err)
	}
	// The AEAT takes an R2 or R3 only for a recipient with a Spanish NIF
	// (an R2 also by EU VAT number): not for a customer named by the tax
	// id of their country (1191, 1192). A customer with a NIF may get both.
	mexican := w.newCustomer(t, "Importadora Azteca S.A. de C.V.", "IAZ010101AB1", func(p *queries.CreateCustomerParams) { p.Country = "MX" })
	sold := w.mustIssue(t, w.draft(t, invoices.DraftInput{CustomerID: &mexican, Lines: []invoices.LineInput{w.line("Lote", "1", 50000, "21")}}).ID, time.Time{})
	for _, typ := range []string{"R2", "R3"} {
		in := corrective(typ, invoices.ByDifference, "Impago", sold.ID)
		in.CustomerID = &mexican
		if _, err := w.issue(w.draft(t, in).ID, time.Time{}); problem(err, "corrective_type") != "invoices.corrective_type_recipient_"+strings.ToLower(typ) {
			t.Errorf("%s to a customer named by a Mexican RFC: %v", typ, err)
		}
	}
	rcSold := w.mustIssue(t, w.draft(t, invoices.DraftInput{CustomerID: &rc, Lines: []invoices.LineInput{w.line("Consultoría", "1", 50000, "21")}}).ID, time.Time{})
	in := corrective("R2", invoices.ByDifference, "Concurso", rcSold.ID)
	in.CustomerID = &rc
	if _, err := w.issue(w.draft(t, in).ID, time.Time{}); err != nil {
		t.Errorf("R2 to a customer with a NIF: %v", err)
	}
	// Bad drafts never get written.
	for name, in := range map[string]invoices.DraftInput{
		"negative quantity on an ordinary invoice": {Lines: []invoices.LineInput{w.line("X", "-1", 100, "21")}},
		"unknown rate":        {Lines: []invoices.LineInput{{Description: "X", Quantity: decimal.NewFromInt(1), UnitPrice: 100, TaxRateID: 999999}}},
		"no description":      {Lines: []invoices.LineInput{w.line(" ", "1", 100, "21")}},
		"unknown kind":        {Kind: "factura"},
		"R9":                  {Kind: invoices.Corrective, CorrectiveType: "R9"},
		"summary, no period":  {Kind: invoices.Summary, Lines: at400},
		"ordinary, no client": {Kind: invoices.Ordinary, CustomerID: new(int64)},
	} {
		in.OrgID, in.Now = w.org.ID, w.now
		if in.Kind == "" {
			in.Kind = invoices.Ordinary
		}
		if in.CustomerID == nil {
			in.CustomerID = &w.customer
		}
		err := w.tx(func(ctx context.Context, tx pgx.Tx) error { _, err := invoices.CreateDraft(ctx, tx, in); return err })
		var bad invoices.Invalid
		if !errors.As(err, &bad) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Issuing rolls back whole when anything after the number fails: the
// series gives the number back, as RD 1619/2012 wants no holes.
func TestRefusedIssueGivesTheNumberBack(t *testing.T) {
	w := newWorld(t)
	d := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Taladro", "1", 10000, "21")}})
	boom := errors.New("later step failed")
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		if _, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.org.ID, InvoiceID: d.ID, Locale: "es", Now: w.now}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	inv := w.mustIssue(t, d.ID, time.Time{})
	if *inv.Number != 1 {
		t.Fatalf("number %d after a rolled back issue", *inv.Number)
	}
}

func TestKindsAndTypes(t *testing.T) {
	if !slices.Contains(invoices.Kinds, invoices.Replacement) || len(invoices.CorrectiveTypes) != 5 {
		t.Fatal("kinds")
	}
	for k, want := range map[invoices.Kind]string{invoices.Ordinary: "F", invoices.Summary: "F", invoices.Simplified: "FS", invoices.Corrective: "R", invoices.Proforma: ""} {
		if got := invoices.DefaultSeries(k); got != want {
			t.Errorf("%s: series %q", k, got)
		}
	}
}

// An F3 replaces simplified invoices already issued (canje): it names the
// customer, shares the complete invoices' series and prints what it
// replaces; it cannot replace a complete invoice.
func TestReplacementOfSimplifiedInvoices(t *testing.T) {
	w := newWorld(t)
	s1 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Caja", "1", 1000, "21")}}).ID, time.Time{})
	s2 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Caja", "2", 1000, "21")}}).ID, time.Time{})
	f1 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Taladro", "1", 1000, "21")}}).ID, time.Time{})
	lines := []invoices.LineInput{w.line("Caja", "3", 1000, "21")}
	f3 := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Replacement, Corrects: []int64{s1.ID, s2.ID}, Lines: lines}).ID, time.Time{})
	year := today().Year()
	if *f3.FiscalType != "F3" || *f3.FullNumber != fmt.Sprintf("F-%d-0002", year) || f3.Total != 3630 {
		t.Fatalf("F3: %s %s %d", *f3.FiscalType, *f3.FullNumber, f3.Total)
	}
	pdfHas(t, f3.Pdf, "Ferretería Ebro S.L.", fmt.Sprintf("Sustituye a las facturas simplificadas FS-%d-0001 de %s, FS-%d-0002 de %s",
		year, today().Format("02/01/2006"), year, today().Format("02/01/2006")))
	_, err := w.issue(w.draft(t, invoices.DraftInput{Kind: invoices.Replacement, Corrects: []int64{f1.ID}, Lines: lines}).ID, time.Time{})
	if problem(err, "corrects") != "invoices.replaces_simplified_only" {
		t.Errorf("an F3 replacing a complete invoice: %v", err)
	}
	_, err = w.issue(w.draft(t, invoices.DraftInput{Kind: invoices.Replacement, Lines: lines}).ID, time.Time{})
	if problem(err, "corrects") != "invoices.replaces_required" {
		t.Errorf("an F3 replacing nothing: %v", err)
	}
}

// A draft bills only its org's customers: another org's customer id gets
// the same field message as none, and nothing is written.
func TestDraftRefusesAnotherOrgsCustomer(t *testing.T) {
	w := newWorld(t)
	other := w.env.Org("Ajena S.L.")
	cu, err := w.env.Q.CreateCustomer(context.Background(), queries.CreateCustomerParams{OrgID: other.ID, LegalName: "Cliente Ajeno S.L.",
		Country: "ES", Tags: []string{}, TaxID: "B33333333"})
	if err != nil {
		t.Fatal(err)
	}
	err = w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Ordinary, CustomerID: &cu.ID,
			Lines: []invoices.LineInput{w.line("Servicio", "1", 1000, "21")}, By: &w.user.ID, Now: w.now})
		return err
	})
	if got := problem(err, "customer"); got != "invoices.customer_required" {
		t.Fatalf("another org's customer: %v", err)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Errorf("%d invoices written", n)
	}
}

// DraftAndIssue issues the lines it has just written without reading them
// back: the invoice is the one drafting and issuing apart would give, and
// its PDF the one its stored lines render (quantities and percentages are
// kept at the columns' scale, 2.5 as 2.500).
func TestDraftAndIssueFreezesWhatItWrote(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	l := w.line("Tornillos <M6>", "2.5", 1999, "21")
	l.DiscountPct = decimal.RequireFromString("7.5")
	lines := []invoices.LineInput{l, w.line("Broca", "1", 500, "10")}
	var inv queries.Invoice
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.DraftAndIssue(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Ordinary, CustomerID: &w.customer,
			Lines: lines, By: &w.user.ID, Now: w.now}, invoices.IssueInput{OrgID: w.org.ID, UserID: &w.user.ID, Locale: "es", Now: w.now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	apart := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: lines}).ID, time.Time{})
	if inv.Total != apart.Total || inv.Base != apart.Base || inv.Tax != apart.Tax || inv.Total == 0 {
		t.Errorf("drafted and issued at once: %d + %d = %d; apart: %d + %d = %d", inv.Base, inv.Tax, inv.Total, apart.Base, apart.Tax, apart.Total)
	}
	d, err := invoices.Document(ctx, w.env.Q, w.org.ID, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := printing.Render(d)
	if err != nil || !bytes.Equal(again, inv.Pdf) {
		t.Fatalf("the PDF issued from the lines in memory differs from the one its stored lines render (%v)", err)
	}
	stored, err := w.env.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: w.org.ID, ID: inv.ID})
	if err != nil || !bytes.Equal(stored.Pdf, inv.Pdf) || stored.State != invoices.Issued {
		t.Fatalf("stored: %v", err)
	}
	rs, _ := w.records(t)
	if len(rs) != 2 || rs[0].InvoiceID != inv.ID {
		t.Fatalf("records %+v", rs)
	}

	// Inserted issued with its lines in one statement, it is stored as
	// the draft-then-issue path stores the same invoice: the same columns
	// but for what tells them apart (id, number, PDF), the same lines.
	storedApart, err := w.env.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: w.org.ID, ID: apart.ID})
	if err != nil {
		t.Fatal(err)
	}
	same := func(v queries.Invoice) queries.Invoice {
		v.ID, v.CreatedAt, v.Number, v.FullNumber, v.Pdf, v.PdfSha256 = 0, time.Time{}, nil, nil, nil, nil
		return v
	}
	if a, b := same(stored), same(storedApart); !reflect.DeepEqual(a, b) {
		t.Errorf("issued at once:\n%+v\napart:\n%+v", a, b)
	}
	if inv.ID != stored.ID || *inv.FullNumber != *stored.FullNumber || inv.DueDate != stored.DueDate || inv.CreatedAt.IsZero() ||
		!inv.IssuedAt.Equal(*stored.IssuedAt) || inv.State != stored.State || *inv.PdfSha256 != *stored.PdfSha256 {
		t.Errorf("DraftAndIssue returned %+v, stored %+v", same(inv), same(stored))
	}
	atOnce, err := w.env.Q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: w.org.ID, InvoiceID: inv.ID})
	if err != nil {
		t.Fatal(err)
	}
	drafted, err := w.env.Q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: w.org.ID, InvoiceID: apart.ID})
	if err != nil {
		t.Fatal(err)
	}
	for i := range drafted {
		drafted[i].InvoiceID = inv.ID
	}
	if len(atOnce) != 2 || !reflect.DeepEqual(atOnce, drafted) {
		t.Errorf("lines issued at once %+v, apart %+v", atOnce, drafted)
	}
	// Its lines are frozen once that statement is over, as any issued
	// invoice's.
	if _, err := w.env.DB.Exec(ctx, `INSERT INTO invoice_lines (org_id, invoice_id, position, description, quantity, unit_price, tax_rate_id, tax_rate, amount)
		SELECT org_id, invoice_id, 3, 'Añadida', 1, 100, tax_rate_id, tax_rate, 100 FROM invoice_lines WHERE org_id = $1 AND invoice_id = $2 AND position = 1`,
		w.org.ID, inv.ID); !isCheckViolation(err) {
		t.Errorf("a line added to an invoice issued at once: %v", err)
	}
	if _, err := w.env.DB.Exec(ctx, `UPDATE invoice_lines SET unit_price = 1 WHERE org_id = $1 AND invoice_id = $2`, w.org.ID, inv.ID); !isCheckViolation(err) {
		t.Errorf("a line of an invoice issued at once changed: %v", err)
	}
}

// isCheckViolation says whether err is the database refusing a change (the
// freezing triggers raise check_violation).
func isCheckViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514"
}

// Rates follow the devengo. A draft written before a change of rates and
// issued after it is refused with the line's message (issuing at the
// rates of the draft's day would charge an IVA that is no longer law);
// dated to a day the rate was in force, it goes. An invoice drafted and
// issued at once for an earlier day (a recurring period issued late) is
// priced at that day's rates.
func TestRatesOfTheDevengo(t *testing.T) {
	w := newWorld(t)
	yesterday := today().AddDate(0, 0, -1)
	left := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Mantenimiento", "1", 10000, "21")}})
	// 21 % ends tonight; 22 % applies from today.
	w.env.Exec(`UPDATE tax_rates SET valid_to = $2 WHERE id = $1`, w.rates["21"], today())
	w.env.Exec(`INSERT INTO tax_rates (country, kind, rate, label, valid_from) VALUES ('ES', 'iva', 22, 'IVA general 22 %', $1)`, today())

	_, err := w.issue(left.ID, time.Time{})
	var bad invoices.Invalid
	if !errors.As(err, &bad) || bad["lines"].ID != "invoices.rate_not_in_force" || bad["lines"].Params["Date"] != today().Format("02/01/2006") {
		t.Fatalf("a draft at a rate ended since, issued today: %v %+v", err, bad["lines"])
	}
	if inv, err := w.issue(left.ID, yesterday); err != nil || inv.Tax != 2100 {
		t.Fatalf("the same draft dated yesterday: %v (tax %d)", err, inv.Tax)
	}

	late := func(date time.Time) error {
		return w.tx(func(ctx context.Context, tx pgx.Tx) error {
			_, err := invoices.DraftAndIssue(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Ordinary, CustomerID: &w.customer,
				Lines: []invoices.LineInput{w.line("Cuota", "1", 10000, "21")}, By: &w.user.ID, Now: w.now},
				invoices.IssueInput{OrgID: w.org.ID, Locale: "es", IssueDate: date, Now: w.now})
			return err
		})
	}
	if err := late(yesterday); err != nil {
		t.Errorf("drafted and issued for yesterday at yesterday's 21 %%: %v", err)
	}
	if err := late(time.Time{}); !errors.As(err, &bad) {
		t.Errorf("drafted and issued today at the ended 21 %%: %v", err)
	}
}

// A correction restates the operation it corrects: it is drafted at the
// rates in force on that invoice's devengo, even after they ended (a
// credit of last year's invoice at a rate changed since), and not at a
// rate that came in after it.
func TestCorrectionAtTheCorrectedInvoicesRates(t *testing.T) {
	w := newWorld(t)
	yesterday := today().AddDate(0, 0, -1)
	sold := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Obra", "1", 10000, "21")}}).ID, yesterday)
	w.env.Exec(`UPDATE tax_rates SET valid_to = $2 WHERE id = $1`, w.rates["21"], today())
	var rate22 int64
	if err := w.env.DB.QueryRow(context.Background(), `INSERT INTO tax_rates (country, kind, rate, label, valid_from)
		VALUES ('ES', 'iva', 22, 'IVA general 22 %', $1) RETURNING id`, today()).Scan(&rate22); err != nil {
		t.Fatal(err)
	}
	credit := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference,
		Reason: "Descuento posterior", Corrects: []int64{sold.ID}, Lines: []invoices.LineInput{w.line("Obra", "-1", 1000, "21")}}).ID, time.Time{})
	if credit.Total != -1210 || credit.Tax != -210 {
		t.Errorf("credit at the corrected invoice's 21 %%: total %d, tax %d", credit.Total, credit.Tax)
	}
	line := w.line("Obra", "-1", 1000, "21")
	line.TaxRateID = rate22
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Corrective, CorrectiveType: "R1",
			Method: invoices.ByDifference, Reason: "Descuento posterior", CustomerID: &w.customer, Corrects: []int64{sold.ID},
			Lines: []invoices.LineInput{line}, Now: w.now})
		return err
	})
	var bad invoices.Invalid
	if !errors.As(err, &bad) {
		t.Errorf("a correction at a rate that came in after the corrected invoice: %v", err)
	}
}

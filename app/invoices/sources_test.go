package invoices_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/invoices"
	"pulso/queries"
)

func (w *world) fromOrder(orderID int64, deliveredOnly bool) (queries.Invoice, error) {
	var inv queries.Invoice
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.FromOrder(ctx, tx, invoices.OrderInput{OrgID: w.org.ID, OrderID: orderID, DeliveredOnly: deliveredOnly, By: &w.user.ID, Now: w.now})
		return err
	})
	return inv, err
}

func (w *world) fromNotes(ids ...int64) (queries.Invoice, error) {
	var inv queries.Invoice
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.FromDeliveryNotes(ctx, tx, invoices.NotesInput{OrgID: w.org.ID, NoteIDs: ids, By: &w.user.ID, Now: w.now})
		return err
	})
	return inv, err
}

func (w *world) lineCount(id int64) int {
	return w.env.Count(`SELECT count(*) FROM invoice_lines WHERE invoice_id = $1`, id)
}

// An order is invoiced by what was delivered (its delivery notes, each
// billed once) or whole, never both; a deleted draft lets go of what it
// held.
func TestDraftsFromOrdersAndDeliveryNotes(t *testing.T) {
	w := newWorld(t)
	o := w.order(t, w.customer) // 5 × 2,00 € and 2 h × 30,00 €, 21 %
	if _, err := w.fromOrder(o.ID, true); problem(err, "order") != "invoices.nothing_delivered" {
		t.Fatalf("nothing delivered yet: %v", err)
	}
	n1 := w.deliver(t, o.ID, today(), map[int32]string{1: "3"})
	part, err := w.fromOrder(o.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	// 3 × 2,00 = 6,00 + 21 % = 7,26.
	if part.Total != 726 || w.lineCount(part.ID) != 1 || part.OrderWhole || *part.OrderID != o.ID || *part.QuoteID != o.QuoteID {
		t.Fatalf("delivered-only draft: total %d, %d lines, %+v", part.Total, w.lineCount(part.ID), part)
	}
	if _, err := w.fromOrder(o.ID, false); !errors.Is(err, invoices.ErrAlreadyInvoiced) {
		t.Errorf("whole order after a delivery was billed: %v", err)
	}
	if _, err := w.fromNotes(n1); !errors.Is(err, invoices.ErrAlreadyInvoiced) {
		t.Errorf("a note billed twice: %v", err)
	}
	n2 := w.deliver(t, o.ID, today(), map[int32]string{1: "2", 2: "2"})
	rest, err := w.fromNotes(n2)
	if err != nil {
		t.Fatal(err)
	}
	if rest.Total != 7744 || w.lineCount(rest.ID) != 2 { // (4,00 + 60,00) × 1,21
		t.Errorf("second note: total %d", rest.Total)
	}
	if _, err := w.fromOrder(o.ID, true); problem(err, "order") != "invoices.nothing_delivered" {
		t.Errorf("everything delivered is billed: %v", err)
	}

	// Whole: the order's lines; its notes, present and future, are billed.
	o2 := w.order(t, w.customer)
	whole, err := w.fromOrder(o2.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if whole.Total != 8470 || w.lineCount(whole.ID) != 2 || !whole.OrderWhole {
		t.Fatalf("whole order: total %d", whole.Total)
	}
	if _, err := w.fromOrder(o2.ID, false); !errors.Is(err, invoices.ErrAlreadyInvoiced) {
		t.Errorf("an order invoiced whole twice: %v", err)
	}
	n3 := w.deliver(t, o2.ID, today(), map[int32]string{1: "5"})
	if _, err := w.fromNotes(n3); !errors.Is(err, invoices.ErrAlreadyInvoiced) {
		t.Errorf("a note of an order invoiced whole: %v", err)
	}
	// Deleting the draft lets the order go.
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error { return invoices.DeleteDraft(ctx, tx, w.org.ID, whole.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := w.fromNotes(n3); err != nil {
		t.Errorf("the note after the whole draft went: %v", err)
	}
	// Notes of two customers never share an invoice; unknown notes are not found.
	otherCustomer := w.newCustomer(t, "Otra Obra S.L.", "B44444444", nil)
	o3 := w.order(t, otherCustomer)
	n4 := w.deliver(t, o3.ID, today(), map[int32]string{2: "1"})
	n5 := w.deliver(t, o.ID, today(), nil)
	if _, err := w.fromNotes(n4, n5); problem(err, "delivery_notes") != "invoices.notes_other_customer" {
		t.Errorf("two customers' notes: %v", err)
	}
	if _, err := w.fromNotes(n4, 99999999); !errors.Is(err, pgx.ErrNoRows) {
		t.Errorf("an unknown note: %v", err)
	}
	// The drafts issue.
	for _, d := range []queries.Invoice{part, rest} {
		w.mustIssue(t, d.ID, time.Time{})
	}
}

// A signed quote becomes its order (made if need be) and that order's
// invoice, whole.
func TestDraftFromASignedQuote(t *testing.T) {
	w := newWorld(t)
	qid := w.signedQuote(t, w.customer)
	var d queries.Invoice
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		d, err = invoices.FromQuote(ctx, tx, w.org.ID, qid, &w.user.ID, w.now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := w.env.Count(`SELECT count(*) FROM orders WHERE quote_id = $1`, qid); n != 1 {
		t.Fatalf("%d orders", n)
	}
	if *d.QuoteID != qid || *d.QuoteVersion != 1 || !d.OrderWhole || d.Total != 8470 {
		t.Fatalf("draft of the quote: %+v", d)
	}
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.FromQuote(ctx, tx, w.org.ID, qid, &w.user.ID, w.now)
		return err
	})
	if !errors.Is(err, invoices.ErrAlreadyInvoiced) {
		t.Errorf("a quote invoiced twice: %v", err)
	}
	inv := w.mustIssue(t, d.ID, time.Time{})
	pdfHas(t, inv.Pdf, "Ladrillo", "Montaje", "84,70")
}

// A recapitulativa bills every delivery note of one customer in a period
// that nothing bills yet, and prints the period and the notes.
func TestSummaryOfAPeriod(t *testing.T) {
	w := newWorld(t)
	nov := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	o1, o2 := w.order(t, w.customer), w.order(t, w.customer)
	a := w.deliver(t, o1.ID, nov(3), map[int32]string{1: "1"})
	b := w.deliver(t, o2.ID, nov(20), map[int32]string{2: "1"})
	w.deliver(t, o1.ID, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), map[int32]string{1: "1"}) // outside the period
	other := w.newCustomer(t, "Vecino S.L.", "B55555555", nil)
	w.deliver(t, w.order(t, other).ID, nov(10), map[int32]string{1: "1"}) // another customer's
	summary := func() (queries.Invoice, error) {
		var inv queries.Invoice
		err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
			var err error
			inv, err = invoices.SummaryDraft(ctx, tx, invoices.SummaryInput{OrgID: w.org.ID, CustomerID: w.customer, From: nov(1), To: nov(30), By: &w.user.ID, Now: w.now})
			return err
		})
		return inv, err
	}
	d, err := summary()
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != "summary" || *d.FiscalType != "F1" || d.PeriodStart.Time != nov(1) || d.PeriodEnd.Time != nov(30) || d.Total != 3872 { // (2 + 30) × 1,21
		t.Fatalf("summary draft: %+v", d)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoice_delivery_notes WHERE invoice_id = $1 AND delivery_note_id = ANY($2)`, d.ID, []int64{a, b}); n != 2 {
		t.Fatalf("%d notes billed", n)
	}
	if _, err := summary(); problem(err, "period") != "invoices.nothing_delivered" {
		t.Errorf("a second summary of the same period: %v", err)
	}
	err = w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.SummaryDraft(ctx, tx, invoices.SummaryInput{OrgID: w.org.ID, CustomerID: w.customer, From: nov(30), To: nov(1), Now: w.now})
		return err
	})
	if problem(err, "period") != "invoices.period_required" {
		t.Errorf("a period backwards: %v", err)
	}
	inv := w.mustIssue(t, d.ID, time.Time{})
	var na, nb string
	_ = w.env.DB.QueryRow(context.Background(), `SELECT (SELECT number FROM delivery_notes WHERE id = $1), (SELECT number FROM delivery_notes WHERE id = $2)`, a, b).Scan(&na, &nb)
	pdfHas(t, inv.Pdf, "Factura recapitulativa", "Periodo: 01/11/2026 – 30/11/2026", "Albaranes: "+na+", "+nb)
}

// Many invoicers of one delivery note at once: one draft bills it, the
// others are told it is billed; the database refuses a second link even
// when the code is bypassed.
func TestADeliveryNoteIsInvoicedOnceUnderConcurrency(t *testing.T) {
	w := newWorld(t)
	o := w.order(t, w.customer)
	note := w.deliver(t, o.ID, today(), map[int32]string{1: "5"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, refused := 0, 0
	start := make(chan struct{})
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := w.fromNotes(note)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, invoices.ErrAlreadyInvoiced):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if won != 1 || refused != 11 {
		t.Fatalf("%d drafts billed the note, %d refused", won, refused)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoice_delivery_notes WHERE delivery_note_id = $1`, note); n != 1 {
		t.Fatalf("%d links", n)
	}
	other := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("X", "1", 100, "21")}})
	if _, err := w.env.DB.Exec(context.Background(), `INSERT INTO invoice_delivery_notes (org_id, invoice_id, delivery_note_id) VALUES ($1, $2, $3)`,
		w.org.ID, other.ID, note); err == nil {
		t.Fatal("the database let a note be billed by two invoices")
	}
}

// A proforma is issued without a number and marked as having no fiscal
// value; it becomes one ordinary invoice, which takes the first number.
func TestProformaBecomesAnInvoice(t *testing.T) {
	w := newWorld(t)
	pf := w.draft(t, invoices.DraftInput{Kind: invoices.Proforma, Lines: []invoices.LineInput{w.line("Taladro", "2", 8990, "21")}})
	if pf.Series != nil {
		t.Fatalf("a proforma with a series: %v", *pf.Series)
	}
	issued := w.mustIssue(t, pf.ID, time.Time{})
	if issued.Number != nil || issued.FullNumber != nil || issued.State != invoices.Issued {
		t.Fatalf("issued proforma: %+v", issued)
	}
	if n := w.env.Count(`SELECT count(*) FROM number_series WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Fatalf("a proforma took a number (%d series)", n)
	}
	pdfHas(t, issued.Pdf, "Factura proforma", "Proforma — sin valor fiscal", fmt.Sprintf("Ref. %d", pf.ID))
	convert := func() (queries.Invoice, error) {
		var inv queries.Invoice
		err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
			var err error
			inv, err = invoices.FromProforma(ctx, tx, w.org.ID, pf.ID, &w.user.ID)
			return err
		})
		return inv, err
	}
	d, err := convert()
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != "ordinary" || *d.FromProformaID != pf.ID || d.Total != issued.Total || w.lineCount(d.ID) != 1 {
		t.Fatalf("invoice of the proforma: %+v", d)
	}
	if _, err := convert(); !errors.Is(err, invoices.ErrAlreadyInvoiced) {
		t.Errorf("a proforma converted twice: %v", err)
	}
	inv := w.mustIssue(t, d.ID, time.Time{})
	if *inv.FullNumber != fmt.Sprintf("F-%d-0001", today().Year()) {
		t.Errorf("number %s", *inv.FullNumber)
	}
	err = w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.FromProforma(ctx, tx, w.org.ID, inv.ID, nil)
		return err
	})
	if problem(err, "proforma") != "invoices.not_a_proforma" {
		t.Errorf("an invoice converted as a proforma: %v", err)
	}
}

// Voiding an invoice issued in error changes its state and nothing else,
// keeps its number taken, and frees what it billed; a draft, a voided
// invoice or one already corrected cannot be voided.
func TestVoid(t *testing.T) {
	w := newWorld(t)
	o := w.order(t, w.customer)
	note := w.deliver(t, o.ID, today(), map[int32]string{1: "5"})
	d, err := w.fromNotes(note)
	if err != nil {
		t.Fatal(err)
	}
	inv := w.mustIssue(t, d.ID, time.Time{})
	void := func(id int64, reason string) (queries.Invoice, error) {
		var v queries.Invoice
		err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
			var err error
			v, err = invoices.Void(ctx, tx, invoices.VoidInput{OrgID: w.org.ID, InvoiceID: id, UserID: &w.user.ID, Reason: reason, Now: w.now})
			return err
		})
		return v, err
	}
	if _, err := void(inv.ID, "  "); problem(err, "reason") != "invoices.void_reason_required" {
		t.Fatalf("void without a reason: %v", err)
	}
	var before string
	if err := w.env.DB.QueryRow(context.Background(), `SELECT to_jsonb(i)::text FROM invoices i WHERE id = $1`, inv.ID).Scan(&before); err != nil {
		t.Fatal(err)
	}
	v, err := void(inv.ID, "Emitida por error: pedido duplicado")
	if err != nil {
		t.Fatal(err)
	}
	if v.State != invoices.Voided || v.VoidReason != "Emitida por error: pedido duplicado" || v.VoidedAt == nil || *v.VoidedBy != w.user.ID {
		t.Fatalf("voided: %+v", v)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices a WHERE id = $1 AND
			to_jsonb(a) - ARRAY['state','voided_at','voided_by','void_reason'] = $2::jsonb - ARRAY['state','voided_at','voided_by','void_reason']`,
		inv.ID, before); n != 1 {
		t.Error("voiding changed more than the state")
	}
	if _, err := void(inv.ID, "otra vez"); !errors.Is(err, invoices.ErrNotIssued) {
		t.Errorf("voided twice: %v", err)
	}
	// The note is free again; the number stays taken.
	again, err := w.fromNotes(note)
	if err != nil {
		t.Fatalf("the note after its invoice was voided: %v", err)
	}
	next := w.mustIssue(t, again.ID, time.Time{})
	if *next.Number != *inv.Number+1 {
		t.Errorf("after a void the next number is %d, not %d", *next.Number, *inv.Number+1)
	}
	draft := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("X", "1", 100, "21")}})
	if _, err := void(draft.ID, "error"); !errors.Is(err, invoices.ErrNotIssued) {
		t.Errorf("a draft voided: %v", err)
	}
	w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference, Reason: "Precio",
		Corrects: []int64{next.ID}, Lines: []invoices.LineInput{{Description: "Abono", Quantity: decimal.NewFromInt(-1), UnitPrice: 100, TaxRateID: w.rates["21"]}}}).ID, time.Time{})
	if _, err := void(next.ID, "error"); problem(err, "reason") != "invoices.void_corrected" {
		t.Errorf("a corrected invoice voided: %v", err)
	}
	// Issuing a corrective of a voided invoice is refused.
	d2 := w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.BySubstitution, Reason: "Precio",
		Corrects: []int64{inv.ID}, Lines: []invoices.LineInput{w.line("Ladrillo", "5", 150, "21")}})
	if _, err := w.issue(d2.ID, time.Time{}); problem(err, "corrects") != "invoices.corrects_not_issued" {
		t.Errorf("a corrective of a voided invoice: %v", err)
	}
}

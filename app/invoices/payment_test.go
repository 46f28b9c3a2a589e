package invoices_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/queries"
)

// Issuing fixes the due date from the customer's payment terms (none for a
// simplified invoice, none at all for a proforma), the frozen row keeps it,
// and issuing and voiding each announce their event with the commit.
func TestIssueSetsDueDateAndAnnounces(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	w.env.Exec(`UPDATE customers SET payment_terms_days = 45 WHERE id = $1`, w.customer)
	date := time.Date(w.now.Year(), w.now.Month(), w.now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)

	inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Tornillos", "1", 10000, "21")}}).ID, date)
	if want := date.AddDate(0, 0, 45); !inv.DueDate.Valid || !inv.DueDate.Time.Equal(want) {
		t.Errorf("ordinary due %v, want %v", inv.DueDate, want)
	}
	simple := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Simplified, Lines: []invoices.LineInput{w.line("Caja", "1", 1000, "21")}}).ID, date)
	if !simple.DueDate.Valid || !simple.DueDate.Time.Equal(date) {
		t.Errorf("simplified due %v, want the issue date %v", simple.DueDate, date)
	}
	pf := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Proforma, Lines: []invoices.LineInput{w.line("Oferta", "1", 1000, "21")}}).ID, date)
	if pf.DueDate.Valid {
		t.Errorf("proforma due %v, want none", pf.DueDate)
	}
	// Frozen like the rest of the issued row.
	if _, err := w.env.DB.Exec(ctx, `UPDATE invoices SET due_date = due_date + 1 WHERE id = $1`, inv.ID); err == nil {
		t.Error("the due date of an issued invoice changed")
	}
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: w.org.ID, InvoiceID: simple.ID, UserID: &w.user.ID, Reason: "Emitida por error", Now: w.now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for id, kinds := range map[int64]string{inv.ID: "issued", simple.ID: "issued,voided", pf.ID: "issued"} {
		var got string
		if err := w.env.DB.QueryRow(ctx, `SELECT string_agg(kind, ',' ORDER BY id) FROM live_events WHERE org_id = $1 AND topic = 'invoice' AND entity_id = $2`,
			w.org.ID, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != kinds {
			t.Errorf("invoice %d announced %q, want %q", id, got, kinds)
		}
	}
}

// A payment is an allocation; amounts of zero, below it or above what is
// outstanding are refused on their field; the payment that settles the
// invoice announces it paid, once.
func TestRecordPayment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	today := time.Date(w.now.Year(), w.now.Month(), w.now.Day(), 0, 0, 0, 0, time.UTC)
	inv := w.mustIssue(t, w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Tornillos", "1", 10000, "21")}}).ID, today)
	pay := func(amount int64, on time.Time) (invoices.Payment, error) {
		var p invoices.Payment
		err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
			var err error
			p, err = invoices.RecordPayment(ctx, tx, invoices.PaymentInput{OrgID: w.org.ID, InvoiceID: inv.ID, Amount: amount, On: on, UserID: &w.user.ID, Now: w.now})
			return err
		})
		return p, err
	}
	for _, c := range []struct {
		amount      int64
		on          time.Time
		field, want string
	}{
		{0, today, "amount", "invoices.payment_amount_positive"},
		{-5, today, "amount", "invoices.payment_amount_positive"},
		{12101, today, "amount", "invoices.payment_over_outstanding"},
		{100, today.AddDate(0, 0, -1), "paid_on", "invoices.payment_before_issue"},
		{100, time.Time{}, "paid_on", "validation.date"},
		{100, today.AddDate(0, 0, 1), "paid_on", "invoices.payment_future"},
	} {
		_, err := pay(c.amount, c.on)
		var bad invoices.Invalid
		if !errors.As(err, &bad) || bad[c.field].ID != c.want {
			t.Errorf("pay %d on %v: %v, want %s on %s", c.amount, c.on, err, c.want, c.field)
		}
	}
	p, err := pay(10000, today)
	if err != nil || p.Paid || p.Outstanding != 2100 {
		t.Fatalf("first payment: %+v %v", p, err)
	}
	if _, err := pay(2101, today); err == nil {
		t.Error("a payment above what is outstanding was taken")
	}
	if p, err = pay(2100, today); err != nil || !p.Paid || p.Outstanding != 0 {
		t.Fatalf("settling payment: %+v %v", p, err)
	}
	if n := w.env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND entity_id = $2 AND kind = 'paid'`, w.org.ID, inv.ID); n != 1 {
		t.Errorf("%d paid events, want 1", n)
	}
	if got, err := w.env.Q.InvoiceAllocated(ctx, queries.InvoiceAllocatedParams{OrgID: w.org.ID, InvoiceID: inv.ID}); err != nil || got != 12100 {
		t.Errorf("allocated %d %v, want 12100", got, err)
	}
	// A draft takes no payments.
	d := w.draft(t, invoices.DraftInput{Lines: []invoices.LineInput{w.line("Más", "1", 100, "21")}})
	err = w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.RecordPayment(ctx, tx, invoices.PaymentInput{OrgID: w.org.ID, InvoiceID: d.ID, Amount: 1, On: today, Now: w.now})
		return err
	})
	if !errors.Is(err, invoices.ErrNotIssued) {
		t.Errorf("payment on a draft: %v", err)
	}
}

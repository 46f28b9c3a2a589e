package recurring_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/invoices/recurring"
	"pulso/app/live"
	"pulso/app/orders"
	"pulso/queries"
)

func (w *world) tx(t *testing.T, fn func(ctx context.Context, tx pgx.Tx) error) {
	t.Helper()
	if err := live.BeginFunc(context.Background(), w.env.DB, fn); err != nil {
		t.Fatal(err)
	}
}

// delivered makes a signed quote of the customer (apptest's), its order,
// and a delivery note of its first line's 5 units on day.
func (w *world) delivered(t *testing.T, customer int64, day time.Time) int64 {
	t.Helper()
	madrid, _ := time.LoadLocation("Europe/Madrid")
	qid := w.env.SignedQuote(t, w.org, w.user, customer)
	var note int64
	w.tx(t, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		order, err := orders.FromQuote(ctx, tx, w.org.ID, qid, &w.user.ID, time.Now(), madrid)
		if err != nil {
			return err
		}
		n, err := q.CreateDeliveryNote(ctx, queries.CreateDeliveryNoteParams{OrgID: w.org.ID, Number: fmt.Sprintf("ALB-R-%d", order.ID), OrderID: order.ID,
			DeliveredOn: pgtype.Date{Time: day, Valid: true}, CreatedBy: &w.user.ID})
		if err != nil {
			return err
		}
		note = n.ID
		var qty pgtype.Numeric
		_ = qty.Scan("5")
		return q.InsertDeliveryNoteLine(ctx, queries.InsertDeliveryNoteLineParams{OrgID: w.org.ID, DeliveryNoteID: n.ID, OrderID: order.ID, OrderPosition: 1, Quantity: qty})
	})
	return note
}

// TestMonthEnd: every customer with uninvoiced notes of the month gets one
// recapitulativa; one without a tax id is reported with its reason and
// stops no one; a second run of the month finds nothing left.
func TestMonthEnd(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	month := recurring.Month(madridToday())
	b := w.newCustomer(t, "Bricolaje Sur S.L.", "B22222222")
	c := w.newCustomer(t, "Carpintería Norte S.L.", "B33333333")
	noTax := w.newCustomer(t, "Sin NIF S.L.", "B44444444")
	for _, cu := range []int64{w.customer, w.customer, b, c, noTax} {
		w.delivered(t, cu, month)
	}
	w.delivered(t, c, month.AddDate(0, -1, 0)) // the month before: not in this run
	w.env.Exec(`UPDATE customers SET tax_id = '' WHERE org_id = $1 AND id = $2`, w.org.ID, noTax)

	var run queries.InvoiceRun
	w.tx(t, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		run, err = recurring.StartMonthEnd(ctx, tx, w.env.Deps.Jobs, w.org.ID, month.AddDate(0, 0, 9), &w.user.ID, time.Now())
		return err
	})
	// A second start of the month while it is open is the same run.
	w.tx(t, func(ctx context.Context, tx pgx.Tx) error {
		again, err := recurring.StartMonthEnd(ctx, tx, w.env.Deps.Jobs, w.org.ID, month, &w.user.ID, time.Now())
		if err == nil && again.ID != run.ID {
			err = fmt.Errorf("second start made run %d, want %d", again.ID, run.ID)
		}
		return err
	})
	if n := w.env.Count(`SELECT count(*) FROM river_job WHERE kind = 'summary_invoices' AND args->>'run_id' = $1`, fmt.Sprint(run.ID)); n != 1 {
		t.Errorf("%d jobs queued for the run, want 1", n)
	}
	// A run whose job River gave up on (ten failed attempts) stays open;
	// starting the month again queues it anew instead of leaving the month
	// blocked.
	queued := func() int {
		return w.env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = $2 AND kind = 'queued'`, w.org.ID, recurring.RunTopic)
	}
	if n := queued(); n != 1 {
		t.Errorf("%d 'queued' events after a start and a second one, want 1", n)
	}
	w.env.Exec(`UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE kind = 'summary_invoices' AND args->>'run_id' = $1`, fmt.Sprint(run.ID))
	w.tx(t, func(ctx context.Context, tx pgx.Tx) error {
		again, err := recurring.StartMonthEnd(ctx, tx, w.env.Deps.Jobs, w.org.ID, month, &w.user.ID, time.Now())
		if err == nil && again.ID != run.ID {
			err = fmt.Errorf("start after a discarded job made run %d, want %d", again.ID, run.ID)
		}
		return err
	})
	if n := w.env.Count(`SELECT count(*) FROM river_job WHERE kind = 'summary_invoices' AND args->>'run_id' = $1 AND state = 'available'`, fmt.Sprint(run.ID)); n != 1 {
		t.Errorf("%d jobs waiting for the run after its job was discarded, want 1", n)
	}
	if n := queued(); n != 2 {
		t.Errorf("%d 'queued' events after the run was revived, want 2", n)
	}
	if err := recurring.RunMonthEnd(ctx, w.env.DB, nil, w.org.ID, run.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := w.env.Q.GetInvoiceRun(ctx, queries.GetInvoiceRunParams{OrgID: w.org.ID, ID: run.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "done" || got.Total != 4 || got.Done != 3 || got.Failed != 1 {
		t.Errorf("run %+v, want done with 4 customers, 3 invoiced and 1 failed", got)
	}
	items, err := w.env.Q.ListInvoiceRunItems(ctx, queries.ListInvoiceRunItemsParams{OrgID: w.org.ID, RunID: run.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		switch {
		case it.CustomerID == noTax && (it.InvoiceID != nil || it.Error != "invoices.customer_tax_id_required"):
			t.Errorf("customer without tax id: %+v", it)
		case it.CustomerID != noTax && it.InvoiceID == nil:
			t.Errorf("customer %d not invoiced: %s", it.CustomerID, it.Error)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND kind = 'summary' AND state = 'issued' AND period_start = $2`, w.org.ID, month); n != 3 {
		t.Errorf("%d recapitulativas, want 3", n)
	}
	// Both notes of the first customer on one invoice; last month's left.
	if n := w.env.Count(`SELECT count(*) FROM invoice_delivery_notes l JOIN invoices i ON i.org_id = l.org_id AND i.id = l.invoice_id
		WHERE i.org_id = $1 AND i.customer_id = $2`, w.org.ID, w.customer); n != 2 {
		t.Errorf("%d notes billed for the first customer, want 2", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = $2`, w.org.ID, recurring.RunTopic); n < 5 {
		t.Errorf("%d progress events, want one per customer and more", n)
	}
	// Run again (a retry after it finished): nothing changes.
	if err := recurring.RunMonthEnd(ctx, w.env.DB, nil, w.org.ID, run.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND kind = 'summary'`, w.org.ID); n != 3 {
		t.Errorf("%d recapitulativas after a repeat, want 3", n)
	}
	// A month to come is refused.
	err = live.BeginFunc(ctx, w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := recurring.StartMonthEnd(ctx, tx, w.env.Deps.Jobs, w.org.ID, month.AddDate(0, 1, 0), &w.user.ID, time.Now())
		return err
	})
	if problems(err)["period"] != "invoice_runs.month_future" {
		t.Errorf("next month: %v", err)
	}
}

package workers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/linktoken"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// RecurringInvoicesWorker works jobargs.RecurringInvoices: every minute,
// the recurring templates' periods that have come are issued (the rule and
// its exactly-once guarantee live in app/invoices/recurring).
type RecurringInvoicesWorker struct {
	river.WorkerDefaults[jobargs.RecurringInvoices]
	Runner *recurring.Runner
}

// Work keeps the client's job timeout (a minute at most) on purpose: each
// period is its own short transaction, so a run cut off by the timeout, or
// killed, leaves every committed period done and the next minute's run goes
// on from there; and a killed run is rescued soon (the rescuer waits out a
// kind's own timeout), not after a long custom one.
func (w *RecurringInvoicesWorker) Work(ctx context.Context, job *river.Job[jobargs.RecurringInvoices]) error {
	rep, err := w.Runner.RunDue(ctx, nil, time.Now())
	_ = river.RecordOutput(ctx, map[string]int{"issued": rep.Issued, "refused": rep.Refused})
	return err
}

// sendIssued is the recurring runner's send for templates that issue and
// send: the invoice goes to the customer's address on file, in the period's
// transaction. A send refused for what the customer lacks (no address) must
// not undo the issue — the period is due and its invoice is legal — so it
// runs in a savepoint and the refusal is logged; the run row keeps that a
// send was asked for, and the invoice page offers the send.
func sendIssued(links linktoken.Keys, base string, log *slog.Logger) recurring.SendFunc {
	return func(ctx context.Context, tx pgx.Tx, inv queries.Invoice, by *int64) error {
		s, err := sender(ctx, links, base)
		if err != nil {
			return err
		}
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = sp.Rollback(ctx) }()
		_, err = s.SendNow(ctx, sp, inv.OrgID, inv.ID, by, time.Now())
		var bad invoices.Invalid
		if errors.As(err, &bad) {
			log.Warn("recurring invoice issued but not sent", "org_id", inv.OrgID, "invoice_id", inv.ID, "why", bad.Error())
			return nil
		}
		if err != nil {
			return err
		}
		return sp.Commit(ctx)
	}
}

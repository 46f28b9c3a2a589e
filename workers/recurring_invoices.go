package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"pulso/app/invoices/recurring"
	"pulso/workers/jobargs"
)

// RecurringInvoicesWorker works jobargs.RecurringInvoices: every minute,
// the recurring templates' periods that have come are issued (the rule and
// its exactly-once guarantee live in app/invoices/recurring).
type RecurringInvoicesWorker struct {
	river.WorkerDefaults[jobargs.RecurringInvoices]
	Runner *recurring.Runner
}

// Timeout: a backlog after days down, or a large org's first of the month,
// is worked in one job (one short transaction per period). A job killed or
// timed out half-way leaves every committed period done; the next run goes
// on from there.
func (w *RecurringInvoicesWorker) Timeout(*river.Job[jobargs.RecurringInvoices]) time.Duration {
	return 10 * time.Minute
}

func (w *RecurringInvoicesWorker) Work(ctx context.Context, job *river.Job[jobargs.RecurringInvoices]) error {
	rep, err := w.Runner.RunDue(ctx, nil, time.Now())
	_ = river.RecordOutput(ctx, map[string]int{"issued": rep.Issued, "refused": rep.Refused})
	return err
}

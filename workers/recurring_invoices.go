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

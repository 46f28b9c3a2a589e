package workers

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/invoices/recurring"
	"pulso/workers/jobargs"
)

// SummaryInvoicesWorker works jobargs.SummaryInvoices: one month-end run
// (recurring.RunMonthEnd), which resumes where a killed attempt stopped.
type SummaryInvoicesWorker struct {
	river.WorkerDefaults[jobargs.SummaryInvoices]
	DB  *pgxpool.Pool
	Log *slog.Logger
}

// Timeout: every customer of the month in one job, each in its own short
// transaction. Longer than the client's minute so a large month finishes
// in one attempt, short enough that a run whose worker was killed is
// rescued and resumed within minutes (the rescuer waits out this timeout).
func (w *SummaryInvoicesWorker) Timeout(*river.Job[jobargs.SummaryInvoices]) time.Duration {
	return 5 * time.Minute
}

func (w *SummaryInvoicesWorker) Work(ctx context.Context, job *river.Job[jobargs.SummaryInvoices]) error {
	return recurring.RunMonthEnd(ctx, w.DB, w.Log, job.Args.OrgID, job.Args.RunID, time.Now())
}

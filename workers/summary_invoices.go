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
// transaction.
func (w *SummaryInvoicesWorker) Timeout(*river.Job[jobargs.SummaryInvoices]) time.Duration {
	return 30 * time.Minute
}

func (w *SummaryInvoicesWorker) Work(ctx context.Context, job *river.Job[jobargs.SummaryInvoices]) error {
	return recurring.RunMonthEnd(ctx, w.DB, w.Log, job.Args.OrgID, job.Args.RunID, time.Now())
}

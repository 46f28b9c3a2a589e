package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/plans"
	"pulso/workers/jobargs"
)

// QuotaAlertWorker works jobargs.QuotaAlert: an org's month reached a
// threshold of its plan's vouchers (plans.Alert raises it, once).
type QuotaAlertWorker struct {
	river.WorkerDefaults[jobargs.QuotaAlert]
	DB      *pgxpool.Pool
	BaseURL string
}

func (w *QuotaAlertWorker) Work(ctx context.Context, job *river.Job[jobargs.QuotaAlert]) error {
	a := job.Args
	month, err := time.Parse("2006-01", a.Month)
	if err != nil {
		return river.JobCancel(fmt.Errorf("quota alert: bad month %q", a.Month))
	}
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		return plans.Alert(ctx, tx, jobs, plans.Crossing{OrgID: a.OrgID, Month: month, PlanID: a.PlanID, Threshold: a.Threshold},
			w.BaseURL, time.Now())
	})
}

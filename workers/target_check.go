package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/targets"
	"pulso/workers/jobargs"
)

// TargetCheckWorker works jobargs.TargetCheck: a deal was won, so its
// owner's target of that month may be reached (targets.Check decides).
type TargetCheckWorker struct {
	river.WorkerDefaults[jobargs.TargetCheck]
	DB *pgxpool.Pool
}

func (w *TargetCheckWorker) Work(ctx context.Context, job *river.Job[jobargs.TargetCheck]) error {
	a := job.Args
	m, ok := targets.ParseMonth(a.Month)
	if !ok {
		return river.JobCancel(fmt.Errorf("target check: bad month %q", a.Month))
	}
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := targets.Check(ctx, tx, jobs, a.OrgID, a.UserID, m, time.Now())
		return err
	})
}

package workers

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/targets"
	"pulso/workers/jobargs"
)

// TargetPaceWorker works jobargs.TargetPace: every hour, every target of
// the current month is judged against the day (targets.SweepPace).
type TargetPaceWorker struct {
	river.WorkerDefaults[jobargs.TargetPace]
	DB *pgxpool.Pool
}

func (w *TargetPaceWorker) Work(ctx context.Context, job *river.Job[jobargs.TargetPace]) error {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	_, err = targets.SweepPace(ctx, w.DB, jobs, time.Now())
	return err
}

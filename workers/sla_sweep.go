package workers

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/pipeline"
	"pulso/app/quotes"
	"pulso/app/tasks"
	"pulso/workers/jobargs"
)

// SLASweepWorker works jobargs.SLASweep: every minute, what fell due
// because nothing happened. Each rule lives with its area; this only runs
// them in turn.
type SLASweepWorker struct {
	river.WorkerDefaults[jobargs.SLASweep]
	DB *pgxpool.Pool
}

func (w *SLASweepWorker) Work(ctx context.Context, job *river.Job[jobargs.SLASweep]) error {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if _, err := tasks.SweepBreaches(ctx, w.DB, jobs, now); err != nil {
		return err
	}
	if _, err := pipeline.AlertIdle(ctx, w.DB, jobs, now); err != nil {
		return err
	}
	_, err = quotes.FollowUps(ctx, w.DB, jobs, now)
	return err
}

package workers

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/tasks"
	"pulso/workers/jobargs"
)

// TaskSLAWorker works jobargs.TaskSLA: at a task's deadline, its breach
// (tasks.RaiseBreach decides whether there is one).
type TaskSLAWorker struct {
	river.WorkerDefaults[jobargs.TaskSLA]
	DB *pgxpool.Pool
}

func (w *TaskSLAWorker) Work(ctx context.Context, job *river.Job[jobargs.TaskSLA]) error {
	a := job.Args
	if wait := time.Until(a.Deadline); wait > 0 {
		// Scheduled early by a clock difference: come back at the deadline.
		return river.JobSnooze(wait)
	}
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tasks.RaiseBreach(ctx, tx, jobs, a.OrgID, a.TaskID, time.Now())
		return err
	})
}

// Package workers holds Pulso's background jobs: one file per job kind (its
// args and its worker), plus the registration and periodic schedule here.
package workers

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"pulso/queries"
)

// Queue names, by purpose.
const (
	QueueDefault = river.QueueDefault
)

// Options configures a River client.
type Options struct {
	// Work makes the client run jobs. Without it the client only inserts
	// (web-only nodes started with serve --workers=false).
	Work           bool
	DefaultWorkers int
}

// NewClient builds the process's River client with every worker registered.
func NewClient(pool *pgxpool.Pool, log *slog.Logger, opts Options) (*river.Client[pgx.Tx], error) {
	q := queries.New(pool)
	ws := river.NewWorkers()
	river.AddWorker(ws, &SessionCleanupWorker{Q: q})
	river.AddWorker(ws, &NotifyWorker{DB: pool})

	cfg := &river.Config{
		Logger:  log.With("component", "river"),
		Workers: ws,
	}
	if opts.Work {
		cfg.Queues = map[string]river.QueueConfig{
			QueueDefault: {MaxWorkers: max(opts.DefaultWorkers, 1)},
		}
		cfg.PeriodicJobs = periodicJobs()
	}
	return river.NewClient(riverpgxv5.New(pool), cfg)
}

// periodicJobs is the one place recurring work is scheduled.
func periodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return SessionCleanupArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}

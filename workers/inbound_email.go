package workers

import (
	"context"
	"errors"
	"pulso/workers/jobargs"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// InboundProcessor does the work; app/inbound provides it (it creates leads,
// which enqueue jobs of their own, so workers cannot import it).
type InboundProcessor func(ctx context.Context, jobs *river.Client[pgx.Tx], orgID, inboundID int64) error

// InboundEmailWorker works jobargs.InboundEmail. Processing locks the message
// row and does nothing for one already processed, so retries and a
// concurrent upload-time run are harmless.
type InboundEmailWorker struct {
	river.WorkerDefaults[jobargs.InboundEmail]
	Process InboundProcessor
}

func (w *InboundEmailWorker) Work(ctx context.Context, job *river.Job[jobargs.InboundEmail]) error {
	if w.Process == nil {
		return errors.New("inbound e-mail processing is not wired into this process")
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return w.Process(ctx, client, job.Args.OrgID, job.Args.InboundID)
}

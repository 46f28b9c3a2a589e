package workers

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/inbound"
	"pulso/workers/jobargs"
)

// InboundEmailWorker works jobargs.InboundEmail: a received message becomes
// a lead or an activity (app/inbound). Processing locks the message row and
// does nothing for one already processed, so retries and a concurrent
// upload-time run are harmless.
type InboundEmailWorker struct {
	river.WorkerDefaults[jobargs.InboundEmail]
	Processor *inbound.Processor
}

func (w *InboundEmailWorker) Work(ctx context.Context, job *river.Job[jobargs.InboundEmail]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return w.Processor.Process(ctx, client, job.Args.OrgID, job.Args.InboundID)
}

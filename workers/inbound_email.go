package workers

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// InboundEmailArgs processes one received e-mail (already stored raw in
// inbound_messages): a new lead, or an activity on the known sender.
type InboundEmailArgs struct {
	OrgID     int64 `json:"org_id"`
	InboundID int64 `json:"inbound_id"`
}

func (InboundEmailArgs) Kind() string { return "inbound_email" }

func (InboundEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// InboundProcessor does the work; app/inbound provides it (it creates leads,
// which enqueue jobs of their own, so workers cannot import it).
type InboundProcessor func(ctx context.Context, jobs *river.Client[pgx.Tx], orgID, inboundID int64) error

// InboundEmailWorker works InboundEmailArgs. Processing locks the message
// row and does nothing for one already processed, so retries and a
// concurrent upload-time run are harmless.
type InboundEmailWorker struct {
	river.WorkerDefaults[InboundEmailArgs]
	Process InboundProcessor
}

func (w *InboundEmailWorker) Work(ctx context.Context, job *river.Job[InboundEmailArgs]) error {
	if w.Process == nil {
		return errors.New("inbound e-mail processing is not wired into this process")
	}
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return w.Process(ctx, client, job.Args.OrgID, job.Args.InboundID)
}

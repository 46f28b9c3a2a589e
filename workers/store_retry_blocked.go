package workers

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"pulso/app/store"
	"pulso/workers/jobargs"
)

// StoreRetryBlockedWorker works jobargs.StoreRetryBlocked: each held-back
// order is fetched and applied again; one still over the limit stays
// blocked.
type StoreRetryBlockedWorker struct {
	river.WorkerDefaults[jobargs.StoreRetryBlocked]
	Store *store.Store
}

func (w *StoreRetryBlockedWorker) Work(ctx context.Context, job *river.Job[jobargs.StoreRetryBlocked]) error {
	_, err := w.Store.RetryBlocked(ctx, job.Args.OrgID, time.Now())
	return storeOutcome(err)
}

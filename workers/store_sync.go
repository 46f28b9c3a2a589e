package workers

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/store"
	"pulso/app/store/mercadolibre"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// StoreOrderWorker works jobargs.StoreOrder: fetch the order a
// notification named and apply it (store.Store.SyncOrder).
type StoreOrderWorker struct {
	river.WorkerDefaults[jobargs.StoreOrder]
	Store *store.Store
}

func (w *StoreOrderWorker) Work(ctx context.Context, job *river.Job[jobargs.StoreOrder]) error {
	a := job.Args
	_, err := w.Store.SyncOrder(ctx, a.OrgID, a.ConnectionID, a.OrderID, time.Now())
	return storeOutcome(err)
}

// StoreCatchUpWorker works jobargs.StoreCatchUp.
type StoreCatchUpWorker struct {
	river.WorkerDefaults[jobargs.StoreCatchUp]
	Store *store.Store
}

// A catch-up of a large store pages through thousands of orders.
func (w *StoreCatchUpWorker) Timeout(*river.Job[jobargs.StoreCatchUp]) time.Duration {
	return 30 * time.Minute
}

func (w *StoreCatchUpWorker) Work(ctx context.Context, job *river.Job[jobargs.StoreCatchUp]) error {
	_, err := w.Store.CatchUp(ctx, job.Args.OrgID, job.Args.ConnectionID, time.Now())
	return storeOutcome(err)
}

// storeOutcome turns the store's answers into River's: a broken connection
// or an order that no longer exists is not retried; a 429 waits what the
// store asked; anything else retries on River's schedule.
func storeOutcome(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrBroken), errors.Is(err, mercadolibre.ErrNotFound):
		return river.JobCancel(err)
	case mercadolibre.RetryAfter(err) > 0:
		return river.JobSnooze(mercadolibre.RetryAfter(err))
	}
	return err
}

// StoreSweepWorker works jobargs.StoreSweep: a catch-up for every active
// connection, the net under lost notifications, and a retry of the orders
// a plan's limit held back.
type StoreSweepWorker struct {
	river.WorkerDefaults[jobargs.StoreSweep]
	DB *pgxpool.Pool
}

func (w *StoreSweepWorker) Work(ctx context.Context, job *river.Job[jobargs.StoreSweep]) error {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	conns, err := queries.New(w.DB).ActiveStoreConnections(ctx)
	if err != nil {
		return err
	}
	for _, c := range conns {
		if _, err := jobs.Insert(ctx, jobargs.StoreCatchUp{OrgID: c.OrgID, ConnectionID: c.ID}, nil); err != nil {
			return err
		}
	}
	blocked, err := queries.New(w.DB).OrgsWithBlockedStoreOrders(ctx)
	if err != nil {
		return err
	}
	for _, org := range blocked {
		if _, err := jobs.Insert(ctx, jobargs.StoreRetryBlocked{OrgID: org}, nil); err != nil {
			return err
		}
	}
	return nil
}

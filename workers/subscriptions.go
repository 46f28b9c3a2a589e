package workers

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/app/plans"
	"pulso/app/plans/planbilling"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// SubscriptionsWorker works jobargs.Subscriptions: the net under the quota
// alerts, the end of subscription terms (plans.Renew) and then the month's
// charge of each monthly subscription (planbilling.ChargeMonth), each org
// in its own transaction so a rollback takes no other org's work with it.
type SubscriptionsWorker struct {
	river.WorkerDefaults[jobargs.Subscriptions]
	DB      *pgxpool.Pool
	BaseURL string
	Log     *slog.Logger
}

func (w *SubscriptionsWorker) Work(ctx context.Context, job *river.Job[jobargs.Subscriptions]) error {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	q := queries.New(w.DB)
	pending, err := plans.PendingCrossings(ctx, q, now)
	if err != nil {
		return err
	}
	for _, c := range pending {
		if err := live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
			return plans.Alert(ctx, tx, jobs, c, w.BaseURL, now)
		}); err != nil {
			return err
		}
	}
	// Terms end at midnight of the org's calendar; a UTC day is close
	// enough for a job that runs every minute and renews idempotently.
	utc := now.UTC()
	today := time.Date(utc.Year(), utc.Month(), utc.Day(), 0, 0, 0, 0, time.UTC)
	// A new org's first plan: the smallest that fits last month's vouchers
	// (plans.Start; an org made this month starts on the smallest).
	fresh, err := q.OrgsWithoutSubscription(ctx)
	if err != nil {
		return err
	}
	for _, org := range fresh {
		if err := live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
			_, err := plans.Start(ctx, tx, org.ID, org.Currency, today, now)
			return err
		}); err != nil {
			return err
		}
	}
	due, err := q.SubscriptionsDue(ctx, pgtype.Date{Time: today, Valid: true})
	if err != nil {
		return err
	}
	for _, org := range due {
		if err := live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
			_, err := plans.Renew(ctx, tx, org, today, now)
			return err
		}); err != nil {
			return err
		}
	}
	// The month is charged after its renewals, on the same UTC calendar.
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	_, err = planbilling.ChargeDue(ctx, w.DB, jobs, log, today, now)
	return err
}

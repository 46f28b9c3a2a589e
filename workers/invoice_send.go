package workers

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/invoices/sends"
	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// InvoiceSendWorker works jobargs.InvoiceSend: at its minute, the send goes
// if its row still says so (sends.Due, under the row's lock). The e-mail is
// queued in the same transaction that marks the row sent, so a retry after
// a crash finds either nothing done or everything done, and a second
// worker (a second `pulso work`, the sweep) waits on the lock and then
// finds the row sent: once, whoever gets there.
type InvoiceSendWorker struct {
	river.WorkerDefaults[jobargs.InvoiceSend]
	DB *pgxpool.Pool
	// Links and BaseURL make the client link (config.LinkKeys and
	// PULSO_BASE_URL, as every node has them).
	Links   linktoken.Keys
	BaseURL string
	// Now is the clock (nil: time.Now); tests set the scheduled minute.
	Now func() time.Time
}

func (w *InvoiceSendWorker) Work(ctx context.Context, job *river.Job[jobargs.InvoiceSend]) error {
	s, err := sender(ctx, w.Links, w.BaseURL)
	if err != nil {
		return err
	}
	now := clock(w.Now)
	sent := false
	err = live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		sent, err = s.Due(ctx, tx, job.Args.OrgID, job.Args.SendID, now)
		return err
	})
	if err != nil || sent {
		return err
	}
	// River runs the job when the database's clock reaches its minute; this
	// node's clock may be a moment behind. Still this job's minute and not
	// yet here: wait for it rather than leave the send to the sweep.
	row, err := queries.New(w.DB).GetInvoiceSend(ctx, queries.GetInvoiceSendParams{OrgID: job.Args.OrgID, ID: job.Args.SendID})
	if err == nil && row.State == sends.Scheduled && row.ScheduledAt.Equal(job.Args.At) && row.ScheduledAt.After(now) {
		return river.JobSnooze(row.ScheduledAt.Sub(now))
	}
	return nil
}

// InvoiceSendSweepWorker works jobargs.InvoiceSendSweep: every minute, the
// scheduled sends whose minute passed without their job, each in its own
// transaction (one failing does not hold back the others' e-mails).
type InvoiceSendSweepWorker struct {
	river.WorkerDefaults[jobargs.InvoiceSendSweep]
	DB      *pgxpool.Pool
	Links   linktoken.Keys
	BaseURL string
	Now     func() time.Time
}

// sweepBatch bounds one sweep; the next minute's takes the rest.
const sweepBatch = 500

func (w *InvoiceSendSweepWorker) Work(ctx context.Context, job *river.Job[jobargs.InvoiceSendSweep]) error {
	s, err := sender(ctx, w.Links, w.BaseURL)
	if err != nil {
		return err
	}
	now := clock(w.Now)
	due, err := queries.New(w.DB).DueInvoiceSends(ctx, queries.DueInvoiceSendsParams{Now: now, MaxRows: sweepBatch})
	if err != nil {
		return err
	}
	// One send failing does not hold back the others; the job retries
	// with the failures (the ones sent are done and skipped).
	var errs []error
	for _, d := range due {
		errs = append(errs, live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
			_, err := s.Due(ctx, tx, d.OrgID, d.ID, now)
			return err
		}))
	}
	return errors.Join(errs...)
}

// sender is the Sender a job sends with: the River client running it
// queues the e-mail.
func sender(ctx context.Context, links linktoken.Keys, base string) (sends.Sender, error) {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return sends.Sender{}, err
	}
	return sends.Sender{Jobs: jobs, Links: links, BaseURL: base}, nil
}

func clock(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}

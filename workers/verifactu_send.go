package workers

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/verifactu/aeat"
	"pulso/app/verifactu/sending"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// VerifactuSendWorker works jobargs.VerifactuSend: one chain's records to
// the AEAT, request after request (sending.Sender owns the rules: order,
// batches, waits, answers, corrections).
type VerifactuSendWorker struct {
	river.WorkerDefaults[jobargs.VerifactuSend]
	Sender *sending.Sender
}

// verifactuRounds bounds the requests of one run, so a run stays well
// inside its timeout; a longer backlog continues in the next run.
const verifactuRounds = 3

// verifactuSnoozeMax: a wait up to this long is slept by snoozing the job;
// a longer one (a pause after failures, an hour after a fault) ends the
// run, and the sweep enqueues the chain again when it is due, so a new
// certificate takes effect within a minute.
const verifactuSnoozeMax = 5 * time.Minute

// Timeout covers verifactuRounds exchanges, each bounded by the client's
// timeout.
func (w *VerifactuSendWorker) Timeout(*river.Job[jobargs.VerifactuSend]) time.Duration {
	return verifactuRounds*aeat.DefaultTimeout + time.Minute
}

func (w *VerifactuSendWorker) Work(ctx context.Context, job *river.Job[jobargs.VerifactuSend]) error {
	a := job.Args
	for range verifactuRounds {
		r, err := w.Sender.Send(ctx, a.OrgID, a.IssuerNIF)
		if err != nil {
			return err
		}
		if r.Remaining == 0 {
			return nil
		}
		wait := time.Until(r.Next)
		if r.Next.IsZero() || wait <= 0 {
			continue
		}
		if wait <= verifactuSnoozeMax {
			return river.JobSnooze(wait)
		}
		return nil
	}
	return river.JobSnooze(0)
}

// VerifactuSweepWorker works jobargs.VerifactuSweep: every chain with
// records waiting whose wait is over gets its send job (unique per chain),
// so records go out after an outage, a restart or a lost job.
type VerifactuSweepWorker struct {
	river.WorkerDefaults[jobargs.VerifactuSweep]
	DB *pgxpool.Pool
}

func (w *VerifactuSweepWorker) Work(ctx context.Context, job *river.Job[jobargs.VerifactuSweep]) error {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	due, err := sending.Due(ctx, queries.New(w.DB), time.Now())
	if err != nil {
		return err
	}
	for _, c := range due {
		if _, err := jobs.Insert(ctx, jobargs.VerifactuSend{OrgID: c.OrgID, IssuerNIF: c.IssuerNif}, nil); err != nil {
			return err
		}
	}
	return nil
}

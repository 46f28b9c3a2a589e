package recurring

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/calendar"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// RunTopic is the live topic of a month-end run's progress: its page moves
// the bar and lists failures as they happen.
const RunTopic = "invoice_run"

// Month is the first day of t's month.
func Month(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }

// StartMonthEnd opens the month-end run of month (any day of it) and
// queues its job in tx. A run of that month still open is returned instead
// of a second one, with its job queued again: River keeps one unfinished
// job per run (jobargs.SummaryInvoices), so this only revives a run whose
// job was discarded or cancelled, which would otherwise stay open, and
// block the month, for good. A month that has not begun is refused.
func StartMonthEnd(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], orgID int64, month time.Time, by *int64, now time.Time) (queries.InvoiceRun, error) {
	q := queries.New(tx)
	org, err := q.GetOrgForInvoicing(ctx, orgID)
	if err != nil {
		return queries.InvoiceRun{}, err
	}
	if month.IsZero() {
		return queries.InvoiceRun{}, invoices.Invalid{"period": {ID: "invoices.period_required"}}
	}
	from := Month(month)
	if from.After(Today(now, org.TimeZone)) {
		return queries.InvoiceRun{}, invoices.Invalid{"period": {ID: "invoice_runs.month_future"}}
	}
	to := from.AddDate(0, 1, -1)
	run, err := q.CreateInvoiceRun(ctx, queries.CreateInvoiceRunParams{OrgID: orgID, PeriodStart: calendar.Date(from), PeriodEnd: calendar.Date(to), CreatedBy: by})
	opened := err == nil
	if errors.Is(err, pgx.ErrNoRows) {
		run, err = q.OpenInvoiceRun(ctx, queries.OpenInvoiceRunParams{OrgID: orgID, PeriodStart: calendar.Date(from)})
	}
	if err != nil {
		return run, err
	}
	res, err := jobs.InsertTx(ctx, tx, jobargs.SummaryInvoices{OrgID: orgID, RunID: run.ID}, nil)
	if err != nil || !opened && res.UniqueSkippedAsDuplicate {
		return run, err
	}
	// A new run, or one revived: its page shows it queued.
	return run, publishRun(ctx, run, "queued")
}

// RunMonthEnd works a month-end run: each customer with delivery notes of
// the month that no invoice bills gets one recapitulativa (SummaryDraft and
// Issue, dated today), in a transaction of its own with its item row, the
// run's counts and a live event. A customer refused (no tax id, notes
// billed meanwhile) gets an item with the reason and the run goes on. Safe
// to run again after a crash at any point: customers with an item are
// skipped, and an invoice and its item commit together.
func RunMonthEnd(ctx context.Context, db *pgxpool.Pool, log *slog.Logger, orgID, runID int64, now time.Time) error {
	q := queries.New(db)
	run, err := q.GetInvoiceRun(ctx, queries.GetInvoiceRunParams{OrgID: orgID, ID: runID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil || run.State == "done" {
		return err
	}
	handled, err := q.InvoiceRunItemCustomers(ctx, queries.InvoiceRunItemCustomersParams{OrgID: orgID, RunID: runID})
	if err != nil {
		return err
	}
	pending, err := q.CustomersWithUninvoicedNotes(ctx, queries.CustomersWithUninvoicedNotesParams{OrgID: orgID,
		FromDay: run.PeriodStart, ToDay: run.PeriodEnd})
	if err != nil {
		return err
	}
	pending = slices.DeleteFunc(pending, func(id int64) bool { return slices.Contains(handled, id) })
	if err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		r, err := queries.New(tx).StartInvoiceRun(ctx, queries.StartInvoiceRunParams{OrgID: orgID, ID: runID, Total: int32(len(handled) + len(pending))})
		if err != nil {
			return err
		}
		return publishRun(ctx, r, "progress")
	}); err != nil {
		return err
	}
	for _, customer := range pending {
		if err := summaryFor(ctx, db, log, run, customer, now); err != nil {
			return err
		}
	}
	return live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if _, err := q.CountInvoiceRun(ctx, queries.CountInvoiceRunParams{OrgID: orgID, ID: runID}); err != nil {
			return err
		}
		r, err := q.FinishInvoiceRun(ctx, queries.FinishInvoiceRunParams{OrgID: orgID, ID: runID, FinishedAt: &now})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // finished by an overlapping attempt
		}
		if err != nil {
			return err
		}
		return publishRun(ctx, r, "done")
	})
}

// summaryFor invoices one customer of a run, or records why not.
func summaryFor(ctx context.Context, db *pgxpool.Pool, log *slog.Logger, run queries.InvoiceRun, customer int64, now time.Time) error {
	var refusal invoices.Problem
	err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		inv, err := invoices.SummaryDraft(ctx, tx, invoices.SummaryInput{OrgID: run.OrgID, CustomerID: customer,
			From: run.PeriodStart.Time, To: run.PeriodEnd.Time, By: run.CreatedBy, Now: now})
		if err == nil {
			inv, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: run.OrgID, InvoiceID: inv.ID, UserID: run.CreatedBy, Locale: Locale, Now: now})
		}
		if p, ok := refused(err); ok {
			refusal = p
			return errRollback
		}
		if err != nil {
			return err
		}
		q := queries.New(tx)
		n, err := q.InsertInvoiceRunItem(ctx, queries.InsertInvoiceRunItemParams{OrgID: run.OrgID, RunID: run.ID, CustomerID: customer,
			InvoiceID: &inv.ID, ErrorParams: []byte("{}")})
		if err != nil {
			return err
		}
		if n == 0 {
			return errRollback // an overlapping attempt handled the customer
		}
		return count(ctx, q, run)
	})
	if !errors.Is(err, errRollback) {
		return err
	}
	if refusal.ID == "" {
		return nil
	}
	if log != nil {
		log.InfoContext(ctx, "month-end invoice refused", "org_id", run.OrgID, "run_id", run.ID, "customer_id", customer, "error", refusal.ID)
	}
	params, err := refusal.ParamsJSON()
	if err != nil {
		return err
	}
	return live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if _, err := q.InsertInvoiceRunItem(ctx, queries.InsertInvoiceRunItemParams{OrgID: run.OrgID, RunID: run.ID, CustomerID: customer,
			Error: refusal.ID, ErrorParams: params}); err != nil {
			return err
		}
		return count(ctx, q, run)
	})
}

// refused says whether err is a refusal of this customer's invoice (its
// first problem) rather than trouble that a retry may cure.
func refused(err error) (invoices.Problem, bool) {
	var bad invoices.Invalid
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return invoices.Problem{}, false
	case errors.As(err, &bad):
		return bad.First(), true
	case errors.Is(err, invoices.ErrAlreadyInvoiced):
		return invoices.Problem{ID: "invoice_runs.already_invoiced"}, true
	case errors.As(err, &pgErr) && pgErr.Code[:2] == "23":
		// A constraint the data breaks: retrying will not mend it.
		return invoices.Problem{ID: "invoice_runs.refused_data"}, true
	}
	return invoices.Problem{}, false
}

func count(ctx context.Context, q *queries.Queries, run queries.InvoiceRun) error {
	r, err := q.CountInvoiceRun(ctx, queries.CountInvoiceRunParams{OrgID: run.OrgID, ID: run.ID})
	if err != nil {
		return err
	}
	return publishRun(ctx, r, "progress")
}

// publishRun tells the run's page (every billing user's) how far it is.
// The event is org-wide; its renderer shows it to billing roles only.
func publishRun(ctx context.Context, r queries.InvoiceRun, kind string) error {
	return live.Publish(ctx, live.Event{OrgID: r.OrgID, Topic: RunTopic, Entity: "invoice_run", EntityID: &r.ID, Kind: kind})
}

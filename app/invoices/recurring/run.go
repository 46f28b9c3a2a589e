package recurring

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/calendar"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/series"
	"pulso/queries"
)

// SendFunc sends an invoice just issued, inside the transaction that issued
// it (so a send is queued exactly when the invoice exists).
type SendFunc func(ctx context.Context, tx pgx.Tx, inv queries.Invoice, by *int64) error

// Runner issues templates' due periods.
type Runner struct {
	DB *pgxpool.Pool
	// SendNow is the hook for templates in ModeIssueAndSend: called in the
	// period's transaction right after the invoice is issued. Nil: the run
	// row records that a send was asked for (recurring_invoice_runs.send)
	// and nothing is sent — the invoice sends slice wires its SendNow here
	// (workers.ClientConfig builds this Runner).
	SendNow SendFunc
	Log     *slog.Logger
}

// Report is what a RunDue did.
type Report struct {
	// Issued counts the periods invoiced; Refused the templates whose next
	// period could not be (its reason is on the template).
	Issued, Refused int
}

// RunDue issues, for every active template of the org (or of every org
// when orgID is nil), each period whose date is today or earlier in the
// org's zone and not yet invoiced: once, oldest first across the org's
// templates, each in its own transaction. See Runner.RunDue.
func RunDue(ctx context.Context, db *pgxpool.Pool, orgID *int64, now time.Time) (Report, error) {
	return (&Runner{DB: db}).RunDue(ctx, orgID, now)
}

// maxRaces bounds how often one period is tried again after another issuer
// dated an invoice of the series later between our read and our number.
const maxRaces = 3

// RunDue: a period is one transaction — the invoice drafted from the
// template's lines and issued, the run row (whose key refuses a second
// issue of the period), the template's next period, the live event, and the
// send hook. A refusal (the customer lost its tax id, a rate ended) rolls
// the period back, records the reason on the template and leaves its later
// periods waiting, so they stay in order; the next run tries again.
//
// Dates: each invoice is dated its period's date, so a restart after days
// down issues the missed periods with their own dates. A series' dates
// never go backwards (invoices.Issue refuses it), so when an invoice of the
// same series was issued with a later date meanwhile (by hand, say), the
// missed period's invoice takes that later date as its issue date and its
// period's date as the date of the operation (RD 1619/2012 art. 6.1.f): it
// is still issued once, in order, and says which period it bills.
func (r *Runner) RunDue(ctx context.Context, orgID *int64, now time.Time) (Report, error) {
	var rep Report
	orgs, err := queries.New(r.DB).OrgsWithDueRecurringInvoices(ctx, queries.OrgsWithDueRecurringInvoicesParams{At: now, OrgID: orgID})
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, org := range orgs {
		if err := r.runOrg(ctx, org, now, &rep); err != nil {
			if ctx.Err() != nil {
				return rep, err
			}
			// One org's trouble does not hold up the others; the job
			// reports it and River retries.
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

func (r *Runner) runOrg(ctx context.Context, orgID int64, now time.Time, rep *Report) error {
	skip := []int64{}
	races := 0
	for {
		out, err := r.period(ctx, orgID, now, skip)
		switch {
		case err != nil:
			return err
		case out.none:
			return nil
		case out.race && races < maxRaces:
			races++
		case out.refused != nil || out.race:
			if out.refused == nil {
				out.refused = invoices.Invalid{"issue_date": {ID: "invoices.issue_date_before_series"}}
			}
			rep.Refused++
			skip = append(skip, out.template)
			if err := r.refuse(ctx, orgID, out.template, out.refused, now); err != nil {
				return err
			}
		case out.issued:
			races = 0
			rep.Issued++
		}
	}
}

type outcome struct {
	none, issued, race bool
	template           int64
	refused            invoices.Invalid
}

// errRollback ends a period's transaction without an error of its own.
var errRollback = errors.New("recurring: roll back")

func (r *Runner) period(ctx context.Context, orgID int64, now time.Time, skip []int64) (outcome, error) {
	var out outcome
	err := live.BeginFunc(ctx, r.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if err := q.LockRecurringInvoicing(ctx, orgID); err != nil {
			return err
		}
		org, err := q.GetOrgForInvoicing(ctx, orgID)
		if err != nil {
			return err
		}
		today := Today(now, org.TimeZone)
		t, err := q.NextDueRecurringInvoice(ctx, queries.NextDueRecurringInvoiceParams{OrgID: orgID, Today: calendar.Date(today), Skip: skip})
		if errors.Is(err, pgx.ErrNoRows) {
			out.none = true
			return nil
		}
		if err != nil {
			return err
		}
		out.template = t.ID
		period := t.NextPeriod.Time
		next, ok := ScheduleOf(t).Next(period.AddDate(0, 0, 1))
		advance := queries.AdvanceRecurringInvoiceParams{OrgID: orgID, ID: t.ID, NextPeriod: dateIf(next, ok)}
		done, err := q.RecurringInvoiceRunExists(ctx, queries.RecurringInvoiceRunExistsParams{OrgID: orgID, TemplateID: t.ID, PeriodStart: calendar.Date(period)})
		if err != nil {
			return err
		}
		if done {
			// Invoiced already (a template edited back over its past):
			// move on without issuing it again.
			return q.AdvanceRecurringInvoice(ctx, advance)
		}
		inv, err := r.issue(ctx, tx, t, period, now)
		var bad invoices.Invalid
		if errors.As(err, &bad) {
			if p, raced := bad["issue_date"]; raced && p.ID == "invoices.issue_date_before_series" {
				out.race = true
			} else {
				out.refused = bad
			}
			return errRollback
		}
		if err != nil {
			return err
		}
		send := t.Mode == ModeIssueAndSend
		if err := q.InsertRecurringInvoiceRun(ctx, queries.InsertRecurringInvoiceRunParams{OrgID: orgID, TemplateID: t.ID,
			PeriodStart: calendar.Date(period), InvoiceID: inv.ID, Send: send}); err != nil {
			return err
		}
		if err := q.AdvanceRecurringInvoice(ctx, advance); err != nil {
			return err
		}
		if send && r.SendNow != nil {
			if err := r.SendNow(ctx, tx, inv, t.CreatedBy); err != nil {
				return err
			}
		}
		out.issued = true
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	return out, err
}

// issue drafts and issues the period's invoice: dated the period, or the
// series' last date when a later invoice was issued since (see RunDue).
func (r *Runner) issue(ctx context.Context, tx pgx.Tx, t queries.RecurringInvoice, period, now time.Time) (queries.Invoice, error) {
	q := queries.New(tx)
	lines, err := Lines(ctx, q, t.OrgID, t.ID)
	if err != nil {
		return queries.Invoice{}, err
	}
	in := invoices.IssueInput{OrgID: t.OrgID, Locale: Locale, IssueDate: period, Now: now}
	last, err := series.LastDate(ctx, q, t.OrgID, invoices.DefaultSeries(invoices.Ordinary), period.Year())
	if err != nil {
		return queries.Invoice{}, err
	}
	if last.After(period) {
		in.IssueDate, in.OperationDate = last, period
	}
	return invoices.DraftAndIssue(ctx, tx, invoices.DraftInput{OrgID: t.OrgID, Kind: invoices.Ordinary, CustomerID: &t.CustomerID,
		Lines: lines, Notes: t.Notes, By: t.CreatedBy, Now: now}, in)
}

// refuse records on the template why its next period was refused: the
// one message invoices.Invalid.First picks.
func (r *Runner) refuse(ctx context.Context, orgID, id int64, bad invoices.Invalid, now time.Time) error {
	msg := bad.First()
	params, err := msg.ParamsJSON()
	if err != nil {
		return err
	}
	if r.Log != nil {
		r.Log.InfoContext(ctx, "recurring invoice refused", "org_id", orgID, "template_id", id, "error", bad.Error())
	}
	return live.BeginFunc(ctx, r.DB, func(ctx context.Context, tx pgx.Tx) error {
		return queries.New(tx).SetRecurringInvoiceError(ctx, queries.SetRecurringInvoiceErrorParams{OrgID: orgID, ID: id,
			LastError: msg.ID, LastErrorParams: params, At: &now})
	})
}

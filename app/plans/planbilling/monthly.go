package planbilling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/plans"
	"pulso/queries"
)

// KindMonthly is the charge of a month of a monthly term.
const KindMonthly = "monthly"

// monthNames name a month in an invoice line.
var monthNames = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
	"noviembre", "diciembre"}

// MonthName is "noviembre de 2026".
func MonthName(t time.Time) string { return fmt.Sprintf("%s de %d", monthNames[t.Month()-1], t.Year()) }

// Monthly is one org's monthly charge as the subscriptions pass makes it.
type Monthly struct {
	OrgID int64
	// Today is the pass's day (a UTC date, as the renewals use): the month
	// charged is today's.
	Today, Now time.Time
	// Jobs queues the VERI*FACTU sending of the invoice (nil: the sweep).
	Jobs *river.Client[pgx.Tx]
	Log  *slog.Logger
}

// ChargeDue charges the month of today of every monthly subscription in
// force on its 1st that has no charge for it yet, each org in its own
// transaction; it returns how many it charged. It runs every minute (the
// subscriptions pass), so the month is charged on the 1st, or on the
// first day after it the pass runs, and two passes at once charge it once.
func ChargeDue(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], log *slog.Logger, today, now time.Time) (int, error) {
	due, err := queries.New(db).MonthlyChargesDue(ctx, pgtype.Date{Time: plans.Month(today), Valid: true})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, org := range due {
		charged := false
		if err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) (err error) {
			_, charged, err = ChargeMonth(ctx, tx, Monthly{OrgID: org, Today: today, Now: now, Jobs: jobs, Log: log})
			return err
		}); err != nil {
			// One org's failure (a missing IVA rate, say) does not hold
			// back the others; the next pass tries it again.
			if ctx.Err() != nil {
				return n, err
			}
			errs = append(errs, fmt.Errorf("planbilling: monthly charge of org %d: %w", org, err))
			continue
		}
		if charged {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// ChargeMonth charges the org's month in tx, once: the plan in force on
// the 1st at its monthly price, and the previous month's overage vouchers
// at the overage price of the plan they were issued under, on one invoice
// of the operator's org at its general IVA. It renews the term first when
// it has ended (so a downgrade or renewal due on the 1st is the plan
// charged), and charges only a monthly term in force on the 1st: a
// quarterly, semi-annual or annual term was paid up front, and a
// subscription started after the 1st has its first charge next month.
//
// The charge's row (its key: org, month, kind) is written before the
// invoice in the same transaction, so a concurrent pass waits on it and
// then finds the month charged, and a crash rolls both back. When no
// invoice can be made (no operator org, one that invoices in another
// currency, a plan without a price in the subscription's currency) the
// charge is kept without one and reason says why; when the operator's
// invoice cannot be issued (the subscriber's tax data, say) its draft
// waits for the operator. It returns the charge, and false when there was
// nothing to charge.
func ChargeMonth(ctx context.Context, tx pgx.Tx, m Monthly) (queries.SubscriptionCharge, bool, error) {
	q := queries.New(tx)
	month := plans.Month(m.Today)
	if m.Log == nil {
		m.Log = slog.Default()
	}
	if _, err := plans.Renew(ctx, tx, m.OrgID, m.Today, m.Now); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return queries.SubscriptionCharge{}, false, nil
		}
		return queries.SubscriptionCharge{}, false, err
	}
	s, err := q.LockSubscription(ctx, m.OrgID)
	if err != nil {
		return queries.SubscriptionCharge{}, false, err
	}
	if s.Frequency != "monthly" || s.TermStart.Time.After(month) || !s.TermEnd.Time.After(month) {
		return queries.SubscriptionCharge{}, false, nil
	}
	c, err := plans.LoadCatalog(ctx, q)
	if err != nil {
		return queries.SubscriptionCharge{}, false, err
	}
	plan, _ := c.Plan(s.PlanID)
	lines, reason, err := monthLines(ctx, q, c, s, plan, month)
	if err != nil {
		return queries.SubscriptionCharge{}, false, err
	}
	var amount int64
	for _, l := range lines {
		amount += l.Quantity * l.UnitPrice
	}
	ch, err := q.ClaimSubscriptionCharge(ctx, queries.ClaimSubscriptionChargeParams{OrgID: m.OrgID, Month: pgtype.Date{Time: month, Valid: true},
		Kind: KindMonthly, PlanID: plan.ID, Amount: amount, Currency: s.Currency, Reason: reason})
	if errors.Is(err, pgx.ErrNoRows) {
		return ch, false, nil
	}
	if err != nil {
		return ch, false, err
	}
	log := m.Log.With("org_id", m.OrgID, "month", month.Format("2006-01"), "amount", amount, "currency", s.Currency)
	if reason != "" {
		log.ErrorContext(ctx, "monthly plan charge recorded without an invoice", "reason", reason)
		return ch, true, nil
	}
	op, ok, err := Operator(ctx, q, s.Currency)
	switch {
	case err != nil:
		return ch, false, err
	case !ok:
		ch.Reason = fmt.Sprintf("No hay organización operadora que facture los planes en %s.", s.Currency)
	case op.ID == m.OrgID:
		ch.Reason = "La organización operadora no se factura a sí misma."
	}
	if ch.Reason != "" {
		log.WarnContext(ctx, "monthly plan charge recorded without an invoice", "reason", ch.Reason)
		return ch, true, q.SetSubscriptionChargeInvoice(ctx, queries.SetSubscriptionChargeInvoiceParams{OrgID: ch.OrgID, Month: ch.Month,
			Kind: ch.Kind, Reason: ch.Reason})
	}
	d, err := Draft(ctx, tx, op, m.OrgID, lines, m.Today, m.Now)
	if err != nil {
		return ch, false, err
	}
	ch.OperatorID, ch.InvoiceID = &op.ID, &d.ID
	if err := issue(ctx, tx, op, d.ID, m); err != nil {
		var bad invoices.Invalid
		if !errors.As(err, &bad) {
			return ch, false, err
		}
		// Issuing refused the invoice for its data, which a retry would
		// not change: the draft waits for the operator to fix and issue it.
		ch.Reason = "La factura quedó en borrador: " + bad.Error()
		log.ErrorContext(ctx, "monthly plan invoice could not be issued: the draft waits for the operator", "operator", op.ID,
			"draft", d.ID, "err", err)
	}
	return ch, true, q.SetSubscriptionChargeInvoice(ctx, queries.SetSubscriptionChargeInvoiceParams{OrgID: ch.OrgID, Month: ch.Month,
		Kind: ch.Kind, OperatorID: ch.OperatorID, InvoiceID: ch.InvoiceID, Reason: ch.Reason})
}

// monthLines are the lines of the org's month: the plan, and the overage
// vouchers of the month before when there were any. reason is why they
// cannot be priced (a plan without a price in the subscription's
// currency), "" when they can.
func monthLines(ctx context.Context, q *queries.Queries, c plans.Catalog, s queries.Subscription, plan queries.Plan, month time.Time) ([]Line, string, error) {
	price, ok := c.Prices[plan.ID][s.Currency]
	if !ok {
		return nil, fmt.Sprintf("El plan %s no tiene precio en %s.", plan.Name, s.Currency), nil
	}
	lines := []Line{{Description: fmt.Sprintf("Plan %s · %s", plan.Name, MonthName(month)), Unit: "servicio", Quantity: 1,
		UnitPrice: price.Monthly}}
	prev := month.AddDate(0, -1, 0)
	u, err := q.GetVoucherUsage(ctx, queries.GetVoucherUsageParams{OrgID: s.OrgID, Month: pgtype.Date{Time: prev, Valid: true}})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && u.Overage == 0) {
		return lines, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	// Counted before the plan was recorded with the overage (0045): the
	// plan of the subscription is the best guess left.
	over := plan
	if u.OveragePlanID != nil {
		over, _ = c.Plan(*u.OveragePlanID)
	}
	op, ok := c.Prices[over.ID][s.Currency]
	if !ok {
		return nil, fmt.Sprintf("El plan %s no tiene precio en %s.", over.Name, s.Currency), nil
	}
	return append(lines, Line{Description: fmt.Sprintf("%d comprobantes por encima del plan %s en %s", u.Overage, over.Name, MonthName(prev)),
		Unit: "ud", Quantity: int64(u.Overage), UnitPrice: op.Overage}), "", nil
}

// issue issues the operator's draft in a savepoint, so a refusal leaves
// the draft (and the charge) in place.
func issue(ctx context.Context, tx pgx.Tx, op queries.Org, draft int64, m Monthly) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := invoices.Issue(ctx, sp, invoices.IssueInput{OrgID: op.ID, InvoiceID: draft, Locale: "es", Now: m.Now, Jobs: m.Jobs}); err != nil {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return rerr
		}
		return err
	}
	return sp.Commit(ctx)
}

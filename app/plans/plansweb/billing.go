package plansweb

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/invoices"
	"pulso/app/plans"
	"pulso/app/plans/planbilling"
	"pulso/app/tax"
	"pulso/queries"
)

// An upgrade's charge is a real invoice of the operator's org (see
// planbilling): drafted when the checkout is created (its total is the
// amount charged), issued and marked paid when the payment is applied.

// price is what an upgrade charges today.
type price struct{ Net, Tax, Total int64 }

// operator is the org that invoices plans in currency; ok is false when
// there is none (then the upgrade is charged net, uninvoiced).
func (h *Handler) operator(ctx context.Context, q *queries.Queries, currency string) (queries.Org, bool, error) {
	op, ok, err := planbilling.Operator(ctx, q, currency)
	if err == nil && !ok {
		h.Log.WarnContext(ctx, "no operator org sells in this currency: plan upgrades are not invoiced", "currency", currency)
	}
	return op, ok, err
}

// preview is what the dialog says will be charged: the prorated net plus
// the operator's general VAT, computed as the invoice computes it (the
// draft made at payment is the amount actually charged).
func (h *Handler) preview(ctx context.Context, ch plans.Change, today time.Time) (price, error) {
	pr := price{Net: ch.Prorated, Total: ch.Prorated}
	op, ok, err := h.operator(ctx, h.Q, ch.Currency)
	if err != nil || !ok || ch.Prorated == 0 {
		return pr, err
	}
	rate, err := planbilling.GeneralRate(ctx, h.Q, op.Country, today)
	if err != nil {
		return pr, err
	}
	t, err := tax.Compute([]tax.Line{{Quantity: decimal.NewFromInt(1), UnitPrice: ch.Prorated, TaxRate: rate.Rate}})
	if err != nil {
		return pr, err
	}
	pr.Tax, pr.Total = t.Tax, t.Total
	return pr, nil
}

// prepareInvoice drafts the operator's invoice of an upgrade in tx and
// returns it with the amount to charge: its total. Without an operator
// org invoicing in the subscription's currency there is no draft and the
// amount is the prorated net.
func (h *Handler) prepareInvoice(ctx context.Context, tx pgx.Tx, orgID int64, ch plans.Change, today, now time.Time) (*int64, int64, error) {
	q := queries.New(tx)
	op, ok, err := h.operator(ctx, q, ch.Currency)
	if err != nil || !ok || ch.Prorated == 0 || op.ID == orgID {
		return nil, ch.Prorated, err
	}
	d, err := planbilling.Draft(ctx, tx, op, orgID, []planbilling.Line{{
		Description: fmt.Sprintf("Plan %s · prorrateo %s–%s", ch.To.Name, today.Format("02/01"), lastDay(today).Format("02/01")),
		Unit:        "servicio", Quantity: 1, UnitPrice: ch.Prorated,
	}}, today, now)
	if err != nil {
		return nil, 0, err
	}
	return &d.ID, d.Total, nil
}

// bill is the plans.Invoicer of a paid upgrade: it issues the operator's
// draft and records the payment on it. The money is already collected, so
// an invoice that cannot be issued (the subscriber's tax id is missing,
// the operator edited or deleted the draft) does not hold the upgrade
// back: its savepoint is rolled back, the draft waits for the operator and
// the reason goes to the log.
func (h *Handler) bill(ctx context.Context, tx pgx.Tx, u queries.PlanUpgrade, now time.Time) (*int64, error) {
	if u.InvoiceID == nil {
		h.Log.InfoContext(ctx, "plan upgrade paid without an invoice: no operator org invoicing in its currency", "org_id", u.OrgID, "upgrade_id", u.ID)
		return nil, nil
	}
	q := queries.New(tx)
	op, ok, err := planbilling.Operator(ctx, q, u.Currency)
	if err == nil && !ok {
		h.Log.ErrorContext(ctx, "plan upgrade paid, but the operator org is gone: not invoiced", "org_id", u.OrgID, "upgrade_id", u.ID)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	id, err := h.issue(ctx, sp, op, u, now)
	if err != nil {
		if rerr := sp.Rollback(ctx); rerr != nil {
			return nil, rerr
		}
		h.Log.ErrorContext(ctx, "plan upgrade paid, but its invoice could not be issued: the draft waits for the operator",
			"org_id", u.OrgID, "upgrade_id", u.ID, "operator", op.ID, "draft", *u.InvoiceID, "err", err)
		return u.InvoiceID, nil
	}
	return &id, sp.Commit(ctx)
}

func (h *Handler) issue(ctx context.Context, tx pgx.Tx, op queries.Org, u queries.PlanUpgrade, now time.Time) (int64, error) {
	inv, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: op.ID, InvoiceID: *u.InvoiceID, Locale: "es", Now: now, Jobs: h.Jobs})
	if err != nil {
		return 0, err
	}
	if inv.Total != u.Amount || inv.Currency != u.Currency {
		return 0, fmt.Errorf("the draft's total is %d %s, the payment %d %s", inv.Total, inv.Currency, u.Amount, u.Currency)
	}
	loc, err := calendar.Zone(op.TimeZone)
	if err != nil {
		return 0, err
	}
	today := calendar.Today(now, loc)
	if _, err := invoices.RecordPayment(ctx, tx, invoices.PaymentInput{OrgID: op.ID, InvoiceID: inv.ID, Amount: inv.Total, On: today, Now: today}); err != nil {
		return 0, err
	}
	return inv.ID, nil
}

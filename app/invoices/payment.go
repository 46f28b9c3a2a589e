package invoices

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/calendar"
	"pulso/app/money"
	"pulso/queries"
)

// PaymentInput is money received for an invoice.
type PaymentInput struct {
	OrgID, InvoiceID int64
	// Amount in minor units of the invoice's currency.
	Amount int64
	// On is when it was received (the day, in the org's zone).
	On     time.Time
	UserID *int64
	// Now is the org's today (a date at UTC midnight, as On): a payment
	// is not received in the future.
	Now time.Time
}

// Payment is what recording a payment left behind.
type Payment struct {
	Invoice queries.Invoice
	// Outstanding is what is still owed after it (0: paid).
	Outstanding int64
	// Paid says this payment is the one that settled the invoice.
	Paid bool
}

// Outstanding is what is still owed of an invoice after allocated.
func Outstanding(inv queries.Invoice, allocated int64) int64 { return max(inv.Total-allocated, 0) }

// RecordPayment applies a payment to an issued invoice (an
// invoice_allocations row; the invoice itself stays frozen). An amount of
// zero or less, or more than is outstanding, is Invalid on "amount"; a
// payment dated before the invoice or in the future on "paid_on". The
// invoice's row is locked while the outstanding amount is read, so two
// payments at once cannot overpay it. The payment that settles the invoice
// announces EventPaid, so it runs inside live.BeginFunc.
func RecordPayment(ctx context.Context, tx pgx.Tx, in PaymentInput) (Payment, error) {
	q := queries.New(tx)
	inv, err := q.LockInvoice(ctx, queries.LockInvoiceParams{OrgID: in.OrgID, ID: in.InvoiceID})
	if err != nil {
		return Payment{}, err
	}
	if inv.State != Issued || Kind(inv.Kind) == Proforma {
		return Payment{Invoice: inv}, ErrNotIssued
	}
	allocated, err := q.InvoiceAllocated(ctx, queries.InvoiceAllocatedParams{OrgID: in.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return Payment{}, err
	}
	owed := Outstanding(inv, allocated)
	bad := Invalid{}
	switch {
	case in.Amount <= 0:
		bad.add("amount", "invoices.payment_amount_positive", nil)
	case in.Amount > owed:
		bad.add("amount", "invoices.payment_over_outstanding", map[string]any{"Outstanding": money.Format(owed, inv.Currency)})
	}
	on := calendar.DateOrNull(in.On)
	switch {
	case !on.Valid:
		bad.add("paid_on", "validation.date", nil)
	case inv.IssueDate.Valid && on.Time.Before(inv.IssueDate.Time):
		bad.add("paid_on", "invoices.payment_before_issue", nil)
	case on.Time.After(calendar.Civil(in.Now)):
		bad.add("paid_on", "invoices.payment_future", nil)
	}
	if err := bad.orNil(); err != nil {
		return Payment{Invoice: inv, Outstanding: owed}, err
	}
	// The day as received, at noon UTC: the same calendar day in every
	// zone Pulso serves (Spain, Mexico, Argentina).
	at := on.Time.Add(12 * time.Hour)
	if _, err := q.InsertInvoicePayment(ctx, queries.InsertInvoicePaymentParams{OrgID: in.OrgID, InvoiceID: inv.ID, Amount: in.Amount,
		AppliedAt: at, CreatedBy: in.UserID}); err != nil {
		return Payment{}, err
	}
	p := Payment{Invoice: inv, Outstanding: owed - in.Amount}
	if p.Outstanding == 0 {
		p.Paid = true
		if err := Announce(ctx, q, inv, EventPaid); err != nil {
			return Payment{}, err
		}
	}
	return p, nil
}

package plans

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/checkout"
	"pulso/queries"
)

// An upgrade is paid through a hosted checkout (app/checkout). The page
// creates a plan_upgrades row, pending, whose amount is what the provider
// is asked to collect; the provider's payment comes back twice at least —
// the browser's redirect and the signed webhook, which itself may repeat or
// arrive late — and ApplyPayment is the one place either path applies it,
// once, under the row's lock.

// Reference is the checkout reference of upgrade id of org: the provider
// echoes it on the payment, which is how a payment finds its upgrade.
func Reference(orgID, upgradeID int64) string {
	return "upgrade:" + strconv.FormatInt(orgID, 10) + ":" + strconv.FormatInt(upgradeID, 10)
}

// ParseReference reads a Reference back; ok is false for anything else
// (the reference comes from outside: a provider's payment).
func ParseReference(s string) (orgID, upgradeID int64, ok bool) {
	rest, found := strings.CutPrefix(s, "upgrade:")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, ":")
	if !found {
		return 0, 0, false
	}
	org, err1 := strconv.ParseInt(a, 10, 64)
	up, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || org <= 0 || up <= 0 || Reference(org, up) != s {
		return 0, 0, false
	}
	return org, up, true
}

// Amount writes minor units as the provider's amounts: two decimals, a
// dot ("49.00"). EUR, MXN and ARS all have two.
func Amount(minor int64) string {
	return fmt.Sprintf("%d.%02d", minor/100, minor%100)
}

// Invoicer issues the operator's invoice of a paid upgrade in tx and
// records the payment on it, returning the invoice's id (nil when there is
// none to issue). It may not fail the payment for a reason of its own
// making: the money is collected, the upgrade applies regardless.
type Invoicer func(ctx context.Context, tx pgx.Tx, u queries.PlanUpgrade, now time.Time) (*int64, error)

// Outcome is what ApplyPayment did with a payment.
type Outcome string

const (
	// Applied: the upgrade is paid and the org is on its new plan now.
	Applied Outcome = "applied"
	// AlreadyApplied: this payment was applied before (a duplicate
	// webhook, or the redirect after the webhook).
	AlreadyApplied Outcome = "already_applied"
	// NotApproved: the payment is pending, rejected or refunded; nothing
	// changes and a later notification may approve it.
	NotApproved Outcome = "not_approved"
	// Refused: the payment does not match its upgrade (reference, amount,
	// currency), or the upgrade can no longer apply (another payment paid
	// it, the plan moved on). Nothing changes; someone must look at it,
	// since money may have been collected.
	Refused Outcome = "refused"
)

// Result says what ApplyPayment did and, when Refused, why.
type Result struct {
	Outcome Outcome
	OrgID   int64
	Upgrade queries.PlanUpgrade
	Why     string
}

// ApplyPayment applies payment p (as fetched from the provider: the
// truth) to the upgrade its reference names, once. The upgrade's row is
// locked, so concurrent deliveries of the same payment take turns and the
// second finds it paid. An approved payment whose amount and currency are
// the upgrade's marks it paid, issues the operator's invoice (bill, when
// not nil) and moves the org to the new plan at once (ApplyUpgrade).
func ApplyPayment(ctx context.Context, tx pgx.Tx, p checkout.Payment, bill Invoicer, now time.Time) (Result, error) {
	orgID, id, ok := ParseReference(p.Reference)
	if !ok {
		return Result{Outcome: Refused, Why: fmt.Sprintf("payment %s names no upgrade (reference %q)", p.ID, p.Reference)}, nil
	}
	q := queries.New(tx)
	u, err := q.LockPlanUpgrade(ctx, queries.LockPlanUpgradeParams{OrgID: orgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{Outcome: Refused, OrgID: orgID, Why: fmt.Sprintf("payment %s names upgrade %d, which does not exist", p.ID, id)}, nil
	}
	if err != nil {
		return Result{}, err
	}
	r := Result{OrgID: orgID, Upgrade: u}
	refuse := func(format string, args ...any) (Result, error) {
		r.Outcome, r.Why = Refused, fmt.Sprintf("payment %s for upgrade %d: ", p.ID, id)+fmt.Sprintf(format, args...)
		return r, nil
	}
	switch {
	case u.State == "paid" && u.PaymentID != nil && *u.PaymentID == p.ID:
		if p.Status == checkout.Refunded {
			// The money went back after the plan changed: the plan stays
			// (the org used it) and a person settles it with the org.
			return refuse("refunded after the upgrade was applied")
		}
		r.Outcome = AlreadyApplied
		return r, nil
	case u.State == "paid":
		// Paid twice (two tabs, two cards): the second is money to give back.
		if p.Status != checkout.Approved {
			r.Outcome = NotApproved
			return r, nil
		}
		return refuse("the upgrade was already paid by payment %s", deref(u.PaymentID))
	case u.State != "pending":
		return refuse("the upgrade is %s", u.State)
	case p.Status != checkout.Approved:
		r.Outcome = NotApproved
		return r, nil
	case p.Currency != u.Currency || p.Amount != Amount(u.Amount):
		return refuse("paid %s %s, the upgrade charges %s %s", p.Amount, p.Currency, Amount(u.Amount), u.Currency)
	}
	s, err := q.LockSubscription(ctx, orgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return refuse("the org has no subscription")
	}
	if err != nil {
		return Result{}, err
	}
	if s.PlanID != u.FromPlan {
		// Another upgrade was paid first: this one was priced from a plan
		// the org is no longer on.
		return refuse("the org is no longer on the plan the upgrade was priced from")
	}
	var invoiceID *int64
	if bill != nil {
		if invoiceID, err = bill(ctx, tx, u, now); err != nil {
			return Result{}, err
		}
	}
	paidAt := p.PaidAt
	if paidAt.IsZero() {
		paidAt = now
	}
	if err := q.MarkPlanUpgradePaid(ctx, queries.MarkPlanUpgradePaidParams{OrgID: orgID, ID: id, PaymentID: &p.ID, PaidAt: &paidAt,
		InvoiceID: invoiceID}); err != nil {
		return Result{}, err
	}
	if err := ApplyUpgrade(ctx, tx, orgID, u.ToPlan, u.Amount, invoiceID, u.UserID, now); err != nil {
		return Result{}, err
	}
	r.Outcome = Applied
	r.Upgrade.State, r.Upgrade.PaymentID, r.Upgrade.PaidAt, r.Upgrade.InvoiceID = "paid", &p.ID, &paidAt, invoiceID
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

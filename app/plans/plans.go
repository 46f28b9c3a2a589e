// Package plans is Pulso's own subscription of each org: the plans (the
// operator's data), what an org has used of its plan this month, and the
// rules that move an org between plans.
//
// What counts against a plan (seed 002): the sales vouchers issued in the
// month — ordinary, simplified, summary and replacement invoices, from the
// office or from a connected store, even if later voided or rejected by the
// tax authority; never correctives (credit and debit notes), proformas,
// delivery notes or quotes. The count is kept by Count inside the issuing
// transaction (invoices.Issue calls it), so it is exact under concurrency
// and read as one row.
package plans

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"

	"pulso/queries"
	"pulso/workers/jobargs"
)

// Channel is where a voucher was sold.
type Channel string

const (
	// Physical is a sale made in person (the office, a rep on the road).
	Physical Channel = "physical"
	// Ecommerce is a store order synced from a connected store.
	Ecommerce Channel = "ecommerce"
)

// Limit policies: what a plan does past its month's vouchers.
const (
	Block   = "block"
	Overage = "overage"
)

// Thresholds are the shares of the month's vouchers (in %) that alert the
// org's admins, once each per month and plan.
var Thresholds = []int{80, 95, 100}

// CountsAsVoucher says whether an invoice of kind counts against the plan.
func CountsAsVoucher(kind string) bool {
	switch kind {
	case "ordinary", "simplified", "summary", "replacement":
		return true
	}
	return false
}

// LimitError refuses a voucher past the month's limit of a plan that
// blocks: it names the plan and the plan to upgrade to.
type LimitError struct {
	Plan     string
	Vouchers int
	// Upgrade is the next plan up by rank ("" on the top plan).
	Upgrade string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("plans: the %d vouchers of plan %s are used this month", e.Vouchers, e.Plan)
}

// Month is the first day of t's month (t a date in the org's calendar).
func Month(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func date(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }

// Count adds one sales voucher, issued on date (the org's calendar) through
// ch, to the org's month, in tx: the issuing transaction. The usage row
// stays locked until tx ends, so concurrent issuers of the org take turns
// and none is lost or counted twice. Past the limit of a plan that blocks
// it returns *LimitError (the caller rolls back, and the count with it);
// one that bills overage counts the voucher as overage. Reaching a
// threshold writes its crossing and, when jobs is not nil, queues its
// alert; the Subscriptions sweep raises the rest.
func Count(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], orgID int64, ch Channel, day time.Time, now time.Time) error {
	if ch != Physical && ch != Ecommerce {
		return fmt.Errorf("plans: channel %q", ch)
	}
	q := queries.New(tx)
	month := Month(day)
	u, err := q.CountVoucher(ctx, queries.CountVoucherParams{OrgID: orgID, Month: date(month), Channel: string(ch)})
	if err != nil {
		return err
	}
	if u.PlanID == nil {
		return nil // no subscription: nothing limits the org
	}
	plan, err := q.GetPlan(ctx, planIDOn(*u.PlanID, u.PendingPlanID, u.PendingFrom, day))
	if err != nil || plan.Vouchers == nil {
		return err
	}
	used, limit := int(u.Physical+u.Ecommerce), int(*plan.Vouchers)
	if used > limit {
		if plan.AtLimit == Block {
			up, err := nextPlan(ctx, q, plan)
			if err != nil {
				return err
			}
			return &LimitError{Plan: plan.Name, Vouchers: limit, Upgrade: up}
		}
		if err := q.AddVoucherOverage(ctx, queries.AddVoucherOverageParams{OrgID: orgID, Month: date(month), PlanID: &plan.ID}); err != nil {
			return err
		}
	}
	for _, t := range Thresholds {
		// Only the voucher that reaches a threshold records it: the ones
		// after it would find the row there anyway.
		if used*100 < t*limit || (used-1)*100 >= t*limit {
			continue
		}
		c, err := q.AddQuotaCrossing(ctx, queries.AddQuotaCrossingParams{OrgID: orgID, Month: date(month), Threshold: int16(t),
			Used: int32(used), Vouchers: int32(limit), PlanID: plan.ID, At: now})
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if jobs != nil {
			if _, err := jobs.InsertTx(ctx, tx, jobargs.QuotaAlert{OrgID: orgID, Month: month.Format("2006-01"),
				PlanID: c.PlanID, Threshold: t}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// planOn is the org's plan on day: the subscription's, or the pending
// downgrade's once its date has come (the renewal may not have run yet).
// ok is false for an org without a subscription, which nothing limits.
func planOn(ctx context.Context, q *queries.Queries, orgID int64, day time.Time) (queries.Plan, bool, error) {
	s, err := q.GetSubscription(ctx, orgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return queries.Plan{}, false, nil
	}
	if err != nil {
		return queries.Plan{}, false, err
	}
	p, err := q.GetPlan(ctx, planIDOn(s.PlanID, s.PendingPlanID, s.PendingFrom, day))
	return p, err == nil, err
}

// planIDOn is the plan a subscription is on on day: its plan, or the
// pending one (a downgrade) from the day it takes effect.
func planIDOn(plan int64, pending *int64, from pgtype.Date, day time.Time) int64 {
	if pending != nil && !day.Before(from.Time) {
		return *pending
	}
	return plan
}

// nextPlan is the name of the first active plan ranked above p.
func nextPlan(ctx context.Context, q *queries.Queries, p queries.Plan) (string, error) {
	all, err := q.ListPlans(ctx)
	if err != nil {
		return "", err
	}
	for _, x := range all {
		if x.Rank > p.Rank && x.Active {
			return x.Name, nil
		}
	}
	return "", nil
}

// Usage is an org's month against its plan.
type Usage struct {
	Month                        time.Time
	Physical, Ecommerce, Overage int
	StoreUsers                   int
	// Plan is nil for an org without a subscription.
	Plan *queries.Plan
}

// Used is the month's vouchers.
func (u Usage) Used() int { return u.Physical + u.Ecommerce }

// Limit is the plan's vouchers a month; 0 is unlimited.
func (u Usage) Limit() int {
	if u.Plan == nil || u.Plan.Vouchers == nil {
		return 0
	}
	return int(*u.Plan.Vouchers)
}

// Remaining is what is left of the month's vouchers (0 once used up); -1
// when unlimited.
func (u Usage) Remaining() int {
	if u.Limit() == 0 {
		return -1
	}
	return max(u.Limit()-u.Used(), 0)
}

// Percent is the share of the limit used, rounded down; 0 when unlimited.
func (u Usage) Percent() int {
	if u.Limit() == 0 {
		return 0
	}
	return u.Used() * 100 / u.Limit()
}

// UsageOf reads an org's month: one row of counters, never the vouchers.
func UsageOf(ctx context.Context, q *queries.Queries, orgID int64, day time.Time) (Usage, error) {
	u := Usage{Month: Month(day)}
	row, err := q.GetVoucherUsage(ctx, queries.GetVoucherUsageParams{OrgID: orgID, Month: date(u.Month)})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return u, err
	}
	u.Physical, u.Ecommerce, u.Overage = int(row.Physical), int(row.Ecommerce), int(row.Overage)
	n, err := q.CountStoreUsers(ctx, orgID)
	if err != nil {
		return u, err
	}
	u.StoreUsers = int(n)
	p, ok, err := planOn(ctx, q, orgID, day)
	if ok {
		u.Plan = &p
	}
	return u, err
}

package plans

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/ident"
	"pulso/queries"
)

// Currencies are the ones plans are priced in. Every plan has a price in
// each: an org subscribes in its own currency, and a plan missing it
// would be offered to some orgs and not others without anyone deciding so.
var Currencies = []string{"EUR", "MXN", "ARS"}

// Bounds of what the operator may type: far above any real plan, far
// below the integer columns' range.
const (
	MaxVouchers   = 100_000_000
	MaxStoreUsers = 1_000
)

// Price is a plan's monthly price in one currency and, for a plan that
// bills overage, the price of each voucher over the limit (minor units,
// net of tax).
type Price struct{ Monthly, Overage int64 }

// Draft is a plan as the operator saves it.
type Draft struct {
	// Code names a new plan for good (demo data and tests find plans by
	// it); an existing plan's code does not change.
	Code string
	Name string
	// Vouchers a month; nil is unlimited, which the operator says
	// explicitly — never an empty field or a zero taken for it.
	Vouchers   *int32
	StoreUsers int32
	AtLimit    string
	Active     bool
	Prices     map[string]Price
}

var codeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Problems are the plan rules d breaks, as a catalog id by form field
// (monthly_EUR, overage_EUR, ... for the prices); none when it may be
// saved. isNew checks the code too.
func (d Draft) Problems(isNew bool) map[string]string {
	errs := map[string]string{}
	if isNew && !codeRe.MatchString(d.Code) {
		errs["code"] = "operator.code_invalid"
	}
	switch {
	case strings.TrimSpace(d.Name) == "":
		errs["name"] = "validation.required"
	case len([]rune(d.Name)) > 60:
		errs["name"] = "validation.too_long"
	case !ident.CleanText(d.Name) || strings.ContainsAny(d.Name, "\n\t") || d.Name != strings.TrimSpace(d.Name):
		errs["name"] = "validation.bad_chars"
	}
	if d.Vouchers != nil && (*d.Vouchers < 1 || *d.Vouchers > MaxVouchers) {
		errs["vouchers"] = "operator.vouchers_range"
	}
	if d.StoreUsers < 0 || d.StoreUsers > MaxStoreUsers {
		errs["store_users"] = "operator.store_users_range"
	}
	if d.AtLimit != Block && d.AtLimit != Overage {
		errs["at_limit"] = "validation.choice"
	}
	for _, cur := range Currencies {
		pr, ok := d.Prices[cur]
		switch {
		case !ok:
			errs["monthly_"+cur] = "operator.price_required"
		case pr.Monthly < 0 || pr.Overage < 0:
			errs["monthly_"+cur] = "operator.price_invalid"
		case d.AtLimit == Overage && pr.Overage == 0:
			// A plan that lets vouchers past its limit bills each one:
			// without a price the overage would be given away.
			errs["overage_"+cur] = "operator.overage_required"
		}
	}
	return errs
}

// ErrCodeTaken is a new plan whose code another plan has.
var ErrCodeTaken = errors.New("plans: code taken")

// ErrStale is an edit of a plan someone else saved after the form was
// loaded: saving it would undo their change unseen.
var ErrStale = errors.New("plans: plan changed since loaded")

// Create adds the plan d (Problems found none), ranked above every other,
// with its prices, in tx.
func Create(ctx context.Context, tx pgx.Tx, d Draft) (queries.Plan, error) {
	q := queries.New(tx)
	p, err := q.CreatePlan(ctx, queries.CreatePlanParams{Code: d.Code, Name: d.Name, Vouchers: d.Vouchers, StoreUsers: d.StoreUsers,
		AtLimit: d.AtLimit, Active: d.Active})
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrCodeTaken
	}
	if err != nil {
		return p, err
	}
	return p, savePrices(ctx, q, p.ID, d.Prices)
}

// Update saves d over plan id, as loaded at loadedAt (its updated_at), in
// tx. The plan's subscribers are held to the new limits from their next
// voucher on: Count and UsageOf read the plan row as it is. What already
// happened stays as it was — the month's counts, the thresholds crossed
// (each keeps the limit it was crossed at) and the subscriptions' history.
func Update(ctx context.Context, tx pgx.Tx, id int64, loadedAt time.Time, d Draft) (queries.Plan, error) {
	q := queries.New(tx)
	p, err := q.SavePlan(ctx, queries.SavePlanParams{ID: id, LoadedAt: loadedAt, Name: d.Name, Vouchers: d.Vouchers,
		StoreUsers: d.StoreUsers, AtLimit: d.AtLimit, Active: d.Active})
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrStale
	}
	if err != nil {
		return p, err
	}
	return p, savePrices(ctx, q, p.ID, d.Prices)
}

func savePrices(ctx context.Context, q *queries.Queries, planID int64, prices map[string]Price) error {
	for _, cur := range Currencies {
		pr := prices[cur]
		if err := q.UpsertPlanPrice(ctx, queries.UpsertPlanPriceParams{PlanID: planID, Currency: cur, Monthly: pr.Monthly, Overage: pr.Overage}); err != nil {
			return err
		}
	}
	return nil
}

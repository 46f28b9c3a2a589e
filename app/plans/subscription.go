package plans

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/queries"
)

// Frequencies of a subscription's term, in months. New subscriptions are
// monthly only; the longer ones are kept by orgs that bought them until
// their term ends.
var Frequencies = map[string]int{"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}

// termNames name the longer terms in a renewal's reason.
var termNames = map[string]string{"quarterly": "trimestral", "semiannual": "semestral", "annual": "anual"}

// Catalog is every plan, by rank, with its prices.
type Catalog struct {
	Plans  []queries.Plan
	Prices map[int64]map[string]queries.PlanPrice
}

// LoadCatalog reads the plans and their prices.
func LoadCatalog(ctx context.Context, q *queries.Queries) (Catalog, error) {
	ps, err := q.ListPlans(ctx)
	if err != nil {
		return Catalog{}, err
	}
	prices, err := q.ListPlanPrices(ctx)
	c := Catalog{Plans: ps, Prices: map[int64]map[string]queries.PlanPrice{}}
	for _, p := range prices {
		if c.Prices[p.PlanID] == nil {
			c.Prices[p.PlanID] = map[string]queries.PlanPrice{}
		}
		c.Prices[p.PlanID][p.Currency] = p
	}
	return c, err
}

// Plan is the plan with id.
func (c Catalog) Plan(id int64) (queries.Plan, bool) {
	for _, p := range c.Plans {
		if p.ID == id {
			return p, true
		}
	}
	return queries.Plan{}, false
}

// Fits says whether vouchers a month and store users fit plan p.
func Fits(p queries.Plan, vouchers, storeUsers int) bool {
	return (p.Vouchers == nil || vouchers <= int(*p.Vouchers)) && storeUsers <= int(p.StoreUsers)
}

// Smallest is the lowest-ranked active plan that fits vouchers a month and
// store users, priced in currency: the rule that chooses a new org's first
// plan (from the previous month's count) and a renewal's.
func (c Catalog) Smallest(vouchers, storeUsers int, currency string) (queries.Plan, bool) {
	for _, p := range c.Plans {
		if _, priced := c.Prices[p.ID][currency]; p.Active && priced && Fits(p, vouchers, storeUsers) {
			return p, true
		}
	}
	return queries.Plan{}, false
}

// Why says, in the org's words, why the rule chose p.
func why(p queries.Plan, vouchers, storeUsers int, what string) string {
	limit := "ilimitados"
	if p.Vouchers != nil {
		limit = fmt.Sprint(*p.Vouchers)
	}
	return fmt.Sprintf("%s: %d comprobantes/mes y %d usuarios de tienda; %s es el menor plan que los cubre (%s comprobantes, %d usuarios).",
		what, vouchers, storeUsers, p.Name, limit, p.StoreUsers)
}

// Start gives an org its first subscription, monthly, on the smallest plan
// that fits the vouchers it issued the month before today (and its store
// users), from today to the 1st of next month.
func Start(ctx context.Context, tx pgx.Tx, orgID int64, currency string, today time.Time, now time.Time) (queries.Subscription, error) {
	q := queries.New(tx)
	c, err := LoadCatalog(ctx, q)
	if err != nil {
		return queries.Subscription{}, err
	}
	prev, err := UsageOf(ctx, q, orgID, Month(today).AddDate(0, -1, 0))
	if err != nil {
		return queries.Subscription{}, err
	}
	p, ok := c.Smallest(prev.Used(), prev.StoreUsers, currency)
	if !ok {
		return queries.Subscription{}, fmt.Errorf("plans: no plan fits %d vouchers in %s", prev.Used(), currency)
	}
	s, err := q.CreateSubscription(ctx, queries.CreateSubscriptionParams{OrgID: orgID, PlanID: p.ID, Frequency: "monthly",
		Currency: currency, TermStart: date(today), TermEnd: date(Month(today).AddDate(0, 1, 0))})
	if err != nil {
		return s, err
	}
	_, err = q.AddSubscriptionEvent(ctx, queries.AddSubscriptionEventParams{OrgID: orgID, Kind: "started", ToPlan: &p.ID,
		Reason: why(p, prev.Used(), prev.StoreUsers, "Mes anterior"), At: now})
	return s, err
}

// Refusal is why a plan change is not allowed, in a catalog id with its
// parameters.
type Refusal struct {
	ID     string
	Params map[string]any
}

func (r *Refusal) Error() string { return "plans: change refused: " + r.ID }

// Change is a plan change as the org would get it.
type Change struct {
	From, To queries.Plan
	Upgrade  bool
	// Prorated is what an upgrade costs for the rest of the month: the
	// difference of the monthly prices × days left ÷ days in the month,
	// rounded half up to the cent. Zero for a downgrade.
	Prorated int64
	Currency string
	// From is when it applies: at once when paid (upgrade), the 1st of
	// next month (downgrade).
	Effective time.Time
}

// Quote checks a change of the org's plan to plan toID on today and says
// what it would cost. It refuses (*Refusal) a change to the same or an
// inactive plan, and one the org's use does not fit: this month's vouchers
// and its store users must both fit the target plan.
func Quote(ctx context.Context, q *queries.Queries, orgID, toID int64, today time.Time) (Change, error) {
	s, err := q.GetSubscription(ctx, orgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Change{}, &Refusal{ID: "plans.no_subscription"}
	}
	if err != nil {
		return Change{}, err
	}
	c, err := LoadCatalog(ctx, q)
	if err != nil {
		return Change{}, err
	}
	from, _ := c.Plan(s.PlanID)
	to, ok := c.Plan(toID)
	if !ok || !to.Active {
		return Change{}, &Refusal{ID: "plans.unknown_plan"}
	}
	if to.ID == from.ID {
		return Change{}, &Refusal{ID: "plans.same_plan", Params: map[string]any{"Plan": to.Name}}
	}
	if s.Frequency != "monthly" {
		return Change{}, &Refusal{ID: "plans.term_running", Params: map[string]any{"Plan": from.Name,
			"End": s.TermEnd.Time.Format("02/01/2006")}}
	}
	u, err := UsageOf(ctx, q, orgID, today)
	if err != nil {
		return Change{}, err
	}
	if !Fits(to, u.Used(), u.StoreUsers) {
		limit := "∞"
		if to.Vouchers != nil {
			limit = fmt.Sprint(*to.Vouchers)
		}
		return Change{}, &Refusal{ID: "plans.does_not_fit", Params: map[string]any{"Plan": to.Name, "Used": u.Used(),
			"Limit": limit, "StoreUsers": u.StoreUsers, "StoreLimit": to.StoreUsers}}
	}
	ch := Change{From: from, To: to, Upgrade: to.Rank > from.Rank, Currency: s.Currency}
	next := Month(today).AddDate(0, 1, 0)
	if !ch.Upgrade {
		ch.Effective = next
		return ch, nil
	}
	ch.Effective = today
	diff := c.Prices[to.ID][s.Currency].Monthly - c.Prices[from.ID][s.Currency].Monthly
	days := int64(next.Sub(Month(today)).Hours() / 24)
	left := int64(next.Sub(Month(today).AddDate(0, 0, today.Day()-1)).Hours() / 24)
	ch.Prorated = Prorate(diff, left, days)
	return ch, nil
}

// Prorate is monthly × left ÷ days in minor units, rounded half up (a
// negative difference, a cheaper plan, costs nothing).
func Prorate(monthly, left, days int64) int64 {
	if monthly <= 0 || left <= 0 || days <= 0 {
		return 0
	}
	return (2*monthly*left + days) / (2 * days)
}

// ScheduleDowngrade records a downgrade (a Change that is not an upgrade)
// for the 1st of next month; the plan in force stays until then.
func ScheduleDowngrade(ctx context.Context, tx pgx.Tx, orgID int64, ch Change, userID int64, now time.Time) error {
	if ch.Upgrade {
		return errors.New("plans: an upgrade is not scheduled, it is paid")
	}
	q := queries.New(tx)
	if _, err := q.SetSubscriptionPending(ctx, queries.SetSubscriptionPendingParams{OrgID: orgID, PendingPlanID: &ch.To.ID,
		PendingFrom: date(ch.Effective)}); err != nil {
		return err
	}
	_, err := q.AddSubscriptionEvent(ctx, queries.AddSubscriptionEventParams{OrgID: orgID, Kind: "downgrade_scheduled",
		FromPlan: &ch.From.ID, ToPlan: &ch.To.ID, Reason: "Desde el " + ch.Effective.Format("02/01/2006"), UserID: &userID, At: now})
	return err
}

// ApplyUpgrade moves the org to plan toID at once (its payment arrived):
// the month's limit is the new plan's from this moment, and the term stays
// monthly, renewing on the 1st.
func ApplyUpgrade(ctx context.Context, tx pgx.Tx, orgID, toID int64, amount int64, invoiceID *int64, userID int64, now time.Time) error {
	q := queries.New(tx)
	s, err := q.LockSubscription(ctx, orgID)
	if err != nil {
		return err
	}
	if _, err := q.SetSubscriptionPlan(ctx, queries.SetSubscriptionPlanParams{OrgID: orgID, PlanID: toID, Frequency: "monthly",
		TermStart: s.TermStart, TermEnd: s.TermEnd}); err != nil {
		return err
	}
	_, err = q.AddSubscriptionEvent(ctx, queries.AddSubscriptionEventParams{OrgID: orgID, Kind: "upgraded", FromPlan: &s.PlanID,
		ToPlan: &toID, Amount: &amount, InvoiceID: invoiceID, UserID: &userID, At: now})
	return err
}

// Renew ends the org's term when it is over on today: a scheduled
// downgrade takes effect; a quarterly, semi-annual or annual term (kept on
// FULL) renews monthly on the smallest plan that fits its average use over
// the term that ended, and says which and why; a monthly term rolls over.
// It returns whether anything changed.
func Renew(ctx context.Context, tx pgx.Tx, orgID int64, today time.Time, now time.Time) (bool, error) {
	q := queries.New(tx)
	s, err := q.LockSubscription(ctx, orgID)
	if err != nil || today.Before(s.TermEnd.Time) {
		return false, err
	}
	c, err := LoadCatalog(ctx, q)
	if err != nil {
		return false, err
	}
	from := s.PlanID
	to, kind, reason := s.PlanID, "renewed", ""
	switch {
	case s.PendingPlanID != nil:
		to, kind = *s.PendingPlanID, "downgraded"
	case s.Frequency != "monthly":
		avg, err := q.AverageVoucherUsage(ctx, queries.AverageVoucherUsageParams{OrgID: orgID, FromMonth: date(Month(s.TermStart.Time)),
			ToMonth: date(Month(s.TermEnd.Time))})
		if err != nil {
			return false, err
		}
		mean := 0
		if avg.Months > 0 {
			mean = int((avg.Total + avg.Months - 1) / avg.Months) // rounded up: a plan must cover the mean
		}
		stores, err := q.CountStoreUsers(ctx, orgID)
		if err != nil {
			return false, err
		}
		p, ok := c.Smallest(mean, int(stores), s.Currency)
		if !ok {
			p, _ = c.Plan(s.PlanID)
		}
		to = p.ID
		reason = why(p, mean, int(stores), "Media mensual del plazo "+termNames[s.Frequency]+" que termina")
	}
	start := s.TermEnd.Time
	if _, err := q.SetSubscriptionPlan(ctx, queries.SetSubscriptionPlanParams{OrgID: orgID, PlanID: to, Frequency: "monthly",
		TermStart: date(start), TermEnd: date(Month(start).AddDate(0, 1, 0))}); err != nil {
		return false, err
	}
	_, err = q.AddSubscriptionEvent(ctx, queries.AddSubscriptionEventParams{OrgID: orgID, Kind: kind, FromPlan: &from, ToPlan: &to,
		Reason: reason, At: now})
	return true, err
}

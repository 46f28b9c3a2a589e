package demo

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/calendar"
	"pulso/app/stats"
	"pulso/app/targets"
	"pulso/queries"
)

// seedTargets gives the demo reps a target this month, set by their
// manager, so the bars show on first start: the first rep ahead of pace
// (a target their wins this month already outrun), the second behind (four
// times what they have won, and never under 20.000,00). Targets already
// there are kept.
func seedTargets(ctx context.Context, q *queries.Queries, org queries.Org, users []userSeed, ids map[string]int64, log *slog.Logger) error {
	loc, err := calendar.Zone(org.TimeZone)
	if err != nil {
		return err
	}
	now := time.Now()
	m := stats.MonthOf(now, loc)
	day, days := targets.Elapsed(m, now, loc)
	n := 0
	for _, u := range users {
		if u.role != "rep" || u.manager == "" {
			continue
		}
		uid := ids[u.email]
		out, err := stats.DealOutcomes(ctx, q, stats.Filter{OrgID: org.ID, Owners: []int64{uid}}, stats.Span{From: m, To: m.Add(1)})
		if err != nil {
			return err
		}
		won := out.Won.Amount
		var amount int64
		var deals *int32
		if n%2 == 0 {
			// Ahead: what they won is 120 % of the pace of this target.
			amount = won * int64(days) * 10 / (int64(max(day, 1)) * 12)
			d := int32(out.Won.N + 2)
			deals = &d
		} else {
			amount = won * 4
		}
		amount = max(roundUp(amount, 100_00), 20_000_00)
		if n%2 == 0 && won == 0 {
			amount = 5_000_00
		}
		amount = min(amount, targets.MaxWonAmount)
		if err := q.SeedSalesTarget(ctx, queries.SeedSalesTargetParams{OrgID: org.ID, UserID: uid, Month: pgtype.Date{Time: m.Date(), Valid: true},
			WonAmount: amount, Deals: deals, SetBy: ids[u.manager]}); err != nil {
			return err
		}
		n++
	}
	if n > 0 {
		log.Info("seeded sales targets", "org", org.Name, "month", m.String(), "reps", n)
	}
	return nil
}

// roundUp rounds a positive amount up to a multiple of step.
func roundUp(amount, step int64) int64 { return (amount + step - 1) / step * step }

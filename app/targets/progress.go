package targets

import (
	"context"
	"time"

	"pulso/app/stats"
	"pulso/queries"
)

// Target is a user's target of a month as stored (WonAmount 0: none set).
type Target struct {
	ID        int64
	UserID    int64
	Name      string
	WonAmount int64
	Deals     *int32
	Visits    *int32
}

// Progress is a target against what the user did in its month.
type Progress struct {
	Target
	Month stats.Month
	// Won is the amount won in the month (minor units), WonDeals how many
	// deals, VisitsDone the visits done (tasks of type visita).
	Won        int64
	WonDeals   int64
	VisitsDone int64
	// Pace is the target pro-rated to today (the marker on the bar).
	Pace   int64
	Status Status
	// Percent of the target won and where the pace marker sits, in %.
	Percent     int
	PacePercent int
}

// Measure reads t's progress in month m as of now (the org's zone loc):
// the deals won from stats.DealOutcomes and, when a visit target is set,
// the visits from stats.Activities.
func Measure(ctx context.Context, q *queries.Queries, orgID int64, t Target, m stats.Month, now time.Time, loc *time.Location) (Progress, error) {
	p := Progress{Target: t, Month: m}
	f := stats.Filter{OrgID: orgID, Owners: []int64{t.UserID}}
	span := stats.Span{From: m, To: m.Add(1)}
	out, err := stats.DealOutcomes(ctx, q, f, span)
	if err != nil {
		return p, err
	}
	p.Won, p.WonDeals = out.Won.Amount, out.Won.N
	if t.Visits != nil {
		acts, err := stats.Activities(ctx, q, f, span, now)
		if err != nil {
			return p, err
		}
		for _, a := range acts {
			if a.UserID == t.UserID {
				p.VisitsDone += a.Visits
			}
		}
	}
	day, days := Elapsed(m, now, loc)
	p.Pace = Pace(t.WonAmount, day, days)
	p.Status = StatusOf(p.Won, t.WonAmount, day, days)
	p.Percent = Percent(p.Won, t.WonAmount)
	p.PacePercent = Percent(p.Pace, t.WonAmount)
	return p, nil
}

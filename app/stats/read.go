package stats

import (
	"context"
	"time"

	"pulso/queries"
)

// CONTRACT STUBS: the engine (rollups, naive twins, rebuild) replaces these
// bodies; the signatures are what dashboards, reports and targets call.

// Pipeline is the open pipeline by stage now, in stage order.
func Pipeline(ctx context.Context, q *queries.Queries, f Filter) ([]StageTotal, error) {
	return nil, nil
}

// DealOutcomes are the deals created, won and lost in s.
func DealOutcomes(ctx context.Context, q *queries.Queries, f Filter, s Span) (Outcomes, error) {
	return Outcomes{}, nil
}

// Activities is each user's work in s (users in f.Owners, or every active
// user when nil), with overdue counted at now.
func Activities(ctx context.Context, q *queries.Queries, f Filter, s Span, now time.Time) ([]Activity, error) {
	return nil, nil
}

// TaskSLA is the SLA compliance of the tasks done in s.
func TaskSLA(ctx context.Context, q *queries.Queries, f Filter, s Span) (SLA, error) {
	return SLA{}, nil
}

// Quotes is the funnel of the quotes first sent in s; expiry is judged on
// today (the org's date).
func Quotes(ctx context.Context, q *queries.Queries, f Filter, s Span, today time.Time) (QuoteFunnel, error) {
	return QuoteFunnel{}, nil
}

// Invoiced is the billing of the org in s and what it is owed on today.
// Billing is not split by owner: the accountant's and admin's view.
func Invoiced(ctx context.Context, q *queries.Queries, orgID int64, s Span, today time.Time) (Billing, error) {
	return Billing{}, nil
}

// Table is measure m per month of s, one row per value of d.
func Table(ctx context.Context, q *queries.Queries, f Filter, m Measure, d Dimension, s Span) ([]Cell, error) {
	return nil, nil
}

// Transitions are the stage-to-stage moves made in s.
func Transitions(ctx context.Context, q *queries.Queries, f Filter, s Span) ([]Transition, error) {
	return nil, nil
}

// LostReasons are the deals lost in s by cancel reason, largest first.
func LostReasons(ctx context.Context, q *queries.Queries, f Filter, s Span) ([]LostReason, error) {
	return nil, nil
}

// Forecast is the expected billing of the n months from `from` on.
func Forecast(ctx context.Context, q *queries.Queries, f Filter, from Month, n int) ([]ForecastMonth, error) {
	return nil, nil
}

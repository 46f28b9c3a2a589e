package stats

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"pulso/queries"
)

// The naive twins: the same answers as the readers in read.go, from plain
// GROUP BY and window queries over the base tables. They are the
// definition the rollups are tested against, and the benchmark's baseline.

func pipelineNaive(ctx context.Context, q *queries.Queries, f Filter) ([]StageTotal, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsPipelineNaive(ctx, queries.StatsPipelineNaiveParams{OrgID: f.OrgID, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
	if err != nil {
		return nil, err
	}
	out := make([]StageTotal, len(rows))
	for i, r := range rows {
		out[i] = StageTotal{Stage: r.Stage, N: r.N, Amount: r.Amount, Weighted: r.Weighted}
	}
	return out, nil
}

func dealOutcomesNaive(ctx context.Context, q *queries.Queries, f Filter, s Span) (Outcomes, error) {
	if err := f.check(); err != nil {
		return Outcomes{}, err
	}
	if err := s.check(); err != nil {
		return Outcomes{}, err
	}
	r, err := q.StatsOutcomesNaive(ctx, queries.StatsOutcomesNaiveParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
		Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
	if err != nil {
		return Outcomes{}, err
	}
	o := Outcomes{Created: Amount{N: r.CreatedN, Amount: r.CreatedAmount}, CreatedFromLeads: r.CreatedFromLeads,
		Won: Amount{N: r.WonN, Amount: r.WonAmount}, CycleSeconds: r.CycleSeconds, Lost: Amount{N: r.LostN, Amount: r.LostAmount}}
	o.LeadsCreated, err = q.StatsLeadsCreatedNaive(ctx, queries.StatsLeadsCreatedNaiveParams{OrgID: f.OrgID, FromMonth: date(s.From),
		ToMonth: date(s.To), Owners: f.Owners, Source: f.Source})
	return o, err
}

func activitiesNaive(ctx context.Context, q *queries.Queries, f Filter, s Span, now time.Time) ([]Activity, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsActivitiesNaive(ctx, queries.StatsActivitiesNaiveParams{Now: now, OrgID: f.OrgID, FromMonth: date(s.From),
		ToMonth: date(s.To), Owners: f.Owners})
	if err != nil {
		return nil, err
	}
	out := make([]Activity, len(rows))
	for i, r := range rows {
		out[i] = Activity{UserID: r.ID, Name: r.Name, Done: r.Done, Calls: r.Calls, Visits: r.Visits, Overdue: r.Overdue}
	}
	return out, nil
}

func taskSLANaive(ctx context.Context, q *queries.Queries, f Filter, s Span) (SLA, error) {
	if err := f.check(); err != nil {
		return SLA{}, err
	}
	if err := s.check(); err != nil {
		return SLA{}, err
	}
	r, err := q.StatsTaskSLANaive(ctx, queries.StatsTaskSLANaiveParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To), Owners: f.Owners})
	return SLA{WithSLA: r.WithSla, Met: r.Met}, err
}

func quotesNaive(ctx context.Context, q *queries.Queries, f Filter, s Span, today time.Time) (QuoteFunnel, error) {
	if err := f.check(); err != nil {
		return QuoteFunnel{}, err
	}
	if err := s.check(); err != nil {
		return QuoteFunnel{}, err
	}
	r, err := q.StatsQuotesNaive(ctx, queries.StatsQuotesNaiveParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
		Owners: f.Owners, Source: f.Source, GroupID: f.GroupID, Today: pgtype.Date{Time: today, Valid: true}})
	if err != nil {
		return QuoteFunnel{}, err
	}
	return QuoteFunnel{Sent: Amount{N: r.SentN, Amount: r.SentAmount}, Opened: r.Opened,
		Signed: Amount{N: r.SignedN, Amount: r.SignedAmount}, Rejected: r.Rejected, Expired: r.Expired,
		MedianOpen: seconds(r.MedianOpen), MedianSign: seconds(r.MedianSign)}, nil
}

func invoicedNaive(ctx context.Context, q *queries.Queries, orgID int64, s Span, today time.Time) (Billing, error) {
	if err := (Filter{OrgID: orgID}).check(); err != nil {
		return Billing{}, err
	}
	if err := s.check(); err != nil {
		return Billing{}, err
	}
	b, err := q.StatsBilledNaive(ctx, queries.StatsBilledNaiveParams{OrgID: orgID, FromMonth: date(s.From), ToMonth: date(s.To)})
	if err != nil {
		return Billing{}, err
	}
	o, err := q.StatsOwedNaive(ctx, queries.StatsOwedNaiveParams{OrgID: orgID, Today: pgtype.Date{Time: today, Valid: true}})
	return Billing{Billed: Amount{N: b.N, Amount: b.Amount}, Outstanding: o.Outstanding, Overdue: o.Overdue, Debtors: o.Debtors}, err
}

func tableNaive(ctx context.Context, q *queries.Queries, f Filter, m Measure, d Dimension, s Span) ([]Cell, error) {
	return table(ctx, q, f, m, d, s, true)
}

func transitionsNaive(ctx context.Context, q *queries.Queries, f Filter, s Span) ([]Transition, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsTransitionsNaive(ctx, queries.StatsTransitionsNaiveParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
		Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
	if err != nil {
		return nil, err
	}
	out := make([]Transition, len(rows))
	for i, r := range rows {
		out[i] = Transition{From: r.FromStage, To: r.ToStage, N: r.N, Seconds: r.Seconds}
	}
	return out, nil
}

func lostReasonsNaive(ctx context.Context, q *queries.Queries, f Filter, s Span) ([]LostReason, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsLostReasonsNaive(ctx, queries.StatsLostReasonsNaiveParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
		Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
	if err != nil {
		return nil, err
	}
	out := make([]LostReason, len(rows))
	for i, r := range rows {
		out[i] = LostReason{ReasonID: r.ReasonID, Name: r.Name, Amount: Amount{N: r.N, Amount: r.Amount}}
	}
	return out, nil
}

func forecastNaive(ctx context.Context, q *queries.Queries, f Filter, from Month, n int) ([]ForecastMonth, error) {
	return forecast(ctx, q, f, from, n, true)
}

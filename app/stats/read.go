package stats

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/invoices/recurring"
	"pulso/queries"
)

// Every reader below answers from the rollups of migration 0040 (or, for
// quotes, billing and overdue tasks, from base tables through the indexes
// 0040 adds); its naive twin (naive.go) answers the same from plain GROUP BY
// queries over the base tables.

// ErrInput is wrapped by every refusal of a bad Filter, Span, Measure,
// Dimension or month count: a caller's mistake, never a database failure.
var ErrInput = errors.New("stats: bad input")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, args...)...)
}

// maxMonths bounds a span (and a forecast) so a typo cannot ask for a
// thousand years of months.
const maxMonths = 240

func (m Month) valid() bool {
	return m.Year >= 1900 && m.Year <= 9999 && m.Month >= time.January && m.Month <= time.December
}

func (s Span) check() error {
	if !s.From.valid() || !s.To.valid() {
		return bad("span %v–%v is not a range of months", s.From, s.To)
	}
	if n := s.Months(); n < 1 || n > maxMonths {
		return bad("span %v–%v must hold 1 to %d months", s.From, s.To, maxMonths)
	}
	return nil
}

func (f Filter) check() error {
	if f.OrgID <= 0 {
		return bad("no org")
	}
	if f.GroupID < 0 {
		return bad("group %d", f.GroupID)
	}
	if len(f.Source) > 20 {
		return bad("source %q", f.Source)
	}
	for _, r := range f.Source {
		if (r < 'a' || r > 'z') && r != '_' {
			return bad("source %q", f.Source)
		}
	}
	for _, id := range f.Owners {
		if id <= 0 {
			return bad("owner %d", id)
		}
	}
	return nil
}

func date(m Month) pgtype.Date { return pgtype.Date{Time: m.Date(), Valid: true} }

func monthOf(d pgtype.Date) Month { return Month{Year: d.Time.Year(), Month: d.Time.Month()} }

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// Pipeline is the open pipeline by stage now, in stage order (every open
// stage, zeros included).
func Pipeline(ctx context.Context, q *queries.Queries, f Filter) ([]StageTotal, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsPipeline(ctx, queries.StatsPipelineParams{OrgID: f.OrgID, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
	if err != nil {
		return nil, err
	}
	out := make([]StageTotal, len(rows))
	for i, r := range rows {
		out[i] = StageTotal{Stage: r.Stage, N: r.N, Amount: r.Amount, Weighted: r.Weighted}
	}
	return out, nil
}

// DealOutcomes are the deals created, won and lost in s. A deal counts as
// won (lost) in the month it entered ganada (cancelada) if it is still
// there; a deleted deal counts nowhere.
func DealOutcomes(ctx context.Context, q *queries.Queries, f Filter, s Span) (Outcomes, error) {
	if err := f.check(); err != nil {
		return Outcomes{}, err
	}
	if err := s.check(); err != nil {
		return Outcomes{}, err
	}
	rows, err := q.StatsOutcomes(ctx, queries.StatsOutcomesParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
		Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
	if err != nil {
		return Outcomes{}, err
	}
	var o Outcomes
	for _, r := range rows {
		switch r.Kind {
		case "created":
			o.Created, o.CreatedFromLeads = Amount{N: r.N, Amount: r.Amount}, r.FromLead
		case "won":
			o.Won, o.CycleSeconds = Amount{N: r.N, Amount: r.Amount}, r.CycleSeconds
		case "lost":
			o.Lost = Amount{N: r.N, Amount: r.Amount}
		}
	}
	o.LeadsCreated, err = q.StatsLeadsCreated(ctx, queries.StatsLeadsCreatedParams{OrgID: f.OrgID, FromMonth: date(s.From),
		ToMonth: date(s.To), Owners: f.Owners, Source: f.Source})
	return o, err
}

// Activities is each user's work in s (users in f.Owners, or every active
// user when nil), with overdue counted at now. Source and GroupID do not
// apply to tasks.
func Activities(ctx context.Context, q *queries.Queries, f Filter, s Span, now time.Time) ([]Activity, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsActivities(ctx, queries.StatsActivitiesParams{Now: now, OrgID: f.OrgID, FromMonth: date(s.From),
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

// TaskSLA is the SLA compliance of the tasks whose SLA was decided in s:
// met when done in time (in the month of completion), missed when done
// late or still open past the deadline (in the deadline's month), as
// tasks' task_sla judges them now. Open tasks whose deadline has not come
// are not counted.
func TaskSLA(ctx context.Context, q *queries.Queries, f Filter, s Span) (SLA, error) {
	if err := f.check(); err != nil {
		return SLA{}, err
	}
	if err := s.check(); err != nil {
		return SLA{}, err
	}
	r, err := q.StatsTaskSLA(ctx, queries.StatsTaskSLAParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To), Owners: f.Owners})
	return SLA{WithSLA: r.WithSla, Met: r.Met}, err
}

// Quotes is the funnel of the quotes first sent in s; expiry is judged on
// today (the org's date). Amounts are each quote's current version's total;
// Source and GroupID apply through the quote's deal. Medians are exact
// (percentile_disc: a real quote's time, the lower middle of an even
// count).
func Quotes(ctx context.Context, q *queries.Queries, f Filter, s Span, today time.Time) (QuoteFunnel, error) {
	if err := f.check(); err != nil {
		return QuoteFunnel{}, err
	}
	if err := s.check(); err != nil {
		return QuoteFunnel{}, err
	}
	r, err := q.StatsQuotes(ctx, queries.StatsQuotesParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
		Owners: f.Owners, Source: f.Source, GroupID: f.GroupID, Today: pgtype.Date{Time: today, Valid: true}})
	if err != nil {
		return QuoteFunnel{}, err
	}
	return QuoteFunnel{Sent: Amount{N: r.SentN, Amount: r.SentAmount}, Opened: r.Opened,
		Signed: Amount{N: r.SignedN, Amount: r.SignedAmount}, Rejected: r.Rejected, Expired: r.Expired,
		MedianOpen: seconds(r.MedianOpen), MedianSign: seconds(r.MedianSign)}, nil
}

// Invoiced is the billing of the org in s and what it is owed on today.
// Billing is not split by owner: the accountant's and admin's view.
func Invoiced(ctx context.Context, q *queries.Queries, orgID int64, s Span, today time.Time) (Billing, error) {
	b, err := Billed(ctx, q, orgID, s)
	if err != nil {
		return Billing{}, err
	}
	o, err := Owed(ctx, q, orgID, today)
	o.Billed = b
	return o, err
}

// Billed is Invoiced's Billed alone: what the org invoiced in s.
func Billed(ctx context.Context, q *queries.Queries, orgID int64, s Span) (Amount, error) {
	if err := (Filter{OrgID: orgID}).check(); err != nil {
		return Amount{}, err
	}
	if err := s.check(); err != nil {
		return Amount{}, err
	}
	b, err := q.StatsBilled(ctx, queries.StatsBilledParams{OrgID: orgID, FromMonth: date(s.From), ToMonth: date(s.To)})
	return Amount{N: b.N, Amount: b.Amount}, err
}

// Owed is Invoiced without Billed: what the org's customers owe on today,
// whatever the span (Billed is left zero).
func Owed(ctx context.Context, q *queries.Queries, orgID int64, today time.Time) (Billing, error) {
	if err := (Filter{OrgID: orgID}).check(); err != nil {
		return Billing{}, err
	}
	o, err := q.StatsOwed(ctx, queries.StatsOwedParams{OrgID: orgID, Today: pgtype.Date{Time: today, Valid: true}})
	if err != nil {
		return Billing{}, err
	}
	return Billing{Outstanding: o.Outstanding, Overdue: o.Overdue, Debtors: o.Debtors}, nil
}

// Measures lists every Measure, in the order reports offer them.
var Measures = []Measure{WonAmount, WonDeals, LostDeals, CreatedDeals, QuotesSent, QuotesSigned, BilledAmount, StageEntries}

// Dimensions lists every Dimension, in the order reports offer them.
var Dimensions = []Dimension{ByRep, ByTeam, BySource, ByGroup, ByStage, ByNone}

func (m Measure) known() bool {
	for _, x := range Measures {
		if x == m {
			return true
		}
	}
	return false
}

func (d Dimension) known() bool {
	for _, x := range Dimensions {
		if x == d {
			return true
		}
	}
	return false
}

// cell is a Table row before labelling.
type cell struct {
	month pgtype.Date
	key   string
	value int64
}

// Table is measure m per month of s, one row per value of d, ordered by
// month then key; months and keys without records have no cell. Rows:
//   - deal measures: created by creation month, won and lost by the month
//     they entered the stage; ByStage is the stage they are in now.
//   - StageEntries: stage history rows (creation included) by month; ByStage
//     is the stage entered.
//   - QuotesSent by first sending, QuotesSigned by signature; ByStage is the
//     quote's status; source and group are the quote's deal's.
//   - BilledAmount by issue month; ByRep is the invoice's owner (its
//     customer's owner, else who drafted it), ByStage its kind; it has no
//     source or group (key ""), and Source and GroupID do not filter it.
//
// Keys: user id (ByRep), the owner's manager id (ByTeam), source code,
// group id, stage code; "" for unassigned or none.
func Table(ctx context.Context, q *queries.Queries, f Filter, m Measure, d Dimension, s Span) ([]Cell, error) {
	return table(ctx, q, f, m, d, s, false)
}

func table(ctx context.Context, q *queries.Queries, f Filter, m Measure, d Dimension, s Span, naive bool) ([]Cell, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	if !m.known() {
		return nil, bad("measure %q", m)
	}
	if !d.known() {
		return nil, bad("dimension %q", d)
	}
	cells, err := tableCells(ctx, q, f, m, string(d), s, naive)
	if err != nil {
		return nil, err
	}
	return label(ctx, q, f.OrgID, d, cells)
}

func tableCells(ctx context.Context, q *queries.Queries, f Filter, m Measure, dim string, s Span, naive bool) ([]cell, error) {
	from, to := date(s.From), date(s.To)
	var out []cell
	switch m {
	case WonAmount, WonDeals, LostDeals, CreatedDeals:
		kind := map[Measure]string{WonAmount: "won", WonDeals: "won", LostDeals: "lost", CreatedDeals: "created"}[m]
		if naive {
			rows, err := q.StatsTableDealsNaive(ctx, queries.StatsTableDealsNaiveParams{Dim: dim, Amount: m == WonAmount, Kind: kind,
				OrgID: f.OrgID, FromMonth: from, ToMonth: to, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
			for _, r := range rows {
				out = append(out, cell{r.Month, r.Key, r.Value})
			}
			return out, err
		}
		rows, err := q.StatsTableDeals(ctx, queries.StatsTableDealsParams{Dim: dim, Amount: m == WonAmount, Kind: kind,
			OrgID: f.OrgID, FromMonth: from, ToMonth: to, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
		for _, r := range rows {
			out = append(out, cell{r.Month, r.Key, r.Value})
		}
		return out, err
	case StageEntries:
		if naive {
			rows, err := q.StatsTableStageEntriesNaive(ctx, queries.StatsTableStageEntriesNaiveParams{Dim: dim, OrgID: f.OrgID,
				FromMonth: from, ToMonth: to, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
			for _, r := range rows {
				out = append(out, cell{r.Month, r.Key, r.Value})
			}
			return out, err
		}
		rows, err := q.StatsTableStageEntries(ctx, queries.StatsTableStageEntriesParams{Dim: dim, OrgID: f.OrgID,
			FromMonth: from, ToMonth: to, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
		for _, r := range rows {
			out = append(out, cell{r.Month, r.Key, r.Value})
		}
		return out, err
	case QuotesSent, QuotesSigned:
		if naive {
			rows, err := q.StatsTableQuotesNaive(ctx, queries.StatsTableQuotesNaiveParams{Signed: m == QuotesSigned, OrgID: f.OrgID,
				Dim: dim, FromMonth: from, ToMonth: to, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
			for _, r := range rows {
				out = append(out, cell{r.Month, r.Key, r.Value})
			}
			return out, err
		}
		rows, err := q.StatsTableQuotes(ctx, queries.StatsTableQuotesParams{Signed: m == QuotesSigned, OrgID: f.OrgID,
			Dim: dim, FromMonth: from, ToMonth: to, Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
		for _, r := range rows {
			out = append(out, cell{r.Month, r.Key, r.Value})
		}
		return out, err
	case BilledAmount:
		// One query serves both: invoices are few next to deals, and the
		// scan is on invoices_billed_idx either way.
		rows, err := q.StatsTableBilled(ctx, queries.StatsTableBilledParams{Dim: dim, OrgID: f.OrgID, FromMonth: from, ToMonth: to,
			Owners: f.Owners})
		for _, r := range rows {
			out = append(out, cell{r.Month, r.Key, r.Value})
		}
		return out, err
	}
	return nil, bad("measure %q", m)
}

// label turns keys into what the viewer reads: user and manager names,
// group names; sources and stages stay codes (the page translates them).
func label(ctx context.Context, q *queries.Queries, orgID int64, d Dimension, cells []cell) ([]Cell, error) {
	names := map[string]string{}
	switch d {
	case ByRep, ByTeam:
		users, err := q.StatsUserNames(ctx, orgID)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			names[strconv.FormatInt(u.ID, 10)] = u.Name
		}
	case ByGroup:
		groups, err := q.StatsGroupNames(ctx, orgID)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			names[strconv.FormatInt(g.ID, 10)] = g.Name
		}
	}
	out := make([]Cell, len(cells))
	for i, c := range cells {
		l := c.key
		if n, ok := names[c.key]; ok {
			l = n
		}
		out[i] = Cell{Month: monthOf(c.month), Key: c.key, Label: l, Value: c.value}
	}
	return out, nil
}

// Transitions are the stage-to-stage moves made in s (creations have From
// ""), with the seconds each deal had spent in From (since its previous
// history row).
func Transitions(ctx context.Context, q *queries.Queries, f Filter, s Span) ([]Transition, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsTransitions(ctx, queries.StatsTransitionsParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
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

// LostReasons are the deals lost in s by cancel reason, largest count
// first (then amount, then reason id).
func LostReasons(ctx context.Context, q *queries.Queries, f Filter, s Span) ([]LostReason, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := q.StatsLostReasons(ctx, queries.StatsLostReasonsParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
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

// Forecast is the expected billing of the n months from `from` on, one
// entry per month (zeros included): open deals expected to close that
// month weighted by probability (deals without an expected close are left
// out), plus what active recurring templates will issue that month (before
// tax), on the schedule app/invoices/recurring owns. Owners applies to the
// templates through their customer's owner; Source and GroupID do not.
func Forecast(ctx context.Context, q *queries.Queries, f Filter, from Month, n int) ([]ForecastMonth, error) {
	return forecast(ctx, q, f, from, n, false)
}

func forecast(ctx context.Context, q *queries.Queries, f Filter, from Month, n int, naive bool) ([]ForecastMonth, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if n < 1 || n > maxMonths || !from.valid() {
		return nil, bad("forecast of %d months from %v", n, from)
	}
	s := Span{From: from, To: from.Add(n)}
	out := make([]ForecastMonth, n)
	at := map[Month]*ForecastMonth{}
	for i := range out {
		out[i].Month = from.Add(i)
		at[out[i].Month] = &out[i]
	}
	if naive {
		rows, err := q.StatsForecastNaive(ctx, queries.StatsForecastNaiveParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
			Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			at[monthOf(r.Month)].Deals, at[monthOf(r.Month)].Weighted = r.Deals, r.Weighted
		}
	} else {
		rows, err := q.StatsForecast(ctx, queries.StatsForecastParams{OrgID: f.OrgID, FromMonth: date(s.From), ToMonth: date(s.To),
			Owners: f.Owners, Source: f.Source, GroupID: f.GroupID})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			at[monthOf(r.Month)].Deals, at[monthOf(r.Month)].Weighted = r.Deals, r.Weighted
		}
	}
	templates, err := q.StatsRecurringTemplates(ctx, queries.StatsRecurringTemplatesParams{OrgID: f.OrgID, ToMonth: date(s.To), Owners: f.Owners})
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		// Periods before next_period are already invoiced (or skipped by a
		// pause); the template's schedule says which dates remain.
		start := t.RecurringInvoice.NextPeriod.Time
		if first := s.From.Date(); start.Before(first) {
			start = first
		}
		for _, p := range recurring.Periods(recurring.ScheduleOf(t.RecurringInvoice), start, s.To.Date().AddDate(0, 0, -1)) {
			if m, ok := at[Month{Year: p.Year(), Month: p.Month()}]; ok {
				m.Recurring += t.Amount
			}
		}
	}
	return out, nil
}

package reportsweb

import (
	"cmp"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/stats"
	"pulso/app/web"
)

// report is one kind of report: its URL, its title, which filters it
// takes, and how its sheet is built.
type report struct {
	slug  string // /reports/<slug>
	title string // message id
	help  string // message id
	// table: a measure by month and dimension (measure and by apply).
	table bool
	// spans: the from/to months apply (the forecast looks ahead instead).
	spans bool
	// billing: the accountant may read it (only billing measures, for a
	// table).
	billing   bool
	defaultBy stats.Dimension
	build     func(b *builder) (sheet, error)
}

// reports in the picker's order.
var reports = []*report{
	{slug: "monthly", title: "reports.monthly", help: "reports.monthly_help", table: true, spans: true, billing: true, defaultBy: stats.ByRep, build: (*builder).monthly},
	{slug: "cumulative", title: "reports.cumulative", help: "reports.cumulative_help", table: true, spans: true, billing: true, defaultBy: stats.ByRep, build: (*builder).cumulative},
	{slug: "year-on-year", title: "reports.yoy", help: "reports.yoy_help", table: true, spans: true, billing: true, defaultBy: stats.ByNone, build: (*builder).yearOnYear},
	{slug: "conversion", title: "reports.conversion", help: "reports.conversion_help", spans: true, build: (*builder).conversion},
	{slug: "lost-reasons", title: "reports.lost", help: "reports.lost_help", spans: true, build: (*builder).lost},
	{slug: "quotes", title: "reports.quotes", help: "reports.quotes_help", spans: true, build: (*builder).quotes},
	{slug: "forecast", title: "reports.forecast", help: "reports.forecast_help", billing: true, build: (*builder).forecast},
}

// measuresFor are the measures p may tabulate: the accountant reads
// billing only.
func measuresFor(p *web.Principal) []stats.Measure {
	if p.Role == web.RoleAccountant {
		return []stats.Measure{stats.BilledAmount}
	}
	return stats.Measures
}

func (r *report) defaultMeasure(p *web.Principal) stats.Measure { return measuresFor(p)[0] }

// readable reports whether p may open r at all.
func (r *report) readable(p *web.Principal) bool {
	return p.Role != web.RoleAccountant || r.billing
}

// kindOf is how a measure's values read: money or a count.
func kindOf(m stats.Measure) kind {
	if m == stats.WonAmount || m == stats.BilledAmount {
		return amount
	}
	return count
}

// builder builds one sheet for one request.
type builder struct {
	h   *Handler
	c   *fiber.Ctx
	p   *web.Principal
	in  request
	now time.Time
}

func (b *builder) t(id string) string { return web.Translate(b.c, id) }

// monthLabel is how a month heads a column: 03/2026.
func monthLabel(m stats.Month) string { return m.Date().Format("01/2006") }

func monthsOf(s stats.Span) []stats.Month {
	var out []stats.Month
	for m := s.From; m.Before(s.To); m = m.Add(1) {
		out = append(out, m)
	}
	return out
}

// series is one row of a monthly table: a dimension value's figures.
type series struct {
	key, label string
	byMonth    map[stats.Month]int64
	total      int64 // over the report's span
}

// rowLabel is how a row of dimension d is named to the viewer.
func (b *builder) rowLabel(d stats.Dimension, key, label string) string {
	switch {
	case d == stats.ByNone:
		return b.t("reports.total")
	case key == "":
		return b.t("reports.unassigned")
	case d == stats.ByStage && b.in.measure == stats.BilledAmount:
		// An invoice's "stage" is its kind, a quote's its status.
		return b.t("invoices.kind." + key)
	case d == stats.ByStage && (b.in.measure == stats.QuotesSent || b.in.measure == stats.QuotesSigned):
		return b.t("quotes.status." + key)
	case d == stats.ByStage:
		return b.t("opportunity_stage." + key)
	case d == stats.BySource:
		return b.t("lead_source." + key)
	case label != "":
		return label
	}
	return key
}

// group turns the engine's cells into rows, largest total over span
// first (then by name), so the people who matter most read first.
func (b *builder) group(cells []stats.Cell, span stats.Span) []*series {
	byKey := map[string]*series{}
	var out []*series
	for _, c := range cells {
		s := byKey[c.Key]
		if s == nil {
			s = &series{key: c.Key, label: b.rowLabel(b.in.by, c.Key, c.Label), byMonth: map[stats.Month]int64{}}
			byKey[c.Key] = s
			out = append(out, s)
		}
		s.byMonth[c.Month] += c.Value
		if !c.Month.Before(span.From) && c.Month.Before(span.To) {
			s.total += c.Value
		}
	}
	if b.in.by == stats.ByNone && len(out) == 0 {
		out = append(out, &series{label: b.t("reports.total"), byMonth: map[stats.Month]int64{}})
	}
	slices.SortStableFunc(out, func(x, y *series) int {
		return cmp.Or(cmp.Compare(y.total, x.total), cmp.Compare(x.label, y.label))
	})
	return out
}

// sum is the rows added up month by month, for the total row.
func sum(rows []*series) *series {
	t := &series{byMonth: map[stats.Month]int64{}}
	for _, s := range rows {
		for m, v := range s.byMonth {
			t.byMonth[m] += v
		}
		t.total += s.total
	}
	return t
}

func (b *builder) table(s stats.Span) ([]*series, error) {
	cells, err := stats.Table(b.c.UserContext(), b.h.Q, b.in.filter, b.in.measure, b.in.by, s)
	if err != nil {
		return nil, err
	}
	return b.group(cells, b.in.span), nil
}

func (b *builder) dimensionLabel() string { return b.t("reports.by." + string(b.in.by)) }

// monthly is the measure per month, a row per dimension value, with
// row and column totals.
func (b *builder) monthly() (sheet, error) {
	return b.perMonth(false)
}

// cumulative is the measure's running total from the span's first month.
func (b *builder) cumulative() (sheet, error) {
	return b.perMonth(true)
}

func (b *builder) perMonth(running bool) (sheet, error) {
	rows, err := b.table(b.in.span)
	if err != nil {
		return sheet{}, err
	}
	k := kindOf(b.in.measure)
	ms := monthsOf(b.in.span)
	sh := sheet{cols: []column{{label: b.dimensionLabel()}}}
	for _, m := range ms {
		sh.cols = append(sh.cols, column{label: monthLabel(m), kind: k})
	}
	if !running {
		sh.cols = append(sh.cols, column{label: b.t("reports.total"), kind: k})
	}
	line := func(s *series, label string, total bool) row {
		r := row{cells: []value{txt(label)}, total: total}
		acc := int64(0)
		for _, m := range ms {
			v := s.byMonth[m]
			if running {
				acc += v
				v = acc
			}
			r.cells = append(r.cells, measured(k, v))
		}
		if !running {
			r.cells = append(r.cells, measured(k, s.total))
		}
		return r
	}
	for _, s := range rows {
		sh.rows = append(sh.rows, line(s, s.label, b.in.by == stats.ByNone))
	}
	if b.in.by != stats.ByNone {
		sh.rows = append(sh.rows, line(sum(rows), b.t("reports.total"), true))
	}
	return sh, nil
}

// yearOnYear sets each month of the span beside the same month a year
// earlier: the value, the year before, the difference and the change in
// per cent. The engine is asked for the span and the year before it at
// once.
func (b *builder) yearOnYear() (sheet, error) {
	wide := stats.Span{From: b.in.span.From.Add(-12), To: b.in.span.To}
	rows, err := b.table(wide)
	if err != nil {
		return sheet{}, err
	}
	k := kindOf(b.in.measure)
	byDim := b.in.by != stats.ByNone
	sh := sheet{}
	if byDim {
		sh.cols = append(sh.cols, column{label: b.dimensionLabel()})
	}
	sh.cols = append(sh.cols, column{label: b.t("reports.month")}, column{label: b.t("reports.value"), kind: k},
		column{label: b.t("reports.year_before"), kind: k}, column{label: b.t("reports.difference"), kind: k},
		column{label: b.t("reports.change"), kind: percent})
	block := func(s *series, label string, total bool) {
		for _, m := range monthsOf(b.in.span) {
			cur, prev := s.byMonth[m], s.byMonth[m.Add(-12)]
			r := row{total: total}
			if byDim {
				r.cells = append(r.cells, txt(label))
			}
			r.cells = append(r.cells, txt(monthLabel(m)), measured(k, cur), measured(k, prev), measured(k, cur-prev), ratio(cur-prev, prev))
			sh.rows = append(sh.rows, r)
		}
	}
	for _, s := range rows {
		block(s, s.label, !byDim)
	}
	if byDim {
		block(sum(rows), b.t("reports.total"), true)
	}
	return sh, nil
}

// conversion is, per stage in pipeline order, the deals that entered it
// in the span, how many of the moves out of it went forward (to a later
// stage, not to cancelled), that as a share of the entries, and the
// average days spent in it by the deals that left it.
func (b *builder) conversion() (sheet, error) {
	ctx := b.c.UserContext()
	stages, err := b.h.Q.ListPipelineStages(ctx, b.p.OrgID)
	if err != nil {
		return sheet{}, err
	}
	moves, err := stats.Transitions(ctx, b.h.Q, b.in.filter, b.in.span)
	if err != nil {
		return sheet{}, err
	}
	position := map[string]int32{}
	for _, s := range stages {
		position[s.Stage] = s.Position
	}
	sh := sheet{cols: []column{{label: b.t("reports.stage")}, {label: b.t("reports.entered"), kind: count},
		{label: b.t("reports.moved_on"), kind: count}, {label: b.t("reports.conversion_rate"), kind: percent},
		{label: b.t("reports.left"), kind: count}, {label: b.t("reports.days_in_stage"), kind: days}}}
	for _, s := range stages {
		var entered, forward, left, seconds int64
		for _, m := range moves {
			if m.To == s.Stage {
				entered += m.N
			}
			if m.From == s.Stage {
				left += m.N
				seconds += m.Seconds
				if m.To != cancelled && position[m.To] > s.Position {
					forward += m.N
				}
			}
		}
		r := row{cells: []value{txt(b.t("opportunity_stage." + s.Stage)), number(entered)}}
		if s.Stage == won || s.Stage == cancelled {
			// Where deals end: nothing moves on from here.
			r.cells = append(r.cells, value{kind: count, none: true}, value{kind: percent, none: true},
				value{kind: count, none: true}, value{kind: days, none: true})
		} else {
			r.cells = append(r.cells, number(forward), ratio(forward, entered), number(left), average(seconds, left))
		}
		sh.rows = append(sh.rows, r)
	}
	return sh, nil
}

// The stages where a deal's life ends (pipeline_stages' closed ones).
const (
	won       = "ganada"
	cancelled = "cancelada"
)

// lost is the deals lost in the span by cancel reason, with each reason's
// share of them.
func (b *builder) lost() (sheet, error) {
	reasons, err := stats.LostReasons(b.c.UserContext(), b.h.Q, b.in.filter, b.in.span)
	if err != nil {
		return sheet{}, err
	}
	var n, total int64
	for _, r := range reasons {
		n += r.N
		total += r.Amount.Amount
	}
	sh := sheet{cols: []column{{label: b.t("reports.reason")}, {label: b.t("reports.deals"), kind: count},
		{label: b.t("reports.amount"), kind: amount}, {label: b.t("reports.share"), kind: percent}}}
	for _, r := range reasons {
		name := r.Name
		if name == "" {
			name = b.t("reports.no_reason")
		}
		sh.rows = append(sh.rows, row{cells: []value{txt(name), number(r.N), cents(r.Amount.Amount), ratio(r.N, n)}})
	}
	sh.rows = append(sh.rows, row{cells: []value{txt(b.t("reports.total")), number(n), cents(total), ratio(n, n)}, total: true})
	return sh, nil
}

// quotes is what happened to the quotes first sent each month, and over
// the whole span (its medians are the span's, not a sum of months').
func (b *builder) quotes() (sheet, error) {
	ctx := b.c.UserContext()
	today := b.p.Today(b.now)
	sh := sheet{cols: []column{{label: b.t("reports.month")}, {label: b.t("reports.sent"), kind: count},
		{label: b.t("reports.sent_amount"), kind: amount}, {label: b.t("reports.opened"), kind: count},
		{label: b.t("reports.signed"), kind: count}, {label: b.t("reports.signed_amount"), kind: amount},
		{label: b.t("reports.rejected"), kind: count}, {label: b.t("reports.expired"), kind: count},
		{label: b.t("reports.sign_rate"), kind: percent}, {label: b.t("reports.median_open"), kind: days},
		{label: b.t("reports.median_sign"), kind: days}}}
	line := func(label string, f stats.QuoteFunnel, total bool) row {
		median := func(d time.Duration) value {
			if d == 0 {
				return value{kind: days, none: true}
			}
			return average(int64(d/time.Second), 1)
		}
		return row{total: total, cells: []value{txt(label), number(f.Sent.N), cents(f.Sent.Amount), number(f.Opened),
			number(f.Signed.N), cents(f.Signed.Amount), number(f.Rejected), number(f.Expired), ratio(f.Signed.N, f.Sent.N),
			median(f.MedianOpen), median(f.MedianSign)}}
	}
	for _, m := range monthsOf(b.in.span) {
		f, err := stats.Quotes(ctx, b.h.Q, b.in.filter, stats.Span{From: m, To: m.Add(1)}, today)
		if err != nil {
			return sheet{}, err
		}
		sh.rows = append(sh.rows, line(monthLabel(m), f, false))
	}
	f, err := stats.Quotes(ctx, b.h.Q, b.in.filter, b.in.span, today)
	if err != nil {
		return sheet{}, err
	}
	sh.rows = append(sh.rows, line(b.t("reports.total"), f, true))
	return sh, nil
}

// forecast is the "previsión de cartera": for this month and the eleven
// after it, the open deals expected to close then, their amount weighted
// by probability, the recurring invoices due, and the sum; with the next
// three and twelve months added up.
func (b *builder) forecast() (sheet, error) {
	ahead, err := stats.Forecast(b.c.UserContext(), b.h.Q, b.in.filter, b.in.span.From, b.in.span.Months())
	if err != nil {
		return sheet{}, err
	}
	sh := sheet{cols: []column{{label: b.t("reports.month")}, {label: b.t("reports.deals"), kind: count},
		{label: b.t("reports.weighted"), kind: amount}, {label: b.t("reports.recurring"), kind: amount},
		{label: b.t("reports.expected"), kind: amount}}}
	line := func(label string, f stats.ForecastMonth, total bool) row {
		return row{total: total, cells: []value{txt(label), number(f.Deals), cents(f.Weighted), cents(f.Recurring), cents(f.Weighted + f.Recurring)}}
	}
	// A month the engine left out expects nothing.
	byMonth := map[stats.Month]stats.ForecastMonth{}
	for _, f := range ahead {
		byMonth[f.Month] = f
	}
	var three, twelve stats.ForecastMonth
	for i, m := range monthsOf(b.in.span) {
		f := byMonth[m]
		f.Month = m
		sh.rows = append(sh.rows, line(monthLabel(f.Month), f, false))
		add := func(t *stats.ForecastMonth) {
			t.Deals += f.Deals
			t.Weighted += f.Weighted
			t.Recurring += f.Recurring
		}
		if i < 3 {
			add(&three)
		}
		add(&twelve)
	}
	sh.rows = append(sh.rows, line(b.t("reports.next_3"), three, true), line(b.t("reports.next_12"), twelve, true))
	return sh, nil
}

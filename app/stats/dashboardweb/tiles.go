package dashboardweb

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"pulso/app/stats"
	"pulso/app/web"
	dashboardview "pulso/views/dashboard"
	"pulso/views/i18n"
	pipelineview "pulso/views/pipeline"
)

// req is one rendering of tiles: who asks, what they chose, and when.
type req struct {
	ctx     context.Context
	h       *Handler
	p       *web.Principal
	ch      choice
	now     time.Time
	n       numbers
	compact bool
	// Each span's deal outcomes and billing, read once per request: the
	// page's tiles ask for the same few spans over and over (this month's
	// outcomes five times, last month's four; a year's previous span is
	// also its last year).
	outs  map[stats.Span]stats.Outcomes
	bills map[stats.Span]stats.Amount
}

func (r *req) label(s stats.Span) string { return spanLabel(r.n.locale, s) }

// tileDef is one tile: its name (its URL and test id), the live events
// that may move its numbers (topicEvents' names), whether it is a billing tile (the org's
// invoices: admins and accountants) or a sales one (admins, managers,
// reps, each within their scope), and how it is built.
type tileDef struct {
	name    string
	events  []string
	billing bool
	build   func(r *req, t *dashboardview.Tile) error
}

// tiles are the dashboard's tiles in page order.
var tiles = []tileDef{
	// Pairs of small tiles between the wide ones (charts take a row).
	{name: "won", events: []string{"deals", "quotes"}, build: wonTile},
	{name: "lost", events: []string{"deals"}, build: lostTile},
	{name: "pipeline", events: []string{"deals"}, build: pipelineTile},
	{name: "ytd", events: []string{"deals", "quotes"}, build: ytdTile},
	{name: "conversion", events: []string{"deals"}, build: conversionTile},
	{name: "trend", events: []string{"deals", "quotes"}, build: trendTile},
	{name: "deal-size", events: []string{"deals", "quotes"}, build: dealSizeTile},
	{name: "funnel", events: []string{"quotes"}, build: funnelTile},
	{name: "activity", events: []string{"tasks"}, build: activityTile},
	{name: "sla", events: []string{"tasks"}, build: slaTile},
	{name: "billing", events: []string{"invoices"}, billing: true, build: billingTile},
	{name: "debtors", events: []string{"invoices"}, billing: true, build: debtorsTile},
}

// compactTiles are a rep's own numbers on their home.
var compactTiles = []string{"won", "pipeline", "activity", "funnel"}

func tileNamed(name string) (tileDef, bool) {
	for _, t := range tiles {
		if t.name == name {
			return t, true
		}
	}
	return tileDef{}, false
}

// may reports whether role r sees tile t: billing tiles are the whole
// org's invoices (web.Billing); sales tiles are scoped numbers, for the
// roles that sell — never the accountant's.
func (t tileDef) may(r web.Role) bool {
	if t.billing {
		return r.In(web.Billing)
	}
	return r.In(web.Sales)
}

// trigger is the tile's hx-trigger. Live events do not make tiles fetch
// themselves: the hub pushes them re-rendered (live.go). A tile fetches
// itself only on a resync, when its socket reconnected and events may have
// been missed.
const trigger = "pulso:resync from:body"

func (r *req) tile(def tileDef) (dashboardview.Tile, error) {
	t := dashboardview.Tile{Name: def.name, Title: "dashboard.tile." + def.name, Trigger: trigger, Compact: r.compact}
	t.URL = "/dashboard/tiles/" + def.name
	if q := r.query(); q != "" {
		t.URL += "?" + q
	}
	return t, def.build(r, &t)
}

// query is the request's filters as a query string, compact included: what
// a tile reloads with and what the page follows its tiles with.
func (r *req) query() string {
	q := strings.TrimPrefix(r.ch.query(""), "?")
	if r.compact {
		if q != "" {
			q += "&"
		}
		q += "compact=1"
	}
	return q
}

func (r *req) outcomes(s stats.Span) (stats.Outcomes, error) {
	if o, ok := r.outs[s]; ok {
		return o, nil
	}
	o, err := stats.DealOutcomes(r.ctx, r.h.Q, r.ch.f, s)
	if err != nil {
		return o, err
	}
	if r.outs == nil {
		r.outs = map[stats.Span]stats.Outcomes{}
	}
	r.outs[s] = o
	return o, nil
}

// compare builds the deltas of a figure against the previous span and the
// same span last year (once when they are the same span, as for a year).
func (r *req) compare(val func(stats.Outcomes) int64, show func(int64) string, cur, prev, ly stats.Outcomes, upGood bool, id string) []dashboardview.Delta {
	per := r.ch.per
	ds := []dashboardview.Delta{r.n.delta(val(cur), val(prev), upGood, r.label(per.Prev), show(val(prev)), id+"-vs-prev")}
	if per.LastYear != per.Prev && !r.compact {
		ds = append(ds, r.n.delta(val(cur), val(ly), upGood, r.label(per.LastYear), show(val(ly)), id+"-vs-last-year"))
	}
	return ds
}

func (r *req) threeOutcomes() (cur, prev, ly stats.Outcomes, err error) {
	per := r.ch.per
	if cur, err = r.outcomes(per.Span); err != nil {
		return
	}
	if prev, err = r.outcomes(per.Prev); err != nil {
		return
	}
	if per.LastYear == per.Prev {
		return cur, prev, prev, nil
	}
	ly, err = r.outcomes(per.LastYear)
	return
}

func wonTile(r *req, t *dashboardview.Tile) error {
	return outcomeTile(r, t, "won", func(o stats.Outcomes) stats.Amount { return o.Won }, true)
}

func lostTile(r *req, t *dashboardview.Tile) error {
	return outcomeTile(r, t, "lost", func(o stats.Outcomes) stats.Amount { return o.Lost }, false)
}

func outcomeTile(r *req, t *dashboardview.Tile, id string, pick func(stats.Outcomes) stats.Amount, upGood bool) error {
	cur, prev, ly, err := r.threeOutcomes()
	if err != nil {
		return err
	}
	t.Sub = r.label(r.ch.per.Span)
	amount := func(o stats.Outcomes) int64 { return pick(o).Amount }
	count := func(o stats.Outcomes) int64 { return pick(o).N }
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.amount", Value: r.n.money(amount(cur)), TestID: id + "-amount", Deltas: r.compare(amount, r.n.money, cur, prev, ly, upGood, id+"-amount")},
		{Label: "dashboard.deals", Value: r.n.count(count(cur)), TestID: id + "-count", Small: true, Deltas: r.compare(count, r.n.count, cur, prev, ly, upGood, id+"-count")},
	}
	if r.compact {
		t.Figures = t.Figures[:1]
	}
	return nil
}

func ytdTile(r *req, t *dashboardview.Tile) error {
	per := r.ch.per
	cur, err := r.outcomes(per.YTD)
	if err != nil {
		return err
	}
	ly, err := r.outcomes(per.YTDLastYear)
	if err != nil {
		return err
	}
	t.Sub = r.label(per.YTD)
	against := r.label(per.YTDLastYear)
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.won_amount", Value: r.n.money(cur.Won.Amount), TestID: "ytd-amount",
			Deltas: []dashboardview.Delta{r.n.delta(cur.Won.Amount, ly.Won.Amount, true, against, r.n.money(ly.Won.Amount), "ytd-amount-vs-last-year")}},
		{Label: "dashboard.won_deals", Value: r.n.count(cur.Won.N), TestID: "ytd-count", Small: true,
			Deltas: []dashboardview.Delta{r.n.delta(cur.Won.N, ly.Won.N, true, against, r.n.count(ly.Won.N), "ytd-count-vs-last-year")}},
	}
	return nil
}

// openStages are the board's stages a deal is still open in, in its
// order: the pipeline tile lists each, empty ones included.
func openStages() []string {
	var out []string
	for _, s := range pipelineview.Stages {
		if s != "ganada" && s != "cancelada" {
			out = append(out, s)
		}
	}
	return out
}

func pipelineTile(r *req, t *dashboardview.Tile) error {
	rows, err := stats.Pipeline(r.ctx, r.h.Q, r.ch.f)
	if err != nil {
		return err
	}
	t.Sub = i18n.In(r.n.locale, "dashboard.now", nil)
	var all stats.StageTotal
	byStage := map[string]stats.StageTotal{}
	for _, s := range rows {
		all.N += s.N
		all.Amount += s.Amount
		all.Weighted += s.Weighted
		byStage[s.Stage] = s
	}
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.amount", Value: r.n.money(all.Amount), TestID: "pipeline-amount"},
		{Label: "dashboard.weighted", Value: r.n.money(all.Weighted), TestID: "pipeline-weighted", Small: true},
		{Label: "dashboard.deals", Value: r.n.count(all.N), TestID: "pipeline-count", Small: true},
	}
	if r.compact {
		t.Figures = []dashboardview.Figure{t.Figures[0], t.Figures[2]}
		return nil
	}
	t.Chart = "bars"
	t.Table = &dashboardview.Table{Caption: i18n.In(r.n.locale, "dashboard.caption.pipeline", nil),
		Cols: []string{"dashboard.stage", "dashboard.amount", "dashboard.weighted", "dashboard.deals"}, ChartCols: 2}
	order := openStages()
	for _, s := range rows {
		if !slices.Contains(order, s.Stage) {
			order = append(order, s.Stage)
		}
	}
	for _, st := range order {
		s := byStage[st]
		t.Table.Rows = append(t.Table.Rows, dashboardview.Row{Label: i18n.In(r.n.locale, "opportunity_stage."+st, nil), Cells: []dashboardview.Cell{
			{Text: r.n.money(s.Amount), Value: s.Amount}, {Text: r.n.money(s.Weighted), Value: s.Weighted}, {Text: r.n.count(s.N), Value: s.N}}})
	}
	return nil
}

// trendTile is the won amount of each month of the period's year against
// the year before, for the chart and its table.
func trendTile(r *req, t *dashboardview.Tile) error {
	year := r.ch.per.Span.To.Add(-1).Year
	jan := stats.Month{Year: year, Month: time.January}
	cells, err := stats.Table(r.ctx, r.h.Q, r.ch.f, stats.WonAmount, stats.ByNone, stats.Span{From: jan.Add(-12), To: jan.Add(12)})
	if err != nil {
		return err
	}
	by := map[stats.Month]int64{}
	for _, c := range cells {
		by[c.Month] += c.Value
	}
	this, last := strconv.Itoa(year), strconv.Itoa(year-1)
	t.Sub = last + " – " + this
	t.Chart = "lines"
	t.Table = &dashboardview.Table{Caption: i18n.In(r.n.locale, "dashboard.caption.trend", map[string]any{"Year": this, "Last": last}),
		Cols: []string{"dashboard.month", "dashboard.year_this", "dashboard.year_last"}, ChartCols: 2}
	var sumThis, sumLast int64
	for i := range 12 {
		m := jan.Add(i)
		v, lv := by[m], by[m.Add(-12)]
		sumThis += v
		sumLast += lv
		t.Table.Rows = append(t.Table.Rows, dashboardview.Row{Label: i18n.In(r.n.locale, "dashboard.month_short."+strconv.Itoa(int(m.Month)), nil),
			Cells: []dashboardview.Cell{{Text: r.n.money(v), Value: v}, {Text: r.n.money(lv), Value: lv}}})
	}
	t.Figures = []dashboardview.Figure{{Label: "dashboard.won_amount", Value: r.n.money(sumThis), TestID: "trend-amount",
		Deltas: []dashboardview.Delta{r.n.delta(sumThis, sumLast, true, last, r.n.money(sumLast), "trend-amount-vs-last-year")}}}
	return nil
}

func conversionTile(r *req, t *dashboardview.Tile) error {
	per := r.ch.per
	cur, err := r.outcomes(per.Span)
	if err != nil {
		return err
	}
	prev, err := r.outcomes(per.Prev)
	if err != nil {
		return err
	}
	t.Sub = r.label(per.Span)
	against := r.label(per.Prev)
	leadRate := func(o stats.Outcomes) decimal.Decimal { return ratio(o.CreatedFromLeads, o.LeadsCreated) }
	wonRate := func(o stats.Outcomes) decimal.Decimal { return ratio(o.Won.N, o.Created.N) }
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.lead_to_deal", Value: r.n.share(cur.CreatedFromLeads, cur.LeadsCreated), TestID: "conversion-lead-deal",
			Deltas: []dashboardview.Delta{r.n.pointsDelta(leadRate(cur), leadRate(prev), cur.LeadsCreated, prev.LeadsCreated, against, r.n.share(prev.CreatedFromLeads, prev.LeadsCreated), "conversion-lead-deal-vs-prev")}},
		{Label: "dashboard.deal_to_won", Value: r.n.share(cur.Won.N, cur.Created.N), TestID: "conversion-deal-won",
			Deltas: []dashboardview.Delta{r.n.pointsDelta(wonRate(cur), wonRate(prev), cur.Created.N, prev.Created.N, against, r.n.share(prev.Won.N, prev.Created.N), "conversion-deal-won-vs-prev")}},
		{Label: "dashboard.leads", Value: r.n.count(cur.LeadsCreated), TestID: "conversion-leads", Small: true},
		{Label: "dashboard.deals_created", Value: r.n.count(cur.Created.N), TestID: "conversion-deals", Small: true},
		{Label: "dashboard.won_deals", Value: r.n.count(cur.Won.N), TestID: "conversion-won", Small: true},
	}
	return nil
}

func dealSizeTile(r *req, t *dashboardview.Tile) error {
	per := r.ch.per
	cur, err := r.outcomes(per.Span)
	if err != nil {
		return err
	}
	prev, err := r.outcomes(per.Prev)
	if err != nil {
		return err
	}
	t.Sub = r.label(per.Span)
	against := r.label(per.Prev)
	avg := func(o stats.Outcomes) int64 {
		if o.Won.N == 0 {
			return 0
		}
		// Half up to the minor unit, as every amount shown.
		return decimal.NewFromInt(o.Won.Amount).Div(decimal.NewFromInt(o.Won.N)).Round(0).IntPart()
	}
	cycle := func(o stats.Outcomes) int64 {
		if o.Won.N == 0 {
			return 0
		}
		return o.CycleSeconds / o.Won.N
	}
	showCycle := func(o stats.Outcomes) string {
		if o.Won.N == 0 {
			return "—"
		}
		return r.n.days(cycle(o))
	}
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.avg_deal", Value: r.n.money(avg(cur)), TestID: "deal-size-amount",
			Deltas: []dashboardview.Delta{r.n.delta(avg(cur), avg(prev), true, against, r.n.money(avg(prev)), "deal-size-amount-vs-prev")}},
		{Label: "dashboard.cycle", Value: showCycle(cur), TestID: "deal-size-cycle",
			Deltas: []dashboardview.Delta{r.n.delta(cycle(cur), cycle(prev), false, against, showCycle(prev), "deal-size-cycle-vs-prev")}},
	}
	return nil
}

func funnelTile(r *req, t *dashboardview.Tile) error {
	per := r.ch.per
	today := r.p.Today(r.now)
	cur, err := stats.Quotes(r.ctx, r.h.Q, r.ch.f, per.Span, today)
	if err != nil {
		return err
	}
	prev, err := stats.Quotes(r.ctx, r.h.Q, r.ch.f, per.Prev, today)
	if err != nil {
		return err
	}
	t.Sub = r.label(per.Span)
	against := r.label(per.Prev)
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.quotes_signed", Value: r.n.count(cur.Signed.N), TestID: "funnel-signed",
			Deltas: []dashboardview.Delta{r.n.delta(cur.Signed.N, prev.Signed.N, true, against, r.n.count(prev.Signed.N), "funnel-signed-vs-prev")}},
		{Label: "dashboard.signed_amount", Value: r.n.money(cur.Signed.Amount), TestID: "funnel-signed-amount", Small: true},
		{Label: "dashboard.median_open", Value: r.n.duration(cur.MedianOpen), TestID: "funnel-median-open", Small: true},
		{Label: "dashboard.median_sign", Value: r.n.duration(cur.MedianSign), TestID: "funnel-median-sign", Small: true},
	}
	if r.compact {
		t.Figures = []dashboardview.Figure{t.Figures[0], {Label: "dashboard.funnel.sent", Value: r.n.count(cur.Sent.N), TestID: "funnel-sent", Small: true}}
		return nil
	}
	t.Table = &dashboardview.Table{Caption: i18n.In(r.n.locale, "dashboard.caption.funnel", nil),
		Cols: []string{"dashboard.step", "dashboard.quotes", "dashboard.of_sent"}}
	for _, s := range []struct {
		key string
		n   int64
	}{{"sent", cur.Sent.N}, {"opened", cur.Opened}, {"signed", cur.Signed.N}, {"rejected", cur.Rejected}, {"expired", cur.Expired}} {
		t.Table.Rows = append(t.Table.Rows, dashboardview.Row{Label: i18n.In(r.n.locale, "dashboard.funnel."+s.key, nil),
			Cells: []dashboardview.Cell{{Text: r.n.count(s.n), Value: s.n}, {Text: r.n.share(s.n, cur.Sent.N), Value: s.n}}})
	}
	return nil
}

func activityTile(r *req, t *dashboardview.Tile) error {
	per := r.ch.per
	users := r.ch.f
	cur, err := stats.Activities(r.ctx, r.h.Q, users, per.Span, r.now)
	if err != nil {
		return err
	}
	prev, err := stats.Activities(r.ctx, r.h.Q, users, per.Prev, r.now)
	if err != nil {
		return err
	}
	var sum, psum stats.Activity
	for _, a := range cur {
		sum.Done += a.Done
		sum.Calls += a.Calls
		sum.Visits += a.Visits
		sum.Overdue += a.Overdue
	}
	for _, a := range prev {
		psum.Done += a.Done
	}
	t.Sub = r.label(per.Span)
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.tasks_done", Value: r.n.count(sum.Done), TestID: "activity-done",
			Deltas: []dashboardview.Delta{r.n.delta(sum.Done, psum.Done, true, r.label(per.Prev), r.n.count(psum.Done), "activity-done-vs-prev")}},
		{Label: "dashboard.overdue", Value: r.n.count(sum.Overdue), TestID: "activity-overdue", Small: true},
	}
	if r.compact {
		return nil
	}
	t.Figures = append(t.Figures,
		dashboardview.Figure{Label: "dashboard.visits", Value: r.n.count(sum.Visits), TestID: "activity-visits", Small: true},
		dashboardview.Figure{Label: "dashboard.calls", Value: r.n.count(sum.Calls), TestID: "activity-calls", Small: true})
	t.Empty = "dashboard.no_activity"
	t.Table = &dashboardview.Table{Caption: i18n.In(r.n.locale, "dashboard.caption.activity", nil),
		Cols: []string{"dashboard.rep", "dashboard.tasks_done", "dashboard.visits", "dashboard.calls", "dashboard.overdue"}}
	for _, a := range cur {
		t.Table.Rows = append(t.Table.Rows, dashboardview.Row{Label: a.Name, Cells: []dashboardview.Cell{
			{Text: r.n.count(a.Done), Value: a.Done}, {Text: r.n.count(a.Visits), Value: a.Visits},
			{Text: r.n.count(a.Calls), Value: a.Calls}, {Text: r.n.count(a.Overdue), Value: a.Overdue}}})
	}
	return nil
}

func slaTile(r *req, t *dashboardview.Tile) error {
	per := r.ch.per
	cur, err := stats.TaskSLA(r.ctx, r.h.Q, r.ch.f, per.Span)
	if err != nil {
		return err
	}
	prev, err := stats.TaskSLA(r.ctx, r.h.Q, r.ch.f, per.Prev)
	if err != nil {
		return err
	}
	t.Sub = r.label(per.Span)
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.sla_met", Value: r.n.share(cur.Met, cur.WithSLA), TestID: "sla-percent",
			Deltas: []dashboardview.Delta{r.n.pointsDelta(ratio(cur.Met, cur.WithSLA), ratio(prev.Met, prev.WithSLA), cur.WithSLA, prev.WithSLA,
				r.label(per.Prev), r.n.share(prev.Met, prev.WithSLA), "sla-percent-vs-prev")}},
		{Label: "dashboard.sla_of", Value: i18n.In(r.n.locale, "dashboard.n_of_m", map[string]any{"N": cur.Met, "M": cur.WithSLA}), TestID: "sla-counts", Small: true},
	}
	return nil
}

func (r *req) billed(s stats.Span) (stats.Amount, error) {
	if b, ok := r.bills[s]; ok {
		return b, nil
	}
	b, err := stats.Billed(r.ctx, r.h.Q, r.p.OrgID, s)
	if err != nil {
		return b, err
	}
	if r.bills == nil {
		r.bills = map[stats.Span]stats.Amount{}
	}
	r.bills[s] = b
	return b, nil
}

func billingTile(r *req, t *dashboardview.Tile) error {
	per := r.ch.per
	var cur, prev, ly, ytd, ytdLY stats.Amount
	for _, x := range []struct {
		s   stats.Span
		dst *stats.Amount
	}{{per.Span, &cur}, {per.Prev, &prev}, {per.LastYear, &ly}, {per.YTD, &ytd}, {per.YTDLastYear, &ytdLY}} {
		b, err := r.billed(x.s)
		if err != nil {
			return err
		}
		*x.dst = b
	}
	t.Sub = r.label(per.Span)
	deltas := []dashboardview.Delta{r.n.delta(cur.Amount, prev.Amount, true, r.label(per.Prev), r.n.money(prev.Amount), "billed-vs-prev")}
	if per.LastYear != per.Prev {
		deltas = append(deltas, r.n.delta(cur.Amount, ly.Amount, true, r.label(per.LastYear), r.n.money(ly.Amount), "billed-vs-last-year"))
	}
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.billed", Value: r.n.money(cur.Amount), TestID: "billed-amount", Deltas: deltas},
		{Label: "dashboard.invoices", Value: r.n.count(cur.N), TestID: "billed-count", Small: true},
		{Label: "dashboard.billed_ytd", Value: r.n.money(ytd.Amount), TestID: "billed-ytd",
			Deltas: []dashboardview.Delta{r.n.delta(ytd.Amount, ytdLY.Amount, true, r.label(per.YTDLastYear), r.n.money(ytdLY.Amount), "billed-ytd-vs-last-year")}},
	}
	return nil
}

func debtorsTile(r *req, t *dashboardview.Tile) error {
	// What is owed is today's, whatever the period.
	b, err := stats.Owed(r.ctx, r.h.Q, r.p.OrgID, r.p.Today(r.now))
	if err != nil {
		return err
	}
	t.Sub = i18n.In(r.n.locale, "dashboard.now", nil)
	t.Figures = []dashboardview.Figure{
		{Label: "dashboard.overdue_amount", Value: r.n.money(b.Overdue), TestID: "debtors-overdue"},
		{Label: "dashboard.debtors", Value: r.n.count(b.Debtors), TestID: "debtors-count", Small: true},
		{Label: "dashboard.outstanding", Value: r.n.money(b.Outstanding), TestID: "debtors-outstanding", Small: true},
	}
	return nil
}

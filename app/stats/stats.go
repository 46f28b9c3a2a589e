// Package stats owns Pulso's numbers: the dashboard tiles, the reports, the
// forecast and the sales-target progress all read them from here, so a
// figure means the same on every screen. Each function answers for a
// Filter (whose records) over a span of whole months in the org's time
// zone; scope is decided by the caller (web.Scope) and passed as Owners.
//
// How the numbers are kept fast (rollups maintained in the write
// transaction, covering indexes, or a plain query) is this package's
// business; callers only see the functions below. Every function has a
// naive twin over the base tables, used by the equality test, the rebuild
// and the benchmark baseline.
package stats

import (
	"time"
)

// Month is the first day of a calendar month in the org's time zone.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month t falls in, in zone.
func MonthOf(t time.Time, zone *time.Location) Month {
	t = t.In(zone)
	return Month{Year: t.Year(), Month: t.Month()}
}

// Date is the month's first day as a date (midnight UTC, for SQL date
// parameters).
func (m Month) Date() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// Add moves n months (negative: back).
func (m Month) Add(n int) Month {
	t := time.Date(m.Year, m.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return Month{Year: t.Year(), Month: t.Month()}
}

// Before reports whether m is earlier than o.
func (m Month) Before(o Month) bool { return m.Date().Before(o.Date()) }

// String is "2006-01".
func (m Month) String() string { return m.Date().Format("2006-01") }

// Span is the months [From, To): To is excluded, so a single month is
// Span{m, m.Add(1)}.
type Span struct{ From, To Month }

// Months is the number of months in s (0 or less when To is not after
// From).
func (s Span) Months() int {
	return (s.To.Year-s.From.Year)*12 + int(s.To.Month) - int(s.From.Month)
}

// Filter says whose records a number covers.
type Filter struct {
	OrgID int64
	// Owners limits to records owned by (deals, quotes) or assigned to
	// (tasks) these users; nil is everyone, unowned records included
	// (web.Scope's nil). The caller intersects the viewer's scope with the
	// rep/team filter the viewer picked.
	Owners []int64
	// Source limits deals and leads to one origin: a lead source
	// ("manual", "import", "web_form", "email", "api"); "" is any.
	Source string
	// GroupID limits deals to one product group (article_groups.id);
	// 0 is any.
	GroupID int64
}

// Amount is a count of records and their value in minor units of the org's
// currency.
type Amount struct {
	N      int64
	Amount int64
}

// StageTotal is the open pipeline in one stage: count, amount, and the
// amount weighted by each deal's probability (rounded half up to the minor
// unit once, on the stage's sum).
type StageTotal struct {
	Stage    string
	N        int64
	Amount   int64
	Weighted int64
}

// Outcomes are the deals created, won and lost in a span, with what the
// won ones took to close.
type Outcomes struct {
	Created Amount
	// CreatedFromLeads are the created deals that came from a lead.
	CreatedFromLeads int64
	Won              Amount
	Lost             Amount
	// CycleSeconds is the sum over won deals of (won at − created at):
	// the average cycle is CycleSeconds / Won.N.
	CycleSeconds int64
	// LeadsCreated counts the leads created in the span (Source applies;
	// Owners applies to the lead's owner).
	LeadsCreated int64
}

// Activity is one user's work in a span: tasks done by type, and the
// tasks open and overdue now.
type Activity struct {
	UserID  int64
	Name    string
	Done    int64
	Calls   int64
	Visits  int64
	Overdue int64
}

// SLA is the compliance of the tasks whose SLA ran out or that were done in
// a span: Met ("Sí cumple") of WithSLA.
type SLA struct {
	WithSLA int64
	Met     int64
}

// QuoteFunnel is what happened to the quotes first sent in a span.
type QuoteFunnel struct {
	Sent     Amount
	Opened   int64
	Signed   Amount
	Rejected int64
	// Expired: still unanswered and past their validity today.
	Expired int64
	// Median time from sending to first opening and to signing; zero when
	// no quote got there.
	MedianOpen time.Duration
	MedianSign time.Duration
}

// Billing is what was invoiced in a span (issued invoices, correctives
// included, proformas never) and what customers owe today.
type Billing struct {
	Billed Amount
	// Outstanding is the unpaid part of issued invoices; Overdue the part
	// past its due date. Debtors counts the customers who owe overdue money.
	Outstanding int64
	Overdue     int64
	Debtors     int64
}

// Measure is a monthly quantity a report tabulates.
type Measure string

const (
	WonAmount    Measure = "won_amount"
	WonDeals     Measure = "won_deals"
	LostDeals    Measure = "lost_deals"
	CreatedDeals Measure = "created_deals"
	QuotesSent   Measure = "quotes_sent"
	QuotesSigned Measure = "quotes_signed"
	BilledAmount Measure = "billed_amount"
	StageEntries Measure = "stage_entries"
)

// Dimension is what a report groups rows by.
type Dimension string

const (
	ByRep    Dimension = "rep"
	ByTeam   Dimension = "team"
	BySource Dimension = "source"
	ByGroup  Dimension = "group"
	ByStage  Dimension = "stage"
	// ByNone: one row for the whole filter.
	ByNone Dimension = "none"
)

// Cell is one value of a monthly table: the row's key (a user id, team
// manager id, source, group id or stage as text; "" for none/unassigned)
// and its label as the viewer should read it.
type Cell struct {
	Month Month
	Key   string
	Label string
	Value int64
}

// Transition is a stage-to-stage move in a span: how many deals made it,
// and the total seconds they had spent in From (average = Seconds / N).
// From is "" for a deal's creation.
type Transition struct {
	From, To string
	N        int64
	Seconds  int64
}

// LostReason is one cancel reason's count and amount in a span.
type LostReason struct {
	ReasonID int64
	Name     string
	Amount
}

// ForecastMonth is the expected billing of a month: open deals expected to
// close then, weighted by probability, plus the recurring invoices due.
type ForecastMonth struct {
	Month     Month
	Deals     int64
	Weighted  int64
	Recurring int64
}

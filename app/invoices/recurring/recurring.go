// Package recurring issues invoices that repeat, and runs the month-end
// invoicing of delivery notes (recapitulativas) in one batch. It has no
// HTTP: the periodic job (workers/recurring_invoices.go) and the month-end
// job (workers/summary_invoices.go) call it, and recurringweb serves the
// pages.
//
// A template (recurring_invoices, migration 0039) names a customer, its
// lines, a frequency and a day. Its periods are dates: the first date on
// or after the start that falls on the day, then every week, month, quarter
// or year from there (a day past a month's end falls on its last day).
// RunDue issues each period whose date has come, once: the run row's key
// (org, template, period) is written in the transaction that issues the
// invoice, so two workers, a killed worker's retry or a restart after days
// down never issue a period twice, and missed periods go out one by one in
// date order, each dated its period's date.
package recurring

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/calendar"
	"pulso/app/ident"
	"pulso/app/invoices"
	"pulso/app/money"
	"pulso/queries"
)

// Frequencies a template repeats at.
const (
	Weekly    = "weekly"
	Monthly   = "monthly"
	Quarterly = "quarterly"
	Yearly    = "yearly"
)

// Frequencies in the order forms offer them.
var Frequencies = []string{Monthly, Weekly, Quarterly, Yearly}

// Modes: issue only, or issue and send to the customer.
const (
	ModeIssue        = "issue"
	ModeIssueAndSend = "issue_and_send"
)

// Modes in the order forms offer them.
var Modes = []string{ModeIssue, ModeIssueAndSend}

// Schedule is when a template's periods fall. Dates are days (UTC
// midnight); End is zero when the template runs until paused.
type Schedule struct {
	Frequency string
	// Day is the ISO weekday (1 Monday … 7 Sunday) for Weekly, else the
	// day of the month (1–31, clamped to the month's last day).
	Day        int
	Start, End time.Time
}

// ScheduleOf reads a template's schedule.
func ScheduleOf(t queries.RecurringInvoice) Schedule {
	s := Schedule{Frequency: t.Frequency, Day: int(t.Day), Start: t.StartOn.Time}
	if t.EndOn.Valid {
		s.End = t.EndOn.Time
	}
	return s
}

func months(freq string) int {
	switch freq {
	case Quarterly:
		return 3
	case Yearly:
		return 12
	}
	return 1
}

// onDay is the day of the month `month` months after year/month 1 of y, m,
// clamped to that month's end.
func onDay(y int, m time.Month, plus, day int) time.Time {
	first := time.Date(y, m+time.Month(plus), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(day, last)-1)
}

// nth is the k-th period (k ≥ 0), before End is considered.
func (s Schedule) nth(k int) time.Time {
	start := calendar.Civil(s.Start)
	if s.Frequency == Weekly {
		wd := int(start.Weekday())
		if wd == 0 {
			wd = 7
		}
		return start.AddDate(0, 0, (s.Day-wd+7)%7+7*k)
	}
	plus := 0
	if onDay(start.Year(), start.Month(), 0, s.Day).Before(start) {
		plus = 1
	}
	return onDay(start.Year(), start.Month(), plus+k*months(s.Frequency), s.Day)
}

// valid says whether the schedule can produce periods at all.
func (s Schedule) valid() bool {
	if !slices.Contains(Frequencies, s.Frequency) || s.Start.IsZero() {
		return false
	}
	if s.Frequency == Weekly {
		return s.Day >= 1 && s.Day <= 7
	}
	return s.Day >= 1 && s.Day <= 31
}

// Next is the first period on or after from; ok is false when none is left
// (past the end) or the schedule is invalid.
func (s Schedule) Next(from time.Time) (time.Time, bool) {
	if !s.valid() {
		return time.Time{}, false
	}
	from = calendar.Civil(from)
	var d time.Time
	if s.Frequency == Weekly {
		// Jump close instead of walking years of weeks.
		k := max(0, int(from.Sub(s.nth(0)).Hours()/24/7)-1)
		for d = s.nth(k); d.Before(from); k++ {
			d = s.nth(k + 1)
		}
	} else {
		for k := 0; ; k++ {
			if d = s.nth(k); !d.Before(from) {
				break
			}
		}
	}
	if !s.End.IsZero() && d.After(calendar.Civil(s.End)) {
		return time.Time{}, false
	}
	return d, true
}

// Periods are the periods from from to to (both included), in order.
func Periods(s Schedule, from, to time.Time) []time.Time {
	var out []time.Time
	to = calendar.Civil(to)
	for d, ok := s.Next(from); ok && !d.After(to); d, ok = s.Next(d.AddDate(0, 0, 1)) {
		out = append(out, d)
	}
	return out
}

// Today is now's day in the org's zone.
func Today(now time.Time, zone string) time.Time {
	loc := calendar.ZoneOrUTC(zone)
	return calendar.Today(now, loc)
}

// TemplateInput is a template as typed, already parsed.
type TemplateInput struct {
	OrgID      int64
	CustomerID int64
	Name       string
	Frequency  string
	Day        int
	Start, End time.Time
	Mode       string
	Notes      string
	Lines      []invoices.LineInput
	By         *int64
	Now        time.Time
}

// MaxLines bounds a template.
const MaxLines = 100

// check validates a template: its own fields here, and its customer and
// lines by drafting and issuing its invoice in a savepoint that is rolled
// back, so the rules a period will meet (a customer with a tax id for an
// F1, the org's NIF and address, prices and rates in force) stay in
// app/invoices and the form hears of them now rather than at the first
// period. Nothing of the check survives the savepoint: issued as a
// rehearsal, Issue writes only rows (it announces nothing and queues no
// job), and its number and record go back with the rollback. today is today
// in the org's zone.
func check(ctx context.Context, tx pgx.Tx, in TemplateInput, today time.Time, newStart bool) error {
	bad := invoices.Invalid{}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 200 || !ident.CleanText(name) {
		bad["name"] = invoices.Problem{ID: "recurring.name_required"}
	}
	s := Schedule{Frequency: in.Frequency, Day: in.Day, Start: in.Start, End: in.End}
	switch {
	case !slices.Contains(Frequencies, in.Frequency):
		bad["frequency"] = invoices.Problem{ID: "validation.choice"}
	case in.Frequency == Weekly && (in.Day < 1 || in.Day > 7):
		bad["day"] = invoices.Problem{ID: "recurring.weekday_range"}
	case in.Frequency != Weekly && (in.Day < 1 || in.Day > 31):
		bad["day"] = invoices.Problem{ID: "recurring.day_range"}
	}
	switch {
	case in.Start.IsZero():
		bad["start"] = invoices.Problem{ID: "recurring.start_required"}
	case newStart && calendar.Civil(in.Start).Before(today):
		// A template does not back-date invoices: periods before today
		// would all be issued at once on the first run.
		bad["start"] = invoices.Problem{ID: "recurring.start_past"}
	}
	if !in.End.IsZero() && !in.Start.IsZero() {
		if in.End.Before(in.Start) {
			bad["end"] = invoices.Problem{ID: "recurring.end_before_start"}
		} else if _, ok := s.Next(in.Start); !ok && s.valid() {
			bad["end"] = invoices.Problem{ID: "recurring.no_period"}
		}
	}
	if !slices.Contains(Modes, in.Mode) {
		bad["mode"] = invoices.Problem{ID: "validation.choice"}
	}
	switch {
	case len(in.Lines) == 0:
		bad["lines"] = invoices.Problem{ID: "invoices.no_lines"}
	case len(in.Lines) > MaxLines:
		bad["lines"] = invoices.Problem{ID: "invoices.too_many_lines", Params: map[string]any{"Max": MaxLines}}
	}
	for i, l := range in.Lines {
		if !l.Quantity.IsPositive() {
			bad["lines."+itoa(i)+".quantity"] = invoices.Problem{ID: "quotes.quantity_invalid"}
		}
	}
	if in.CustomerID == 0 {
		bad["customer_id"] = invoices.Problem{ID: "invoices.customer_required"}
	}
	if len(bad) > 0 {
		return bad
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = sp.Rollback(ctx) }()
	_, err = invoices.DraftAndIssue(ctx, sp, invoices.DraftInput{OrgID: in.OrgID, Kind: invoices.Ordinary, CustomerID: &in.CustomerID,
		Lines: in.Lines, Notes: in.Notes, By: in.By, Now: in.Now}, invoices.IssueInput{OrgID: in.OrgID, Locale: Locale, Now: in.Now, Rehearsal: true})
	var refused invoices.Invalid
	if errors.As(err, &refused) {
		for f, p := range refused {
			// The invoice's fields as the template's form names them.
			switch f {
			case "customer", "customer_tax_id":
				f = "customer_id"
			case "issue_date", "series":
				continue // about the day it runs, not the template
			}
			if _, ok := bad[f]; !ok {
				bad[f] = p
			}
		}
		if len(bad) > 0 {
			return bad
		}
		return nil
	}
	return err
}

// Locale invoices of templates and runs are printed in: the orgs Pulso
// serves all invoice in Spanish.
const Locale = "es"

func itoa(i int) string { return strconv.Itoa(i) }

// Create stores a new template, first period on or after its start.
func Create(ctx context.Context, tx pgx.Tx, in TemplateInput) (queries.RecurringInvoice, error) {
	q := queries.New(tx)
	org, err := q.GetOrgForInvoicing(ctx, in.OrgID)
	if err != nil {
		return queries.RecurringInvoice{}, err
	}
	if err := check(ctx, tx, in, Today(in.Now, org.TimeZone), true); err != nil {
		return queries.RecurringInvoice{}, err
	}
	s := Schedule{Frequency: in.Frequency, Day: in.Day, Start: in.Start, End: in.End}
	next, ok := s.Next(in.Start)
	t, err := q.CreateRecurringInvoice(ctx, queries.CreateRecurringInvoiceParams{OrgID: in.OrgID, CustomerID: in.CustomerID,
		Name: strings.TrimSpace(in.Name), Frequency: in.Frequency, Day: int16(in.Day), StartOn: calendar.DateOrNull(in.Start), EndOn: calendar.DateOrNull(in.End),
		Mode: in.Mode, Notes: strings.TrimSpace(in.Notes), NextPeriod: dateIf(next, ok), CreatedBy: in.By})
	if err != nil {
		return t, err
	}
	return t, writeLines(ctx, q, t, in.Lines)
}

// Update changes a template. Periods already invoiced stay as they are:
// the next period is recomputed under the new schedule from the day after
// the last one invoiced (or the start), and not before today unless the
// template already owed a period before today (its next period fell due
// while no worker ran): then from that one, so an edit neither drops what
// was owed nor issues periods the old schedule never owed (a day moved to
// one already past, an end date removed, a pause) dated in the past.
func Update(ctx context.Context, tx pgx.Tx, id int64, in TemplateInput) (queries.RecurringInvoice, error) {
	q := queries.New(tx)
	cur, err := q.LockRecurringInvoice(ctx, queries.LockRecurringInvoiceParams{OrgID: in.OrgID, ID: id})
	if err != nil {
		return cur, err
	}
	org, err := q.GetOrgForInvoicing(ctx, in.OrgID)
	if err != nil {
		return cur, err
	}
	today := Today(in.Now, org.TimeZone)
	if err := check(ctx, tx, in, today, !calendar.Civil(in.Start).Equal(cur.StartOn.Time)); err != nil {
		return cur, err
	}
	last, err := q.LastRecurringInvoicePeriod(ctx, queries.LastRecurringInvoicePeriodParams{OrgID: in.OrgID, TemplateID: id})
	if err != nil {
		return cur, err
	}
	from := calendar.Civil(in.Start)
	if last.Valid && !last.Time.Before(from) {
		from = last.Time.AddDate(0, 0, 1)
	}
	// A paused template owes nothing (Resume starts it from today).
	owed := today
	if cur.Active && cur.NextPeriod.Valid && cur.NextPeriod.Time.Before(today) {
		owed = cur.NextPeriod.Time
	}
	from = maxTime(from, owed)
	s := Schedule{Frequency: in.Frequency, Day: in.Day, Start: in.Start, End: in.End}
	next, ok := s.Next(from)
	t, err := q.UpdateRecurringInvoice(ctx, queries.UpdateRecurringInvoiceParams{OrgID: in.OrgID, ID: id, CustomerID: in.CustomerID,
		Name: strings.TrimSpace(in.Name), Frequency: in.Frequency, Day: int16(in.Day), StartOn: calendar.DateOrNull(in.Start), EndOn: calendar.DateOrNull(in.End),
		Mode: in.Mode, Notes: strings.TrimSpace(in.Notes), NextPeriod: dateIf(next, ok)})
	if err != nil {
		return t, err
	}
	if err := q.DeleteRecurringInvoiceLines(ctx, queries.DeleteRecurringInvoiceLinesParams{OrgID: in.OrgID, TemplateID: id}); err != nil {
		return t, err
	}
	return t, writeLines(ctx, q, t, in.Lines)
}

func writeLines(ctx context.Context, q *queries.Queries, t queries.RecurringInvoice, lines []invoices.LineInput) error {
	for i, l := range lines {
		unit := l.Unit
		if unit == "" {
			unit = "ud"
		}
		if err := q.InsertRecurringInvoiceLine(ctx, queries.InsertRecurringInvoiceLineParams{OrgID: t.OrgID, TemplateID: t.ID,
			Position: int32(i + 1), ProductID: l.ProductID, Description: strings.TrimSpace(l.Description), Unit: unit,
			Quantity: money.Numeric(l.Quantity), UnitPrice: l.UnitPrice, DiscountPct: money.Numeric(l.DiscountPct),
			TaxRateID: l.TaxRateID}); err != nil {
			return err
		}
	}
	return nil
}

// Lines reads a template's lines back as invoice line inputs.
func Lines(ctx context.Context, q *queries.Queries, orgID, id int64) ([]invoices.LineInput, error) {
	rows, err := q.ListRecurringInvoiceLines(ctx, queries.ListRecurringInvoiceLinesParams{OrgID: orgID, TemplateID: id})
	if err != nil {
		return nil, err
	}
	out := make([]invoices.LineInput, len(rows))
	for i, r := range rows {
		out[i] = invoices.LineInput{ProductID: r.ProductID, Description: r.Description, Unit: r.Unit, Quantity: money.Decimal(r.Quantity),
			UnitPrice: r.UnitPrice, DiscountPct: money.Decimal(r.DiscountPct), TaxRateID: r.TaxRateID}
	}
	return out, nil
}

// Pause stops a template issuing; nothing is lost, its runs stay.
func Pause(ctx context.Context, tx pgx.Tx, orgID, id int64) (queries.RecurringInvoice, error) {
	q := queries.New(tx)
	t, err := q.LockRecurringInvoice(ctx, queries.LockRecurringInvoiceParams{OrgID: orgID, ID: id})
	if err != nil {
		return t, err
	}
	return q.SetRecurringInvoiceActive(ctx, queries.SetRecurringInvoiceActiveParams{OrgID: orgID, ID: id, Active: false, NextPeriod: t.NextPeriod})
}

// Resume turns a paused template on again from today: the periods that fell
// while it was paused are not invoiced (pausing said not to), unlike the
// periods a stopped worker missed, which RunDue catches up.
func Resume(ctx context.Context, tx pgx.Tx, orgID, id int64, now time.Time) (queries.RecurringInvoice, error) {
	q := queries.New(tx)
	t, err := q.LockRecurringInvoice(ctx, queries.LockRecurringInvoiceParams{OrgID: orgID, ID: id})
	if err != nil {
		return t, err
	}
	if t.Active {
		return t, nil
	}
	org, err := q.GetOrgForInvoicing(ctx, orgID)
	if err != nil {
		return t, err
	}
	last, err := q.LastRecurringInvoicePeriod(ctx, queries.LastRecurringInvoicePeriodParams{OrgID: orgID, TemplateID: id})
	if err != nil {
		return t, err
	}
	from := Today(now, org.TimeZone)
	if last.Valid && !last.Time.Before(from) {
		from = last.Time.AddDate(0, 0, 1)
	}
	next, ok := ScheduleOf(t).Next(from)
	return q.SetRecurringInvoiceActive(ctx, queries.SetRecurringInvoiceActiveParams{OrgID: orgID, ID: id, Active: true, NextPeriod: dateIf(next, ok)})
}

// dateIf is the next period a schedule gave (ok), or NULL when it has none.
func dateIf(t time.Time, ok bool) pgtype.Date {
	if !ok {
		return pgtype.Date{}
	}
	return calendar.Date(t)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

package recurring_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
)

func d(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func days(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format("2006-01-02")
	}
	return out
}

func TestPeriods(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		s        recurring.Schedule
		from, to string
		want     []string
	}{
		{"monthly on the 31st clamps to each month's end",
			recurring.Schedule{Frequency: recurring.Monthly, Day: 31, Start: d("2027-01-01")}, "2027-01-01", "2027-05-31",
			[]string{"2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"}},
		{"leap February",
			recurring.Schedule{Frequency: recurring.Monthly, Day: 30, Start: d("2028-01-15")}, "2028-01-01", "2028-03-31",
			[]string{"2028-01-30", "2028-02-29", "2028-03-30"}},
		{"monthly starting after the day begins next month",
			recurring.Schedule{Frequency: recurring.Monthly, Day: 5, Start: d("2027-01-10")}, "2027-01-01", "2027-03-31",
			[]string{"2027-02-05", "2027-03-05"}},
		{"weekly on Mondays",
			recurring.Schedule{Frequency: recurring.Weekly, Day: 1, Start: d("2026-12-02")}, "2026-12-01", "2026-12-31",
			[]string{"2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28"}},
		{"weekly starting on its day",
			recurring.Schedule{Frequency: recurring.Weekly, Day: 3, Start: d("2026-12-02")}, "2026-12-01", "2026-12-10",
			[]string{"2026-12-02", "2026-12-09"}},
		{"quarterly from the first period",
			recurring.Schedule{Frequency: recurring.Quarterly, Day: 1, Start: d("2027-02-15")}, "2027-01-01", "2028-01-01",
			[]string{"2027-03-01", "2027-06-01", "2027-09-01", "2027-12-01"}},
		{"yearly",
			recurring.Schedule{Frequency: recurring.Yearly, Day: 29, Start: d("2028-02-01")}, "2028-01-01", "2030-12-31",
			[]string{"2028-02-29", "2029-02-28", "2030-02-28"}},
		{"stops at the end",
			recurring.Schedule{Frequency: recurring.Monthly, Day: 1, Start: d("2027-01-01"), End: d("2027-03-15")}, "2027-01-01", "2027-12-31",
			[]string{"2027-01-01", "2027-02-01", "2027-03-01"}},
		{"from within the series",
			recurring.Schedule{Frequency: recurring.Monthly, Day: 10, Start: d("2027-01-01")}, "2027-03-11", "2027-05-10",
			[]string{"2027-04-10", "2027-05-10"}},
		{"weekly far from its start",
			recurring.Schedule{Frequency: recurring.Weekly, Day: 5, Start: d("2020-01-01")}, "2026-12-01", "2026-12-12",
			[]string{"2026-12-04", "2026-12-11"}},
		{"invalid day gives nothing",
			recurring.Schedule{Frequency: recurring.Weekly, Day: 8, Start: d("2027-01-01")}, "2027-01-01", "2027-12-31", nil},
	}
	for _, c := range cases {
		got := days(recurring.Periods(c.s, d(c.from), d(c.to)))
		if fmt.Sprint(got) != fmt.Sprint(c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// world is an org ready to invoice with a customer and the 21 % rate.
type world struct {
	env      *apptest.Env
	org      queries.Org
	user     queries.User
	customer int64
	rate     int64
}

func newWorld(t testing.TB) *world {
	t.Helper()
	env := apptest.New(t)
	org := env.Org("Recurrente S.L.")
	env.Exec(`UPDATE orgs SET tax_id = 'B12345674', address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID)
	w := &world{env: env, org: org, user: env.User(org, "admin@recurrente.test", web.RoleAdmin)}
	w.customer = w.newCustomer(t, "Ferretería Ebro S.L.", "B87654321")
	if err := env.DB.QueryRow(context.Background(), `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21 ORDER BY id LIMIT 1`).Scan(&w.rate); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) newCustomer(t testing.TB, name, taxID string) int64 {
	t.Helper()
	ctx := context.Background()
	owner := w.user.ID
	cu, err := w.env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.org.ID, LegalName: name, Country: "ES", OwnerID: &owner, Tags: []string{}, TaxID: taxID})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.Q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{OrgID: w.org.ID, CustomerID: cu.ID, Kind: "billing",
		Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: "ES"}); err != nil {
		t.Fatal(err)
	}
	return cu.ID
}

func (w *world) input(customer int64, freq string, day int, start time.Time, now time.Time) recurring.TemplateInput {
	return recurring.TemplateInput{OrgID: w.org.ID, CustomerID: customer, Name: "Mantenimiento", Frequency: freq, Day: day, Start: start,
		Mode: recurring.ModeIssue, By: &w.user.ID, Now: now,
		Lines: []invoices.LineInput{{Description: "Cuota de mantenimiento", Unit: "servicio", Quantity: decimal.NewFromInt(1), UnitPrice: 120_00, TaxRateID: w.rate}}}
}

func (w *world) create(t *testing.T, in recurring.TemplateInput) queries.RecurringInvoice {
	t.Helper()
	var tpl queries.RecurringInvoice
	if err := live.BeginFunc(context.Background(), w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		tpl, err = recurring.Create(ctx, tx, in)
		return err
	}); err != nil {
		t.Fatalf("create: %v", err)
	}
	return tpl
}

func problems(err error) map[string]string {
	var bad invoices.Invalid
	if !errors.As(err, &bad) {
		return nil
	}
	out := map[string]string{}
	for f, p := range bad {
		out[f] = p.ID
	}
	return out
}

func madridToday() time.Time { return recurring.Today(time.Now(), "Europe/Madrid") }

func TestTemplateBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	today := madridToday()
	noTax := w.newCustomer(t, "Sin NIF S.L.", "")
	cases := []struct {
		name  string
		edit  func(*recurring.TemplateInput)
		field string
		id    string
	}{
		{"end before start", func(in *recurring.TemplateInput) { in.End = in.Start.AddDate(0, 0, -1) }, "end", "recurring.end_before_start"},
		{"no period before the end", func(in *recurring.TemplateInput) { in.Day = 28; in.End = in.Start }, "end", "recurring.no_period"},
		{"day of month out of range", func(in *recurring.TemplateInput) { in.Day = 32 }, "day", "recurring.day_range"},
		{"weekday out of range", func(in *recurring.TemplateInput) { in.Frequency = recurring.Weekly; in.Day = 0 }, "day", "recurring.weekday_range"},
		{"unknown frequency", func(in *recurring.TemplateInput) { in.Frequency = "daily" }, "frequency", "validation.choice"},
		{"unknown mode", func(in *recurring.TemplateInput) { in.Mode = "fax" }, "mode", "validation.choice"},
		{"no lines", func(in *recurring.TemplateInput) { in.Lines = nil }, "lines", "invoices.no_lines"},
		{"no name", func(in *recurring.TemplateInput) { in.Name = "  " }, "name", "recurring.name_required"},
		{"start in the past", func(in *recurring.TemplateInput) { in.Start = today.AddDate(0, 0, -1) }, "start", "recurring.start_past"},
		{"no start", func(in *recurring.TemplateInput) { in.Start = time.Time{} }, "start", "recurring.start_required"},
		{"weekly without a start names only the start", func(in *recurring.TemplateInput) {
			in.Frequency, in.Day, in.Start = recurring.Weekly, 3, time.Time{}
		}, "day", ""},
		{"customer without tax id for F1", func(in *recurring.TemplateInput) { in.CustomerID = noTax }, "customer_id", "invoices.customer_tax_id_required"},
		{"customer of nobody", func(in *recurring.TemplateInput) { in.CustomerID = 999999 }, "customer_id", "invoices.customer_required"},
		{"line without description", func(in *recurring.TemplateInput) { in.Lines[0].Description = "" }, "lines.0.description", "quotes.description_required"},
		{"line with an unknown rate", func(in *recurring.TemplateInput) { in.Lines[0].TaxRateID = 999999 }, "lines.0.tax_rate_id", "quotes.tax_rate_unknown"},
		{"negative quantity", func(in *recurring.TemplateInput) { in.Lines[0].Quantity = decimal.NewFromInt(-1) }, "lines.0.quantity", "quotes.quantity_invalid"},
	}
	for _, c := range cases {
		in := w.input(w.customer, recurring.Monthly, 1, today.AddDate(0, 0, 1), time.Now())
		c.edit(&in)
		err := live.BeginFunc(context.Background(), w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
			_, err := recurring.Create(ctx, tx, in)
			return err
		})
		if got := problems(err)[c.field]; got != c.id {
			t.Errorf("%s: %s = %q (%v), want %q", c.name, c.field, got, err, c.id)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM recurring_invoices WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Errorf("%d templates stored from bad input", n)
	}
	// The check issued nothing: no invoice, number or record survives it.
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Errorf("%d invoices left by checking templates", n)
	}
	w.create(t, w.input(w.customer, recurring.Monthly, 1, today, time.Now()))
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, w.org.ID) + w.env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1`, w.org.ID) +
		w.env.Count(`SELECT count(*) FROM number_series WHERE org_id = $1 AND last_number > 0`, w.org.ID); n != 0 {
		t.Errorf("creating a template left %d invoices, records and numbers", n)
	}
	// Nor an event of an invoice that never was.
	if n := w.env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = 'invoice'`, w.org.ID); n != 0 {
		t.Errorf("checking templates announced %d invoice events", n)
	}
}

type issued struct {
	Period, IssueDate, OpDate string
	Number                    int32
}

func (w *world) runs(t *testing.T, tpl int64) []issued {
	t.Helper()
	rows, err := w.env.DB.Query(context.Background(), `
		SELECT r.period_start::text, i.issue_date::text, coalesce(i.operation_date::text, ''), i.number
		FROM recurring_invoice_runs r JOIN invoices i ON i.org_id = r.org_id AND i.id = r.invoice_id
		WHERE r.org_id = $1 AND r.template_id = $2 ORDER BY r.period_start`, w.org.ID, tpl)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[issued])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunDueAfterDaysDown: a worker that was down for weeks issues every
// missed period once, oldest first, each dated its period, and a second run
// issues nothing.
func TestRunDueAfterDaysDown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := time.Now()
	start := madridToday().AddDate(0, 0, -40)
	weekly := w.create(t, w.input(w.customer, recurring.Weekly, int(start.Weekday()+6)%7+1, start, now.AddDate(0, 0, -40)))
	monthly := w.create(t, w.input(w.customer, recurring.Monthly, start.Day(), start, now.AddDate(0, 0, -40)))

	rep, err := recurring.RunDue(ctx, w.env.DB, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	wantWeekly := recurring.Periods(recurring.ScheduleOf(weekly), start, madridToday())
	wantMonthly := recurring.Periods(recurring.ScheduleOf(monthly), start, madridToday())
	if rep.Issued != len(wantWeekly)+len(wantMonthly) || rep.Refused != 0 {
		t.Fatalf("report %+v, want %d issued", rep, len(wantWeekly)+len(wantMonthly))
	}
	for _, c := range []struct {
		tpl  int64
		want []time.Time
	}{{weekly.ID, wantWeekly}, {monthly.ID, wantMonthly}} {
		got := w.runs(t, c.tpl)
		if len(got) != len(c.want) {
			t.Fatalf("template %d: %d periods issued, want %d", c.tpl, len(got), len(c.want))
		}
		for i, p := range c.want {
			if got[i].Period != p.Format("2006-01-02") || got[i].IssueDate != got[i].Period || got[i].OpDate != "" {
				t.Errorf("template %d period %d: %+v, want dated %s", c.tpl, i, got[i], p.Format("2006-01-02"))
			}
		}
	}
	// Across templates the series goes in date order: numbers follow dates.
	var backwards int
	if err := w.env.DB.QueryRow(ctx, `SELECT count(*) FROM invoices a JOIN invoices b ON b.org_id = a.org_id AND b.series = a.series
		AND b.year = a.year AND b.number > a.number AND b.issue_date < a.issue_date WHERE a.org_id = $1`, w.org.ID).Scan(&backwards); err != nil {
		t.Fatal(err)
	}
	if backwards != 0 {
		t.Errorf("%d pairs of invoices whose dates go backwards in the series", backwards)
	}
	if n := w.env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = 'invoice' AND kind = 'issued'`, w.org.ID); n != rep.Issued {
		t.Errorf("%d issued events, want %d", n, rep.Issued)
	}
	again, err := recurring.RunDue(ctx, w.env.DB, nil, now)
	if err != nil || again.Issued != 0 {
		t.Errorf("second run: %+v %v, want nothing issued", again, err)
	}
	tpl, err := w.env.Q.GetRecurringInvoice(ctx, queries.GetRecurringInvoiceParams{OrgID: w.org.ID, ID: weekly.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !tpl.NextPeriod.Time.After(madridToday()) {
		t.Errorf("next period %s, want after today", tpl.NextPeriod.Time)
	}
}

// TestRunDueAfterALaterInvoice: the decision for a missed period whose date
// precedes an invoice issued since in the same series. Dates may not go
// backwards in a series, so the period's invoice is issued on the series'
// last date with its period as the date of the operation.
func TestRunDueAfterALaterInvoice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := time.Now()
	today := madridToday()
	start := today.AddDate(0, 0, -3)
	tpl := w.create(t, w.input(w.customer, recurring.Monthly, start.Day(), start, now.AddDate(0, 0, -3)))
	var hand queries.Invoice
	if err := live.BeginFunc(ctx, w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		dr, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Ordinary, CustomerID: &w.customer, Now: now,
			Lines: []invoices.LineInput{{Description: "A mano", Quantity: decimal.NewFromInt(1), UnitPrice: 10_00, TaxRateID: w.rate}}})
		if err != nil {
			return err
		}
		hand, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.org.ID, InvoiceID: dr.ID, Locale: "es", IssueDate: today.AddDate(0, 0, -1), Now: now})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rep, err := recurring.RunDue(ctx, w.env.DB, &w.org.ID, now); err != nil || rep.Issued != 1 {
		t.Fatalf("run: %+v %v", rep, err)
	}
	got := w.runs(t, tpl.ID)
	want := issued{Period: start.Format("2006-01-02"), IssueDate: today.AddDate(0, 0, -1).Format("2006-01-02"),
		OpDate: start.Format("2006-01-02"), Number: *hand.Number + 1}
	if len(got) != 1 || got[0] != want {
		t.Errorf("issued %+v, want %+v", got, want)
	}
}

// TestRunDueRefusalWaits: a period that cannot be issued (the customer lost
// its tax id) is not skipped: the template shows why and its periods wait,
// in order, while other templates go on.
func TestRunDueRefusalWaits(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := time.Now()
	start := madridToday().AddDate(0, 0, -14)
	other := w.newCustomer(t, "Otro Cliente S.L.", "B11111111")
	bad := w.create(t, w.input(w.customer, recurring.Weekly, int(start.Weekday()+6)%7+1, start, now.AddDate(0, 0, -14)))
	good := w.create(t, w.input(other, recurring.Weekly, int(start.Weekday()+6)%7+1, start, now.AddDate(0, 0, -14)))
	w.env.Exec(`UPDATE customers SET tax_id = '' WHERE org_id = $1 AND id = $2`, w.org.ID, w.customer)

	rep, err := recurring.RunDue(ctx, w.env.DB, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Refused != 1 || rep.Issued != 3 {
		t.Errorf("report %+v, want 3 issued and 1 refused", rep)
	}
	if n := len(w.runs(t, bad.ID)); n != 0 {
		t.Errorf("%d periods of the refused template issued", n)
	}
	if n := len(w.runs(t, good.ID)); n != 3 {
		t.Errorf("%d periods of the good template issued, want 3", n)
	}
	tpl, err := w.env.Q.GetRecurringInvoice(ctx, queries.GetRecurringInvoiceParams{OrgID: w.org.ID, ID: bad.ID})
	if err != nil {
		t.Fatal(err)
	}
	if tpl.LastError != "invoices.customer_tax_id_required" || !tpl.NextPeriod.Time.Equal(start) {
		t.Errorf("template error %q next %s, want the tax id message and the first period waiting", tpl.LastError, tpl.NextPeriod.Time)
	}
	// Fixed: every waiting period goes out, in order.
	w.env.Exec(`UPDATE customers SET tax_id = 'B87654321' WHERE org_id = $1 AND id = $2`, w.org.ID, w.customer)
	if rep, err := recurring.RunDue(ctx, w.env.DB, nil, now); err != nil || rep.Issued != 3 {
		t.Errorf("after the fix: %+v %v, want 3 issued", rep, err)
	}
}

// TestRunDueConcurrent: runs racing on one database issue each period once.
func TestRunDueConcurrent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	now := time.Now()
	start := madridToday().AddDate(0, 0, -21)
	var tpls []queries.RecurringInvoice
	for i := range 3 {
		tpls = append(tpls, w.create(t, w.input(w.customer, recurring.Weekly, (int(start.Weekday())+5+i)%7+1, start, now.AddDate(0, 0, -21))))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := recurring.RunDue(context.Background(), w.env.DB, nil, now)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, tpl := range tpls {
		want := len(recurring.Periods(recurring.ScheduleOf(tpl), start, madridToday()))
		if got := len(w.runs(t, tpl.ID)); got != want {
			t.Errorf("template %d: %d periods, want %d", tpl.ID, got, want)
		}
		total += want
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, w.org.ID); n != total {
		t.Errorf("%d invoices, want %d (one per period)", n, total)
	}
	if n := w.env.Count(`SELECT max(number) - min(number) + 1 - count(*) FROM invoices WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Errorf("numbers have %d gaps", n)
	}
}

// TestPauseResume: a paused template issues nothing; resumed, it goes on
// from today without the periods that fell while paused.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := time.Now()
	start := madridToday().AddDate(0, 0, -14)
	tpl := w.create(t, w.input(w.customer, recurring.Weekly, int(start.Weekday()+6)%7+1, start, now.AddDate(0, 0, -14)))
	tx := func(fn func(ctx context.Context, tx pgx.Tx) error) {
		t.Helper()
		if err := live.BeginFunc(ctx, w.env.DB, fn); err != nil {
			t.Fatal(err)
		}
	}
	tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := recurring.Pause(ctx, tx, w.org.ID, tpl.ID)
		return err
	})
	if rep, _ := recurring.RunDue(ctx, w.env.DB, nil, now); rep.Issued != 0 {
		t.Errorf("paused template issued %d", rep.Issued)
	}
	tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := recurring.Resume(ctx, tx, w.org.ID, tpl.ID, now)
		return err
	})
	rep, err := recurring.RunDue(ctx, w.env.DB, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	// Only today's period, if today is the template's weekday.
	if want := len(recurring.Periods(recurring.ScheduleOf(tpl), madridToday(), madridToday())); rep.Issued != want {
		t.Errorf("resumed template issued %d, want %d", rep.Issued, want)
	}
}

// TestEditNeverBackDates: saving a template recomputes its next period
// under the new schedule, but never issues a period the old one did not
// owe dated before today (a weekday moved to one already past this week,
// an end date removed, the weeks of a pause); periods it did owe, missed
// while no worker ran, stay owed.
func TestEditNeverBackDates(t *testing.T) {
	t.Parallel()
	now := time.Now()
	today := madridToday()
	start := today.AddDate(0, 0, -24) // weekly: -24, -17, -10, -3, then +4
	weekday := func(d time.Time) int { return int(d.Weekday()+6)%7 + 1 }
	cases := []struct {
		name string
		// before makes the template's history; it returns the template.
		before func(t *testing.T, w *world) (queries.RecurringInvoice, recurring.TemplateInput)
		edit   func(in *recurring.TemplateInput)
		issued int       // periods invoiced by the run after the edit
		next   time.Time // the next period after that run
	}{
		{"weekday moved to yesterday's", func(t *testing.T, w *world) (queries.RecurringInvoice, recurring.TemplateInput) {
			in := w.input(w.customer, recurring.Weekly, weekday(start), start, now.AddDate(0, 0, -24))
			tpl := w.create(t, in)
			w.runDue(t, now, 4)
			return tpl, in
		}, func(in *recurring.TemplateInput) { in.Day = weekday(today.AddDate(0, 0, -1)) }, 0, today.AddDate(0, 0, 6)},
		{"end date removed", func(t *testing.T, w *world) (queries.RecurringInvoice, recurring.TemplateInput) {
			in := w.input(w.customer, recurring.Weekly, weekday(start), start, now.AddDate(0, 0, -24))
			in.End = start.AddDate(0, 0, 8)
			tpl := w.create(t, in)
			w.runDue(t, now, 2)
			return tpl, in
		}, func(in *recurring.TemplateInput) { in.End = time.Time{} }, 0, today.AddDate(0, 0, 4)},
		{"paused, resumed, then renamed", func(t *testing.T, w *world) (queries.RecurringInvoice, recurring.TemplateInput) {
			in := w.input(w.customer, recurring.Weekly, weekday(start), start, now.AddDate(0, 0, -24))
			tpl := w.create(t, in)
			w.runDue(t, now.AddDate(0, 0, -15), 2)
			w.tx(t, func(ctx context.Context, tx pgx.Tx) error {
				if _, err := recurring.Pause(ctx, tx, w.org.ID, tpl.ID); err != nil {
					return err
				}
				_, err := recurring.Resume(ctx, tx, w.org.ID, tpl.ID, now)
				return err
			})
			return tpl, in
		}, func(in *recurring.TemplateInput) { in.Name = "Mantenimiento mensual" }, 0, today.AddDate(0, 0, 4)},
		{"missed while no worker ran, then renamed", func(t *testing.T, w *world) (queries.RecurringInvoice, recurring.TemplateInput) {
			in := w.input(w.customer, recurring.Weekly, weekday(start), start, now.AddDate(0, 0, -24))
			return w.create(t, in), in
		}, func(in *recurring.TemplateInput) { in.Name = "Mantenimiento mensual" }, 4, today.AddDate(0, 0, 4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			tpl, in := c.before(t, w)
			c.edit(&in)
			in.Now = now
			w.tx(t, func(ctx context.Context, tx pgx.Tx) error {
				_, err := recurring.Update(ctx, tx, tpl.ID, in)
				return err
			})
			before := len(w.runs(t, tpl.ID))
			w.runDue(t, now, c.issued)
			// What was owed is issued as it was: its own dates, in order.
			for i, r := range w.runs(t, tpl.ID)[before:] {
				if want := start.AddDate(0, 0, 7*i).Format("2006-01-02"); r.Period != want || r.IssueDate != want {
					t.Errorf("period %d issued after the edit: %+v, want %s", i, r, want)
				}
			}
			got, err := w.env.Q.GetRecurringInvoice(context.Background(), queries.GetRecurringInvoiceParams{OrgID: w.org.ID, ID: tpl.ID})
			if err != nil {
				t.Fatal(err)
			}
			if !got.NextPeriod.Valid || !got.NextPeriod.Time.Equal(c.next) {
				t.Errorf("next period %v, want %s", got.NextPeriod, c.next.Format("2006-01-02"))
			}
		})
	}
}

// runDue runs the org's due periods at now and expects want invoices.
func (w *world) runDue(t *testing.T, now time.Time, want int) {
	t.Helper()
	rep, err := recurring.RunDue(context.Background(), w.env.DB, nil, now)
	if err != nil || rep.Issued != want || rep.Refused != 0 {
		t.Fatalf("run at %s: %+v %v, want %d issued", now.Format("2006-01-02"), rep, err, want)
	}
}

// FuzzPeriods: whatever the schedule, periods come in strictly increasing
// order, within start and end and the range asked, on the template's day
// (or the month's last day when it is shorter), and Next finds each of them.
func FuzzPeriods(f *testing.F) {
	f.Add(0, 31, int64(0), int64(400), int64(0), int64(90))
	f.Add(1, 3, int64(10), int64(0), int64(-30), int64(60))
	f.Add(2, 29, int64(59), int64(800), int64(100), int64(500))
	f.Add(3, 1, int64(365), int64(2000), int64(0), int64(1500))
	f.Fuzz(func(t *testing.T, freq, day int, startOff, endOff, fromOff, span int64) {
		freqs := []string{recurring.Monthly, recurring.Weekly, recurring.Quarterly, recurring.Yearly}
		base := d("2026-01-01")
		s := recurring.Schedule{Frequency: freqs[((freq%4)+4)%4], Day: day, Start: base.AddDate(0, 0, int(startOff%3000))}
		if endOff > 0 {
			s.End = s.Start.AddDate(0, 0, int(endOff%3000))
		}
		from := base.AddDate(0, 0, int(fromOff%3000))
		to := from.AddDate(0, 0, int((span%800+800)%800))
		ps := recurring.Periods(s, from, to)
		for i, p := range ps {
			if p.Before(from) || p.After(to) || p.Before(s.Start) || (!s.End.IsZero() && p.After(s.End)) {
				t.Fatalf("%+v: period %s outside [%s, %s]", s, p, from, to)
			}
			if i > 0 && !p.After(ps[i-1]) {
				t.Fatalf("%+v: %s after %s", s, p, ps[i-1])
			}
			if s.Frequency == recurring.Weekly {
				if wd := (int(p.Weekday())+6)%7 + 1; wd != day {
					t.Fatalf("%+v: %s is weekday %d", s, p, wd)
				}
			} else if last := p.AddDate(0, 0, 1).Day() == 1; p.Day() != day && !(last && p.Day() < day) {
				t.Fatalf("%+v: %s is not on day %d", s, p, day)
			}
			if n, ok := s.Next(p); !ok || !n.Equal(p) {
				t.Fatalf("%+v: Next(%s) = %s %v", s, p, n, ok)
			}
		}
	})
}

// A period refused with a message that names things (the plan's limit)
// keeps them: the template's page reads "los 1 comprobantes del plan
// Tope", not "<no value>".
func TestRefusalKeepsItsMessageData(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	now := time.Now()
	today := madridToday()
	tpl := w.create(t, w.input(w.customer, recurring.Weekly, int(today.Weekday()+6)%7+1, today, now))
	// A plan of one voucher a month that blocks, and the voucher used.
	var plan int64
	if err := w.env.DB.QueryRow(ctx, `INSERT INTO plans (code, name, vouchers, store_users, at_limit, rank)
		VALUES ('tope', 'Tope', 1, 0, 'block', 90) RETURNING id`).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	w.env.Exec(`INSERT INTO plan_prices (plan_id, currency, monthly, overage) VALUES ($1, 'EUR', 900, 10)`, plan)
	w.env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end)
		VALUES ($1, $2, 'monthly', 'EUR', date_trunc('month', now())::date, (date_trunc('month', now()) + interval '1 month')::date)`, w.org.ID, plan)
	if err := live.BeginFunc(ctx, w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.DraftAndIssue(ctx, tx, invoices.DraftInput{OrgID: w.org.ID, Kind: invoices.Ordinary, CustomerID: &w.customer,
			Lines: w.input(w.customer, recurring.Weekly, 1, today, now).Lines, By: &w.user.ID, Now: now},
			invoices.IssueInput{OrgID: w.org.ID, Locale: "es", Now: now})
		return err
	}); err != nil {
		t.Fatal(err)
	}

	if rep, err := recurring.RunDue(ctx, w.env.DB, nil, now); err != nil || rep.Refused != 1 {
		t.Fatalf("run: %+v %v, want the period refused", rep, err)
	}
	got, err := w.env.Q.GetRecurringInvoice(ctx, queries.GetRecurringInvoiceParams{OrgID: w.org.ID, ID: tpl.ID})
	if err != nil {
		t.Fatal(err)
	}
	data, err := i18n.Data(got.LastErrorParams)
	if err != nil || got.LastError != "invoices.plan_limit" {
		t.Fatalf("refusal %q %s (%v)", got.LastError, got.LastErrorParams, err)
	}
	if text := i18n.In("es", got.LastError, data); !strings.Contains(text, "los 1 comprobantes del plan Tope") {
		t.Errorf("the refusal reads %q", text)
	}
}

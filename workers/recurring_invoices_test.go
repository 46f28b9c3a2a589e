package workers_test

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/verifactu"
	"pulso/queries"
	"pulso/workers"
	"pulso/workers/jobargs"
)

// billing is an org ready to invoice, with recurring templates that started
// weeks ago: as if no worker had run since.
type billing struct {
	pool      *pgxpool.Pool
	org       queries.Org
	templates []queries.RecurringInvoice
	periods   map[int64][]time.Time // template → its periods up to today
}

func newBilling(t *testing.T, templates int, daysDown int) *billing {
	t.Helper()
	ctx := context.Background()
	pool := apptest.NewDB(t)
	q := queries.New(pool)
	org, err := q.CreateOrg(ctx, queries.CreateOrgParams{Name: "Cuotas S.L.", Country: "ES", Currency: "EUR", TimeZone: "Europe/Madrid",
		TaxID: "B12345674"})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.SetOrgInvoicing(ctx, queries.SetOrgInvoicingParams{ID: org.ID, Address: "Calle Mayor 1, 28013 Madrid"}); err != nil {
		t.Fatal(err)
	}
	user, err := q.CreateUser(ctx, queries.CreateUserParams{OrgID: org.ID, Email: "billing@cuotas.test", Name: "Billing", Role: "accountant", Locale: "es", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	cu, err := q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: org.ID, LegalName: "Ferretería Ebro S.L.", Country: "ES", Tags: []string{}, TaxID: "B87654321",
		Email: "cuentas@ferreteria-ebro.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{OrgID: org.ID, CustomerID: cu.ID, Kind: "billing",
		Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: "ES"}); err != nil {
		t.Fatal(err)
	}
	var rate int64
	if err := pool.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21 ORDER BY id LIMIT 1`).Scan(&rate); err != nil {
		t.Fatal(err)
	}
	b := &billing{pool: pool, org: org, periods: map[int64][]time.Time{}}
	then := time.Now().AddDate(0, 0, -daysDown)
	start := recurring.Today(then, org.TimeZone)
	today := recurring.Today(time.Now(), org.TimeZone)
	for i := range templates {
		in := recurring.TemplateInput{OrgID: org.ID, CustomerID: cu.ID, Name: "Cuota", Frequency: recurring.Weekly, Day: i%7 + 1, Start: start,
			Mode: recurring.ModeIssueAndSend, By: &user.ID, Now: then,
			Lines: []invoices.LineInput{{Description: "Cuota semanal", Quantity: decimal.NewFromInt(1), UnitPrice: int64(100_00 + i), TaxRateID: rate}}}
		if err := live.BeginFunc(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
			tpl, err := recurring.Create(ctx, tx, in)
			b.templates = append(b.templates, tpl)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		tpl := b.templates[i]
		b.periods[tpl.ID] = recurring.Periods(recurring.ScheduleOf(tpl), start, today)
	}
	return b
}

func (b *billing) expected() int {
	n := 0
	for _, ps := range b.periods {
		n += len(ps)
	}
	return n
}

func (b *billing) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertExactlyOnce: one issued invoice per template and period, dated its
// period, numbers without gaps, dates never backwards, nothing left over
// from killed attempts, and an unbroken VERI*FACTU chain.
func (b *billing) assertExactlyOnce(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, tpl := range b.templates {
		rows, err := b.pool.Query(ctx, `SELECT r.period_start, i.issue_date, r.send FROM recurring_invoice_runs r
			JOIN invoices i ON i.org_id = r.org_id AND i.id = r.invoice_id AND i.state = 'issued'
			WHERE r.org_id = $1 AND r.template_id = $2 ORDER BY r.period_start`, b.org.ID, tpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []time.Time
		for rows.Next() {
			var p, issued time.Time
			var send bool
			if err := rows.Scan(&p, &issued, &send); err != nil {
				t.Fatal(err)
			}
			if !issued.Equal(p) || !send {
				t.Errorf("template %d period %s: issued %s, send %v; want dated its period and the send asked for", tpl.ID, p, issued, send)
			}
			got = append(got, p)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		want := b.periods[tpl.ID]
		if len(got) != len(want) {
			t.Fatalf("template %d: %d periods issued, want %d", tpl.ID, len(got), len(want))
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("template %d: period %d is %s, want %s", tpl.ID, i, got[i], want[i])
			}
		}
	}
	total := b.expected()
	if n := b.count(t, `SELECT count(*) FROM invoices WHERE org_id = $1`, b.org.ID); n != total {
		t.Errorf("%d invoices (drafts included), want %d: one per period", n, total)
	}
	if n := b.count(t, `SELECT count(*) FROM invoices WHERE org_id = $1 AND number BETWEEN 1 AND $2`, b.org.ID, total); n != total {
		t.Errorf("numbers 1–%d: %d taken, want all (gapless)", total, n)
	}
	if n := b.count(t, `SELECT count(*) FROM invoices a JOIN invoices c ON c.org_id = a.org_id AND c.series = a.series AND c.year = a.year
		AND c.number > a.number AND c.issue_date < a.issue_date WHERE a.org_id = $1`, b.org.ID); n != 0 {
		t.Errorf("%d pairs of invoices whose dates go backwards", n)
	}
	if n := b.count(t, `SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = 'invoice' AND kind = 'issued'`, b.org.ID); n != total {
		t.Errorf("%d issued events, want %d", n, total)
	}
	// The templates issue and send: each invoice sent once, its e-mail queued once.
	if n := b.count(t, `SELECT count(*) FROM invoice_sends WHERE org_id = $1 AND state = 'sent'`, b.org.ID); n != total {
		t.Errorf("%d sends, want %d: one per invoice", n, total)
	}
	if n := b.count(t, `SELECT count(DISTINCT s.invoice_id) FROM invoice_sends s JOIN emails e ON e.org_id = s.org_id AND e.id = s.email_id
		WHERE s.org_id = $1 AND e.to_address = 'cuentas@ferreteria-ebro.test'`, b.org.ID); n != total {
		t.Errorf("%d invoices e-mailed to the customer, want %d", n, total)
	}
	rs, err := queries.New(b.pool).ListVerifactuRecords(ctx, queries.ListVerifactuRecordsParams{OrgID: b.org.ID, IssuerNif: "B12345674"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != total {
		t.Fatalf("%d VERI*FACTU records, want %d", len(rs), total)
	}
	var st []verifactu.Stored
	for i, r := range rs {
		if r.Seq != int64(i+1) {
			t.Fatalf("record %d at position %d: a gap", i+1, r.Seq)
		}
		s, err := verifactu.ParseRecord(r.Xml)
		if err != nil {
			t.Fatal(err)
		}
		st = append(st, s)
	}
	if err := verifactu.VerifyChain(st, nil); err != nil {
		t.Fatal(err)
	}
}

// TestRecurringInvoicesTwoWorkers: two River clients (two `pulso work`
// processes in all but the process) work overlapping runs on one database;
// each period is issued once.
func TestRecurringInvoicesTwoWorkers(t *testing.T) {
	t.Parallel()
	b := newBilling(t, 4, 30)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	var clients []*river.Client[pgx.Tx]
	for _, id := range []string{"worker-a", "worker-b"} {
		cfg := workers.ClientConfig(b.pool, log, workers.Options{Work: true, DefaultWorkers: 4, Links: linktoken.New([]byte("recurring-invoices-test-secret-of-32+-bytes"))})
		cfg.ID = id
		cfg.PeriodicJobs = nil // the runs below are the test's
		c, err := river.NewClient(riverpgxv5.New(b.pool), cfg)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	// Runs that overlap: one per past minute (the job is unique per minute
	// of its schedule), all available at once.
	var ids []int64
	now := time.Now()
	for i := range 8 {
		at := now.Add(-time.Duration(i) * time.Minute)
		res, err := clients[0].Insert(ctx, jobargs.RecurringInvoices{}, &river.InsertOpts{ScheduledAt: at})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Job.ID)
	}
	for _, c := range clients {
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Stop(sctx)
		})
	}
	by := map[string]bool{}
	for _, id := range ids {
		j := waitFinal(t, clients[0], id, 60*time.Second)
		if j.State != rivertype.JobStateCompleted {
			t.Fatalf("job %d ended %s: %+v", id, j.State, j.Errors)
		}
		for _, a := range j.AttemptedBy {
			by[a] = true
		}
	}
	t.Logf("runs worked by %v", by)
	b.assertExactlyOnce(t)
}

// TestRecurringInvoicesKilledWorker: a `pulso work` process is killed with
// SIGKILL in the middle of a run that catches up weeks of periods, holding
// a period's transaction open (its number taken, its record written, its
// run row waiting on a lock the test holds). The periods committed before
// stay, the killed one leaves nothing, and a new process finishes the run:
// every period once, in order, with its date, numbers gapless and the chain
// unbroken.
func TestRecurringInvoicesKilledWorker(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	t.Parallel()
	bin := buildPulso(t)
	b := newBilling(t, 1, 35)
	ctx := context.Background()
	tpl := b.templates[0]
	periods := b.periods[tpl.ID]
	if len(periods) < 4 {
		t.Fatalf("only %d periods; the test needs a backlog", len(periods))
	}
	jobs, err := workers.NewClient(b.pool, slog.New(slog.DiscardHandler), workers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := &killWorld{bin: bin, pool: b.pool, jobs: jobs}

	// Hold the third period's run key in an open transaction: the worker
	// issues the first two, then waits there with the third invoice issued
	// but not committed.
	hold, err := b.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(ctx) }()
	var placeholder int64
	if err := hold.QueryRow(ctx, `INSERT INTO invoices (org_id, customer_id, kind, fiscal_type, state, series, currency, total)
		VALUES ($1, $2, 'ordinary', 'F1', 'draft', 'F', 'EUR', 0) RETURNING id`, b.org.ID, tpl.CustomerID).Scan(&placeholder); err != nil {
		t.Fatal(err)
	}
	if err := queries.New(hold).InsertRecurringInvoiceRun(ctx, queries.InsertRecurringInvoiceRunParams{OrgID: b.org.ID, TemplateID: tpl.ID,
		PeriodStart: pgDate(periods[2]), InvoiceID: placeholder}); err != nil {
		t.Fatal(err)
	}

	first := k.start(t, "first")
	pid := backendPID(t, hold)
	deadline := time.Now().Add(30 * time.Second)
	for k.blockedBy(t, pid) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker never reached the third period")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var jobID int64
	if err := b.pool.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'recurring_invoices' AND state = 'running'`).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	if n := b.count(t, `SELECT count(*) FROM recurring_invoice_runs WHERE org_id = $1`, b.org.ID); n != 2 {
		t.Fatalf("%d periods committed before the kill, want 2", n)
	}
	first.kill(t)
	if j := k.job(t, jobID); j.State != rivertype.JobStateRunning {
		t.Fatalf("after the kill the job is %s, want still running", j.State)
	}
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	k.start(t, "second")
	// The killed job is rescued and retried (or a newer run finishes the
	// work first and the retry finds nothing due); either way it completes.
	j := waitFinal(t, jobs, jobID, 60*time.Second)
	if j.State != rivertype.JobStateCompleted || j.Attempt != 2 || len(j.AttemptedBy) != 2 || j.AttemptedBy[0] == j.AttemptedBy[1] {
		t.Fatalf("killed job ended %s after attempt %d by %v, want completed by a second process: %+v", j.State, j.Attempt, j.AttemptedBy, j.Errors)
	}
	deadline = time.Now().Add(30 * time.Second)
	for b.count(t, `SELECT count(*) FROM recurring_invoice_runs WHERE org_id = $1`, b.org.ID) < len(periods) {
		if time.Now().After(deadline) {
			t.Fatal("the second worker did not finish the periods")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.assertExactlyOnce(t)
}

func waitFinal(t *testing.T, c *river.Client[pgx.Tx], id int64, within time.Duration) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j, err := c.JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.FinalizedAt != nil {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s after attempt %d: %+v", id, j.State, j.Attempt, j.Errors)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pgDate(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }

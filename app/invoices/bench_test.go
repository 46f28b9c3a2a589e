package invoices_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/printing"
	"pulso/app/web"
	"pulso/queries"
)

// benchIssuer is an org ready to invoice one customer at 21 %.
type benchIssuer struct {
	env            *apptest.Env
	org, user, cus int64
	rate           int64
	lines          []invoices.LineInput
}

func newBenchIssuer(b *testing.B, env *apptest.Env, name, nif string, lines int) *benchIssuer {
	b.Helper()
	ctx := context.Background()
	org := env.Org(name)
	env.Exec(`UPDATE orgs SET tax_id = $2, address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID, nif)
	u := env.User(org, fmt.Sprintf("admin@bench%d.test", org.ID), web.RoleAdmin)
	owner := u.ID
	cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: org.ID, LegalName: "Ferretería Ebro S.L.", Country: "ES",
		OwnerID: &owner, Tags: []string{}, TaxID: "B87654321"})
	if err != nil {
		b.Fatal(err)
	}
	if err := env.Q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{OrgID: org.ID, CustomerID: cu.ID, Kind: "billing",
		Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: "ES"}); err != nil {
		b.Fatal(err)
	}
	s := &benchIssuer{env: env, org: org.ID, user: u.ID, cus: cu.ID,
		rate: int64(env.Count(`SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`))}
	for i := range lines {
		s.lines = append(s.lines, invoices.LineInput{Description: fmt.Sprintf("Cuota de mantenimiento %d — servicio mensual", i+1), Unit: "servicio",
			Quantity: decimal.NewFromInt(int64(i%3 + 1)), UnitPrice: int64(4999 + 731*i), TaxRateID: s.rate})
	}
	return s
}

// issue drafts and issues one invoice in one transaction, as a recurring
// run does for each template: the lines, the next number of the series,
// the frozen parties and totals, the PDF with its QR, and the VERI*FACTU
// record chained to the previous one.
func (s *benchIssuer) issue(b *testing.B, now time.Time) {
	err := live.BeginFunc(context.Background(), s.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.DraftAndIssue(ctx, tx, invoices.DraftInput{OrgID: s.org, Kind: invoices.Ordinary, CustomerID: &s.cus,
			Lines: s.lines, By: &s.user, Now: now}, invoices.IssueInput{OrgID: s.org, UserID: &s.user, Locale: "es", Now: now})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

// insert is the baseline: the same invoice row and lines written in one
// transaction, with no number, no totals computed, no PDF and no record.
func (s *benchIssuer) insert(b *testing.B) {
	err := pgx.BeginFunc(context.Background(), s.env.DB, func(tx pgx.Tx) error {
		q := queries.New(tx)
		ctx := context.Background()
		inv, err := q.CreateInvoiceDraft(ctx, queries.CreateInvoiceDraftParams{OrgID: s.org, CustomerID: &s.cus, Kind: "ordinary",
			FiscalType: ptr("F1"), Series: ptr("F"), Currency: "EUR", TaxTreatment: []byte(`{"regime":"general"}`), CreatedBy: &s.user})
		if err != nil {
			return err
		}
		lines := make([]queries.InsertInvoiceLineParams, len(s.lines))
		for i, l := range s.lines {
			lines[i] = queries.InsertInvoiceLineParams{OrgID: s.org, InvoiceID: inv.ID, Position: int32(i + 1),
				Description: l.Description, Unit: l.Unit, Quantity: money.Numeric(l.Quantity), UnitPrice: l.UnitPrice,
				DiscountPct: money.Numeric(decimal.Zero), TaxRateID: l.TaxRateID, TaxRate: money.Numeric(decimal.NewFromInt(21)),
				Surcharge: money.Numeric(decimal.Zero), Withholding: money.Numeric(decimal.Zero), Amount: l.Quantity.IntPart() * l.UnitPrice}
		}
		// The lines go in one round trip, as drafting sends them.
		return invoices.InsertLines(ctx, q, lines)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchCount is how many invoices a phase issues: the issue's 10,000 unless
// PULSO_BENCH_INVOICES says otherwise (for a quick look).
func benchCount(def int) int {
	if n, err := strconv.Atoi(os.Getenv("PULSO_BENCH_INVOICES")); err == nil && n > 0 {
		return n
	}
	return def
}

func benchSummary(name, detail string, value, target float64, unit string) {
	verdict := "MISS"
	if value >= target {
		verdict = "PASS"
	}
	fmt.Printf("SUMMARY %-12s %s %.3f (target >= %.2f) %s — %s\n", name, unit, value, target, verdict, detail)
}

// BenchmarkInvoiceIssuing issues 10,000 three-line invoices of one org one
// after another, as a recurring run does (DraftAndIssue per invoice:
// numbering, frozen data, PDF with QR, VERI*FACTU record and chain), and in
// the same run inserts the same invoices and lines into another org with
// no number, PDF or record (the baseline). Target: issuing ≥ 0.3 of the
// baseline's rate.
func BenchmarkInvoiceIssuing(b *testing.B) {
	env := apptest.New(b)
	n := benchCount(10_000)
	history(b, env)
	issuer := newBenchIssuer(b, env, "Emisora S.L.", "B12345674", 3)
	base := newBenchIssuer(b, env, "Referencia S.L.", "B76543214", 3)
	now := time.Now()
	for range 20 { // warm up: caches, prepared statements, fonts
		issuer.issue(b, now)
		base.insert(b)
	}
	b.ResetTimer()
	for range b.N {
		// Both sides in alternating slices of 100, so a machine whose load
		// changes during the run weighs on both alike.
		var tb, ti time.Duration
		for done := 0; done < n; done += benchSlice {
			k := min(benchSlice, n-done)
			t0 := time.Now()
			for range k {
				base.insert(b)
			}
			tb += time.Since(t0)
			t0 = time.Now()
			for range k {
				issuer.issue(b, now)
			}
			ti += time.Since(t0)
		}
		issued, inserted := float64(n)/ti.Seconds(), float64(n)/tb.Seconds()
		b.ReportMetric(issued, "invoices/s")
		b.ReportMetric(inserted, "inserts/s")
		benchSummary("issuing", fmt.Sprintf("%d invoices of one org, 3 lines: %.0f issued/s (%.1f s) vs %.0f plain inserts/s (%.1f s)",
			n, issued, ti.Seconds(), inserted, tb.Seconds()), issued/inserted, 0.3, "ratio")
	}
}

// history gives the database what a running one has before a run: some
// thousands of invoices of another org and of live events, and statistics (autovacuum
// analyses a table within a minute of enough change). On a fresh database
// every invoice index costs the same to the planner, and the plan it keeps
// for a statement after its fifth run once looked an invoice up by id
// through invoices_customer_idx, reading more the more invoices there were
// (0.09 → 0.8 ms a lock over 10,000); statistics of a few rows are no
// better (they make scanning the table look cheapest). Call it before the
// first statement a bench times is prepared.
func history(b *testing.B, env *apptest.Env) {
	b.Helper()
	h := newBenchIssuer(b, env, "Historia S.L.", "B22222224", 3)
	for range 3000 {
		h.insert(b)
	}
	// The live hub polls live_events all along; on a table it takes for
	// empty it scans every event each time.
	env.Exec(`INSERT INTO live_events (org_id, topic, entity, entity_id, kind) SELECT $1, 'invoice', 'invoice', id, 'issued' FROM invoices WHERE org_id = $1`, h.org)
	env.Exec(`ANALYZE`)
}

// benchSlice is how many invoices each side does before the other's turn.
const benchSlice = 100

// BenchmarkInvoiceIssuingParallel: one org's issuing is serialised by its
// series and its record chain, but orgs do not wait for each other. It
// times one org issuing alone, then two orgs issuing at once (one issuer
// each), and prints the throughput ratio 2 orgs ÷ 1 org. Target ≥ 1.6 on
// two cores.
func BenchmarkInvoiceIssuingParallel(b *testing.B) {
	env := apptest.New(b)
	n := benchCount(10_000) / 5
	history(b, env)
	one := newBenchIssuer(b, env, "Sola S.L.", "B12345674", 3)
	pair := []*benchIssuer{newBenchIssuer(b, env, "Primera S.L.", "B76543214", 3), newBenchIssuer(b, env, "Segunda S.L.", "B11111112", 3)}
	now := time.Now()
	for range 20 {
		one.issue(b, now)
		pair[0].issue(b, now)
		pair[1].issue(b, now)
	}
	b.ResetTimer()
	for range b.N {
		var waits orgWaits
		var byOrg [2]int
		// Alternating slices, as in BenchmarkInvoiceIssuing.
		var t1, t2 time.Duration
		var cpu1, cpu2 time.Duration // the machine's busy CPU time in each phase
		for done := 0; done < n; done += benchSlice {
			k := min(benchSlice, n-done)
			c0 := machineBusy(b)
			t0 := time.Now()
			for range k {
				one.issue(b, now)
			}
			t1 += time.Since(t0)
			c1 := machineBusy(b)
			cpu1 += c1 - c0
			// The two orgs share the slice's 2k invoices, each taking the
			// next while any are left: both issue until the slice ends.
			// (With k each, whichever finished first left the other
			// issuing alone for the rest of the slice, ≈ 3 % of the
			// time, and that was timed as two orgs.) An org that waited
			// for the other would fall behind in byOrg.
			stop := waits.sample(env)
			t0 = time.Now()
			var left atomic.Int64
			left.Store(int64(2 * k))
			var wg sync.WaitGroup
			for i, s := range pair {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						s.issue(b, now)
						byOrg[i]++
					}
				})
			}
			wg.Wait()
			t2 += time.Since(t0)
			cpu2 += machineBusy(b) - c1
			stop()
		}
		single, double := float64(n)/t1.Seconds(), float64(2*n)/t2.Seconds()
		b.ReportMetric(double/single, "ratio")
		// What limits each phase: one org alone is paced by its round
		// trips (its cores are partly idle); two orgs by the cores. The
		// CPU an invoice costs (this process, PostgreSQL and the kernel
		// together) is the same in both phases when neither org waits for
		// the other; the cores' bound at that cost is what two orgs could
		// reach with both cores busy all the time.
		cores := float64(runtime.NumCPU())
		per1, per2 := cpu1.Seconds()/float64(n)*1e3, cpu2.Seconds()/float64(2*n)*1e3
		bound := cores / (per2 / 1e3)
		benchSummary("issuing-2org", fmt.Sprintf("1 org %d invoices %.0f/s (%.2f of %.0f cores busy, %.2f ms CPU an invoice), 2 orgs at once %d + %d invoices %.0f/s (%.2f cores busy, %.2f ms CPU an invoice: %.0f %% of the %.0f/s the cores bound); GOMAXPROCS %d, PostgreSQL on the same cores; busy backends sampled %d times, waiting on a row or transaction lock %d, on extending a table %d",
			n, single, cpu1.Seconds()/t1.Seconds(), cores, per1, byOrg[0], byOrg[1], double, cpu2.Seconds()/t2.Seconds(), per2, 100*double/bound, bound,
			runtime.GOMAXPROCS(0), waits.busy, waits.lock, waits.extend), double/single, 1.6, "ratio")
	}
}

// machineBusy is the CPU time every process of the machine has used
// since boot: user, nice, system, irq and softirq in /proc/stat, counted
// in USER_HZ, which Linux fixes at 100 a second for user space. Idle, I/O
// wait and time the host stole are not busy.
func machineBusy(b *testing.B) time.Duration {
	b.Helper()
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatalf("the CPU split is read from /proc/stat (Linux): %v", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 8 || f[0] != "cpu" {
		b.Fatalf("/proc/stat starts %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			b.Fatalf("/proc/stat: %v", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// orgWaits counts what this database's busy backends wait on while two
// orgs issue. A wait on a row or on another transaction would be one org
// queueing behind the other (the series, the chain and the voucher count
// are per org, so there should be none); a wait to extend a table is the
// two growing the same table (PostgreSQL's, not a row of either); CPU and
// WAL waits are the cores.
type orgWaits struct{ lock, extend, busy int }

// sample starts sampling every 50 ms until the returned func is called. A
// sample keeps a backend busy ≈ 0.5 ms (pgbench, 2,000 runs): every 20 ms
// over both phases, as it first did, that was ≈ 2 % of a core taken from
// the phase the cores limit; now it runs only while two orgs issue, which
// it measures, and less often.
func (w *orgWaits) sample(env *apptest.Env) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			var l, e, n int
			if err := env.DB.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event <> 'extend'),
				count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'extend'), count(*)
				FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`).Scan(&l, &e, &n); err == nil {
				w.lock, w.extend, w.busy = w.lock+l, w.extend+e, w.busy+n
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func benchLogo() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 240, 80))
	for x := range 240 {
		img.Set(x, 40+(x%9)-4, color.NRGBA{20, 40, 160, 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// BenchmarkInvoicePDF renders an issued 20-line invoice (logo, VERI*FACTU
// QR, tax breakdown, RD 1619/2012 art. 6 content) from what issuing froze,
// and in the same run a one-line invoice as the baseline. Target: p95 ≤ 25
// ms for the 20-line invoice.
func BenchmarkInvoicePDF(b *testing.B) {
	env := apptest.New(b)
	s := newBenchIssuer(b, env, "Imprenta S.L.", "B12345674", 20)
	env.Exec(`UPDATE orgs SET logo = $2 WHERE id = $1`, s.org, benchLogo())
	now := time.Now()
	s.issue(b, now)
	s.lines = s.lines[:1]
	s.issue(b, now)
	ids := []int64{}
	rows, err := env.DB.Query(context.Background(), `SELECT id FROM invoices WHERE org_id = $1 ORDER BY id`, s.org)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	full, err := invoices.Document(context.Background(), env.Q, s.org, ids[0])
	if err != nil {
		b.Fatal(err)
	}
	one, err := invoices.Document(context.Background(), env.Q, s.org, ids[1])
	if err != nil {
		b.Fatal(err)
	}
	if len(full.Lines) != 20 || full.QR == nil {
		b.Fatalf("the 20-line invoice has %d lines, QR %v", len(full.Lines), full.QR != nil)
	}
	run := func(d printing.Document) time.Duration {
		t0 := time.Now()
		if _, err := printing.Render(d); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	for range 20 {
		run(full)
		run(one)
	}
	const runs = 300
	b.ResetTimer()
	var fs, ones []time.Duration
	for i := 0; i < b.N*runs; i++ {
		fs = append(fs, run(full))
		ones = append(ones, run(one))
	}
	slices.Sort(fs)
	slices.Sort(ones)
	p50, p95, b95 := fs[len(fs)/2], fs[len(fs)*95/100], ones[len(ones)*95/100]
	b.ReportMetric(float64(p95.Microseconds())/1000, "ms_p95_20_lines")
	verdict := "PASS"
	if p95 > 25*time.Millisecond {
		verdict = "MISS"
	}
	fmt.Printf("SUMMARY %-12s value %.2f ms p95 target ≤ 25 ms %s — 20-line invoice with logo and QR, p50 %.2f ms; %.1f× a one-line invoice's p95 (%.2f ms)\n",
		"invoice-pdf", float64(p95.Microseconds())/1000, verdict, float64(p50.Microseconds())/1000, float64(p95)/float64(b95), float64(b95.Microseconds())/1000)
}

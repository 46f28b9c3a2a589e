package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/store/mercadolibre/mlfake"
	"pulso/app/tax"
	"pulso/queries"
)

// syncOrders is the issue's 10,000 orders; PULSO_BENCH_ORDERS lowers it for
// a quick look (the recorded figure is the 10,000 one).
func syncOrders() int {
	if n, err := strconv.Atoi(os.Getenv("PULSO_BENCH_ORDERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// syncSlice is how many orders each side handles before the other's turn:
// ten pages of the order search per catch-up.
const syncSlice = 500

// BenchmarkStoreSync syncs 10,000 paid orders of the fake Mercado Libre
// into e-commerce vouchers through store.CatchUp — the order search paged
// over HTTP, each order applied in its transaction (store_orders row
// locked, customer matched by the buyer, products by SKU, a simplified
// invoice drafted and issued, counted against the plan), the cursor and
// the run's progress recorded after every page — and in the same run
// issues the same vouchers directly: the same lines and customer, drafted,
// marked e-commerce and issued in one transaction per order, with no HTTP
// and no store bookkeeping. Both sides are the same org on FULL (no limit
// to block), in alternating slices of 500 so a machine whose load moves
// weighs on both alike. Target: the sync ≥ 0.5 of the direct rate.
func BenchmarkStoreSync(b *testing.B) {
	w := connected(b)
	ctx := context.Background()
	n := syncOrders()
	w.env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end)
		SELECT $1, id, 'monthly', 'ARS', date_trunc('month', now())::date, (date_trunc('month', now()) + interval '1 month')::date
		FROM plans WHERE code = 'full'`, w.org.ID)
	d := newDirect(b, w)

	// The direct side's orders belong to a seller nobody connected: the
	// same shapes, never searched by the sync.
	const other = seller + 1
	syncSide := func(k int) time.Duration {
		ids := w.fake.SeedNow(seller, k)
		last, _ := w.fake.Order(ids[len(ids)-1])
		// Stamps run ahead of the clock when many orders share a
		// millisecond; the catch-up searches up to its now.
		time.Sleep(time.Until(last.LastUpdated) + time.Millisecond)
		t0 := time.Now()
		run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
		took := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if run.Failed != 0 || int(run.Imported) != k {
			b.Fatalf("catch-up of %d orders: %+v", k, run)
		}
		return took
	}
	directSide := func(k int) time.Duration {
		var orders []mlfake.Order
		for _, id := range w.fake.SeedNow(other, k) {
			o, _ := w.fake.Order(id)
			orders = append(orders, o)
		}
		t0 := time.Now()
		for _, o := range orders {
			d.issue(b, o)
		}
		return time.Since(t0)
	}
	syncSide(20) // warm up: connections, prepared statements, fonts
	directSide(20)

	b.ResetTimer()
	for range b.N {
		var ts, td time.Duration
		for done := 0; done < n; done += syncSlice {
			k := min(syncSlice, n-done)
			ts += syncSide(k)
			td += directSide(k)
		}
		synced, direct := float64(n)/ts.Seconds(), float64(n)/td.Seconds()
		ratio := synced / direct
		b.ReportMetric(synced, "orders/s_sync")
		b.ReportMetric(direct, "orders/s_direct")
		b.ReportMetric(ratio, "ratio")
		verdict := "MISS"
		if ratio >= 0.5 {
			verdict = "PASS"
		}
		fmt.Printf("SUMMARY %-12s ratio %.2f (target >= 0.50) %s — %d paid orders of the fake Mercado Libre: catch-up %.0f orders/s (%.1f s) vs the same vouchers issued directly %.0f/s (%.1f s), slices of %d\n",
			"store-sync", ratio, verdict, n, synced, ts.Seconds(), direct, td.Seconds(), syncSlice)
	}
	b.StopTimer()
	if got, want := w.env.Count(`SELECT ecommerce FROM voucher_usage WHERE org_id = $1`, w.org.ID), 2*(20+b.N*n); got != want {
		b.Fatalf("usage counter %d, want %d", got, want)
	}
}

// direct issues an order's voucher as the sync's voucher step would, given
// the customer and the general IVA rate: what invoicing itself costs.
type direct struct {
	w         *world
	rate      tax.Rate
	customers map[int64]int64 // by buyer id
}

// newDirect finds the general IVA rate and makes the customers of the
// fake's buyers, tagged as the sync tags them, so both sides invoice the
// same customers and neither creates one while timed.
func newDirect(b *testing.B, w *world) *direct {
	b.Helper()
	ctx := context.Background()
	rates, err := tax.IVAOn(ctx, w.env.Q, w.org.Country, time.Now())
	if err != nil || len(rates) == 0 {
		b.Fatalf("IVA rates of %s: %v", w.org.Country, err)
	}
	d := &direct{w: w, rate: rates[0], customers: map[int64]int64{}}
	for _, id := range w.fake.SeedNow(seller+1, 10) {
		o, _ := w.fake.Order(id)
		if _, ok := d.customers[o.Buyer.ID]; ok {
			continue
		}
		c, err := w.env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.org.ID, LegalName: o.Buyer.Nickname,
			TradeName: o.Buyer.Nickname, Country: w.org.Country, Tags: []string{"mercadolibre", fmt.Sprintf("ml:%d", o.Buyer.ID)}})
		if err != nil {
			b.Fatal(err)
		}
		d.customers[o.Buyer.ID] = c.ID
	}
	return d
}

func (d *direct) issue(b *testing.B, o mlfake.Order) {
	cus, ok := d.customers[o.Buyer.ID]
	if !ok {
		b.Fatalf("order %d: buyer %d has no customer", o.ID, o.Buyer.ID)
	}
	var lines []invoices.LineInput
	for _, it := range o.Items {
		gross, ok := money.ParseDecimal(it.UnitPrice)
		if !ok {
			b.Fatalf("order %d: unit price %q", o.ID, it.UnitPrice)
		}
		lines = append(lines, invoices.LineInput{Description: it.Title + " (" + it.SKU + ")", Unit: "ud",
			Quantity: decimal.NewFromInt(it.Quantity), TaxRateID: d.rate.ID,
			UnitPrice: gross.Mul(decimal.NewFromInt(100)).Round(0).IntPart()})
	}
	now := time.Now()
	err := live.BeginFunc(context.Background(), d.w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		dr, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: d.w.org.ID, Kind: invoices.Simplified, CustomerID: &cus,
			Lines: lines, Notes: fmt.Sprintf("Pedido Mercado Libre %d", o.ID), PricesIncludeTax: true, Now: now})
		if err != nil {
			return err
		}
		if err := queries.New(tx).SetInvoiceChannel(ctx, queries.SetInvoiceChannelParams{OrgID: d.w.org.ID, ID: dr.ID, Channel: "ecommerce"}); err != nil {
			return err
		}
		_, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: d.w.org.ID, InvoiceID: dr.ID, Locale: "es", Now: now})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}

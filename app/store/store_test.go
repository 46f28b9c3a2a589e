package store_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/sealed"
	"pulso/app/store"
	"pulso/app/store/mercadolibre"
	"pulso/app/store/mercadolibre/mlfake"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
)

const (
	seller   = 123456789
	clientID = "5503910054141466"
	secret   = "fake-secret"
	redirect = "https://pulso.test/integraciones/mercadolibre/vuelta"
	// sealSecret seals the tokens; a child process that syncs the same
	// connection must open them with the same keys.
	sealSecret = "a-test-secret-of-at-least-32-bytes!!"
)

type world struct {
	env   *apptest.Env
	fake  *mlfake.Server
	st    *store.Store
	org   queries.Org
	admin queries.User
	conn  queries.StoreConnection
}

// connected is an Argentine org whose admin connected the fake seller
// through the OAuth round trip, as a browser would.
func connected(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	env := apptest.New(t)
	fake, _, stop := mlfake.Start()
	t.Cleanup(stop)
	fake.AddApp(clientID, secret, redirect)
	fake.AddSeller(seller, "TIENDA_AUSTRAL")
	fake.LoginAs(seller)
	org, err := env.Q.CreateOrg(ctx, queries.CreateOrgParams{Name: "Tienda Austral S.R.L.", Country: "AR", Currency: "ARS",
		TimeZone: "America/Argentina/Buenos_Aires", TaxID: "30-00000000-7"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealed.New([]byte(sealSecret))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{env: env, fake: fake, org: org, admin: env.User(org, "admin@austral.test", web.RoleAdmin),
		st: &store.Store{DB: env.DB, Keys: keys, ML: mercadolibre.New(mercadolibre.Config{AuthURL: fake.URL(), APIURL: fake.URL(),
			ClientID: clientID, ClientSecret: secret, RedirectURI: redirect})}}
	w.conn = w.connect(t)
	return w
}

func (w *world) connect(t testing.TB) queries.StoreConnection {
	t.Helper()
	ctx := context.Background()
	auth, err := w.st.Begin(ctx, w.org.ID, w.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(auth)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %v", res.StatusCode, err)
	}
	state, code := back.Query().Get("state"), back.Query().Get("code")
	if _, err := w.st.Complete(ctx, w.org.ID, w.admin.ID, "not-the-state", code, time.Now()); !errors.Is(err, store.ErrState) {
		t.Fatalf("a wrong state: %v", err)
	}
	c, err := w.st.Complete(ctx, w.org.ID, w.admin.ID, state, code, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The state works once.
	if _, err := w.st.Complete(ctx, w.org.ID, w.admin.ID, state, code, time.Now()); !errors.Is(err, store.ErrState) {
		t.Fatalf("the state twice: %v", err)
	}
	return c
}

func (w *world) vouchers(t *testing.T) int {
	return w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state <> 'draft' AND channel = 'ecommerce'`, w.org.ID)
}

// The catch-up turns every paid order into one voucher, counted as an
// e-commerce sale; a second run adds nothing; a cancellation voids the
// voucher, which stays counted.
func TestCatchUpMakesOneVoucherPerPaidOrder(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	ids := w.fake.Seed(seller, 12, time.Now().Add(-20*time.Hour))
	w.fake.PutOrder(mlfake.NewOrder(seller, 9000001, mlfake.Item{ID: "MLA1", Title: "Pendiente", Quantity: 1, UnitPrice: "100"}).Pending())

	run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if run.Seen != 13 || run.Imported != 12 || run.Failed != 0 || run.FinishedAt == nil {
		t.Fatalf("run %+v", run)
	}
	if n := w.vouchers(t); n != 12 {
		t.Fatalf("%d vouchers, want 12", n)
	}
	if _, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := w.vouchers(t); n != 12 {
		t.Fatalf("%d vouchers after a second run, want 12", n)
	}
	u := w.env.Count(`SELECT ecommerce FROM voucher_usage WHERE org_id = $1`, w.org.ID)
	if u != 12 {
		t.Fatalf("usage counter %d, want 12", u)
	}
	// A voucher's total is what the buyer paid for the order's items at
	// their listed (VAT included) prices, to the cent, every one of them:
	// the voucher is priced VAT included, and the base and tax come out of
	// what was paid.
	rows, err := w.env.DB.Query(ctx, `SELECT i.total, (s.total::numeric * 100)::bigint, i.base + i.tax, i.prices_include_tax
		FROM store_orders s JOIN invoices i ON i.org_id = s.org_id AND i.id = s.invoice_id WHERE s.org_id = $1`, w.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var got, want, parts int64
		var included bool
		if err := rows.Scan(&got, &want, &parts, &included); err != nil {
			t.Fatal(err)
		}
		seen++
		if got != want || parts != want || !included {
			t.Errorf("voucher total %d (base + tax %d, priced VAT included: %t), order total %d", got, parts, included, want)
		}
	}
	if err := rows.Err(); err != nil || seen != 12 {
		t.Fatalf("%d vouchers compared: %v", seen, err)
	}
	_ = ids
	w.fake.SetStatus(ids[0], "cancelled")
	res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now())
	if err != nil || res.State != store.Voided || !res.New {
		t.Fatalf("cancel: %+v %v", res, err)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state = 'voided'`, w.org.ID); n != 1 {
		t.Fatalf("%d voided", n)
	}
	if u := w.env.Count(`SELECT ecommerce FROM voucher_usage WHERE org_id = $1`, w.org.ID); u != 12 {
		t.Fatalf("a voided voucher still counts: %d", u)
	}
	// The same notification again changes nothing.
	if res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now()); err != nil || res.New {
		t.Fatalf("cancel twice: %+v %v", res, err)
	}
}

// Duplicate notifications handled at once make one voucher.
func TestConcurrentNotificationsOfOneOrderMakeOneVoucher(t *testing.T) {
	w := connected(t)
	ids := w.fake.Seed(seller, 1, time.Now().Add(-time.Hour))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.st.SyncOrder(context.Background(), w.org.ID, w.conn.ID, ids[0], time.Now()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := w.vouchers(t); n != 1 {
		t.Fatalf("%d vouchers, want 1", n)
	}
}

// Two jobs that find the access token expired at once refresh it once:
// the single-use refresh token is spent by one, the other uses its result,
// and the seller stays connected.
func TestConcurrentRefreshKeepsTheSellerConnected(t *testing.T) {
	w := connected(t)
	ids := w.fake.Seed(seller, 2, time.Now().Add(-time.Hour))
	w.fake.ExpireAccessTokens()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.st.SyncOrder(context.Background(), w.org.ID, w.conn.ID, id, time.Now()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := w.fake.RefreshCount(seller); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_connections WHERE org_id = $1 AND state = 'active'`, w.org.ID); n != 1 {
		t.Fatal("the seller was logged out")
	}
	if n := w.vouchers(t); n != 2 {
		t.Fatalf("%d vouchers", n)
	}
}

// A seller who takes the app's grant away breaks the connection with the
// reason, kept as a message the page shows in the reader's language; a
// store that answers 403 breaks it too. Neither is retried.
func TestLostGrantBreaksTheConnection(t *testing.T) {
	t.Parallel()
	w := connected(t)
	ctx := context.Background()
	ids := w.fake.Seed(seller, 1, time.Now().Add(-time.Hour))
	w.fake.Revoke(seller)
	if _, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now()); !errors.Is(err, store.ErrBroken) {
		t.Fatalf("sync after the grant was revoked: %v", err)
	}
	var problem string
	if err := w.env.DB.QueryRow(ctx, `SELECT problem FROM store_connections WHERE org_id = $1 AND id = $2 AND state = 'broken'`,
		w.org.ID, w.conn.ID).Scan(&problem); err != nil || problem != store.ProblemGrantRefused {
		t.Fatalf("connection after a refused renewal: %q %v", problem, err)
	}
	if text := i18n.In("es", problem, nil); !strings.Contains(text, "vuelva a conectar la cuenta") {
		t.Errorf("the problem reads %q", text)
	}

	w.conn = w.connect(t)
	w.fake.FailNext("/orders", http.StatusForbidden, 1, 0)
	if _, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now()); !errors.Is(err, store.ErrBroken) {
		t.Fatalf("sync answered 403: %v", err)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_connections WHERE org_id = $1 AND id = $2 AND state = 'broken' AND problem = $3`,
		w.org.ID, w.conn.ID, store.ProblemForbidden); n != 1 {
		t.Fatalf("connection after a 403 not broken with its reason")
	}
}

// A 429 stops the run with a retryable error carrying the server's
// Retry-After (the job snoozes that long); the next run finishes the job
// without doubling anything.
func TestRateLimitedCatchUpResumes(t *testing.T) {
	w := connected(t)
	w.fake.Seed(seller, 60, time.Now().Add(-50*time.Hour))
	// The first page goes through: fail the second.
	w.fake.FailAfter("/orders/search", 1, http.StatusTooManyRequests, 1, 7*time.Second)
	_, err := w.st.CatchUp(context.Background(), w.org.ID, w.conn.ID, time.Now())
	if err == nil || !mercadolibre.Retryable(err) || mercadolibre.RetryAfter(err) != 7*time.Second {
		t.Fatalf("want a retryable error asking for 7s, got %v", err)
	}
	if n := w.vouchers(t); n != mercadolibre.MaxLimit {
		t.Fatalf("%d vouchers from the first page, want %d", n, mercadolibre.MaxLimit)
	}
	if _, err := w.st.CatchUp(context.Background(), w.org.ID, w.conn.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := w.vouchers(t); n != 60 {
		t.Fatalf("%d vouchers, want 60", n)
	}
}

// Past a blocking plan's limit, orders wait as blocked with the reason;
// they are not lost, and the store user limit holds at connection.
func TestPlanLimitBlocksOrdersWithTheReason(t *testing.T) {
	w := connected(t)
	w.env.Exec(`INSERT INTO plans (code, name, vouchers, store_users, at_limit, rank) VALUES ('mini', 'Mini', 3, 1, 'block', 0)`)
	w.env.Exec(`INSERT INTO plan_prices (plan_id, currency, monthly) SELECT id, 'ARS', 100 FROM plans WHERE code = 'mini'`)
	w.env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end)
		SELECT $1, id, 'monthly', 'ARS', date_trunc('month', now())::date, (date_trunc('month', now()) + interval '1 month')::date
		FROM plans WHERE code = 'mini'`, w.org.ID)
	w.fake.Seed(seller, 5, time.Now().Add(-5*time.Hour))
	run, err := w.st.CatchUp(context.Background(), w.org.ID, w.conn.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if run.Imported != 3 || run.Failed != 2 {
		t.Fatalf("run %+v", run)
	}
	// The reason is kept as the message and its parameters, shown in the
	// reader's language on the sync page.
	if n := w.env.Count(`SELECT count(*) FROM store_orders WHERE org_id = $1 AND state = 'blocked' AND error = 'invoices.plan_limit'
		AND error_params->>'Plan' = 'Mini' AND error_params->>'Limit' <> ''`, w.org.ID); n != 2 {
		t.Fatalf("%d blocked with the plan's message", n)
	}
	// A second seller does not fit a plan of one store user.
	w.fake.AddSeller(seller+1, "OTRA_TIENDA")
	w.fake.LoginAs(seller + 1)
	auth, _ := w.st.Begin(context.Background(), w.org.ID, w.admin.ID)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(auth)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, _ := url.Parse(res.Header.Get("Location"))
	_, err = w.st.Complete(context.Background(), w.org.ID, w.admin.ID, back.Query().Get("state"), back.Query().Get("code"), time.Now())
	var full *store.StoreUsersError
	if !errors.As(err, &full) || full.Limit != 1 {
		t.Fatalf("second store user: %v", err)
	}
	// After an upgrade the blocked orders go through.
	w.env.Exec(`UPDATE plans SET vouchers = 10 WHERE code = 'mini'`)
	n, err := w.st.RetryBlocked(context.Background(), w.org.ID, time.Now())
	if err != nil || n != 2 || w.vouchers(t) != 5 {
		t.Fatalf("retry: %d %v, vouchers %d", n, err, w.vouchers(t))
	}
}

// The voucher is what the buyer paid, to the cent, whatever the price:
// several units whose net, rounded a unit at a time, would not add up, and
// a total (12,01) that no net base at 21 % reaches (a base of 9,93 totals
// 12,02 and one of 9,92 totals 12,00). Priced VAT included, one line per
// item at its listed price, the base and tax come out of what was paid.
func TestVoucherTotalIsWhatTheBuyerPaid(t *testing.T) {
	t.Parallel()
	w := connected(t)
	ctx := context.Background()
	for i, it := range []mlfake.Item{
		{ID: "MLA1", Title: "Auriculares", Quantity: 3, UnitPrice: "15000"}, // a unit at a time: 2 cents short
		{ID: "MLA2", Title: "Llavero", Quantity: 2, UnitPrice: "9.99"},      // a unit at a time: a cent over
		{ID: "MLA3", Title: "Pegatina", Quantity: 1, UnitPrice: "12.01"},    // no net base reaches it
	} {
		id := int64(9100 + i)
		w.fake.PutOrder(mlfake.NewOrder(seller, id, it).Paid())
		res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, id, time.Now())
		if err != nil || !res.New {
			t.Fatalf("order %d: %+v %v", id, res, err)
		}
		var total, base, vat, units int64
		var lines int
		if err := w.env.DB.QueryRow(ctx, `SELECT i.total, i.base, i.tax, (SELECT sum(quantity)::bigint FROM invoice_lines l WHERE l.org_id = i.org_id AND l.invoice_id = i.id),
			(SELECT count(*) FROM invoice_lines l WHERE l.org_id = i.org_id AND l.invoice_id = i.id)
			FROM invoices i JOIN store_orders s ON s.org_id = i.org_id AND s.invoice_id = i.id WHERE i.org_id = $1 AND s.order_id = $2`, w.org.ID, id).Scan(&total, &base, &vat, &units, &lines); err != nil {
			t.Fatal(err)
		}
		paid := map[int]int64{0: 4500000, 1: 1998, 2: 1201}[i]
		if total != paid || base+vat != paid || units != it.Quantity || lines != 1 {
			t.Errorf("%s ×%d: voucher %d (base %d + IVA %d) over %d units on %d lines, want %d over %d units on 1", it.Title, it.Quantity, total, base, vat, units, lines, paid, it.Quantity)
		}
		// The base is what was paid ÷ 1,21, and the IVA the rest.
		if want := map[int]int64{0: 3719008, 1: 1651, 2: 993}[i]; base != want {
			t.Errorf("%s: base %d, want %d", it.Title, base, want)
		}
	}
}

// A partly refunded order keeps its voucher and gets a credit note for
// what was refunded (§2.5): an R5 by difference of the voucher, priced VAT
// included, its total minus the refund to the cent. Each refund is credited
// once however often the order is read; a later refund gets a note of its
// own; credit notes never count against the plan; an order first seen
// already partly refunded gets its voucher and its credit note together.
func TestPartialRefundIsCreditedOnce(t *testing.T) {
	t.Parallel()
	w := connected(t)
	ctx := context.Background()
	sync := func(id int64) store.Result {
		t.Helper()
		res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, id, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	type note struct {
		total, base, tax int64
		kind, ft, state  string
		included         bool
	}
	credits := func(id int64) []note {
		t.Helper()
		rows, err := w.env.DB.Query(ctx, `SELECT i.total, i.base, i.tax, i.kind, i.fiscal_type, i.state, i.prices_include_tax
			FROM store_orders s JOIN invoice_corrections c ON c.org_id = s.org_id AND c.corrected_id = s.invoice_id
			JOIN invoices i ON i.org_id = c.org_id AND i.id = c.invoice_id
			WHERE s.org_id = $1 AND s.order_id = $2 ORDER BY i.id`, w.org.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []note
		for rows.Next() {
			var n note
			if err := rows.Scan(&n.total, &n.base, &n.tax, &n.kind, &n.ft, &n.state, &n.included); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	paid := mlfake.NewOrder(seller, 9300, mlfake.Item{ID: "MLA9", Title: "Lámpara", Quantity: 2, UnitPrice: "12.01"}).Paid()
	w.fake.PutOrder(paid)
	if res := sync(9300); res.State != store.Invoiced || !res.New {
		t.Fatalf("paid: %+v", res)
	}
	counted := w.env.Count(`SELECT ecommerce FROM voucher_usage WHERE org_id = $1`, w.org.ID)

	// 5,00 refunded: a note of −5,00 (base −4,13, IVA −0,87).
	refunded := paid.Refund("5")
	w.fake.PutOrder(refunded)
	if res := sync(9300); res.State != store.Invoiced || !res.New {
		t.Fatalf("refunded: %+v", res)
	}
	got := credits(9300)
	if len(got) != 1 || got[0] != (note{-500, -413, -87, "corrective", "R5", "issued", true}) {
		t.Fatalf("credit notes after a 5,00 refund: %+v", got)
	}
	// Read again (a duplicate notification, the catch-up): nothing new.
	if res := sync(9300); res.New {
		t.Fatalf("the same refund credited twice: %+v", res)
	}
	// Another 3,50: a second note, for the difference.
	w.fake.PutOrder(refunded.Refund("3.5"))
	sync(9300)
	if got := credits(9300); len(got) != 2 || got[1].total != -350 {
		t.Fatalf("credit notes after another 3,50: %+v", got)
	}
	if n := w.env.Count(`SELECT refunded_cents FROM store_orders WHERE org_id = $1 AND order_id = 9300`, w.org.ID); n != 850 {
		t.Errorf("refunded_cents %d, want 850", n)
	}
	if n := w.env.Count(`SELECT ecommerce FROM voucher_usage WHERE org_id = $1`, w.org.ID); n != counted {
		t.Errorf("credit notes counted as vouchers: %d, was %d", n, counted)
	}

	// First seen already refunded: the voucher of the sale and the note of
	// the refund, together.
	w.fake.PutOrder(mlfake.NewOrder(seller, 9301, mlfake.Item{ID: "MLA8", Title: "Mesa", Quantity: 1, UnitPrice: "100"}).Paid().Refund("100.5"))
	if res := sync(9301); res.State != store.Invoiced || !res.New {
		t.Fatalf("first seen refunded: %+v", res)
	}
	// A refund beyond the voucher (shipping refunded too) gives back no
	// more than the voucher charged.
	if got := credits(9301); len(got) != 1 || got[0].total != -10000 {
		t.Fatalf("credit notes of an order refunded beyond its items: %+v", got)
	}
}

// A refund whose credit note is refused (here the voucher's IVA rate is no
// longer in force) is not lost: the order shows the reason among the sync
// page's problems and the sweep's retry credits it once it can.
func TestRefusedCreditIsShownAndRetried(t *testing.T) {
	t.Parallel()
	w := connected(t)
	ctx := context.Background()
	paid := mlfake.NewOrder(seller, 9400, mlfake.Item{ID: "MLA7", Title: "Silla", Quantity: 1, UnitPrice: "50"}).Paid()
	w.fake.PutOrder(paid)
	if _, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, 9400, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.env.Exec(`UPDATE tax_rates SET valid_to = current_date - 1, valid_from = current_date - 2 WHERE country = 'AR' AND kind = 'iva' AND rate = 21 AND valid_to IS NULL`)
	w.fake.PutOrder(paid.Refund("10"))
	res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, 9400, time.Now())
	if err != nil || res.State != store.Invoiced || res.New {
		t.Fatalf("refused credit: %+v %v", res, err)
	}
	probs, err := w.env.Q.ListStoreOrderProblems(ctx, w.org.ID)
	if err != nil || len(probs) != 1 || probs[0].OrderID != 9400 || probs[0].Error == "" || probs[0].RefundedCents != 0 {
		t.Fatalf("problems: %+v %v", probs, err)
	}
	w.env.Exec(`UPDATE tax_rates SET valid_to = NULL WHERE country = 'AR' AND kind = 'iva' AND rate = 21 AND valid_to = current_date - 1`)
	if n, err := w.st.RetryBlocked(ctx, w.org.ID, time.Now()); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_orders s JOIN invoice_corrections c ON c.org_id = s.org_id AND c.corrected_id = s.invoice_id
		JOIN invoices i ON i.org_id = c.org_id AND i.id = c.invoice_id WHERE s.org_id = $1 AND s.order_id = 9400 AND i.total = -1000 AND s.error = '' AND s.refunded_cents = 1000`, w.org.ID); n != 1 {
		t.Fatal("the retry did not credit the refund")
	}
	if probs, _ := w.env.Q.ListStoreOrderProblems(ctx, w.org.ID); len(probs) != 0 {
		t.Errorf("problems after the retry: %+v", probs)
	}
}

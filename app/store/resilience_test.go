package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/apptest"
	"pulso/app/sealed"
	"pulso/app/store"
	"pulso/app/store/mercadolibre"
	"pulso/app/store/mercadolibre/mlfake"
	"pulso/queries"
)

// The sync's answers to a store that misbehaves (issue 17): 5xx, answers
// slower than the client waits, a token that dies in the middle of a
// catch-up, notifications handled out of order, and a sync process
// killed in its middle. Each test ends by checking that every order has at
// most one voucher and that the plan counted each voucher once.

// onePerOrder checks the invariant every fault must keep: want vouchers,
// each one an order's (no voucher without its order, no order with two),
// each counted once against the plan.
func (w *world) onePerOrder(t *testing.T, want int) {
	t.Helper()
	if n := w.vouchers(t); n != want {
		t.Errorf("%d vouchers, want %d", n, want)
	}
	if n := w.env.Count(`SELECT count(DISTINCT invoice_id) FROM store_orders WHERE org_id = $1 AND invoice_id IS NOT NULL`, w.org.ID); n != want {
		t.Errorf("%d orders with a voucher, want %d", n, want)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_orders WHERE org_id = $1 AND invoice_id IS NOT NULL`, w.org.ID); n != want {
		t.Errorf("%d order rows point at a voucher, want %d", n, want)
	}
	if n := w.env.Count(`SELECT coalesce(sum(ecommerce), 0) FROM voucher_usage WHERE org_id = $1`, w.org.ID); n != want {
		t.Errorf("the plan counted %d vouchers, want %d", n, want)
	}
}

// waiting is the world's store with an HTTP client that waits at most d
// for an answer (production's default is mercadolibre.DefaultTimeout).
func (w *world) waiting(d time.Duration) *store.Store {
	st := *w.st
	st.ML = mercadolibre.New(mercadolibre.Config{AuthURL: w.fake.URL(), APIURL: w.fake.URL(), ClientID: clientID,
		ClientSecret: secret, RedirectURI: redirect, HTTP: &http.Client{Timeout: d}})
	return &st
}

// A 500 on the second page of a catch-up ends the run with a retryable
// error, recorded on the run; the first page's vouchers stay, and the
// retry (River's) imports the rest without doubling the first page.
func TestServerErrorMidCatchUpIsRetriedWithoutDoubles(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	w.fake.Seed(seller, 120, time.Now().Add(-100*time.Hour))
	w.fake.FailAfter("/orders/search", 1, http.StatusInternalServerError, 1, 0)

	run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
	var se *mercadolibre.ServerError
	if !errors.As(err, &se) || se.Status != http.StatusInternalServerError || !mercadolibre.Retryable(err) {
		t.Fatalf("want a retryable 500, got %v", err)
	}
	if run.FinishedAt == nil || run.Error == "" || run.Seen != mercadolibre.MaxLimit {
		t.Fatalf("the failed run: %+v", run)
	}
	w.onePerOrder(t, mercadolibre.MaxLimit)

	run, err = w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
	if err != nil || run.Error != "" || run.FinishedAt == nil {
		t.Fatalf("retry: %+v %v", run, err)
	}
	if run.Imported != 120-mercadolibre.MaxLimit {
		t.Fatalf("the retry imported %d, want %d", run.Imported, 120-mercadolibre.MaxLimit)
	}
	w.onePerOrder(t, 120)
}

// A 503 with Retry-After on a notification's order read leaves nothing
// behind and tells the job how long to wait; the retry makes the voucher,
// and a late duplicate of the notification adds nothing.
func TestServerErrorOnAnOrderReadIsRetried(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	ids := w.fake.Seed(seller, 1, time.Now().Add(-time.Hour))
	w.fake.FailNext("/orders/", http.StatusServiceUnavailable, 1, 2*time.Second)

	_, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now())
	var se *mercadolibre.ServerError
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable || mercadolibre.RetryAfter(err) != 2*time.Second {
		t.Fatalf("want a 503 asking for 2s, got %v", err)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_orders WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Fatalf("a failed read left %d order rows", n)
	}
	res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now())
	if err != nil || res.State != store.Invoiced || !res.New {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now()); err != nil || res.New {
		t.Fatalf("duplicate: %+v %v", res, err)
	}
	w.onePerOrder(t, 1)
}

// An answer slower than the client waits fails the run cleanly — a
// timeout, which the job retries — instead of holding it; the next run
// finishes the catch-up.
func TestSlowAnswerTimesOutAndTheRetryFinishes(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	st := w.waiting(2 * time.Second)
	w.fake.Seed(seller, 80, time.Now().Add(-70*time.Hour))
	// The second page answers long after the client gave up (the fake
	// lets go of the request as soon as the client does).
	w.fake.SlowAfter("/orders/search", 1, time.Hour, 1)

	run, err := st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !mercadolibre.Retryable(err) {
		t.Fatalf("want a retryable timeout, got %v", err)
	}
	if run.FinishedAt == nil || run.Error == "" {
		t.Fatalf("the run that timed out: %+v", run)
	}
	w.onePerOrder(t, mercadolibre.MaxLimit)
	if _, err := st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.onePerOrder(t, 80)
}

// A token refresh that gets no answer in time is not a refused refresh:
// the seller stays connected, nothing is stored, and the retry refreshes
// with the same refresh token (the fake, like a store that never got the
// request, has not spent it).
func TestSlowRefreshLeavesTheSellerConnected(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	st := w.waiting(2 * time.Second)
	ids := w.fake.Seed(seller, 1, time.Now().Add(-time.Hour))
	w.fake.ExpireAccessTokens()
	w.fake.SlowNext("/oauth/token", time.Hour, 1)

	_, err := st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, store.ErrBroken) {
		t.Fatalf("want a timeout, got %v", err)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_connections WHERE org_id = $1 AND state = 'active' AND token_version = $2`,
		w.org.ID, w.conn.TokenVersion); n != 1 {
		t.Fatal("a refresh without an answer changed the connection")
	}
	if res, err := st.SyncOrder(ctx, w.org.ID, w.conn.ID, ids[0], time.Now()); err != nil || res.State != store.Invoiced {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if n := w.fake.RefreshCount(seller); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	w.onePerOrder(t, 1)
}

// A worker that stops (a deploy: River cancels its running jobs) ends
// the catch-up's context in the middle of a run, as a job outliving its
// timeout does. The run still records that it ended and why — the sync
// page must not show it running forever — and the next run imports the
// rest.
func TestCatchUpStoppedMidRunResumes(t *testing.T) {
	w := connected(t)
	w.fake.Seed(seller, 120, time.Now().Add(-100*time.Hour))
	// The second page hangs until the context ends.
	w.fake.SlowAfter("/orders/search", 1, time.Hour, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for w.fake.Calls("/orders/search") < 2 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
	if !errors.Is(err, context.Canceled) || mercadolibre.Retryable(err) {
		t.Fatalf("want the cancellation, got %v", err)
	}
	if run.FinishedAt == nil || run.Error == "" {
		t.Fatalf("the stopped run is not recorded as ended: %+v", run)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_syncs WHERE org_id = $1 AND finished_at IS NULL`, w.org.ID); n != 0 {
		t.Fatalf("%d runs left running", n)
	}
	w.onePerOrder(t, mercadolibre.MaxLimit)
	run, err = w.st.CatchUp(context.Background(), w.org.ID, w.conn.ID, time.Now())
	if err != nil || run.Imported != 120-mercadolibre.MaxLimit {
		t.Fatalf("the next run: %+v %v", run, err)
	}
	w.onePerOrder(t, 120)
}

// Orders keep changing while a catch-up pages through them. An order of
// an early page that changes after the run started leaves the run's window
// (updated after its end), so every later order moves up one place and
// the next page, asked by offset, starts one order further on than it
// would have: the order at the boundary is never on a page of this run.
// The next run must still apply it.
func TestOrderChangingMidCatchUpDoesNotHideAnother(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	ids := w.fake.Seed(seller, 120, time.Now().Add(-100*time.Hour))
	release := w.fake.HoldAfter("/orders/search", 1)
	defer release()
	type result struct {
		run queries.StoreSync
		err error
	}
	first := make(chan result, 1)
	go func() {
		run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
		first <- result{run, err}
	}()
	for w.fake.Calls("/orders/search") < 2 {
		select {
		case r := <-first:
			t.Fatalf("the run ended before asking for its second page: %+v %v", r.run, r.err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The first page is applied; the second is asked for, not answered.
	w.fake.SetStatus(ids[10], "partially_refunded")
	release()
	r := <-first
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.run.Seen != 119 {
		t.Fatalf("the first run saw %d orders, want 119 (one left its window)", r.run.Seen)
	}
	// The next run sees what changed and whatever the first one missed.
	if _, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.onePerOrder(t, 120)
	if n := w.env.Count(`SELECT count(*) FROM store_orders WHERE org_id = $1 AND order_id = $2 AND status = 'partially_refunded'`,
		w.org.ID, ids[10]); n != 1 {
		t.Fatal("the changed order's last state was not applied")
	}
}

// The access token dying between two pages of a catch-up costs one
// refresh and no lost page: the run goes on with the new token.
func TestExpiredTokenMidCatchUpRefreshesOnce(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	w.fake.Seed(seller, 120, time.Now().Add(-100*time.Hour))
	w.fake.ExpireAccessTokensAfter("/orders/search", 1)
	before := w.env.Count(`SELECT token_version FROM store_connections WHERE org_id = $1 AND id = $2`, w.org.ID, w.conn.ID)

	run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
	if err != nil || run.Seen != 120 || run.Imported != 120 {
		t.Fatalf("run %+v %v", run, err)
	}
	if n := w.fake.RefreshCount(seller); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	// Three pages, the second one asked twice (401, then with the new
	// token).
	if n := w.fake.Calls("/orders/search"); n != 4 {
		t.Fatalf("%d searches, want 4", n)
	}
	after := w.env.Count(`SELECT token_version FROM store_connections WHERE org_id = $1 AND id = $2 AND state = 'active'`, w.org.ID, w.conn.ID)
	if after != before+1 {
		t.Fatalf("token version %d → %d, want one refresh stored", before, after)
	}
	w.onePerOrder(t, 120)
}

// A store that keeps answering 401 after the refresh gets one refresh, not
// a loop of them: the run fails (the job retries later) and the seller
// stays connected with the new tokens, which the next run uses.
func TestUnauthorizedAfterRefreshIsNotRefreshedAgain(t *testing.T) {
	w := connected(t)
	ctx := context.Background()
	w.fake.Seed(seller, 60, time.Now().Add(-60*time.Hour))
	w.fake.FailAfter("/orders/search", 1, http.StatusUnauthorized, 2, 0)

	if _, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now()); !errors.Is(err, mercadolibre.ErrUnauthorized) {
		t.Fatalf("want the 401, got %v", err)
	}
	if n := w.fake.RefreshCount(seller); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if _, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := w.fake.RefreshCount(seller); n != 1 {
		t.Fatalf("%d refreshes after the retry, want still 1", n)
	}
	w.onePerOrder(t, 60)
}

// Notifications carry no state (§3): each job reads the order, and jobs
// may apply what they read in any order. Whatever the order, the voucher
// ends as the order's latest state says, exactly once.
func TestOutOfOrderNotificationsEndInTheOrdersState(t *testing.T) {
	ctx := context.Background()
	// read is the order as a job that read it now would apply it later.
	read := func(t *testing.T, w *world, id int64) mercadolibre.Order {
		t.Helper()
		o, err := w.st.ML.Order(ctx, w.fake.TokenFor(clientID, seller), id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	paidOrder := func(w *world, id int64) {
		w.fake.PutOrder(mlfake.NewOrder(seller, id, mlfake.Item{ID: "MLA7", Title: "Lámpara de mesa", Quantity: 2,
			UnitPrice: "12100"}).Paid())
	}

	// Paid, invoiced, then cancelled: the cancel's job and a late
	// redelivery of the paid notification cross. The voucher is voided,
	// stays counted (a simplified invoice counts, plans.CountsAsVoucher),
	// and the stale "paid" answer issues no second voucher.
	t.Run("paid then cancelled, notifications crossed", func(t *testing.T) {
		w := connected(t)
		const id = 9100001
		paidOrder(w, id)
		if res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, id, time.Now()); err != nil || res.State != store.Invoiced {
			t.Fatalf("paid: %+v %v", res, err)
		}
		stale := read(t, w, id) // a redelivered paid notification's job, slow to apply
		w.fake.SetStatus(id, "cancelled")
		if res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, id, time.Now()); err != nil || res.State != store.Voided || !res.New {
			t.Fatalf("cancel: %+v %v", res, err)
		}
		if res, err := w.st.Apply(ctx, w.org.ID, w.conn.ID, stale, time.Now()); err != nil || res.State != store.Voided || res.New {
			t.Fatalf("the stale paid answer: %+v %v", res, err)
		}
		w.onePerOrder(t, 1)
		if n := w.env.Count(`SELECT count(*) FROM store_orders s JOIN invoices i ON i.org_id = s.org_id AND i.id = s.invoice_id
			WHERE s.org_id = $1 AND s.order_id = $2 AND s.state = 'voided' AND s.status = 'cancelled' AND i.state = 'voided'
			AND i.kind = 'simplified'`, w.org.ID, id); n != 1 {
			t.Fatal("the order's voucher is not a voided simplified invoice")
		}
	})

	// The cancel is applied before the paid state ever was: the order was
	// never invoiced, so nothing is issued or counted, and the paid answer
	// applied afterwards (older) does not issue a voucher for a cancelled
	// sale.
	t.Run("cancel applied before paid", func(t *testing.T) {
		w := connected(t)
		const id = 9100002
		paidOrder(w, id)
		stale := read(t, w, id) // the paid notification's job, slow to apply
		w.fake.SetStatus(id, "cancelled")
		if res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, id, time.Now()); err != nil || res.State != store.Skipped {
			t.Fatalf("cancel: %+v %v", res, err)
		}
		if res, err := w.st.Apply(ctx, w.org.ID, w.conn.ID, stale, time.Now()); err != nil || res.State != store.Skipped || res.New {
			t.Fatalf("the stale paid answer: %+v %v", res, err)
		}
		// Both notifications delivered again, late: still nothing.
		for range 2 {
			if res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, id, time.Now()); err != nil || res.New {
				t.Fatalf("redelivery: %+v %v", res, err)
			}
		}
		w.onePerOrder(t, 0)
	})

	// Pending, then paid: the stale pending answer applied after the paid
	// one leaves the voucher alone.
	t.Run("paid applied before pending", func(t *testing.T) {
		w := connected(t)
		const id = 9100003
		w.fake.PutOrder(mlfake.NewOrder(seller, id, mlfake.Item{ID: "MLA8", Title: "Silla plegable", Quantity: 1,
			UnitPrice: "30000"}).Pending())
		stale := read(t, w, id)
		paidOrder(w, id)
		if res, err := w.st.SyncOrder(ctx, w.org.ID, w.conn.ID, id, time.Now()); err != nil || res.State != store.Invoiced {
			t.Fatalf("paid: %+v %v", res, err)
		}
		if res, err := w.st.Apply(ctx, w.org.ID, w.conn.ID, stale, time.Now()); err != nil || res.State != store.Invoiced || res.New {
			t.Fatalf("the stale pending answer: %+v %v", res, err)
		}
		w.onePerOrder(t, 1)
	})
}

// childEnv carries, to the child process of TestCatchUpSurvivesSIGKILL,
// what it needs to sync the parent's connection: the test database, the
// fake's URL, the org and the connection.
const childEnv = "PULSO_STORE_CATCHUP_CHILD"

// childName is the child's application_name, so the parent can tell its
// database sessions apart.
const childName = "store-catchup-child"

type childSpec struct {
	DB, ML    string
	Org, Conn int64
}

// TestCatchUpChildProcess is not a test: it is the body of the child
// process TestCatchUpSurvivesSIGKILL starts by running this test binary
// again with -test.run naming it and childEnv set. It runs a catch-up of
// the parent's connection until it is killed. In a normal run the
// variable is absent and it returns at once, by design (not a skipped
// check: there is nothing to check here).
func TestCatchUpChildProcess(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return
	}
	var c childSpec
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(c.DB)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = childName
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	keys, err := sealed.New([]byte(sealSecret))
	if err != nil {
		t.Fatal(err)
	}
	st := &store.Store{DB: pool, Keys: keys, ML: mercadolibre.New(mercadolibre.Config{AuthURL: c.ML, APIURL: c.ML,
		ClientID: clientID, ClientSecret: secret, RedirectURI: redirect})}
	if _, err := st.CatchUp(ctx, c.Org, c.Conn, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// A catch-up process killed with SIGKILL in the middle of an order's
// transaction loses nothing and doubles nothing: the order being applied
// rolls back with its voucher and its count, the cursor it left behind
// has every order before it applied, and the next run (in this process)
// finishes the job.
//
// The child is caught mid-transaction without timing: once it has issued
// more than a page of vouchers, the test locks the org's voucher counter,
// waits until the child's next voucher is blocked on that lock, and kills
// it there.
//
// Some early orders changed lately (a partial refund, a cancellation): the
// search sorts by creation, so their last update is far ahead of the
// orders around them, which is what a cursor moved too far would skip.
func TestCatchUpSurvivesSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	w := connected(t)
	ctx := context.Background()
	const orders = 300
	ids := w.fake.Seed(seller, orders, time.Now().Add(-12*24*time.Hour))
	w.fake.SetStatus(ids[5], "partially_refunded") // still a sale: keeps its voucher
	w.fake.SetStatus(ids[8], "cancelled")          // never invoiced: skipped
	const paid = orders - 1

	spec, err := json.Marshal(childSpec{DB: apptest.URL(w.env.DB), ML: w.fake.URL(), Org: w.org.ID, Conn: w.conn.ID})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCatchUpChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	// until polls cond while the child lives; the child ending first is a
	// failure of the test's set-up, reported with its output.
	until := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case err := <-exited:
				reaped = true
				t.Fatalf("the child ended before %s: %v\n%s", what, err, out.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	until("a page of vouchers", func() bool { return w.vouchers(t) > mercadolibre.MaxLimit })

	hold, err := w.env.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback(ctx) }()
	if _, err := hold.Exec(ctx, `SELECT * FROM voucher_usage WHERE org_id = $1 FOR UPDATE`, w.org.ID); err != nil {
		t.Fatal(err)
	}
	childSessions := func(cond string) int {
		return w.env.Count(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`+cond,
			childName)
	}
	until("its voucher waits for the counter", func() bool { return childSessions(` AND wait_event_type = 'Lock'`) > 0 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	reaped = true
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended by %v, not SIGKILL\n%s", cmd.ProcessState, out.String())
	}
	// Its session ends once the lock lets its statement finish and the
	// answer finds no one to read it: its transaction never committed.
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for childSessions("") > 0 {
		time.Sleep(10 * time.Millisecond)
	}

	killed := w.vouchers(t)
	if killed <= mercadolibre.MaxLimit || killed >= paid {
		t.Fatalf("%d vouchers when killed: not in the middle", killed)
	}
	w.onePerOrder(t, killed)
	if n := w.env.Count(`SELECT count(*) FROM store_syncs WHERE org_id = $1 AND finished_at IS NULL`, w.org.ID); n != 1 {
		t.Fatalf("%d unfinished runs, want the killed one", n)
	}
	// The cursor the child left: every order updated before it is applied.
	var cursor time.Time
	if err := w.env.DB.QueryRow(ctx, `SELECT synced_to FROM store_connections WHERE org_id = $1 AND id = $2`, w.org.ID,
		w.conn.ID).Scan(&cursor); err != nil {
		t.Fatal(err)
	}
	applied := map[int64]bool{}
	rows, err := w.env.DB.Query(ctx, `SELECT order_id FROM store_orders WHERE org_id = $1`, w.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		applied[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	latest := time.Time{}
	for _, id := range ids {
		o, _ := w.fake.Order(id)
		if o.LastUpdated.Before(cursor) && !applied[id] {
			t.Errorf("order %d (updated %s) is behind the cursor %s but was never applied", id, o.LastUpdated, cursor)
		}
		if o.LastUpdated.After(latest) {
			latest = o.LastUpdated
		}
	}

	run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now())
	if err != nil || run.Error != "" || run.FinishedAt == nil {
		t.Fatalf("the run after the kill: %+v %v", run, err)
	}
	if int(run.Imported) != paid-killed {
		t.Errorf("the run after the kill imported %d, want %d", run.Imported, paid-killed)
	}
	w.onePerOrder(t, paid)
	if n := w.env.Count(`SELECT count(*) FROM store_orders WHERE org_id = $1`, w.org.ID); n != orders {
		t.Errorf("%d orders recorded, want %d", n, orders)
	}
	if n := w.env.Count(`SELECT count(*) FROM store_orders WHERE org_id = $1 AND state = 'skipped' AND order_id = $2`, w.org.ID, ids[8]); n != 1 {
		t.Error("the cancelled order is not skipped")
	}
	if err := w.env.DB.QueryRow(ctx, `SELECT synced_to FROM store_connections WHERE org_id = $1 AND id = $2`, w.org.ID,
		w.conn.ID).Scan(&cursor); err != nil || !cursor.Equal(latest) {
		t.Errorf("cursor %s after the run, want the latest update %s (%v)", cursor, latest, err)
	}
	// Nothing left: another run imports nothing.
	if run, err := w.st.CatchUp(ctx, w.org.ID, w.conn.ID, time.Now()); err != nil || run.Imported != 0 {
		t.Fatalf("a run more: %+v %v", run, err)
	}
	w.onePerOrder(t, paid)
}

package store_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"pulso/app/store"
	"pulso/app/store/mercadolibre"
	"pulso/app/store/mercadolibre/mlfake"
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

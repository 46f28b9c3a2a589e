package mercadolibre_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pulso/app/store/mercadolibre"
	"pulso/app/store/mercadolibre/mlfake"
)

const (
	clientID = "5503910054141466"
	secret   = "s3cr3t"
	redirect = "https://pulso.test/integraciones/ml/callback"
	seller   = int64(123456789)
	other    = int64(222333444)
)

// setup starts a fake with one app and two sellers, the first logged in.
func setup(t *testing.T) (*mlfake.Server, *mercadolibre.Client) {
	t.Helper()
	fake, base, closeFake := mlfake.Start()
	t.Cleanup(closeFake)
	fake.AddApp(clientID, secret, redirect)
	fake.AddSeller(seller, "VENDEDOR_TEST")
	fake.AddSeller(other, "OTRO_VENDEDOR")
	fake.LoginAs(seller)
	c := mercadolibre.New(mercadolibre.Config{
		AuthURL: base, APIURL: base + "/",
		ClientID: clientID, ClientSecret: secret, RedirectURI: redirect,
	})
	return fake, c
}

// consent plays the seller's browser: it follows AuthorizeURL and returns
// where ML sent it back.
func consent(t *testing.T, c *mercadolibre.Client, state string) *url.URL {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(c.AuthorizeURL(state))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorization answered %d, want 302", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func connect(t *testing.T, c *mercadolibre.Client) mercadolibre.Token {
	t.Helper()
	back := consent(t, c, "st")
	tok, err := c.Exchange(context.Background(), back.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestOAuthCodeFlow(t *testing.T) {
	_, c := setup(t)
	back := consent(t, c, "csrf-9f8e7d")
	if got := back.Scheme + "://" + back.Host + back.Path; got != redirect {
		t.Fatalf("sent back to %q, want %q", got, redirect)
	}
	if st := back.Query().Get("state"); st != "csrf-9f8e7d" {
		t.Fatalf("state %q not echoed", st)
	}
	code := back.Query().Get("code")
	if !strings.HasPrefix(code, "TG-") {
		t.Fatalf("code %q", code)
	}
	before := time.Now()
	tok, err := c.Exchange(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	if tok.UserID != seller || tok.Access == "" || tok.Refresh == "" || !strings.Contains(tok.Scope, "offline_access") {
		t.Fatalf("token %+v", tok)
	}
	if d := tok.ExpiresAt.Sub(before); d < 6*time.Hour-time.Minute || d > 6*time.Hour+time.Minute {
		t.Fatalf("expires in %s, want 6 h (expires_in 21600)", d)
	}
	// The code is spent.
	_, err = c.Exchange(context.Background(), code)
	if !errors.Is(err, mercadolibre.ErrInvalidGrant) || mercadolibre.Retryable(err) {
		t.Fatalf("second exchange: %v", err)
	}
	if !strings.Contains(err.Error(), "already used") {
		t.Fatalf("ML's message lost: %v", err)
	}
}

func TestExchangeWrongRedirectOrSecret(t *testing.T) {
	fake, c := setup(t)
	back := consent(t, c, "s")
	base := fake.URL()
	wrongRedirect := mercadolibre.New(mercadolibre.Config{AuthURL: base, APIURL: base, ClientID: clientID, ClientSecret: secret, RedirectURI: redirect + "/other"})
	if _, err := wrongRedirect.Exchange(context.Background(), back.Query().Get("code")); !errors.Is(err, mercadolibre.ErrInvalidGrant) {
		t.Fatalf("redirect mismatch: %v", err)
	}
	wrongSecret := mercadolibre.New(mercadolibre.Config{AuthURL: base, APIURL: base, ClientID: clientID, ClientSecret: "nope", RedirectURI: redirect})
	_, err := wrongSecret.Exchange(context.Background(), consent(t, c, "s").Query().Get("code"))
	var ae *mercadolibre.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "invalid_client" || errors.Is(err, mercadolibre.ErrInvalidGrant) {
		t.Fatalf("bad secret: %v", err)
	}
}

func TestRefreshRotates(t *testing.T) {
	fake, c := setup(t)
	ctx := context.Background()
	tok := connect(t, c)
	next, err := c.Refresh(ctx, tok.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	if next.Refresh == tok.Refresh || next.Access == tok.Access || next.UserID != seller {
		t.Fatalf("no rotation: %+v after %+v", next, tok)
	}
	if _, err := c.SearchOrders(ctx, next.Access, mercadolibre.Search{Seller: seller}); err != nil {
		t.Fatalf("new access token: %v", err)
	}
	_, err = c.Refresh(ctx, tok.Refresh)
	if !errors.Is(err, mercadolibre.ErrInvalidGrant) || mercadolibre.Retryable(err) {
		t.Fatalf("old refresh token: %v", err)
	}
	if _, err := c.Refresh(ctx, next.Refresh); err != nil {
		t.Fatalf("current refresh token: %v", err)
	}
	if n := fake.RefreshCount(seller); n != 2 {
		t.Fatalf("RefreshCount = %d, want 2", n)
	}
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	_, c := setup(t)
	refresh := connect(t, c).Refresh
	for round := range 10 {
		start := make(chan struct{})
		var wg sync.WaitGroup
		toks := make([]mercadolibre.Token, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				<-start
				toks[i], errs[i] = c.Refresh(context.Background(), refresh)
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
				refresh = toks[i].Refresh
			case !errors.Is(err, mercadolibre.ErrInvalidGrant):
				t.Fatalf("round %d: loser got %v, want invalid_grant", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d refreshes succeeded, want exactly 1 (%v)", round, wins, errs)
		}
	}
}

func TestUnauthorizedAfterExpiry(t *testing.T) {
	fake, c := setup(t)
	ctx := context.Background()
	tok := connect(t, c)
	fake.PutOrder(mlfake.NewOrder(seller, 2000008765432101, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "10"}).Paid())
	fake.ExpireAccessTokens()
	_, err := c.Order(ctx, tok.Access, 2000008765432101)
	if !errors.Is(err, mercadolibre.ErrUnauthorized) || mercadolibre.Retryable(err) {
		t.Fatalf("expired token: %v", err)
	}
	// The 401 body's "error" is not_found (§4.2): still unauthorized, not
	// a missing order.
	if errors.Is(err, mercadolibre.ErrNotFound) || !strings.Contains(err.Error(), "invalid_token") {
		t.Fatalf("classification or message: %v", err)
	}
	next, err := c.Refresh(ctx, tok.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := c.Order(ctx, next.Access, 2000008765432101); err != nil || o.ID != 2000008765432101 {
		t.Fatalf("after refresh: %v %+v", err, o)
	}
}

func TestRateLimited(t *testing.T) {
	fake, c := setup(t)
	ctx := context.Background()
	tok := connect(t, c)
	fake.FailNext("/orders/search", http.StatusTooManyRequests, 1, 7*time.Second)
	fake.FailNext("/orders/search", http.StatusTooManyRequests, 1, 0)
	s := mercadolibre.Search{Seller: seller}

	_, err := c.SearchOrders(ctx, tok.Access, s)
	var rl *mercadolibre.RateLimited
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second || !mercadolibre.Retryable(err) || mercadolibre.RetryAfter(err) != 7*time.Second {
		t.Fatalf("429 with Retry-After: %v", err)
	}
	_, err = c.SearchOrders(ctx, tok.Access, s)
	if mercadolibre.RetryAfter(err) != mercadolibre.DefaultRetryAfter || !strings.Contains(err.Error(), "Too Many Requests") {
		t.Fatalf("429 without Retry-After: %v (%s)", err, mercadolibre.RetryAfter(err))
	}
	if _, err := c.SearchOrders(ctx, tok.Access, s); err != nil {
		t.Fatalf("after the injected 429s: %v", err)
	}
	if n := fake.Calls("/orders/search"); n != 3 {
		t.Fatalf("%d searches reached the fake, want 3", n)
	}
}

func TestRateLimitedOnToken(t *testing.T) {
	fake, c := setup(t)
	tok := connect(t, c)
	fake.FailNext("/oauth/token", http.StatusTooManyRequests, 1, 0)
	_, err := c.Refresh(context.Background(), tok.Refresh)
	var rl *mercadolibre.RateLimited
	if !errors.As(err, &rl) || errors.Is(err, mercadolibre.ErrInvalidGrant) {
		t.Fatalf("429 on refresh: %v", err)
	}
	// The refused refresh did not spend the token.
	if _, err := c.Refresh(context.Background(), tok.Refresh); err != nil {
		t.Fatal(err)
	}
}

func TestServerErrors(t *testing.T) {
	fake, c := setup(t)
	ctx := context.Background()
	tok := connect(t, c)
	fake.PutOrder(mlfake.NewOrder(seller, 42, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "10"}).Paid())
	for _, status := range []int{500, 502, 503} {
		fake.FailNext("/orders/42", status, 1, 0)
		_, err := c.Order(ctx, tok.Access, 42)
		var se *mercadolibre.ServerError
		if !errors.As(err, &se) || se.Status != status || !mercadolibre.Retryable(err) {
			t.Fatalf("%d: %v", status, err)
		}
		if errors.Is(err, mercadolibre.ErrNotFound) || errors.Is(err, mercadolibre.ErrUnauthorized) {
			t.Fatalf("%d misclassified: %v", status, err)
		}
	}
	fake.FailNext("/orders/42", 503, 1, 30*time.Second)
	_, err := c.Order(ctx, tok.Access, 42)
	if mercadolibre.RetryAfter(err) != 30*time.Second {
		t.Fatalf("503 Retry-After: %v", err)
	}
	if _, err := c.Order(ctx, tok.Access, 42); err != nil {
		t.Fatal(err)
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway from the proxy</html>", http.StatusBadGateway)
	}))
	defer srv.Close()
	c := mercadolibre.New(mercadolibre.Config{APIURL: srv.URL})
	_, err := c.Order(context.Background(), "t", 1)
	var se *mercadolibre.ServerError
	if !errors.As(err, &se) || se.Status != 502 || !strings.Contains(err.Error(), "bad gateway from the proxy") {
		t.Fatalf("%v", err)
	}
}

func TestSlowAnswerAndContext(t *testing.T) {
	fake, c := setup(t)
	tok := connect(t, c)
	fake.SlowNext("/orders/search", time.Minute, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.SearchOrders(ctx, tok.Access, mercadolibre.Search{Seller: seller})
	if !errors.Is(err, context.DeadlineExceeded) || !mercadolibre.Retryable(err) {
		t.Fatalf("deadline: %v", err)
	}
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	_, err = c.SearchOrders(cancelled, tok.Access, mercadolibre.Search{Seller: seller})
	if !errors.Is(err, context.Canceled) || mercadolibre.Retryable(err) {
		t.Fatalf("cancelled: %v", err)
	}
	// The client's own timeout counts as a retryable network error.
	fake.SlowNext("/orders/search", time.Minute, 1)
	short := mercadolibre.New(mercadolibre.Config{APIURL: fake.URL(), HTTP: &http.Client{Timeout: 50 * time.Millisecond}})
	_, err = short.SearchOrders(context.Background(), tok.Access, mercadolibre.Search{Seller: seller})
	if err == nil || !mercadolibre.Retryable(err) {
		t.Fatalf("client timeout: %v", err)
	}
}

func TestRetryableNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	c := mercadolibre.New(mercadolibre.Config{APIURL: base})
	_, err := c.Order(context.Background(), "t", 1)
	if err == nil || !mercadolibre.Retryable(err) || mercadolibre.RetryAfter(err) != 0 {
		t.Fatalf("connection refused: %v", err)
	}
	if mercadolibre.Retryable(nil) || mercadolibre.Retryable(errors.New("x")) || mercadolibre.Retryable(mercadolibre.ErrForbidden) {
		t.Fatal("plain errors are not retryable")
	}
}

func TestPagingCollectsEachOrderOnce(t *testing.T) {
	fake, c := setup(t)
	ctx := context.Background()
	tok := connect(t, c)
	ids := fake.Seed(seller, 120, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	fake.Seed(other, 7, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	seen := map[int64]int{}
	var prev time.Time
	s := mercadolibre.Search{Seller: seller, Limit: 500} // clamped to 50
	pages := 0
	for {
		p, err := c.SearchOrders(ctx, tok.Access, s)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.Total != 120 || p.Limit != 50 || p.Offset != s.Offset {
			t.Fatalf("paging %d/%d/%d at offset %d", p.Total, p.Offset, p.Limit, s.Offset)
		}
		for _, o := range p.Orders {
			seen[o.ID]++
			if o.SellerID != seller {
				t.Fatalf("order %d of seller %d", o.ID, o.SellerID)
			}
			if o.DateCreated.Before(prev) {
				t.Fatalf("date_asc broken at %d", o.ID)
			}
			prev = o.DateCreated
		}
		s.Offset += p.Limit
		if s.Offset >= p.Total {
			break
		}
	}
	if pages != 3 || len(seen) != 120 || fake.Calls("/orders/search") != 3 {
		t.Fatalf("%d pages, %d orders, %d calls", pages, len(seen), fake.Calls("/orders/search"))
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("order %d seen %d times", id, seen[id])
		}
	}
}

func TestSearchByLastUpdated(t *testing.T) {
	fake, c := setup(t)
	ctx := context.Background()
	tok := connect(t, c)
	var mu sync.Mutex
	now := time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC)
	fake.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	at := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	item := mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "100"}
	t1, t2, t3 := now, now.Add(time.Hour), now.Add(2*time.Hour)
	for i, ts := range []time.Time{t1, t2, t3} {
		at(ts)
		fake.PutOrder(mlfake.NewOrder(seller, int64(101+i), item).Paid())
	}
	search := func(from, to time.Time) []int64 {
		t.Helper()
		p, err := c.SearchOrders(ctx, tok.Access, mercadolibre.Search{Seller: seller, UpdatedFrom: from, UpdatedTo: to})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, o := range p.Orders {
			ids = append(ids, o.ID)
		}
		return ids
	}
	art := time.FixedZone("ART", -3*3600) // the offset travels: zones do not matter
	if got := search(t2.In(art), time.Time{}); !equal(got, 102, 103) {
		t.Fatalf("from t2: %v", got)
	}
	if got := search(t2, t2); !equal(got, 102) {
		t.Fatalf("exactly t2: %v", got)
	}
	if got := search(time.Time{}, t2.Add(-time.Millisecond)); !equal(got, 101) {
		t.Fatalf("up to t2: %v", got)
	}
	// An old order cancelled later shows up in the next incremental pass.
	at(t3.Add(time.Hour))
	fake.SetStatus(101, "cancelled")
	p, err := c.SearchOrders(ctx, tok.Access, mercadolibre.Search{Seller: seller, UpdatedFrom: t3.Add(time.Millisecond)})
	if err != nil || len(p.Orders) != 1 || p.Orders[0].ID != 101 || p.Orders[0].Status != "cancelled" || !p.Orders[0].LastUpdated.Equal(t3.Add(time.Hour)) {
		t.Fatalf("after SetStatus: %v %+v", err, p)
	}
	// Other filters combine with it.
	p, err = c.SearchOrders(ctx, tok.Access, mercadolibre.Search{Seller: seller, UpdatedFrom: t1, Status: "paid", Sort: "date_desc"})
	if err != nil || p.Total != 2 || p.Orders[0].ID != 103 || p.Orders[1].ID != 102 {
		t.Fatalf("paid, date_desc: %v %+v", err, p)
	}
}

func equal(got []int64, want ...int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestOtherSellerAndMissing(t *testing.T) {
	fake, c := setup(t)
	ctx := context.Background()
	tok := connect(t, c)
	theirs := fake.Seed(other, 4, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	mine := fake.Seed(seller, 4, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))

	_, err := c.SearchOrders(ctx, tok.Access, mercadolibre.Search{Seller: other})
	if !errors.Is(err, mercadolibre.ErrForbidden) || mercadolibre.Retryable(err) {
		t.Fatalf("search as another seller: %v", err)
	}
	if _, err := c.Order(ctx, tok.Access, theirs[0]); !errors.Is(err, mercadolibre.ErrForbidden) {
		t.Fatalf("another seller's order: %v", err)
	}
	if _, err := c.Order(ctx, tok.Access, 999); !errors.Is(err, mercadolibre.ErrNotFound) || errors.Is(err, mercadolibre.ErrForbidden) {
		t.Fatalf("unknown order: %v", err)
	}
	o, err := c.Order(ctx, tok.Access, mine[2])
	if err != nil || o.PackID == 0 {
		t.Fatalf("pack member: %v %+v", err, o)
	}
	ids, err := c.Pack(ctx, tok.Access, o.PackID)
	if err != nil || !equal(ids, mine[2], mine[3]) {
		t.Fatalf("pack: %v %v", err, ids)
	}
	theirOrder, _ := fake.Order(theirs[2])
	if _, err := c.Pack(ctx, tok.Access, theirOrder.PackID); !errors.Is(err, mercadolibre.ErrForbidden) {
		t.Fatalf("another seller's pack: %v", err)
	}
	if _, err := c.Pack(ctx, tok.Access, 1); !errors.Is(err, mercadolibre.ErrNotFound) {
		t.Fatalf("unknown pack: %v", err)
	}
	if _, err := c.SearchOrders(ctx, tok.Access, mercadolibre.Search{}); err == nil {
		t.Fatal("a search without seller must fail before any call")
	}
}

func TestExactAmounts(t *testing.T) {
	fake, c := setup(t)
	tok := connect(t, c)
	o := mlfake.NewOrder(seller, 2000008765432101,
		mlfake.Item{ID: "MLA1234567890", Title: "Auriculares inalambricos XY", SKU: "SKU-ABC-01", Quantity: 2, UnitPrice: "15000.5"},
		mlfake.Item{ID: "MLA1234567891", Title: "Funda", Quantity: 3, UnitPrice: "0.1"},
	).Shipping("3500").Paid().Refund("1000.25").MShops()
	fake.PutOrder(o)
	got, err := c.Order(context.Background(), tok.Access, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	// 2 × 15000.5 + 3 × 0.1: float64 would make the second 0.30000000000000004.
	if got.TotalAmount != "30001.30" || got.PaidAmount != "33501.30" || got.ShippingCost != "3500.00" {
		t.Fatalf("amounts total %s paid %s shipping %s", got.TotalAmount, got.PaidAmount, got.ShippingCost)
	}
	if got.Items[0].UnitPrice != "15000.50" || got.Items[0].Quantity != 2 || got.Items[0].SKU != "SKU-ABC-01" || got.Items[1].UnitPrice != "0.10" || got.Items[1].SKU != "" {
		t.Fatalf("items %+v", got.Items)
	}
	p := got.Payments[0]
	if p.Amount != "30001.30" || p.Refunded != "1000.25" || p.ShippingCost != "3500.00" || p.Status != "approved" || p.DateApproved.IsZero() {
		t.Fatalf("payment %+v", p)
	}
	if got.Status != "partially_refunded" || !got.MercadoShops() || got.Currency != "ARS" || got.Buyer.Nickname != "COMPRADOR_TEST" || got.DateClosed.IsZero() {
		t.Fatalf("order %+v", got)
	}
	if _, off := got.DateCreated.Zone(); off != -4*3600 {
		t.Fatalf("offset %d not kept", off)
	}
}

// Raw bodies the fake would never write: exponents, huge totals, integers,
// nulls, too many decimals.
func TestAmountsFromRawJSON(t *testing.T) {
	body := `{"id":2000008765432101,"status":"paid","status_detail":{"code":null},
	"date_created":"2025-03-10T14:20:11.000-04:00","date_closed":null,"last_updated":"2025-03-10T18:25:40Z",
	"total_amount":90071992547409.93,"paid_amount":1.5e3,"shipping_cost":null,"currency_id":"ARS",
	"order_items":[{"item":{"id":"MLA1","title":"t","seller_sku":null},"quantity":1,"unit_price":30000}],
	"buyer":{"id":1,"nickname":"B"},"seller":{"id":123456789},
	"payments":[{"id":7,"status":"approved","transaction_amount":"30000.0","transaction_amount_refunded":0,"shipping_cost":null,"date_approved":"2025-03-10T14:22:04.000-0400"}],
	"pack_id":2000000000000001,"tags":["paid"]}`
	var mu sync.Mutex
	serve := body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(w, serve)
	}))
	defer srv.Close()
	c := mercadolibre.New(mercadolibre.Config{APIURL: srv.URL})
	o, err := c.Order(context.Background(), "t", 1)
	if err != nil {
		t.Fatal(err)
	}
	if o.TotalAmount != "90071992547409.93" || o.PaidAmount != "1500.00" || o.Items[0].UnitPrice != "30000.00" ||
		o.Payments[0].Amount != "30000.00" || o.Payments[0].Refunded != "0.00" || o.ShippingCost != "0.00" {
		t.Fatalf("%+v", o)
	}
	if !o.DateClosed.IsZero() || o.PackID != 2000000000000001 || o.Payments[0].DateApproved.IsZero() || o.MercadoShops() {
		t.Fatalf("%+v", o)
	}
	for _, bad := range []string{
		strings.Replace(body, "90071992547409.93", "30000.005", 1),
		strings.Replace(body, `"30000.0"`, `"treinta"`, 1),
		strings.Replace(body, `"2025-03-10T14:20:11.000-04:00"`, `"10/03/2025"`, 1),
	} {
		mu.Lock()
		serve = bad
		mu.Unlock()
		if _, err := c.Order(context.Background(), "t", 1); err == nil || mercadolibre.Retryable(err) {
			t.Fatalf("accepted or retryable: %v\n%s", err, bad)
		}
	}
	// A cut-off body looks like a dropped connection: worth another try.
	mu.Lock()
	serve = body[:40]
	mu.Unlock()
	if _, err := c.Order(context.Background(), "t", 1); err == nil || !mercadolibre.Retryable(err) {
		t.Fatalf("truncated body: %v", err)
	}
}

// The token goes in the header, never the URL (§1.6).
func TestBearerHeaderOnly(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		io.WriteString(w, `{"paging":{"total":0,"offset":0,"limit":50},"results":[]}`)
	}))
	defer srv.Close()
	c := mercadolibre.New(mercadolibre.Config{APIURL: srv.URL})
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.FixedZone("", -3*3600))
	if _, err := c.SearchOrders(context.Background(), "APP_USR-1", mercadolibre.Search{Seller: 5, UpdatedFrom: from, UpdatedTo: from.Add(time.Hour).UTC(), Tags: "mshops"}); err != nil {
		t.Fatal(err)
	}
	r := <-got
	q := r.URL.Query()
	if r.Header.Get("Authorization") != "Bearer APP_USR-1" || q.Has("access_token") || strings.Contains(r.URL.RawQuery, "APP_USR") {
		t.Fatalf("auth: header %q query %q", r.Header.Get("Authorization"), r.URL.RawQuery)
	}
	want := map[string]string{
		"seller": "5", "sort": "date_asc", "offset": "0", "limit": "50", "tags": "mshops",
		"order.date_last_updated.from": "2025-03-01T00:00:00.000-03:00",
		"order.date_last_updated.to":   "2025-03-01T04:00:00.000+00:00",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Has("order.last_updated.from") || len(q) != len(want) {
		t.Errorf("query %v", q)
	}
}

func TestNotificationDeliveryAndRetry(t *testing.T) {
	fake, c := setup(t)
	tok := connect(t, c)
	fake.PutOrder(mlfake.NewOrder(seller, 2000008765432101, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "10"}).Paid())
	bodies := make(chan []byte, 10)
	var mu sync.Mutex
	calls := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			http.Error(w, "queue down", http.StatusInternalServerError)
		}
	}))
	defer recv.Close()
	fake.SetCallback(recv.URL)
	fake.Notify(2000008765432101)
	fake.Drain()
	close(bodies)
	var got []mercadolibre.Notification
	for b := range bodies {
		n, err := mercadolibre.ParseNotification(b)
		if err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		got = append(got, n)
	}
	if len(got) != 2 || got[0].Attempts != 1 || got[1].Attempts != 2 || got[0].ID != got[1].ID || got[0].ID == "" {
		t.Fatalf("deliveries %+v", got)
	}
	n := got[1]
	id, ok := n.OrderID()
	if !ok || id != 2000008765432101 || n.UserID != seller || n.Topic != "orders_v2" || n.ApplicationID != 5503910054141466 || n.Sent.IsZero() || n.Received.IsZero() {
		t.Fatalf("notification %+v", n)
	}
	// The body has no order data: fetch it.
	o, err := c.Order(context.Background(), tok.Access, id)
	if err != nil || o.Status != "paid" {
		t.Fatalf("%v %+v", err, o)
	}
}

func TestDuplicateNotifications(t *testing.T) {
	fake, _ := setup(t)
	fake.PutOrder(mlfake.NewOrder(seller, 77, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "10"}).Paid())
	bodies := make(chan []byte, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer recv.Close()
	fake.SetCallback(recv.URL)
	fake.NotifyDuplicate(77, 3)
	fake.Drain()
	close(bodies)
	ids := map[string]int{}
	for b := range bodies {
		n, err := mercadolibre.ParseNotification(b)
		if err != nil {
			t.Fatal(err)
		}
		if oid, ok := n.OrderID(); !ok || oid != 77 {
			t.Fatalf("%+v", n)
		}
		ids[n.ID]++
	}
	if len(ids) != 1 {
		t.Fatalf("want one _id delivered 3 times, got %v", ids)
	}
	for _, c := range ids {
		if c != 3 {
			t.Fatalf("delivered %d times, want 3", c)
		}
	}
}

func TestParseNotification(t *testing.T) {
	good := `{"_id":"f9f08571-1f65-4c46-9e0a-c0f43f1557ea","resource":"/orders/2000008765432101","user_id":123456789,
	"topic":"orders_v2","application_id":5503910054141466,"attempts":1,"sent":"2025-03-10T18:25:41.129Z","received":"2025-03-10T18:25:41.106Z","actions":["created"]}`
	n, err := mercadolibre.ParseNotification([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 3, 10, 18, 25, 41, 129e6, time.UTC)
	if n.UserID != 123456789 || n.ApplicationID != 5503910054141466 || n.Attempts != 1 || !n.Sent.Equal(want) || n.ID != "f9f08571-1f65-4c46-9e0a-c0f43f1557ea" {
		t.Fatalf("%+v", n)
	}
	if id, ok := n.OrderID(); !ok || id != 2000008765432101 {
		t.Fatalf("OrderID %d %v", id, ok)
	}
	for name, body := range map[string]string{
		"empty":            ``,
		"not json":         `topic=orders_v2`,
		"array":            `[]`,
		"null":             `null`,
		"no topic":         `{"resource":"/orders/1","user_id":1}`,
		"no resource":      `{"topic":"orders_v2","user_id":1}`,
		"relative":         `{"topic":"orders_v2","resource":"orders/1","user_id":1}`,
		"no user":          `{"topic":"orders_v2","resource":"/orders/1"}`,
		"zero user":        `{"topic":"orders_v2","resource":"/orders/1","user_id":0}`,
		"text user":        `{"topic":"orders_v2","resource":"/orders/1","user_id":"abc"}`,
		"fraction user":    `{"topic":"orders_v2","resource":"/orders/1","user_id":1.5}`,
		"bad app":          `{"topic":"orders_v2","resource":"/orders/1","user_id":1,"application_id":1.5}`,
		"bad sent":         `{"topic":"orders_v2","resource":"/orders/1","user_id":1,"sent":"yesterday"}`,
		"trailing garbage": `{"topic":"orders_v2","resource":"/orders/1","user_id":1} {}`,
		"too large":        `{"topic":"orders_v2","resource":"/orders/1","user_id":1,"x":"` + strings.Repeat("a", 70000) + `"}`,
	} {
		if _, err := mercadolibre.ParseNotification([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, tc := range []struct {
		topic, resource string
	}{
		{"items", "/items/MLA1"},
		{"payments", "/orders/1"},
		{"orders_v2", "/orders/abc"},
		{"orders_v2", "/orders/1/billing_info"},
		{"orders_v2", "/orders/"},
		{"orders_v2", "/orders/-5"},
		{"orders_v2", "/orders/99999999999999999999"},
	} {
		if id, ok := (mercadolibre.Notification{Topic: tc.topic, Resource: tc.resource}).OrderID(); ok {
			t.Errorf("%s %s → %d", tc.topic, tc.resource, id)
		}
	}
}

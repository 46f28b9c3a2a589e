package mlfake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"pulso/app/store/mercadolibre/mlfake"
)

const (
	app      = "5503910054141466"
	secret   = "s3cr3t"
	redirect = "https://pulso.test/ml/callback?tenant=7"
	seller   = int64(123456789)
	other    = int64(222333444)
)

func start(t *testing.T) (*mlfake.Server, string) {
	t.Helper()
	fake, base, stop := mlfake.Start()
	t.Cleanup(stop)
	fake.AddApp(app, secret, redirect)
	fake.AddSeller(seller, "VENDEDOR")
	fake.AddSeller(other, "OTRO")
	return fake, base
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get performs a GET with an optional bearer token and returns status and
// body.
func get(t *testing.T, rawURL, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func postForm(t *testing.T, rawURL string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(rawURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, m
}

func authorize(t *testing.T, base string, q url.Values) (int, *url.URL) {
	t.Helper()
	resp, err := noRedirects.Get(base + "/authorization?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return resp.StatusCode, loc
}

func authQuery() url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {app}, "redirect_uri": {redirect}, "state": {"xyz"}}
}

func TestAuthorization(t *testing.T) {
	fake, base := start(t)
	if st, _ := authorize(t, base, authQuery()); st != http.StatusUnauthorized {
		t.Fatalf("nobody logged in: %d", st)
	}
	fake.LoginAs(seller)
	for name, mutate := range map[string]func(url.Values){
		"unknown client":  func(q url.Values) { q.Set("client_id", "999") },
		"other redirect":  func(q url.Values) { q.Set("redirect_uri", "https://evil.test/cb") },
		"redirect prefix": func(q url.Values) { q.Set("redirect_uri", "https://pulso.test/ml/callback") },
		"token flow":      func(q url.Values) { q.Set("response_type", "token") },
	} {
		q := authQuery()
		mutate(q)
		if st, _ := authorize(t, base, q); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, st)
		}
	}
	st, loc := authorize(t, base, authQuery())
	if st != http.StatusFound || loc.Host != "pulso.test" || loc.Query().Get("tenant") != "7" || loc.Query().Get("state") != "xyz" {
		t.Fatalf("%d %v", st, loc)
	}
	if code := loc.Query().Get("code"); !strings.HasPrefix(code, "TG-") || !strings.HasSuffix(code, "-123456789") {
		t.Fatalf("code %q", code)
	}
}

func code(t *testing.T, fake *mlfake.Server, base string, user int64) string {
	t.Helper()
	fake.LoginAs(user)
	_, loc := authorize(t, base, authQuery())
	return loc.Query().Get("code")
}

func exchangeForm(c string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {app}, "client_secret": {secret}, "code": {c}, "redirect_uri": {redirect}}
}

func TestTokenEndpoint(t *testing.T) {
	fake, base := start(t)
	st, tok := postForm(t, base+"/oauth/token", exchangeForm(code(t, fake, base, seller)))
	if st != 200 || tok["token_type"] != "Bearer" || tok["expires_in"] != 21600.0 || tok["user_id"] != 123456789.0 ||
		!strings.HasPrefix(tok["access_token"].(string), "APP_USR-"+app+"-") || !strings.HasPrefix(tok["refresh_token"].(string), "TG-") {
		t.Fatalf("%d %v", st, tok)
	}
	for name, tc := range map[string]struct {
		form   url.Values
		status int
		code   string
	}{
		"wrong secret": {func() url.Values {
			f := exchangeForm(code(t, fake, base, seller))
			f.Set("client_secret", "x")
			return f
		}(), 400, "invalid_client"},
		"unknown code":  {exchangeForm("TG-000-1"), 400, "invalid_grant"},
		"no grant type": {func() url.Values { f := exchangeForm("x"); f.Del("grant_type"); return f }(), 400, "invalid_request"},
		"password":      {func() url.Values { f := exchangeForm("x"); f.Set("grant_type", "password"); return f }(), 400, "unsupported_grant_type"},
		"duplicated":    {func() url.Values { f := exchangeForm("x"); f.Add("code", "y"); return f }(), 400, "invalid_request"},
		"redirect mismatch": {func() url.Values {
			f := exchangeForm(code(t, fake, base, seller))
			f.Set("redirect_uri", "https://pulso.test/other")
			return f
		}(), 400, "invalid_grant"},
	} {
		st, body := postForm(t, base+"/oauth/token", tc.form)
		if st != tc.status || body["error"] != tc.code {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
	// §1.3: parameters in the query string, or JSON, are refused.
	resp, err := http.Post(base+"/oauth/token?"+exchangeForm(code(t, fake, base, seller)).Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("query-string grant: %d", resp.StatusCode)
	}
	js, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "client_id": app, "client_secret": secret, "code": code(t, fake, base, seller), "redirect_uri": redirect})
	resp, err = http.Post(base+"/oauth/token", "application/json", bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("JSON grant: %d", resp.StatusCode)
	}
}

// Pulso's refresh lock is tested against this exact body (§1.7).
func TestInvalidGrantBodyAndRotation(t *testing.T) {
	fake, base := start(t)
	_, tok := postForm(t, base+"/oauth/token", exchangeForm(code(t, fake, base, seller)))
	rf := func(rt string) (*http.Response, []byte) {
		resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app}, "client_secret": {secret}, "refresh_token": {rt}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	old := tok["refresh_token"].(string)
	if resp, b := rf(old); resp.StatusCode != 200 || strings.Contains(string(b), old) {
		t.Fatalf("first refresh: %d %s", resp.StatusCode, b)
	}
	resp, b := rf(old)
	want := `{"cause":[],"error":"invalid_grant","message":"Error validating grant. Your authorization code or refresh token may be expired or it was already used","status":400}`
	if resp.StatusCode != 400 || strings.TrimSpace(string(b)) != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("reused refresh token: %d %s", resp.StatusCode, b)
	}
	if n := fake.RefreshCount(seller); n != 1 {
		t.Fatalf("RefreshCount %d", n)
	}
}

func TestRevokeAndLifetime(t *testing.T) {
	fake, base := start(t)
	var mu sync.Mutex
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	fake.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	fake.SetTokenLifetime(90 * time.Second)
	st, tok := postForm(t, base+"/oauth/token", exchangeForm(code(t, fake, base, seller)))
	if st != 200 || tok["expires_in"] != 90.0 {
		t.Fatalf("%d %v", st, tok)
	}
	access := tok["access_token"].(string)
	search := base + "/orders/search?seller=123456789"
	if st, b := get(t, search, access); st != 200 {
		t.Fatalf("fresh token: %d %s", st, b)
	}
	mu.Lock()
	now = now.Add(90 * time.Second)
	mu.Unlock()
	st, b := get(t, search, access)
	if st != 401 || !strings.Contains(string(b), `"status":401`) {
		t.Fatalf("expired token: %d %s", st, b)
	}
	// Codes expire after 10 minutes.
	c := code(t, fake, base, seller)
	mu.Lock()
	now = now.Add(11 * time.Minute)
	mu.Unlock()
	if st, body := postForm(t, base+"/oauth/token", exchangeForm(c)); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("stale code: %d %v", st, body)
	}
	fake.Revoke(seller)
	if st, body := postForm(t, base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app}, "client_secret": {secret}, "refresh_token": {tok["refresh_token"].(string)}}); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after revoke: %d %v", st, body)
	}
}

func TestAPIAuth(t *testing.T) {
	fake, base := start(t)
	access := fake.TokenFor(app, seller)
	search := base + "/orders/search?seller=123456789"
	for name, tc := range map[string]struct{ url, token string }{
		"no token":         {search, ""},
		"unknown token":    {search, "APP_USR-nope"},
		"token in query":   {search + "&access_token=" + url.QueryEscape(access), ""},
		"token both ways":  {search + "&access_token=" + url.QueryEscape(access), access},
		"order, no token":  {base + "/orders/1", ""},
		"pack, no token":   {base + "/packs/1", ""},
		"missed, no token": {base + "/missed_feeds?app_id=" + app, ""},
	} {
		if st, b := get(t, tc.url, tc.token); st != 401 {
			t.Errorf("%s: %d %s", name, st, b)
		}
	}
	fake.ExpireAccessTokens()
	if st, _ := get(t, search, access); st != 401 {
		t.Fatalf("after ExpireAccessTokens: %d", st)
	}
}

// searchResp is the envelope of §2.1 with raw results, to look at numbers
// as written.
type searchResp struct {
	Paging  struct{ Total, Offset, Limit int } `json:"paging"`
	Results []json.RawMessage                  `json:"results"`
	Sort    struct{ ID string }                `json:"sort"`
}

func search(t *testing.T, base, token, query string) searchResp {
	t.Helper()
	st, b := get(t, base+"/orders/search?"+query, token)
	if st != 200 {
		t.Fatalf("%s: %d %s", query, st, b)
	}
	var r searchResp
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func ids(t *testing.T, r searchResp) []int64 {
	var out []int64
	for _, raw := range r.Results {
		var o struct{ ID int64 }
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o.ID)
	}
	return out
}

func TestSearch(t *testing.T) {
	fake, base := start(t)
	var mu sync.Mutex
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	fake.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	access := fake.TokenFor(app, seller)
	it := mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "100"}
	day := func(d int) time.Time { return time.Date(2025, 3, d, 10, 0, 0, 0, time.UTC) }
	fake.PutOrder(mlfake.NewOrder(seller, 1, it).At(day(1)).Paid())
	fake.PutOrder(mlfake.NewOrder(seller, 2, it).At(day(2)).Paid().MShops())
	fake.PutOrder(mlfake.NewOrder(seller, 3, it).At(day(3)).Paid().Cancel())
	fake.PutOrder(mlfake.NewOrder(seller, 4, it).At(day(4)).Pending())
	fake.PutOrder(mlfake.NewOrder(other, 5, it).At(day(5)).Paid())

	check := func(query string, want ...int64) {
		t.Helper()
		got := ids(t, search(t, base, access, query))
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", query, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: %v, want %v", query, got, want)
			}
		}
	}
	check("seller=123456789", 1, 2, 3, 4)
	check("seller=123456789&sort=date_desc", 4, 3, 2, 1)
	check("seller=123456789&order.status=paid", 1, 2)
	check("seller=123456789&order.status=paid,cancelled", 1, 2, 3)
	check("seller=123456789&tags=mshops", 2)
	check("seller=123456789&tags.not=mshops&order.status=paid", 1)
	check("seller=123456789&order.date_created.from=2025-03-02T07:00:00.000-03:00&order.date_created.to=2025-03-03T10:00:00.000Z", 2, 3)
	check("seller=123456789&order.date_closed.from=2025-03-02T00:00:00.000-03:00", 2, 3) // 4 is unpaid: no date_closed
	// The misnamed filter is ignored, as ML does (§2.1).
	check("seller=123456789&order.last_updated.from=2030-01-01T00:00:00.000-03:00", 1, 2, 3, 4)
	// Paging: total is independent of the page.
	r := search(t, base, access, "seller=123456789&limit=2&offset=3")
	if r.Paging.Total != 4 || r.Paging.Offset != 3 || r.Paging.Limit != 2 || len(r.Results) != 1 || r.Sort.ID != "date_asc" {
		t.Fatalf("paging %+v, %d results", r.Paging, len(r.Results))
	}
	if r := search(t, base, access, "seller=123456789&offset=50"); r.Paging.Total != 4 || len(r.Results) != 0 {
		t.Fatalf("past the end %+v", r.Paging)
	}
	for _, q := range []string{
		"", "seller=abc", "seller=123456789&limit=51", "seller=123456789&limit=-1", "seller=123456789&offset=-1",
		"seller=123456789&sort=price_asc", "seller=123456789&order.date_last_updated.from=2025-03-01",
	} {
		if st, b := get(t, base+"/orders/search?"+q, access); st != 400 {
			t.Errorf("%q: %d %s", q, st, b)
		}
	}
	if st, b := get(t, base+"/orders/search?seller=222333444", access); st != 403 || !strings.Contains(string(b), "FORBIDDEN") {
		t.Fatalf("other seller: %d %s", st, b)
	}
}

// The JSON is §2.4's: numbers as ML writes them, nulls where ML has them,
// dates with milliseconds and offset.
func TestOrderShape(t *testing.T) {
	fake, base := start(t)
	access := fake.TokenFor(app, seller)
	created := time.Date(2025, 3, 10, 18, 20, 11, 0, time.UTC)
	fake.PutOrder(mlfake.NewOrder(seller, 2000008765432101,
		mlfake.Item{ID: "MLA1234567890", Title: "Auriculares", SKU: "SKU-ABC-01", Quantity: 2, UnitPrice: "15000"},
	).At(created).Shipping("3500").Paid())
	st, b := get(t, base+"/orders/2000008765432101", access)
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	for _, frag := range []string{
		`"id":2000008765432101`, `"total_amount":30000.0`, `"paid_amount":33500.0`, `"unit_price":15000.0`,
		`"shipping_cost":3500.0`, `"transaction_amount_refunded":0.0`, `"pack_id":null`, `"status_detail":null`,
		`"date_created":"2025-03-10T14:20:11.000-04:00"`, `"seller_sku":"SKU-ABC-01"`, `"currency_id":"ARS"`,
		`"status":"paid"`, `"tags":["paid","not_delivered"]`, `"site":"MLA"`, `"seller":{"id":123456789}`,
	} {
		if !bytes.Contains(b, []byte(frag)) {
			t.Errorf("missing %s in %s", frag, b)
		}
	}
	fake.PutOrder(mlfake.NewOrder(other, 9, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "1"}))
	if st, _ := get(t, base+"/orders/9", access); st != 403 {
		t.Fatalf("other seller's order: %d", st)
	}
	if st, b := get(t, base+"/orders/10", access); st != 404 || !strings.Contains(string(b), `"status":404`) {
		t.Fatalf("unknown order: %d %s", st, b)
	}
	if st, _ := get(t, base+"/orders/abc", access); st != 400 {
		t.Fatalf("bad id: %d", st)
	}
	if st, b := get(t, base+"/nothing/here", access); st != 404 || !strings.Contains(string(b), `"cause":[]`) {
		t.Fatalf("unknown path: %d %s", st, b)
	}
}

func TestSetStatusBumpsAndNotifies(t *testing.T) {
	fake, base := start(t)
	var mu sync.Mutex
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	fake.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	got := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer recv.Close()
	fake.SetCallback(recv.URL)
	fake.PutOrder(mlfake.NewOrder(seller, 7, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "1"}).Paid())
	before, _ := fake.Order(7)
	fake.SetStatus(7, "cancelled") // same clock: still strictly later
	fake.Drain()
	after, _ := fake.Order(7)
	if after.Status != "cancelled" || !after.LastUpdated.After(before.LastUpdated) {
		t.Fatalf("before %v after %v %s", before.LastUpdated, after.LastUpdated, after.Status)
	}
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	var n map[string]any
	if err := json.Unmarshal(<-got, &n); err != nil {
		t.Fatal(err)
	}
	if n["resource"] != "/orders/7" || n["topic"] != "orders_v2" || n["user_id"] != 123456789.0 || n["attempts"] != 1.0 ||
		n["application_id"] != 5503910054141466.0 || n["sent"] != "2025-03-10T12:00:00.000Z" || n["_id"] == "" {
		t.Fatalf("%v", n)
	}
	access := fake.TokenFor(app, seller)
	r := search(t, base, access, "seller=123456789&order.date_last_updated.from=2025-03-10T12:00:00.001Z")
	if r.Paging.Total != 1 {
		t.Fatalf("bumped order not found by date_last_updated: %+v", r.Paging)
	}
}

// A receiver slower than 500 ms counts as a failure and gets the
// notification again (§3).
func TestNotificationSlowReceiverRetried(t *testing.T) {
	fake, _ := start(t)
	fake.PutOrder(mlfake.NewOrder(seller, 7, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "1"}).Paid())
	var mu sync.Mutex
	var attempts []float64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n map[string]any
		_ = json.NewDecoder(r.Body).Decode(&n)
		mu.Lock()
		attempts = append(attempts, n["attempts"].(float64))
		first := len(attempts) == 1
		mu.Unlock()
		if first {
			<-r.Context().Done() // hold on until the fake gives up on us
		}
	}))
	defer recv.Close()
	fake.SetCallback(recv.URL)
	fake.Notify(7)
	fake.Drain()
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 2 || attempts[0] != 1 || attempts[1] != 2 {
		t.Fatalf("attempts %v", attempts)
	}
}

func TestMissedFeeds(t *testing.T) {
	fake, base := start(t)
	fake.PutOrder(mlfake.NewOrder(seller, 7, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 1, UnitPrice: "1"}).Paid())
	var mu sync.Mutex
	hits := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted) // anything but 200 is a failure (§3)
	}))
	defer recv.Close()
	fake.SetCallback(recv.URL)
	fake.SetNotifyRetry(3, 0)
	fake.Notify(7)
	fake.Drain()
	if hits != 3 {
		t.Fatalf("%d attempts, want 3", hits)
	}
	fake.SetCallback("") // nothing to deliver to: straight to the feed
	fake.Notify(7)

	access := fake.TokenFor(app, seller)
	st, b := get(t, base+"/missed_feeds?app_id="+app+"&topic=orders_v2", access)
	var feed struct {
		Messages []struct {
			ID       string `json:"_id"`
			Resource string
			Attempts int
			UserID   int64 `json:"user_id"`
		}
		Paging struct{ Total int }
	}
	if err := json.Unmarshal(b, &feed); st != 200 || err != nil {
		t.Fatalf("%d %s %v", st, b, err)
	}
	if feed.Paging.Total != 2 || len(feed.Messages) != 2 || feed.Messages[0].Attempts != 3 || feed.Messages[0].Resource != "/orders/7" || feed.Messages[0].UserID != seller {
		t.Fatalf("%s", b)
	}
	if _, b := get(t, base+"/missed_feeds?app_id="+app+"&topic=items", access); !bytes.Contains(b, []byte(`"messages":[]`)) {
		t.Fatalf("topic filter: %s", b)
	}
	if st, _ := get(t, base+"/missed_feeds?app_id=1", access); st != 403 {
		t.Fatalf("another app's feed: %d", st)
	}
	if st, _ := get(t, base+"/missed_feeds", access); st != 400 {
		t.Fatalf("no app_id: %d", st)
	}
}

func TestFailureInjection(t *testing.T) {
	fake, base := start(t)
	access := fake.TokenFor(app, seller)
	fake.FailNext("/orders/", 503, 2, 1500*time.Millisecond)
	for i := range 2 {
		resp, err := noRedirects.Do(func() *http.Request {
			r, _ := http.NewRequest("GET", base+"/orders/search?seller=123456789", nil)
			r.Header.Set("Authorization", "Bearer "+access)
			return r
		}())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" || !bytes.Contains(b, []byte(`"status":503`)) {
			t.Fatalf("injected %d: %d %q %s", i, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
	if st, _ := get(t, base+"/orders/search?seller=123456789", access); st != 200 {
		t.Fatalf("third call: %d", st)
	}
	// Prefixes select: /packs is untouched by a rule on /orders.
	fake.FailNext("/orders/", 429, 1, 0)
	if st, _ := get(t, base+"/packs/1", access); st != 404 {
		t.Fatalf("pack: %d", st)
	}
	if st, b := get(t, base+"/orders/1", access); st != 429 || !bytes.Contains(b, []byte("too_many_requests")) {
		t.Fatalf("429: %d %s", st, b)
	}
	if n := fake.Calls("/orders/"); n != 4 {
		t.Fatalf("Calls = %d, want 4", n)
	}
	// A slowed call gives way to a client that stops waiting.
	fake.SlowNext("/orders/", time.Hour, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/orders/1", nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("slowed call answered before the client's deadline")
	}
}

// Faults can wait for a number of matching calls: the middle of a run.
func TestFailureInjectionAfterCalls(t *testing.T) {
	fake, base := start(t)
	access := fake.TokenFor(app, seller)
	search := base + "/orders/search?seller=123456789"
	fake.FailAfter("/orders/search", 2, 500, 1, 0)
	for i, want := range []int{200, 200, 500, 200} {
		if st, b := get(t, search, access); st != want {
			t.Fatalf("call %d: %d %s, want %d", i+1, st, b, want)
		}
	}
	// Calls elsewhere do not count towards the skip.
	fake.ExpireAccessTokensAfter("/orders/search", 1)
	if st, _ := get(t, base+"/packs/1", access); st != 404 {
		t.Fatalf("pack: %d", st)
	}
	if st, _ := get(t, search, access); st != 200 {
		t.Fatalf("before expiry: %d", st)
	}
	if st, b := get(t, search, access); st != 401 || !bytes.Contains(b, []byte("invalid_token")) {
		t.Fatalf("after expiry: %d %s", st, b)
	}
	// Expiry happens once: a token issued afterwards works.
	fresh := fake.TokenFor(app, seller)
	if st, _ := get(t, search, fresh); st != 200 {
		t.Fatalf("fresh token: %d", st)
	}
	fake.SlowAfter("/orders/", 1, time.Hour, 1)
	if st, _ := get(t, base+"/orders/1", fresh); st != 404 {
		t.Fatalf("skipped call: %d", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/orders/1", nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("slowed call answered before the client's deadline")
	}
	// A slowed POST is let go of too when its client gives up: closing
	// the fake at the end of the test would wait an hour for it otherwise.
	fake.SlowNext("/oauth/token", time.Hour, 1)
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "POST", base+"/oauth/token", strings.NewReader("grant_type=refresh_token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("slowed POST answered before the client's deadline")
	}
}

// A held answer waits for the test, and then shows the data as it is.
func TestHoldAfter(t *testing.T) {
	fake, base := start(t)
	access := fake.TokenFor(app, seller)
	fake.PutOrder(mlfake.NewOrder(seller, 42, mlfake.Item{ID: "MLA1", Title: "Mate", Quantity: 1, UnitPrice: "100"}).Paid())
	release := fake.HoldAfter("/orders/", 1)
	if st, _ := get(t, base+"/orders/42", access); st != 200 {
		t.Fatalf("skipped call: %d", st)
	}
	type answer struct {
		st int
		b  []byte
	}
	got := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/orders/42", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{0, []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, b}
	}()
	for fake.Calls("/orders/") < 2 {
		time.Sleep(time.Millisecond)
	}
	select {
	case a := <-got:
		t.Fatalf("answered while held: %d %s", a.st, a.b)
	default:
	}
	fake.SetStatus(42, "cancelled")
	release()
	release()
	if a := <-got; a.st != 200 || !bytes.Contains(a.b, []byte(`"status":"cancelled"`)) {
		t.Fatalf("after release: %d %s", a.st, a.b)
	}
}

func TestSeed(t *testing.T) {
	start0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	bodies := make([][]byte, 2)
	for i := range bodies {
		fake, base := start(t)
		ids := fake.Seed(seller, 30, start0)
		if len(ids) != 30 {
			t.Fatalf("%d ids", len(ids))
		}
		_, bodies[i] = get(t, base+"/orders/search?seller=123456789&limit=50", fake.TokenFor(app, seller))
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Fatal("Seed is not deterministic")
	}
	fake, base := start(t)
	fake.Seed(seller, 30, start0)
	access := fake.TokenFor(app, seller)
	r := search(t, base, access, "seller=123456789&order.status=paid")
	if r.Paging.Total != 30 {
		t.Fatalf("%d paid", r.Paging.Total)
	}
	multi, packs := 0, map[int64][]int64{}
	for _, raw := range r.Results {
		var o struct {
			ID         int64
			PackID     *int64 `json:"pack_id"`
			OrderItems []struct {
				Item struct {
					SKU string `json:"seller_sku"`
				}
			} `json:"order_items"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		if len(o.OrderItems) > 1 {
			multi++
		}
		for _, it := range o.OrderItems {
			if !strings.HasPrefix(it.Item.SKU, "SKU-") {
				t.Fatalf("sku %q", it.Item.SKU)
			}
		}
		if o.PackID != nil {
			packs[*o.PackID] = append(packs[*o.PackID], o.ID)
		}
	}
	mshops := search(t, base, access, "seller=123456789&tags=mshops").Paging.Total
	if multi == 0 || mshops == 0 || len(packs) != 1 {
		t.Fatalf("multi %d mshops %d packs %v", multi, mshops, packs)
	}
	for id, members := range packs {
		st, b := get(t, base+"/packs/"+jsonInt(id), access)
		if st != 200 || len(members) != 2 || !bytes.Contains(b, []byte(`{"id":`+jsonInt(members[0])+`}`)) || !bytes.Contains(b, []byte(`{"id":`+jsonInt(members[1])+`}`)) {
			t.Fatalf("pack %d: %d %s", id, st, b)
		}
	}
	// A second seed adds new ids instead of replacing.
	more := fake.Seed(seller, 5, start0)
	if r := search(t, base, access, "seller=123456789"); r.Paging.Total != 35 || len(more) != 5 {
		t.Fatalf("after second seed: %d", r.Paging.Total)
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestBuilders(t *testing.T) {
	base := mlfake.NewOrder(seller, 1, mlfake.Item{ID: "MLA1", Title: "x", Quantity: 2, UnitPrice: "15000.5"})
	paid := base.Paid()
	refunded := paid.Refund("100").Refund("0.5")
	cancelled := paid.Cancel()
	if base.Status != "confirmed" || len(base.Payments) != 0 || paid.Status != "paid" || paid.Total() != "30001.0" {
		t.Fatalf("base %+v paid %+v", base, paid)
	}
	if refunded.Status != "partially_refunded" || refunded.Payments[0].Refunded != "100.5" || paid.Payments[0].Refunded != "0.0" {
		t.Fatalf("refund leaked or wrong: %+v / %+v", refunded.Payments, paid.Payments)
	}
	if cancelled.Status != "cancelled" || cancelled.Payments[0].Status != "refunded" || cancelled.Payments[0].Refunded != "30001.0" || paid.Payments[0].Status != "approved" {
		t.Fatalf("cancel: %+v / %+v", cancelled.Payments, paid.Payments)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("three decimals accepted")
		}
	}()
	mlfake.NewOrder(seller, 2, mlfake.Item{Quantity: 1, UnitPrice: "1.005"}).Paid()
}

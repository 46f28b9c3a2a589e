package checkout_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pulso/app/checkout"
	"pulso/app/checkout/checkoutfake"
)

var secret = []byte("whsec-test")

// receiver is Pulso's webhook endpoint as the billing code will write it:
// verify, fetch the payment (the truth), apply an approved one once.
type receiver struct {
	srv    *httptest.Server
	client *checkout.Client

	mu         sync.Mutex
	failFirst  int                // answer 500 to this many requests first
	hits       int                // requests received
	verified   []checkout.Webhook // deliveries that passed Verify
	rejected   []error            // deliveries Verify refused
	queryIDs   []string           // data.id of the query string, as the provider sends it
	applied    map[string]checkout.Payment
	applyCount int
	seen       []checkout.Payment // every fetched payment, in arrival order
}

func newReceiver(t *testing.T, client *checkout.Client) *receiver {
	rc := &receiver{client: client, applied: map[string]checkout.Payment{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.hits++
	if rc.failFirst > 0 {
		rc.failFirst--
		rc.mu.Unlock()
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	rc.mu.Unlock()
	wh, err := checkout.Verify(secret, r.Header, body, time.Now(), time.Minute)
	if err != nil {
		rc.mu.Lock()
		rc.rejected = append(rc.rejected, err)
		rc.mu.Unlock()
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	p, err := rc.client.Payment(r.Context(), wh.DataID)
	if err != nil {
		if checkout.Retryable(err) {
			http.Error(w, "later", http.StatusServiceUnavailable)
		}
		return // 200: a payment we cannot see is not ours
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.verified = append(rc.verified, wh)
	rc.queryIDs = append(rc.queryIDs, r.URL.Query().Get("data.id"))
	rc.seen = append(rc.seen, p)
	if p.Status == checkout.Approved {
		if _, done := rc.applied[p.ID]; !done {
			rc.applied[p.ID] = p
			rc.applyCount++
		}
	}
}

func (rc *receiver) snapshot() (hits int, verified []checkout.Webhook, seen []checkout.Payment, applyCount int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits, append([]checkout.Webhook(nil), rc.verified...), append([]checkout.Payment(nil), rc.seen...), rc.applyCount
}

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type env struct {
	fake   *checkoutfake.Server
	client *checkout.Client
	rc     *receiver
}

func setup(t *testing.T) env {
	fake := checkoutfake.Start()
	t.Cleanup(fake.Close)
	client := checkout.New(fake.URL(), checkoutfake.Token, nil)
	rc := newReceiver(t, client)
	fake.SetWebhook(rc.srv.URL+"/webhooks/pagos", secret)
	return env{fake, client, rc}
}

func charge(ref, amount, currency string) checkout.Charge {
	return checkout.Charge{
		Reference: ref, Title: "Pulso Pro · prorrateo", Amount: amount, Currency: currency, Method: "card",
		SuccessURL: "https://pulso.test/billing/done?org=7", CancelURL: "https://pulso.test/billing", Payer: "admin@acme.test",
	}
}

func TestMethods(t *testing.T) {
	e := setup(t)
	ms, err := e.client.Methods(context.Background(), "EUR")
	if err != nil {
		t.Fatal(err)
	}
	// The fake lists cash as inactive for EUR: it must not be offered.
	if len(ms) != 2 || ms[0].ID != "card" || ms[1].ID != "bank_transfer" || ms[0].Name == "" {
		t.Fatalf("EUR methods = %+v", ms)
	}
	ms, err = e.client.Methods(context.Background(), "MXN")
	if err != nil || len(ms) != 3 || ms[2].ID != "cash" || !strings.Contains(ms[2].Name, "OXXO") {
		t.Fatalf("MXN methods = %+v, %v", ms, err)
	}
	if _, err := e.client.Methods(context.Background(), "USD"); err == nil {
		t.Fatal("USD methods: want error")
	}
}

// Create, pay, the signed webhook arrives and verifies, the fetched payment
// is approved with the reference and the exact amount Pulso sent.
func TestCreatePayWebhookFetch(t *testing.T) {
	for _, tc := range []struct{ ref, amount, currency string }{
		{"upg-1", "49.00", "EUR"},   // the fake answers 49: normalised back
		{"upg-2", "1234.50", "MXN"}, // answered 1234.5
		{"upg-3", "15999.99", "ARS"},
	} {
		t.Run(tc.currency, func(t *testing.T) {
			e := setup(t)
			ctx := context.Background()
			co, err := e.client.Create(ctx, charge(tc.ref, tc.amount, tc.currency))
			if err != nil {
				t.Fatal(err)
			}
			if co.ID == "" || !strings.HasPrefix(co.URL, e.fake.URL()+"/") {
				t.Fatalf("checkout = %+v", co)
			}
			pid := e.fake.Pay(co.ID)
			if pid == "" {
				t.Fatal("Pay returned no payment id")
			}
			waitFor(t, "the webhook", func() bool { _, v, _, _ := e.rc.snapshot(); return len(v) == 1 })
			_, v, seen, applied := e.rc.snapshot()
			if v[0].DataID != pid || v[0].Type != "payment" || v[0].Action != "payment.created" || v[0].RequestID == "" {
				t.Fatalf("webhook = %+v, payment %s", v[0], pid)
			}
			if e.rc.queryIDs[0] != pid {
				t.Fatalf("query data.id = %q, want %q", e.rc.queryIDs[0], pid)
			}
			p := seen[0]
			if p.ID != pid || p.Status != checkout.Approved || p.Reference != tc.ref || p.Amount != tc.amount || p.Currency != tc.currency || p.PaidAt.IsZero() || p.ProviderStatus != "approved" {
				t.Fatalf("payment = %+v", p)
			}
			if applied != 1 {
				t.Fatalf("applied %d times", applied)
			}
			// The fetch through the client and the fake's own record agree.
			all := e.fake.Payments()
			if len(all) != 1 || all[0].ID != p.ID || all[0].Amount != p.Amount || all[0].Reference != p.Reference || !all[0].PaidAt.Equal(p.PaidAt) {
				t.Fatalf("fake payments = %+v, fetched %+v", all, p)
			}
		})
	}
}

func TestDuplicateWebhooks(t *testing.T) {
	e := setup(t)
	e.fake.DuplicateWebhooks(3)
	co, err := e.client.Create(context.Background(), charge("upg-dup", "49.00", "EUR"))
	if err != nil {
		t.Fatal(err)
	}
	pid := e.fake.Pay(co.ID)
	waitFor(t, "three deliveries", func() bool { _, v, _, _ := e.rc.snapshot(); return len(v) == 3 })
	e.fake.Close() // waits for deliveries in flight: the counts below are final
	hits, v, _, applied := e.rc.snapshot()
	if hits != 3 || e.fake.Webhooks() != 3 {
		t.Fatalf("hits %d, attempts %d; want 3", hits, e.fake.Webhooks())
	}
	for _, w := range v {
		if w.RequestID != v[0].RequestID || w.DataID != pid {
			t.Fatalf("duplicates differ: %+v vs %+v", w, v[0])
		}
	}
	if applied != 1 {
		t.Fatalf("applied %d times, want once", applied)
	}
}

func TestRetryWhileReceiverFails(t *testing.T) {
	e := setup(t)
	e.rc.mu.Lock()
	e.rc.failFirst = 2
	e.rc.mu.Unlock()
	co, err := e.client.Create(context.Background(), charge("upg-retry", "49.00", "EUR"))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Pay(co.ID)
	waitFor(t, "a delivery after two 500s", func() bool { _, v, _, _ := e.rc.snapshot(); return len(v) == 1 })
	e.fake.Close()
	hits, v, _, applied := e.rc.snapshot()
	if hits != 3 || e.fake.Webhooks() != 3 || len(v) != 1 || applied != 1 {
		t.Fatalf("hits %d, attempts %d, verified %d, applied %d; want 3, 3, 1, 1", hits, e.fake.Webhooks(), len(v), applied)
	}
}

func TestRetryWhileReceiverUnreachable(t *testing.T) {
	e := setup(t)
	e.fake.FailWebhooksNext(2)
	co, err := e.client.Create(context.Background(), charge("upg-down", "49.00", "EUR"))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Pay(co.ID)
	waitFor(t, "the delivery after the outage", func() bool { _, v, _, _ := e.rc.snapshot(); return len(v) == 1 })
	e.fake.Close()
	hits, _, _, _ := e.rc.snapshot()
	if hits != 1 || e.fake.Webhooks() != 3 {
		t.Fatalf("receiver hit %d times, %d attempts; want 1 and 3", hits, e.fake.Webhooks())
	}
}

// A receiver that never answers 2xx gets a bounded number of attempts.
func TestRetriesAreBounded(t *testing.T) {
	e := setup(t)
	e.rc.mu.Lock()
	e.rc.failFirst = 1000
	e.rc.mu.Unlock()
	co, err := e.client.Create(context.Background(), charge("upg-bound", "49.00", "EUR"))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Pay(co.ID)
	// The fake counts an attempt before its request reaches the receiver,
	// so wait for the delivery to end (given up) rather than for a count.
	waitFor(t, "the delivery to be given up", func() bool { return e.fake.Webhooks() > 0 && e.fake.Delivering() == 0 })
	e.fake.Close()
	if hits, _, _, _ := e.rc.snapshot(); hits != 6 || e.fake.Webhooks() != 6 {
		t.Fatalf("hits %d, attempts %d; want 6", hits, e.fake.Webhooks())
	}
}

// A receiver with another secret refuses every delivery as a bad signature.
func TestWebhookWithWrongSecretRefused(t *testing.T) {
	e := setup(t)
	e.fake.SetWebhook(e.rc.srv.URL, []byte("someone-else"))
	co, err := e.client.Create(context.Background(), charge("upg-forged", "49.00", "EUR"))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Pay(co.ID)
	waitFor(t, "a refused delivery", func() bool {
		e.rc.mu.Lock()
		defer e.rc.mu.Unlock()
		return len(e.rc.rejected) > 0
	})
	e.rc.mu.Lock()
	err = e.rc.rejected[0]
	e.rc.mu.Unlock()
	if !errors.Is(err, checkout.ErrSignature) {
		t.Fatalf("refused with %v", err)
	}
	if _, _, _, applied := e.rc.snapshot(); applied != 0 {
		t.Fatal("a forged webhook was applied")
	}
}

// Reject: a rejected payment is fetched as such and not applied; paying
// afterwards makes a second, approved payment with the same reference,
// which is applied once. Then a refund arrives as payment.updated.
func TestRejectThenPayThenRefund(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	co, err := e.client.Create(ctx, charge("upg-rej", "49.00", "EUR"))
	if err != nil {
		t.Fatal(err)
	}
	e.fake.Reject(co.ID)
	waitFor(t, "the rejection webhook", func() bool { _, v, _, _ := e.rc.snapshot(); return len(v) == 1 })
	_, _, seen, applied := e.rc.snapshot()
	rej := seen[0]
	if rej.Status != checkout.Rejected || rej.Reference != "upg-rej" || !rej.PaidAt.IsZero() || applied != 0 {
		t.Fatalf("rejected payment = %+v, applied %d", rej, applied)
	}

	pid := e.fake.Pay(co.ID)
	if pid == rej.ID {
		t.Fatal("paying after a rejection reused the rejected payment")
	}
	if again := e.fake.Pay(co.ID); again != pid {
		t.Fatalf("second Pay = %s, want the same payment %s", again, pid)
	}
	waitFor(t, "the approval webhook", func() bool { _, v, _, _ := e.rc.snapshot(); return len(v) == 2 })
	_, _, seen, applied = e.rc.snapshot()
	if seen[1].ID != pid || seen[1].Status != checkout.Approved || seen[1].Reference != "upg-rej" || applied != 1 {
		t.Fatalf("approved payment = %+v, applied %d", seen[1], applied)
	}

	if !e.fake.Refund(pid) || e.fake.Refund(rej.ID) {
		t.Fatal("Refund: want true for the approved payment, false for the rejected one")
	}
	waitFor(t, "the refund webhook", func() bool { _, v, _, _ := e.rc.snapshot(); return len(v) == 3 })
	_, v, seen, _ := e.rc.snapshot()
	if v[2].Action != "payment.updated" || seen[2].Status != checkout.Refunded || seen[2].ProviderStatus != "refunded" || !seen[2].PaidAt.IsZero() {
		t.Fatalf("refund webhook %+v, payment %+v", v[2], seen[2])
	}
	ps := e.fake.Payments()
	if len(ps) != 2 || ps[0].Status != checkout.Rejected || ps[1].Status != checkout.Refunded {
		t.Fatalf("fake payments = %+v", ps)
	}
	e.fake.Close()
	if e.fake.Webhooks() != 3 {
		t.Fatalf("attempts = %d, want 3 (the double Pay sent nothing)", e.fake.Webhooks())
	}
}

func TestWrongToken(t *testing.T) {
	fake := checkoutfake.Start()
	defer fake.Close()
	c := checkout.New(fake.URL(), "APP_USR-wrong", nil)
	ctx := context.Background()
	good := checkout.New(fake.URL(), checkoutfake.Token, nil)
	co, err := good.Create(ctx, charge("upg-tok", "49.00", "EUR"))
	if err != nil {
		t.Fatal(err)
	}
	pid := fake.Pay(co.ID)

	_, err1 := c.Methods(ctx, "EUR")
	_, err2 := c.Create(ctx, charge("upg-tok2", "49.00", "EUR"))
	_, err3 := c.Payment(ctx, pid)
	for i, err := range []error{err1, err2, err3} {
		var ce *checkout.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || checkout.Retryable(err) || !strings.Contains(err.Error(), "invalid access token") {
			t.Errorf("call %d: err = %v", i, err)
		}
	}
	if n := len(fake.Payments()); n != 1 {
		t.Fatalf("%d payments after a refused create, want 1", n)
	}
}

func TestPaymentNotFoundAndBadID(t *testing.T) {
	e := setup(t)
	_, err := e.client.Payment(context.Background(), "999")
	if !errors.Is(err, checkout.ErrNotFound) || checkout.Retryable(err) {
		t.Fatalf("unknown payment: %v", err)
	}
	for _, id := range []string{"", "../v1/payment_methods", "1?x=1", strings.Repeat("1", 65)} {
		if _, err := e.client.Payment(context.Background(), id); err == nil || checkout.Retryable(err) {
			t.Errorf("Payment(%q) = %v, want a non-retryable error", id, err)
		}
	}
}

// Charges the client refuses never reach the provider; those the provider
// refuses come back with its message.
func TestCreateRefused(t *testing.T) {
	var calls atomic.Int32
	fake := checkoutfake.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		fake.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer fake.Close()
	c := checkout.New(srv.URL, checkoutfake.Token, nil)
	ctx := context.Background()

	for _, mut := range []func(*checkout.Charge){
		func(ch *checkout.Charge) { ch.Amount = "49" },
		func(ch *checkout.Charge) { ch.Amount = "49,00" },
		func(ch *checkout.Charge) { ch.Amount = "0.00" },
		func(ch *checkout.Charge) { ch.Amount = "-5.00" },
		func(ch *checkout.Charge) { ch.Currency = "USD" },
		func(ch *checkout.Charge) { ch.Reference = "" },
		func(ch *checkout.Charge) { ch.Title = " " },
		func(ch *checkout.Charge) { ch.Method = "" },
		func(ch *checkout.Charge) { ch.SuccessURL = "/billing/done" },
		func(ch *checkout.Charge) { ch.CancelURL = "javascript:alert(1)" },
	} {
		ch := charge("upg-bad", "49.00", "EUR")
		mut(&ch)
		if _, err := c.Create(ctx, ch); err == nil || checkout.Retryable(err) {
			t.Errorf("Create(%+v) = %v, want refused", ch, err)
		}
	}
	if _, err := c.Create(ctx, checkout.Charge{Reference: "x", Title: "x", Amount: "1", Currency: "EUR", Method: "card", SuccessURL: "https://a.test", CancelURL: "https://a.test"}); !errors.Is(err, checkout.ErrAmount) {
		t.Errorf("amount error = %v, want ErrAmount", err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d invalid charges reached the provider", n)
	}

	// Cash is not offered in Spain: the provider says so.
	ch := charge("upg-cash", "49.00", "EUR")
	ch.Method = "cash"
	_, err := c.Create(ctx, ch)
	var ce *checkout.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusBadRequest || ce.Code != "bad_request" || !strings.Contains(ce.Message, "payment method") || checkout.Retryable(err) {
		t.Fatalf("cash in EUR: %v", err)
	}
	// A checkout made without Start points at the host it was asked on.
	ch.Method = "card"
	co, err := c.Create(ctx, ch)
	if err != nil || !strings.HasPrefix(co.URL, srv.URL+"/checkout/v1/redirect?pref_id=") {
		t.Fatalf("checkout via Handler = %+v, %v", co, err)
	}
}

// Retryable separates what a retry can fix from what it cannot.
func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		retry  bool
	}{
		{503, `{"message":"service unavailable","error":"internal_error","status":503}`, true},
		{500, `<html>oops</html>`, true},
		{429, `{"message":"too many requests","error":"too_many_requests","status":429}`, true},
		{400, `{"message":"invalid id","error":"bad_request","status":400}`, false},
		{403, `{"message":"forbidden","error":"forbidden","status":403}`, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		}))
		_, err := checkout.New(srv.URL, "t", nil).Payment(context.Background(), "1")
		srv.Close()
		var ce *checkout.Error
		if !errors.As(err, &ce) || ce.Status != tc.status || checkout.Retryable(err) != tc.retry {
			t.Errorf("%d: err = %v, retryable %v", tc.status, err, checkout.Retryable(err))
		}
		if tc.status == 503 && (ce.Code != "internal_error" || ce.Message != "service unavailable") {
			t.Errorf("503 error lost the provider's message: %+v", ce)
		}
		if tc.status == 500 && !strings.Contains(err.Error(), "oops") {
			t.Errorf("500 error lost the body: %v", err)
		}
	}

	// No answer at all: a closed port.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := checkout.New(url, "t", nil).Payment(context.Background(), "1")
	if !checkout.Retryable(err) {
		t.Errorf("network error not retryable: %v", err)
	}
	// The caller gave up: not retryable.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = checkout.New(url, "t", nil).Payment(ctx, "1")
	if err == nil || checkout.Retryable(err) {
		t.Errorf("cancelled call: %v, retryable %v", err, checkout.Retryable(err))
	}
	if checkout.Retryable(errors.New("other")) || checkout.Retryable(nil) {
		t.Error("foreign errors must not be retryable")
	}
}

// The client maps statuses and refuses answers it cannot trust.
func TestPaymentAnswers(t *testing.T) {
	answer := func(body string) (checkout.Payment, error) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, body)
		}))
		defer srv.Close()
		return checkout.New(srv.URL, "t", nil).Payment(context.Background(), "77")
	}
	for status, want := range map[string]checkout.Status{
		"approved": checkout.Approved, "pending": checkout.Pending, "in_process": checkout.Pending,
		"authorized": checkout.Pending, "in_mediation": checkout.Pending, "rejected": checkout.Rejected,
		"cancelled": checkout.Rejected, "refunded": checkout.Refunded, "charged_back": checkout.Refunded,
		"something_new": checkout.Pending,
	} {
		p, err := answer(`{"id":77,"status":"` + status + `","transaction_amount":10.5,"currency_id":"ARS","external_reference":"r","date_approved":"2026-05-25T13:01:08.000-03:00"}`)
		if err != nil || p.Status != want || p.ProviderStatus != status || p.Amount != "10.50" {
			t.Errorf("%s: %+v, %v", status, p, err)
		}
		if (want == checkout.Approved) == p.PaidAt.IsZero() {
			t.Errorf("%s: PaidAt = %v", status, p.PaidAt)
		}
	}
	p, err := answer(`{"id":"77","status":"approved","transaction_amount":10,"currency_id":"ARS","date_approved":"2026-05-25T13:01:08.000-03:00"}`)
	if err != nil || !p.PaidAt.Equal(time.Date(2026, 5, 25, 16, 1, 8, 0, time.UTC)) {
		t.Errorf("string id / PaidAt: %+v, %v", p, err)
	}
	for name, body := range map[string]string{
		"other id":          `{"id":78,"status":"approved","transaction_amount":10,"date_approved":"2026-05-25T13:01:08.000-03:00"}`,
		"three decimals":    `{"id":77,"status":"pending","transaction_amount":10.005}`,
		"exponent":          `{"id":77,"status":"pending","transaction_amount":1e2}`,
		"no amount":         `{"id":77,"status":"pending"}`,
		"approved, no date": `{"id":77,"status":"approved","transaction_amount":10,"date_approved":null}`,
		"bad date":          `{"id":77,"status":"approved","transaction_amount":10,"date_approved":"ayer"}`,
		"not JSON":          `<html>`,
	} {
		if _, err := answer(body); err == nil || checkout.Retryable(err) {
			t.Errorf("%s: err = %v, want a non-retryable error", name, err)
		}
	}
}

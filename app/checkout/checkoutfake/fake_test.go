package checkoutfake_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"pulso/app/checkout"
	"pulso/app/checkout/checkoutfake"
)

var secret = []byte("whsec-page")

// pulso plays the app's side: the back URLs and the webhook receiver.
type pulso struct {
	srv      *httptest.Server
	mu       sync.Mutex
	landed   []*url.URL // requests to /billing/done and /billing
	webhooks []checkout.Webhook
}

func newPulso(t *testing.T) *pulso {
	p := &pulso{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/webhooks" {
			body, _ := io.ReadAll(r.Body)
			wh, err := checkout.Verify(secret, r.Header, body, time.Now(), time.Minute)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			p.mu.Lock()
			p.webhooks = append(p.webhooks, wh)
			p.mu.Unlock()
			return
		}
		p.mu.Lock()
		p.landed = append(p.landed, r.URL)
		p.mu.Unlock()
		io.WriteString(w, "back in Pulso")
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pulso) counts() (landed, webhooks int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.landed), len(p.webhooks)
}

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

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var (
	formRe = regexp.MustCompile(`<form method="post" action="([^"]+)">\s*<input type="hidden" name="pref_id" value="([^"]+)">\s*<button class="(pay|cancel)"`)
)

// forms reads the page's two forms as a browser would: action and pref_id
// per button.
func forms(t *testing.T, html string) map[string]url.Values {
	t.Helper()
	out := map[string]url.Values{}
	for _, m := range formRe.FindAllStringSubmatch(html, -1) {
		out[m[3]] = url.Values{"action": {m[1]}, "pref_id": {m[2]}}
	}
	return out
}

// submit posts a form from the page and returns the redirect it answers.
func submit(t *testing.T, base string, f url.Values) *url.URL {
	t.Helper()
	resp, err := noRedirect.PostForm(base+f.Get("action"), url.Values{"pref_id": {f.Get("pref_id")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form answered %d, want 303", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func setup(t *testing.T) (*checkoutfake.Server, *checkout.Client, *pulso) {
	fake := checkoutfake.Start()
	t.Cleanup(fake.Close)
	p := newPulso(t)
	fake.SetWebhook(p.srv.URL+"/webhooks", secret)
	return fake, checkout.New(fake.URL(), checkoutfake.Token, nil), p
}

func create(t *testing.T, c *checkout.Client, p *pulso, ref, title string) checkout.Checkout {
	t.Helper()
	co, err := c.Create(context.Background(), checkout.Charge{
		Reference: ref, Title: title, Amount: "49.00", Currency: "EUR", Method: "card",
		SuccessURL: p.srv.URL + "/billing/done?org=7", CancelURL: p.srv.URL + "/billing?org=7", Payer: "admin@acme.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return co
}

// The browser's path: open the page, press Pagar, land on the success URL
// with Checkout Pro's parameters, while the webhook arrives on its own.
func TestPayPage(t *testing.T) {
	fake, c, p := setup(t)
	co := create(t, c, p, "upg-page", "Pulso Pro · prorrateo")

	code, html := get(t, co.URL)
	if code != http.StatusOK {
		t.Fatalf("page answered %d", code)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"Pulso Pro · prorrateo", "49.00 EUR", "Tarjeta de crédito o débito", "admin@acme.test", ">Pagar<", ">Cancelar<",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	fs := forms(t, html)
	if fs["pay"] == nil || fs["cancel"] == nil || fs["pay"].Get("pref_id") != co.ID {
		t.Fatalf("forms = %v", fs)
	}

	loc := submit(t, fake.URL(), fs["pay"])
	ps := fake.Payments()
	if len(ps) != 1 || ps[0].Status != checkout.Approved {
		t.Fatalf("payments after Pagar = %+v", ps)
	}
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host != p.srv.URL || loc.Path != "/billing/done" || q.Get("org") != "7" ||
		q.Get("payment_id") != ps[0].ID || q.Get("status") != "approved" ||
		q.Get("external_reference") != "upg-page" || q.Get("preference_id") != co.ID {
		t.Fatalf("redirected to %s", loc)
	}
	// Following the redirect reaches Pulso.
	if code, body := get(t, loc.String()); code != http.StatusOK || body != "back in Pulso" {
		t.Fatalf("success URL answered %d %q", code, body)
	}
	waitFor(t, "the webhook", func() bool { _, n := p.counts(); return n == 1 })
	p.mu.Lock()
	wh := p.webhooks[0]
	p.mu.Unlock()
	if wh.DataID != ps[0].ID {
		t.Fatalf("webhook for %s, paid %s", wh.DataID, ps[0].ID)
	}

	// The page of a paid checkout says so; pressing Pagar again (a double
	// submit) lands on the same payment and notifies nothing.
	_, html = get(t, co.URL)
	if !strings.Contains(html, "ya está aprobado") || forms(t, html)["pay"] != nil {
		t.Fatal("paid checkout still offers Pagar")
	}
	if again := submit(t, fake.URL(), fs["pay"]); again.Query().Get("payment_id") != ps[0].ID {
		t.Fatalf("second submit went to %s", again)
	}
	fake.Close()
	if fake.Webhooks() != 1 || len(fake.Payments()) != 1 {
		t.Fatalf("after a double submit: %d attempts, %d payments", fake.Webhooks(), len(fake.Payments()))
	}
}

func TestCancelPage(t *testing.T) {
	fake, c, p := setup(t)
	co := create(t, c, p, "upg-cancel", "Pulso Pro")
	_, html := get(t, co.URL)
	loc := submit(t, fake.URL(), forms(t, html)["cancel"])
	if loc.String() != p.srv.URL+"/billing?org=7" {
		t.Fatalf("cancel went to %s", loc)
	}
	if code, _ := get(t, loc.String()); code != http.StatusOK {
		t.Fatalf("cancel URL answered %d", code)
	}
	fake.Close()
	if len(fake.Payments()) != 0 || fake.Webhooks() != 0 {
		t.Fatalf("cancel made %d payments, %d webhooks", len(fake.Payments()), fake.Webhooks())
	}
}

func TestPageUnknownAndEscaping(t *testing.T) {
	fake, c, p := setup(t)
	if code, _ := get(t, fake.URL()+"/checkout/v1/redirect?pref_id=nope"); code != http.StatusNotFound {
		t.Fatalf("unknown checkout page: %d", code)
	}
	resp, err := noRedirect.PostForm(fake.URL()+"/checkout/v1/redirect/pay", url.Values{"pref_id": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || fake.Pay("nope") != "" || len(fake.Payments()) != 0 {
		t.Fatalf("paying an unknown checkout: %d, %d payments", resp.StatusCode, len(fake.Payments()))
	}
	co := create(t, c, p, "upg-xss", `<script>alert(1)</script> & Co`)
	_, html := get(t, co.URL)
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co") {
		t.Fatal("title not escaped")
	}
}

// Many payers pressing Pagar at once on one checkout make one payment.
func TestConcurrentPay(t *testing.T) {
	fake, c, p := setup(t)
	co := create(t, c, p, "upg-race", "Pulso Pro")
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); ids[i] = fake.Pay(co.ID) }()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("payment ids = %v", ids)
		}
	}
	fake.Close()
	if len(fake.Payments()) != 1 || fake.Webhooks() != 1 {
		t.Fatalf("%d payments, %d webhooks; want 1 and 1", len(fake.Payments()), fake.Webhooks())
	}
}

// Without a webhook URL nothing is sent, and Close twice is harmless.
func TestNoWebhookConfigured(t *testing.T) {
	fake := checkoutfake.Start()
	c := checkout.New(fake.URL(), checkoutfake.Token, nil)
	p := newPulso(t)
	co := create(t, c, p, "upg-quiet", "Pulso Pro")
	if fake.Pay(co.ID) == "" {
		t.Fatal("no payment")
	}
	fake.Close()
	fake.Close()
	if fake.Webhooks() != 0 {
		t.Fatalf("%d webhook attempts without a URL", fake.Webhooks())
	}
}

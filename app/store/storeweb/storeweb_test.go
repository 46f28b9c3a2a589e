package storeweb_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/store/mercadolibre/mlfake"
	"pulso/app/web"
)

const (
	seller   = 123456789
	clientID = "5503910054141466"
)

// An admin connects a seller through the OAuth round trip in the app,
// sees it on the integrations page and its sync page; notifications queue
// one job per notification id; other roles cannot reach the pages.
func TestConnectAndNotify(t *testing.T) {
	fake, _, stop := mlfake.Start()
	t.Cleanup(stop)
	var cfg config.Config
	env := apptest.New(t, func(c *config.Config) {
		c.MLClientID, c.MLClientSecret, c.MLAuthURL, c.MLAPIURL = clientID, "s3cret", fake.URL(), fake.URL()
		cfg = *c
	})
	fake.AddApp(clientID, "s3cret", cfg.MLRedirectURI())
	fake.AddSeller(seller, "TIENDA_AUSTRAL")
	fake.LoginAs(seller)
	org := env.Org("Integraciones S.L.")
	admin := env.User(org, "admin@integra.test", web.RoleAdmin)
	rep := env.User(org, "rep@integra.test", web.RoleRep)
	c := env.LoginAs(admin)

	res := c.Get("/integraciones")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `data-testid="store-none"`) || !strings.Contains(res.Body, "ml-connect") {
		t.Fatalf("list: %d %.400s", res.Status, res.Body)
	}
	// The connect form lands on Mercado Libre's page: the browser allows
	// that redirect only if the CSP's form-action names its origin.
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+fake.URL()+";") {
		t.Errorf("form-action does not allow the authorization page: %q", csp)
	}
	res = c.Post("/integraciones/mercadolibre/conectar", url.Values{})
	to := res.Header.Get("Location")
	if to == "" {
		to = res.Header.Get("HX-Redirect")
	}
	if !strings.HasPrefix(to, fake.URL()+"/authorization?") {
		t.Fatalf("connect: %d to %q", res.Status, to)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	back, err := noFollow.Get(to)
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	u, err := url.Parse(back.Header.Get("Location"))
	if err != nil || u.Path != config.MLRedirectPath {
		t.Fatalf("authorize: %v %q", err, back.Header.Get("Location"))
	}
	// A forged state is refused and connects nothing.
	forged := u.Query()
	forged.Set("state", "forged")
	if res := c.Get(u.Path + "?" + forged.Encode()); res.Status != http.StatusBadRequest {
		t.Fatalf("forged state: %d", res.Status)
	}
	res = c.Get(u.RequestURI())
	if res.Status != http.StatusSeeOther && res.Status != http.StatusFound {
		t.Fatalf("back: %d %.300s", res.Status, res.Body)
	}
	if n := env.Count(`SELECT count(*) FROM store_connections WHERE org_id = $1 AND seller_id = $2 AND state = 'active'`, org.ID, seller); n != 1 {
		t.Fatalf("%d connections", n)
	}
	if n := env.Count(`SELECT count(*) FROM river_job WHERE kind = 'store_catch_up'`); n != 1 {
		t.Fatalf("%d catch-ups queued", n)
	}
	res = c.Get("/integraciones")
	if !strings.Contains(res.Body, `data-testid="store-connection"`) || !strings.Contains(res.Body, "123456789") {
		t.Fatalf("list after: %.500s", res.Body)
	}
	var connID string
	if err := env.DB.QueryRow(t.Context(), `SELECT id::text FROM store_connections WHERE org_id = $1`, org.ID).Scan(&connID); err != nil {
		t.Fatal(err)
	}
	res = c.Get("/integraciones/" + connID)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `data-testid="store-sync"`) {
		t.Fatalf("sync page: %d %.300s", res.Status, res.Body)
	}
	// Orders that did not become vouchers show why in the reader's words,
	// not as message ids.
	env.Exec(`INSERT INTO store_orders (org_id, connection_id, order_id, status, channel, last_updated, state, error, error_params) VALUES
		($1, $2, 2000000000000001, 'paid', 'marketplace', now(), 'blocked', 'invoices.plan_limit', '{"Plan": "Mini", "Limit": 1000000, "Upgrade": "Pyme"}'),
		($1, $2, 2000000000000002, 'paid', 'marketplace', now(), 'failed', 'invoices.lines_invalid', '{}')`, org.ID, connID)
	res = c.Get("/integraciones/" + connID)
	for _, want := range []string{"Este mes ya se han emitido los 1000000 comprobantes del plan Mini", "cambie a Pyme", "2000000000000002"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("sync page lacks %q: %.2000s", want, res.Body)
		}
	}
	if strings.Contains(res.Body, "invoices.") {
		t.Errorf("sync page shows a message id")
	}
	env.Exec(`DELETE FROM store_orders WHERE org_id = $1`, org.ID)

	// Notifications: answered 200, one job per notification id.
	anon := env.Client()
	body := `{"_id":"n-1","resource":"/orders/2000008765432101","user_id":123456789,"topic":"orders_v2","application_id":5503910054141466,"attempts":1,"sent":"2025-03-10T18:25:41.129Z","received":"2025-03-10T18:25:41.106Z"}`
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, config.MLNotifyPath, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if r := anon.Do(req); r.Status != http.StatusOK {
			t.Fatalf("notify: %d %s", r.Status, r.Body)
		}
	}
	if n := env.Count(`SELECT count(*) FROM river_job WHERE kind = 'store_order' AND args->>'order_id' = '2000008765432101'`); n != 1 {
		t.Fatalf("%d order jobs for a notification delivered 3 times", n)
	}
	// Another seller's notification is acknowledged and dropped; garbage is a 400.
	other := strings.Replace(body, "123456789", "555", 1)
	req, _ := http.NewRequest(http.MethodPost, config.MLNotifyPath, strings.NewReader(other))
	if r := anon.Do(req); r.Status != http.StatusOK {
		t.Fatalf("unknown seller: %d", r.Status)
	}
	req, _ = http.NewRequest(http.MethodPost, config.MLNotifyPath, strings.NewReader(`{"topic":`))
	if r := anon.Do(req); r.Status != http.StatusBadRequest {
		t.Fatalf("garbage: %d", r.Status)
	}

	// A rep may not open the integrations.
	if r := env.LoginAs(rep).Get("/integraciones"); r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
		t.Fatalf("rep: %d", r.Status)
	}
	// Disconnecting frees the store user.
	res = c.Post("/integraciones/"+connID+"/desconectar", url.Values{})
	if n := env.Count(`SELECT count(*) FROM store_connections WHERE org_id = $1 AND state = 'disconnected' AND access_token = ''`, org.ID); n != 1 {
		t.Fatalf("disconnect: %d %.200s", res.Status, res.Body)
	}
}

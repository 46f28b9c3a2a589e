package plansweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/checkout"
	"pulso/app/checkout/checkoutfake"
	"pulso/app/config"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/plans"
	"pulso/app/plans/planbilling"
	"pulso/app/verifactu/ledger/ledgertest"
	"pulso/app/web"
	"pulso/queries"
)

const (
	path    = "/autogestion/suscripcion"
	secret  = "whsec-test-plansweb"
	madrid  = "Europe/Madrid"
	subsNIF = "B22222228" // a valid CIF other than ledgertest's NIF and its customer's
)

// world is a subscriber org with an admin who issues, an operator org that
// invoices the plans, and the fake payment provider wired into the app.
type world struct {
	env      *apptest.Env
	fake     *checkoutfake.Server
	org      queries.Org
	biller   *ledgertest.Biller
	admin    *apptest.Client
	operator queries.Org
}

// Providers a world may have.
const (
	noProvider = iota
	fakeProvider
	// failingCreate is the fake behind a proxy that answers 500 to every
	// checkout creation (the provider down at the worst moment).
	failingCreate
)

func setup(t *testing.T, provider int) *world {
	t.Helper()
	w := &world{}
	var opts []apptest.Option
	if provider != noProvider {
		w.fake = checkoutfake.Start()
		t.Cleanup(w.fake.Close)
		base := w.fake.URL()
		if provider == failingCreate {
			target, _ := url.Parse(base)
			proxy := httputil.NewSingleHostReverseProxy(target)
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && r.URL.Path == "/checkout/preferences" {
					http.Error(rw, `{"error":"internal_error","message":"down"}`, http.StatusInternalServerError)
					return
				}
				proxy.ServeHTTP(rw, r)
			}))
			t.Cleanup(srv.Close)
			base = srv.URL
		}
		opts = append(opts, func(c *config.Config) {
			c.PaymentsURL, c.PaymentsToken, c.PaymentsWebhookSecret = base, checkoutfake.Token, []byte(secret)
		})
	}
	w.env = apptest.New(t, opts...)
	w.operator = w.env.Org("Pulso Operaciones S.L.")
	ledgertest.Setup(t, w.env, w.operator)
	if err := w.env.Q.SetOrgOperator(context.Background(), w.operator.ID); err != nil {
		t.Fatal(err)
	}
	w.org = w.env.Org("Ferretería Sol S.L.")
	w.biller = ledgertest.Setup(t, w.env, w.org)
	w.env.Exec(`UPDATE orgs SET tax_id = $2 WHERE id = $1`, w.org.ID, subsNIF)
	w.admin = w.env.LoginAs(w.biller.User)
	return w
}

// today is the org's day, as the app computes it.
func today() time.Time {
	loc, _ := time.LoadLocation(madrid)
	l := time.Now().In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

func planID(t *testing.T, env *apptest.Env, code string) int64 {
	t.Helper()
	p, err := env.Q.GetPlanByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// subscribe puts the org on plan code for this month.
func (w *world) subscribe(t *testing.T, code string) {
	t.Helper()
	m := plans.Month(today())
	w.env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end) VALUES ($1, $2, 'monthly', 'EUR', $3, $4)`,
		w.org.ID, planID(t, w.env, code), m, m.AddDate(0, 1, 0))
	w.env.Exec(`INSERT INTO subscription_events (org_id, kind, to_plan, reason) VALUES ($1, 'started', $2, 'Mes anterior: 0 comprobantes')`,
		w.org.ID, planID(t, w.env, code))
}

// stores connects n store users.
func (w *world) stores(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		w.env.Exec(`INSERT INTO store_connections (org_id, provider, seller_id, nickname, access_token, refresh_token, expires_at, connected_by)
			VALUES ($1, 'mercadolibre', $2, $3, 'x', 'x', now() + interval '6 hours', $4)`, w.org.ID, 7000+i+int(w.org.ID)*100, fmt.Sprintf("VENDEDOR_%d", i), w.biller.User.ID)
	}
}

// issue issues one voucher of 100 € + IVA sold through ch.
func (w *world) issue(ch plans.Channel) error {
	b := w.biller
	return live.BeginFunc(context.Background(), w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		now := time.Now()
		d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: b.Org.ID, Kind: invoices.Ordinary, CustomerID: &b.Customer, By: &b.User.ID, Now: now,
			Lines: []invoices.LineInput{{Description: "Tornillería", Unit: "ud", Quantity: decimal.NewFromInt(1), UnitPrice: 10000, TaxRateID: b.Rate}}})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE invoices SET channel = $3 WHERE org_id = $1 AND id = $2`, b.Org.ID, d.ID, string(ch)); err != nil {
			return err
		}
		_, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: b.Org.ID, InvoiceID: d.ID, UserID: &b.User.ID, Locale: "es", Now: now})
		return err
	})
}

func TestPageShowsTheMonthAgainstThePlan(t *testing.T) {
	t.Parallel()
	w := setup(t, noProvider)
	w.subscribe(t, "estandar")
	w.stores(t, 2)
	// Most of the month as counters (what issuing keeps), plus vouchers
	// issued for real through both channels.
	w.env.Exec(`INSERT INTO voucher_usage (org_id, month, physical, ecommerce) VALUES ($1, $2, 66, 5)`, w.org.ID, plans.Month(today()))
	for _, ch := range []plans.Channel{plans.Physical, plans.Physical, plans.Ecommerce} {
		if err := w.issue(ch); err != nil {
			t.Fatal(err)
		}
	}
	r := w.admin.Get(path)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %.300s", r.Status, r.Body)
	}
	next := plans.Month(today()).AddDate(0, 1, 0).Format("02/01/2006")
	for _, want := range []string{
		"68 de tienda física y 6 de tienda e-commerce", "74 de 1.500", "Quedan 1.426", "4 %", `value="4"`,
		`data-testid="plan-name"><strong>Estándar</strong>`, "49,00", "Mensual", next,
		`data-testid="plan-store-users">2 de 3<`, "Mes anterior: 0 comprobantes", "Cambiar a este plan",
		"Excedente a 0,05", // PRO's overage price, in the plan table
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, `data-testid="plan-overage"`) {
		t.Error("no overage this month, yet the page shows one")
	}
	// Every active plan is offered, the current one without a button.
	if n := strings.Count(r.Body, `data-testid="plan-row"`); n != 4 {
		t.Errorf("%d plan rows, want 4", n)
	}
	if n := strings.Count(r.Body, `data-testid="plan-change"`); n != 3 {
		t.Errorf("%d change buttons, want 3 (not on the current plan)", n)
	}

	// Only admins: the app's answer for its other admin pages.
	rep := w.env.LoginAs(w.env.User(w.org, "rep@sol.test", web.RoleRep))
	want := rep.Get("/admin/users").Status
	if want != http.StatusForbidden && want != http.StatusNotFound {
		t.Fatalf("admin pages answer a rep %d", want)
	}
	for _, probe := range []apptest.Response{rep.Get(path), rep.Post(path+"/cambio", url.Values{"plan_id": {"1"}}),
		rep.Post(path+"/pago", url.Values{"plan_id": {"1"}, "method": {"card"}}), rep.Get(path + "/pagado?payment_id=1")} {
		if probe.Status != want {
			t.Errorf("a rep got %d, want %d", probe.Status, want)
		}
	}
}

func TestPageOverageAndNoSubscription(t *testing.T) {
	t.Parallel()
	w := setup(t, noProvider)
	r := w.admin.Get(path)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="plan-none"`) || strings.Contains(r.Body, `data-testid="plan-change"`) {
		t.Errorf("without a subscription: status %d, body %.500s", r.Status, r.Body)
	}
	w.subscribe(t, "pro")
	w.env.Exec(`INSERT INTO voucher_usage (org_id, month, physical, ecommerce, overage) VALUES ($1, $2, 5000, 12, 12)`, w.org.ID, plans.Month(today()))
	r = w.admin.Get(path)
	for _, want := range []string{"5.012 de 5.000", "Quedan 0", `value="100"`, `data-testid="plan-overage"`, "12 por encima del plan"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("over the limit, page lacks %q", want)
		}
	}
}

// The page lists Pulso's invoices of the plan: the month's, issued by the
// operator with its number and total, and an earlier month recorded
// without one, with why.
func TestPageShowsPulsoInvoices(t *testing.T) {
	t.Parallel()
	w := setup(t, noProvider)
	r := w.admin.Get(path)
	if !strings.Contains(r.Body, "Todavía no hay facturas del plan") {
		t.Errorf("without charges the page lacks its empty state")
	}
	w.subscribe(t, "inicial")
	month := plans.Month(today())
	if err := live.BeginFunc(context.Background(), w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, ok, err := planbilling.ChargeMonth(ctx, tx, planbilling.Monthly{OrgID: w.org.ID, Today: month, Now: time.Now(), Log: w.env.Deps.Log})
		if err == nil && !ok {
			err = fmt.Errorf("nothing charged")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	prev := month.AddDate(0, -1, 0)
	w.env.Exec(`INSERT INTO subscription_charges (org_id, month, kind, plan_id, amount, currency, reason) VALUES ($1, $2, 'monthly', $3, 1900, 'EUR', 'Sin organización operadora.')`,
		w.org.ID, prev, planID(t, w.env, "inicial"))
	var number string
	if err := w.env.DB.QueryRow(context.Background(), `SELECT i.full_number FROM subscription_charges c JOIN invoices i ON i.org_id = c.operator_id AND i.id = c.invoice_id
		WHERE c.org_id = $1 AND c.month = $2 AND i.state = 'issued'`, w.org.ID, month).Scan(&number); err != nil {
		t.Fatal(err)
	}
	r = w.admin.Get(path)
	body := r.Body
	for _, want := range []string{"Facturas de Pulso", planbilling.MonthName(month), "Factura " + number, "22,99", planbilling.MonthName(prev),
		"Sin factura", "Sin organización operadora."} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(body, `data-testid="plan-charge"`); n != 2 {
		t.Errorf("%d charges listed, want 2", n)
	}
	if strings.Index(body, planbilling.MonthName(month)) > strings.Index(body, planbilling.MonthName(prev)) {
		t.Error("the newest month is not first")
	}
}

func TestChangeRefusedWithItsReasonAndDowngradeScheduled(t *testing.T) {
	t.Parallel()
	w := setup(t, noProvider)
	w.subscribe(t, "pro")
	w.stores(t, 4)
	estandar := planID(t, w.env, "estandar")

	// The seed's example: PRO → Estándar with 4 store users.
	r := w.admin.Post(path+"/cambio", url.Values{"plan_id": {fmt.Sprint(estandar)}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("refusal: status %d", r.Status)
	}
	reason := "tiene 4 usuarios de tienda (el plan permite 3)"
	if !strings.Contains(r.Body, "No puede pasar a Estándar") || !strings.Contains(r.Body, reason) {
		t.Errorf("refusal lacks its reason: %.2000s", r.Body)
	}
	if n := w.env.Count(`SELECT count(*) FROM subscriptions WHERE org_id = $1 AND pending_plan_id IS NULL AND plan_id = $2`, w.org.ID, planID(t, w.env, "pro")); n != 1 {
		t.Error("a refused change changed the subscription")
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'change_refused' AND reason LIKE '%' || $2 || '%'`, w.org.ID, reason); n != 1 {
		t.Errorf("%d refusals in the history, want 1 with the reason", n)
	}
	// htmx gets the change area alone.
	hx := w.env.LoginAs(w.biller.User)
	hx.HTMX = true
	f := hx.Post(path+"/cambio", url.Values{"plan_id": {fmt.Sprint(estandar)}})
	if f.Status != http.StatusUnprocessableEntity || strings.Contains(f.Body, "<html") || !strings.Contains(f.Body, `id="plan-change"`) || !strings.Contains(f.Body, reason) {
		t.Errorf("htmx refusal: status %d body %.500s", f.Status, f.Body)
	}
	// Other refusals: the same plan, an unknown one, bad input.
	for _, c := range []struct{ id, want string }{
		{fmt.Sprint(planID(t, w.env, "pro")), "Ya está en el plan PRO"},
		{"999999", "Ese plan no existe"},
		{"abc", "Ese plan no existe"},
		{"", "Ese plan no existe"},
	} {
		r := w.admin.Post(path+"/cambio", url.Values{"plan_id": {c.id}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, c.want) {
			t.Errorf("plan_id %q: status %d, want 422 with %q", c.id, r.Status, c.want)
		}
	}

	// With 3 store users Estándar fits: scheduled for the 1st.
	w.env.Exec(`UPDATE store_connections SET state = 'disconnected' WHERE org_id = $1 AND nickname = 'VENDEDOR_3'`, w.org.ID)
	r = w.admin.Post(path+"/cambio", url.Values{"plan_id": {fmt.Sprint(estandar)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("downgrade: status %d %.300s", r.Status, r.Body)
	}
	first := plans.Month(today()).AddDate(0, 1, 0)
	if n := w.env.Count(`SELECT count(*) FROM subscriptions WHERE org_id = $1 AND plan_id = $2 AND pending_plan_id = $3 AND pending_from = $4`,
		w.org.ID, planID(t, w.env, "pro"), estandar, first); n != 1 {
		t.Error("the downgrade is not pending for the 1st of next month")
	}
	page := w.admin.Get(path)
	for _, want := range []string{"Pasará a Estándar el " + first.Format("02/01/2006"), "Cambio programado", `data-kind="downgrade_scheduled"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("after the downgrade the page lacks %q", want)
		}
	}
}

func TestUpgradeWithoutProvider(t *testing.T) {
	t.Parallel()
	w := setup(t, noProvider)
	w.subscribe(t, "inicial")
	for _, p := range []string{"/cambio", "/pago"} {
		r := w.admin.Post(path+p, url.Values{"plan_id": {fmt.Sprint(planID(t, w.env, "pro"))}, "method": {"card"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Pago no disponible") || strings.Contains(r.Body, `data-testid="plan-dialog"`) {
			t.Errorf("%s without a provider: status %d", p, r.Status)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades`); n != 0 {
		t.Errorf("%d upgrades recorded without a provider", n)
	}
}

// hooks stands between the fake provider and the app, so a test knows
// when each webhook delivery has been answered and with what.
type hooks struct {
	mu       sync.Mutex
	statuses []int
	srv      *httptest.Server
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

func (w *world) hooks(t *testing.T) *hooks {
	t.Helper()
	target, _ := url.Parse("http://" + w.env.Serve())
	proxy := httputil.NewSingleHostReverseProxy(target)
	h := &hooks{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: rw, status: http.StatusOK}
		proxy.ServeHTTP(rec, r)
		h.mu.Lock()
		h.statuses = append(h.statuses, rec.status)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	w.fake.SetWebhook(h.srv.URL+"/webhooks/pagos", []byte(secret))
	return h
}

// wait returns the statuses once n deliveries are answered.
func (h *hooks) wait(t *testing.T, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		got := append([]int(nil), h.statuses...)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook deliveries answered, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var methodInput = regexp.MustCompile(`name="method" value="([^"]+)"`)

// mini puts the org on a plan of two vouchers a month that blocks, and
// uses them up.
func (w *world) mini(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := w.env.DB.QueryRow(context.Background(), `INSERT INTO plans (code, name, vouchers, store_users, at_limit, rank)
		VALUES ('mini', 'Mini', 2, 1, 'block', 0) RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	w.env.Exec(`INSERT INTO plan_prices (plan_id, currency, monthly) VALUES ($1, 'EUR', 500)`, id)
	w.subscribe(t, "mini")
	for range 2 {
		if err := w.issue(plans.Physical); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.issue(plans.Physical); !invoices.OverPlanLimit(err) {
		t.Fatalf("third voucher on Mini: %v, want the plan's limit", err)
	}
	return id
}

// checkout asks for the upgrade to plan to and pays it up to the
// provider's page, returning the upgrade row.
func (w *world) checkout(t *testing.T, to int64) queries.PlanUpgrade {
	t.Helper()
	r := w.admin.Post(path+"/cambio", url.Values{"plan_id": {fmt.Sprint(to)}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="plan-dialog"`) {
		t.Fatalf("cambio: status %d %.1000s", r.Status, r.Body)
	}
	ch, err := plans.Quote(context.Background(), w.env.Q, w.org.ID, to, today())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Body, money.Format(ch.Prorated, "EUR")) || ch.Prorated <= 0 {
		t.Errorf("dialog lacks the prorated %s", money.Format(ch.Prorated, "EUR"))
	}
	if !strings.Contains(r.Body, "Desde el día 1, 19,00") {
		t.Error("dialog lacks the monthly price from the 1st")
	}
	m := methodInput.FindAllStringSubmatch(r.Body, -1)
	if len(m) != 2 { // the fake's EUR account: card and transfer active, cash off
		t.Fatalf("dialog offers %d methods, want 2", len(m))
	}
	// No method chosen: the dialog again, saying so.
	r = w.admin.Post(path+"/pago", url.Values{"plan_id": {fmt.Sprint(to)}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Elija cómo pagar") {
		t.Errorf("pago without a method: status %d", r.Status)
	}
	r = w.admin.Post(path+"/pago", url.Values{"plan_id": {fmt.Sprint(to)}, "method": {m[0][1]}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), w.fake.URL()+"/checkout/") {
		t.Fatalf("pago: status %d location %q", r.Status, r.Header.Get("Location"))
	}
	var u queries.PlanUpgrade
	if err := w.env.DB.QueryRow(context.Background(), `SELECT id, amount, currency, state, checkout_id, invoice_id FROM plan_upgrades WHERE org_id = $1 ORDER BY id DESC LIMIT 1`,
		w.org.ID).Scan(&u.ID, &u.Amount, &u.Currency, &u.State, &u.CheckoutID, &u.InvoiceID); err != nil {
		t.Fatal(err)
	}
	u.OrgID = w.org.ID
	if u.State != "pending" || u.CheckoutID == nil || u.InvoiceID == nil {
		t.Fatalf("upgrade after pago: %+v", u)
	}
	// The charge is the operator's draft total: the prorated net + 21 % IVA.
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND id = $2 AND state = 'draft' AND total = $3 AND base = $4`,
		w.operator.ID, *u.InvoiceID, u.Amount, ch.Prorated); n != 1 || u.Amount <= ch.Prorated {
		t.Errorf("charge %d is not the operator draft's total over the net %d", u.Amount, ch.Prorated)
	}
	return u
}

func TestUpgradePaidLiftsTheLimitOnce(t *testing.T) {
	t.Parallel()
	w := setup(t, fakeProvider)
	w.mini(t)
	inicial := planID(t, w.env, "inicial")
	hk := w.hooks(t)
	w.fake.DuplicateWebhooks(3)
	u := w.checkout(t, inicial)

	payment := w.fake.Pay(*u.CheckoutID)
	for _, s := range hk.wait(t, 3) {
		if s != http.StatusOK {
			t.Errorf("a webhook delivery was answered %d", s)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'upgraded' AND to_plan = $2 AND amount = $3`, w.org.ID, inicial, u.Amount); n != 1 {
		t.Fatalf("%d upgraded events, want 1", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND id = $2 AND state = 'paid' AND payment_id = $3`, w.org.ID, u.ID, payment); n != 1 {
		t.Error("the upgrade is not paid by the payment")
	}
	if n := w.env.Count(`SELECT count(*) FROM subscriptions WHERE org_id = $1 AND plan_id = $2`, w.org.ID, inicial); n != 1 {
		t.Error("the org is not on Inicial")
	}
	// One operator invoice, issued, for exactly the amount charged, paid,
	// made out to the customer standing for the subscriber.
	var inv queries.Invoice
	if err := w.env.DB.QueryRow(context.Background(), `SELECT id, total, state, customer_id FROM invoices WHERE org_id = $1 AND state <> 'draft'`,
		w.operator.ID).Scan(&inv.ID, &inv.Total, &inv.State, &inv.CustomerID); err != nil {
		t.Fatalf("operator invoices: %v", err)
	}
	if inv.Total != u.Amount || inv.ID != *u.InvoiceID {
		t.Errorf("operator invoice %d total %d, charged %d on draft %d", inv.ID, inv.Total, u.Amount, *u.InvoiceID)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state <> 'draft'`, w.operator.ID); n != 1 {
		t.Errorf("%d operator invoices issued, want 1", n)
	}
	if n := w.env.Count(`SELECT coalesce(sum(amount), 0)::int FROM invoice_allocations WHERE org_id = $1 AND invoice_id = $2`, w.operator.ID, inv.ID); int64(n) != u.Amount {
		t.Errorf("payments on the operator invoice: %d, want %d", n, u.Amount)
	}
	if n := w.env.Count(`SELECT count(*) FROM subscriptions s JOIN customers c ON c.id = s.billing_customer_id
		WHERE s.org_id = $1 AND c.org_id = $2 AND c.id = $3 AND c.legal_name = $4 AND c.tax_id = $5`, w.org.ID, w.operator.ID, *inv.CustomerID, w.org.Name, subsNIF); n != 1 {
		t.Error("the invoice is not made out to the subscriber's billing customer")
	}
	if n := w.env.Count(`SELECT count(*) FROM invoice_lines WHERE org_id = $1 AND invoice_id = $2 AND description LIKE 'Plan Inicial · prorrateo %'`, w.operator.ID, inv.ID); n != 1 {
		t.Error("the invoice line does not name the plan and the prorated period")
	}
	// The limit is lifted at once.
	if err := w.issue(plans.Physical); err != nil {
		t.Fatalf("voucher after the upgrade: %v", err)
	}

	// The browser comes back after the webhooks: nothing more happens.
	r := w.admin.Get(path + "/pagado?payment_id=" + payment + "&status=approved")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("pagado: status %d", r.Status)
	}
	page := w.admin.Get(path)
	if !strings.Contains(page.Body, "Pago recibido") || !strings.Contains(page.Body, `data-testid="plan-name"><strong>Inicial</strong>`) {
		t.Errorf("page after paying: %.300s", page.Body)
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'upgraded'`, w.org.ID); n != 1 {
		t.Errorf("%d upgraded events after the redirect, want 1", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state <> 'draft'`, w.operator.ID); n != 1 {
		t.Errorf("%d operator invoices after the redirect, want 1", n)
	}

	// Another org's admin cannot apply (or see) this payment.
	other := w.env.Org("Otra S.L.")
	oc := w.env.LoginAs(w.env.User(other, "admin@otra.test", web.RoleAdmin))
	if r := oc.Get(path + "/pagado?payment_id=" + payment); r.Status != http.StatusNotFound {
		t.Errorf("another org's admin got %d for this payment, want 404", r.Status)
	}
}

func TestRedirectBeforeWebhookAppliesOnce(t *testing.T) {
	t.Parallel()
	w := setup(t, fakeProvider)
	w.mini(t)
	inicial := planID(t, w.env, "inicial")
	u := w.checkout(t, inicial)
	// No webhook configured yet: the redirect is the first to arrive.
	payment := w.fake.Pay(*u.CheckoutID)
	for range 2 {
		if r := w.admin.Get(path + "/pagado?payment_id=" + payment); r.Status != http.StatusSeeOther {
			t.Fatalf("pagado: %d", r.Status)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'upgraded'`, w.org.ID); n != 1 {
		t.Fatalf("%d upgraded events, want 1", n)
	}
	// The late webhook finds it paid.
	res := postWebhook(t, w, payment, []byte(secret))
	if res.StatusCode != http.StatusOK {
		t.Errorf("late webhook: %d", res.StatusCode)
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'upgraded'`, w.org.ID); n != 1 {
		t.Errorf("%d upgraded events after the late webhook, want 1", n)
	}
	if err := w.issue(plans.Physical); err != nil {
		t.Errorf("voucher after the upgrade: %v", err)
	}
}

// postWebhook delivers a notification for payment signed with key, as
// the provider would, straight to the app.
func postWebhook(t *testing.T, w *world, payment string, key []byte) *http.Response {
	t.Helper()
	body := fmt.Sprintf(`{"id":1,"type":"payment","action":"payment.created","data":{"id":%q}}`, payment)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/pagos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(checkout.HeaderRequestID, "req-"+payment)
	req.Header.Set(checkout.HeaderSignature, checkout.Sign(key, "req-"+payment, payment, time.Now()))
	res, err := w.env.App.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestWebhookBadSignatureAppliesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t, fakeProvider)
	w.mini(t)
	u := w.checkout(t, planID(t, w.env, "inicial"))
	payment := w.fake.Pay(*u.CheckoutID) // no webhook configured: only ours arrive

	if res := postWebhook(t, w, payment, []byte("not-the-secret")); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged webhook: %d, want 401", res.StatusCode)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/pagos", strings.NewReader(`{"type":"payment","data":{"id":"`+payment+`"}}`))
	if res, err := w.env.App.Test(req, -1); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: %v %v, want 401", res.StatusCode, err)
	}
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND state = 'pending'`, w.org.ID); n != 1 {
		t.Fatal("a refused webhook changed the upgrade")
	}
	if err := w.issue(plans.Physical); !invoices.OverPlanLimit(err) {
		t.Fatalf("after a forged webhook the limit is gone: %v", err)
	}
	// Signed with the secret, the same notification applies.
	if res := postWebhook(t, w, payment, []byte(secret)); res.StatusCode != http.StatusOK {
		t.Fatalf("genuine webhook: %d", res.StatusCode)
	}
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND state = 'paid'`, w.org.ID); n != 1 {
		t.Error("the genuine webhook did not apply")
	}
	// A body far over the limit is refused before anything.
	big := httptest.NewRequest(http.MethodPost, "/webhooks/pagos", strings.NewReader(strings.Repeat("x", 64<<10)))
	if res, err := w.env.App.Test(big, -1); err != nil || res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("64 KB webhook: %v %v, want 413", res.StatusCode, err)
	}
}

func TestAmountMismatchIsNotApplied(t *testing.T) {
	t.Parallel()
	w := setup(t, fakeProvider)
	w.mini(t)
	hk := w.hooks(t)
	u := w.checkout(t, planID(t, w.env, "inicial"))
	// The row now says one cent more than the checkout collects.
	w.env.Exec(`UPDATE plan_upgrades SET amount = amount + 1 WHERE org_id = $1 AND id = $2`, w.org.ID, u.ID)
	payment := w.fake.Pay(*u.CheckoutID)
	if s := hk.wait(t, 1); s[0] != http.StatusOK {
		t.Errorf("webhook answered %d", s[0])
	}
	r := w.admin.Get(path + "/pagado?payment_id=" + payment)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("pagado: %d", r.Status)
	}
	if page := w.admin.Get(path); !strings.Contains(page.Body, "No hemos podido aplicar ese pago") {
		t.Error("the admin is not told the payment was not applied")
	}
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND state = 'pending' AND payment_id IS NULL`, w.org.ID); n != 1 {
		t.Error("a mismatched payment changed the upgrade")
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'upgraded'`, w.org.ID); n != 0 {
		t.Error("a mismatched payment upgraded the plan")
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state <> 'draft'`, w.operator.ID); n != 0 {
		t.Error("a mismatched payment was invoiced")
	}
	if err := w.issue(plans.Physical); !invoices.OverPlanLimit(err) {
		t.Errorf("after a mismatched payment: %v, want the limit", err)
	}
}

func TestPayThroughHTMXAndRejectedThenPaid(t *testing.T) {
	t.Parallel()
	w := setup(t, fakeProvider)
	w.mini(t)
	hk := w.hooks(t)
	inicial := planID(t, w.env, "inicial")
	hx := w.env.LoginAs(w.biller.User)
	hx.HTMX = true
	r := hx.Post(path+"/pago", url.Values{"plan_id": {fmt.Sprint(inicial)}, "method": {"card"}})
	if r.Status != http.StatusNoContent || !strings.HasPrefix(r.Header.Get("HX-Redirect"), w.fake.URL()+"/checkout/") {
		t.Fatalf("htmx pago: status %d, HX-Redirect %q", r.Status, r.Header.Get("HX-Redirect"))
	}
	var checkoutID string
	if err := w.env.DB.QueryRow(context.Background(), `SELECT checkout_id FROM plan_upgrades WHERE org_id = $1`, w.org.ID).Scan(&checkoutID); err != nil {
		t.Fatal(err)
	}
	// The card is declined first: its notification changes nothing.
	w.fake.Reject(checkoutID)
	hk.wait(t, 1)
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND state = 'pending'`, w.org.ID); n != 1 {
		t.Fatal("a rejected payment changed the upgrade")
	}
	// Another card pays; then the rejected one's notification comes again,
	// late: the upgrade stays applied once.
	payment := w.fake.Pay(checkoutID)
	hk.wait(t, 2)
	rejected := w.fake.Payments()[0].ID
	if res := postWebhook(t, w, rejected, []byte(secret)); res.StatusCode != http.StatusOK {
		t.Errorf("late rejected webhook: %d", res.StatusCode)
	}
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND state = 'paid' AND payment_id = $2`, w.org.ID, payment); n != 1 {
		t.Error("the approved payment did not pay the upgrade")
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'upgraded'`, w.org.ID); n != 1 {
		t.Errorf("%d upgraded events, want 1", n)
	}
}

func TestCheckoutNotCreatedCancelsTheUpgrade(t *testing.T) {
	t.Parallel()
	w := setup(t, failingCreate)
	w.mini(t)
	r := w.admin.Post(path+"/pago", url.Values{"plan_id": {fmt.Sprint(planID(t, w.env, "inicial"))}, "method": {"card"}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "No se pudo contactar con la pasarela de pago") {
		t.Fatalf("pago with the provider down: status %d", r.Status)
	}
	if n := w.env.Count(`SELECT count(*) FROM plan_upgrades WHERE org_id = $1 AND state = 'cancelled' AND checkout_id IS NULL`, w.org.ID); n != 1 {
		t.Error("the upgrade without a checkout is not cancelled")
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, w.operator.ID); n != 0 {
		t.Errorf("%d operator invoices left behind, want its draft deleted", n)
	}
	if err := w.issue(plans.Physical); !invoices.OverPlanLimit(err) {
		t.Errorf("after a failed checkout: %v, want the limit", err)
	}
}

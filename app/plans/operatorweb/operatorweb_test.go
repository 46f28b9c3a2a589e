package operatorweb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/money"
	"pulso/app/plans"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
)

const path = "/operador/planes"

// world is Pulso's operator org with a person of each role, and a
// subscriber org on Inicial whose admin is an ordinary org admin.
type world struct {
	env      *apptest.Env
	operator queries.Org
	// people of the operator org, by role
	op map[web.Role]*apptest.Client
	// sub is the subscriber org; subAdmin its admin.
	sub      queries.Org
	subAdmin *apptest.Client
}

func setup(t *testing.T) *world {
	t.Helper()
	w := &world{env: apptest.New(t), op: map[web.Role]*apptest.Client{}}
	w.operator = w.env.Org("Pulso Operaciones S.L.")
	if err := w.env.Q.SetOrgOperator(context.Background(), w.operator.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range web.Roles {
		w.op[r] = w.env.LoginAs(w.env.User(w.operator, string(r)+"@pulso.test", r))
	}
	w.sub = w.env.Org("Ferretería Sol S.L.")
	w.subAdmin = w.env.LoginAs(w.env.User(w.sub, "admin@sol.test", web.RoleAdmin))
	m := plans.Month(today())
	w.env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end) VALUES ($1, $2, 'monthly', 'EUR', $3, $4)`,
		w.sub.ID, planID(t, w.env, "inicial"), m, m.AddDate(0, 1, 0))
	w.env.Exec(`INSERT INTO subscription_events (org_id, kind, to_plan, reason) VALUES ($1, 'started', $2, 'Mes anterior: 0 comprobantes')`,
		w.sub.ID, planID(t, w.env, "inicial"))
	return w
}

// today is the subscriber's day (Europe/Madrid), as the app computes it.
func today() time.Time {
	loc, _ := time.LoadLocation("Europe/Madrid")
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

func planPath(t *testing.T, env *apptest.Env, code string) string {
	return fmt.Sprintf("%s/%d", path, planID(t, env, code))
}

// snapshot is every plan and price as text: what a refused request must
// leave as it was.
func snapshot(t *testing.T, env *apptest.Env) string {
	t.Helper()
	var s string
	if err := env.DB.QueryRow(context.Background(), `SELECT
		(SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s', id, code, name, vouchers, store_users, at_limit, rank, active, updated_at), ';' ORDER BY id) FROM plans)
		|| ' / ' ||
		(SELECT string_agg(format('%s|%s|%s|%s', plan_id, currency, monthly, overage), ';' ORDER BY plan_id, currency) FROM plan_prices)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

var loadedAt = regexp.MustCompile(`name="loaded_at" value="([0-9]+)"`)

// inicial is the seeded Inicial plan's form as its page fills it in,
// loaded by c just now.
func inicial(t *testing.T, w *world, c *apptest.Client) url.Values {
	t.Helper()
	r := c.Get(planPath(t, w.env, "inicial"))
	m := loadedAt.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		t.Fatalf("Inicial's form: status %d %.300s", r.Status, r.Body)
	}
	return url.Values{"loaded_at": {m[1]}, "name": {"Inicial"}, "vouchers": {"250"}, "store_users": {"1"}, "at_limit": {"block"}, "active": {"1"},
		"monthly_EUR": {"19,00"}, "monthly_MXN": {"399,00"}, "monthly_ARS": {"19900,00"}}
}

// newPlan is a valid new plan's form.
func newPlan() url.Values {
	return url.Values{"code": {"pro_plus"}, "name": {"PRO Plus"}, "vouchers": {"10000"}, "store_users": {"6"}, "at_limit": {"overage"}, "active": {"1"},
		"monthly_EUR": {"149,00"}, "overage_EUR": {"0,04"}, "monthly_MXN": {"2.999,00"}, "overage_MXN": {"0,80"},
		"monthly_ARS": {"149.000,00"}, "overage_ARS": {"40"}}
}

// count issues one voucher for the subscriber, as the issuing transaction
// counts it (rolled back when refused).
func count(w *world) error {
	return pgx.BeginFunc(context.Background(), w.env.DB, func(tx pgx.Tx) error {
		return plans.Count(context.Background(), tx, nil, w.sub.ID, plans.Physical, today(), time.Now())
	})
}

func TestOperatorAdminEditsAPlanAndSubscribersFollowFromNow(t *testing.T) {
	t.Parallel()
	w := setup(t)
	ctx := context.Background()
	admin := w.op[web.RoleAdmin]

	r := admin.Get(path)
	if r.Status != http.StatusOK {
		t.Fatalf("list: status %d %.300s", r.Status, r.Body)
	}
	if n := strings.Count(r.Body, `data-testid="plan"`); n != 4 {
		t.Errorf("%d plans listed, want the 4 seeded", n)
	}
	row := func(body, code string) string {
		i := strings.Index(body, `data-plan="`+code+`"`)
		if i < 0 {
			t.Fatalf("no row for %s", code)
		}
		end := strings.Index(body[i:], "</li>")
		return body[i : i+end]
	}
	for code, wants := range map[string][]string{
		"inicial": {"Comprobantes/mes: 250", "Usuarios de tienda: 1", "Al límite: no se emiten más", "Organizaciones: 1",
			money.Format(1900, "EUR") + "/mes", money.Format(39900, "MXN") + "/mes", money.Format(1990000, "ARS") + "/mes"},
		"pro":  {"Comprobantes/mes: 5000", "Al límite: se cobra el excedente", "excedente " + money.Format(5, "EUR"), "Organizaciones: 0"},
		"full": {"Comprobantes ilimitados", "Usuarios de tienda: 5"},
	} {
		got := row(r.Body, code)
		for _, want := range wants {
			if !strings.Contains(got, html.EscapeString(want)) {
				t.Errorf("%s's row lacks %q: %s", code, want, got)
			}
		}
	}
	// The operator's admin finds the page among the admin tools.
	if a := admin.Get("/admin"); !strings.Contains(a.Body, `href="/operador/planes"`) {
		t.Error("the operator's admin has no link to the plans on /admin")
	}

	// The subscriber stands at Inicial's limit: the next voucher is refused.
	w.env.Exec(`INSERT INTO voucher_usage (org_id, month, physical, ecommerce) VALUES ($1, $2, 250, 0)`, w.sub.ID, plans.Month(today()))
	w.env.Exec(`INSERT INTO quota_crossings (org_id, month, threshold, used, vouchers, plan_id) VALUES ($1, $2, 100, 250, 250, $3)`,
		w.sub.ID, plans.Month(today()), planID(t, w.env, "inicial"))
	var limit *plans.LimitError
	if err := count(w); !errors.As(err, &limit) {
		t.Fatalf("the 251st voucher on Inicial: %v, want a LimitError", err)
	}

	form := inicial(t, w, admin)
	if !strings.Contains(admin.Get(planPath(t, w.env, "inicial")).Body, `data-testid="plan-subscribers-note"`) {
		t.Error("the form does not say the plan has subscribers")
	}
	// Amounts as a Spanish org types them, with either mark on a keypad.
	form.Set("vouchers", "300")
	form.Set("store_users", "2")
	form.Set("monthly_EUR", "21,50")
	form.Set("monthly_MXN", "449.5")
	form.Set("monthly_ARS", "24.900,00")
	if r := admin.Post(planPath(t, w.env, "inicial"), form); r.Status != http.StatusSeeOther || r.Header.Get("Location") != path {
		t.Fatalf("save: status %d %.500s", r.Status, r.Body)
	}
	p, err := w.env.Q.GetPlanByCode(ctx, "inicial")
	if err != nil {
		t.Fatal(err)
	}
	if p.Vouchers == nil || *p.Vouchers != 300 || p.StoreUsers != 2 || p.Name != "Inicial" || p.AtLimit != "block" || !p.Active {
		t.Errorf("saved plan: %+v", p)
	}
	cat, err := plans.LoadCatalog(ctx, w.env.Q)
	if err != nil {
		t.Fatal(err)
	}
	for cur, want := range map[string]int64{"EUR": 2150, "MXN": 44950, "ARS": 2490000} {
		if got := cat.Prices[p.ID][cur]; got.Monthly != want || got.Overage != 0 {
			t.Errorf("%s price %+v, want monthly %d", cur, got, want)
		}
	}
	// The subscriber's limit is the new one at once...
	u, err := plans.UsageOf(ctx, w.env.Q, w.sub.ID, today())
	if err != nil {
		t.Fatal(err)
	}
	if u.Limit() != 300 || u.Plan.StoreUsers != 2 || u.Remaining() != 50 {
		t.Errorf("usage after the edit: limit %d, store users %d, remaining %d", u.Limit(), u.Plan.StoreUsers, u.Remaining())
	}
	if err := count(w); err != nil {
		t.Errorf("the 251st voucher under the raised limit: %v", err)
	}
	// ...and what happened before keeps its numbers.
	if n := w.env.Count(`SELECT count(*) FROM quota_crossings WHERE org_id = $1 AND threshold = 100 AND vouchers = 250 AND used = 250`, w.sub.ID); n != 1 {
		t.Error("the crossing at the old limit was rewritten")
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1`, w.sub.ID); n != 1 {
		t.Errorf("%d subscription events, want the 1 there was", n)
	}
	if n := w.env.Count(`SELECT physical FROM voucher_usage WHERE org_id = $1`, w.sub.ID); n != 251 {
		t.Errorf("the month's count is %d, want 251", n)
	}
	r = admin.Get(path)
	if !strings.Contains(r.Body, "Plan guardado.") || !strings.Contains(row(r.Body, "inicial"), "Comprobantes/mes: 300") {
		t.Errorf("the list after saving lacks the flash or the new limit: %.2000s", r.Body)
	}

	// Unlimited, said explicitly; the form shows it back that way.
	form = inicial(t, w, admin)
	form.Set("vouchers", "")
	form.Set("unlimited", "1")
	form.Set("store_users", "2")
	if r := admin.Post(planPath(t, w.env, "inicial"), form); r.Status != http.StatusSeeOther {
		t.Fatalf("unlimited: status %d %.500s", r.Status, r.Body)
	}
	if u, err = plans.UsageOf(ctx, w.env.Q, w.sub.ID, today()); err != nil || u.Limit() != 0 || u.Remaining() != -1 {
		t.Errorf("usage on an unlimited plan: limit %d remaining %d (%v)", u.Limit(), u.Remaining(), err)
	}
	if f := admin.Get(planPath(t, w.env, "inicial")).Body; !regexp.MustCompile(`name="unlimited" value="1" checked`).MatchString(f) ||
		!strings.Contains(f, `name="vouchers" type="text" value=""`) {
		t.Errorf("the unlimited plan's form: %.3000s", f)
	}

	// Overage with its price, through htmx: the page is told where to go.
	form = inicial(t, w, admin)
	form.Set("at_limit", "overage")
	for _, cur := range plans.Currencies {
		form.Set("overage_"+cur, "0,10")
	}
	admin.HTMX = true
	r = admin.Post(planPath(t, w.env, "inicial"), form)
	admin.HTMX = false
	if r.Status != http.StatusNoContent || r.Header.Get("HX-Redirect") != path {
		t.Fatalf("htmx save: status %d, HX-Redirect %q", r.Status, r.Header.Get("HX-Redirect"))
	}
	cat, _ = plans.LoadCatalog(ctx, w.env.Q)
	if p, _ := cat.Plan(planID(t, w.env, "inicial")); p.AtLimit != "overage" || cat.Prices[p.ID]["EUR"].Overage != 10 {
		t.Errorf("overage not saved: %+v %+v", p, cat.Prices[p.ID])
	}
}

func TestOperatorAdminAddsAPlanAboveTheOthers(t *testing.T) {
	t.Parallel()
	w := setup(t)
	admin := w.op[web.RoleAdmin]
	if r := admin.Get(path + "/nuevo"); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="code"`) {
		t.Fatalf("new plan form: %d", r.Status)
	}
	if r := admin.Post(path, newPlan()); r.Status != http.StatusSeeOther {
		t.Fatalf("create: status %d %.1000s", r.Status, r.Body)
	}
	ctx := context.Background()
	p, err := w.env.Q.GetPlanByCode(ctx, "pro_plus")
	if err != nil {
		t.Fatal(err)
	}
	full, _ := w.env.Q.GetPlanByCode(ctx, "full")
	if p.Name != "PRO Plus" || p.Vouchers == nil || *p.Vouchers != 10000 || p.StoreUsers != 6 || p.AtLimit != "overage" || !p.Active || p.Rank <= full.Rank {
		t.Errorf("new plan: %+v (FULL's rank %d)", p, full.Rank)
	}
	cat, _ := plans.LoadCatalog(ctx, w.env.Q)
	for cur, want := range map[string]plans.Price{"EUR": {Monthly: 14900, Overage: 4}, "MXN": {Monthly: 299900, Overage: 80}, "ARS": {Monthly: 14900000, Overage: 4000}} {
		if got := cat.Prices[p.ID][cur]; got.Monthly != want.Monthly || got.Overage != want.Overage {
			t.Errorf("%s: %+v, want %+v", cur, got, want)
		}
	}
	if r := admin.Get(path); !strings.Contains(r.Body, `data-plan="pro_plus"`) {
		t.Error("the new plan is not listed")
	}
}

// Anyone but the operator org's admins is told the pages do not exist: a
// 404 on every route, GET and POST alike, and nothing changes.
func TestOnlyOperatorAdminsFindThePages(t *testing.T) {
	t.Parallel()
	w := setup(t)
	before := snapshot(t, w.env)
	others := map[string]*apptest.Client{"admin of another org": w.subAdmin}
	for _, r := range web.Roles {
		if r != web.RoleAdmin {
			others["operator's "+string(r)] = w.op[r]
		}
	}
	for who, c := range others {
		form := url.Values{"loaded_at": {"1"}, "name": {"Gratis"}, "vouchers": {""}, "unlimited": {"1"}, "store_users": {"9"}, "at_limit": {"block"},
			"monthly_EUR": {"0"}, "monthly_MXN": {"0"}, "monthly_ARS": {"0"}}
		for _, probe := range []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodGet, path, nil},
			{http.MethodGet, path + "/nuevo", nil},
			{http.MethodGet, planPath(t, w.env, "inicial"), nil},
			{http.MethodGet, path + "/999999", nil},
			{http.MethodPost, path, newPlan()},
			{http.MethodPost, planPath(t, w.env, "inicial"), form},
		} {
			var r apptest.Response
			if probe.method == http.MethodGet {
				r = c.Get(probe.path)
			} else {
				r = c.Post(probe.path, probe.form)
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: %s %s answered %d, want 404", who, probe.method, probe.path, r.Status)
			}
			if strings.Contains(r.Body, "Inicial") {
				t.Errorf("%s: %s %s shows a plan", who, probe.method, probe.path)
			}
		}
		// No link to them either.
		for _, page := range []string{"/", "/admin"} {
			if strings.Contains(c.Get(page).Body, "/operador/planes") {
				t.Errorf("%s: %s links to the operator's plans", who, page)
			}
		}
	}
	// Signed out: sent to sign in, as everywhere.
	if r := w.env.Client().Get(path); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("signed out: %d %q", r.Status, r.Header.Get("Location"))
	}
	if after := snapshot(t, w.env); after != before {
		t.Errorf("plans changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestSavesNeedTheFormsCSRFToken(t *testing.T) {
	t.Parallel()
	w := setup(t)
	admin := w.op[web.RoleAdmin]
	form := inicial(t, w, admin)
	form.Set("vouchers", "999")
	before := snapshot(t, w.env)
	for _, token := range []string{"", "not-the-token"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("_csrf", token)
		if r := admin.PostRaw(planPath(t, w.env, "inicial"), f); r.Status != http.StatusForbidden {
			t.Errorf("edit with token %q: status %d, want 403", token, r.Status)
		}
		n := newPlan()
		n.Set("_csrf", token)
		if r := admin.PostRaw(path, n); r.Status != http.StatusForbidden {
			t.Errorf("new plan with token %q: status %d, want 403", token, r.Status)
		}
	}
	if after := snapshot(t, w.env); after != before {
		t.Errorf("plans changed without a token:\nbefore %s\nafter  %s", before, after)
	}
}

// Every bad input is answered next to its field with its message, and
// nothing is saved.
func TestBadInputGetsItsMessageAndChangesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t)
	admin := w.op[web.RoleAdmin]
	before := snapshot(t, w.env)
	set := func(kv ...string) func(url.Values) {
		return func(f url.Values) {
			for i := 0; i < len(kv); i += 2 {
				f.Set(kv[i], kv[i+1])
			}
		}
	}
	for _, tc := range []struct {
		name   string
		isNew  bool
		change func(url.Values)
		field  string
		msg    string
	}{
		{"negative limit", false, set("vouchers", "-5"), "vouchers", "operator.vouchers_range"},
		{"zero limit is not unlimited", false, set("vouchers", "0"), "vouchers", "operator.vouchers_range"},
		{"limit past the bound", false, set("vouchers", "100000001"), "vouchers", "operator.vouchers_range"},
		{"limit past int32", false, set("vouchers", "99999999999"), "vouchers", "operator.vouchers_range"},
		{"non-numeric limit", false, set("vouchers", "muchos"), "vouchers", "operator.number_invalid"},
		{"grouped limit", false, set("vouchers", "1.500"), "vouchers", "operator.number_invalid"},
		{"empty limit is not unlimited", false, set("vouchers", ""), "vouchers", "operator.vouchers_required"},
		{"a limit and unlimited", false, set("unlimited", "1"), "vouchers", "operator.vouchers_both"},
		{"negative store users", false, set("store_users", "-1"), "store_users", "operator.store_users_range"},
		{"too many store users", false, set("store_users", "1001"), "store_users", "operator.store_users_range"},
		{"non-numeric store users", false, set("store_users", "dos"), "store_users", "operator.number_invalid"},
		{"no store users", false, set("store_users", ""), "store_users", "validation.required"},
		{"missing currency price", false, set("monthly_MXN", ""), "monthly_MXN", "operator.price_required"},
		{"three decimals", false, set("monthly_EUR", "19,999"), "monthly_EUR", "operator.price_invalid"},
		{"negative price", false, set("monthly_EUR", "-19,00"), "monthly_EUR", "operator.price_invalid"},
		{"words for a price", false, set("monthly_ARS", "diez mil"), "monthly_ARS", "operator.price_invalid"},
		{"bad overage price", false, set("overage_EUR", "0,0,1"), "overage_EUR", "operator.price_invalid"},
		{"overage without its price", false, set("at_limit", "overage", "overage_EUR", "0,05", "overage_MXN", "0,05"), "overage_ARS", "operator.overage_required"},
		{"overage priced at zero", false, set("at_limit", "overage", "overage_EUR", "0", "overage_MXN", "1", "overage_ARS", "1"), "overage_EUR", "operator.overage_required"},
		{"unknown policy", false, set("at_limit", "gratis"), "at_limit", "validation.choice"},
		{"no name", false, set("name", "  "), "name", "validation.required"},
		{"long name", false, set("name", strings.Repeat("x", 61)), "name", "validation.too_long"},
		{"duplicate code", true, set("code", "pro"), "code", "operator.code_taken"},
		{"code with capitals and spaces", true, set("code", "PRO Plus"), "code", "operator.code_invalid"},
		{"no code", true, set("code", ""), "code", "operator.code_invalid"},
		{"new plan without a limit", true, set("vouchers", ""), "vouchers", "operator.vouchers_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, form := path, newPlan()
			if !tc.isNew {
				target, form = planPath(t, w.env, "inicial"), inicial(t, w, admin)
			}
			tc.change(form)
			r := admin.Post(target, form)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %.500s", r.Status, r.Body)
			}
			want := `<p class="field-error" id="e-` + tc.field + `">` + html.EscapeString(i18n.In("es", tc.msg, nil)) + `</p>`
			if !strings.Contains(r.Body, want) {
				t.Errorf("the form lacks %s", want)
			}
			if !strings.Contains(r.Body, `data-testid="form-errors"`) {
				t.Error("the form does not say nothing was saved")
			}
		})
	}
	if after := snapshot(t, w.env); after != before {
		t.Errorf("bad input changed the plans:\nbefore %s\nafter  %s", before, after)
	}
	if n := w.env.Count(`SELECT count(*) FROM plans`); n != 4 {
		t.Errorf("%d plans, want the 4 seeded", n)
	}

	// htmx gets the form alone with its errors, in the user's language.
	en := w.env.LoginAs(w.env.User(w.operator, "admin-en@pulso.test", web.RoleAdmin))
	en.Post("/account/locale", url.Values{"locale": {"en"}})
	form := inicial(t, w, en)
	form.Set("vouchers", "-5")
	en.HTMX = true
	r := en.Post(planPath(t, w.env, "inicial"), form)
	if r.Status != http.StatusUnprocessableEntity || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="plan-form"`) ||
		!strings.Contains(r.Body, "Enter a number from 1 to 100,000,000") {
		t.Errorf("htmx, in English: status %d %.1000s", r.Status, r.Body)
	}

	// A form loaded before someone else's save would undo it: refused.
	stale := inicial(t, w, admin)
	fresh := inicial(t, w, admin)
	fresh.Set("vouchers", "260")
	if r := admin.Post(planPath(t, w.env, "inicial"), fresh); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: %d", r.Status)
	}
	mid := snapshot(t, w.env)
	stale.Set("vouchers", "270")
	if r := admin.Post(planPath(t, w.env, "inicial"), stale); r.Status != http.StatusConflict || !strings.Contains(r.Body, `data-testid="conflict"`) {
		t.Errorf("stale save: status %d, want 409 with the conflict", r.Status)
	}
	stale.Del("loaded_at")
	if r := admin.Post(planPath(t, w.env, "inicial"), stale); r.Status != http.StatusConflict {
		t.Errorf("save without loaded_at: status %d, want 409", r.Status)
	}
	if after := snapshot(t, w.env); after != mid {
		t.Errorf("a stale save changed the plan:\nbefore %s\nafter  %s", mid, after)
	}
	// Unknown and malformed ids are not found.
	for _, p := range []string{path + "/999999", path + "/abc", path + "/0", path + "/-1"} {
		if r := admin.Get(p); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.Status)
		}
		if r := admin.Post(p, fresh); r.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", p, r.Status)
		}
	}
}

// lockedBuffer is a log sink safe for the app's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// There is no audit table for the plans: each save is one log line
// saying who changed what.
func TestSavesAreLoggedWithWhoAndWhat(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	env := apptest.NewLogging(t, apptest.NewDB(t), slog.New(slog.NewJSONHandler(&logs, nil)))
	op := env.Org("Pulso Operaciones S.L.")
	if err := env.Q.SetOrgOperator(context.Background(), op.ID); err != nil {
		t.Fatal(err)
	}
	u := env.User(op, "admin@pulso.test", web.RoleAdmin)
	admin := env.LoginAs(u)
	form := inicial(t, &world{env: env}, admin)
	form.Set("vouchers", "300")
	form.Set("monthly_EUR", "21,50")
	if r := admin.Post(planPath(t, env, "inicial"), form); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", r.Status)
	}
	if r := admin.Post(path, newPlan()); r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.Status)
	}
	var saves []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "plan saved" {
			saves = append(saves, m)
		}
	}
	if len(saves) != 2 {
		t.Fatalf("%d 'plan saved' lines, want 2:\n%s", len(saves), logs.String())
	}
	if s := saves[0]; s["user_id"] != float64(u.ID) || s["org_id"] != float64(op.ID) || s["code"] != "inicial" ||
		s["changes"] != "vouchers 250→300; monthly_EUR 1900→2150" {
		t.Errorf("edit logged as %v", s)
	}
	if s := saves[1]; s["user_id"] != float64(u.ID) || s["code"] != "pro_plus" || !strings.Contains(fmt.Sprint(s["changes"]), "vouchers unlimited→10000") {
		t.Errorf("new plan logged as %v", s)
	}
}

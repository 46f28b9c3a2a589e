package dashboardweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/web"
	"pulso/queries"
)

// tileNames are every tile of the dashboard, by its URL name.
var (
	salesTiles   = []string{"won", "pipeline", "lost", "ytd", "trend", "conversion", "deal-size", "funnel", "activity", "sla"}
	billingTiles = []string{"billing", "debtors"}
)

type world struct {
	*apptest.World
	Accountant  queries.User
	AccountantC *apptest.Client
	// Manager2 leads a team of their own (Rep2), outside Manager's.
	Manager2  queries.User
	Manager2C *apptest.Client
	customer  map[int64]int64 // owner → a customer of theirs
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Panel Norte S.L.", "panel.test"), customer: map[int64]int64{}}
	w.Accountant = w.Env.User(w.Org, "accountant@panel.test", web.RoleAccountant)
	w.AccountantC = w.Env.LoginAs(w.Accountant)
	w.Manager2 = w.Env.User(w.Org, "manager2@panel.test", web.RoleManager)
	w.Env.Exec(`UPDATE users SET manager_id = $1 WHERE id = $2`, w.Manager2.ID, w.Rep2.ID)
	w.Manager2C = w.Env.LoginAs(w.Manager2)
	for _, u := range []queries.User{w.Rep, w.Rep2, w.Manager, w.Admin} {
		owner := u.ID
		cu, err := w.Env.Q.CreateCustomer(context.Background(), queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: "Cliente de " + u.Name,
			Country: "ES", OwnerID: &owner, Tags: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		w.customer[u.ID] = cu.ID
	}
	return w
}

var oppURL = regexp.MustCompile(`^/opportunities/(\d+)$`)

// deal creates a deal through the app as c, owned by owner, and moves it
// to stage ("" leaves it where it starts).
func (w *world) deal(t *testing.T, c *apptest.Client, owner queries.User, title, amount, stage string) string {
	t.Helper()
	r := c.Post("/opportunities", url.Values{"customer_id": {fmt.Sprint(w.customer[owner.ID])}, "title": {title}, "amount": {amount},
		"probability": {"50"}, "owner_id": {fmt.Sprint(owner.ID)}, "expected_close": {"2026-12-15"}})
	m := oppURL.FindStringSubmatch(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("create deal: %d %s %.400s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if stage != "" {
		if r := c.Post("/opportunities/"+m[1]+"/move", url.Values{"stage": {stage}, "version": {"1"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("move deal to %s: %d %.400s", stage, r.Status, r.Body)
		}
	}
	return m[1]
}

func get(t *testing.T, c *apptest.Client, path string, want int) string {
	t.Helper()
	r := c.Get(path)
	if r.Status != want {
		t.Fatalf("GET %s: status %d, want %d\n%.600s", path, r.Status, want, r.Body)
	}
	return r.Body
}

func has(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
}

func lacks(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(body, s) {
			t.Errorf("%s has %q", what, s)
		}
	}
}

func testIDs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = `data-testid="tile-` + n + `"`
	}
	return out
}

// Managers and admins land on the dashboard; a rep on their own numbers
// above My day; the accountant on the welcome.
func TestHomeByRole(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, c := range []struct {
		who    string
		client *apptest.Client
		name   string
	}{{"manager", w.ManagerC, w.Manager.Name}, {"admin", w.AdminC, w.Admin.Name}} {
		body := get(t, c.client, "/", http.StatusOK)
		has(t, c.who+"'s home", body, "Hola, "+c.name, `data-testid="dashboard"`, `data-testid="dashboard-filters"`, `id="opp-live"`)
		has(t, c.who+"'s home", body, testIDs(salesTiles)...)
		lacks(t, c.who+"'s home", body, `data-testid="my-day"`, `data-testid="my-numbers"`)
		if strings.Count(body, `id="opp-live"`) != 1 {
			t.Errorf("%s's home has %d #opp-live", c.who, strings.Count(body, `id="opp-live"`))
		}
	}
	has(t, "manager's home", get(t, w.ManagerC, "/", http.StatusOK), `id="target-progress"`, `href="/my-day"`)
	// Billing is the whole org's: on the admin's dashboard, not the manager's.
	has(t, "admin's home", get(t, w.AdminC, "/", http.StatusOK), testIDs(billingTiles)...)
	lacks(t, "manager's home", get(t, w.ManagerC, "/", http.StatusOK), testIDs(billingTiles)...)

	rep := get(t, w.RepC, "/", http.StatusOK)
	has(t, "rep's home", rep, `data-testid="my-day"`, `data-testid="my-numbers"`, `id="opp-live"`,
		`<div id="target-progress" hx-get="/targets/progress" hx-trigger="load, pulso:deals from:body" hx-swap="innerHTML"></div>`)
	has(t, "rep's home", rep, testIDs([]string{"won", "pipeline", "activity", "funnel"})...)
	lacks(t, "rep's home", rep, `data-testid="dashboard-filters"`, `data-testid="tile-lost"`, `data-testid="tile-billing"`)
	has(t, "rep's home", rep, `hx-get="/dashboard/tiles/won?compact=1"`)

	acc := get(t, w.AccountantC, "/", http.StatusOK)
	lacks(t, "accountant's home", acc, `data-testid="tile-`)
	// The nav offers the dashboard to everyone but reps.
	has(t, "accountant's nav", acc, `href="/dashboard"`)
	lacks(t, "rep's nav", rep, `href="/dashboard"`)
}

// Every tile answers alone for htmx, as the same element the page holds,
// reloading itself with the page's filters on its live events.
func TestEveryTileRendersAlone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.AdminC.HTMX = true
	page := get(t, w.AdminC, "/dashboard?period=quarter&source=web_form", http.StatusOK)
	for _, name := range append(append([]string{}, salesTiles...), billingTiles...) {
		url := "/dashboard/tiles/" + name + "?period=quarter&source=web_form"
		body := get(t, w.AdminC, url, http.StatusOK)
		if !strings.HasPrefix(strings.TrimSpace(body), `<section class="card tile" id="tile-`+name+`"`) || strings.Contains(body, "<html") {
			t.Errorf("tile %s is not its section alone:\n%.300s", name, body)
		}
		attr := `hx-get="` + strings.ReplaceAll(url, "&", "&amp;") + `"`
		has(t, "tile "+name, body, `data-testid="tile-`+name+`"`, attr, "pulso:resync from:body", `hx-swap="outerHTML"`)
		has(t, "the page", page, attr)
	}
	// What each tile shows.
	has(t, "won tile", get(t, w.AdminC, "/dashboard/tiles/won", http.StatusOK), `data-testid="won-amount"`, `data-testid="won-amount-vs-prev"`, `data-testid="won-amount-vs-last-year"`)
	has(t, "funnel tile", get(t, w.AdminC, "/dashboard/tiles/funnel", http.StatusOK), `data-testid="funnel-signed"`)
	has(t, "billing tile", get(t, w.AdminC, "/dashboard/tiles/billing", http.StatusOK), `data-testid="billed-amount"`)
	// Charts are drawn from the table under them.
	has(t, "pipeline tile", get(t, w.AdminC, "/dashboard/tiles/pipeline", http.StatusOK), `data-chart="bars"`, `aria-hidden="true"`, `<table class="stats-table"`, `data-series`)
	has(t, "trend tile", get(t, w.AdminC, "/dashboard/tiles/trend", http.StatusOK), `data-chart="lines"`, "vendor/uplot/uPlot.iife.min.")
	get(t, w.AdminC, "/dashboard/tiles/nope", http.StatusNotFound)
}

// A tile fetches itself only on a resync (pulso.js dispatches it when the
// socket reconnects): live events push tiles re-rendered instead (live.go),
// and the page names what its socket follows.
func TestTilesReloadOnlyOnResync(t *testing.T) {
	t.Parallel()
	js, err := os.ReadFile("../../../static/js/pulso.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `htmx.trigger(document.body, "pulso:resync")`) || !strings.Contains(string(js), "[data-live-view]") {
		t.Fatal("pulso.js neither dispatches pulso:resync nor follows [data-live-view]")
	}
	w := newWorld(t)
	w.AdminC.HTMX = true
	for _, name := range append(append([]string{}, salesTiles...), billingTiles...) {
		has(t, "tile "+name, get(t, w.AdminC, "/dashboard/tiles/"+name, http.StatusOK), `hx-trigger="pulso:resync from:body"`)
	}
	has(t, "the dashboard", get(t, w.AdminC, "/dashboard?period=quarter", http.StatusOK), `data-live-view="dashboard" data-live-query="period=quarter"`)
	has(t, "a rep's home", get(t, w.RepC, "/", http.StatusOK), `data-live-view="dashboard" data-live-query="compact=1"`)
}

// The accountant sees billing only: no sales tile on the page, and a
// sales tile's URL refuses them. Nobody else gets the org's billing but
// admins.
func TestAccountantSeesBillingOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := get(t, w.AccountantC, "/dashboard", http.StatusOK)
	has(t, "accountant's dashboard", body, testIDs(billingTiles)...)
	lacks(t, "accountant's dashboard", body, testIDs(salesTiles)...)
	lacks(t, "accountant's dashboard", body, `name="rep"`, `name="team"`, `id="target-progress"`)
	for _, name := range salesTiles {
		get(t, w.AccountantC, "/dashboard/tiles/"+name, http.StatusForbidden)
	}
	for _, name := range billingTiles {
		get(t, w.AccountantC, "/dashboard/tiles/"+name, http.StatusOK)
		get(t, w.ManagerC, "/dashboard/tiles/"+name, http.StatusForbidden)
		get(t, w.RepC, "/dashboard/tiles/"+name, http.StatusForbidden)
	}
	rep := get(t, w.RepC, "/dashboard", http.StatusOK)
	lacks(t, "rep's dashboard", rep, testIDs(billingTiles)...)
	lacks(t, "rep's dashboard", rep, `name="rep"`, `name="team"`)
	has(t, "rep's dashboard", rep, testIDs(salesTiles)...)
}

// Filter values that mean nothing are a 400 with a message saying which,
// on the page and on a tile; never a 500.
func TestBadFiltersAre400(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for q, msg := range map[string]string{
		"period=ayer":             "El periodo no es válido",
		"period=":                 "", // empty is the default, fine
		"month=2026-13":           "El mes no es válido",
		"month=diciembre":         "El mes no es válido",
		"month=1999-01":           "El mes no es válido",
		"month=9999-01":           "El mes no es válido",
		"team=abc":                "El equipo no es válido",
		"team=-1":                 "El equipo no es válido",
		"rep=1e3":                 "El comercial no es válido",
		"rep=99999999999999":      "El comercial no es válido",
		"rep=9223372036854775808": "El comercial no es válido",
		"source=fax":              "El origen no es válido",
		"group=x":                 "El grupo de productos no es válido",
		"group=424242":            "El grupo de productos no es válido",
		"compact=yes":             "Vista no válida",
	} {
		for _, path := range []string{"/dashboard?" + q, "/dashboard/tiles/won?" + q} {
			r := w.AdminC.Get(path)
			if msg == "" {
				if r.Status != http.StatusOK {
					t.Errorf("GET %s: %d, want 200", path, r.Status)
				}
				continue
			}
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, msg) {
				t.Errorf("GET %s: %d, want 400 saying %q\n%.300s", path, r.Status, msg, r.Body)
			}
		}
	}
	// Another manager is a team, but not a rep's of this team.
	if r := w.AdminC.Get(fmt.Sprintf("/dashboard?team=%d&rep=%d", w.Manager.ID, w.Rep2.ID)); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "no es del equipo") {
		t.Errorf("rep outside the chosen team: %d", r.Status)
	}
	// A rep is no team.
	if r := w.AdminC.Get(fmt.Sprintf("/dashboard?team=%d", w.Rep.ID)); r.Status != http.StatusBadRequest {
		t.Errorf("a rep as a team: %d", r.Status)
	}
	// Through htmx the message goes to the flash area.
	w.AdminC.HTMX = true
	r := w.AdminC.Get("/dashboard/tiles/won?period=ayer")
	if r.Status != http.StatusBadRequest || r.Header.Get("HX-Retarget") != "#flash" || !strings.Contains(r.Body, "El periodo no es válido") {
		t.Errorf("htmx bad filter: %d %q %.200s", r.Status, r.Header.Get("HX-Retarget"), r.Body)
	}
}

// A manager may filter by their team's reps; a rep or team outside their
// scope is refused, never shown as someone else's numbers.
func TestFiltersOutsideScopeAreRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, c := range []struct {
		who    string
		client *apptest.Client
		query  string
		want   int
	}{
		{"manager, own rep", w.ManagerC, fmt.Sprintf("rep=%d", w.Rep.ID), http.StatusOK},
		{"manager, self", w.ManagerC, fmt.Sprintf("rep=%d", w.Manager.ID), http.StatusOK},
		{"manager, other team's rep", w.ManagerC, fmt.Sprintf("rep=%d", w.Rep2.ID), http.StatusForbidden},
		{"manager, the admin", w.ManagerC, fmt.Sprintf("rep=%d", w.Admin.ID), http.StatusForbidden},
		{"manager, other team", w.ManagerC, fmt.Sprintf("team=%d", w.Manager2.ID), http.StatusForbidden},
		{"manager, own team", w.ManagerC, fmt.Sprintf("team=%d", w.Manager.ID), http.StatusOK},
		{"rep, another rep", w.RepC, fmt.Sprintf("rep=%d", w.Rep2.ID), http.StatusForbidden},
		{"rep, their manager's team", w.RepC, fmt.Sprintf("team=%d", w.Manager.ID), http.StatusForbidden},
		{"rep, self", w.RepC, fmt.Sprintf("rep=%d", w.Rep.ID), http.StatusOK},
		{"admin, any rep", w.AdminC, fmt.Sprintf("rep=%d", w.Rep2.ID), http.StatusOK},
		{"admin, any team", w.AdminC, fmt.Sprintf("team=%d", w.Manager2.ID), http.StatusOK},
	} {
		for _, path := range []string{"/dashboard?" + c.query, "/dashboard/tiles/won?" + c.query} {
			r := c.client.Get(path)
			if r.Status != c.want {
				t.Errorf("%s: GET %s: %d, want %d", c.who, path, r.Status, c.want)
			}
			if c.want == http.StatusForbidden && !strings.Contains(r.Body, "no está entre los que puede ver") {
				t.Errorf("%s: refusal does not say why: %.300s", c.who, r.Body)
			}
		}
	}
	// The manager's rep filter offers their team only; the admin's every
	// rep and the teams.
	mgr := get(t, w.ManagerC, "/dashboard", http.StatusOK)
	has(t, "manager's filters", mgr, `name="rep"`, w.Rep.Name)
	lacks(t, "manager's filters", mgr, w.Rep2.Name, `name="team"`)
	adm := get(t, w.AdminC, "/dashboard", http.StatusOK)
	has(t, "admin's filters", adm, `name="team"`, w.Manager2.Name, w.Rep2.Name)
}

// The period chips keep the other filters and mark the chosen one; a
// chosen month replaces the chip.
func TestPeriodChips(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := get(t, w.AdminC, "/dashboard?period=year&source=email", http.StatusOK)
	has(t, "dashboard", body, `href="/dashboard?period=quarter&amp;source=email"`, `href="/dashboard?source=email"`,
		`data-testid="period-year"`, `name="period" value="year"`)
	if !regexp.MustCompile(`class="tab chip tab--active"[^>]*aria-current="true"[^>]*data-testid="period-year"`).MatchString(body) {
		t.Error("the year chip is not marked as chosen")
	}
	month := get(t, w.AdminC, "/dashboard?month=2025-03", http.StatusOK)
	has(t, "dashboard for a month", month, "marzo 2025", `value="2025-03"`, "febrero 2025", "marzo 2024")
	lacks(t, "dashboard for a month", month, "tab--active", `name="period"`)
}

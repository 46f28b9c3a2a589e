package targets_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/stats"
	"pulso/queries"
)

type world struct {
	*apptest.World
	Accountant  queries.User
	AccountantC *apptest.Client
	month       string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Objetivos S.L.", "objetivos.test")}
	w.Accountant = w.Env.User(w.Org, "accountant@objetivos.test", "accountant")
	w.AccountantC = w.Env.LoginAs(w.Accountant)
	madrid, _ := time.LoadLocation("Europe/Madrid")
	w.month = stats.MonthOf(time.Now(), madrid).String()
	return w
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("missing %q in %.2000s", s, body)
		}
	}
}

func (w *world) set(c *apptest.Client, user int64, kv ...string) apptest.Response {
	form := url.Values{"user_id": {fmt.Sprint(user)}, "month": {w.month}, "won_amount": {"10.000,00"}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return c.Post("/targets", form)
}

// A manager sets their team's targets and nobody else's; an admin anyone's;
// reps and accountants none (the route refuses them and no page offers
// them the form).
func TestWhoSetsTargets(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	page := w.ManagerC.Get("/targets")
	if page.Status != http.StatusOK {
		t.Fatalf("manager's page: %d", page.Status)
	}
	contains(t, page.Body, w.Rep.Name, fmt.Sprintf(`href="/targets/edit?user=%d&amp;month=%s"`, w.Rep.ID, w.month), `href="/targets"`)
	if strings.Contains(page.Body, w.Rep2.Name) {
		t.Error("the manager's page lists a rep of no team of theirs")
	}
	if strings.Contains(page.Body, fmt.Sprintf("/targets/edit?user=%d&", w.Manager.ID)) {
		t.Error("the manager is offered to set their own target")
	}

	if r := w.set(w.ManagerC, w.Rep.ID, "deals", "5", "visits", "12"); r.Status != http.StatusSeeOther {
		t.Fatalf("manager sets the rep's target: %d %.500s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM sales_targets WHERE user_id = $1 AND won_amount = 1000000 AND deals = 5 AND visits = 12 AND set_by = $2 AND month = $3::date`,
		w.Rep.ID, w.Manager.ID, w.month+"-01"); n != 1 {
		t.Fatalf("stored targets: %d", n)
	}
	// Setting it again changes the one row.
	if r := w.set(w.ManagerC, w.Rep.ID, "won_amount", "12.000"); r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM sales_targets WHERE user_id = $1`, w.Rep.ID); n != 1 {
		t.Fatalf("%d rows after a change", n)
	}
	if n := w.Env.Count(`SELECT won_amount FROM sales_targets WHERE user_id = $1`, w.Rep.ID); n != 1_200_000 {
		t.Fatalf("changed amount: %d", n)
	}
	// Each save checks the target at once (it may be reached already).
	if n := w.Env.Count(`SELECT count(*) FROM river_job WHERE kind = 'target_check' AND (args->>'user_id')::bigint = $1`, w.Rep.ID); n < 1 {
		t.Error("no target check queued with the save")
	}
	contains(t, w.ManagerC.Get("/targets").Body, "12.000,00\u00a0€", `data-testid="target-bar"`, "<progress")

	// Refused with a reason next to the field: themselves, outside the team.
	r := w.set(w.ManagerC, w.Manager.ID)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("manager's own target: %d", r.Status)
	}
	contains(t, r.Body, "Su propio objetivo lo fija su responsable o un administrador.")
	r = w.set(w.ManagerC, w.Rep2.ID)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("rep outside the team: %d", r.Status)
	}
	contains(t, r.Body, "Solo puede fijar objetivos de las personas de su equipo.")
	if n := w.Env.Count(`SELECT count(*) FROM sales_targets WHERE user_id IN ($1, $2)`, w.Manager.ID, w.Rep2.ID); n != 0 {
		t.Fatalf("%d refused targets stored", n)
	}

	// An admin sets anyone's, the manager's included.
	for _, u := range []queries.User{w.Rep2, w.Manager, w.Admin} {
		if r := w.set(w.AdminC, u.ID); r.Status != http.StatusSeeOther {
			t.Errorf("admin sets %s: %d %.300s", u.Email, r.Status, r.Body)
		}
	}
	admin := w.AdminC.Get("/targets").Body
	contains(t, admin, w.Rep2.Name, w.Rep.Name, w.Manager.Name, `data-testid="target-total"`, fmt.Sprintf("/targets/edit?user=%d&amp;", w.Rep2.ID))

	// Reps and accountants: 403 on the routes, no form on the page.
	for _, c := range []*apptest.Client{w.RepC, w.AccountantC} {
		if r := w.set(c, w.Rep.ID, "won_amount", "1"); r.Status != http.StatusForbidden {
			t.Errorf("set by a rep or accountant: %d", r.Status)
		}
		if r := c.Get(fmt.Sprintf("/targets/edit?user=%d&month=%s", w.Rep.ID, w.month)); r.Status != http.StatusForbidden {
			t.Errorf("edit form for a rep or accountant: %d", r.Status)
		}
		page := c.Get("/targets")
		if page.Status != http.StatusOK || strings.Contains(page.Body, "/targets/edit") || strings.Contains(page.Body, `data-testid="target-form"`) ||
			strings.Contains(page.Body, `action="/targets"`) && strings.Contains(page.Body, `name="won_amount"`) {
			t.Errorf("a rep or accountant is offered the form: %d", page.Status)
		}
	}
	if n := w.Env.Count(`SELECT won_amount FROM sales_targets WHERE user_id = $1`, w.Rep.ID); n != 1_200_000 {
		t.Fatalf("a refused change went through: %d", n)
	}
	// A rep sees their own row, nobody else's.
	rep := w.RepC.Get("/targets").Body
	contains(t, rep, w.Rep.Name, "Los objetivos los fija su responsable.")
	if strings.Contains(rep, w.Rep2.Name) || strings.Contains(rep, w.Manager.Name+"</strong>") {
		t.Error("a rep sees others' targets")
	}
}

// Bad input comes back next to its field, with the form, and stores
// nothing; the editor is inline (htmx gets the row alone).
func TestTargetValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	other := w.Env.Org("Otra S.L.")
	stranger := w.Env.User(other, "rep@otra-objetivos.test", "rep")
	for _, c := range []struct {
		name  string
		kv    []string
		user  int64
		field string
		msg   string
	}{
		{"negative", []string{"won_amount", "-500"}, w.Rep.ID, "won_amount", "Escriba un importe mayor que cero"},
		{"zero", []string{"won_amount", "0"}, w.Rep.ID, "won_amount", "Escriba un importe mayor que cero"},
		{"not a number", []string{"won_amount", "mucho"}, w.Rep.ID, "won_amount", "Escriba un importe mayor que cero"},
		{"empty", []string{"won_amount", ""}, w.Rep.ID, "won_amount", "Este campo es obligatorio."},
		{"absurd", []string{"won_amount", "99999999999999"}, w.Rep.ID, "won_amount", "demasiado alto"},
		{"deals not whole", []string{"deals", "2,5"}, w.Rep.ID, "deals", "número entero entre 1 y 10.000"},
		{"visits negative", []string{"visits", "-1"}, w.Rep.ID, "visits", "número entero entre 1 y 10.000"},
		{"unknown user", nil, 987654, "user_id", "Elija una opción de la lista."},
		{"another org's user", nil, stranger.ID, "user_id", "Elija una opción de la lista."},
		{"bad month", []string{"month", "2026-13"}, w.Rep.ID, "month", "Elija un mes válido"},
	} {
		r := w.set(w.AdminC, c.user, c.kv...)
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", c.name, r.Status)
			continue
		}
		contains(t, r.Body, c.msg, `data-testid="target-form"`)
		if c.field != "user_id" && c.field != "month" {
			contains(t, r.Body, `id="e-`+c.field+`"`, `aria-invalid="true"`)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM sales_targets`); n != 0 {
		t.Fatalf("%d targets stored from bad input", n)
	}
	// A manager asking for the form of someone not theirs finds nothing.
	if r := w.ManagerC.Get(fmt.Sprintf("/targets/edit?user=%d&month=%s", w.Rep2.ID, w.month)); r.Status != http.StatusNotFound {
		t.Errorf("edit form outside the team: %d", r.Status)
	}
	if r := w.ManagerC.Get("/targets?month=junio"); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Elija un mes válido") {
		t.Errorf("bad month picked: %d", r.Status)
	}

	// Inline: htmx gets the row's form, then the saved row, never the layout.
	w.ManagerC.HTMX = true
	form := w.ManagerC.Get(fmt.Sprintf("/targets/edit?user=%d&month=%s", w.Rep.ID, w.month))
	if form.Status != http.StatusOK || strings.Contains(form.Body, "<html") {
		t.Fatalf("inline form: %d %.300s", form.Status, form.Body)
	}
	contains(t, form.Body, `data-testid="target-form"`, `hx-post="/targets"`, fmt.Sprintf(`hx-target="#target-%d"`, w.Rep.ID), `<label for="f-won_amount"`)
	bad := w.set(w.ManagerC, w.Rep.ID, "won_amount", "-1")
	if bad.Status != http.StatusUnprocessableEntity || strings.Contains(bad.Body, "<html") || !strings.Contains(bad.Body, `id="e-won_amount"`) {
		t.Fatalf("inline error: %d %.300s", bad.Status, bad.Body)
	}
	saved := w.set(w.ManagerC, w.Rep.ID, "won_amount", "8.000,00")
	if saved.Status != http.StatusOK || strings.Contains(saved.Body, "<html") {
		t.Fatalf("inline save: %d %.300s", saved.Status, saved.Body)
	}
	contains(t, saved.Body, fmt.Sprintf(`id="target-%d"`, w.Rep.ID), `data-testid="target-bar"`, "8.000,00\u00a0€", `data-testid="target-edit"`)
	// A month in the past or future is picked and set like any other.
	if r := w.set(w.AdminC, w.Rep.ID, "month", "2025-02"); r.Status != http.StatusSeeOther {
		t.Fatalf("a past month: %d", r.Status)
	}
	contains(t, w.AdminC.Get("/targets?month=2025-02").Body, "febrero de 2025", `value="2025-02"`, "10.000,00\u00a0€")
}

// /targets/progress: a rep's own bar, a manager's team (sum and each
// member), nothing for admins and accountants; a fragment for htmx.
func TestProgressFragment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	frag := func(c *apptest.Client) string {
		t.Helper()
		c.HTMX = true
		defer func() { c.HTMX = false }()
		r := c.Get("/targets/progress")
		if r.Status != http.StatusOK || strings.Contains(r.Body, "<html") {
			t.Fatalf("fragment: %d %.300s", r.Status, r.Body)
		}
		return r.Body
	}
	// Nothing set yet: the rep is told so, not shown an empty bar.
	if b := frag(w.RepC); !strings.Contains(b, "Sin objetivo este mes.") || strings.Contains(b, "<progress") {
		t.Errorf("rep without a target: %.500s", b)
	}
	w.Env.Exec(`UPDATE users SET manager_id = $1 WHERE id = $2`, w.Manager.ID, w.Rep2.ID)
	for _, u := range []queries.User{w.Rep, w.Rep2} {
		if r := w.set(w.AdminC, u.ID, "won_amount", "5.000,00", "deals", "3"); r.Status != http.StatusSeeOther {
			t.Fatalf("set: %d", r.Status)
		}
	}
	w.AdminC.Get("/targets") // the page the saves led to (their flash shown)
	rep := frag(w.RepC)
	contains(t, rep, `data-testid="target-bar"`, `data-testid="target-pct"`, "<progress", `max="100"`, `aria-valuetext=`, "5.000,00\u00a0€", "Oportunidades ganadas: 0 / 3")
	if strings.Contains(rep, w.Rep2.Name) {
		t.Error("a rep's fragment shows a colleague")
	}
	mgr := frag(w.ManagerC)
	contains(t, mgr, "Equipo", "10.000,00\u00a0€", w.Rep.Name, w.Rep2.Name)
	if n := strings.Count(mgr, `data-testid="target-bar"`); n != 3 {
		t.Errorf("manager's fragment: %d bars, want the team's and two", n)
	}
	for _, c := range []*apptest.Client{w.AdminC, w.AccountantC} {
		if b := strings.TrimSpace(frag(c)); strings.Contains(b, "target-bar") || b != "" {
			t.Errorf("admin or accountant fragment: %.300s", b)
		}
	}
	// A full load gets the layout.
	if r := w.RepC.Get("/targets/progress"); r.Status != http.StatusOK || !strings.Contains(r.Body, "<html") {
		t.Errorf("full load: %d", r.Status)
	}
}

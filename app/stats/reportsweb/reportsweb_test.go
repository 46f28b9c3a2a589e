package reportsweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/web"
	"pulso/queries"
)

// world is apptest's org (admin, manager with Rep on the team, Rep2 on
// nobody's) plus an accountant and a customer for each rep.
type world struct {
	*apptest.World
	Accountant  queries.User
	AccountantC *apptest.Client
	cust, cust2 int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Ventas Norte S.L.", "norte.test")}
	w.Accountant = w.Env.User(w.Org, "contable@norte.test", web.RoleAccountant)
	w.AccountantC = w.Env.LoginAs(w.Accountant)
	for _, c := range []struct {
		name  string
		owner int64
		dst   *int64
	}{{"Bodegas Ebro S.L.", w.Rep.ID, &w.cust}, {"Ajena S.A.", w.Rep2.ID, &w.cust2}} {
		owner := c.owner
		cu, err := w.Env.Q.CreateCustomer(context.Background(), queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: c.name, Country: "ES", OwnerID: &owner, Tags: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		*c.dst = cu.ID
	}
	return w
}

var oppURL = regexp.MustCompile(`^/opportunities/(\d+)$`)

// deal creates a deal through the form as c, for owner, and returns its id.
func (w *world) deal(t *testing.T, c *apptest.Client, owner queries.User, customer int64, title, amount, probability string, close time.Time) string {
	t.Helper()
	r := c.Post("/opportunities", url.Values{"customer_id": {fmt.Sprint(customer)}, "title": {title}, "amount": {amount},
		"probability": {probability}, "owner_id": {fmt.Sprint(owner.ID)}, "expected_close": {close.Format("2006-01-02")}})
	m := oppURL.FindStringSubmatch(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("create deal: %d %.400s", r.Status, r.Body)
	}
	return m[1]
}

// move moves deal id through stages as c, as the board does.
func (w *world) move(t *testing.T, c *apptest.Client, id string, stages ...string) {
	t.Helper()
	for _, s := range stages {
		var v int
		if err := w.Env.DB.QueryRow(context.Background(), `SELECT version FROM opportunities WHERE id = $1`, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if r := c.Post("/opportunities/"+id+"/move", url.Values{"stage": {s}, "version": {fmt.Sprint(v)}}); r.Status != http.StatusSeeOther {
			t.Fatalf("move %s to %s: %d %.300s", id, s, r.Status, r.Body)
		}
	}
}

// won sets up the figures the tests read: the rep wins 1.234,56 € and the
// other rep 5.000 € this month.
func (w *world) won(t *testing.T) {
	t.Helper()
	next := time.Now().AddDate(0, 1, 0)
	id := w.deal(t, w.RepC, w.Rep, w.cust, "Vinos", "1.234,56", "10", next)
	w.move(t, w.RepC, id, "oferta_presentada", "ganada")
	id2 := w.deal(t, w.Rep2C, w.Rep2, w.cust2, "Ajena", "5.000", "10", next)
	w.move(t, w.Rep2C, id2, "ganada")
}

func thisMonth() string { return time.Now().In(madrid).Format("01/2006") }

var madrid, _ = time.LoadLocation("Europe/Madrid")

var slugs = []string{"monthly", "cumulative", "year-on-year", "conversion", "lost-reasons", "quotes", "forecast"}

func TestEveryReportRendersForAdmin(t *testing.T) {
	w := newWorld(t)
	w.won(t)
	idx := w.AdminC.Get("/reports")
	if idx.Status != http.StatusOK {
		t.Fatalf("/reports: %d", idx.Status)
	}
	for _, s := range slugs {
		if !strings.Contains(idx.Body, `href="/reports/`+s+`"`) {
			t.Errorf("the picker lacks %s", s)
		}
	}
	titles := map[string]string{"monthly": "Mensual: Importe ganado", "cumulative": "Acumulado: Importe ganado",
		"year-on-year": "Interanual: Importe ganado", "conversion": "Conversión por fase", "lost-reasons": "Motivos de pérdida",
		"quotes": "Presupuestos por resultado", "forecast": "Previsión de cartera"}
	for _, s := range slugs {
		r := w.AdminC.Get("/reports/" + s)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-testid="report-table"`) || !strings.Contains(r.Body, titles[s]) {
			t.Errorf("/reports/%s: %d, title %q missing or no table", s, r.Status, titles[s])
		}
		for _, f := range []string{"xlsx", "csv", "pdf"} {
			if !strings.Contains(r.Body, `data-testid="download-`+f+`"`) {
				t.Errorf("/reports/%s offers no %s download to the admin", s, f)
			}
		}
	}
	if r := w.AdminC.Get("/reports/nope"); r.Status != http.StatusNotFound {
		t.Errorf("unknown report: %d", r.Status)
	}
	// Every measure and dimension renders.
	for _, m := range []string{"won_amount", "won_deals", "lost_deals", "created_deals", "quotes_sent", "quotes_signed", "billed_amount", "stage_entries"} {
		for _, d := range []string{"rep", "team", "source", "group", "stage", "none"} {
			if r := w.AdminC.Get("/reports/monthly?measure=" + m + "&by=" + d); r.Status != http.StatusOK {
				t.Errorf("monthly %s by %s: %d", m, d, r.Status)
			}
		}
	}
	// The nav offers reports to who reads others' numbers.
	for _, c := range []*apptest.Client{w.AdminC, w.ManagerC, w.AccountantC} {
		if !strings.Contains(c.Get("/reports").Body, `href="/reports" class="nav-item`) {
			t.Error("no Informes entry in the nav")
		}
	}
}

func TestRoleAccess(t *testing.T) {
	w := newWorld(t)
	const path = "/reports/monthly?measure=won_amount&by=rep"
	if r := w.RepC.Get(path); r.Status != http.StatusOK || strings.Contains(r.Body, "download-xlsx") {
		t.Errorf("a rep reads their report (%d) without downloads", r.Status)
	}
	for _, f := range []string{"xlsx", "csv", "pdf"} {
		if r := w.RepC.Get(path + "&format=" + f); r.Status != http.StatusForbidden {
			t.Errorf("a rep downloads %s: %d", f, r.Status)
		}
	}
	if r := w.RepC.Get("/reports"); strings.Contains(r.Body, `href="/reports" class="nav-item`) {
		t.Error("the rep's nav offers reports")
	}
	// The accountant: billing only.
	acc := w.AccountantC.Get("/reports")
	if acc.Status != http.StatusOK || strings.Contains(acc.Body, `href="/reports/conversion"`) || !strings.Contains(acc.Body, `href="/reports/forecast"`) {
		t.Errorf("accountant's picker: %d", acc.Status)
	}
	if r := w.AccountantC.Get("/reports/monthly"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Mensual: Facturado") {
		t.Errorf("accountant's monthly is not billing: %d", r.Status)
	}
	if r := w.AccountantC.Get("/reports/monthly?measure=billed_amount&format=xlsx"); r.Status != http.StatusOK {
		t.Errorf("accountant's billing export: %d", r.Status)
	}
	for _, p := range []string{"/reports/monthly?measure=won_amount", "/reports/year-on-year?measure=created_deals", "/reports/conversion",
		"/reports/lost-reasons", "/reports/quotes", "/reports/quotes?format=csv"} {
		if r := w.AccountantC.Get(p); r.Status != http.StatusForbidden {
			t.Errorf("accountant %s: %d, want 403", p, r.Status)
		}
	}
	if r := w.AccountantC.Get("/reports/forecast"); r.Status != http.StatusOK {
		t.Errorf("accountant's forecast: %d", r.Status)
	}
}

func TestFiltersOutsideScopeAreRefused(t *testing.T) {
	w := newWorld(t)
	w.won(t)
	stranger := w.Env.User(w.Env.Org("Ajena Org S.L."), "x@ajena.test", web.RoleRep)
	for _, c := range []struct {
		who  *apptest.Client
		name string
		q    string
	}{
		{w.RepC, "rep asks for another rep", fmt.Sprintf("rep=%d", w.Rep2.ID)},
		{w.RepC, "rep asks for the manager", fmt.Sprintf("rep=%d", w.Manager.ID)},
		{w.RepC, "rep asks for their manager's team", fmt.Sprintf("team=%d", w.Manager.ID)},
		{w.ManagerC, "manager asks for a rep off the team", fmt.Sprintf("rep=%d", w.Rep2.ID)},
		{w.ManagerC, "manager asks for the admin", fmt.Sprintf("rep=%d", w.Admin.ID)},
		{w.ManagerC, "manager asks for another team", fmt.Sprintf("team=%d", w.Admin.ID)},
		{w.AdminC, "admin asks for a user of another org", fmt.Sprintf("rep=%d", stranger.ID)},
		{w.AdminC, "admin asks for a team of another org", fmt.Sprintf("team=%d", stranger.ID)},
	} {
		for _, s := range []string{"monthly", "forecast", "conversion"} {
			for _, f := range []string{"", "&format=csv"} {
				if f != "" && c.who == w.RepC {
					continue // refused for being a download already
				}
				r := c.who.Get("/reports/" + s + "?" + c.q + f)
				if r.Status != http.StatusForbidden {
					t.Errorf("%s (/reports/%s%s): %d, want 403", c.name, s, f, r.Status)
				}
			}
		}
	}
	// A rep of another team with a team filter is a contradiction, not a leak.
	if r := w.AdminC.Get(fmt.Sprintf("/reports/monthly?team=%d&rep=%d", w.Manager.ID, w.Rep2.ID)); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "no es de ese equipo") {
		t.Errorf("rep outside the team picked: %d", r.Status)
	}
}

func TestBadInputIsA400WithAMessage(t *testing.T) {
	w := newWorld(t)
	for q, want := range map[string]string{
		"measure=nope":                          "Ese dato no existe",
		"by=colour":                             "No se puede agrupar por eso",
		"from=2026-13":                          "Escriba el mes como AAAA-MM",
		"from=enero":                            "Escriba el mes como AAAA-MM",
		"to=2026-1-1":                           "Escriba el mes como AAAA-MM",
		"from=2026-05&to=2026-04":               "no puede ser anterior",
		"from=2020-01&to=2025-01":               "Como mucho 60 meses",
		"format=docx":                           "Formato desconocido",
		"source=fax":                            "Elija una opción de la lista",
		"group=abc":                             "Elija una opción de la lista",
		"group=999999":                          "Elija una opción de la lista",
		"rep=abc":                               "Elija una opción de la lista",
		"team=%27%3B":                           "Elija una opción de la lista",
		"from=0001-01":                          "Escriba el mes como AAAA-MM",
		"measure=won_amount&by=rep&from=x&to=y": "Escriba el mes como AAAA-MM",
	} {
		r := w.AdminC.Get("/reports/monthly?" + q)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, want) || !strings.Contains(r.Body, "Revise los filtros") {
			t.Errorf("%s: %d, want 400 with %q", q, r.Status, want)
		}
		if strings.Contains(r.Body, `data-testid="report-table"`) {
			t.Errorf("%s: numbers shown for bad input", q)
		}
	}
	// Sixty months is the limit, not over it.
	if r := w.AdminC.Get("/reports/monthly?from=2020-01&to=2024-12"); r.Status != http.StatusOK {
		t.Errorf("60 months: %d", r.Status)
	}
	// The other reports read the same filters the same way; a download
	// with bad input is the form, not a broken file.
	for _, s := range slugs {
		if r := w.AdminC.Get("/reports/" + s + "?source=fax&format=xlsx"); r.Status != http.StatusBadRequest {
			t.Errorf("/reports/%s with a bad source: %d", s, r.Status)
		}
	}
	if r := w.AdminC.Get("/reports/quotes?from=2026-05&to=2026-04"); r.Status != http.StatusBadRequest {
		t.Errorf("quotes with a backwards span: %d", r.Status)
	}
}

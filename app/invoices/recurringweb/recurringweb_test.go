package recurringweb_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/apptest"
	"pulso/app/invoices/recurring"
	"pulso/app/live"
	"pulso/app/orders"
	"pulso/app/web"
	"pulso/queries"
)

type world struct {
	env               *apptest.Env
	org               queries.Org
	admin, accountant queries.User
	rep               queries.User
	customer, noTax   int64
	rate              int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.New(t)
	org := env.Org("Cuotas Web S.L.")
	env.Exec(`UPDATE orgs SET tax_id = 'B12345674', address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID)
	w := &world{env: env, org: org, admin: env.User(org, "admin@cuotas.test", web.RoleAdmin),
		accountant: env.User(org, "conta@cuotas.test", web.RoleAccountant), rep: env.User(org, "rep@cuotas.test", web.RoleRep)}
	w.customer = w.newCustomer(t, "Ferretería Ebro S.L.", "B87654321")
	w.noTax = w.newCustomer(t, "Sin NIF S.L.", "")
	if err := env.DB.QueryRow(context.Background(), `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21 ORDER BY id LIMIT 1`).Scan(&w.rate); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) newCustomer(t *testing.T, name, taxID string) int64 {
	t.Helper()
	ctx := context.Background()
	cu, err := w.env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.org.ID, LegalName: name, Country: "ES", OwnerID: &w.rep.ID, Tags: []string{}, TaxID: taxID})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.Q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{OrgID: w.org.ID, CustomerID: cu.ID, Kind: "billing",
		Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: "ES"}); err != nil {
		t.Fatal(err)
	}
	return cu.ID
}

func today() time.Time { return recurring.Today(time.Now(), "Europe/Madrid") }

func (w *world) form(edit func(url.Values)) url.Values {
	f := url.Values{"name": {"Mantenimiento mensual"}, "customer_id": {fmt.Sprint(w.customer)}, "frequency": {"monthly"}, "day": {"31"},
		"start": {today().Format("2006-01-02")}, "mode": {"issue_and_send"}, "notes": {"Cuota del mes"},
		"description": {"Mantenimiento", ""}, "quantity": {"1", "1"}, "unit": {"servicio", "ud"}, "unit_price": {"120,50", ""},
		"tax_rate_id": {fmt.Sprint(w.rate), fmt.Sprint(w.rate)}}
	if edit != nil {
		edit(f)
	}
	return f
}

func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
}

func TestTemplatePages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.env.LoginAs(w.accountant)
	if r := c.Get("/recurring-invoices"); r.Status != 200 || !strings.Contains(r.Body, "No hay facturas recurrentes") {
		t.Fatalf("empty list: %d", r.Status)
	}
	if r := c.Get("/recurring-invoices/new"); r.Status != 200 {
		t.Fatalf("new form: %d", r.Status)
	}
	// Adding a line re-renders the form with one more line and no messages.
	f := w.form(func(f url.Values) { f.Set("add_line", "1") })
	r := c.Post("/recurring-invoices", f)
	if r.Status != 200 || strings.Count(r.Body, `data-testid="line"`) != 2 || strings.Contains(r.Body, "field-error") {
		t.Errorf("add line: %d, %d lines", r.Status, strings.Count(r.Body, `data-testid="line"`))
	}
	r = c.Post("/recurring-invoices", w.form(nil))
	if r.Status != 303 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	var id int64
	if _, err := fmt.Sscanf(loc, "/recurring-invoices/%d", &id); err != nil {
		t.Fatalf("redirect to %q", loc)
	}
	tpl, err := w.env.Q.GetRecurringInvoice(context.Background(), queries.GetRecurringInvoiceParams{OrgID: w.org.ID, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Day != 31 || tpl.Mode != recurring.ModeIssueAndSend || tpl.CreatedBy == nil || *tpl.CreatedBy != w.accountant.ID {
		t.Errorf("stored %+v", tpl)
	}
	if n := w.env.Count(`SELECT count(*) FROM recurring_invoice_lines WHERE org_id = $1 AND template_id = $2 AND unit_price = 12050`, w.org.ID, id); n != 1 {
		t.Errorf("%d lines stored at 120,50 €, want 1 (the blank line dropped)", n)
	}
	show := c.Get(loc)
	contains(t, "template page", show.Body, "Mantenimiento mensual", "Ferretería Ebro S.L.", "Mensual", "Todavía no se ha emitido ninguna")

	// Its first period (today, the month's 31st clamped or later) issues
	// through the domain; the page links the invoice.
	if _, err := recurring.RunDue(context.Background(), w.env.DB, &w.org.ID, time.Now().AddDate(0, 1, 1)); err != nil {
		t.Fatal(err)
	}
	var invID int64
	if err := w.env.DB.QueryRow(context.Background(), `SELECT invoice_id FROM recurring_invoice_runs WHERE org_id = $1 AND template_id = $2 ORDER BY period_start LIMIT 1`,
		w.org.ID, id).Scan(&invID); err != nil {
		t.Fatal(err)
	}
	show = c.Get(loc)
	contains(t, "template page after a run", show.Body, fmt.Sprintf(`href="/invoices/%d"`, invID), "Envío solicitado")

	// Edit, pause, resume.
	if r := c.Get(loc + "/edit"); r.Status != 200 || !strings.Contains(r.Body, `value="120,50"`) {
		t.Errorf("edit form: %d", r.Status)
	}
	r = c.Post(loc, w.form(func(f url.Values) { f.Set("name", "Mantenimiento 2027"); f.Set("day", "15") }))
	if r.Status != 303 {
		t.Errorf("update: %d %s", r.Status, r.Body)
	}
	if r := c.Post(loc+"/pause", url.Values{}); r.Status != 303 {
		t.Errorf("pause: %d", r.Status)
	}
	if !strings.Contains(c.Get(loc).Body, "En pausa") {
		t.Error("paused template does not say so")
	}
	if r := c.Post(loc+"/resume", url.Values{}); r.Status != 303 {
		t.Errorf("resume: %d", r.Status)
	}
	list := c.Get("/recurring-invoices")
	contains(t, "list", list.Body, "Mantenimiento 2027", "Activa")
}

func TestTemplateFormRefusesBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.env.LoginAs(w.admin)
	cases := []struct {
		name  string
		edit  func(url.Values)
		field string
		msg   string
	}{
		{"end before start", func(f url.Values) { f.Set("end", today().AddDate(0, 0, -1).Format("2006-01-02")) }, "end",
			"La fecha final no puede ser anterior a la de inicio"},
		{"day out of range", func(f url.Values) { f.Set("day", "40") }, "day", "El día del mes debe estar entre 1 y 31"},
		{"weekday out of range", func(f url.Values) { f.Set("frequency", "weekly"); f.Set("day", "9") }, "day", "El día de la semana debe estar entre 1"},
		{"day not a number", func(f url.Values) { f.Set("day", "x") }, "day", "El día del mes debe estar entre 1 y 31"},
		{"start not a date", func(f url.Values) { f.Set("start", "31/12/2026") }, "start", "Escriba una fecha válida"},
		{"start in the past", func(f url.Values) { f.Set("start", today().AddDate(0, 0, -3).Format("2006-01-02")) }, "start", "no puede ser anterior a hoy"},
		{"no lines", func(f url.Values) { f["description"] = []string{""}; f["unit_price"] = []string{""} }, "lines", "al menos una línea"},
		{"customer without tax id", func(f url.Values) { f.Set("customer_id", fmt.Sprint(w.noTax)) }, "customer_id", "El cliente no tiene NIF"},
		{"no customer", func(f url.Values) { f.Set("customer_id", "") }, "customer_id", "Elija el cliente"},
		{"bad price", func(f url.Values) { f["unit_price"] = []string{"doce", ""} }, "lines.0.unit_price", ""},
		{"bad quantity", func(f url.Values) { f["quantity"] = []string{"-2", "1"} }, "lines.0.quantity", ""},
		{"unknown frequency", func(f url.Values) { f.Set("frequency", "daily") }, "frequency", ""},
		{"no name", func(f url.Values) { f.Set("name", " ") }, "name", "Indique un nombre"},
	}
	for _, tc := range cases {
		r := c.Post("/recurring-invoices", w.form(tc.edit))
		if r.Status != 422 {
			t.Errorf("%s: status %d, want 422", tc.name, r.Status)
			continue
		}
		if !strings.Contains(r.Body, `id="e-`+tc.field+`"`) {
			t.Errorf("%s: no message at %s", tc.name, tc.field)
		}
		if tc.msg != "" && !strings.Contains(r.Body, tc.msg) {
			t.Errorf("%s: body lacks %q", tc.name, tc.msg)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM recurring_invoices WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Errorf("%d templates stored from bad input", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, w.org.ID); n != 0 {
		t.Errorf("%d invoices left by checking forms", n)
	}
}

func TestOnlyBillingRoles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	manager := w.env.User(w.org, "manager@cuotas.test", web.RoleManager)
	for _, u := range []queries.User{w.rep, manager} {
		c := w.env.LoginAs(u)
		for _, path := range []string{"/recurring-invoices", "/recurring-invoices/new", "/invoice-runs"} {
			if r := c.Get(path); r.Status != 403 {
				t.Errorf("%s GET %s: %d, want 403", u.Role, path, r.Status)
			}
		}
		if r := c.Post("/invoice-runs", url.Values{"month": {today().Format("2006-01")}}); r.Status != 403 {
			t.Errorf("%s starts a run: %d", u.Role, r.Status)
		}
	}
}

// TestMonthEndRunPage: the run starts from its page, its progress reaches
// open screens live, and the result lists the invoices and the customer
// that failed with the reason.
func TestMonthEndRunPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.env.LoginAs(w.accountant)
	month := recurring.Month(today())
	if r := c.Get("/invoice-runs"); r.Status != 200 || !strings.Contains(r.Body, "Aún no se ha cerrado ningún mes") {
		t.Fatalf("runs page: %d", r.Status)
	}
	for _, bad := range []struct{ month, msg string }{{"", "Elija el mes"}, {"2026-13", "Elija el mes"},
		{month.AddDate(0, 1, 0).Format("2006-01"), "Ese mes todavía no ha empezado"}} {
		r := c.Post("/invoice-runs", url.Values{"month": {bad.month}})
		if r.Status != 422 || !strings.Contains(r.Body, bad.msg) || !strings.Contains(r.Body, `data-testid="error-month"`) {
			t.Errorf("month %q: %d", bad.month, r.Status)
		}
	}
	// Delivery notes for two customers, one without a tax id.
	w.deliver(t, w.customer, month)
	w.deliver(t, w.noTax, month)

	addr := w.env.Serve()
	sock, _, err := c.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	repSock, _, err := w.env.LoginAs(w.rep).Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer repSock.Close()

	r := c.Post("/invoice-runs", url.Values{"month": {month.Format("2006-01")}})
	if r.Status != 303 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	var runID int64
	if _, err := fmt.Sscanf(loc, "/invoice-runs/%d", &runID); err != nil {
		t.Fatalf("redirect %q", loc)
	}
	page := c.Get(loc)
	contains(t, "run page", page.Body, `data-testid="run-status"`, "En cola")
	if err := recurring.RunMonthEnd(ctx, w.env.DB, nil, w.org.ID, runID, time.Now()); err != nil {
		t.Fatal(err)
	}
	// The socket gets the status block, swapped out of band, until done.
	_ = sock.SetReadDeadline(time.Now().Add(5 * time.Second))
	var last string
	for !strings.Contains(last, `data-state="done"`) {
		_, b, err := sock.ReadMessage()
		if err != nil {
			t.Fatalf("live run status never said done: %v (last %q)", err, last)
		}
		if strings.Contains(string(b), fmt.Sprintf(`id="invoice-run-%d"`, runID)) {
			last = string(b)
		}
	}
	contains(t, "live status", last, `hx-swap-oob="true"`, "1 facturados y 1 con error de 2 clientes", "Sin NIF S.L.", "El cliente no tiene NIF")
	// Not for a rep.
	_ = repSock.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		_, b, err := repSock.ReadMessage()
		if err != nil {
			break
		}
		if strings.Contains(string(b), "invoice-run-") {
			t.Fatal("a rep's screen got the month-end run")
		}
	}
	c.HTMX = true
	status := c.Get(loc + "/status")
	c.HTMX = false
	var inv int64
	if err := w.env.DB.QueryRow(ctx, `SELECT invoice_id FROM invoice_run_items WHERE org_id = $1 AND run_id = $2 AND invoice_id IS NOT NULL`, w.org.ID, runID).Scan(&inv); err != nil {
		t.Fatal(err)
	}
	contains(t, "status fragment", status.Body, "Terminado", fmt.Sprintf(`href="/invoices/%d"`, inv), "El cliente no tiene NIF", "Ferretería Ebro S.L.")
	if strings.Contains(status.Body, "<html") {
		t.Error("the status fragment came inside the layout")
	}
	contains(t, "runs list", c.Get("/invoice-runs").Body, "Terminado")
}

// deliver makes a signed quote of the customer (apptest's), its order and a
// delivery note of its first line's 5 units on day, through the domain
// functions the pages use.
func (w *world) deliver(t *testing.T, customer int64, day time.Time) {
	t.Helper()
	madrid, _ := time.LoadLocation("Europe/Madrid")
	qid := w.env.SignedQuote(t, w.org, w.rep, customer)
	err := live.BeginFunc(context.Background(), w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		order, err := orders.FromQuote(ctx, tx, w.org.ID, qid, &w.rep.ID, time.Now(), madrid)
		if err != nil {
			return err
		}
		n, err := q.CreateDeliveryNote(ctx, queries.CreateDeliveryNoteParams{OrgID: w.org.ID, Number: fmt.Sprintf("ALB-W-%d", order.ID), OrderID: order.ID,
			DeliveredOn: pgtype.Date{Time: day, Valid: true}})
		if err != nil {
			return err
		}
		var qty pgtype.Numeric
		_ = qty.Scan("5")
		return q.InsertDeliveryNoteLine(ctx, queries.InsertDeliveryNoteLineParams{OrgID: w.org.ID, DeliveryNoteID: n.ID, OrderID: order.ID, OrderPosition: 1, Quantity: qty})
	})
	if err != nil {
		t.Fatal(err)
	}
}

package customers_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

type world struct{ *apptest.World }

func newWorld(t *testing.T) *world {
	return &world{apptest.NewWorld(t, "Clientes S.L.", "clientes.test")}
}

func customer(overrides map[string]string) url.Values {
	v := url.Values{"legal_name": {"Ferretería Sol S.L."}, "country": {"ES"}, "payment_terms_days": {"30"}}
	for k, x := range overrides {
		v.Set(k, x)
	}
	return v
}

var customerURL = regexp.MustCompile(`^/customers/(\d+)$`)

func create(t *testing.T, c *apptest.Client, v url.Values) (apptest.Response, string) {
	t.Helper()
	r := c.Post("/customers", v)
	m := customerURL.FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		return r, ""
	}
	return r, m[1]
}

func mustCreate(t *testing.T, c *apptest.Client, v url.Values) string {
	t.Helper()
	r, id := create(t, c, v)
	if r.Status != http.StatusSeeOther || id == "" {
		t.Fatalf("create: %d %.500s", r.Status, r.Body)
	}
	return id
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func TestCreateShowAndTimeline(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// The admin enters it for the rep: a rep cannot set the direct debit.
	id := mustCreate(t, w.AdminC, customer(map[string]string{
		"owner_id": fmt.Sprint(w.Rep.ID), "trade_name": "Sol Ferretería", "tax_id": "b-1234567-4", "email": "Compras@Sol.ES", "phone": "600 11 22 33",
		"iban": "ES91 2100 0418 4502 0005 1332", "sepa_mandate_ref": "MANDATO-7", "sepa_mandate_date": "2024-03-01",
		"billing_street": "Calle Mayor 1", "billing_postal_code": "28013", "billing_city": "Madrid", "billing_province": "Madrid",
		"shipping_street": "Polígono Sur 4", "shipping_city": "Getafe",
		"contact_name": "Ana Pérez", "contact_email": "ana@sol.es", "contact_phone": "611 000 111", "tags": "VIP, feria",
		"notes": "Paga puntual",
	}))
	var taxID, email, phone, iban string
	var owner, version int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT tax_id, email, phone, iban, owner_id, version FROM customers WHERE id = $1`, id).
		Scan(&taxID, &email, &phone, &iban, &owner, &version); err != nil {
		t.Fatal(err)
	}
	if taxID != "B12345674" || email != "compras@sol.es" || phone != "+34600112233" || iban != "ES9121000418450200051332" || owner != w.Rep.ID || version != 1 {
		t.Errorf("stored %q %q %q %q owner %d v%d", taxID, email, phone, iban, owner, version)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customer_addresses WHERE customer_id = $1`, id); n != 2 {
		t.Errorf("%d addresses", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customer_contacts WHERE customer_id = $1 AND is_primary AND phone = '+34611000111'`, id); n != 1 {
		t.Errorf("primary contact: %d", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE customer_id = $1 AND kind = 'created' AND actor_id = $2`, id, w.Admin.ID); n != 1 {
		t.Errorf("created activity: %d", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM live_events WHERE topic = 'customer' AND entity_id = $1 AND kind = 'created'`, id); n != 1 {
		t.Errorf("live event: %d", n)
	}
	page := w.RepC.Get("/customers/" + id)
	if page.Status != http.StatusOK {
		t.Fatalf("360: %d", page.Status)
	}
	contains(t, page.Body, "Ferretería Sol S.L.", "B12345674", "compras@sol.es", "ES91 2100 0418 4502 0005 1332", "Calle Mayor 1", "Getafe", "MANDATO-7", "01/03/2024", "User rep@clientes.test")
	contacts := w.RepC.Get("/customers/" + id + "?tab=contacts")
	contains(t, contacts.Body, "Ana Pérez", "ana@sol.es")
	// htmx tab switch: the fragment alone.
	w.RepC.HTMX = true
	frag := w.RepC.Get("/customers/" + id + "?tab=activity")
	w.RepC.HTMX = false
	if strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `id="customer-tab"`) || !strings.Contains(frag.Body, "Alta") {
		t.Errorf("tab fragment: %.600s", frag.Body)
	}
	// Cartera inteligente figures show once an import has set them.
	if strings.Contains(page.Body, "Billing inicial") {
		t.Error("billing figures shown before any are set")
	}
	w.Env.Exec(`UPDATE customers SET billing_initial = 150000, billing_recommended = 180050, billing_final = 175000 WHERE id = $1`, id)
	page = w.RepC.Get("/customers/" + id)
	contains(t, page.Body, "Billing inicial", "1.500,00 €", "Valor recomendado", "1.800,50 €", "Billing final", "1.750,00 €")
	tasks := w.RepC.Get("/customers/" + id + "?tab=tasks")
	contains(t, tasks.Body, `hx-get="/tasks?customer=`+id+`"`, `href="/tasks/new?customer_id=`+id+`"`)
	docs := w.RepC.Get("/customers/" + id + "?tab=documents")
	contains(t, docs.Body, `hx-get="/customers/`+id+`/documents"`, `hx-trigger="load"`)

	// Another rep of the org does not see it; their manager's team does.
	if r := w.Rep2C.Get("/customers/" + id); r.Status != http.StatusNotFound {
		t.Errorf("rep2 opened rep's customer: %d", r.Status)
	}
	if r := w.ManagerC.Get("/customers/" + id); r.Status != http.StatusOK {
		t.Errorf("manager: %d", r.Status)
	}
}

func TestEveryInvalidFieldHasAMessage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bad := customer(map[string]string{"legal_name": "", "tax_id": "12345678A", "iban": "ES0012", "email": "x@", "phone": "1",
		"payment_terms_days": "400", "sepa_mandate_ref": "M", "sepa_mandate_date": "ayer", "contact_email": "ana@sol.es"})
	r, _ := create(t, w.AdminC, bad) // an admin: a rep's form has no direct debit
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.Status)
	}
	for _, f := range []string{"legal_name", "tax_id", "iban", "email", "phone", "payment_terms_days", "sepa_mandate_date", "contact_name"} {
		if !strings.Contains(r.Body, `id="e-`+f+`"`) {
			t.Errorf("no message next to %s", f)
		}
	}
	contains(t, r.Body, "Este campo es obligatorio.", "Escriba un número de días entre 0 y 365.")
	if n := w.Env.Count(`SELECT count(*) FROM customers`); n != 0 {
		t.Errorf("%d customers saved from a bad form", n)
	}
	// English for an English-speaking user.
	admin2 := w.Env.User(w.Org, "admin2@clientes.test", web.RoleAdmin)
	w.Env.Exec(`UPDATE users SET locale = 'en' WHERE id = $1`, admin2.ID)
	en := w.Env.LoginAs(admin2)
	bad.Del("_csrf") // Post stored the other browser's token in the map
	r = en.Post("/customers", bad)
	contains(t, r.Body, "Enter a number of days from 0 to 365.", "Enter a valid date.")
}

func TestDuplicateTaxIDLinksTheExistingCustomer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.RepC, customer(map[string]string{"tax_id": "B12345674"}))
	r, _ := create(t, w.RepC, customer(map[string]string{"legal_name": "Otra Sol", "tax_id": "b12345674"}))
	if r.Status != http.StatusConflict {
		t.Fatalf("status %d", r.Status)
	}
	contains(t, r.Body, `href="/customers/`+id+`"`, "Ya hay un cliente con este NIF.", `id="e-tax_id"`)
	// Another rep is told it exists but gets no link to a customer they
	// may not open.
	r, _ = create(t, w.Rep2C, customer(map[string]string{"legal_name": "Otra Sol", "tax_id": "B12345674"}))
	if r.Status != http.StatusConflict || strings.Contains(r.Body, `href="/customers/`+id+`"`) || !strings.Contains(r.Body, "de otro comercial") {
		t.Errorf("other rep: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customers`); n != 1 {
		t.Errorf("%d customers", n)
	}
}

func TestSecondEditorIsToldToReload(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.RepC, customer(map[string]string{"billing_city": "Madrid"}))
	form := customer(map[string]string{"legal_name": "Ferretería Sol Renovada S.L.", "billing_city": "Toledo", "owner_id": fmt.Sprint(w.Rep.ID), "version": "1"})
	if r := w.RepC.Post("/customers/"+id, form); r.Status != http.StatusSeeOther {
		t.Fatalf("first save: %d %.400s", r.Status, r.Body)
	}
	form.Set("legal_name", "Nombre del segundo")
	form.Del("_csrf")
	r := w.ManagerC.Post("/customers/"+id, form) // still at version 1
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "Otra persona ha cambiado este cliente") {
		t.Fatalf("second save: %d %.400s", r.Status, r.Body)
	}
	var name string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT legal_name FROM customers WHERE id = $1`, id).Scan(&name); err != nil || name != "Ferretería Sol Renovada S.L." {
		t.Errorf("name %q %v", name, err)
	}
	// The timeline: who changed what, old → new.
	var data string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT data::text FROM activities WHERE customer_id = $1 AND kind = 'updated' AND actor_id = $2`, id, w.Rep.ID).Scan(&data); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"legal_name": ["Ferretería Sol S.L.", "Ferretería Sol Renovada S.L."]`, `"billing_address": ["Madrid", "Toledo"]`} {
		if !strings.Contains(data, want) {
			t.Errorf("activity data %s lacks %s", data, want)
		}
	}
	page := w.RepC.Get("/customers/" + id + "?tab=activity")
	contains(t, page.Body, "Datos cambiados", "Razón social", "Ferretería Sol Renovada S.L.", "User rep@clientes.test")
	// Newest first.
	if strings.Index(page.Body, "Datos cambiados") > strings.Index(page.Body, ">Alta<") {
		t.Error("timeline is not newest first")
	}
	// A rep cannot hand the customer to someone outside their scope.
	form.Set("version", "2")
	form.Set("owner_id", fmt.Sprint(w.Rep2.ID))
	form.Del("_csrf")
	if r := w.RepC.Post("/customers/"+id, form); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("owner outside scope: %d", r.Status)
	}
}

func TestContactsAddEditRemoveKeepOnePrimary(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.RepC, customer(map[string]string{"contact_name": "Ana Pérez"}))
	base := "/customers/" + id + "/contacts"
	if r := w.RepC.Post(base, url.Values{"name": {"Luis Gil"}, "phone": {"612 345 678"}, "is_primary": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("add: %d %.300s", r.Status, r.Body)
	}
	var luis, ana int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id FROM customer_contacts WHERE name = 'Luis Gil' AND is_primary AND phone = '+34612345678'`).Scan(&luis); err != nil {
		t.Fatalf("Luis primary: %v", err)
	}
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id FROM customer_contacts WHERE name = 'Ana Pérez' AND NOT is_primary`).Scan(&ana); err != nil {
		t.Fatalf("Ana no longer primary: %v", err)
	}
	if r := w.RepC.Post(base, url.Values{"name": {""}, "email": {"mal"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="e-c0-name"`) || !strings.Contains(r.Body, `id="e-c0-email"`) {
		t.Errorf("bad contact: %d", r.Status)
	}
	if r := w.RepC.Post(fmt.Sprintf("%s/%d", base, ana), url.Values{"name": {"Ana Pérez"}, "job_title": {"Compras"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.Status)
	}
	if r := w.RepC.Post(fmt.Sprintf("%s/%d/delete", base, luis), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customer_contacts WHERE customer_id = $1 AND is_primary AND name = 'Ana Pérez'`, id); n != 1 {
		t.Error("removing the primary contact did not promote the other")
	}
	var kinds string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT string_agg(kind, ',' ORDER BY id) FROM activities WHERE customer_id = $1`, id).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	if kinds != "created,contact_added,contact_updated,contact_removed" {
		t.Errorf("timeline kinds %s", kinds)
	}
	// Contact changes bump the version: an open edit form is stale.
	if n := w.Env.Count(`SELECT version FROM customers WHERE id = $1`, id); n != 4 {
		t.Errorf("version %d", n)
	}
	// Another rep's ids do nothing.
	if r := w.Rep2C.Post(fmt.Sprintf("%s/%d/delete", base, ana), nil); r.Status != http.StatusNotFound {
		t.Errorf("rep2 delete: %d", r.Status)
	}
}

// seedCustomers inserts n customers for owner straight through the query
// (the list test needs volume, not forms).
func seedCustomers(t *testing.T, w *world, owner queries.User, n int, country string, tags []string) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := w.Env.Q.CreateCustomer(context.Background(), queries.CreateCustomerParams{
			OrgID: w.Org.ID, LegalName: fmt.Sprintf("%s Cliente %02d", owner.Email, i), Country: country,
			Email: fmt.Sprintf("c%02d@%s", i, owner.Email), PaymentTermsDays: 30, OwnerID: &owner.ID, Tags: tags,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

var rowRE = regexp.MustCompile(`id="customer-\d+"`)

func TestListScopeFiltersAndPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	seedCustomers(t, w, w.Rep, 30, "ES", []string{"feria"})
	seedCustomers(t, w, w.Rep2, 3, "MX", []string{})
	seedCustomers(t, w, w.Manager, 2, "AR", []string{"vip"})
	count := func(c *apptest.Client, path string) (int, apptest.Response) {
		r := c.Get(path)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Status)
		}
		return len(rowRE.FindAllString(r.Body, -1)), r
	}
	n, first := count(w.RepC, "/customers")
	if n != 25 || !strings.Contains(first.Body, "before=") {
		t.Errorf("rep first page: %d rows", n)
	}
	more := regexp.MustCompile(`href="(/customers\?before=\d+)"`).FindStringSubmatch(first.Body)
	if more == nil {
		t.Fatal("no next page link")
	}
	if n, _ := count(w.RepC, strings.ReplaceAll(more[1], "&amp;", "&")); n != 5 {
		t.Errorf("rep second page: %d rows", n)
	}
	if n, _ := count(w.Rep2C, "/customers"); n != 3 {
		t.Errorf("rep2 sees %d", n)
	}
	if n, r := count(w.ManagerC, "/customers?country=AR"); n != 2 || strings.Contains(r.Body, "rep2@") {
		t.Errorf("manager AR: %d", n)
	}
	if n, r := count(w.ManagerC, "/customers?country=MX"); n != 0 || !strings.Contains(r.Body, "No hay clientes") {
		t.Errorf("manager sees rep2's (outside the team): %d", n)
	}
	if n, _ := count(w.AdminC, "/customers?tag=vip"); n != 2 {
		t.Errorf("admin tag filter: %d", n)
	}
	if n, _ := count(w.AdminC, fmt.Sprintf("/customers?owner=%d", w.Rep2.ID)); n != 3 {
		t.Errorf("admin owner filter: %d", n)
	}
	if n, _ := count(w.AdminC, "/customers?q=C07%40REP%40"); n != 1 {
		t.Errorf("search by e-mail: %d", n)
	}
	if n, _ := count(w.AdminC, "/customers?q=cliente+01"); n != 3 {
		t.Errorf("search by name: %d", n)
	}
	// The nav has the entry.
	contains(t, first.Body, `href="/customers"`, "Clientes")
}

func TestExportCSVAndXLSXFollowScopeAndFilters(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	seedCustomers(t, w, w.Rep, 3, "ES", []string{"feria"})
	seedCustomers(t, w, w.Rep2, 2, "ES", []string{})
	w.Env.Exec(`UPDATE customers SET legal_name = '=HYPERLINK("x")', trade_name = 'Año ñandú' WHERE legal_name LIKE 'rep@clientes.test Cliente 00'`)

	// The manager's export: their team (the rep), not the other rep.
	r := w.ManagerC.Get("/customers/export.csv")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(r.Body, "\ufeff") {
		t.Error("no BOM")
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "Razón social" {
		t.Fatalf("manager's csv: %d rows, header %v", len(rows), rows[0])
	}
	all := strings.Join(func() []string {
		var s []string
		for _, r := range rows {
			s = append(s, strings.Join(r, "|"))
		}
		return s
	}(), "\n")
	if strings.Contains(all, "rep2@") || !strings.Contains(all, `'=HYPERLINK("x")`) || !strings.Contains(all, "Año ñandú") {
		t.Errorf("csv content:\n%s", all)
	}

	// The manager again with a filter; then the admin, XLSX.
	r = w.ManagerC.Get("/customers/export.xlsx?tag=feria")
	if r.Status != http.StatusOK {
		t.Fatalf("xlsx: %d", r.Status)
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	xrows, err := f.GetRows("Clientes")
	if err != nil {
		t.Fatal(err)
	}
	if len(xrows) != 4 || xrows[0][0] != "Razón social" {
		t.Errorf("manager xlsx: %d rows", len(xrows))
	}
	r = w.AdminC.Get("/customers/export.xlsx")
	f, err = excelize.OpenReader(bytes.NewReader([]byte(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	xrows, _ = f.GetRows("Clientes")
	if len(xrows) != 6 {
		t.Errorf("admin xlsx: %d rows", len(xrows))
	}
}

// More customers than one export batch: the file has every row once.
func TestExportWalksEveryBatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Env.Exec(`INSERT INTO customers (org_id, legal_name, country, owner_id)
		SELECT $1, 'Lote ' || g, 'ES', $2 FROM generate_series(1, 1203) g`, w.Org.ID, w.Rep.ID)
	r := w.AdminC.Get("/customers/export.csv")
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff")))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		seen[row[0]] = true
	}
	if len(rows) != 1204 || len(seen) != 1203 {
		t.Errorf("%d rows, %d distinct", len(rows), len(seen))
	}
}

func TestOpportunitiesAndSalesTabs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.RepC, customer(nil))
	ctx := context.Background()
	var cid int64
	fmt.Sscan(id, &cid)

	empty := w.RepC.Get("/customers/" + id + "?tab=sales")
	contains(t, empty.Body, `data-testid="sales-empty"`, "Este cliente aún no tiene facturas.")

	if _, err := w.Env.Q.CreateOpportunity(ctx, queries.CreateOpportunityParams{OrgID: w.Org.ID, CustomerID: cid, Title: "Reforma tienda", Amount: 123456, Stage: "en_analisis"}); err != nil {
		t.Fatal(err)
	}
	opp := w.RepC.Get("/customers/" + id + "?tab=opportunities")
	contains(t, opp.Body, "Reforma tienda", "En análisis", "1.234,56\u00a0€")

	// Invoices issued as the app issues them, dated in 2024.
	w.Env.Exec(`UPDATE customers SET tax_id = 'B87654321' WHERE id = $1`, cid)
	w.Env.Exec(`UPDATE orgs SET address = 'Calle Mayor 1, Madrid' WHERE id = $1`, w.Org.ID)
	rate := int64(w.Env.Count(`SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`))
	inv := func(in invoices.DraftInput, date string) queries.Invoice {
		t.Helper()
		d, _ := time.Parse("2006-01-02", date)
		in.OrgID, in.CustomerID, in.Now = w.Org.ID, &cid, time.Now()
		var i queries.Invoice
		if err := live.BeginFunc(ctx, w.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
			draft, err := invoices.CreateDraft(ctx, tx, in)
			if err != nil {
				return err
			}
			i, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.Org.ID, InvoiceID: draft.ID, Locale: "es", IssueDate: d, Now: time.Now()})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return i
	}
	line := func(qty string, cents int64) []invoices.LineInput {
		return []invoices.LineInput{{Description: "Material", Quantity: decimal.RequireFromString(qty), UnitPrice: cents, TaxRateID: rate}}
	}
	alloc := func(i queries.Invoice, amount int64, kind string) {
		if _, err := w.Env.Q.SeedInvoiceAllocation(ctx, queries.SeedInvoiceAllocationParams{OrgID: w.Org.ID, InvoiceID: i.ID, Amount: amount, Kind: kind}); err != nil {
			t.Fatal(err)
		}
	}
	a := inv(invoices.DraftInput{Kind: invoices.Ordinary, Lines: line("1", 82645)}, "2024-01-10") // 826,45 + 21 % = 1.000,00
	inv(invoices.DraftInput{Kind: invoices.Ordinary, Lines: line("1", 41322)}, "2024-02-10")      // 500,00, nothing applied yet
	r := inv(invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference, Reason: "Abono",
		Corrects: []int64{a.ID}, Lines: line("-1", 16529)}, "2024-03-01") // −200,00
	alloc(a, 30000, "payment")
	alloc(a, 50000, "payment")
	alloc(a, 20000, "credit") // the corrective's credit applied to A
	alloc(r, -20000, "credit")

	// Issued in error and voided: listed, marked, billing nothing.
	voided := inv(invoices.DraftInput{Kind: invoices.Ordinary, Lines: line("1", 8264)}, "2024-03-05") // 100,00
	if err := live.BeginFunc(ctx, w.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: w.Org.ID, InvoiceID: voided.ID, Reason: "Duplicada", Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A draft bills nothing either, and sits apart.
	if err := live.BeginFunc(ctx, w.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: w.Org.ID, CustomerID: &cid, Kind: invoices.Ordinary, Lines: line("3", 1000), Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Purchase history: a sent quote and the order of a signed one.
	for i, status := range []string{"sent", "signed"} {
		qt, err := w.Env.Q.CreateQuote(ctx, queries.CreateQuoteParams{OrgID: w.Org.ID, CustomerID: cid, OwnerID: w.Rep.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Env.Q.CreateQuoteVersion(ctx, queries.CreateQuoteVersionParams{OrgID: w.Org.ID, QuoteID: qt.ID, N: 1,
			ValidUntil: pgtype.Date{Time: time.Now().AddDate(0, 1, 0), Valid: true}, Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		w.Env.Exec(`UPDATE quote_versions SET total = $3 WHERE org_id = $1 AND quote_id = $2`, w.Org.ID, qt.ID, 121000*(i+1))
		w.Env.Exec(`UPDATE quotes SET number = $3, status = $4 WHERE org_id = $1 AND id = $2`, w.Org.ID, qt.ID, fmt.Sprintf("P-2024-%04d", i+1), status)
		if status == "signed" {
			if _, err := w.Env.Q.CreateOrder(ctx, queries.CreateOrderParams{OrgID: w.Org.ID, Number: "PED-2024-0001", QuoteID: qt.ID, QuoteVersion: 1,
				CustomerID: cid, Currency: "EUR", Base: 200000, Tax: 42000, Total: 242000}); err != nil {
				t.Fatal(err)
			}
		}
	}

	rows, err := w.Env.Q.ListCustomerSales(ctx, queries.ListCustomerSalesParams{OrgID: w.Org.ID, CustomerID: &cid})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, row := range rows {
		got[row.FullNumber] = row.Used
	}
	if len(rows) != 5 || got["F-2024-0001"] != 100000 || got["F-2024-0002"] != 0 || got["R-2024-0001"] != -20000 || r.Total != -20000 {
		t.Errorf("saldo utilizado %v", got)
	}
	bal, err := w.Env.Q.CustomerBalance(ctx, queries.CustomerBalanceParams{OrgID: w.Org.ID, CustomerID: &cid})
	if err != nil || bal.Invoiced != 130000 || bal.Used != 80000 {
		t.Errorf("balance %+v %v: want invoiced 1.300,00 (the voided and the draft bill nothing), used 800,00", bal, err)
	}
	// Another org's allocations never count.
	other := w.Env.Org("Otra S.L.")
	w.Env.Exec(`INSERT INTO customers (org_id, legal_name, country) VALUES ($1, 'X', 'ES')`, other.ID)
	sales := w.RepC.Get("/customers/" + id + "?tab=sales")
	contains(t, sales.Body, "Saldo utilizado", "F-2024-0001", "1.000,00\u00a0€", "Rectificativa", "rectifica F-2024-0001", "-200,00\u00a0€", "0,00\u00a0€",
		"data-testid=\"balance-invoiced\">1.300,00\u00a0€", "data-testid=\"balance-used\">800,00\u00a0€",
		"<strong>500,00\u00a0€</strong>", fmt.Sprintf(`href="/invoices/%d"`, a.ID), `data-state="voided"`, "Anulada",
		"Borradores y proformas", "Historial de compras", "PED-2024-0001", "2.420,00\u00a0€", "P-2024-0001", "Enviado", "P-2024-0002", "Firmado")
	// Correctives in their own section, the voided one with the others.
	invoicesTable := section(sales.Body, `data-testid="invoices"`, `</table>`)
	correctives := section(sales.Body, `data-testid="correctives"`, `</table>`)
	if !strings.Contains(invoicesTable, "F-2024-0003") || strings.Contains(invoicesTable, "R-2024-0001") || !strings.Contains(correctives, "R-2024-0001") {
		t.Errorf("sections: invoices %q correctives %q", invoicesTable, correctives)
	}
}

// section is the part of body from the first from to the next to.
func section(body, from, to string) string {
	i := strings.Index(body, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], to)
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// The tax regime is chosen on the form, checked by app/tax and shown on the
// customer; a bad choice comes back next to its field.
func TestTaxRegimeOnTheCustomerForm(t *testing.T) {
	w := newWorld(t)
	contains(t, w.RepC.Get("/customers/new").Body, `name="tax_regime"`, "Recargo de equivalencia", `name="exempt_cause"`, "E5 · LIVA art. 25", `name="irpf_rate"`)
	for _, tc := range []struct {
		name   string
		form   map[string]string
		field  string
		wantID string
	}{
		{"exempt without cause", map[string]string{"tax_regime": "exempt"}, "exempt_cause", "Elija la causa de la exención"},
		{"unknown regime", map[string]string{"tax_regime": "paraiso"}, "tax_regime", ""},
		{"unknown cause", map[string]string{"tax_regime": "exempt", "exempt_cause": "E9"}, "exempt_cause", "Elija la causa de la exención"},
		{"IRPF 10", map[string]string{"irpf_rate": "10"}, "irpf_rate", ""},
	} {
		r, _ := create(t, w.RepC, customer(tc.form))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tc.wantID) || !strings.Contains(r.Body, `id="`+tc.field+`-error"`) && !strings.Contains(r.Body, tc.field) {
			t.Errorf("%s: %d", tc.name, r.Status)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM customers WHERE org_id = $1`, w.Org.ID); n != 0 {
		t.Fatalf("%d customers saved from bad forms", n)
	}
	id := mustCreate(t, w.RepC, customer(map[string]string{"tax_regime": "exempt", "exempt_cause": "E5", "irpf_rate": "15"}))
	var regime, cause, irpf string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT tax_regime, exempt_cause, irpf_rate::text FROM customers WHERE id = $1`, id).Scan(&regime, &cause, &irpf); err != nil {
		t.Fatal(err)
	}
	if regime != "exempt" || cause != "E5" || irpf != "15.00" {
		t.Fatalf("saved %s %s %s", regime, cause, irpf)
	}
	contains(t, w.RepC.Get("/customers/"+id).Body, "Exento (con causa)", "(E5)", "retención IRPF 15 %")
	// Back to general: the cause goes with the exemption, even if the form
	// still carries it.
	edit := customer(map[string]string{"tax_regime": "general", "exempt_cause": "E5", "irpf_rate": "0", "version": "1", "owner_id": fmt.Sprint(w.Rep.ID)})
	if r := w.RepC.Post("/customers/"+id, edit); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %.300s", r.Status, r.Body)
	}
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT tax_regime, exempt_cause, irpf_rate::text FROM customers WHERE id = $1`, id).Scan(&regime, &cause, &irpf); err != nil {
		t.Fatal(err)
	}
	if regime != "general" || cause != "" || irpf != "0.00" {
		t.Fatalf("after edit %s %q %s", regime, cause, irpf)
	}
}

// Recargo and IRPF are Spanish: a Mexican org's customer cannot have them.
func TestTaxRegimeFollowsTheOrgsCountry(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Ventas MX S.A. de C.V.")
	env.Exec(`UPDATE orgs SET country = 'MX', currency = 'MXN' WHERE id = $1`, org.ID)
	c := env.LoginAs(env.User(org, "rep@mx.test", web.RoleRep))
	r := c.Post("/customers", url.Values{"legal_name": {"Ferretería Norte"}, "country": {"MX"}, "tax_regime": {"recargo"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Solo para empresas de España") {
		t.Fatalf("recargo for a Mexican org: %d", r.Status)
	}
	r = c.Post("/customers", url.Values{"legal_name": {"Ferretería Norte"}, "country": {"MX"}, "tax_regime": {"exempt"}, "exempt_cause": {"E1"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Solo para empresas de España") {
		t.Fatalf("a VERI*FACTU cause for a Mexican org: %d", r.Status)
	}
	for _, regime := range []string{"export", "exempt"} {
		r = c.Post("/customers", url.Values{"legal_name": {"Ferretería " + regime}, "country": {"MX"}, "tax_regime": {regime}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("%s from Mexico: %d %.300s", regime, r.Status, r.Body)
		}
	}
}

// stored reads a customer's direct-debit details and name as saved.
func stored(t *testing.T, w *world, id string) (iban, ref, date, name string, owner int64) {
	t.Helper()
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT iban, sepa_mandate_ref, coalesce(sepa_mandate_date::text, ''), legal_name, owner_id
		FROM customers WHERE id = $1`, id).Scan(&iban, &ref, &date, &name, &owner); err != nil {
		t.Fatal(err)
	}
	return
}

// The direct-debit details (IBAN, SEPA mandate) are the accountant's and
// the admin's. A rep or manager does not get them as inputs, and a crafted
// form that changes them is saved without them: the rest of the edit
// lands, the IBAN and mandate stay as they were (ignored, not refused, so
// an edit made from a form that shows them read-only still saves).
func TestRepCannotChangeIBANOrMandate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.AdminC, customer(map[string]string{"owner_id": fmt.Sprint(w.Rep.ID),
		"iban": "ES91 2100 0418 4502 0005 1332", "sepa_mandate_ref": "MANDATO-7", "sepa_mandate_date": "2024-03-01"}))

	form := w.RepC.Get("/customers/" + id + "/edit")
	for _, f := range []string{"iban", "sepa_mandate_ref", "sepa_mandate_date"} {
		input := regexp.MustCompile(`<input[^>]*name="` + f + `"[^>]*>`).FindString(form.Body)
		if input != "" && !strings.Contains(input, " disabled") {
			t.Errorf("the rep's form lets them edit %s: %s", f, input)
		}
	}
	contains(t, form.Body, "ES91 2100 0418 4502 0005 1332", "MANDATO-7")

	version := 1
	for _, c := range []*apptest.Client{w.RepC, w.ManagerC} {
		r := c.Post("/customers/"+id, customer(map[string]string{"legal_name": fmt.Sprintf("Ferretería Sol %d S.L.", version),
			"owner_id": fmt.Sprint(w.Rep.ID), "version": fmt.Sprint(version),
			"iban": "ES76 2077 0024 0031 0257 5766", "sepa_mandate_ref": "FALSO-1", "sepa_mandate_date": "2025-01-01"}))
		if r.Status != http.StatusSeeOther {
			t.Fatalf("crafted edit: %d %.400s", r.Status, r.Body)
		}
		iban, ref, date, name, _ := stored(t, w, id)
		if iban != "ES9121000418450200051332" || ref != "MANDATO-7" || date != "2024-03-01" {
			t.Errorf("a crafted form changed the mandate: %s %s %s", iban, ref, date)
		}
		if name != fmt.Sprintf("Ferretería Sol %d S.L.", version) {
			t.Errorf("the rest of the edit was lost: %q", name)
		}
		version++
	}
	if n := w.Env.Count(`SELECT count(*) FROM activities WHERE customer_id = $1 AND data::text LIKE '%iban%'`, id); n != 0 {
		t.Error("the timeline records a change of IBAN")
	}
	// Nor when creating one.
	nid := mustCreate(t, w.RepC, customer(map[string]string{"legal_name": "Nueva S.L.", "iban": "ES76 2077 0024 0031 0257 5766",
		"sepa_mandate_ref": "FALSO-2", "sepa_mandate_date": "2025-01-01"}))
	if iban, ref, _, _, _ := stored(t, w, nid); iban != "" || ref != "" {
		t.Errorf("a rep's new customer has the IBAN %q and mandate %q they typed", iban, ref)
	}
}

// The accountant changes the direct-debit details and nothing else: their
// form shows only those, and whatever else a crafted form says is ignored.
func TestAccountantChangesOnlyIBANAndMandate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.AdminC, customer(map[string]string{"owner_id": fmt.Sprint(w.Rep.ID), "billing_city": "Madrid"}))
	acc := w.Env.LoginAs(w.Env.User(w.Org, "contable@clientes.test", web.RoleAccountant))
	form := acc.Get("/customers/" + id + "/edit")
	if form.Status != http.StatusOK {
		t.Fatalf("accountant's form: %d", form.Status)
	}
	contains(t, form.Body, `name="iban"`, `name="sepa_mandate_ref"`, `name="sepa_mandate_date"`)
	for _, f := range []string{"legal_name", "tax_id", "owner_id", "billing_city", "notes"} {
		if strings.Contains(form.Body, `name="`+f+`"`) {
			t.Errorf("the accountant's form has %s", f)
		}
	}
	r := acc.Post("/customers/"+id, url.Values{"version": {"1"}, "iban": {"ES76 2077 0024 0031 0257 5766"},
		"sepa_mandate_ref": {"MANDATO-9"}, "sepa_mandate_date": {"2025-02-01"},
		"legal_name": {"Renombrada por contabilidad"}, "owner_id": {fmt.Sprint(w.Rep2.ID)}, "billing_city": {""}, "country": {"MX"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("accountant's edit: %d %.400s", r.Status, r.Body)
	}
	iban, ref, date, name, owner := stored(t, w, id)
	if iban != "ES7620770024003102575766" || ref != "MANDATO-9" || date != "2025-02-01" {
		t.Errorf("mandate not saved: %s %s %s", iban, ref, date)
	}
	if name != "Ferretería Sol S.L." || owner != w.Rep.ID || w.Env.Count(`SELECT count(*) FROM customer_addresses WHERE customer_id = $1 AND city = 'Madrid'`, id) != 1 ||
		w.Env.Count(`SELECT count(*) FROM customers WHERE id = $1 AND country = 'ES'`, id) != 1 {
		t.Errorf("the accountant changed more than the mandate: %q owner %d", name, owner)
	}
	// A bad IBAN gets its message next to the field.
	r = acc.Post("/customers/"+id, url.Values{"version": {"2"}, "iban": {"ES00 1234"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="e-iban"`) {
		t.Errorf("bad IBAN: %d", r.Status)
	}
}

// Bulk exports are for managers and admins, and for the accountant (the
// customer export carries the IBANs billing works from); a rep gets 403
// and the list offers them no export.
func TestExportIsNotForReps(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	seedCustomers(t, w, w.Rep, 2, "ES", []string{})
	acc := w.Env.LoginAs(w.Env.User(w.Org, "contable@clientes.test", web.RoleAccountant))
	for _, path := range []string{"/customers/export.csv", "/customers/export.xlsx"} {
		if r := w.RepC.Get(path); r.Status != http.StatusForbidden || strings.Contains(r.Body, "Cliente 00") {
			t.Errorf("rep %s: %d", path, r.Status)
		}
		for _, c := range []*apptest.Client{w.ManagerC, w.AdminC, acc} {
			if r := c.Get(path); r.Status != http.StatusOK {
				t.Errorf("%s: %d", path, r.Status)
			}
		}
	}
	if strings.Contains(w.RepC.Get("/customers").Body, "/customers/export.") {
		t.Error("the rep's list links to the export")
	}
	contains(t, w.ManagerC.Get("/customers").Body, "/customers/export.csv")
}

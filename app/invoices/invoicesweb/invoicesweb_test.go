package invoicesweb_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
)

// fixture is a World ready to invoice: the org's NIF and address, a
// customer of Rep (30 days' terms), one of Rep2, one of Rep without a tax
// id, and an accountant.
type fixture struct {
	*apptest.World
	rate               int64 // IVA 21 %
	cust, cust2, noTax int64
	Accountant         queries.User
	AccountantC        *apptest.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := apptest.NewWorld(t, "Facturas Web S.L.", "fw.test")
	f := &fixture{World: w}
	env := w.Env
	env.Exec(`UPDATE orgs SET tax_id = 'B12345674', address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, w.Org.ID)
	if err := env.DB.QueryRow(context.Background(), `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&f.rate); err != nil {
		t.Fatal(err)
	}
	f.cust = f.customer(t, "Ferretería Ebro S.L.", "B87654321", w.Rep.ID)
	f.cust2 = f.customer(t, "Almacenes Duero S.A.", "A58818501", w.Rep2.ID)
	f.noTax = f.customer(t, "Talleres Sin NIF", "", w.Rep.ID)
	f.Accountant = env.User(w.Org, "accountant@fw.test", web.RoleAccountant)
	f.AccountantC = env.LoginAs(f.Accountant)
	return f
}

func (f *fixture) customer(t *testing.T, name, taxID string, owner int64) int64 {
	t.Helper()
	cu, err := f.Env.Q.CreateCustomer(context.Background(), queries.CreateCustomerParams{OrgID: f.Org.ID, LegalName: name, Country: "ES",
		OwnerID: &owner, Tags: []string{}, TaxID: taxID, PaymentTermsDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Env.Q.UpsertCustomerAddress(context.Background(), queries.UpsertCustomerAddressParams{OrgID: f.Org.ID, CustomerID: cu.ID,
		Kind: "billing", Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: "ES"}); err != nil {
		t.Fatal(err)
	}
	return cu.ID
}

// issued issues invoices through the domain, as the seeds do: one per
// amount (cents before IVA), for the customer, dated today.
func (f *fixture) issued(t *testing.T, customer int64, by int64, cents ...int64) []int64 {
	t.Helper()
	var ids []int64
	if err := live.BeginFunc(context.Background(), f.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		for _, c := range cents {
			d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: f.Org.ID, Kind: invoices.Ordinary, CustomerID: &customer, By: &by,
				Now: time.Now(), Lines: []invoices.LineInput{{Description: "Material", Quantity: decimal.NewFromInt(1), UnitPrice: c, TaxRateID: f.rate}}})
			if err != nil {
				return err
			}
			inv, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: f.Org.ID, InvoiceID: d.ID, UserID: &by, Locale: "es", Now: time.Now()})
			if err != nil {
				return err
			}
			ids = append(ids, inv.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func es(id string, params map[string]any) string { return html.EscapeString(i18n.In("es", id, params)) }

var rowID = regexp.MustCompile(`id="invoice-(\d+)"`)

// listIDs is the invoice ids a list page shows, in order.
func listIDs(body string) []int64 {
	var out []int64
	for _, m := range rowID.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, id)
	}
	return out
}

var moreLink = regexp.MustCompile(`href="(/invoices\?[^"]*before=[^"]*)" data-testid="more"`)

// walk follows the list's "more" link from path and returns every id seen.
func walk(t *testing.T, c *apptest.Client, path string) []int64 {
	t.Helper()
	var all []int64
	for pages := 0; path != ""; pages++ {
		if pages > 20 {
			t.Fatal("the list pages forever")
		}
		res := c.Get(path)
		if res.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.Status)
		}
		all = append(all, listIDs(res.Body)...)
		path = ""
		if m := moreLink.FindStringSubmatch(res.Body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return all
}

func idSet(ids []int64) map[int64]bool {
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// amounts is n invoice amounts in cents: 10,00 €, 11,00 €, ...
func amounts(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(1000 + 100*i)
	}
	return out
}

// The list pages by id without gaps or repeats, filters by customer, rep,
// kind, state and period, and each role sees only its scope.
func TestListFiltersPagingAndScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mine := f.issued(t, f.cust, f.Rep.ID, amounts(30)...)
	theirs := f.issued(t, f.cust2, f.Rep2.ID, 1000, 2000)
	var draft queries.Invoice
	if err := live.BeginFunc(context.Background(), f.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		draft, err = invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: f.Org.ID, Kind: invoices.Simplified, By: &f.Rep.ID, Now: time.Now(),
			Lines: []invoices.LineInput{{Description: "Caja", Quantity: decimal.NewFromInt(1), UnitPrice: 500, TaxRateID: f.rate}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	all := append(append(append([]int64{}, mine...), theirs...), draft.ID)

	// Keyset pages: every invoice once, newest first, the first page full.
	first := f.AdminC.Get("/invoices")
	if first.Status != http.StatusOK || len(listIDs(first.Body)) != 25 || !moreLink.MatchString(first.Body) {
		t.Fatalf("first page: %d, %d rows", first.Status, len(listIDs(first.Body)))
	}
	got := walk(t, f.AdminC, "/invoices")
	if len(got) != len(all) || len(idSet(got)) != len(all) {
		t.Fatalf("admin walked %d invoices (%d distinct), want %d", len(got), len(idSet(got)), len(all))
	}
	for i := 1; i < len(got); i++ {
		if got[i] >= got[i-1] {
			t.Fatalf("not newest first at %d: %v", i, got)
		}
	}

	// Scope: the rep sees their customers' invoices and the simplified
	// draft they made, not Rep2's; the manager sees their team's (Rep);
	// the accountant everything.
	scopes := []struct {
		name string
		c    *apptest.Client
		want []int64
	}{
		{"rep", f.RepC, append(append([]int64{}, mine...), draft.ID)},
		{"rep2", f.Rep2C, theirs},
		{"manager", f.ManagerC, append(append([]int64{}, mine...), draft.ID)},
		{"accountant", f.AccountantC, all},
	}
	for _, sc := range scopes {
		got := idSet(walk(t, sc.c, "/invoices"))
		if len(got) != len(sc.want) {
			t.Errorf("%s sees %d invoices, want %d", sc.name, len(got), len(sc.want))
		}
		for _, id := range sc.want {
			if !got[id] {
				t.Errorf("%s does not see invoice %d", sc.name, id)
			}
		}
	}
	for _, id := range theirs {
		if res := f.RepC.Get(fmt.Sprintf("/invoices/%d", id)); res.Status != http.StatusNotFound {
			t.Errorf("rep opens Rep2's invoice %d: %d", id, res.Status)
		}
		if res := f.RepC.Get(fmt.Sprintf("/invoices/%d/pdf", id)); res.Status != http.StatusNotFound {
			t.Errorf("rep downloads Rep2's invoice %d: %d", id, res.Status)
		}
	}

	// Filters.
	// The org's today (Madrid): late in the evening UTC is already tomorrow there.
	today := recurring.Today(time.Now(), f.Org.TimeZone).Format("2006-01-02")
	filters := []struct {
		query string
		want  int
	}{
		{"customer=" + strconv.FormatInt(f.cust2, 10), 2},
		{"rep=" + strconv.FormatInt(f.Rep2.ID, 10), 2},
		{"rep=" + strconv.FormatInt(f.Rep.ID, 10), 30},
		{"kind=simplified", 1},
		{"state=draft", 1},
		{"state=issued", 32},
		{"state=unpaid", 32},
		{"state=paid", 0},
		{"state=overdue", 0},
		{"from=" + today + "&to=" + today, 32},
		{"to=2000-01-01", 0},
		{"kind=simplified&state=issued", 0},
	}
	for _, fl := range filters {
		if got := walk(t, f.AdminC, "/invoices?"+fl.query); len(got) != fl.want {
			t.Errorf("?%s: %d invoices, want %d", fl.query, len(got), fl.want)
		}
	}
	// A filter that cannot be read says so next to itself.
	res := f.AdminC.Get("/invoices?from=31-12-2026")
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="error-from"`) {
		t.Errorf("bad date filter: %d", res.Status)
	}
	res = f.AdminC.Get("/invoices?state=nope")
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="error-state"`) {
		t.Errorf("bad state filter: %d", res.Status)
	}
	// The rows carry what a phone needs: number, customer, total, state.
	if !strings.Contains(first.Body, "Ferretería Ebro S.L.") || !strings.Contains(first.Body, es("invoices.badge.due", nil)) {
		t.Errorf("list rows lack customer or due badge")
	}
}

// lineForm is one line as the editor posts it.
func lineForm(v url.Values, desc, qty, price string, rate int64) {
	v.Add("product_id", "")
	v.Add("description", desc)
	v.Add("unit", "ud")
	v.Add("quantity", qty)
	v.Add("unit_price", price)
	v.Add("discount", "")
	v.Add("tax_rate_id", strconv.FormatInt(rate, 10))
}

var invoicePath = regexp.MustCompile(`^/invoices/(\d+)$`)

// created is the invoice a redirect points at.
func created(t *testing.T, res apptest.Response) int64 {
	t.Helper()
	m := invoicePath.FindStringSubmatch(res.Header.Get("Location"))
	if res.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("want a redirect to an invoice, got %d %q %.500s", res.Status, res.Header.Get("Location"), res.Body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// A rep types an invoice on their phone in three steps and issues it; a
// draft saved instead is issued from its page.
func TestHandInvoiceCreateAndIssue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.RepC
	if res := c.Get("/invoices/new"); res.Status != http.StatusOK || !strings.Contains(res.Body, `data-testid="invoice-step1"`) {
		t.Fatalf("step 1: %d", res.Status)
	}
	cust := strconv.FormatInt(f.cust, 10)
	// Step 1 → 2: the customer in scope is taken; Rep2's is not.
	res := c.Post("/invoices/new", url.Values{"step": {"2"}, "kind": {"ordinary"}, "customer_id": {strconv.FormatInt(f.cust2, 10)}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="error-customer_id"`) {
		t.Fatalf("another rep's customer: %d", res.Status)
	}
	res = c.Post("/invoices/new", url.Values{"step": {"2"}, "kind": {"ordinary"}, "customer_id": {cust}})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `data-testid="invoice-step2"`) {
		t.Fatalf("step 2: %d %.300s", res.Status, res.Body)
	}
	// Adding a line keeps step 2 with one more line.
	v := url.Values{"kind": {"ordinary"}, "customer_id": {cust}, "add_free": {"1"}}
	lineForm(v, "Tornillos", "2", "50,00", f.rate)
	if res = c.Post("/invoices/new", v); res.Status != http.StatusOK || strings.Count(res.Body, `data-testid="line"`) != 2 {
		t.Fatalf("add line: %d, %d lines", res.Status, strings.Count(res.Body, `data-testid="line"`))
	}
	// A quantity that is not a number is shown at its line.
	v = url.Values{"kind": {"ordinary"}, "customer_id": {cust}, "step": {"3"}}
	lineForm(v, "Tornillos", "dos", "50,00", f.rate)
	if res = c.Post("/invoices/new", v); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="line-error"`) {
		t.Fatalf("bad quantity: %d", res.Status)
	}
	// Step 3: the review with the totals (2 × 50,00 + 21 % = 121,00 €).
	v = url.Values{"kind": {"ordinary"}, "customer_id": {cust}, "step": {"3"}}
	lineForm(v, "Tornillos", "2", "50,00", f.rate)
	res = c.Post("/invoices/new", v)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `data-testid="invoice-step3"`) || !strings.Contains(res.Body, "121,00") {
		t.Fatalf("review: %d %.500s", res.Status, res.Body)
	}
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, f.Org.ID); n != 0 {
		t.Fatalf("the steps stored %d invoices", n)
	}
	// Issue.
	v.Del("step")
	v.Set("action", "issue")
	id := created(t, c.Post("/invoices", v))
	var inv queries.Invoice
	inv, err := f.Env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: f.Org.ID, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if inv.State != "issued" || inv.Total != 12100 || inv.FullNumber == nil || !inv.DueDate.Valid ||
		!inv.DueDate.Time.Equal(inv.IssueDate.Time.AddDate(0, 0, 30)) || inv.CreatedBy == nil || *inv.CreatedBy != f.Rep.ID {
		t.Fatalf("issued invoice: %+v", inv)
	}
	page := c.Get(fmt.Sprintf("/invoices/%d", id))
	for _, want := range []string{*inv.FullNumber, "Ferretería Ebro S.L.", "B87654321", "121,00", inv.DueDate.Time.Format("02/01/2006"),
		fmt.Sprintf(`<div id="invoice-sends" hx-get="/invoices/%d/sends" hx-trigger="load"></div>`, id),
		`data-testid="verifactu-records"`, es("invoices.record_status.pending", nil), `data-testid="payment-form"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("invoice page lacks %q", want)
		}
	}
	// A rep neither voids nor corrects, nor downloads the records' XML.
	if strings.Contains(page.Body, `data-testid="void-form"`) || strings.Contains(page.Body, "/correct") || strings.Contains(page.Body, "/verifactu/records/") {
		t.Error("the rep's page offers void or correct")
	}
	pdf := c.Get(fmt.Sprintf("/invoices/%d/pdf", id))
	if pdf.Status != http.StatusOK || pdf.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.Header.Get("Content-Disposition"), "inline") {
		t.Errorf("pdf: %d %q %q", pdf.Status, pdf.Header.Get("Content-Type"), pdf.Header.Get("Content-Disposition"))
	}
	if n := f.Env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = 'invoice' AND entity_id = $2 AND kind = 'issued'`, f.Org.ID, id); n != 1 {
		t.Errorf("%d issued events", n)
	}

	// Save a draft, then issue it from its page; then delete another draft.
	v.Set("action", "draft")
	draft := created(t, c.Post("/invoices", v))
	page = c.Get(fmt.Sprintf("/invoices/%d", draft))
	if !strings.Contains(page.Body, `data-testid="issue-form"`) || strings.Contains(page.Body, `data-testid="payment-form"`) {
		t.Error("a draft's page lacks the issue form or takes payments")
	}
	if res := c.Get(fmt.Sprintf("/invoices/%d/pdf", draft)); res.Status != http.StatusNotFound {
		t.Errorf("a draft's pdf: %d", res.Status)
	}
	if res := c.Post(fmt.Sprintf("/invoices/%d/issue", draft), url.Values{"issue_date": {""}}); res.Status != http.StatusSeeOther {
		t.Fatalf("issue draft: %d %.500s", res.Status, res.Body)
	}
	gone := created(t, c.Post("/invoices", v))
	if res := c.Post(fmt.Sprintf("/invoices/%d/delete", gone), nil); res.Status != http.StatusSeeOther {
		t.Fatalf("delete draft: %d", res.Status)
	}
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND id = $2`, f.Org.ID, gone); n != 0 {
		t.Error("the draft was not deleted")
	}
	// An issued invoice cannot be deleted.
	c.Post(fmt.Sprintf("/invoices/%d/delete", id), nil)
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND id = $2`, f.Org.ID, id); n != 1 {
		t.Error("an issued invoice was deleted")
	}
}

// A hand draft opens in the editor with what it holds, and saving replaces
// it; an issued invoice, or a draft outside the rep's scope, is not edited.
func TestEditDraft(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := url.Values{"kind": {"ordinary"}, "customer_id": {strconv.FormatInt(f.cust, 10)}, "action": {"draft"}, "notes": {"Primera versión"}}
	lineForm(v, "Tornillos", "2", "50,00", f.rate)
	draft := created(t, f.RepC.Post("/invoices", v))
	if page := f.RepC.Get(fmt.Sprintf("/invoices/%d", draft)); !strings.Contains(page.Body, `data-testid="edit-draft"`) {
		t.Fatal("a hand draft offers no edit")
	}
	edit := f.RepC.Get(fmt.Sprintf("/invoices/%d/edit", draft))
	if edit.Status != http.StatusOK || !strings.Contains(edit.Body, `data-testid="invoice-step2"`) || !strings.Contains(edit.Body, `value="Tornillos"`) ||
		!strings.Contains(edit.Body, `value="50,00"`) || !strings.Contains(edit.Body, fmt.Sprintf(`name="replaces" value="%d"`, draft)) {
		t.Fatalf("edit: %d %.500s", edit.Status, edit.Body)
	}
	if res := f.Rep2C.Get(fmt.Sprintf("/invoices/%d/edit", draft)); res.Status != http.StatusNotFound {
		t.Errorf("another rep edits the draft: %d", res.Status)
	}
	other := url.Values{}
	for k, vs := range v {
		other[k] = vs
	}
	other.Del("_csrf") // Post set the rep's token on v
	other.Set("replaces", strconv.FormatInt(draft, 10))
	other.Set("customer_id", strconv.FormatInt(f.cust2, 10))
	if res := f.Rep2C.Post("/invoices", other); res.Status != http.StatusNotFound {
		t.Errorf("another rep replaces the draft: %d", res.Status)
	}

	v = url.Values{"kind": {"ordinary"}, "customer_id": {strconv.FormatInt(f.cust, 10)}, "action": {"draft"}, "replaces": {strconv.FormatInt(draft, 10)}}
	lineForm(v, "Tornillos", "3", "50,00", f.rate)
	replaced := created(t, f.RepC.Post("/invoices", v))
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, f.Org.ID); n != 1 || replaced == draft {
		t.Fatalf("%d invoices after the edit (old %d, new %d)", n, draft, replaced)
	}
	inv, _ := f.Env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: f.Org.ID, ID: replaced})
	if inv.Total != 18150 {
		t.Errorf("edited total %d, want 18150", inv.Total)
	}
	// Issued: no edit, and a stale form does not replace it.
	if res := f.RepC.Post(fmt.Sprintf("/invoices/%d/issue", replaced), nil); res.Status != http.StatusSeeOther {
		t.Fatal("issue")
	}
	if res := f.RepC.Get(fmt.Sprintf("/invoices/%d/edit", replaced)); res.Status != http.StatusSeeOther {
		t.Errorf("edit of an issued invoice: %d", res.Status)
	}
	v.Set("replaces", strconv.FormatInt(replaced, 10))
	f.RepC.Post("/invoices", v)
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, f.Org.ID); n != 1 {
		t.Errorf("a stale edit of an issued invoice made %d invoices", n)
	}
}

// Going back to step 1 keeps the lines typed in step 2.
func TestEditorBackKeepsLines(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := url.Values{"kind": {"ordinary"}, "customer_id": {strconv.FormatInt(f.cust, 10)}, "step": {"1"}}
	lineForm(v, "Arandelas", "4", "1,25", f.rate)
	back := f.RepC.Post("/invoices/new", v)
	if back.Status != http.StatusOK || !strings.Contains(back.Body, `data-testid="invoice-step1"`) || !strings.Contains(back.Body, `value="Arandelas"`) {
		t.Fatalf("back to step 1: %d", back.Status)
	}
	v = url.Values{"kind": {"simplified"}, "customer_id": {""}, "step": {"2"}}
	lineForm(v, "Arandelas", "4", "1,25", f.rate)
	res := f.RepC.Post("/invoices/new", v)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `data-testid="invoice-step2"`) || !strings.Contains(res.Body, `id="f-description-0"`) ||
		!strings.Contains(res.Body, `value="Arandelas"`) || strings.Count(res.Body, `data-testid="line"`) != 1 {
		t.Fatalf("forward to step 2: %d %.400s", res.Status, res.Body)
	}
}

// A customer who paid with a simplified invoice asks for a complete one:
// from the ticket's page the editor opens with its lines as an F3 naming
// it; issuing records what it replaces, and a ticket is replaced once.
func TestCanjeOfASimplifiedInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.RepC
	v := url.Values{"kind": {"simplified"}, "customer_id": {""}, "action": {"issue"}}
	lineForm(v, "Cartuchos de tinta", "3", "29,90", f.rate)
	ticket := created(t, c.Post("/invoices", v))
	if page := c.Get(fmt.Sprintf("/invoices/%d", ticket)); !strings.Contains(page.Body, fmt.Sprintf(`href="/invoices/new?canje=%d"`, ticket)) {
		t.Fatal("the simplified invoice's page offers no canje")
	}
	form := c.Get(fmt.Sprintf("/invoices/new?canje=%d", ticket))
	if form.Status != http.StatusOK || !strings.Contains(form.Body, fmt.Sprintf(`name="canje" value="%d"`, ticket)) ||
		!strings.Contains(form.Body, "Cartuchos de tinta") || !strings.Contains(form.Body, es("invoices.kind.replacement", nil)) {
		t.Fatalf("canje editor: %d %.400s", form.Status, form.Body)
	}
	cust := strconv.FormatInt(f.cust, 10)
	canje := func() apptest.Response {
		v := url.Values{"kind": {"replacement"}, "canje": {strconv.FormatInt(ticket, 10)}, "customer_id": {cust}, "action": {"issue"}}
		lineForm(v, "Cartuchos de tinta", "3", "29,90", f.rate)
		return c.Post("/invoices", v)
	}
	f3 := created(t, canje())
	if n := f.Env.Count(`SELECT count(*) FROM invoices i JOIN invoice_corrections k ON k.org_id = i.org_id AND k.invoice_id = i.id
		WHERE i.org_id = $1 AND i.id = $2 AND i.fiscal_type = 'F3' AND i.state = 'issued' AND k.corrected_id = $3`, f.Org.ID, f3, ticket); n != 1 {
		t.Fatalf("the F3 does not name the ticket it replaces")
	}
	if res := canje(); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("a second canje of the same ticket: %d", res.Status)
	}
	// Only an issued simplified invoice is exchanged.
	if res := c.Get(fmt.Sprintf("/invoices/new?canje=%d", f3)); res.Status != http.StatusNotFound {
		t.Errorf("canje of an F3: %d", res.Status)
	}
}

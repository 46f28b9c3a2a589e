package invoicesweb_test

import (
	"context"
	"fmt"
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
	"pulso/app/money"
	"pulso/queries"
)

// order makes an order of Rep's customer as the tenancy seed does (a quote
// owned by Rep, its order with two lines) and a delivery note of 1 unit of
// the first line.
func (f *fixture) order(t *testing.T) (orderID, noteID int64) {
	t.Helper()
	ctx := context.Background()
	env := f.Env
	if err := env.DB.QueryRow(ctx, `INSERT INTO quotes (org_id, customer_id, owner_id) VALUES ($1, $2, $3) RETURNING id`, f.Org.ID, f.cust, f.Rep.ID).Scan(&orderID); err != nil {
		t.Fatal(err)
	}
	quote := orderID
	env.Exec(`INSERT INTO quote_versions (org_id, quote_id, n, valid_until, currency) VALUES ($1, $2, 1, '2030-12-31', 'EUR')`, f.Org.ID, quote)
	if err := env.DB.QueryRow(ctx, `INSERT INTO orders (org_id, number, quote_id, quote_version, customer_id, currency, base, tax, surcharge, withheld, total)
		VALUES ($1, 'PED-T-1', $2, 1, $3, 'EUR', 2000, 420, 0, 0, 2420) RETURNING id`, f.Org.ID, quote, f.cust).Scan(&orderID); err != nil {
		t.Fatal(err)
	}
	for pos, desc := range []string{"Ladrillo", "Montaje"} {
		env.Exec(`INSERT INTO order_lines (org_id, order_id, position, description, unit, quantity, unit_price, discount_pct, tax_rate_id, tax_rate, surcharge, withholding, amount)
			VALUES ($1, $2, $3, $4, 'ud', 2, 500, 0, $5, 21, 0, 0, 1000)`, f.Org.ID, orderID, pos+1, desc, f.rate)
	}
	if err := env.DB.QueryRow(ctx, `INSERT INTO delivery_notes (org_id, number, order_id, delivered_on) VALUES ($1, 'ALB-T-1', $2, current_date) RETURNING id`,
		f.Org.ID, orderID).Scan(&noteID); err != nil {
		t.Fatal(err)
	}
	env.Exec(`INSERT INTO delivery_note_lines (org_id, delivery_note_id, order_id, order_position, quantity) VALUES ($1, $2, $3, 1, 1)`, f.Org.ID, noteID, orderID)
	return orderID, noteID
}

// From the order page: what was delivered, then (after deleting that
// draft) the whole order; the order cannot be invoiced twice, and another
// rep cannot invoice it at all.
func TestInvoiceFromOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	orderID, noteID := f.order(t)
	path := fmt.Sprintf("/orders/%d/invoice", orderID)
	page := f.RepC.Get(fmt.Sprintf("/orders/%d", orderID))
	if !strings.Contains(page.Body, `data-testid="invoice-all"`) || !strings.Contains(page.Body, `data-testid="invoice-delivered"`) || !strings.Contains(page.Body, "ALB-T-1") {
		t.Fatalf("the order page does not offer invoicing: %.300s", page.Body)
	}
	if res := f.Rep2C.Post(path, url.Values{"mode": {"all"}}); res.Status != http.StatusNotFound {
		t.Errorf("another rep invoices the order: %d", res.Status)
	}
	if res := f.RepC.Post(path, url.Values{"mode": {"notes"}}); res.Status != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/orders/%d", orderID) {
		t.Errorf("no notes ticked: %d %s", res.Status, res.Header.Get("Location"))
	}

	delivered := created(t, f.RepC.Post(path, url.Values{"mode": {"delivered"}}))
	lines, err := f.Env.Q.ListInvoiceLines(context.Background(), queries.ListInvoiceLinesParams{OrgID: f.Org.ID, InvoiceID: delivered})
	if err != nil || len(lines) != 1 || lines[0].DeliveryNoteID == nil || *lines[0].DeliveryNoteID != noteID {
		t.Fatalf("delivered lines: %+v %v", lines, err)
	}
	show := f.RepC.Get(fmt.Sprintf("/invoices/%d", delivered))
	if !strings.Contains(show.Body, "PED-T-1") || !strings.Contains(show.Body, "ALB-T-1") {
		t.Error("the invoice does not link its order and delivery note")
	}
	// While the delivery is billed the whole order is not offered and is refused.
	page = f.RepC.Get(fmt.Sprintf("/orders/%d", orderID))
	if strings.Contains(page.Body, `data-testid="invoice-all"`) || !strings.Contains(page.Body, fmt.Sprintf("/invoices/%d", delivered)) {
		t.Error("the order page still offers the whole order, or does not link its invoice")
	}
	f.RepC.Post(path, url.Values{"mode": {"all"}})
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, f.Org.ID); n != 1 {
		t.Fatalf("%d invoices after invoicing a billed order whole", n)
	}
	if res := f.RepC.Post(fmt.Sprintf("/invoices/%d/delete", delivered), nil); res.Status != http.StatusSeeOther {
		t.Fatal("delete")
	}
	whole := created(t, f.RepC.Post(path, url.Values{"mode": {"all"}}))
	inv, err := f.Env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: f.Org.ID, ID: whole})
	if err != nil || inv.OrderID == nil || *inv.OrderID != orderID || !inv.OrderWhole || inv.Total != 2420 {
		t.Fatalf("whole order invoice: %+v %v", inv, err)
	}
	res := f.RepC.Post(path, url.Values{"mode": {"all"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/orders/%d", orderID) {
		t.Errorf("second whole invoice: %d %s", res.Status, res.Header.Get("Location"))
	}
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, f.Org.ID); n != 1 {
		t.Errorf("%d invoices after invoicing the order twice", n)
	}
}

// Voiding and correcting are billing's: the accountant voids with a reason
// (none: a field message), a rep is refused by the guard. A rectificativa
// without a reason is refused on its field and stores nothing.
func TestVoidAndCorrectByRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := f.issued(t, f.cust, f.Rep.ID, 10000, 20000)
	voidPath := fmt.Sprintf("/invoices/%d/void", ids[0])
	if res := f.RepC.Post(voidPath, url.Values{"reason": {"Error"}}); res.Status != http.StatusForbidden {
		t.Errorf("rep voids: %d", res.Status)
	}
	if res := f.RepC.Get(fmt.Sprintf("/invoices/%d/correct", ids[0])); res.Status != http.StatusForbidden {
		t.Errorf("rep opens the corrective form: %d", res.Status)
	}
	res := f.AccountantC.Post(voidPath, url.Values{"reason": {"  "}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, es("invoices.void_reason_required", nil)) {
		t.Errorf("void without a reason: %d", res.Status)
	}
	page := f.AccountantC.Get(fmt.Sprintf("/invoices/%d", ids[0]))
	if !strings.Contains(page.Body, `data-testid="void-form"`) || !strings.Contains(page.Body, `data-testid="correct-invoice"`) ||
		!strings.Contains(page.Body, "/verifactu/records/") {
		t.Error("the accountant's page lacks void, correct or the records' XML")
	}
	if res := f.AccountantC.Post(voidPath, url.Values{"reason": {"Emitida por error"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("void: %d %.300s", res.Status, res.Body)
	}
	inv, _ := f.Env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: f.Org.ID, ID: ids[0]})
	if inv.State != "voided" || inv.VoidReason != "Emitida por error" {
		t.Fatalf("voided: %+v", inv)
	}
	if n := f.Env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1 AND invoice_id = $2 AND kind = 'anulacion'`, f.Org.ID, ids[0]); n != 1 {
		t.Errorf("%d anulación records", n)
	}
	if n := f.Env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND entity_id = $2 AND kind = 'voided'`, f.Org.ID, ids[0]); n != 1 {
		t.Errorf("%d voided events", n)
	}

	// The rectificativa: prefilled from the invoice; without a reason it is
	// refused at its field; with one it is issued and both link each other.
	correct := fmt.Sprintf("/invoices/%d/correct", ids[1])
	form := f.AccountantC.Get(correct)
	if form.Status != http.StatusOK || !strings.Contains(form.Body, `value="Material"`) {
		t.Fatalf("corrective form: %d", form.Status)
	}
	v := url.Values{"corrective_type": {"R1"}, "method": {"difference"}, "reason": {""}, "action": {"issue"}}
	lineForm(v, "Material", "-1", "50,00", f.rate)
	res = f.AccountantC.Post(correct, v)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="error-reason"`) ||
		!strings.Contains(res.Body, es("invoices.reason_required", nil)) {
		t.Fatalf("corrective without a reason: %d %.300s", res.Status, res.Body)
	}
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND kind = 'corrective'`, f.Org.ID); n != 0 {
		t.Fatalf("a refused corrective left %d rows", n)
	}
	v.Set("reason", "Devolución de una unidad")
	rid := created(t, f.AccountantC.Post(correct, v))
	r, _ := f.Env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: f.Org.ID, ID: rid})
	if r.State != "issued" || r.FiscalType == nil || *r.FiscalType != "R1" || r.Total != -6050 {
		t.Fatalf("corrective: %+v", r)
	}
	orig := f.AccountantC.Get(fmt.Sprintf("/invoices/%d", ids[1]))
	if !strings.Contains(orig.Body, `data-testid="invoice-corrected-by"`) || !strings.Contains(orig.Body, *r.FullNumber) {
		t.Error("the corrected invoice does not link its rectificativa")
	}
}

// A payment is recorded on its form; amounts of zero or above what is
// outstanding are refused at the field; reaching the total makes the
// invoice paid (badge, list filter, live event).
func TestPayments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.issued(t, f.cust, f.Rep.ID, 10000)[0] // 121,00 €
	path := fmt.Sprintf("/invoices/%d/payments", id)
	// The org's today (Madrid): late in the evening UTC is already tomorrow there.
	today := recurring.Today(time.Now(), f.Org.TimeZone).Format("2006-01-02")
	for _, c := range []struct{ amount, want string }{
		{"0", "invoices.payment_amount_positive"},
		{"-3", "invoices.payment_amount_positive"},
		{"121,01", "invoices.payment_over_outstanding"},
		{"doce", "invoices.amount_invalid"},
	} {
		res := f.RepC.Post(path, url.Values{"amount": {c.amount}, "paid_on": {today}})
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="error-amount"`) ||
			!strings.Contains(res.Body, es(c.want, map[string]any{"Outstanding": money.Format(12100, "EUR")})) {
			t.Errorf("amount %q: %d", c.amount, res.Status)
		}
	}
	if res := f.Rep2C.Post(path, url.Values{"amount": {"1"}, "paid_on": {today}}); res.Status != http.StatusNotFound {
		t.Errorf("another rep records a payment: %d", res.Status)
	}
	if res := f.RepC.Post(path, url.Values{"amount": {"100"}, "paid_on": {today}}); res.Status != http.StatusSeeOther {
		t.Fatalf("payment: %d %.300s", res.Status, res.Body)
	}
	page := f.RepC.Get(fmt.Sprintf("/invoices/%d", id))
	if !strings.Contains(page.Body, "21,00") || strings.Contains(page.Body, es("invoices.badge.paid", nil)) {
		t.Error("after a part payment the page does not show 21,00 € outstanding, or shows paid")
	}
	if res := f.RepC.Post(path, url.Values{"amount": {"21,00"}, "paid_on": {today}}); res.Status != http.StatusSeeOther {
		t.Fatalf("settling payment: %d", res.Status)
	}
	page = f.RepC.Get(fmt.Sprintf("/invoices/%d", id))
	if !strings.Contains(page.Body, `data-testid="invoice-badge"`) || !strings.Contains(page.Body, es("invoices.badge.paid", nil)) ||
		strings.Contains(page.Body, `data-testid="payment-form"`) {
		t.Error("a paid invoice is not shown paid, or still takes payments")
	}
	if got := listIDs(f.RepC.Get("/invoices?state=paid").Body); len(got) != 1 || got[0] != id {
		t.Errorf("paid filter: %v", got)
	}
	if n := f.Env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND entity_id = $2 AND kind = 'paid'`, f.Org.ID, id); n != 1 {
		t.Errorf("%d paid events", n)
	}
	// Overdue: an unpaid invoice past its due date.
	late := f.issued(t, f.cust, f.Rep.ID, 5000)[0]
	f.Env.Exec(`ALTER TABLE invoices DISABLE TRIGGER invoices_frozen`)
	f.Env.Exec(`UPDATE invoices SET issue_date = issue_date - 40, due_date = issue_date - 10 WHERE id = $1`, late)
	f.Env.Exec(`ALTER TABLE invoices ENABLE TRIGGER invoices_frozen`)
	if got := listIDs(f.RepC.Get("/invoices?state=overdue").Body); len(got) != 1 || got[0] != late {
		t.Errorf("overdue filter: %v", got)
	}
	if !strings.Contains(f.RepC.Get(fmt.Sprintf("/invoices/%d", late)).Body, es("invoices.badge.overdue", nil)) {
		t.Error("the late invoice is not shown overdue")
	}
}

// What RD 1619/2012 refuses comes back next to the field: a simplified
// invoice over 400 €, an F1 to a customer without a tax id, and a date
// before the last invoice of the series. Nothing is stored.
func TestIssueRefusalsShowFieldMessages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	post := func(kind, customer, price, date string) string {
		v := url.Values{"kind": {kind}, "customer_id": {customer}, "action": {"issue"}, "issue_date": {date}}
		lineForm(v, "Mercancía", "1", price, f.rate)
		res := f.RepC.Post("/invoices", v)
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%s %s %s: %d %.300s", kind, customer, price, res.Status, res.Body)
		}
		return res.Body
	}
	body := post("simplified", "", "400,00", "")
	if !strings.Contains(body, es("invoices.simplified_over_limit", map[string]any{"Limit": money.Format(40000, "EUR")})) {
		t.Error("simplified over its limit: no message")
	}
	body = post("ordinary", strconv.FormatInt(f.noTax, 10), "10,00", "")
	if !strings.Contains(body, es("invoices.customer_tax_id_required", nil)) {
		t.Error("F1 without the customer's tax id: no message")
	}
	body = post("ordinary", "", "10,00", "")
	if !strings.Contains(body, es("invoices.customer_required", nil)) {
		t.Error("F1 without a customer: no message")
	}
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, f.Org.ID); n != 0 {
		t.Fatalf("refused issues left %d invoices", n)
	}
	// The series of 2025 last issued on 10 June: 1 June is refused.
	if err := live.BeginFunc(context.Background(), f.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: f.Org.ID, Kind: invoices.Ordinary, CustomerID: &f.cust, Now: time.Now(),
			Lines: []invoices.LineInput{{Description: "Material", Quantity: decimal.NewFromInt(1), UnitPrice: 1000, TaxRateID: f.rate}}})
		if err != nil {
			return err
		}
		_, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: f.Org.ID, InvoiceID: d.ID, Locale: "es",
			IssueDate: time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC), Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	body = post("ordinary", strconv.FormatInt(f.cust, 10), "10,00", "2025-06-01")
	if !strings.Contains(body, `data-testid="error-issue_date"`) {
		t.Errorf("a date before the series' last: no field message %.500s", body)
	}
}

// A proforma typed by hand is issued without a number and becomes an
// ordinary draft once; both pages link each other.
func TestProformaBecomesInvoice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := url.Values{"kind": {"proforma"}, "customer_id": {strconv.FormatInt(f.cust, 10)}, "action": {"issue"}}
	lineForm(v, "Oferta de obra", "1", "300,00", f.rate)
	pf := created(t, f.RepC.Post("/invoices", v))
	page := f.RepC.Get(fmt.Sprintf("/invoices/%d", pf))
	if !strings.Contains(page.Body, fmt.Sprintf("Proforma #%d", pf)) || !strings.Contains(page.Body, `data-testid="convert-proforma"`) ||
		strings.Contains(page.Body, `data-testid="payment-form"`) || strings.Contains(page.Body, `data-testid="verifactu-records"`) {
		t.Fatalf("proforma page: %.500s", page.Body)
	}
	inv := created(t, f.RepC.Post(fmt.Sprintf("/invoices/%d/invoice", pf), nil))
	got, err := f.Env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: f.Org.ID, ID: inv})
	if err != nil || got.Kind != "ordinary" || got.State != "draft" || got.FromProformaID == nil || *got.FromProformaID != pf || got.Total != 36300 {
		t.Fatalf("invoice of the proforma: %+v %v", got, err)
	}
	page = f.RepC.Get(fmt.Sprintf("/invoices/%d", pf))
	if strings.Contains(page.Body, `data-testid="convert-proforma"`) || !strings.Contains(page.Body, fmt.Sprintf("/invoices/%d", inv)) {
		t.Error("the proforma still offers conversion, or does not link its invoice")
	}
	if res := f.RepC.Post(fmt.Sprintf("/invoices/%d/invoice", pf), nil); res.Status != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/invoices/%d", pf) {
		t.Errorf("second conversion: %d %s", res.Status, res.Header.Get("Location"))
	}
	if n := f.Env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND from_proforma_id = $2`, f.Org.ID, pf); n != 1 {
		t.Errorf("%d invoices of the proforma", n)
	}
}

// The operation date (RD 1619/2012 art. 6.1.f): one after the issue date
// is refused next to its field; an earlier one is printed and recorded.
func TestOperationDate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cust := strconv.FormatInt(f.cust, 10)
	issue := func(op string) apptest.Response {
		v := url.Values{"kind": {"ordinary"}, "customer_id": {cust}, "action": {"issue"}, "issue_date": {"2025-06-10"}, "operation_date": {op}}
		lineForm(v, "Montaje", "1", "80,00", f.rate)
		return f.RepC.Post("/invoices", v)
	}
	for _, op := range []string{"2025-06-11", "junio"} {
		if res := issue(op); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `data-testid="error-operation_date"`) {
			t.Errorf("operation date %q: %d, no field message", op, res.Status)
		}
	}
	id := created(t, issue("2025-05-28"))
	inv, err := f.Env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: f.Org.ID, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if !inv.OperationDate.Valid || inv.OperationDate.Time.Format("2006-01-02") != "2025-05-28" {
		t.Fatalf("operation date %v", inv.OperationDate)
	}
	if !strings.Contains(apptest.PDFText(t, inv.Pdf), "28/05/2025") {
		t.Error("the PDF does not print the operation date")
	}
	var xml string
	if err := f.Env.DB.QueryRow(context.Background(), `SELECT convert_from(xml, 'UTF8') FROM verifactu_records WHERE org_id = $1 AND invoice_id = $2`,
		f.Org.ID, id).Scan(&xml); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(xml, "<sum1:FechaOperacion>28-05-2025</sum1:FechaOperacion>") {
		t.Error("the record lacks FechaOperacion")
	}
}

// A signed quote goes straight to its invoice draft: its order is made on
// the way, the draft bills it whole, and the draft's page issues it and
// schedules the send. Only who sells may (the order is a sales object),
// within their scope; an unsigned quote and a second invoice are refused
// with their reason.
func TestInvoiceFromASignedQuote(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	qid := f.Env.SignedQuote(t, f.Org, f.Rep, f.cust)
	path := fmt.Sprintf("/quotes/%d/invoice", qid)
	page := f.RepC.Get(fmt.Sprintf("/quotes/%d", qid))
	if !strings.Contains(page.Body, `action="`+path+`"`) || !strings.Contains(page.Body, `data-testid="quote-invoice"`) {
		t.Fatalf("the signed quote's page offers no invoice:\n%.2000s", page.Body)
	}
	if res := f.AccountantC.Post(path, url.Values{}); res.Status != http.StatusForbidden {
		t.Errorf("the accountant invoices a quote: %d", res.Status)
	}
	if res := f.Rep2C.Post(path, url.Values{}); res.Status != http.StatusNotFound {
		t.Errorf("another rep invoices the quote: %d", res.Status)
	}
	res := f.RepC.Post(path, url.Values{})
	m := regexp.MustCompile(`^/invoices/(\d+)$`).FindStringSubmatch(res.Header.Get("Location"))
	if res.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("invoice from quote: %d %s", res.Status, res.Header.Get("Location"))
	}
	var kind, state string
	var total int64
	var orders int
	if err := f.Env.DB.QueryRow(context.Background(), `SELECT kind, state, total,
		(SELECT count(*) FROM orders WHERE org_id = $1 AND quote_id = $3)
		FROM invoices WHERE org_id = $1 AND id = $2`, f.Org.ID, m[1], qid).Scan(&kind, &state, &total, &orders); err != nil {
		t.Fatal(err)
	}
	// (5 × 2,00 + 2 × 30,00) × 1,21 = 84,70 €
	if kind != "ordinary" || state != "draft" || total != 8470 || orders != 1 {
		t.Errorf("draft %s/%s of %d cents, %d orders", kind, state, total, orders)
	}
	show := f.RepC.Get(res.Header.Get("Location"))
	if !strings.Contains(show.Body, fmt.Sprintf(`action="/invoices/%s/issue"`, m[1])) {
		t.Errorf("the draft's page does not offer to issue it:\n%.1500s", show.Body)
	}
	// Twice: the order is already billed.
	again := f.RepC.Post(path, url.Values{})
	if again.Status != http.StatusSeeOther || again.Header.Get("Location") != fmt.Sprintf("/quotes/%d", qid) {
		t.Errorf("second invoice: %d %s", again.Status, again.Header.Get("Location"))
	}
	if n := f.Env.Count(`SELECT count(*) FROM invoices i JOIN invoice_lines l ON l.org_id = i.org_id AND l.invoice_id = i.id
		JOIN orders o ON o.org_id = l.org_id AND o.id = l.order_id WHERE o.quote_id = $1`, qid); n != 2 {
		t.Errorf("%d invoice lines bill the quote's order, want its 2", n)
	}
	if !strings.Contains(f.RepC.Get(fmt.Sprintf("/quotes/%d", qid)).Body, es("invoices.already_invoiced", nil)) {
		t.Error("no reason shown for the second invoice")
	}
	// A quote not signed yet.
	draft, err := f.Env.Q.CreateQuote(context.Background(), queries.CreateQuoteParams{OrgID: f.Org.ID, CustomerID: f.cust, OwnerID: f.Rep.ID})
	if err != nil {
		t.Fatal(err)
	}
	if res := f.RepC.Post(fmt.Sprintf("/quotes/%d/invoice", draft.ID), url.Values{}); res.Status != http.StatusSeeOther ||
		!strings.Contains(f.RepC.Get(fmt.Sprintf("/quotes/%d", draft.ID)).Body, es("orders.not_signed", nil)) {
		t.Errorf("an unsigned quote: %d", res.Status)
	}
}

// beforeRateChange issues an invoice of kind dated yesterday at f.rate,
// then ends f.rate tonight and brings in the next percent from today (a
// change of rates): it returns the invoice and the new rate.
func (f *fixture) beforeRateChange(t *testing.T, kind invoices.Kind) (invoiceID, newer int64) {
	t.Helper()
	today := recurring.Today(time.Now(), "Europe/Madrid")
	d := invoices.DraftInput{OrgID: f.Org.ID, Kind: kind, By: &f.Rep.ID, Now: time.Now(),
		Lines: []invoices.LineInput{{Description: "Material", Quantity: decimal.NewFromInt(1), UnitPrice: 2990, TaxRateID: f.rate}}}
	if kind != invoices.Simplified {
		d.CustomerID = &f.cust
	}
	if err := live.BeginFunc(context.Background(), f.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		inv, err := invoices.DraftAndIssue(ctx, tx, d,
			invoices.IssueInput{OrgID: f.Org.ID, UserID: &f.Rep.ID, Locale: "es", IssueDate: today.AddDate(0, 0, -1), Now: time.Now()})
		invoiceID = inv.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f.Env.Exec(`UPDATE tax_rates SET valid_to = $2 WHERE id = $1`, f.rate, today)
	if err := f.Env.DB.QueryRow(context.Background(), `INSERT INTO tax_rates (country, kind, rate, label, valid_from)
		SELECT country, kind, rate + 1, 'IVA nuevo', $2 FROM tax_rates WHERE id = $1 RETURNING id`, f.rate, today).Scan(&newer); err != nil {
		t.Fatal(err)
	}
	return invoiceID, newer
}

// offersRates checks that a lines form offers f.rate and not newer.
func (f *fixture) offersRates(t *testing.T, what string, page apptest.Response, newer int64) {
	t.Helper()
	old, now := strings.Contains(page.Body, fmt.Sprintf(`value="%d"`, f.rate)), strings.Contains(page.Body, fmt.Sprintf(`value="%d"`, newer))
	if page.Status != http.StatusOK || !old || now {
		t.Errorf("%s after a change of rates: %d; offers the earlier rate %t, the new one %t", what, page.Status, old, now)
	}
}

// The rectificativa's form offers the rates in force on the corrected
// invoice's devengo, which its lines restate: after a change of rates the
// ended one, not the one that replaced it.
func TestCorrectFormOffersTheCorrectedInvoicesRates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id, newer := f.beforeRateChange(t, invoices.Ordinary)
	f.offersRates(t, "the corrective form of yesterday's invoice", f.AccountantC.Get(fmt.Sprintf("/invoices/%d/correct", id)), newer)
}

// The same for an F3: its lines restate the ticket's sale, so the editor's
// lines step offers the rates of the ticket's devengo.
func TestCanjeEditorOffersTheTicketsRates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ticket, newer := f.beforeRateChange(t, invoices.Simplified)
	v := url.Values{"kind": {"replacement"}, "canje": {strconv.FormatInt(ticket, 10)}, "customer_id": {strconv.FormatInt(f.cust, 10)}}
	lineForm(v, "Material", "1", "29,90", f.rate)
	f.offersRates(t, "the lines step of yesterday's ticket's canje", f.RepC.Post("/invoices/new", v), newer)
}

package planbilling_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/plans"
	"pulso/app/plans/planbilling"
	"pulso/app/verifactu/ledger/ledgertest"
	"pulso/queries"
)

// world is an operator org (ES, EUR, 21 % IVA) that invoices the plans,
// and the 1st of this month (UTC), the day the pass charges.
type world struct {
	env      *apptest.Env
	operator queries.Org
	month    time.Time
	log      *slog.Logger
}

func setup(t *testing.T) *world {
	t.Helper()
	w := &world{env: apptest.New(t), month: plans.Month(time.Now().UTC())}
	w.operator = w.env.Org("Pulso Operaciones S.L.")
	ledgertest.Setup(t, w.env, w.operator)
	if err := w.env.Q.SetOrgOperator(context.Background(), w.operator.ID); err != nil {
		t.Fatal(err)
	}
	w.log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	return w
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// subscriber is an org with a valid CIF on plan code, frequency freq and
// currency, its term [start, end).
func (w *world) subscriber(t *testing.T, name, cif, code, freq, currency string, start, end time.Time) queries.Org {
	t.Helper()
	org := w.env.Org(name)
	w.env.Exec(`UPDATE orgs SET tax_id = $2 WHERE id = $1`, org.ID, cif)
	org.TaxID = cif
	w.env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end) VALUES ($1, $2, $3, $4, $5, $6)`,
		org.ID, w.plan(t, code).ID, freq, currency, start, end)
	return org
}

// monthly is a subscriber on a monthly term that rolled over on the 1st.
func (w *world) monthly(t *testing.T, name, cif, code string) queries.Org {
	return w.subscriber(t, name, cif, code, "monthly", "EUR", w.month, w.month.AddDate(0, 1, 0))
}

func (w *world) plan(t *testing.T, code string) queries.Plan {
	t.Helper()
	p, err := w.env.Q.GetPlanByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pass runs the month's charges as the subscriptions pass does.
func (w *world) pass(t *testing.T) int {
	t.Helper()
	n, err := planbilling.ChargeDue(context.Background(), w.env.DB, nil, w.log, w.month, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (w *world) charge(t *testing.T, org queries.Org) queries.SubscriptionCharge {
	t.Helper()
	var c queries.SubscriptionCharge
	err := w.env.DB.QueryRow(context.Background(), `SELECT org_id, month, kind, plan_id, amount, currency, operator_id, invoice_id, reason, created_at
		FROM subscription_charges WHERE org_id = $1`, org.ID).Scan(&c.OrgID, &c.Month, &c.Kind, &c.PlanID, &c.Amount, &c.Currency,
		&c.OperatorID, &c.InvoiceID, &c.Reason, &c.CreatedAt)
	if err != nil {
		t.Fatalf("charge of %s: %v", org.Name, err)
	}
	return c
}

// line is an invoice line as the test reads it.
type line struct {
	Description string
	Quantity    string
	UnitPrice   int64
	TaxRate     string
}

// invoice is the operator's invoice of the charge: it must be issued to
// the subscriber's billing customer.
func (w *world) invoice(t *testing.T, org queries.Org, c queries.SubscriptionCharge) (queries.Invoice, []line) {
	t.Helper()
	ctx := context.Background()
	if c.InvoiceID == nil || c.OperatorID == nil || *c.OperatorID != w.operator.ID {
		t.Fatalf("charge of %s has no operator invoice: %+v", org.Name, c)
	}
	inv, err := w.env.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: w.operator.ID, ID: *c.InvoiceID})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.env.Count(`SELECT count(*) FROM subscriptions s JOIN customers cu ON cu.org_id = $2 AND cu.id = s.billing_customer_id
		WHERE s.org_id = $1 AND cu.id = $3 AND cu.legal_name = $4 AND cu.tax_id = $5`, org.ID, w.operator.ID, *inv.CustomerID, org.Name, org.TaxID); n != 1 {
		t.Errorf("invoice %d is not made out to %s's billing customer", inv.ID, org.Name)
	}
	rows, err := w.env.DB.Query(ctx, `SELECT description, quantity::text, unit_price, tax_rate::text FROM invoice_lines
		WHERE org_id = $1 AND invoice_id = $2 ORDER BY position`, w.operator.ID, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowToStructByPos[line])
	if err != nil {
		t.Fatal(err)
	}
	return inv, lines
}

// tax21 is 21 % of net rounded half up, as a one-rate invoice computes it.
func tax21(net int64) int64 { return (net*21*2 + 100) / 200 }

func (w *world) operatorInvoices(t *testing.T) int {
	return w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1`, w.operator.ID)
}

// On the 1st every monthly subscriber gets one issued invoice of its plan's
// monthly price plus the operator's 21 % IVA; running the pass again
// charges nothing more.
func TestFirstOfMonthInvoicesEachMonthlySubscriberOnce(t *testing.T) {
	w := setup(t)
	sol := w.monthly(t, "Ferretería Sol S.L.", "B22222228", "inicial")
	luna := w.monthly(t, "Papelería Luna S.L.", "B33333337", "estandar")
	// Started after the 1st: its first charge is next month's.
	late := w.subscriber(t, "Recién Llegada S.L.", "B44444446", "inicial", "monthly", "EUR", w.month.AddDate(0, 0, 3), w.month.AddDate(0, 1, 0))

	if n := w.pass(t); n != 2 {
		t.Fatalf("charged %d subscribers, want 2", n)
	}
	for _, s := range []struct {
		org   queries.Org
		plan  string
		price int64
	}{{sol, "Inicial", 1900}, {luna, "Estándar", 4900}} {
		c := w.charge(t, s.org)
		if c.Kind != planbilling.KindMonthly || !c.Month.Time.Equal(w.month) || c.Amount != s.price || c.Currency != "EUR" || c.Reason != "" {
			t.Errorf("charge of %s: %+v", s.org.Name, c)
		}
		inv, lines := w.invoice(t, s.org, c)
		want := []line{{fmt.Sprintf("Plan %s · %s", s.plan, planbilling.MonthName(w.month)), "1", s.price, "21"}}
		if len(lines) != 1 || lines[0].Description != want[0].Description || lines[0].UnitPrice != s.price ||
			!strings.HasPrefix(lines[0].Quantity, "1") || !strings.HasPrefix(lines[0].TaxRate, "21") {
			t.Errorf("lines of %s: %+v, want %+v", s.org.Name, lines, want)
		}
		if inv.State != invoices.Issued || inv.Kind != "ordinary" || inv.Currency != "EUR" || inv.Base != s.price ||
			inv.Tax != tax21(s.price) || inv.Total != s.price+tax21(s.price) {
			t.Errorf("invoice of %s: state %s kind %s base %d tax %d total %d", s.org.Name, inv.State, inv.Kind, inv.Base, inv.Tax, inv.Total)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_charges WHERE org_id = $1`, late.ID); n != 0 {
		t.Errorf("a subscription started after the 1st was charged for the month")
	}

	if n := w.pass(t); n != 0 {
		t.Errorf("the second pass charged %d", n)
	}
	if n := w.operatorInvoices(t); n != 2 {
		t.Errorf("%d operator invoices after two passes, want 2", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM customers WHERE org_id = $1 AND notes LIKE 'Suscriptor de Pulso%'`, w.operator.ID); n != 2 {
		t.Errorf("%d billing customers, want 2", n)
	}
}

// Two passes at once (two workers) charge each month once.
func TestConcurrentPassesChargeOnce(t *testing.T) {
	w := setup(t)
	cifs := []string{"B22222228", "B33333337", "B44444446", "B55555551", "B66666660"}
	for i, cif := range cifs {
		w.monthly(t, fmt.Sprintf("Suscriptora %d S.L.", i), cif, "inicial")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	var errs []error
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := planbilling.ChargeDue(context.Background(), w.env.DB, nil, w.log, w.month, time.Now())
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if total != len(cifs) {
		t.Errorf("the passes charged %d in all, want %d", total, len(cifs))
	}
	if n := w.operatorInvoices(t); n != len(cifs) {
		t.Errorf("%d operator invoices, want %d", n, len(cifs))
	}
	if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND state = 'issued'`, w.operator.ID); n != len(cifs) {
		t.Errorf("%d issued, want %d", n, len(cifs))
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_charges WHERE invoice_id IS NOT NULL`); n != len(cifs) {
		t.Errorf("%d charges with their invoice, want %d", n, len(cifs))
	}
}

// A crash mid-charge (the transaction rolled back after the invoice was
// made) leaves nothing, and the next pass charges the month once.
func TestRolledBackChargeIsChargedAgain(t *testing.T) {
	w := setup(t)
	org := w.monthly(t, "Ferretería Sol S.L.", "B22222228", "inicial")
	crash := fmt.Errorf("crash")
	err := live.BeginFunc(context.Background(), w.env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, ok, err := planbilling.ChargeMonth(ctx, tx, planbilling.Monthly{OrgID: org.ID, Today: w.month, Now: time.Now(), Log: w.log})
		if err != nil || !ok {
			return fmt.Errorf("charge: %v %v", ok, err)
		}
		return crash
	})
	if err != crash {
		t.Fatal(err)
	}
	if n := w.operatorInvoices(t); n != 0 {
		t.Fatalf("%d operator invoices after the crash", n)
	}
	if n := w.pass(t); n != 1 {
		t.Fatalf("charged %d after the crash, want 1", n)
	}
	if inv, _ := w.invoice(t, org, w.charge(t, org)); inv.State != invoices.Issued {
		t.Errorf("invoice %s", inv.State)
	}
}

// The previous month's overage vouchers on an overage plan are a line at
// that plan's overage price per voucher.
func TestOverageOfThePreviousMonthIsALine(t *testing.T) {
	w := setup(t)
	org := w.monthly(t, "Tienda Grande S.L.", "B22222228", "pro")
	pro := w.plan(t, "pro")
	prev := w.month.AddDate(0, -1, 0)
	w.env.Exec(`INSERT INTO voucher_usage (org_id, month, physical, ecommerce, overage, overage_plan_id) VALUES ($1, $2, 3000, 2012, 12, $3)`,
		org.ID, prev, pro.ID)
	// Overage of this month is next month's line, not this one's.
	w.env.Exec(`INSERT INTO voucher_usage (org_id, month, physical, overage, overage_plan_id) VALUES ($1, $2, 5003, 3, $3)`, org.ID, w.month, pro.ID)

	if n := w.pass(t); n != 1 {
		t.Fatalf("charged %d", n)
	}
	c := w.charge(t, org)
	net := int64(9900 + 12*5)
	if c.Amount != net {
		t.Errorf("charge amount %d, want %d", c.Amount, net)
	}
	inv, lines := w.invoice(t, org, c)
	want := fmt.Sprintf("12 comprobantes por encima del plan PRO en %s", planbilling.MonthName(prev))
	if len(lines) != 2 || lines[0].UnitPrice != 9900 || lines[1].Description != want || lines[1].UnitPrice != 5 ||
		!strings.HasPrefix(lines[1].Quantity, "12") {
		t.Errorf("lines %+v, want the plan and %q at 5", lines, want)
	}
	if inv.Base != net || inv.Tax != tax21(net) || inv.Total != net+tax21(net) {
		t.Errorf("invoice base %d tax %d total %d, want %d + %d", inv.Base, inv.Tax, inv.Total, net, tax21(net))
	}
}

// A plan without overage last month has only its price.
func TestNoOverageNoLine(t *testing.T) {
	w := setup(t)
	org := w.monthly(t, "Tienda Justa S.L.", "B22222228", "pro")
	w.env.Exec(`INSERT INTO voucher_usage (org_id, month, physical) VALUES ($1, $2, 4999)`, org.ID, w.month.AddDate(0, -1, 0))
	w.pass(t)
	if _, lines := w.invoice(t, org, w.charge(t, org)); len(lines) != 1 {
		t.Errorf("lines %+v, want only the plan", lines)
	}
}

// A term paid up front (annual here) has no monthly invoice while it runs;
// once it ends on the 1st it renews monthly and that month is invoiced.
func TestAnnualTermIsNotChargedUntilItEnds(t *testing.T) {
	w := setup(t)
	org := w.subscriber(t, "Anual S.L.", "B22222228", "full", "annual", "EUR", w.month.AddDate(0, -5, 0), w.month.AddDate(0, 7, 0))
	if n := w.pass(t); n != 0 {
		t.Fatalf("charged %d during an annual term", n)
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_charges`); n != 0 {
		t.Fatalf("%d charges during an annual term", n)
	}
	// The term ends on this 1st, and the pass runs before the renewal.
	w.env.Exec(`UPDATE subscriptions SET term_start = $2, term_end = $3 WHERE org_id = $1`, org.ID, w.month.AddDate(-1, 0, 0), w.month)
	if n := w.pass(t); n != 1 {
		t.Fatalf("charged %d once the annual term ended, want 1", n)
	}
	s, err := w.env.Q.GetSubscription(context.Background(), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Frequency != "monthly" || !s.TermStart.Time.Equal(w.month) {
		t.Fatalf("subscription after the term: %+v", s)
	}
	// No use recorded: the renewal chooses the smallest plan, and the
	// month is invoiced at its price.
	p, _ := w.env.Q.GetPlan(context.Background(), s.PlanID)
	price := w.env.Count(`SELECT monthly FROM plan_prices WHERE plan_id = $1 AND currency = 'EUR'`, p.ID)
	c := w.charge(t, org)
	if c.PlanID != p.ID || c.Amount != int64(price) {
		t.Errorf("charge %+v, want plan %s at %d", c, p.Name, price)
	}
	if _, lines := w.invoice(t, org, c); len(lines) != 1 || lines[0].Description != fmt.Sprintf("Plan %s · %s", p.Name, planbilling.MonthName(w.month)) {
		t.Errorf("lines %+v", lines)
	}
}

// A downgrade scheduled for the 1st is the plan invoiced that month, even
// when the renewal has not run before the charge.
func TestDowngradeOnTheFirstIsInvoicedAtTheNewPrice(t *testing.T) {
	w := setup(t)
	org := w.subscriber(t, "Bajada S.L.", "B22222228", "estandar", "monthly", "EUR", w.month.AddDate(0, -1, 0), w.month)
	w.env.Exec(`UPDATE subscriptions SET pending_plan_id = $2, pending_from = $3 WHERE org_id = $1`, org.ID, w.plan(t, "inicial").ID, w.month)
	if n := w.pass(t); n != 1 {
		t.Fatalf("charged %d", n)
	}
	c := w.charge(t, org)
	if c.PlanID != w.plan(t, "inicial").ID || c.Amount != 1900 {
		t.Errorf("charge %+v, want Inicial at 1900", c)
	}
	inv, lines := w.invoice(t, org, c)
	if len(lines) != 1 || !strings.HasPrefix(lines[0].Description, "Plan Inicial ·") || inv.Total != 1900+tax21(1900) {
		t.Errorf("invoice total %d lines %+v", inv.Total, lines)
	}
	if n := w.env.Count(`SELECT count(*) FROM subscription_events WHERE org_id = $1 AND kind = 'downgraded'`, org.ID); n != 1 {
		t.Errorf("%d downgraded events, want 1", n)
	}
}

// With only the euro operator, a subscription in pesos has no one to
// invoice it: the charge is recorded with its amount and why, without an
// invoice.
func TestOtherCurrencyIsRecordedWithoutInvoice(t *testing.T) {
	w := setup(t)
	org := w.subscriber(t, "Tlapalería Sol S.A.", "B22222228", "inicial", "monthly", "MXN", w.month, w.month.AddDate(0, 1, 0))
	if n := w.pass(t); n != 1 {
		t.Fatalf("charged %d", n)
	}
	c := w.charge(t, org)
	if c.InvoiceID != nil || c.OperatorID != nil || c.Amount != 39900 || c.Currency != "MXN" ||
		!strings.Contains(c.Reason, "No hay organización operadora que facture los planes en MXN") {
		t.Errorf("charge %+v", c)
	}
	if n := w.operatorInvoices(t); n != 0 {
		t.Errorf("%d operator invoices", n)
	}
	if n := w.pass(t); n != 0 {
		t.Errorf("charged again: %d", n)
	}
}

// A subscriber the operator's invoice cannot be issued to (no tax id) has
// its charge kept with the draft, which waits for the operator; the pass
// does not retry it every minute.
func TestRefusedInvoiceLeavesTheDraft(t *testing.T) {
	w := setup(t)
	org := w.monthly(t, "Sin NIF S.L.", "", "inicial")
	if n := w.pass(t); n != 1 {
		t.Fatalf("charged %d", n)
	}
	c := w.charge(t, org)
	if c.InvoiceID == nil || !strings.HasPrefix(c.Reason, "La factura quedó en borrador") {
		t.Fatalf("charge %+v", c)
	}
	inv, err := w.env.Q.GetInvoice(context.Background(), queries.GetInvoiceParams{OrgID: w.operator.ID, ID: *c.InvoiceID})
	if err != nil || inv.State != invoices.Draft || inv.Total != 1900+tax21(1900) {
		t.Fatalf("draft %+v %v", inv, err)
	}
	if n := w.pass(t); n != 0 || w.operatorInvoices(t) != 1 {
		t.Errorf("the pass charged %d again", n)
	}
}

// Without an operator org nothing can be invoiced, but the month is
// recorded.
func TestNoOperatorRecordsTheCharge(t *testing.T) {
	w := setup(t)
	w.env.Exec(`UPDATE orgs SET operator = false WHERE id = $1`, w.operator.ID)
	org := w.monthly(t, "Ferretería Sol S.L.", "B22222228", "inicial")
	w.pass(t)
	if c := w.charge(t, org); c.InvoiceID != nil || c.Amount != 1900 || !strings.Contains(c.Reason, "No hay organización operadora") {
		t.Errorf("charge %+v", c)
	}
}

// An operator per currency: the peso subscription is invoiced by the
// Mexican operator, in pesos, and the euro one by the Spanish operator.
func TestEachCurrencyIsInvoicedByItsOperator(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	mx, err := w.env.Q.CreateOrg(ctx, queries.CreateOrgParams{Name: "Pulso México S.A. de C.V.", Country: "MX", Currency: "MXN",
		TimeZone: "America/Mexico_City", TaxID: "PSM120101AB0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.Q.SetOrgOperator(ctx, mx.ID); err != nil {
		t.Fatal(err)
	}
	peso := w.subscriber(t, "Tlapalería Sol S.A.", "B22222228", "inicial", "monthly", "MXN", w.month, w.month.AddDate(0, 1, 0))
	euro := w.monthly(t, "Ferretería Norte S.L.", "B33333336", "inicial")
	if n := w.pass(t); n != 2 {
		t.Fatalf("charged %d, want 2", n)
	}
	for org, want := range map[int64]queries.Org{peso.ID: mx, euro.ID: w.operator} {
		var c queries.SubscriptionCharge
		if err := w.env.DB.QueryRow(ctx, `SELECT operator_id, invoice_id, currency FROM subscription_charges WHERE org_id = $1`, org).
			Scan(&c.OperatorID, &c.InvoiceID, &c.Currency); err != nil {
			t.Fatal(err)
		}
		if c.OperatorID == nil || *c.OperatorID != want.ID || c.InvoiceID == nil {
			t.Fatalf("org %d's charge: operator %v invoice %v, want %s's invoice", org, c.OperatorID, c.InvoiceID, want.Name)
		}
		if n := w.env.Count(`SELECT count(*) FROM invoices WHERE org_id = $1 AND id = $2 AND currency = $3`, want.ID, *c.InvoiceID, c.Currency); n != 1 {
			t.Errorf("org %d's charge is not an invoice of %s in %s", org, want.Name, c.Currency)
		}
	}
}

// Two orgs of one company (the same tax id) are one customer of the
// operator, and both are invoiced.
func TestOneCompanyTwoOrgsIsOneCustomer(t *testing.T) {
	w := setup(t)
	a := w.monthly(t, "Ferretería Norte S.L.", "B33333336", "inicial")
	b := w.monthly(t, "Ferretería Norte S.L. (tienda)", "B33333336", "inicial")
	if n := w.pass(t); n != 2 {
		t.Fatalf("charged %d, want 2", n)
	}
	for _, org := range []queries.Org{a, b} {
		if c := w.charge(t, org); c.InvoiceID == nil {
			t.Errorf("%s not invoiced: %+v", org.Name, c)
		}
	}
	if n := w.env.Count(`SELECT count(*) FROM customers WHERE org_id = $1 AND tax_id = 'B33333336'`, w.operator.ID); n != 1 {
		t.Errorf("%d customers for one tax id", n)
	}
}

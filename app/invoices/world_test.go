package invoices_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/orders"
	"pulso/app/web"
	"pulso/queries"
)

// world is an org ready to invoice: its address set, a user, a customer
// with a tax id and billing address, and the country's rates by percent.
type world struct {
	env      *apptest.Env
	org      queries.Org
	user     queries.User
	customer int64
	rates    map[string]int64 // "21" → tax_rates.id
	now      time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.New(t)
	return worldIn(t, env, env.Org("Facturas Norte S.L."))
}

func worldIn(t *testing.T, env *apptest.Env, org queries.Org) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{env: env, org: org, rates: map[string]int64{}, now: time.Now()}
	env.Exec(`UPDATE orgs SET tax_id = CASE country WHEN 'ES' THEN 'B12345674' ELSE tax_id END, address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID)
	w.user = env.User(org, fmt.Sprintf("admin@org%d.test", org.ID), web.RoleAdmin)
	w.customer = w.newCustomer(t, "Ferretería Ebro S.L.", "B87654321", nil)
	rows, err := env.DB.Query(ctx, `SELECT rate::text, id FROM tax_rates WHERE country = $1 AND kind = 'iva'`, org.Country)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var id int64
		if err := rows.Scan(&r, &id); err != nil {
			t.Fatal(err)
		}
		w.rates[decimal.RequireFromString(r).String()] = id // "10.00" → "10", "5.50" → "5.5"
	}
	return w
}

// newCustomer creates a customer; extra sets tax columns (regime, cause, IRPF).
func (w *world) newCustomer(t *testing.T, name, taxID string, extra func(*queries.CreateCustomerParams)) int64 {
	t.Helper()
	ctx := context.Background()
	owner := w.user.ID
	p := queries.CreateCustomerParams{OrgID: w.org.ID, LegalName: name, Country: w.org.Country, OwnerID: &owner, Tags: []string{}, TaxID: taxID}
	if extra != nil {
		extra(&p)
	}
	cu, err := w.env.Q.CreateCustomer(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.Q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{OrgID: w.org.ID, CustomerID: cu.ID, Kind: "billing",
		Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: w.org.Country}); err != nil {
		t.Fatal(err)
	}
	return cu.ID
}

func (w *world) tx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	return live.BeginFunc(context.Background(), w.env.DB, fn)
}

// line is a hand line: quantity, unit price in cents, IVA percent.
func (w *world) line(desc, qty string, price int64, rate string) invoices.LineInput {
	id, ok := w.rates[rate]
	if !ok {
		panic("no rate " + rate)
	}
	return invoices.LineInput{Description: desc, Unit: "ud", Quantity: decimal.RequireFromString(qty), UnitPrice: price, TaxRateID: id}
}

func (w *world) draft(t *testing.T, in invoices.DraftInput) queries.Invoice {
	t.Helper()
	in.OrgID, in.By, in.Now = w.org.ID, &w.user.ID, w.now
	if in.Kind == "" {
		in.Kind = invoices.Ordinary
	}
	if in.CustomerID == nil && in.Kind != invoices.Simplified && in.CorrectiveType != "R5" {
		in.CustomerID = &w.customer
	}
	var inv queries.Invoice
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.CreateDraft(ctx, tx, in)
		return err
	}); err != nil {
		t.Fatalf("draft: %v", err)
	}
	return inv
}

func (w *world) issue(id int64, date time.Time) (queries.Invoice, error) {
	var inv queries.Invoice
	err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.org.ID, InvoiceID: id, UserID: &w.user.ID, Locale: "es",
			IssueDate: date, Now: w.now})
		return err
	})
	return inv, err
}

// lines is an invoice's lines as the forms copy them into a new draft.
func (w *world) lines(t *testing.T, id int64) []invoices.LineInput {
	t.Helper()
	rows, err := w.env.Q.ListInvoiceLines(context.Background(), queries.ListInvoiceLinesParams{OrgID: w.org.ID, InvoiceID: id})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]invoices.LineInput, len(rows))
	for i, r := range rows {
		out[i] = invoices.LineInput{Description: r.Description, Unit: r.Unit, Quantity: money.Decimal(r.Quantity), UnitPrice: r.UnitPrice,
			DiscountPct: money.Decimal(r.DiscountPct), TaxRateID: r.TaxRateID}
	}
	return out
}

func (w *world) mustIssue(t *testing.T, id int64, date time.Time) queries.Invoice {
	t.Helper()
	inv, err := w.issue(id, date)
	if err != nil {
		t.Fatalf("issue %d: %v", id, err)
	}
	return inv
}

// problem is the field message an error carries for field ("" when none).
func problem(err error, field string) string {
	var bad invoices.Invalid
	if errors.As(err, &bad) {
		return bad[field].ID
	}
	return ""
}

// pdfString is s as the PDF's content stream writes it: Windows-1252,
// with ( ) and \ escaped.
func pdfString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '€':
			b.WriteByte(0x80)
		case r == '–':
			b.WriteByte(0x96)
		case r == '—':
			b.WriteByte(0x97)
		case r < 256:
			b.WriteByte(byte(r))
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func pdfHas(t *testing.T, pdf []byte, want ...string) {
	t.Helper()
	text := apptest.PDFText(t, pdf)
	for _, s := range want {
		if !strings.Contains(text, pdfString(s)) {
			t.Errorf("PDF lacks %q", s)
		}
	}
}

func pgDate(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }

func today() time.Time {
	n := time.Now().In(madrid)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

var madrid, _ = time.LoadLocation("Europe/Madrid")

// signedQuote is apptest's signed quote of two lines (5 × 2,00 € and
// 2 h × 30,00 € at 21 %) for the customer.
func (w *world) signedQuote(t *testing.T, customer int64) int64 {
	t.Helper()
	return w.env.SignedQuote(t, w.org, w.user, customer)
}

// order turns a signed quote into its order.
func (w *world) order(t *testing.T, customer int64) queries.Order {
	t.Helper()
	qid := w.signedQuote(t, customer)
	var o queries.Order
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		o, err = orders.FromQuote(ctx, tx, w.org.ID, qid, &w.user.ID, time.Now(), madrid)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return o
}

// deliver writes a delivery note of the order: position → quantity.
func (w *world) deliver(t *testing.T, orderID int64, on time.Time, qty map[int32]string) int64 {
	t.Helper()
	var id int64
	n := w.env.Count(`SELECT count(*) FROM delivery_notes WHERE org_id = $1`, w.org.ID) + 1
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		note, err := q.CreateDeliveryNote(ctx, queries.CreateDeliveryNoteParams{OrgID: w.org.ID, Number: fmt.Sprintf("ALB-T-%04d", n), OrderID: orderID,
			DeliveredOn: pgDate(on), CreatedBy: &w.user.ID})
		if err != nil {
			return err
		}
		id = note.ID
		for pos, s := range qty {
			if err := q.InsertDeliveryNoteLine(ctx, queries.InsertDeliveryNoteLineParams{OrgID: w.org.ID, DeliveryNoteID: note.ID,
				OrderID: orderID, OrderPosition: pos, Quantity: numeric(s)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func numeric(s string) pgtype.Numeric {
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		panic(err)
	}
	return n
}

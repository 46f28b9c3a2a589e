// Package ledgertest writes real VERI*FACTU chains for the tests of the
// ledger, its pages and `pulso verifactu verify`: invoices issued and
// voided through app/invoices, so the records are exactly what issuing
// stores. It also tampers with a stored record the way only someone with
// direct database access could.
package ledgertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

// NIF is the org's NIF Setup gives it (a valid CIF).
const NIF = "B12345674"

// Biller is an org ready to issue Spanish invoices.
type Biller struct {
	Env      *apptest.Env
	Org      queries.Org
	User     queries.User
	Customer int64
	Rate     int64 // the 21 % IVA rate
}

// Setup gives org a NIF and address, an admin who issues and a customer.
func Setup(t testing.TB, env *apptest.Env, org queries.Org) *Biller {
	t.Helper()
	ctx := context.Background()
	env.Exec(`UPDATE orgs SET tax_id = $2, address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID, NIF)
	b := &Biller{Env: env, Org: org}
	b.User = env.User(org, fmt.Sprintf("biller@org%d.test", org.ID), web.RoleAdmin)
	owner := b.User.ID
	cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: org.ID, LegalName: "Ferretería Ebro S.L.", Country: "ES", OwnerID: &owner, Tags: []string{}, TaxID: "B87654321"})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{OrgID: org.ID, CustomerID: cu.ID, Kind: "billing",
		Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: "ES"}); err != nil {
		t.Fatal(err)
	}
	b.Customer = cu.ID
	b.Rate = int64(env.Count(`SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21 AND valid_to IS NULL`))
	return b
}

// Issue issues n ordinary invoices of 100 € + IVA dated today; each writes
// its RegistroAlta.
func (b *Biller) Issue(t testing.TB, n int) []queries.Invoice {
	t.Helper()
	var out []queries.Invoice
	for range n {
		inv, err := b.TryIssue()
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		out = append(out, inv)
	}
	return out
}

// TryIssue is Issue of one invoice for a goroutine other than the test's,
// which may not call t.Fatal.
func (b *Biller) TryIssue() (queries.Invoice, error) {
	var inv queries.Invoice
	err := live.BeginFunc(context.Background(), b.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		now := time.Now()
		var err error
		inv, err = invoices.DraftAndIssue(ctx, tx, invoices.DraftInput{OrgID: b.Org.ID, Kind: invoices.Ordinary, CustomerID: &b.Customer, By: &b.User.ID, Now: now,
			Lines: []invoices.LineInput{{Description: "Servicio de montaje", Unit: "ud", Quantity: decimal.NewFromInt(1), UnitPrice: 10000, TaxRateID: b.Rate}}},
			invoices.IssueInput{OrgID: b.Org.ID, UserID: &b.User.ID, Locale: "es", Now: now})
		return err
	})
	return inv, err
}

// Void voids inv, which writes its RegistroAnulacion.
func (b *Biller) Void(t testing.TB, inv queries.Invoice) {
	t.Helper()
	err := live.BeginFunc(context.Background(), b.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: b.Org.ID, InvoiceID: inv.ID, UserID: &b.User.ID, Reason: "Emitida por error", Now: time.Now()})
		return err
	})
	if err != nil {
		t.Fatalf("void: %v", err)
	}
}

// Tamper runs sql (with args) against verifactu_records with the frozen
// trigger off, in one transaction that turns it back on. The trigger stops
// every UPDATE or DELETE Pulso (or anyone with plain write rights) sends;
// the chain check exists for what gets past it — someone holding the
// table owner's rights, who can switch the trigger off as this does, or a
// restore from a doctored dump — so a test of the check has to go around
// the trigger the same way. ALTER TABLE … DISABLE TRIGGER needs the table's
// owner or a superuser: in tests the role that ran the migrations owns
// the tables. (In production `pulso migrate` runs as the owner too, which
// is why the records are also sent to the AEAT and checked by hash.)
func Tamper(t testing.TB, env *apptest.Env, sql string, args ...any) {
	t.Helper()
	err := pgx.BeginFunc(context.Background(), env.DB, func(tx pgx.Tx) error {
		ctx := context.Background()
		if _, err := tx.Exec(ctx, `ALTER TABLE verifactu_records DISABLE TRIGGER verifactu_records_frozen`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("tamper changed nothing: %s", sql)
		}
		_, err = tx.Exec(ctx, `ALTER TABLE verifactu_records ENABLE TRIGGER verifactu_records_frozen`)
		return err
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

package invoicesweb_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/invoices"
	"pulso/app/live"
)

// The admin keeps the org's fiscal data: a bad tax id, a missing or
// too long address and an activity that is not one of art. 4.2's each get
// their message next to the field and change nothing; a good form is
// stored canonical, and the activity lets a simplified invoice reach
// 3,000 €. Nobody else may open the page.
func TestFiscalDetails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	page := f.AdminC.Get("/admin/fiscal")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `value="B12345674"`) || !strings.Contains(page.Body, "Calle Mayor 1, 28013 Madrid") ||
		!strings.Contains(page.Body, es("invoices.fiscal.activity.h", nil)) {
		t.Fatalf("fiscal page: %d\n%.2000s", page.Status, page.Body)
	}
	for _, who := range []struct {
		name string
		get  func() int
		post func() int
	}{
		{"rep", func() int { return f.RepC.Get("/admin/fiscal").Status }, func() int {
			return f.RepC.Post("/admin/fiscal", url.Values{"tax_id": {"B87654321"}, "address": {"x"}}).Status
		}},
		{"accountant", func() int { return f.AccountantC.Get("/admin/fiscal").Status }, func() int {
			return f.AccountantC.Post("/admin/fiscal", url.Values{"tax_id": {"B87654321"}, "address": {"x"}}).Status
		}},
	} {
		if s := who.get(); s != http.StatusForbidden {
			t.Errorf("%s opens the fiscal page: %d", who.name, s)
		}
		if s := who.post(); s != http.StatusForbidden {
			t.Errorf("%s saves the fiscal data: %d", who.name, s)
		}
	}
	for _, c := range []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"a NIF with a wrong letter", url.Values{"tax_id": {"B12345675"}, "address": {"Calle Mayor 1"}}, "tax_id", ""},
		{"no tax id", url.Values{"tax_id": {""}, "address": {"Calle Mayor 1"}}, "tax_id", "validation.required"},
		{"no address", url.Values{"tax_id": {"B12345674"}, "address": {"  "}}, "address", "validation.required"},
		{"a long address", url.Values{"tax_id": {"B12345674"}, "address": {strings.Repeat("a", 301)}}, "address", "validation.too_long"},
		{"a control character", url.Values{"tax_id": {"B12345674"}, "address": {"Calle\x00 Mayor"}}, "address", "validation.bad_chars"},
		{"an activity of no list", url.Values{"tax_id": {"B12345674"}, "address": {"Calle Mayor 1"}, "activity": {"z"}}, "activity", "validation.choice"},
	} {
		r := f.AdminC.Post("/admin/fiscal", c.form)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="e-`+c.field+`"`) ||
			(c.msg != "" && !strings.Contains(r.Body, es(c.msg, nil))) {
			t.Errorf("%s: %d\n%.1500s", c.name, r.Status, r.Body)
		}
	}
	if n := f.Env.Count(`SELECT count(*) FROM orgs WHERE id = $1 AND tax_id = 'B12345674' AND address = 'Calle Mayor 1, 28013 Madrid' AND simplified_activity = ''`, f.Org.ID); n != 1 {
		t.Fatal("a refused form changed the org")
	}

	// A simplified invoice of 1,210 € (VAT included) is over the 400 € limit.
	draft := func() int64 {
		var d int64
		if err := live.BeginFunc(context.Background(), f.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
			inv, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: f.Org.ID, Kind: invoices.Simplified, By: &f.Rep.ID, Now: time.Now(),
				Lines: []invoices.LineInput{{Description: "Corte y peinado", Quantity: decimal.NewFromInt(1), UnitPrice: 100000, TaxRateID: f.rate}}})
			d = inv.ID
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	issue := func(id int64) error {
		return live.BeginFunc(context.Background(), f.Env.DB, func(ctx context.Context, tx pgx.Tx) error {
			_, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: f.Org.ID, InvoiceID: id, UserID: &f.Rep.ID, Locale: "es", Now: time.Now()})
			return err
		})
	}
	var over invoices.Invalid
	if err := issue(draft()); !errors.As(err, &over) || over["total"].ID != "invoices.simplified_over_limit" {
		t.Fatalf("a 1,210 € simplified invoice without an art. 4.2 activity: %v", err)
	}
	r := f.AdminC.Post("/admin/fiscal", url.Values{"tax_id": {"b-1234567-4"}, "address": {"Calle Peluqueros 3, 28004 Madrid"}, "activity": {"h"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/fiscal?saved=1" {
		t.Fatalf("save: %d %.1000s", r.Status, r.Body)
	}
	if n := f.Env.Count(`SELECT count(*) FROM orgs WHERE id = $1 AND tax_id = 'B12345674' AND address = 'Calle Peluqueros 3, 28004 Madrid' AND simplified_activity = 'h'`, f.Org.ID); n != 1 {
		t.Fatal("the fiscal data were not stored canonical")
	}
	if !strings.Contains(f.AdminC.Get("/admin/fiscal?saved=1").Body, `data-testid="fiscal-saved"`) {
		t.Error("no word that it was saved")
	}
	if err := issue(draft()); err != nil {
		t.Errorf("with activity h, a 1,210 € simplified invoice: %v", err)
	}
}

package catalog_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/web"
)

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
}

var productURL = regexp.MustCompile(`^/catalog/(\d+)$`)

func TestCatalogProductsAndGroups(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Catálogo S.L.")
	admin := env.LoginAs(env.User(org, "admin@cat.test", web.RoleAdmin))
	rep := env.LoginAs(env.User(org, "rep@cat.test", web.RoleRep))
	ctx := context.Background()

	// Groups: one level of nesting only.
	for _, g := range []url.Values{{"name": {"Vinos"}}, {"name": {"Aceites"}}} {
		if r := admin.Post("/catalog/groups", g); r.Status != http.StatusSeeOther {
			t.Fatalf("group: %d", r.Status)
		}
	}
	var vinos int64
	_ = env.DB.QueryRow(ctx, `SELECT id FROM article_groups WHERE name = 'Vinos'`).Scan(&vinos)
	if r := admin.Post("/catalog/groups", url.Values{"name": {"Tintos"}, "parent_id": {fmt.Sprint(vinos)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("subgroup: %d", r.Status)
	}
	var tintos int64
	_ = env.DB.QueryRow(ctx, `SELECT id FROM article_groups WHERE name = 'Tintos'`).Scan(&tintos)
	if r := admin.Post("/catalog/groups", url.Values{"name": {"Crianza"}, "parent_id": {fmt.Sprint(tintos)}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "un nivel") {
		t.Fatalf("a third level: %d", r.Status)
	}
	if r := admin.Post("/catalog/groups", url.Values{"name": {"Vinos"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate group: %d", r.Status)
	}
	if r := rep.Post("/catalog/groups", url.Values{"name": {"De un comercial"}}); r.Status != http.StatusForbidden {
		t.Fatalf("rep adding a group: %d", r.Status)
	}

	var iva21, iva10, mx16 int64
	_ = env.DB.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&iva21)
	_ = env.DB.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 10`).Scan(&iva10)
	_ = env.DB.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'MX' AND kind = 'iva' AND rate = 16`).Scan(&mx16)
	form := admin.Get("/catalog/new").Body
	contains(t, form, "IVA general 21 %", "IVA reducido 10 %", "Vinos › Tintos")
	if strings.Contains(form, "IVA 16 %") {
		t.Error("a Spanish org is offered a Mexican rate")
	}
	// Bad input, field by field.
	r := admin.Post("/catalog", url.Values{"code": {"con espacios"}, "name": {""}, "unit": {"barril"}, "price": {"0"},
		"tax_rate_id": {fmt.Sprint(mx16)}, "group_id": {"999999"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad product: %d", r.Status)
	}
	for _, f := range []string{"code", "name", "unit", "price", "tax_rate_id", "group_id"} {
		if !strings.Contains(r.Body, `id="e-`+f+`"`) {
			t.Errorf("no message next to %s", f)
		}
	}
	if r := admin.Post("/catalog", url.Values{"code": {"X"}, "name": {"Y"}, "unit": {"ud"}, "price": {"-3"}, "tax_rate_id": {fmt.Sprint(iva21)}}); !strings.Contains(r.Body, `id="e-price"`) {
		t.Error("a negative price is accepted")
	}
	create := func(code, name, price string, rate, group int64) string {
		t.Helper()
		form := url.Values{"code": {code}, "name": {name}, "unit": {"ud"}, "price": {price},
			"tax_rate_id": {fmt.Sprint(rate)}, "active": {"1"}, "description": {"Botella de 75 cl"}}
		if group != 0 {
			form.Set("group_id", fmt.Sprint(group))
		}
		r := admin.Post("/catalog", form)
		m := productURL.FindStringSubmatch(r.Header.Get("Location"))
		if r.Status != http.StatusSeeOther || m == nil {
			t.Fatalf("create %s: %d %.300s", code, r.Status, r.Body)
		}
		return m[1]
	}
	rioja := create("VT-001", "Rioja crianza", "8,95", iva21, tintos)
	create("AC-001", "Aceite de oliva virgen extra", "12,50", iva10, 0)
	if r := admin.Post("/catalog", url.Values{"code": {"VT-001"}, "name": {"Otro"}, "unit": {"ud"}, "price": {"1"}, "tax_rate_id": {fmt.Sprint(iva21)}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Ese código ya lo usa") {
		t.Fatalf("duplicate code: %d", r.Status)
	}
	if n := env.Count(`SELECT count(*) FROM products WHERE code = 'VT-001' AND price = 895`); n != 1 {
		t.Fatal("price not stored exactly")
	}
	// The list: search, and a group filter that includes its subgroups.
	list := rep.Get("/catalog?q=rioja").Body
	contains(t, list, "Rioja crianza", "8,95\u00a0€", "IVA 21 %", "Tintos")
	if strings.Contains(list, "Aceite de oliva") {
		t.Error("search")
	}
	if b := rep.Get(fmt.Sprintf("/catalog?group=%d", vinos)).Body; !strings.Contains(b, "Rioja crianza") || strings.Contains(b, "Aceite de oliva") {
		t.Error("group filter with subgroups")
	}
	if strings.Contains(rep.Get("/catalog").Body, `data-testid="new-product"`) {
		t.Error("a rep is offered to create products")
	}
	// Edit with the version loaded; a stale save is refused.
	edit := url.Values{"code": {"VT-001"}, "name": {"Rioja crianza 2021"}, "unit": {"ud"}, "price": {"9,50"}, "tax_rate_id": {fmt.Sprint(iva21)}, "version": {"1"}, "active": {"1"}}
	if r := admin.Post("/catalog/"+rioja, edit); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %.300s", r.Status, r.Body)
	}
	edit.Del("_csrf")
	if r := admin.Post("/catalog/"+rioja, edit); r.Status != http.StatusConflict {
		t.Fatalf("stale edit: %d", r.Status)
	}
	if r := rep.Post("/catalog/"+rioja, edit); r.Status != http.StatusForbidden {
		t.Fatalf("rep editing: %d", r.Status)
	}
	if r := rep.Get("/catalog/999999"); r.Status != http.StatusNotFound {
		t.Fatalf("unknown product: %d", r.Status)
	}
}

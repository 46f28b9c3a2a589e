package customers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"pulso/app/apptest"
	"pulso/queries"
)

func newLead(t *testing.T, w *world, owner queries.User, p queries.CreateLeadParams) queries.Lead {
	t.Helper()
	p.OrgID, p.OwnerID, p.CreatedBy = w.Org.ID, &owner.ID, &owner.ID
	if p.Country == "" {
		p.Country = "ES"
	}
	if p.Source == "" {
		p.Source = "manual"
	}
	if p.Status == "" {
		p.Status = "nuevo"
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	l, err := w.Env.Q.CreateLead(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConvertLeadWithOpportunity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	l := newLead(t, w, w.Rep, queries.CreateLeadParams{Name: "Bodegas Ebro", ContactName: "Marta Romero", Email: "marta@ebro.example",
		Phone: "+34600111222", TaxID: "B12345674", Province: "Zaragoza", City: "Zaragoza", Tags: []string{"feria"}, Notes: "Vino de la feria"})
	path := fmt.Sprintf("/leads/%d/convert", l.ID)

	show := w.RepC.Get(fmt.Sprintf("/leads/%d", l.ID))
	contains(t, show.Body, `href="`+path+`"`, "Convertir en cliente")
	form := w.RepC.Get(path)
	if form.Status != http.StatusOK || !strings.Contains(form.Body, `data-testid="convert-form"`) {
		t.Fatalf("form: %d", form.Status)
	}
	if r := w.RepC.Post(path, url.Values{"with_opportunity": {"1"}, "title": {""}, "amount": {"12,345"}}); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, `id="e-title"`) || !strings.Contains(r.Body, `id="e-amount"`) {
		t.Fatalf("bad conversion: %d", r.Status)
	}
	r := w.RepC.Post(path, url.Values{"with_opportunity": {"1"}, "title": {"Vinos para la tienda"}, "amount": {"1.234,56"}})
	m := customerURL.FindStringSubmatch(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("convert: %d %s %.300s", r.Status, r.Header.Get("Location"), r.Body)
	}
	id := m[1]
	var legal, taxID, email string
	var owner int64
	var tags []string
	ctx := context.Background()
	if err := w.Env.DB.QueryRow(ctx, `SELECT legal_name, tax_id, email, owner_id, tags FROM customers WHERE id = $1`, id).Scan(&legal, &taxID, &email, &owner, &tags); err != nil {
		t.Fatal(err)
	}
	if legal != "Bodegas Ebro" || taxID != "B12345674" || email != "marta@ebro.example" || owner != w.Rep.ID || strings.Join(tags, ",") != "feria" {
		t.Errorf("customer %q %q %q %d %v", legal, taxID, email, owner, tags)
	}
	var status string
	var custID, oppID int64
	if err := w.Env.DB.QueryRow(ctx, `SELECT status, customer_id, opportunity_id FROM leads WHERE id = $1`, l.ID).Scan(&status, &custID, &oppID); err != nil {
		t.Fatal(err)
	}
	var stage string
	var amount, source int64
	if err := w.Env.DB.QueryRow(ctx, `SELECT stage, amount, source_lead_id FROM opportunities WHERE id = $1`, oppID).Scan(&stage, &amount, &source); err != nil {
		t.Fatal(err)
	}
	if status != "convertido" || fmt.Sprint(custID) != id || stage != "en_analisis" || amount != 123456 || source != l.ID {
		t.Errorf("lead %s → %d/%d; opportunity %s %d from %d", status, custID, oppID, stage, amount, source)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customer_contacts WHERE customer_id = $1 AND name = 'Marta Romero' AND is_primary`, id); n != 1 {
		t.Error("lead's contact person is not the customer's primary contact")
	}
	if n := w.Env.Count(`SELECT count(*) FROM customer_addresses WHERE customer_id = $1 AND kind = 'billing' AND city = 'Zaragoza'`, id); n != 1 {
		t.Error("lead's place is not the billing address")
	}
	var kinds string
	if err := w.Env.DB.QueryRow(ctx, `SELECT string_agg(kind, ',' ORDER BY id) FROM activities WHERE actor_id = $1`, w.Rep.ID).Scan(&kinds); err != nil {
		t.Fatal(err)
	}
	if kinds != "created,opportunity_created,converted" {
		t.Errorf("activities %s", kinds)
	}
	if n := w.Env.Count(`SELECT count(*) FROM live_events WHERE (topic, entity_id, kind) IN (('lead', $1, 'converted'), ('customer', $2, 'created'))`, l.ID, custID); n != 2 {
		t.Errorf("%d live events", n)
	}
	// The 360 shows the opportunity with its money and the timeline.
	opp := w.RepC.Get("/customers/" + id + "?tab=opportunities")
	contains(t, opp.Body, "Vinos para la tienda", "En análisis", "1.234,56\u00a0€")
	act := w.RepC.Get("/customers/" + id + "?tab=activity")
	contains(t, act.Body, "Convertido en cliente", "Oportunidad abierta", "Vinos para la tienda", "User rep@clientes.test")
	leadPage := w.RepC.Get(fmt.Sprintf("/leads/%d", l.ID))
	contains(t, leadPage.Body, `href="/customers/`+id+`"`, "Convertido en cliente")
	if strings.Contains(leadPage.Body, `href="`+path+`"`) {
		t.Error("a converted lead still offers conversion")
	}

	// Twice: refused, with a link to the customer; nothing new.
	again := w.RepC.Post(path, url.Values{"with_opportunity": {"1"}, "title": {"Otra"}})
	if again.Status != http.StatusConflict || !strings.Contains(again.Body, "ya se convirtió") || !strings.Contains(again.Body, `href="/customers/`+id+`"`) {
		t.Errorf("second conversion: %d %.300s", again.Status, again.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customers`); n != 1 {
		t.Errorf("%d customers", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities`); n != 1 {
		t.Errorf("%d opportunities", n)
	}
	// Another rep cannot convert (or see) it.
	if r := w.Rep2C.Post(path, url.Values{}); r.Status != http.StatusNotFound {
		t.Errorf("rep2: %d", r.Status)
	}
}

func TestConvertWithoutOpportunityAttachesToSameTaxID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.RepC, customer(map[string]string{"legal_name": "Panadería Sol S.L.", "tax_id": "B12345674"}))
	l := newLead(t, w, w.Rep, queries.CreateLeadParams{Name: "Panadería Sol (feria)", TaxID: "B12345674"})
	path := fmt.Sprintf("/leads/%d/convert", l.ID)
	form := w.RepC.Get(path)
	contains(t, form.Body, `data-testid="convert-existing"`, "Panadería Sol S.L.")
	r := w.RepC.Post(path, url.Values{})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/customers/"+id {
		t.Fatalf("convert: %d %s", r.Status, r.Header.Get("Location"))
	}
	if n := w.Env.Count(`SELECT count(*) FROM customers`); n != 1 {
		t.Errorf("%d customers", n)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE id = $1 AND customer_id = $2 AND opportunity_id IS NULL AND status = 'convertido'`, l.ID, id); n != 1 {
		t.Error("lead not attached")
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities`); n != 0 {
		t.Error("opportunity created without being asked")
	}
}

func TestDiscardedLeadCannotBeConverted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	l := newLead(t, w, w.Rep, queries.CreateLeadParams{Name: "Sin presupuesto", Status: "descartado", DiscardReason: "No hay dinero"})
	path := fmt.Sprintf("/leads/%d/convert", l.ID)
	if page := w.RepC.Get(fmt.Sprintf("/leads/%d", l.ID)); strings.Contains(page.Body, `data-testid="convert"`) {
		t.Error("a discarded lead offers conversion")
	}
	if f := w.RepC.Get(path); !strings.Contains(f.Body, "Un potencial descartado no se puede convertir") || strings.Contains(f.Body, "convert-submit") {
		t.Errorf("form for a discarded lead: %.300s", f.Body)
	}
	r := w.RepC.Post(path, url.Values{"with_opportunity": {"1"}, "title": {"X"}})
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "Un potencial descartado no se puede convertir") {
		t.Errorf("post: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM customers`); n != 0 {
		t.Errorf("%d customers", n)
	}
}

// postAtOnce sends one POST per client at the same moment and returns the
// statuses. Tokens are read first: each client is one browser.
func postAtOnce(clients []*apptest.Client, paths []string, form url.Values) []int {
	statuses := make([]int, len(clients))
	forms := make([]url.Values, len(clients))
	for i, c := range clients {
		forms[i] = url.Values{"_csrf": {c.CSRF()}}
		for k, v := range form {
			forms[i][k] = v
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = c.PostRaw(paths[i], forms[i]).Status
		}()
	}
	close(start)
	wg.Wait()
	return statuses
}

// Two conversions of one lead at the same moment make one customer: the
// lead row lock queues the second, which finds the lead converted.
func TestConcurrentConversionsMakeOneCustomer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for round := 0; round < 5; round++ {
		l := newLead(t, w, w.Rep, queries.CreateLeadParams{Name: fmt.Sprintf("Carrera %d", round)})
		path := fmt.Sprintf("/leads/%d/convert", l.ID)
		statuses := postAtOnce([]*apptest.Client{w.RepC, w.ManagerC}, []string{path, path}, url.Values{"with_opportunity": {"1"}, "title": {"Oportunidad"}})
		ok, refused := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				ok++
			case http.StatusConflict:
				refused++
			}
		}
		if ok != 1 || refused != 1 {
			t.Errorf("round %d: statuses %v", round, statuses)
		}
		if n := w.Env.Count(`SELECT count(*) FROM customers WHERE legal_name = $1`, l.Name); n != 1 {
			t.Errorf("round %d: %d customers", round, n)
		}
		if n := w.Env.Count(`SELECT count(*) FROM opportunities WHERE source_lead_id = $1`, l.ID); n != 1 {
			t.Errorf("round %d: %d opportunities", round, n)
		}
	}
}

// Two different leads with the same tax id converted at once: one customer,
// both leads attached to it (the loser of the unique index retries).
func TestConcurrentSameTaxIDMakeOneCustomer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for round, tax := range []string{"B12345674", "12345678Z", "X1234567L"} {
		a := newLead(t, w, w.Rep, queries.CreateLeadParams{Name: "Gemelo A", TaxID: tax})
		b := newLead(t, w, w.Rep, queries.CreateLeadParams{Name: "Gemelo B", TaxID: tax})
		statuses := postAtOnce([]*apptest.Client{w.RepC, w.ManagerC},
			[]string{fmt.Sprintf("/leads/%d/convert", a.ID), fmt.Sprintf("/leads/%d/convert", b.ID)}, url.Values{})
		if statuses[0] != http.StatusSeeOther || statuses[1] != http.StatusSeeOther {
			t.Errorf("round %d: statuses %v", round, statuses)
		}
		if n := w.Env.Count(`SELECT count(*) FROM customers WHERE tax_id = $1`, tax); n != 1 {
			t.Errorf("round %d: %d customers", round, n)
		}
		if n := w.Env.Count(`SELECT count(DISTINCT customer_id) FROM leads WHERE tax_id = $1 AND status = 'convertido'`, tax); n != 1 {
			t.Errorf("round %d: leads point at %d customers", round, n)
		}
	}
}

// A lead whose tax id is already a customer the converter may not see
// (another rep's) is not attached to it: the conversion is refused with
// the reason and whose customer it is, and nothing changes. Someone who
// sees both (an admin) converts it onto that customer.
func TestConvertRefusesAnotherRepsCustomer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := mustCreate(t, w.Rep2C, customer(map[string]string{"legal_name": "Panadería Ajena S.L.", "tax_id": "B12345674"}))
	l := newLead(t, w, w.Rep, queries.CreateLeadParams{Name: "Panadería (feria)", TaxID: "B12345674"})
	path := fmt.Sprintf("/leads/%d/convert", l.ID)
	form := w.RepC.Get(path)
	contains(t, form.Body, `data-testid="convert-refused"`, "User rep2@clientes.test")
	if strings.Contains(form.Body, `data-testid="convert-submit"`) {
		t.Error("the form offers a conversion that will be refused")
	}
	// The rep, and their manager (Rep2 is not on the team), are refused.
	for _, c := range []*apptest.Client{w.RepC, w.ManagerC} {
		r := c.Post(path, url.Values{"with_opportunity": {"1"}, "title": {"Pan"}})
		if r.Status != http.StatusConflict || !strings.Contains(r.Body, "User rep2@clientes.test") || !strings.Contains(r.Body, `data-testid="convert-refused"`) {
			t.Errorf("conversion onto another rep's customer: %d %.300s", r.Status, r.Body)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads WHERE id = $1 AND status = 'nuevo' AND customer_id IS NULL`, l.ID); n != 1 {
		t.Error("the lead changed")
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities`) + w.Env.Count(`SELECT count(*) FROM activities WHERE kind = 'converted'`); n != 0 {
		t.Errorf("%d opportunities or conversions recorded", n)
	}
	// The admin sees both and may attach it.
	if r := w.AdminC.Post(path, url.Values{}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/customers/"+id {
		t.Fatalf("admin's conversion: %d %s", r.Status, r.Header.Get("Location"))
	}
}

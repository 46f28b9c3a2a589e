package orders_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/apptest"
	"pulso/app/web"
	"pulso/queries"
)

// signedQuote is apptest's signed quote of two lines (5 and 2 units) for a
// new customer of rep's.
func signedQuote(t *testing.T, env *apptest.Env, org queries.Org, rep queries.User) int64 {
	t.Helper()
	owner := rep.ID
	cu, err := env.Q.CreateCustomer(context.Background(), queries.CreateCustomerParams{OrgID: org.ID, LegalName: "Obras Norte S.L.", Country: "ES", OwnerID: &owner, Tags: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return env.SignedQuote(t, org, rep, cu.ID)
}

func TestOrderAndPartialDeliveries(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Pedidos S.L.")
	repU := env.User(org, "rep@pedidos.test", web.RoleRep)
	rep := env.LoginAs(repU)
	other := env.LoginAs(env.User(org, "otro@pedidos.test", web.RoleRep))
	qid := signedQuote(t, env, org, repU)

	r := rep.Post(fmt.Sprintf("/quotes/%d/order", qid), url.Values{})
	var oid int64
	if _, err := fmt.Sscanf(r.Header.Get("Location"), "/orders/%d", &oid); err != nil {
		t.Fatalf("create order: %d %v", r.Status, r.Header)
	}
	// Twice: the same order.
	rep.Post(fmt.Sprintf("/quotes/%d/order", qid), url.Values{})
	if n := env.Count(`SELECT count(*) FROM orders WHERE quote_id = $1`, qid); n != 1 {
		t.Fatalf("%d orders for one quote", n)
	}
	if n := env.Count(`SELECT count(*) FROM orders o WHERE o.id = $1 AND o.number = $2 AND o.total = 8470`, oid, fmt.Sprintf("PED-%d-0001", time.Now().Year())); n != 1 {
		t.Fatal("order number or total wrong") // (10 + 60) × 1,21 = 84,70
	}
	if n := env.Count(`SELECT count(*) FROM order_lines WHERE order_id = $1`, oid); n != 2 {
		t.Fatal("order lines not copied")
	}
	if r := other.Get(fmt.Sprintf("/orders/%d", oid)); r.Status != http.StatusNotFound {
		t.Errorf("another rep sees the order: %d", r.Status)
	}

	deliver := func(f url.Values) int {
		f.Set("delivered_on", time.Now().Format("2006-01-02"))
		return rep.Post(fmt.Sprintf("/orders/%d/deliveries", oid), f).Status
	}
	// Partial: 3 of 5 bricks.
	if s := deliver(url.Values{"qty_1": {"3"}, "qty_2": {""}}); s != http.StatusSeeOther {
		t.Fatalf("partial delivery: %d", s)
	}
	// More than pending, negative, nothing: refused next to the field.
	for name, f := range map[string]url.Values{"too many": {"qty_1": {"3"}}, "negative": {"qty_1": {"-1"}}, "nothing": {"qty_1": {""}, "qty_2": {"0"}}} {
		if s := deliver(f); s != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, s)
		}
	}
	// The rest.
	if s := deliver(url.Values{"qty_1": {"2"}, "qty_2": {"2"}}); s != http.StatusSeeOther {
		t.Fatalf("second delivery: %d", s)
	}
	if n := env.Count(`SELECT count(*) FROM delivery_notes WHERE order_id = $1`, oid); n != 2 {
		t.Fatalf("%d delivery notes", n)
	}
	// The database refuses over-delivery whatever the code does.
	var note int64
	_ = env.DB.QueryRow(context.Background(), `SELECT min(id) FROM delivery_notes WHERE order_id = $1`, oid).Scan(&note)
	if _, err := env.DB.Exec(context.Background(), `INSERT INTO delivery_note_lines (org_id, delivery_note_id, order_id, order_position, quantity)
		VALUES ($1, $2, $3, 2, 1)`, org.ID, note, oid); err == nil {
		t.Fatal("the database let a line be delivered beyond its order")
	}
	page := rep.Get(fmt.Sprintf("/orders/%d", oid))
	if !strings.Contains(page.Body, fmt.Sprintf("ALB-%d-0002", time.Now().Year())) {
		t.Error("second delivery note not listed")
	}
	for _, path := range []string{fmt.Sprintf("/orders/%d/pdf", oid), fmt.Sprintf("/delivery-notes/%d/pdf", note)} {
		if r := rep.Get(path); r.Status != 200 || !strings.HasPrefix(r.Body, "%PDF-") {
			t.Errorf("%s: %d", path, r.Status)
		}
		if r := other.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("another rep gets %s: %d", path, r.Status)
		}
	}
	if r := rep.Get("/orders"); !strings.Contains(r.Body, "Entregado") {
		t.Error("the list does not show the order delivered")
	}
}

func pgDate(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }

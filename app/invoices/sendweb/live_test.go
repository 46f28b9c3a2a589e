package sendweb_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/invoices/sends"
	"pulso/queries"
)

// readUntil reads a socket until a message contains marker, and returns
// everything it read.
func readUntil(t *testing.T, conn *websocket.Conn, who, marker string) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var all strings.Builder
	for !strings.Contains(all.String(), marker) {
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("%s's socket before %q: %v\n%s", who, marker, err, all.String())
		}
		all.Write(b)
	}
	return all.String()
}

// A send and an open reach the owner rep's and their manager's screens as
// a toast naming the invoice, with the stamp that refreshes open invoice
// fragments; an admin gets the refresh without the toast, another rep
// nothing.
func TestLiveToastsForOwnerAndManager(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	addr := w.Env.Serve()
	rep, _, err := w.RepC.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	mgr, _, err := w.ManagerC.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	adm, _, err := w.AdminC.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	other, _, err := w.Rep2C.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	number := *w.inv.FullNumber
	var s queries.InvoiceSend
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		s, err = w.sender().SendNow(ctx, tx, w.Org.ID, w.inv.ID, &w.Rep.ID, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	stamp := `data-invoice="` + strconv.FormatInt(w.inv.ID, 10) + `" data-customer="` + strconv.FormatInt(w.customer, 10) + `"`
	for _, c := range []struct {
		who  string
		conn *websocket.Conn
	}{{"rep", rep}, {"manager", mgr}} {
		msg := readUntil(t, c.conn, c.who, "Factura "+number+" enviada")
		if !strings.Contains(msg, `id="invoices-live"`) || !strings.Contains(msg, stamp) || !strings.Contains(msg, `data-testid="toast"`) ||
			!strings.Contains(msg, "Ferretería Ebro S.L.") || !strings.Contains(msg, "/invoices/"+strconv.FormatInt(w.inv.ID, 10)) {
			t.Errorf("%s's socket: %s", c.who, msg)
		}
	}
	if msg := readUntil(t, adm, "admin", stamp); strings.Contains(msg, "toast") {
		t.Errorf("admin got a toast: %s", msg)
	}

	// The customer opens the link: "abierta".
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := sends.RecordOpen(ctx, tx, queries.FindInvoiceLinkRow{OrgID: w.Org.ID, ID: s.ID, InvoiceID: w.inv.ID}, sends.Client{UserAgent: "Móvil"}, time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, mgr, "manager", "Factura "+number+" abierta")

	_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		_, b, err := other.ReadMessage()
		if err != nil {
			break // nothing for another rep
		}
		if strings.Contains(string(b), "invoices-live") {
			t.Fatal("another rep's socket got the invoice")
		}
	}
}

// The customer's page knows an invoice event is theirs: its sales tab
// reloads itself on the customer's own event (pulso.js turns the stamp's
// data-customer into it) and then lists the invoice just issued.
func TestCustomerSalesTabFollowsItsInvoices(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.RepC.HTMX = true
	tab := "/customers/" + strconv.FormatInt(w.customer, 10) + "?tab=sales"
	r := w.RepC.Get(tab)
	if r.Status != 200 {
		t.Fatalf("sales tab: %d", r.Status)
	}
	trigger := `hx-trigger="pulso:customer-invoices-` + strconv.FormatInt(w.customer, 10) + ` from:body delay:200ms, pulso:resync from:body"`
	if !strings.Contains(r.Body, trigger) || !strings.Contains(r.Body, `hx-get="`+strings.ReplaceAll(tab, "&", "&amp;")+`"`) {
		t.Fatalf("the sales tab does not follow its customer's invoices:\n%.1200s", r.Body)
	}
	js, err := os.ReadFile("../../../static/js/pulso.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"pulso:customer-invoices-" + el.dataset.customer`) {
		t.Fatal("pulso.js does not dispatch the customer's invoice event")
	}
	// Another summary tab does not reload on invoices.
	if r := w.RepC.Get("/customers/" + strconv.FormatInt(w.customer, 10)); strings.Contains(r.Body, "pulso:customer-invoices-") {
		t.Error("the summary tab reloads on invoices")
	}
	// The reload shows an invoice issued since.
	inv := w.issue(t, w.newDraft(t, invoices.Ordinary).ID)
	if r := w.RepC.Get(tab); !strings.Contains(r.Body, *inv.FullNumber) {
		t.Errorf("the reloaded tab lacks %s", *inv.FullNumber)
	}
}

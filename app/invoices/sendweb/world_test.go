package sendweb_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/invoices/sends"
	"pulso/app/live"
	"pulso/queries"
)

// world is an ES org ready to send invoices: the apptest World's people,
// a customer of Rep's with an e-mail address, one issued invoice of theirs
// and one draft.
type world struct {
	*apptest.World
	customer int64
	inv      queries.Invoice
	draft    queries.Invoice
}

const customerEmail = "compras@ebro.test"

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{World: apptest.NewWorld(t, "Envíos Norte S.L.", "envios.test")}
	env := w.Env
	env.Exec(`UPDATE orgs SET tax_id = 'B12345674', address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, w.Org.ID)
	cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: "Ferretería Ebro S.L.", Country: "ES",
		OwnerID: &w.Rep.ID, Tags: []string{}, TaxID: "B87654321", Email: customerEmail})
	if err != nil {
		t.Fatal(err)
	}
	w.customer = cu.ID
	if err := env.Q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{OrgID: w.Org.ID, CustomerID: cu.ID, Kind: "billing",
		Street: "Av. Goya 10", PostalCode: "50006", City: "Zaragoza", Province: "Zaragoza", Country: "ES"}); err != nil {
		t.Fatal(err)
	}
	w.draft = w.newDraft(t, invoices.Ordinary)
	w.inv = w.issue(t, w.newDraft(t, invoices.Ordinary).ID)
	return w
}

func (w *world) newDraft(t *testing.T, kind invoices.Kind) queries.Invoice {
	t.Helper()
	var rate int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&rate); err != nil {
		t.Fatal(err)
	}
	var d queries.Invoice
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		d, err = invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: w.Org.ID, Kind: kind, CustomerID: &w.customer, By: &w.Rep.ID, Now: time.Now(),
			Lines: []invoices.LineInput{{Description: "Taladro percutor", Unit: "ud", Quantity: decimal.NewFromInt(2), UnitPrice: 5000, TaxRateID: rate}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

func (w *world) issue(t *testing.T, id int64) queries.Invoice {
	t.Helper()
	var inv queries.Invoice
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		inv, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: w.Org.ID, InvoiceID: id, UserID: &w.Rep.ID, Locale: "es", Now: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return inv
}

func (w *world) tx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	return live.BeginFunc(context.Background(), w.Env.DB, fn)
}

func (w *world) sender() sends.Sender {
	return sends.Sender{Jobs: w.Env.Deps.Jobs, Links: w.Env.Deps.Cfg.LinkKeys(), BaseURL: w.Env.Deps.Cfg.BaseURL.String()}
}

func (w *world) path(inv queries.Invoice, rest string) string {
	return "/invoices/" + strconv.FormatInt(inv.ID, 10) + "/sends" + rest
}

// form posts a sends action as c, the way the fragment's forms do.
func form(c *apptest.Client, path string, kv ...string) apptest.Response {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return c.Post(path, v)
}

func (w *world) send(t *testing.T, id int64) queries.InvoiceSend {
	t.Helper()
	s, err := w.Env.Q.GetInvoiceSend(context.Background(), queries.GetInvoiceSendParams{OrgID: w.Org.ID, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// lastSend is the invoice's newest send.
func (w *world) lastSend(t *testing.T, inv queries.Invoice) queries.InvoiceSend {
	t.Helper()
	var id int64
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT max(id) FROM invoice_sends WHERE org_id = $1 AND invoice_id = $2`, w.Org.ID, inv.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return w.send(t, id)
}

// events counts the invoice's live events of kind.
func (w *world) events(inv queries.Invoice, kind string) int {
	return w.Env.Count(`SELECT count(*) FROM live_events WHERE org_id = $1 AND topic = 'invoice' AND entity_id = $2 AND kind = $3`, w.Org.ID, inv.ID, kind)
}

var linkRE = regexp.MustCompile(`/i/([A-Za-z0-9_-]{22})\b`)

func sendsInput(w *world, to string) sends.Input {
	return sends.Input{OrgID: w.Org.ID, InvoiceID: w.inv.ID, To: to, By: &w.Rep.ID, Now: time.Now()}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

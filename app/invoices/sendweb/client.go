package sendweb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/invoices/sends"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views"
	"pulso/views/i18n"
	view "pulso/views/invoicesends"
)

// The customer's pages: no session, no Pulso chrome. Everything is reached
// through the token, whose send row names the org and the invoice; nothing
// else of the org is loaded.
var clientPage = web.Page{Title: "invoices.client.title", Fragment: "client-invoice"}

// link resolves the token; a wrong one is the app's ordinary 404.
func (h *Handler) link(c *fiber.Ctx) (queries.FindInvoiceLinkRow, error) {
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("Referrer-Policy", "no-referrer") // the token must not leak to other sites
	c.Set("X-Robots-Tag", "noindex")
	l, err := sends.Resolve(c.UserContext(), h.Q, c.Params("token"))
	if errors.Is(err, pgx.ErrNoRows) {
		return l, web.ErrNotFound
	}
	return l, err
}

// ClientView is GET /i/:token: the invoice as issued, and its PDF. Every
// visit is recorded (once an hour per address).
func (h *Handler) ClientView(c *fiber.Ctx) error {
	l, err := h.link(c)
	if err != nil {
		return err
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := sends.RecordOpen(ctx, tx, l, sends.Client{IP: web.ClientIP(c), UserAgent: c.Get(fiber.HeaderUserAgent)}, time.Now())
		return err
	})
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	inv, err := h.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: l.OrgID, ID: l.InvoiceID})
	if err != nil {
		return err
	}
	var pt invoices.Parties
	if err := json.Unmarshal(inv.Parties, &pt); err != nil {
		return err
	}
	lines, err := h.Q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: l.OrgID, InvoiceID: l.InvoiceID})
	if err != nil {
		return err
	}
	f := func(n int64) string { return money.Format(n, inv.Currency) }
	cv := view.ClientPage{Token: c.Params("token"), Number: sends.Number(inv, web.Locale(c)), IssueDate: inv.IssueDate.Time.Format("02/01/2006"),
		Seller: pt.Issuer.Name, SellerTaxID: pt.Issuer.TaxID, Base: f(inv.Base), Tax: f(inv.Tax), Surcharge: f(inv.Surcharge),
		Withheld: f(inv.Withheld), Total: f(inv.Total), HasSurcharge: inv.Surcharge != 0, HasWithheld: inv.Withheld != 0,
		Proforma: inv.Kind == string(invoices.Proforma), Voided: inv.State == invoices.Voided}
	if pt.Customer != nil {
		cv.Buyer, cv.BuyerTaxID = pt.Customer.Name, pt.Customer.TaxID
	}
	for _, ln := range lines {
		cv.Lines = append(cv.Lines, view.Line{Description: ln.Description, Unit: ln.Unit,
			Quantity: money.Number(money.Decimal(ln.Quantity), inv.Currency), Amount: f(ln.Amount)})
	}
	return web.Render(c, fiber.StatusOK, clientPage, view.Client(cv))
}

// ClientPDF is GET /i/:token/pdf: the PDF as issued.
func (h *Handler) ClientPDF(c *fiber.Ctx) error {
	l, err := h.link(c)
	if err != nil {
		return err
	}
	pdf, name, err := invoices.PDF(c.UserContext(), h.Q, l.OrgID, l.InvoiceID)
	if err != nil {
		return err
	}
	return web.SendPDF(c, pdf, name)
}

// toasts are the invoice events worth a toast, by kind; the others only
// refresh what is open.
var toasts = map[string]string{
	invoices.EventSent: "invoices.live.sent", invoices.EventOpened: "invoices.live.opened", invoices.EventIssued: "invoices.live.issued",
	invoices.EventPaid: "invoices.live.paid", invoices.EventVoided: "invoices.live.voided", invoices.EventScheduled: "invoices.live.scheduled",
}

// RegisterLive renders invoice events (invoices.Announce) for the audience
// the event's subject reaches (the customer's owner, their managers, and
// the roles that see every invoice): a stamp that makes open invoice pages,
// lists and the customer's page reload their fragments (#invoices-live,
// static/js/pulso.js),
// and for the owner and managers a toast naming the invoice and what
// happened. Admins and accountants see every invoice; a toast for each
// would drown them, so they get the refresh only.
func RegisterLive(h *hub.Hub, q *queries.Queries) {
	h.Handle(live.TopicInvoice, hub.Topic{Owned: true, Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.EntityID == nil {
			return nil, nil
		}
		var buf bytes.Buffer
		var about struct {
			CustomerID int64 `json:"customer_id"`
		}
		_ = json.Unmarshal(ev.Payload, &about)
		fmt.Fprintf(&buf, `<span id="invoices-live" hidden hx-swap-oob="true" data-stamp="%d" data-invoice="%d" data-customer="%d"></span>`, ev.ID, *ev.EntityID, about.CustomerID)
		title, ok := toasts[ev.Kind]
		if !ok || (aud.Role != web.RoleRep && aud.Role != web.RoleManager) {
			return buf.Bytes(), nil
		}
		inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: ev.OrgID, ID: *ev.EntityID})
		if err != nil {
			return nil, err
		}
		customer := ""
		var pt invoices.Parties
		if json.Unmarshal(inv.Parties, &pt) == nil && pt.Customer != nil {
			customer = pt.Customer.Name
		}
		rctx := hub.RenderContext(ctx, aud)
		t := i18n.Tf(rctx, title, map[string]any{"Number": sends.Number(inv, aud.Locale)})
		if err := views.Toast("info", t, customer, fmt.Sprintf("/invoices/%d", inv.ID)).Render(rctx, &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}})
}

// Package ordersweb serves the pages of orders and delivery notes; the
// rules (an order from a signed quote, a delivery) are package orders'.
package ordersweb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/orders"
	"pulso/app/web"
	"pulso/queries"
	ordersview "pulso/views/orders"
)

// Handler serves /orders and /delivery-notes.
type Handler struct{ web.Deps }

// New builds the order handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var (
	listPage = web.Page{Title: "orders.title", Nav: "orders"}
	showPage = web.Page{Title: "orders.title", Nav: "orders"}
)

// Create is the quote page's "create order" button.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	qt, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetQuoteRow, error) {
		return h.Q.GetQuote(ctx, queries.GetQuoteParams{OrgID: org, ID: id})
	}, func(qt queries.GetQuoteRow) *int64 { return &qt.OwnerID })
	if err != nil {
		return err
	}
	id, ctx := qt.ID, c.UserContext()
	var o queries.Order
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		o, err = orders.FromQuote(ctx, tx, p.OrgID, id, &p.UserID, time.Now(), p.Location())
		return err
	})
	if errors.Is(err, orders.ErrNotSigned) {
		web.Flash(c, "error", "orders.not_signed")
		return web.Redirect(c, fmt.Sprintf("/quotes/%d", id))
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/orders/%d", o.ID))
}

func (h *Handler) load(c *fiber.Ctx) (queries.GetOrderRow, error) {
	o, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetOrderRow, error) {
		return h.Q.GetOrder(ctx, queries.GetOrderParams{OrgID: org, ID: id})
	}, func(o queries.GetOrderRow) *int64 { return &o.OwnerID })
	return o, err
}

// List is /orders, newest first, within the viewer's scope.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	params := queries.ListOrdersParams{OrgID: p.OrgID, OwnerScope: sc, PageSize: 51}
	if b, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && b > 0 {
		params.BeforeID = &b
	}
	rows, err := h.Q.ListOrders(ctx, params)
	if err != nil {
		return err
	}
	var v ordersview.ListPage
	for i, r := range rows {
		if i == 50 {
			v.MoreURL = "/orders?before=" + itoa(rows[49].ID)
			break
		}
		ordered, delivered := money.Decimal(r.Ordered), money.Decimal(r.Delivered)
		state := "pending"
		switch {
		case delivered.GreaterThanOrEqual(ordered):
			state = "delivered"
		case delivered.IsPositive():
			state = "partial"
		}
		v.Rows = append(v.Rows, ordersview.Row{ID: r.ID, Number: r.Number, Customer: r.CustomerName, State: state,
			Total: money.Format(r.Total, r.Currency), Date: r.CreatedAt.In(p.Location()).Format("02/01/2006")})
	}
	return web.Render(c, fiber.StatusOK, listPage, ordersview.List(v))
}

// Show is an order: its lines with what is delivered and pending, its
// delivery notes, and the form for the next delivery.
func (h *Handler) Show(c *fiber.Ctx) error {
	o, err := h.load(c)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, o, nil, nil)
}

func (h *Handler) render(c *fiber.Ctx, status int, o queries.GetOrderRow, values map[int32]string, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	lines, err := h.Q.ListOrderLines(ctx, queries.ListOrderLinesParams{OrgID: p.OrgID, OrderID: o.ID})
	if err != nil {
		return err
	}
	notes, err := h.Q.ListDeliveryNotes(ctx, queries.ListDeliveryNotesParams{OrgID: p.OrgID, OrderID: o.ID})
	if err != nil {
		return err
	}
	v := ordersview.ShowPage{ID: o.ID, Number: o.Number, Customer: o.CustomerName, QuoteID: o.QuoteID, Quote: deref(o.QuoteNumber),
		Total: money.Format(o.Total, o.Currency), Errors: errs, Today: time.Now().In(p.Location()).Format("2006-01-02")}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for _, l := range lines {
		qty, del := money.Decimal(l.Quantity), money.Decimal(l.Delivered)
		pending := qty.Sub(del)
		lv := ordersview.Line{Position: l.Position, Description: l.Description, Unit: l.Unit, Quantity: money.Number(qty, o.Currency),
			Delivered: money.Number(del, o.Currency), Pending: money.Number(pending, o.Currency), Amount: money.Format(l.Amount, o.Currency), Open: pending.IsPositive()}
		lv.Input = lv.Pending
		if values != nil {
			lv.Input = values[l.Position]
		}
		if lv.Open && p.Role.In(web.Sales) {
			v.CanDeliver = true
		}
		v.Lines = append(v.Lines, lv)
	}
	for _, n := range notes {
		v.Notes = append(v.Notes, ordersview.Note{ID: n.ID, Number: n.Number, Date: n.DeliveredOn.Time.Format("02/01/2006")})
	}
	// Invoicing (app/invoices decides; the page offers what applies).
	invs, err := h.Q.ListOrderInvoices(ctx, queries.ListOrderInvoicesParams{OrgID: p.OrgID, OrderID: &o.ID})
	if err != nil {
		return err
	}
	v.CanInvoiceAll = true
	for _, inv := range invs {
		v.Invoices = append(v.Invoices, ordersview.Invoice{ID: inv.ID, Number: deref(inv.FullNumber), State: inv.State,
			Total: money.Format(inv.Total, inv.Currency)})
		if inv.State != "voided" {
			v.CanInvoiceAll = false
		}
	}
	open, err := h.Q.ListOrderUninvoicedNotes(ctx, queries.ListOrderUninvoicedNotesParams{OrgID: p.OrgID, OrderID: o.ID})
	if err != nil {
		return err
	}
	for _, n := range open {
		v.OpenNotes = append(v.OpenNotes, ordersview.Note{ID: n.ID, Number: n.Number, Date: n.DeliveredOn.Time.Format("02/01/2006")})
	}
	return web.Render(c, status, showPage, ordersview.Show(v))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Deliver writes a delivery note with the quantities typed per line (empty
// or zero: not in this delivery). More than pending is refused next to the
// line; the database refuses it too, under a lock, for two notes at once.
func (h *Handler) Deliver(c *fiber.Ctx) error {
	o, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	lines, err := h.Q.ListOrderLines(ctx, queries.ListOrderLinesParams{OrgID: p.OrgID, OrderID: o.ID})
	if err != nil {
		return err
	}
	values := map[int32]string{}
	errs := map[string]string{}
	var takes []orders.Take
	for _, l := range lines {
		raw := strings.TrimSpace(c.FormValue(fmt.Sprintf("qty_%d", l.Position)))
		values[l.Position] = raw
		if raw == "" || raw == "0" {
			continue
		}
		qty, ok := money.ParseDecimal(raw)
		pending := money.Decimal(l.Quantity).Sub(money.Decimal(l.Delivered))
		switch {
		case !ok || !qty.IsPositive():
			errs[fmt.Sprintf("qty_%d", l.Position)] = "quotes.quantity_invalid"
		case qty.GreaterThan(pending):
			errs[fmt.Sprintf("qty_%d", l.Position)] = "orders.more_than_pending"
		default:
			takes = append(takes, orders.Take{Position: l.Position, Quantity: qty})
		}
	}
	day, derr := time.Parse("2006-01-02", c.FormValue("delivered_on"))
	if derr != nil {
		errs["delivered_on"] = "validation.date"
	}
	notes := strings.TrimSpace(c.FormValue("notes"))
	if len(notes) > 2000 {
		errs["notes"] = "validation.text"
	}
	if len(errs) == 0 && len(takes) == 0 {
		errs["lines"] = "orders.nothing_to_deliver"
	}
	if len(errs) > 0 {
		return h.render(c, fiber.StatusUnprocessableEntity, o, values, errs)
	}
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := orders.Deliver(ctx, tx, orders.DeliverInput{OrgID: p.OrgID, OrderID: o.ID, Day: day, Notes: notes, Takes: takes, By: &p.UserID})
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23514" {
		// Someone delivered the same lines a moment ago.
		return h.render(c, fiber.StatusConflict, o, values, map[string]string{"lines": "orders.more_than_pending"})
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "orders.delivered_flash")
	return web.Redirect(c, fmt.Sprintf("/orders/%d", o.ID))
}

// Package invoicesweb serves the invoices pages: the list, the by-hand
// editor, an invoice's page and what can be done to it (issue, delete a
// draft, void, correct, turn a proforma into an invoice, record a payment),
// and invoicing an order or its delivery notes. The rules live in
// app/invoices; handlers parse forms, call it inside live.BeginFunc and put
// its field messages back next to their fields.
package invoicesweb

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	invoicesview "pulso/views/invoices"
)

// Handler serves /invoices.
type Handler struct{ web.Deps }

// New builds the invoice handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var (
	listPage   = web.Page{Title: "invoices.title", Nav: "invoices", Fragment: "invoices-results"}
	showPage   = web.Page{Title: "invoices.title", Nav: "invoices"}
	editorPage = web.Page{Title: "invoices.title", Nav: "invoices", Fragment: "invoice-editor"}
)

// load finds the invoice the route's :id names, if the principal may see
// it (see loadID).
func (h *Handler) load(c *fiber.Ctx) (queries.Invoice, error) {
	id, err := web.ID(c)
	if err != nil {
		return queries.Invoice{}, err
	}
	return h.loadID(c, id)
}

// loadID finds an invoice the principal may see: one of a customer they
// own (their team's as a manager), or one they drafted that has no owner
// to go to; everything as an admin or accountant. Anything else is 404.
func (h *Handler) loadID(c *fiber.Ctx, id int64) (queries.Invoice, error) {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	inv, err := h.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: p.OrgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return inv, web.ErrNotFound
	}
	if err != nil {
		return inv, err
	}
	owner, err := h.Q.InvoiceOwner(ctx, queries.InvoiceOwnerParams{OrgID: p.OrgID, ID: id})
	if err != nil {
		return inv, err
	}
	who := owner.CustomerOwner
	if who == nil {
		who = owner.CreatedBy
	}
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return inv, err
	}
	if !web.InScope(sc, who) {
		return queries.Invoice{}, web.ErrNotFound
	}
	return inv, nil
}

// billing reports whether the viewer may void and correct invoices.
func billing(p *web.Principal) bool { return p.Role.In(web.Billing) }

// fieldErrors turns the domain's Invalid into the view's messages.
func fieldErrors(bad invoices.Invalid) invoicesview.Errors {
	out := invoicesview.Errors{}
	for f, p := range bad {
		out[f] = invoicesview.Msg{ID: p.ID, Params: p.Params}
	}
	return out
}

// asInvalid is err's field messages when it is invoices.Invalid.
func asInvalid(err error) (invoicesview.Errors, bool) {
	var bad invoices.Invalid
	if errors.As(err, &bad) {
		return fieldErrors(bad), true
	}
	return nil, false
}

// stateFlash answers an action that does not apply to the invoice's state
// (someone issued, voided or deleted it meanwhile) with a message on its
// page, and reports whether err was one.
func stateFlash(c *fiber.Ctx, id int64, err error) (bool, error) {
	var key string
	switch {
	case errors.Is(err, invoices.ErrNotDraft):
		key = "invoices.not_draft"
	case errors.Is(err, invoices.ErrNotIssued):
		key = "invoices.not_issued"
	case errors.Is(err, invoices.ErrAlreadyInvoiced):
		key = "invoices.already_invoiced"
	default:
		return false, nil
	}
	web.Flash(c, "error", key)
	return true, web.Redirect(c, "/invoices/"+itoa(id))
}

// formLines reads lines posted as parallel arrays.
func formLines(c *fiber.Ctx) []invoicesview.LineForm {
	args := c.Request().PostArgs()
	col := func(name string) []string {
		var out []string
		for _, b := range args.PeekMulti(name) {
			out = append(out, string(b))
		}
		return out
	}
	pid, desc, unit, qty, price, disc, rate := col("product_id"), col("description"), col("unit"), col("quantity"), col("unit_price"), col("discount"), col("tax_rate_id")
	at := func(s []string, i int) string {
		if i < len(s) {
			return s[i]
		}
		return ""
	}
	var out []invoicesview.LineForm
	for i := range desc {
		out = append(out, invoicesview.LineForm{ProductID: at(pid, i), Description: at(desc, i), Unit: at(unit, i), Quantity: at(qty, i),
			UnitPrice: at(price, i), Discount: at(disc, i), TaxRateID: at(rate, i)})
	}
	return out
}

// parseLines turns typed lines into the domain's input. What cannot even be
// read (a quantity that is not a number) is a field message here; whether
// a readable value is allowed is the domain's call. signed allows negative
// quantities (a corrective by difference).
func parseLines(p *web.Principal, in []invoicesview.LineForm, signed bool, errs invoicesview.Errors) []invoices.LineInput {
	var out []invoices.LineInput
	for i, l := range in {
		key := "lines." + strconv.Itoa(i) + "."
		li := invoices.LineInput{Description: l.Description, Unit: l.Unit}
		if s := strings.TrimSpace(l.ProductID); s != "" {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
				li.ProductID = &id
			} else {
				errs[key+"description"] = invoicesview.Msg{ID: "quotes.product_gone"}
			}
		}
		qty, ok := money.ParseDecimal(l.Quantity)
		if !ok || qty.IsZero() || (qty.IsNegative() && !signed) {
			errs[key+"quantity"] = invoicesview.Msg{ID: "quotes.quantity_invalid"}
		}
		li.Quantity = qty
		price, err := money.ParseAmount(l.UnitPrice, p.OrgCountry)
		if err != nil || price <= 0 {
			errs[key+"unit_price"] = invoicesview.Msg{ID: "quotes.price_invalid"}
		}
		li.UnitPrice = price
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l.Discount), "%")); s != "" {
			d, ok := money.ParseDecimal(s)
			if !ok {
				errs[key+"discount"] = invoicesview.Msg{ID: "quotes.discount_invalid"}
			}
			li.DiscountPct = d
		}
		li.TaxRateID, _ = strconv.ParseInt(strings.TrimSpace(l.TaxRateID), 10, 64)
		out = append(out, li)
	}
	return out
}

// lineForms shows stored lines as the editor's inputs.
func lineForms(p *web.Principal, rows []queries.InvoiceLine) []invoicesview.LineForm {
	var out []invoicesview.LineForm
	for _, l := range rows {
		f := invoicesview.LineForm{Description: l.Description, Unit: l.Unit, Quantity: money.Number(money.Decimal(l.Quantity), p.Currency),
			UnitPrice: money.Input(l.UnitPrice, p.OrgCountry), TaxRateID: itoa(l.TaxRateID)}
		if l.ProductID != nil {
			f.ProductID = itoa(*l.ProductID)
		}
		if d := money.Decimal(l.DiscountPct); !d.IsZero() {
			f.Discount = money.Number(d, p.Currency)
		}
		out = append(out, f)
	}
	return out
}

// reviewLines shows stored lines as printed.
func reviewLines(rows []queries.InvoiceLine, currency string) []invoicesview.ReviewLine {
	var out []invoicesview.ReviewLine
	for _, l := range rows {
		r := invoicesview.ReviewLine{Description: l.Description, Quantity: money.Number(money.Decimal(l.Quantity), currency), Unit: l.Unit,
			UnitPrice: money.Format(l.UnitPrice, currency), TaxRate: money.Number(money.Decimal(l.TaxRate), currency),
			Amount: money.Format(l.Amount, currency)}
		if d := money.Decimal(l.DiscountPct); !d.IsZero() {
			r.Discount = money.Number(d, currency)
		}
		out = append(out, r)
	}
	return out
}

// totalsOf is the totals block of stored lines, as app/tax computes them.
func totalsOf(inv queries.Invoice, rows []queries.InvoiceLine) components.Totals {
	t, err := invoices.Totals(inv, rows)
	if err != nil {
		// Stored lines always compute; should one not, show the stored sums.
		return components.Totals{Base: money.Format(inv.Base, inv.Currency), Total: money.Format(inv.Total, inv.Currency)}
	}
	return web.TotalsView(t, inv.Currency)
}

// parseDay reads a date input; "" is the zero time (ok).
func parseDay(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	d, err := time.Parse("2006-01-02", s)
	return d, err == nil
}

// errRollback ends a transaction that only asked the domain what it thinks.
var errRollback = errors.New("invoicesweb: rolled back on purpose")

package ordersweb

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"pulso/app/money"
	"pulso/app/printing"
	"pulso/app/quotes"
	"pulso/app/tax"
	"pulso/app/web"
	"pulso/queries"
)

// document is the order's (or one of its delivery notes') printed form,
// between the parties its quote was signed between.
func (h *Handler) document(ctx context.Context, orgID int64, o queries.GetOrderRow) (printing.Document, error) {
	v, err := h.Q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: orgID, QuoteID: o.QuoteID, N: o.QuoteVersion})
	if err != nil {
		return printing.Document{}, err
	}
	seller, buyer, locale, loc, err := quotes.VersionParties(v)
	if err != nil {
		return printing.Document{}, err
	}
	org, err := h.Q.GetOrgForDocuments(ctx, orgID)
	if err != nil {
		return printing.Document{}, err
	}
	return printing.Document{Kind: "order", Number: o.Number, Issued: o.CreatedAt, Locale: locale, Location: loc, Currency: o.Currency,
		Seller: seller, Buyer: buyer, Logo: org.Logo, Terms: v.Terms}, nil
}

// PDF downloads the order.
func (h *Handler) PDF(c *fiber.Ctx) error {
	o, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	d, err := h.document(ctx, p.OrgID, o)
	if err != nil {
		return err
	}
	lines, err := h.Q.ListOrderLines(ctx, queries.ListOrderLinesParams{OrgID: p.OrgID, OrderID: o.ID})
	if err != nil {
		return err
	}
	var calc []tax.Line
	for _, l := range lines {
		calc = append(calc, tax.Line{Quantity: money.Decimal(l.Quantity), UnitPrice: l.UnitPrice, DiscountPct: money.Decimal(l.DiscountPct),
			TaxRate: money.Decimal(l.TaxRate), Surcharge: money.Decimal(l.Surcharge), Withholding: money.Decimal(l.Withholding)})
	}
	t, err := tax.Compute(calc)
	if err != nil {
		return err
	}
	d.Totals = t
	for i, l := range lines {
		disc := ""
		if dp := money.Decimal(l.DiscountPct); !dp.IsZero() {
			disc = dp.String()
		}
		d.Lines = append(d.Lines, printing.Line{Description: l.Description, Quantity: money.Number(money.Decimal(l.Quantity), d.Currency), Unit: l.Unit,
			UnitPrice: l.UnitPrice, DiscountPct: disc, TaxRate: money.Decimal(l.TaxRate).String(), Amount: t.Lines[i]})
	}
	pdf, err := printing.Render(d)
	if err != nil {
		return err
	}
	return web.SendPDF(c, pdf, "pedido-"+o.Number+".pdf")
}

// DeliveryNotePDF downloads a delivery note: quantities, no prices.
func (h *Handler) DeliveryNotePDF(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	// A delivery note is seen by whoever may see its order.
	type noteOfOrder struct {
		note  queries.DeliveryNote
		order queries.GetOrderRow
	}
	no, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (noteOfOrder, error) {
		n, err := h.Q.GetDeliveryNote(ctx, queries.GetDeliveryNoteParams{OrgID: org, ID: id})
		if err != nil {
			return noteOfOrder{}, err
		}
		o, err := h.Q.GetOrder(ctx, queries.GetOrderParams{OrgID: org, ID: n.OrderID})
		return noteOfOrder{n, o}, err
	}, func(no noteOfOrder) *int64 { return &no.order.OwnerID })
	if err != nil {
		return err
	}
	n, o := no.note, no.order
	d, err := h.document(ctx, p.OrgID, o)
	if err != nil {
		return err
	}
	d.Kind, d.Number, d.Issued, d.NoPrices, d.Terms = "delivery_note", n.Number, n.DeliveredOn.Time, true, n.Notes
	lines, err := h.Q.ListDeliveryNoteLines(ctx, queries.ListDeliveryNoteLinesParams{OrgID: p.OrgID, DeliveryNoteID: n.ID})
	if err != nil {
		return err
	}
	for _, l := range lines {
		d.Lines = append(d.Lines, printing.Line{Description: l.Description, Quantity: money.Number(money.Decimal(l.Quantity), d.Currency), Unit: l.Unit})
	}
	pdf, err := printing.Render(d)
	if err != nil {
		return err
	}
	return web.SendPDF(c, pdf, "albaran-"+n.Number+".pdf")
}

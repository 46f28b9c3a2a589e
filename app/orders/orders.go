// Package orders is what follows a signed quote: the order (pedido) with
// the quote's lines, and delivery notes (albaranes) with the quantities
// delivered, partial deliveries allowed, each with its PDF. Warehouses and
// stock come later; a delivery line names the order line it serves, which
// is where a stock movement will hang.
package orders

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"pulso/app/money"
	"pulso/app/series"
	"pulso/queries"
)

// Series codes: PED-2026-0001, ALB-2026-0001.
const (
	OrderSeries    = "PED"
	DeliverySeries = "ALB"
)

// ErrNotSigned is returned when an order is asked of an unsigned quote.
var ErrNotSigned = errors.New("orders: only a signed quote becomes an order")

// FromQuote creates, in tx, the order of a signed quote's signed version
// with the same lines and totals and the next PED number. A second call
// returns the existing order.
func FromQuote(ctx context.Context, tx pgx.Tx, orgID, quoteID int64, by *int64, now time.Time, loc *time.Location) (queries.Order, error) {
	q := queries.New(tx)
	qt, err := q.GetQuote(ctx, queries.GetQuoteParams{OrgID: orgID, ID: quoteID})
	if err != nil {
		return queries.Order{}, err
	}
	if qt.Status != "signed" {
		return queries.Order{}, ErrNotSigned
	}
	if o, err := q.GetOrderForQuote(ctx, queries.GetOrderForQuoteParams{OrgID: orgID, QuoteID: quoteID, QuoteVersion: qt.CurrentVersion}); err == nil {
		return o, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return queries.Order{}, err
	}
	v, err := q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: orgID, QuoteID: quoteID, N: qt.CurrentVersion})
	if err != nil {
		return queries.Order{}, err
	}
	n, err := series.Take(ctx, q, orgID, series.Order, OrderSeries, now.In(loc))
	if err != nil {
		return queries.Order{}, err
	}
	o, err := q.CreateOrder(ctx, queries.CreateOrderParams{OrgID: orgID, Number: n.String(), QuoteID: quoteID, QuoteVersion: v.N,
		CustomerID: qt.CustomerID, Currency: v.Currency, Base: v.Base, Tax: v.Tax, Surcharge: v.Surcharge, Withheld: v.Withheld,
		Total: v.Total, CreatedBy: by})
	if err != nil {
		return o, err
	}
	return o, q.CopyQuoteLinesToOrder(ctx, queries.CopyQuoteLinesToOrderParams{OrgID: orgID, OrderID: o.ID, QuoteID: quoteID, VersionN: v.N})
}

// Take is how much of one order line a delivery note delivers.
type Take struct {
	Position int32
	Quantity decimal.Decimal
}

// DeliverInput is one delivery of an order: the quantities checked by the
// caller (positive, at most pending), the day and the notes.
type DeliverInput struct {
	OrgID, OrderID int64
	Day            time.Time
	Notes          string
	Takes          []Take
	By             *int64
}

// Deliver writes a delivery note numbered in the delivery-note series of
// its day's year. The database refuses more than pending under a lock
// (check_violation), whoever delivered first.
func Deliver(ctx context.Context, tx pgx.Tx, in DeliverInput) (queries.DeliveryNote, error) {
	q := queries.New(tx)
	n, err := series.Take(ctx, q, in.OrgID, series.DeliveryNote, DeliverySeries, in.Day)
	if err != nil {
		return queries.DeliveryNote{}, err
	}
	note, err := q.CreateDeliveryNote(ctx, queries.CreateDeliveryNoteParams{OrgID: in.OrgID, Number: n.String(), OrderID: in.OrderID,
		DeliveredOn: pgtype.Date{Time: in.Day, Valid: true}, Notes: in.Notes, CreatedBy: in.By})
	if err != nil {
		return note, err
	}
	for _, t := range in.Takes {
		if err := q.InsertDeliveryNoteLine(ctx, queries.InsertDeliveryNoteLineParams{OrgID: in.OrgID, DeliveryNoteID: note.ID,
			OrderID: in.OrderID, OrderPosition: t.Position, Quantity: money.Numeric(t.Quantity)}); err != nil {
			return note, err
		}
	}
	return note, nil
}

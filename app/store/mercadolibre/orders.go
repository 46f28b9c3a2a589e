package mercadolibre

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// MaxLimit is the largest page /orders/search serves (§2.1, §8: assumed
// from integrations; larger values are clamped rather than sent).
const MaxLimit = 50

// Search selects a seller's orders (§2.1). Zero fields are left out of the
// query.
type Search struct {
	Seller int64 // required; must be the token's user (§2.10)
	// UpdatedFrom/UpdatedTo bound order.date_last_updated, inclusive: the
	// filter incremental sync needs, since orders change after creation
	// (refunds, cancellations, §2.5).
	UpdatedFrom, UpdatedTo time.Time
	Status                 string // order.status, e.g. "paid"
	Tags                   string // comma-separated, e.g. "mshops" (§2.7)
	Sort                   string // "date_asc" (default) or "date_desc"
	Offset                 int
	Limit                  int // default and maximum MaxLimit
}

// Page is one page of results plus ML's paging block. Total counts every
// match, not this page: the loop is offset += Limit while offset < Total
// (§2.1).
type Page struct {
	Total, Offset, Limit int
	Orders               []Order
}

// isoMillis is ML's date format: ISO-8601 with milliseconds and an offset
// (§2.1, §2.2). Go's "-07:00" writes "+00:00" for UTC, never "Z".
const isoMillis = "2006-01-02T15:04:05.000-07:00"

// SearchOrders reads one page of GET /orders/search (§2.1).
func (c *Client) SearchOrders(ctx context.Context, access string, s Search) (Page, error) {
	if s.Seller <= 0 {
		return Page{}, errors.New("mercadolibre: SearchOrders: Seller is required")
	}
	if s.Offset < 0 {
		return Page{}, errors.New("mercadolibre: SearchOrders: negative Offset")
	}
	if s.Limit <= 0 || s.Limit > MaxLimit {
		s.Limit = MaxLimit
	}
	if s.Sort == "" {
		s.Sort = "date_asc"
	}
	q := url.Values{
		"seller": {strconv.FormatInt(s.Seller, 10)},
		"sort":   {s.Sort},
		"offset": {strconv.Itoa(s.Offset)},
		"limit":  {strconv.Itoa(s.Limit)},
	}
	// The name must be date_last_updated: ML silently ignores
	// order.last_updated.from and would return every order (§2.1).
	if !s.UpdatedFrom.IsZero() {
		q.Set("order.date_last_updated.from", s.UpdatedFrom.Format(isoMillis))
	}
	if !s.UpdatedTo.IsZero() {
		q.Set("order.date_last_updated.to", s.UpdatedTo.Format(isoMillis))
	}
	if s.Status != "" {
		q.Set("order.status", s.Status)
	}
	if s.Tags != "" {
		q.Set("tags", s.Tags)
	}
	var b struct {
		Paging struct {
			Total  int `json:"total"`
			Offset int `json:"offset"`
			Limit  int `json:"limit"`
		} `json:"paging"`
		Results []wireOrder `json:"results"`
	}
	if err := c.get(ctx, access, "/orders/search", q, &b); err != nil {
		return Page{}, err
	}
	p := Page{Total: b.Paging.Total, Offset: b.Paging.Offset, Limit: b.Paging.Limit, Orders: make([]Order, 0, len(b.Results))}
	for _, w := range b.Results {
		o, err := w.order()
		if err != nil {
			return Page{}, fmt.Errorf("mercadolibre: GET /orders/search: order %d: %w", w.ID, err)
		}
		p.Orders = append(p.Orders, o)
	}
	return p, nil
}

// Order reads GET /orders/{id} (§2.2): the call to make for each orders_v2
// notification, since notifications carry no order data (§3).
func (c *Client) Order(ctx context.Context, access string, id int64) (Order, error) {
	var w wireOrder
	path := "/orders/" + strconv.FormatInt(id, 10)
	if err := c.get(ctx, access, path, nil, &w); err != nil {
		return Order{}, err
	}
	o, err := w.order()
	if err != nil {
		return Order{}, fmt.Errorf("mercadolibre: GET %s: %w", path, err)
	}
	return o, nil
}

// Pack lists the ids of the orders bought together in one cart (§2.6).
// The reference notes do not give the body of GET /packs/{id}; this reads
// the plausible shape {"id": …, "orders": [{"id": …}, …]} that mlfake
// serves, and should be checked against a real answer before production.
func (c *Client) Pack(ctx context.Context, access string, packID int64) ([]int64, error) {
	var b struct {
		Orders []struct {
			ID int64 `json:"id"`
		} `json:"orders"`
	}
	if err := c.get(ctx, access, "/packs/"+strconv.FormatInt(packID, 10), nil, &b); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(b.Orders))
	for _, o := range b.Orders {
		ids = append(ids, o.ID)
	}
	return ids, nil
}

// Order is the part of an ML order vouchers need (§2.3). Amounts are
// decimal text with two decimals (see the package doc); dates keep the
// offset ML sent. A null date is the zero time.
type Order struct {
	ID          int64
	Status      string // §2.5: paid, partially_refunded, cancelled, …
	DateCreated time.Time
	DateClosed  time.Time // when it became paid; zero while unpaid
	LastUpdated time.Time
	TotalAmount string // items only, without shipping (§2.3)
	PaidAmount  string // what the buyer paid, shipping included
	Currency    string // "ARS" for MLA
	Items       []Item
	Buyer       Buyer
	SellerID    int64
	PackID      int64 // 0 = not in a pack (§2.6)
	Tags        []string
	// ShippingCost is the order's own shipping_cost when ML sends one,
	// else the sum of payments[].shipping_cost over payments that were not
	// rejected or cancelled (§2.3, §7: shipping the buyer paid).
	ShippingCost string
	Payments     []Payment
}

// MercadoShops says whether the sale came from the seller's Mercado Shops
// store: the "mshops" tag is the documented marker (§2.7).
func (o Order) MercadoShops() bool { return slices.Contains(o.Tags, "mshops") }

// Item is one order line (§2.3 order_items[]).
type Item struct {
	ID, Title string
	SKU       string // item.seller_sku; empty when the seller set none
	Quantity  int64
	UnitPrice string
}

// Buyer is the order's counterpart; names come only in some responses and
// fiscal data never does (§2.8).
type Buyer struct {
	ID                            int64
	Nickname, FirstName, LastName string
}

// Payment is one of the order's payments (§2.3). Refunded is
// transaction_amount_refunded, the base of a partial credit note (§2.5).
type Payment struct {
	ID                             int64
	Status                         string // approved, refunded, charged_back, …
	Amount, Refunded, ShippingCost string
	DateApproved                   time.Time
}

// wireOrder is the JSON of §2.4. IDs decode straight into int64 (exact);
// amounts into json.Number, whatever the decoder's UseNumber setting.
type wireOrder struct {
	ID           int64       `json:"id"`
	Status       string      `json:"status"`
	DateCreated  string      `json:"date_created"`
	DateClosed   string      `json:"date_closed"`
	LastUpdated  string      `json:"last_updated"`
	DateLastUpd  string      `json:"date_last_updated"` // older search answers (§2.3)
	TotalAmount  json.Number `json:"total_amount"`
	PaidAmount   json.Number `json:"paid_amount"`
	ShippingCost json.Number `json:"shipping_cost"`
	CurrencyID   string      `json:"currency_id"`
	OrderItems   []struct {
		Item struct {
			ID        string `json:"id"`
			Title     string `json:"title"`
			SellerSKU string `json:"seller_sku"`
		} `json:"item"`
		Quantity  int64       `json:"quantity"`
		UnitPrice json.Number `json:"unit_price"`
	} `json:"order_items"`
	Buyer struct {
		ID        int64  `json:"id"`
		Nickname  string `json:"nickname"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	} `json:"buyer"`
	Seller struct {
		ID int64 `json:"id"`
	} `json:"seller"`
	Payments []struct {
		ID           int64       `json:"id"`
		Status       string      `json:"status"`
		Amount       json.Number `json:"transaction_amount"`
		Refunded     json.Number `json:"transaction_amount_refunded"`
		ShippingCost json.Number `json:"shipping_cost"`
		DateApproved string      `json:"date_approved"`
	} `json:"payments"`
	PackID *int64   `json:"pack_id"`
	Tags   []string `json:"tags"`
}

func (w wireOrder) order() (Order, error) {
	var err error
	o := Order{ID: w.ID, Status: w.Status, Currency: w.CurrencyID, SellerID: w.Seller.ID, Tags: w.Tags}
	if w.PackID != nil {
		o.PackID = *w.PackID
	}
	o.Buyer = Buyer{ID: w.Buyer.ID, Nickname: w.Buyer.Nickname, FirstName: w.Buyer.FirstName, LastName: w.Buyer.LastName}
	if o.DateCreated, err = parseDate("date_created", w.DateCreated); err != nil {
		return Order{}, err
	}
	if o.DateClosed, err = parseDate("date_closed", w.DateClosed); err != nil {
		return Order{}, err
	}
	lu := w.LastUpdated
	if lu == "" {
		lu = w.DateLastUpd
	}
	if o.LastUpdated, err = parseDate("last_updated", lu); err != nil {
		return Order{}, err
	}
	if o.TotalAmount, err = amount("total_amount", w.TotalAmount); err != nil {
		return Order{}, err
	}
	if o.PaidAmount, err = amount("paid_amount", w.PaidAmount); err != nil {
		return Order{}, err
	}
	for i, wi := range w.OrderItems {
		it := Item{ID: wi.Item.ID, Title: wi.Item.Title, SKU: wi.Item.SellerSKU, Quantity: wi.Quantity}
		if it.UnitPrice, err = amount(fmt.Sprintf("order_items[%d].unit_price", i), wi.UnitPrice); err != nil {
			return Order{}, err
		}
		o.Items = append(o.Items, it)
	}
	var shipSum int64
	for i, wp := range w.Payments {
		p := Payment{ID: wp.ID, Status: wp.Status}
		field := fmt.Sprintf("payments[%d].", i)
		if p.Amount, err = amount(field+"transaction_amount", wp.Amount); err != nil {
			return Order{}, err
		}
		if p.Refunded, err = amount(field+"transaction_amount_refunded", wp.Refunded); err != nil {
			return Order{}, err
		}
		if p.ShippingCost, err = amount(field+"shipping_cost", wp.ShippingCost); err != nil {
			return Order{}, err
		}
		if p.DateApproved, err = parseDate(field+"date_approved", wp.DateApproved); err != nil {
			return Order{}, err
		}
		if p.Status != "rejected" && p.Status != "cancelled" {
			c, err := Cents(p.ShippingCost)
			if err != nil {
				return Order{}, err
			}
			shipSum += c
		}
		o.Payments = append(o.Payments, p)
	}
	if w.ShippingCost != "" {
		if o.ShippingCost, err = amount("shipping_cost", w.ShippingCost); err != nil {
			return Order{}, err
		}
	} else {
		o.ShippingCost = formatCents(shipSum)
	}
	return o, nil
}

// parseDate reads ML's ISO-8601 dates, keeping their offset (§2.2: ML
// often writes -04:00 even for Argentina, so local time is never assumed).
// Empty (absent or null) is the zero time.
func parseDate(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	// RFC3339 parsing accepts the fractional seconds; the second layout is
	// the offset without a colon that some services write.
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: bad date %q", field, s)
}

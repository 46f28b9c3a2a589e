package mlfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Order is a fixture order. Build one with NewOrder and the helpers, or
// fill the fields; the server derives total_amount and paid_amount from
// items and payments, and serves the JSON shape of §2.4. Amounts are
// decimal text ("15000.5"), never floats; they go out as JSON numbers the
// way ML writes them (30000.0, 15000.5).
type Order struct {
	ID, SellerID int64
	Status       string // §2.5
	DateCreated  time.Time
	DateClosed   time.Time // zero: filled from the payments when paid
	LastUpdated  time.Time // set by the server on every change
	Items        []Item
	Buyer        Buyer
	Payments     []Payment
	PackID       int64 // 0 = pack_id null
	Tags         []string
	Channel      string // context.channel
	ShippingCost string // applied to the payment made by Paid
}

// Item is one order line. UnitPrice is decimal text with at most two
// decimals; SKU "" is served as seller_sku null.
type Item struct {
	ID, Title, SKU string
	Quantity       int64
	UnitPrice      string
}

// Buyer is the order's buyer block.
type Buyer struct {
	ID                            int64
	Nickname, FirstName, LastName string
}

// Payment is one payments[] entry; amounts are decimal text.
type Payment struct {
	ID                             int64
	Status, StatusDetail           string
	Amount, Refunded, ShippingCost string
	DateApproved                   time.Time
}

// NewOrder is a confirmed (unpaid, §2.5) order of seller with items; chain
// Paid, Refund, Cancel, InPack, MShops, At, WithBuyer, Shipping to shape it.
func NewOrder(seller, id int64, items ...Item) Order {
	return Order{
		ID: id, SellerID: seller, Status: "confirmed",
		Items:   slices.Clone(items),
		Buyer:   Buyer{ID: 987654321, Nickname: "COMPRADOR_TEST"},
		Channel: "marketplace",
	}
}

// clone gives the builders value semantics: no helper changes a slice that
// an earlier copy of the order still shares.
func (o Order) clone() Order {
	o.Items = slices.Clone(o.Items)
	o.Payments = slices.Clone(o.Payments)
	o.Tags = slices.Clone(o.Tags)
	return o
}

func (o Order) addTag(t string) Order {
	if !slices.Contains(o.Tags, t) {
		o.Tags = append(o.Tags, t)
	}
	return o
}

// Total is the sum of quantity × unit price: total_amount (§2.3).
func (o Order) Total() string { return mlNumber(o.totalCents()) }

func (o Order) totalCents() int64 {
	var t int64
	for _, it := range o.Items {
		t += it.Quantity * mustCents(it.UnitPrice)
	}
	return t
}

// At sets date_created.
func (o Order) At(t time.Time) Order { o = o.clone(); o.DateCreated = t; return o }

// WithBuyer replaces the buyer.
func (o Order) WithBuyer(b Buyer) Order { o = o.clone(); o.Buyer = b; return o }

// Shipping sets what the buyer paid for shipping: it rides on the
// payment (payments[].shipping_cost) and into paid_amount, not into
// total_amount (§2.3).
func (o Order) Shipping(cost string) Order {
	o = o.clone()
	mustCents(cost)
	o.ShippingCost = cost
	if len(o.Payments) > 0 {
		o.Payments[0].ShippingCost = cost
	}
	return o
}

// Paid adds an approved, accredited payment of the total (plus shipping)
// and makes the order paid (§2.5).
func (o Order) Paid() Order {
	o = o.clone()
	o.Status = "paid"
	o.Payments = append(o.Payments, Payment{
		ID:     70000000000 + o.ID%1000000000 + int64(len(o.Payments)),
		Status: "approved", StatusDetail: "accredited",
		Amount: mlNumber(o.totalCents()), Refunded: mlNumber(0), ShippingCost: o.ShippingCost,
	})
	if !o.DateCreated.IsZero() {
		o.Payments[len(o.Payments)-1].DateApproved = o.DateCreated.Add(113 * time.Second)
	}
	return o.addTag("paid").addTag("not_delivered")
}

// Pending makes the order wait for its payment: payment_in_process with a
// payment in_process (§2.5, a fixture of §2.10).
func (o Order) Pending() Order {
	o = o.clone()
	o.Status = "payment_in_process"
	o.Payments = append(o.Payments, Payment{
		ID:     70000000000 + o.ID%1000000000 + int64(len(o.Payments)),
		Status: "in_process", StatusDetail: "pending_contingency",
		Amount: mlNumber(o.totalCents()), Refunded: mlNumber(0), ShippingCost: o.ShippingCost,
	})
	return o
}

// Refund returns amount of the first payment to the buyer: the order
// becomes partially_refunded and the payment's
// transaction_amount_refunded grows (§2.5).
func (o Order) Refund(amount string) Order {
	o = o.clone()
	if len(o.Payments) == 0 {
		panic("mlfake: Refund of an order without payments; call Paid first")
	}
	p := &o.Payments[0]
	p.Refunded = mlNumber(mustCents(p.Refunded) + mustCents(amount))
	p.StatusDetail = "partially_refunded"
	o.Status = "partially_refunded"
	return o
}

// Cancel cancels the order; payments already made are refunded in full
// (the "cancelled after paid" fixture of §2.10).
func (o Order) Cancel() Order {
	o = o.clone()
	o.Status = "cancelled"
	for i := range o.Payments {
		p := &o.Payments[i]
		if p.Status == "approved" {
			p.Status, p.StatusDetail = "refunded", "refunded"
			p.Refunded = p.Amount
		}
	}
	o.Tags = slices.DeleteFunc(o.Tags, func(t string) bool { return t == "paid" })
	return o
}

// InPack puts the order in a cart with others (§2.6).
func (o Order) InPack(packID int64) Order {
	o = o.clone()
	o.PackID = packID
	return o.addTag("pack_order")
}

// MShops marks a Mercado Shops sale: the tag is the documented marker
// (§2.7). The channel value is not confirmed by the reference (§8); the
// client must not rely on it.
func (o Order) MShops() Order {
	o = o.clone()
	o.Channel = "mshops"
	return o.addTag("mshops")
}

// mlZone is the offset ML writes even for Argentina (§2.2).
var mlZone = time.FixedZone("", -4*3600)

const isoMillis = "2006-01-02T15:04:05.000-07:00"

func mlDate(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(mlZone).Format(isoMillis)
	return &s
}

// paidCents is paid_amount: what the buyer handed over, shipping
// included, over payments that actually moved money.
func (o Order) paidCents() int64 {
	var t int64
	for _, p := range o.Payments {
		switch p.Status {
		case "approved", "refunded", "charged_back", "in_mediation":
			t += mustCents(p.Amount) + mustCents(p.ShippingCost)
		}
	}
	return t
}

// wire is the §2.4 JSON of the order.
func (o Order) wire() map[string]any {
	items := make([]map[string]any, 0, len(o.Items))
	for _, it := range o.Items {
		var sku any
		if it.SKU != "" {
			sku = it.SKU
		}
		unit := mustCents(it.UnitPrice)
		items = append(items, map[string]any{
			"item": map[string]any{
				"id": it.ID, "title": it.Title, "category_id": "MLA3697",
				"variation_id": nil, "seller_sku": sku, "seller_custom_field": nil,
				"variation_attributes": []any{},
			},
			"quantity":        it.Quantity,
			"unit_price":      json.Number(mlNumber(unit)),
			"full_unit_price": json.Number(mlNumber(unit)),
			"currency_id":     "ARS",
			// 13 % of the line, whole cents: plausible, unused by vouchers.
			"sale_fee": json.Number(mlNumber(unit * 13 / 100)),
		})
	}
	pays := make([]map[string]any, 0, len(o.Payments))
	for _, p := range o.Payments {
		amt, ship := mustCents(p.Amount), mustCents(p.ShippingCost)
		total := amt + ship
		var detail any
		if p.StatusDetail != "" {
			detail = p.StatusDetail
		}
		pays = append(pays, map[string]any{
			"id": p.ID, "order_id": o.ID, "payer_id": o.Buyer.ID,
			"collector":                   map[string]any{"id": o.SellerID},
			"status":                      p.Status,
			"status_detail":               detail,
			"transaction_amount":          json.Number(mlNumber(amt)),
			"transaction_amount_refunded": json.Number(mlNumber(mustCents(p.Refunded))),
			"shipping_cost":               json.Number(mlNumber(ship)),
			"total_paid_amount":           json.Number(mlNumber(total)),
			"currency_id":                 "ARS",
			"payment_type":                "credit_card",
			"installments":                1,
			"date_created":                mlDate(o.DateCreated),
			"date_approved":               mlDate(p.DateApproved),
			"date_last_modified":          mlDate(o.LastUpdated),
		})
	}
	var pack any
	if o.PackID != 0 {
		pack = o.PackID
	}
	buyer := map[string]any{"id": o.Buyer.ID, "nickname": o.Buyer.Nickname}
	if o.Buyer.FirstName != "" || o.Buyer.LastName != "" {
		buyer["first_name"], buyer["last_name"] = o.Buyer.FirstName, o.Buyer.LastName
	}
	tags := o.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"id":            o.ID,
		"status":        o.Status,
		"status_detail": nil,
		"date_created":  mlDate(o.DateCreated),
		"date_closed":   mlDate(o.DateClosed),
		"last_updated":  mlDate(o.LastUpdated),
		"total_amount":  json.Number(mlNumber(o.totalCents())),
		"paid_amount":   json.Number(mlNumber(o.paidCents())),
		"currency_id":   "ARS",
		"order_items":   items,
		"buyer":         buyer,
		"seller":        map[string]any{"id": o.SellerID},
		"payments":      pays,
		"shipping":      map[string]any{"id": 44000000000 + o.ID%1000000000},
		"pack_id":       pack,
		"tags":          tags,
		"context":       map[string]any{"channel": o.Channel, "site": "MLA", "flows": []any{}},
	}
}

// mustCents reads fixture amounts ("15000.5", "0", "") as cents. A bad
// fixture is a bug in the test, hence the panic.
func mustCents(s string) int64 {
	if s == "" {
		return 0
	}
	ip, fp, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(ip, "-")
	ip = strings.TrimPrefix(ip, "-")
	if len(fp) > 2 || ip == "" || strings.Trim(ip+fp, "0123456789") != "" {
		panic(fmt.Sprintf("mlfake: amount %q is not decimal text with at most two decimals", s))
	}
	c, err := strconv.ParseInt(ip+(fp + "00")[:2], 10, 64)
	if err != nil {
		panic(fmt.Sprintf("mlfake: amount %q: %v", s, err))
	}
	if neg {
		c = -c
	}
	return c
}

// mlNumber writes cents the way ML writes amounts: at least one decimal,
// trailing zeros dropped (30000.0, 15000.5, 1234.56).
func mlNumber(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	s := fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
	if strings.HasSuffix(s, "0") {
		s = s[:len(s)-1]
	}
	return s
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/store/mercadolibre"
	"pulso/app/tax"
	"pulso/queries"
)

// Order states (store_orders.state).
const (
	Pending  = "pending"
	Invoiced = "invoiced"
	Voided   = "voided"
	Skipped  = "skipped"
	Blocked  = "blocked"
	Failed   = "failed"
)

// paid are the statuses whose order is a sale (§2.5): partially refunded
// orders were paid and keep their voucher (the refund is a credit note's
// business, which does not count against the plan).
var paid = map[string]bool{"paid": true, "partially_refunded": true}

// cancelled are the statuses that undo a sale (§2.5).
var cancelled = map[string]bool{"cancelled": true, "invalid": true, "pending_cancel": true}

// Result is what Apply did with an order.
type Result struct {
	State string
	// New is true when this call issued or voided the voucher.
	New bool
}

// SyncOrder fetches an order (its current state: a notification carries
// none) and applies it.
func (s *Store) SyncOrder(ctx context.Context, orgID, connID, orderID int64, now time.Time) (Result, error) {
	var o mercadolibre.Order
	err := s.call(ctx, orgID, connID, func(access string) error {
		var err error
		o, err = s.ML.Order(ctx, access, orderID)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return s.Apply(ctx, orgID, connID, o, now)
}

// Apply brings an order's voucher in line with the order, once: the order's
// row is locked, so concurrent notifications and the catch-up of the same
// order take turns, and an answer older than what was already applied is
// ignored. A paid order without a voucher gets one (issued as an
// e-commerce sale, counted against the plan); past a blocking plan's limit
// the order is kept as blocked, with the reason, for a later retry. A
// cancelled order voids its voucher, or is skipped when it had none.
func (s *Store) Apply(ctx context.Context, orgID, connID int64, o mercadolibre.Order, now time.Time) (Result, error) {
	var res Result
	channel := "marketplace"
	if o.MercadoShops() {
		channel = "mshops"
	}
	var pack *int64
	if o.PackID != 0 {
		pack = &o.PackID
	}
	err := live.BeginFunc(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if _, err := q.InsertStoreOrder(ctx, queries.InsertStoreOrderParams{OrgID: orgID, ConnectionID: connID, OrderID: o.ID,
			PackID: pack, Status: o.Status, Channel: channel, Total: o.TotalAmount, LastUpdated: o.LastUpdated}); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		row, err := q.LockStoreOrder(ctx, queries.LockStoreOrderParams{OrgID: orgID, ConnectionID: connID, OrderID: o.ID})
		if err != nil {
			return err
		}
		if o.LastUpdated.Before(row.LastUpdated) {
			res.State = row.State // a newer state was applied already
			return nil
		}
		if err := q.AddStoreChannel(ctx, queries.AddStoreChannelParams{OrgID: orgID, ID: connID, Channel: channel}); err != nil {
			return err
		}
		up := queries.UpdateStoreOrderParams{OrgID: orgID, ConnectionID: connID, OrderID: o.ID, Status: o.Status,
			Total: o.TotalAmount, LastUpdated: o.LastUpdated, State: row.State, InvoiceID: row.InvoiceID, RefundedCents: row.RefundedCents,
			ErrorParams: noParams}
		switch {
		case paid[o.Status] && row.InvoiceID == nil:
			inv, problem, err := s.issue(ctx, tx, orgID, o, now)
			if err != nil {
				return err
			}
			switch {
			case problem == nil:
				up.State, up.InvoiceID, up.Error, res.New = Invoiced, &inv.ID, "", true
			case problem.blocked:
				up.State = Blocked
			default:
				up.State = Failed
			}
			if problem != nil {
				if up.Error, up.ErrorParams, err = problem.stored(); err != nil {
					return err
				}
			}
		case cancelled[o.Status] && row.InvoiceID != nil && row.State == Invoiced:
			if _, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: orgID, InvoiceID: *row.InvoiceID,
				Reason: fmt.Sprintf("Pedido %d cancelado en Mercado Libre", o.ID), Now: now}); err != nil {
				return err
			}
			up.State, up.Error, res.New = Voided, "", true
		case cancelled[o.Status] && row.InvoiceID == nil:
			up.State, up.Error = Skipped, ""
		case !paid[o.Status] && !cancelled[o.Status]:
			up.State = Pending
		}
		// What a partly refunded order gave back is credited once: each
		// refund seen since the last, by a credit note of its own.
		if o.Status == "partially_refunded" && up.State == Invoiced && up.InvoiceID != nil {
			refunded, err := refundedCents(o)
			if err != nil {
				return err
			}
			if refunded > row.RefundedCents {
				problem, err := s.credit(ctx, tx, orgID, *up.InvoiceID, o, refunded-row.RefundedCents, now)
				switch {
				case err != nil:
					return err
				case problem != nil:
					if up.Error, up.ErrorParams, err = problem.stored(); err != nil {
						return err
					}
				default:
					up.RefundedCents, up.Error, res.New = refunded, "", true
				}
			}
		}
		res.State = up.State
		_, err = q.UpdateStoreOrder(ctx, up)
		return err
	})
	return res, err
}

// refusal is why an order did not become a voucher, or its refund a
// credit note: the invoice's message (invoices.Invalid.First), kept on the
// order's row as its id and parameters and shown in the reader's language.
// blocked: the plan's limit, so the order waits rather than failing.
type refusal struct {
	invoices.Problem
	blocked bool
}

// noParams is the parameters of no message.
var noParams = []byte("{}")

// stored is the refusal as the order's row keeps it: error and
// error_params.
func (r *refusal) stored() (string, []byte, error) {
	params, err := r.ParamsJSON()
	return r.ID, params, err
}

// refusalOf is the refusal err holds, if it is a field message.
func refusalOf(err error) (*refusal, bool) {
	var bad invoices.Invalid
	if !errors.As(err, &bad) {
		return nil, false
	}
	return &refusal{Problem: bad.First(), blocked: invoices.OverPlanLimit(err)}, true
}

// issue makes the order's voucher in a savepoint: a refusal (the plan's
// limit, a line the invoice rules reject) rolls back the voucher alone and
// comes back as a refusal, so the order's row still records it.
func (s *Store) issue(ctx context.Context, tx pgx.Tx, orgID int64, o mercadolibre.Order, now time.Time) (*queries.Invoice, *refusal, error) {
	var inv queries.Invoice
	err := savepoint(ctx, tx, func(sp pgx.Tx) error {
		var err error
		inv, err = s.voucher(ctx, sp, orgID, o, now)
		return err
	})
	if r, ok := refusalOf(err); ok {
		return nil, r, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return &inv, nil, nil
}

// savepoint runs fn in a savepoint of tx, kept only when fn succeeds: a
// refused voucher or credit note rolls back alone, and the order's row
// still records why.
func savepoint(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer sp.Rollback(ctx) //nolint:errcheck // released by Commit on success
	if err := fn(sp); err != nil {
		return err
	}
	return sp.Commit(ctx)
}

// refundedCents is what the order's payments gave back
// (payments[].transaction_amount_refunded, §2.4), in cents.
func refundedCents(o mercadolibre.Order) (int64, error) {
	var total int64
	for _, p := range o.Payments {
		c, err := mercadolibre.Cents(p.Refunded)
		if err != nil {
			return 0, fmt.Errorf("store: order %d: refunded %q: %w", o.ID, p.Refunded, err)
		}
		total += c
	}
	return total, nil
}

// credit gives amount cents of the order's voucher back (§2.5: a partly
// refunded order gets a credit note for what was refunded): an R5 by
// difference of the voucher, priced VAT included like it, the amount
// spread over the voucher's rates in proportion to what each was charged
// (the last rate takes the rounding), never more than the voucher has left
// to give back. A refusal comes back as one, for the order's row.
func (s *Store) credit(ctx context.Context, tx pgx.Tx, orgID, voucherID int64, o mercadolibre.Order, amount int64, now time.Time) (*refusal, error) {
	q := queries.New(tx)
	voucher, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: orgID, ID: voucherID})
	if err != nil {
		return nil, err
	}
	lines, err := q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: orgID, InvoiceID: voucherID})
	if err != nil {
		return nil, err
	}
	credited, err := q.CreditedAmount(ctx, queries.CreditedAmountParams{OrgID: orgID, CorrectedID: voucherID})
	if err != nil {
		return nil, err
	}
	amount = min(amount, voucher.Total+credited) // credited is negative
	if amount <= 0 {
		return nil, nil
	}
	var rates []int64
	charged := map[int64]int64{}
	for _, l := range lines {
		if _, ok := charged[l.TaxRateID]; !ok {
			rates = append(rates, l.TaxRateID)
		}
		charged[l.TaxRateID] += l.Amount
	}
	var refund []invoices.LineInput
	left := amount
	for i, r := range rates {
		share := left
		if i < len(rates)-1 {
			share = decimal.NewFromInt(amount).Mul(decimal.NewFromInt(charged[r])).Div(decimal.NewFromInt(voucher.Total)).Round(0).IntPart()
		}
		left -= share
		if share > 0 {
			refund = append(refund, invoices.LineInput{Description: fmt.Sprintf("Reembolso parcial del pedido %d", o.ID), Unit: "ud",
				Quantity: decimal.NewFromInt(-1), UnitPrice: share, TaxRateID: r})
		}
	}
	err = savepoint(ctx, tx, func(sp pgx.Tx) error {
		_, err := invoices.DraftAndIssue(ctx, sp, invoices.DraftInput{OrgID: orgID, Kind: invoices.Corrective, CorrectiveType: "R5",
			CustomerID: voucher.CustomerID, Method: invoices.ByDifference, Corrects: []int64{voucherID}, PricesIncludeTax: true,
			Reason: fmt.Sprintf("Reembolso parcial del pedido %d en Mercado Libre", o.ID), Lines: refund, Now: now},
			invoices.IssueInput{OrgID: orgID, Locale: "es", Now: now})
		return err
	})
	if r, ok := refusalOf(err); ok {
		return r, nil
	}
	return nil, err
}

// voucher drafts and issues the order's sales voucher: a simplified
// invoice (a consumer sale; the buyer's fiscal data is not in the order,
// §2.8) made out to the buyer's customer, one line per item at the
// listing's price. Store prices include VAT (§7), and the voucher is priced
// so (invoices.DraftInput.PricesIncludeTax): its total is what the buyer
// paid, to the cent, and each rate's base and tax come out of it.
func (s *Store) voucher(ctx context.Context, tx pgx.Tx, orgID int64, o mercadolibre.Order, now time.Time) (queries.Invoice, error) {
	q := queries.New(tx)
	org, err := q.GetOrgForInvoicing(ctx, orgID)
	if err != nil {
		return queries.Invoice{}, err
	}
	customer, err := s.customer(ctx, q, orgID, org.Country, o.Buyer)
	if err != nil {
		return queries.Invoice{}, err
	}
	loc := calendar.ZoneOrUTC(org.TimeZone)
	rates, err := tax.IVAOn(ctx, q, org.Country, calendar.Today(now, loc))
	if err != nil || len(rates) == 0 {
		return queries.Invoice{}, fmt.Errorf("store: no IVA rates for %s: %w", org.Country, err)
	}
	byID := map[int64]tax.Rate{}
	for _, r := range rates {
		byID[r.ID] = r
	}
	var lines []invoices.LineInput
	for _, it := range o.Items {
		rate := rates[0]
		l := invoices.LineInput{Description: it.Title, Unit: "ud", Quantity: decimal.NewFromInt(it.Quantity)}
		if it.SKU != "" {
			if p, err := q.GetProductByCode(ctx, queries.GetProductByCodeParams{OrgID: orgID, Code: it.SKU}); err == nil {
				l.ProductID = &p.ID
				if r, ok := byID[p.TaxRateID]; ok {
					rate = r
				}
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return queries.Invoice{}, err
			}
		}
		gross, err := mercadolibre.Cents(it.UnitPrice)
		if err != nil {
			return queries.Invoice{}, fmt.Errorf("store: order %d: unit price %q: %w", o.ID, it.UnitPrice, err)
		}
		l.TaxRateID = rate.ID
		l.UnitPrice = gross
		if it.SKU != "" {
			l.Description = it.Title + " (" + it.SKU + ")"
		}
		lines = append(lines, l)
	}
	d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: orgID, Kind: invoices.Simplified, CustomerID: &customer,
		Lines: lines, Notes: fmt.Sprintf("Pedido Mercado Libre %d", o.ID), PricesIncludeTax: true, Now: now})
	if err != nil {
		return queries.Invoice{}, err
	}
	if err := q.SetInvoiceChannel(ctx, queries.SetInvoiceChannelParams{OrgID: orgID, ID: d.ID, Channel: "ecommerce"}); err != nil {
		return queries.Invoice{}, err
	}
	return invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: orgID, InvoiceID: d.ID, Locale: "es", Now: now})
}

// customer is the org's customer for a store buyer: the one tagged with
// the buyer's id, or a new one named after the buyer.
func (s *Store) customer(ctx context.Context, q *queries.Queries, orgID int64, country string, b mercadolibre.Buyer) (int64, error) {
	tag := fmt.Sprintf("ml:%d", b.ID)
	c, err := q.FindCustomerByTag(ctx, queries.FindCustomerByTagParams{OrgID: orgID, Tag: tag})
	if err == nil {
		return c.ID, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	name := strings.TrimSpace(b.FirstName + " " + b.LastName)
	if name == "" {
		name = b.Nickname
	}
	if name == "" {
		name = fmt.Sprintf("Comprador %d", b.ID)
	}
	c, err = q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: orgID, LegalName: name, TradeName: b.Nickname,
		Country: country, Tags: []string{"mercadolibre", tag}, Notes: "Creado desde un pedido de Mercado Libre"})
	return c.ID, err
}

// maxOffset is where Mercado Libre's order search stops paging (§2.1,
// observed ~10,000): past it the catch-up restarts from the last update it
// saw, with offset 0.
const maxOffset = 9950

// firstSync is how far back a new connection's first catch-up reaches.
const firstSync = 30 * 24 * time.Hour

// CatchUp applies every order of the connection updated since its cursor
// (or the last 30 days for a new one), page by page, recording the run's
// progress in store_syncs after each page (and on the sync page, live);
// the cursor moves only past orders applied, so a run cut short — a
// restart, a SIGKILL — resumes where it stopped and applies nothing twice
// (Apply is idempotent anyway).
//
// date_asc is not by last update (the fake sorts by creation; §2.1 does
// not say which date), so an old order changed lately (a refund, a
// cancellation) comes on an early page with a late update. Until the run
// ends, the cursor therefore moves only to the creation date of the page's
// last order: every order still to come sorts no earlier, and an order's
// creation, closing and last update come in that order, so whichever date
// the sort uses, none of them was updated before that. The latest update
// seen becomes the cursor only once every page is applied.
//
// Pages are asked by offset while orders change: one that changes during
// the run leaves its window (updated after now), every later order moves
// up a place, and the order at the next page's boundary is on no page of
// this run. A total smaller than the previous page's says so; the cursor
// then stays where it was before that page for the rest of the run, and
// the next run pages again from there.
func (s *Store) CatchUp(ctx context.Context, orgID, connID int64, now time.Time) (queries.StoreSync, error) {
	q := queries.New(s.DB)
	conn, err := q.GetStoreConnection(ctx, queries.GetStoreConnectionParams{OrgID: orgID, ID: connID})
	if err != nil {
		return queries.StoreSync{}, err
	}
	run, err := q.StartStoreSync(ctx, queries.StartStoreSyncParams{OrgID: orgID, ConnectionID: connID})
	if err != nil {
		return run, err
	}
	from := now.Add(-firstSync)
	if conn.SyncedTo != nil {
		from = *conn.SyncedTo
	}
	seen, imported, failed, offset := 0, 0, 0, 0
	latest := from // the latest update applied this run
	cursor := from
	total, shifted := -1, false
	err = func() error {
		for {
			var page mercadolibre.Page
			if err := s.call(ctx, orgID, connID, func(access string) error {
				var err error
				page, err = s.ML.SearchOrders(ctx, access, mercadolibre.Search{Seller: conn.SellerID, UpdatedFrom: from,
					UpdatedTo: now, Sort: "date_asc", Offset: offset, Limit: mercadolibre.MaxLimit})
				return err
			}); err != nil {
				return err
			}
			if total >= 0 && page.Total < total {
				shifted = true
			}
			total = page.Total
			for _, o := range page.Orders {
				res, err := s.Apply(ctx, orgID, connID, o, now)
				if err != nil {
					return err
				}
				seen++
				if res.New && res.State == Invoiced {
					imported++
				}
				if res.State == Blocked || res.State == Failed {
					failed++
				}
				if o.LastUpdated.After(latest) {
					latest = o.LastUpdated
				}
			}
			offset += len(page.Orders)
			done := len(page.Orders) == 0 || offset >= page.Total
			if n := len(page.Orders); !shifted && n > 0 && page.Orders[n-1].DateCreated.After(cursor) {
				cursor = page.Orders[n-1].DateCreated
			}
			if done && !shifted {
				cursor = latest
			}
			if err := q.SetStoreSynced(ctx, queries.SetStoreSyncedParams{OrgID: orgID, ID: connID, SyncedTo: &cursor, At: &now}); err != nil {
				return err
			}
			if run, err = s.progress(ctx, orgID, run.ID, page.Total, seen, imported, failed); err != nil {
				return err
			}
			switch {
			case done:
				return nil
			case offset >= maxOffset && cursor.After(from):
				from, offset, total = cursor, 0, -1
			case offset >= maxOffset:
				// Rare: the 9,950 orders paged so far were all created
				// before the window and changed in it, so no creation
				// date moves the search on. The latest update does, at
				// the cost of orders created later and changed earlier
				// than it: those are left to their notifications.
				from, offset, total = latest, 0, -1
			}
		}
	}()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	// A run stopped by its context (the worker shutting down, the job's
	// timeout) is recorded as ended too: with that context it could not
	// be, and the sync page would show it running until the next run.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if run2, e := q.FinishStoreSync(fctx, queries.FinishStoreSyncParams{OrgID: orgID, ID: run.ID, Error: msg}); e == nil {
		run = run2
	}
	return run, err
}

// progress records a run's counts and tells the sync page.
func (s *Store) progress(ctx context.Context, orgID, runID int64, total, seen, imported, failed int) (queries.StoreSync, error) {
	var run queries.StoreSync
	err := live.BeginFunc(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		run, err = queries.New(tx).ProgressStoreSync(ctx, queries.ProgressStoreSyncParams{OrgID: orgID, ID: runID,
			Total: int32(total), Seen: int32(seen), Imported: int32(imported), Failed: int32(failed)})
		if err != nil {
			return err
		}
		return live.Publish(ctx, live.Event{OrgID: orgID, Topic: live.TopicStore, Entity: "store_sync", EntityID: &runID, Kind: "progress"})
	})
	return run, err
}

// RetryBlocked applies again the orders a plan's limit held back (after an
// upgrade, or at the sweep) and the invoiced ones whose refund's credit
// note was refused, fetching each one's current state.
func (s *Store) RetryBlocked(ctx context.Context, orgID int64, now time.Time) (int, error) {
	rows, err := queries.New(s.DB).ListBlockedStoreOrders(ctx, orgID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		res, err := s.SyncOrder(ctx, orgID, r.ConnectionID, r.OrderID, now)
		if err != nil {
			return n, err
		}
		if res.New {
			n++
		}
	}
	return n, nil
}

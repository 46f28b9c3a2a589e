package invoices

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/ident"
	"pulso/app/money"
	"pulso/app/orders"
	"pulso/app/plans"
	"pulso/app/quotes"
	"pulso/app/tax"
	"pulso/queries"
)

// LineInput is one line typed by hand, already parsed (amounts in minor
// units, rates by id).
type LineInput struct {
	ProductID   *int64
	Description string
	Unit        string
	// Quantity may be negative only on a corrective by difference.
	Quantity    decimal.Decimal
	UnitPrice   int64
	DiscountPct decimal.Decimal
	// TaxRateID is an IVA rate of the org's country in force today; under
	// a zero-rated treatment (exempt, reverse charge, export) the line is
	// priced at the country's 0 % rate whatever is chosen.
	TaxRateID int64
}

// DraftInput is an invoice drafted by hand.
type DraftInput struct {
	OrgID int64
	Kind  Kind
	// CorrectiveType is R1–R5 for a corrective.
	CorrectiveType string
	// CustomerID may be nil only for invoices that name no recipient (F2,
	// R5). The customer's tax treatment prices the lines.
	CustomerID *int64
	// Series is the series code; "" takes DefaultSeries.
	Series string
	Lines  []LineInput
	Notes  string
	// Method and Reason of a corrective; Corrects the invoices a corrective
	// corrects or a replacement (F3) replaces.
	Method, Reason string
	Corrects       []int64
	// The period of a summary invoice.
	PeriodStart, PeriodEnd time.Time
	// PricesIncludeTax: the lines' unit prices include IVA (a sale made at
	// tax-included prices, invoiced as made; tax.ComputeIncluded). Only a
	// simplified invoice, or the R5 by difference that gives part of one
	// back; never with recargo or IRPF.
	PricesIncludeTax bool
	// TaxDate is the day whose tax rates the lines may take: the devengo
	// (LIVA art. 75) of an invoice issued with an earlier date (a
	// recurring period issued late). Zero: today in the org's zone. A
	// corrective or an F3 takes the devengo of the invoice it names first.
	TaxDate time.Time
	By      *int64
	Now     time.Time
}

// units a line may be sold in: the catalog's.
var units = map[string]bool{"ud": true, "h": true, "kg": true, "m": true, "m2": true, "l": true, "servicio": true}

// spec is a draft about to be written, whatever made it.
type spec struct {
	p        queries.CreateInvoiceDraftParams
	treat    tax.CustomerTax
	lines    []queries.InsertInvoiceLineParams
	corrects []int64
	notes    []int64 // delivery notes billed
}

// CreateDraft writes a draft typed by hand. Problems come back as Invalid.
func CreateDraft(ctx context.Context, tx pgx.Tx, in DraftInput) (queries.Invoice, error) {
	q := queries.New(tx)
	s, _, err := checkDraft(ctx, q, in)
	if err != nil {
		return queries.Invoice{}, err
	}
	return s.write(ctx, q)
}

// DraftAndIssue drafts as CreateDraft does and issues the draft as Issue
// does, in tx: a recurring template's period, a store order, a ticket.
// Issuing takes the draft, its lines and what drafting read of the org and
// the customer as drafting made them, instead of locking and reading them
// back. An ordinary or simplified invoice is not even written as a draft:
// it is inserted issued, with its lines, once issuing has numbered and
// drawn it (InsertIssuedInvoice).
func DraftAndIssue(ctx context.Context, tx pgx.Tx, d DraftInput, in IssueInput) (queries.Invoice, error) {
	q := queries.New(tx)
	if d.TaxDate.IsZero() {
		// The rates of the day the invoice is dated to.
		d.TaxDate = in.taxDate()
	}
	s, org, err := checkDraft(ctx, q, d)
	if err != nil {
		return queries.Invoice{}, err
	}
	if k := Kind(s.p.Kind); k != Ordinary && k != Simplified {
		// Other rows name the draft (a corrective's or an F3's
		// corrections, a summary's delivery notes) or its PDF shows its id
		// (a proforma's): it is written first.
		inv, err := s.write(ctx, q)
		if err != nil {
			return inv, err
		}
		in.InvoiceID = inv.ID
		return issue(ctx, tx, in, &drafted{inv: inv, lines: s.stored(), facts: org})
	}
	if err := s.price(); err != nil {
		return queries.Invoice{}, err
	}
	return issue(ctx, tx, in, &drafted{inv: s.unwritten(), lines: s.stored(), facts: org, unwritten: true})
}

// checkDraft checks a typed draft and prices its lines, and reads what
// drafting and issuing need of the org and the customer; nothing is
// written. Problems come back as Invalid.
func checkDraft(ctx context.Context, q *queries.Queries, in DraftInput) (*spec, queries.GetInvoiceContextRow, error) {
	var org queries.GetInvoiceContextRow
	// The first invoice a corrective or an F3 names: the lines are taxed
	// and priced as it was (below), at the rates in force on its devengo
	// (LIVA art. 80: a correction restates that operation), which may have
	// ended since.
	var named *queries.Invoice
	if (in.Kind == Corrective || in.Kind == Replacement) && len(in.Corrects) > 0 {
		c, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: in.OrgID, ID: in.Corrects[0]})
		switch {
		case err == nil:
			named = &c
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, org, err
		}
		if named != nil && named.State == Issued {
			in.TaxDate = Accrued(*named)
		}
	}
	org, err := q.GetInvoiceContext(ctx, queries.GetInvoiceContextParams{OrgID: in.OrgID, CustomerID: in.CustomerID, RatesAt: &in.Now,
		RatesOn: calendar.DateOrNull(in.TaxDate)})
	if err != nil {
		return nil, org, err
	}
	bad := Invalid{}
	s := &spec{p: queries.CreateInvoiceDraftParams{OrgID: in.OrgID, Kind: string(in.Kind), Currency: org.Currency,
		CustomerID: in.CustomerID, Notes: strings.TrimSpace(in.Notes), CreatedBy: in.By}}
	if !slices.Contains(Kinds, in.Kind) {
		bad.add("kind", "validation.choice", nil)
		return nil, org, bad
	}
	if in.Kind == Corrective && !slices.Contains(CorrectiveTypes, in.CorrectiveType) {
		bad.add("corrective_type", "validation.choice", nil)
	}
	// The invoice a corrective or an F3 names first: a correction by
	// difference is taxed as it was, and an F3 or an R5 is priced as the
	// simplified invoice it replaces or corrects was (its prices, which the
	// forms copy, include IVA when that one's did).
	priced := in.Kind == Replacement || in.Kind == Corrective && in.CorrectiveType == "R5"
	s.p.PricesIncludeTax = in.PricesIncludeTax
	if priced && named != nil {
		s.p.PricesIncludeTax = named.PricesIncludeTax
	}
	if s.p.PricesIncludeTax && in.Kind != Simplified && !priced {
		bad.add("kind", "invoices.prices_include_tax_simplified", nil)
	}
	if ft := fiscalType(in.Kind, in.CorrectiveType); ft != "" {
		s.p.FiscalType = &ft
	}
	if in.Kind != Proforma {
		code := strings.TrimSpace(in.Series)
		if code == "" {
			code = DefaultSeries(in.Kind)
		}
		s.p.Series = &code
	}
	if len(s.p.Notes) > 2000 || !ident.CleanText(strings.ReplaceAll(strings.ReplaceAll(s.p.Notes, "\n", " "), "\r", "")) {
		bad.add("notes", "validation.text", nil)
	}
	if in.Kind == Corrective {
		s.p.CorrectiveReason = strings.TrimSpace(in.Reason)
		if in.Method != "" {
			if in.Method != ByDifference && in.Method != BySubstitution {
				bad.add("method", "validation.choice", nil)
			}
			s.p.CorrectiveMethod = &in.Method
		}
		if len(s.p.CorrectiveReason) > 500 || !ident.CleanText(s.p.CorrectiveReason) {
			bad.add("reason", "validation.text", nil)
		}
	}
	if in.Kind == Corrective || in.Kind == Replacement {
		s.corrects = in.Corrects
	}
	if in.Kind == Summary {
		if in.PeriodStart.IsZero() || in.PeriodEnd.IsZero() || in.PeriodEnd.Before(in.PeriodStart) {
			bad.add("period", "invoices.period_required", nil)
		}
		s.p.PeriodStart, s.p.PeriodEnd = calendar.DateOrNull(in.PeriodStart), calendar.DateOrNull(in.PeriodEnd)
	}
	if in.CustomerID != nil {
		if !org.CustomerFound {
			bad.add("customer", "invoices.customer_required", nil)
		} else {
			s.treat = tax.CustomerTax{Regime: tax.Regime(deref(org.TaxRegime)), ExemptCause: deref(org.ExemptCause), IRPF: money.Decimal(org.IrpfRate)}
		}
	} else if in.Kind != Simplified && !(in.Kind == Corrective && in.CorrectiveType == "R5") {
		bad.add("customer", "invoices.customer_required", nil)
	}
	if in.Kind == Corrective && in.Method == ByDifference && named != nil {
		// A correction by difference corrects the operation as it was
		// taxed: under the corrected invoice's treatment, not the
		// customer's as it is now (issuing refuses any other).
		var err error
		if s.treat, err = treatmentOf(*named); err != nil {
			return nil, org, err
		}
	}
	if s.treat.Regime == "" {
		s.treat.Regime = tax.General
	}
	if s.p.PricesIncludeTax && (s.treat.Regime == tax.Recargo || s.treat.IRPF.IsPositive()) {
		bad.add("customer", "invoices.prices_include_tax_simplified", nil)
	}
	signed := in.Kind == Corrective && in.Method == ByDifference
	rates, err := tax.DecodeRates(org.Rates)
	if err != nil {
		return nil, org, err
	}
	if err := s.handLines(ctx, q, tax.IVA(rates), in.Lines, signed, bad); err != nil {
		return nil, org, err
	}
	return s, org, bad.orNil()
}

// stored is the draft's lines as write stores them (the insert's
// parameters are the table's columns).
func (s *spec) stored() []queries.InvoiceLine {
	lines := make([]queries.InvoiceLine, len(s.lines))
	for i, l := range s.lines {
		lines[i] = queries.InvoiceLine(l)
	}
	return lines
}

// unwritten is the draft as CreateInvoiceDraft would store it, priced
// (price), before the database gives it an id: the columns it sets, and
// the defaults of the ones it leaves (a draft sold in person).
func (s *spec) unwritten() queries.Invoice {
	p := s.p
	return queries.Invoice{OrgID: p.OrgID, CustomerID: p.CustomerID, Kind: p.Kind, FiscalType: p.FiscalType, State: Draft,
		Series: p.Series, Currency: p.Currency, TaxTreatment: p.TaxTreatment, CorrectiveMethod: p.CorrectiveMethod,
		CorrectiveReason: p.CorrectiveReason, PeriodStart: p.PeriodStart, PeriodEnd: p.PeriodEnd, Notes: p.Notes,
		OrderID: p.OrderID, OrderWhole: p.OrderWhole, QuoteID: p.QuoteID, QuoteVersion: p.QuoteVersion,
		FromProformaID: p.FromProformaID, CreatedBy: p.CreatedBy, Base: p.Base, Tax: p.Tax, Surcharge: p.Surcharge,
		Withheld: p.Withheld, Total: p.Total, PricesIncludeTax: p.PricesIncludeTax, Channel: string(plans.Physical)}
}

// handLines validates typed lines and prices them under s.treat.
func (s *spec) handLines(ctx context.Context, q *queries.Queries, rates []tax.Rate, in []LineInput, signed bool, bad Invalid) error {
	if len(in) > MaxLines {
		bad.add("lines", "invoices.too_many_lines", map[string]any{"Max": MaxLines})
		return nil
	}
	ivas := map[int64]tax.Rate{}
	var zero tax.Rate
	for _, r := range rates {
		ivas[r.ID] = r
		if r.Rate.IsZero() {
			zero = r
		}
	}
	for i, l := range in {
		key := "lines." + strconv.Itoa(i) + "."
		desc := strings.TrimSpace(l.Description)
		if desc == "" || len(desc) > 1000 || !ident.CleanText(strings.ReplaceAll(desc, "\n", " ")) {
			bad.add(key+"description", "quotes.description_required", nil)
		}
		unit := l.Unit
		if unit == "" {
			unit = "ud"
		}
		if !units[unit] {
			bad.add(key+"unit", "validation.choice", nil)
		}
		if l.ProductID != nil {
			if _, err := q.GetActiveProduct(ctx, queries.GetActiveProductParams{OrgID: s.p.OrgID, ID: *l.ProductID}); errors.Is(err, pgx.ErrNoRows) {
				bad.add(key+"description", "quotes.product_gone", nil)
			} else if err != nil {
				return err
			}
		}
		rate, ok := ivas[l.TaxRateID]
		if ok && s.treat.ZeroRated() {
			rate, ok = zero, zero.ID != 0
		}
		if !ok {
			bad.add(key+"tax_rate_id", "quotes.tax_rate_unknown", nil)
			continue
		}
		line := s.treat.Apply(tax.Line{Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountPct: l.DiscountPct, TaxRate: rate.Rate})
		check := tax.Validate
		if signed {
			check = tax.ValidateSigned
		}
		if f := check(line); f != "" {
			field := map[string]string{"tax_rate": "tax_rate_id", "surcharge": "tax_rate_id", "withholding": "tax_rate_id"}[f]
			if field == "" {
				field = f
			}
			bad.add(key+field, "quotes."+f+"_invalid", nil)
			continue
		}
		s.lines = append(s.lines, queries.InsertInvoiceLineParams{ProductID: l.ProductID, Description: desc, Unit: unit,
			Quantity: money.Numeric(line.Quantity), UnitPrice: line.UnitPrice, DiscountPct: money.Numeric(line.DiscountPct),
			TaxRateID: rate.ID, TaxRate: money.Numeric(line.TaxRate), Surcharge: money.Numeric(line.Surcharge),
			Withholding: money.Numeric(line.Withholding)})
	}
	return nil
}

// price fixes what the draft and its lines carry besides what was typed:
// the tax treatment, the totals, and each line's position and amount.
func (s *spec) price() error {
	if len(s.lines) > MaxLines {
		return Invalid{"lines": {ID: "invoices.too_many_lines", Params: map[string]any{"Max": MaxLines}}}
	}
	treat, err := json.Marshal(s.treat)
	if err != nil {
		return err
	}
	s.p.TaxTreatment = treat
	// The totals go in with the draft: they depend only on the lines and
	// on how the draft prices them.
	t, err := totalsOf(queries.Invoice{PricesIncludeTax: s.p.PricesIncludeTax, CorrectiveMethod: s.p.CorrectiveMethod}, s.lines)
	if err != nil {
		return err
	}
	s.p.Base, s.p.Tax, s.p.Surcharge, s.p.Withheld, s.p.Total = t.Base, t.Tax, t.Surcharge, t.Withheld, t.Total
	for i := range s.lines {
		s.lines[i].OrgID, s.lines[i].Position, s.lines[i].Amount = s.p.OrgID, int32(i+1), t.Lines[i]
	}
	return nil
}

// write stores the draft: the invoice with its totals, lines, the invoices
// it corrects and the delivery notes it bills. A delivery note, an order
// or a proforma that another invoice holds is ErrAlreadyInvoiced (the
// unique indexes of 0034 decide, whatever ran at the same time).
func (s *spec) write(ctx context.Context, q *queries.Queries) (queries.Invoice, error) {
	if err := s.price(); err != nil {
		return queries.Invoice{}, err
	}
	inv, err := q.CreateInvoiceDraft(ctx, s.p)
	if err != nil {
		return inv, held(err)
	}
	for i := range s.lines {
		s.lines[i].InvoiceID = inv.ID
	}
	if err := InsertLines(ctx, q, s.lines); err != nil {
		return inv, err
	}
	for _, c := range s.corrects {
		if err := q.InsertInvoiceCorrection(ctx, queries.InsertInvoiceCorrectionParams{OrgID: inv.OrgID, InvoiceID: inv.ID, CorrectedID: c}); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && (pgErr.Code == "23503" || pgErr.Code == "23514" || pgErr.Code == "23505") {
				return inv, Invalid{"corrects": {ID: "invoices.corrects_unknown"}}
			}
			return inv, err
		}
	}
	for _, n := range s.notes {
		if err := q.LinkDeliveryNote(ctx, queries.LinkDeliveryNoteParams{OrgID: inv.OrgID, InvoiceID: inv.ID, DeliveryNoteID: n}); err != nil {
			return inv, held(err)
		}
	}
	return inv, nil
}

// InsertLines writes an invoice's lines in one round trip; the first
// failure is the error (the ones after it fail with the aborted
// transaction).
func InsertLines(ctx context.Context, q *queries.Queries, lines []queries.InsertInvoiceLineParams) error {
	var first error
	q.InsertInvoiceLine(ctx, lines).Exec(func(_ int, err error) {
		if first == nil {
			first = err
		}
	})
	return first
}

// held turns the unique indexes that keep a source on one invoice into
// ErrAlreadyInvoiced.
func held(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		switch pgErr.ConstraintName {
		case "invoice_delivery_notes_once", "invoices_order_whole_key", "invoices_from_proforma_key":
			return ErrAlreadyInvoiced
		}
	}
	return err
}

// totalsOf computes an invoice's totals from its lines: a corrective by
// difference may take quantities back; a sale at tax-included prices has
// its base and tax taken out of what was charged.
func totalsOf(inv queries.Invoice, lines []queries.InsertInvoiceLineParams) (tax.Totals, error) {
	calc := make([]tax.Line, len(lines))
	for i, l := range lines {
		calc[i] = tax.Line{Quantity: money.Decimal(l.Quantity), UnitPrice: l.UnitPrice, DiscountPct: money.Decimal(l.DiscountPct),
			TaxRate: money.Decimal(l.TaxRate), Surcharge: money.Decimal(l.Surcharge), Withholding: money.Decimal(l.Withholding)}
	}
	signed := inv.CorrectiveMethod != nil && *inv.CorrectiveMethod == ByDifference
	switch {
	case inv.PricesIncludeTax && signed:
		return tax.ComputeIncludedSigned(calc)
	case inv.PricesIncludeTax:
		return tax.ComputeIncluded(calc)
	case signed:
		return tax.ComputeSigned(calc)
	}
	return tax.Compute(calc)
}

// Totals are an invoice's totals from its stored lines, as issuing
// computed them (a corrective by difference signed).
func Totals(inv queries.Invoice, lines []queries.InvoiceLine) (tax.Totals, error) {
	return totalsOf(inv, lineParams(lines))
}

// lineParams turns stored lines back into what totalsOf takes.
func lineParams(rows []queries.InvoiceLine) []queries.InsertInvoiceLineParams {
	out := make([]queries.InsertInvoiceLineParams, len(rows))
	for i, r := range rows {
		out[i] = queries.InsertInvoiceLineParams{OrgID: r.OrgID, InvoiceID: r.InvoiceID, Position: r.Position, ProductID: r.ProductID,
			Description: r.Description, Unit: r.Unit, Quantity: r.Quantity, UnitPrice: r.UnitPrice, DiscountPct: r.DiscountPct,
			TaxRateID: r.TaxRateID, TaxRate: r.TaxRate, Surcharge: r.Surcharge, Withholding: r.Withholding, Amount: r.Amount,
			OrderID: r.OrderID, OrderPosition: r.OrderPosition, DeliveryNoteID: r.DeliveryNoteID}
	}
	return out
}

// DeleteDraft deletes a draft (its lines and links go with it, releasing
// what it was to bill). An issued invoice is never deleted: ErrNotDraft.
func DeleteDraft(ctx context.Context, tx pgx.Tx, orgID, id int64) error {
	n, err := queries.New(tx).DeleteDraftInvoice(ctx, queries.DeleteDraftInvoiceParams{OrgID: orgID, ID: id})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotDraft
	}
	return nil
}

// OrderInput asks for the draft of an order: all its lines, or only what
// its delivery notes delivered and no invoice bills yet.
type OrderInput struct {
	OrgID, OrderID int64
	DeliveredOnly  bool
	By             *int64
	Now            time.Time
}

// FromOrder drafts an ordinary invoice of an order. The whole order goes on
// one invoice at most once, and not once some of its deliveries are billed
// (ErrAlreadyInvoiced); its delivery notes are then billed by this one.
// Only delivered: the same as FromDeliveryNotes of its uninvoiced notes.
func FromOrder(ctx context.Context, tx pgx.Tx, in OrderInput) (queries.Invoice, error) {
	q := queries.New(tx)
	if _, err := q.LockOrdersForInvoicing(ctx, queries.LockOrdersForInvoicingParams{OrgID: in.OrgID, Ids: []int64{in.OrderID}}); err != nil {
		return queries.Invoice{}, err
	}
	o, err := q.GetOrder(ctx, queries.GetOrderParams{OrgID: in.OrgID, ID: in.OrderID})
	if err != nil {
		return queries.Invoice{}, err
	}
	if in.DeliveredOnly {
		ids, err := q.UninvoicedDeliveryNotes(ctx, queries.UninvoicedDeliveryNotesParams{OrgID: in.OrgID, OrderID: &in.OrderID})
		if err != nil {
			return queries.Invoice{}, err
		}
		if len(ids) == 0 {
			return queries.Invoice{}, Invalid{"order": {ID: "invoices.nothing_delivered"}}
		}
		return fromNotes(ctx, q, NotesInput{OrgID: in.OrgID, NoteIDs: ids, By: in.By, Now: in.Now}, Ordinary, &in.OrderID)
	}
	st, err := q.OrderInvoicing(ctx, queries.OrderInvoicingParams{OrgID: in.OrgID, ID: in.OrderID})
	if err != nil {
		return queries.Invoice{}, err
	}
	if st.Whole || st.NotesInvoiced > 0 {
		return queries.Invoice{}, ErrAlreadyInvoiced
	}
	s, err := sourced(ctx, q, in.OrgID, o.CustomerID, o.QuoteID, o.QuoteVersion, Ordinary, in.By)
	if err != nil {
		return queries.Invoice{}, err
	}
	s.p.OrderID, s.p.OrderWhole = &o.ID, true
	s.p.QuoteID, s.p.QuoteVersion = &o.QuoteID, &o.QuoteVersion
	lines, err := q.ListOrderLines(ctx, queries.ListOrderLinesParams{OrgID: in.OrgID, OrderID: o.ID})
	if err != nil {
		return queries.Invoice{}, err
	}
	for _, l := range lines {
		s.lines = append(s.lines, queries.InsertInvoiceLineParams{ProductID: l.ProductID, Description: l.Description, Unit: l.Unit,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, DiscountPct: l.DiscountPct, TaxRateID: l.TaxRateID, TaxRate: l.TaxRate,
			Surcharge: l.Surcharge, Withholding: l.Withholding, OrderID: &o.ID, OrderPosition: &l.Position})
	}
	s.treat = treatmentOfLines(s.treat, s.lines)
	if s.notes, err = q.ListOrderDeliveryNoteIDs(ctx, queries.ListOrderDeliveryNoteIDsParams{OrgID: in.OrgID, OrderID: o.ID}); err != nil {
		return queries.Invoice{}, err
	}
	return s.write(ctx, q)
}

// FromQuote drafts the invoice of a signed quote: the order its signed
// version became (made now if it was not yet, orders.FromQuote), invoiced
// whole.
func FromQuote(ctx context.Context, tx pgx.Tx, orgID, quoteID int64, by *int64, now time.Time) (queries.Invoice, error) {
	org, err := queries.New(tx).GetOrgForInvoicing(ctx, orgID)
	if err != nil {
		return queries.Invoice{}, err
	}
	loc := calendar.ZoneOrUTC(org.TimeZone)
	o, err := orders.FromQuote(ctx, tx, orgID, quoteID, by, now, loc)
	if err != nil {
		return queries.Invoice{}, err
	}
	return FromOrder(ctx, tx, OrderInput{OrgID: orgID, OrderID: o.ID, By: by, Now: now})
}

// NotesInput names delivery notes to bill on one invoice.
type NotesInput struct {
	OrgID   int64
	NoteIDs []int64
	By      *int64
	Now     time.Time
}

// FromDeliveryNotes drafts an ordinary invoice of delivery notes of one
// customer, each line what was delivered at its order line's price. A note
// already billed, or of an order invoiced whole, is ErrAlreadyInvoiced.
func FromDeliveryNotes(ctx context.Context, tx pgx.Tx, in NotesInput) (queries.Invoice, error) {
	return fromNotes(ctx, queries.New(tx), in, Ordinary, nil)
}

// SummaryInput asks for a customer's recapitulativa of a period.
type SummaryInput struct {
	OrgID, CustomerID int64
	From, To          time.Time
	By                *int64
	Now               time.Time
}

// SummaryDraft drafts a recapitulativa of every delivery note of the customer
// delivered in the period that no invoice bills yet.
func SummaryDraft(ctx context.Context, tx pgx.Tx, in SummaryInput) (queries.Invoice, error) {
	q := queries.New(tx)
	if in.From.IsZero() || in.To.IsZero() || in.To.Before(in.From) {
		return queries.Invoice{}, Invalid{"period": {ID: "invoices.period_required"}}
	}
	ids, err := q.UninvoicedDeliveryNotes(ctx, queries.UninvoicedDeliveryNotesParams{OrgID: in.OrgID, CustomerID: &in.CustomerID,
		FromDay: calendar.DateOrNull(in.From), ToDay: calendar.DateOrNull(in.To)})
	if err != nil {
		return queries.Invoice{}, err
	}
	if len(ids) == 0 {
		return queries.Invoice{}, Invalid{"period": {ID: "invoices.nothing_delivered"}}
	}
	inv, err := fromNotes(ctx, q, NotesInput{OrgID: in.OrgID, NoteIDs: ids, By: in.By, Now: in.Now}, Summary, nil, in.From, in.To)
	return inv, err
}

// fromNotes drafts an invoice of the notes, holding their orders' rows
// while it checks that nothing of them is billed yet.
func fromNotes(ctx context.Context, q *queries.Queries, in NotesInput, kind Kind, order *int64, period ...time.Time) (queries.Invoice, error) {
	ids := slices.Clone(in.NoteIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return queries.Invoice{}, Invalid{"delivery_notes": {ID: "invoices.nothing_delivered"}}
	}
	notes, err := q.DeliveryNotesForInvoicing(ctx, queries.DeliveryNotesForInvoicingParams{OrgID: in.OrgID, Ids: ids})
	if err != nil {
		return queries.Invoice{}, err
	}
	if len(notes) != len(ids) {
		return queries.Invoice{}, pgx.ErrNoRows
	}
	var orderIDs []int64
	for _, n := range notes {
		if n.CustomerID != notes[0].CustomerID {
			return queries.Invoice{}, Invalid{"delivery_notes": {ID: "invoices.notes_other_customer"}}
		}
		orderIDs = append(orderIDs, n.OrderID)
	}
	slices.Sort(orderIDs)
	orderIDs = slices.Compact(orderIDs)
	if _, err := q.LockOrdersForInvoicing(ctx, queries.LockOrdersForInvoicingParams{OrgID: in.OrgID, Ids: orderIDs}); err != nil {
		return queries.Invoice{}, err
	}
	// Read again under the orders' locks: what was billed meanwhile shows.
	if notes, err = q.DeliveryNotesForInvoicing(ctx, queries.DeliveryNotesForInvoicingParams{OrgID: in.OrgID, Ids: ids}); err != nil {
		return queries.Invoice{}, err
	}
	for _, n := range notes {
		if n.Invoiced || n.OrderWhole {
			return queries.Invoice{}, ErrAlreadyInvoiced
		}
	}
	first := notes[0]
	s, err := sourced(ctx, q, in.OrgID, first.CustomerID, first.QuoteID, first.QuoteVersion, kind, in.By)
	if err != nil {
		return queries.Invoice{}, err
	}
	s.p.OrderID = order
	if order != nil {
		s.p.QuoteID, s.p.QuoteVersion = &first.QuoteID, &first.QuoteVersion
	}
	if len(period) == 2 {
		s.p.PeriodStart, s.p.PeriodEnd = calendar.DateOrNull(period[0]), calendar.DateOrNull(period[1])
	}
	rows, err := q.DeliveredLinesForInvoicing(ctx, queries.DeliveredLinesForInvoicingParams{OrgID: in.OrgID, Ids: ids})
	if err != nil {
		return queries.Invoice{}, err
	}
	for _, r := range rows {
		s.lines = append(s.lines, queries.InsertInvoiceLineParams{ProductID: r.ProductID, Description: r.NoteNumber + " · " + r.Description,
			Unit: r.Unit, Quantity: r.Quantity, UnitPrice: r.UnitPrice, DiscountPct: r.DiscountPct, TaxRateID: r.TaxRateID,
			TaxRate: r.TaxRate, Surcharge: r.Surcharge, Withholding: r.Withholding, OrderID: &r.OrderID, OrderPosition: &r.OrderPosition,
			DeliveryNoteID: &r.DeliveryNoteID})
	}
	// Notes of orders signed under different tax treatments cannot share
	// one invoice's totals and legend.
	for _, n := range notes[1:] {
		other, err := sourced(ctx, q, in.OrgID, n.CustomerID, n.QuoteID, n.QuoteVersion, kind, in.By)
		if err != nil {
			return queries.Invoice{}, err
		}
		if other.treat.Regime != s.treat.Regime || other.treat.ExemptCause != s.treat.ExemptCause {
			return queries.Invoice{}, Invalid{"delivery_notes": {ID: "invoices.notes_mixed_tax"}}
		}
	}
	s.treat = treatmentOfLines(s.treat, s.lines)
	for _, l := range s.lines {
		if !money.Decimal(l.Withholding).Equal(s.treat.IRPF) {
			return queries.Invoice{}, Invalid{"delivery_notes": {ID: "invoices.notes_mixed_tax"}}
		}
	}
	s.notes = ids
	return s.write(ctx, q)
}

// sourced starts the draft of something a signed quote led to: its
// customer, and the tax treatment the quote version was sent under.
func sourced(ctx context.Context, q *queries.Queries, orgID, customerID, quoteID int64, version int32, kind Kind, by *int64) (spec, error) {
	org, err := q.GetOrgForInvoicing(ctx, orgID)
	if err != nil {
		return spec{}, err
	}
	v, err := q.GetQuoteVersion(ctx, queries.GetQuoteVersionParams{OrgID: orgID, QuoteID: quoteID, N: version})
	if err != nil {
		return spec{}, err
	}
	var pt quotes.Parties
	if len(v.Parties) > 0 {
		if err := json.Unmarshal(v.Parties, &pt); err != nil {
			return spec{}, err
		}
	}
	treat := pt.Tax
	if treat.Regime == "" {
		treat.Regime = tax.General // versions sent before regimes existed
	}
	ft, code := fiscalType(kind, ""), DefaultSeries(kind)
	return spec{treat: treat, p: queries.CreateInvoiceDraftParams{OrgID: orgID, Kind: string(kind), FiscalType: &ft, Series: &code,
		Currency: org.Currency, CustomerID: &customerID, CreatedBy: by}}, nil
}

// treatmentOfLines completes a source's treatment with what its lines
// carry: a quote's recargo and IRPF are chosen on the quote, so the lines,
// not the customer's record, say whether they apply.
func treatmentOfLines(t tax.CustomerTax, lines []queries.InsertInvoiceLineParams) tax.CustomerTax {
	if len(lines) == 0 {
		return t
	}
	if t.Regime == tax.General && money.Decimal(lines[0].Surcharge).IsPositive() {
		t.Regime = tax.Recargo
	}
	t.IRPF = money.Decimal(lines[0].Withholding)
	return t
}

// FromProforma drafts the ordinary invoice a proforma becomes: its
// customer, treatment and lines. A proforma becomes one invoice at most
// (ErrAlreadyInvoiced), unless that invoice is voided.
func FromProforma(ctx context.Context, tx pgx.Tx, orgID, proformaID int64, by *int64) (queries.Invoice, error) {
	q := queries.New(tx)
	pf, err := q.LockInvoice(ctx, queries.LockInvoiceParams{OrgID: orgID, ID: proformaID})
	if err != nil {
		return queries.Invoice{}, err
	}
	if Kind(pf.Kind) != Proforma || pf.State == Voided {
		return queries.Invoice{}, Invalid{"proforma": {ID: "invoices.not_a_proforma"}}
	}
	treat, err := treatmentOf(pf)
	if err != nil {
		return queries.Invoice{}, err
	}
	rows, err := q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: orgID, InvoiceID: pf.ID})
	if err != nil {
		return queries.Invoice{}, err
	}
	ft, code := fiscalType(Ordinary, ""), DefaultSeries(Ordinary)
	s := spec{treat: treat, lines: lineParams(rows), p: queries.CreateInvoiceDraftParams{OrgID: orgID, Kind: string(Ordinary),
		FiscalType: &ft, Series: &code, Currency: pf.Currency, CustomerID: pf.CustomerID, Notes: pf.Notes, OrderID: pf.OrderID,
		QuoteID: pf.QuoteID, QuoteVersion: pf.QuoteVersion, FromProformaID: &pf.ID, CreatedBy: by}}
	return s.write(ctx, q)
}

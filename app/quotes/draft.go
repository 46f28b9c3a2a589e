// Package quotes holds quotes (presupuestos): their lines, numbering,
// versions, PDF and the link a client signs them from. Totals come from
// app/tax, amounts from app/money and the PDF from app/printing.
package quotes

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/ident"
	"pulso/app/money"
	"pulso/app/tax"
	"pulso/queries"
)

// MaxLines bounds a quote: a phone editor and a one-page-per-30-lines PDF
// stay usable, and an autosave never writes thousands of rows.
const MaxLines = 200

// LineInput is one line as the editor posts it.
type LineInput struct {
	ProductID   string
	Description string
	Unit        string
	Quantity    string
	UnitPrice   string
	DiscountPct string
	TaxRateID   string
}

// DraftInput is the editor's whole draft: lines and the version's terms.
type DraftInput struct {
	ValidUntil string // yyyy-mm-dd
	Terms      string
	Recargo    bool
	IRPF       string // "" or "0": none
	Lines      []LineInput
	// Customer is the customer's tax treatment: under a zero-rated regime
	// (exempt, reverse charge, export) every line is at the 0 % rate.
	Customer tax.CustomerTax
}

// Draft is a validated draft, ready to store and to total.
type Draft struct {
	ValidUntil time.Time
	Terms      string
	Recargo    bool
	IRPF       decimal.Decimal
	Lines      []queries.InsertQuoteLineParams
	Totals     tax.Totals
}

// Units a line may be sold in (the catalog's).
var units = map[string]bool{"ud": true, "h": true, "kg": true, "m": true, "m2": true, "l": true, "servicio": true}

func parsePct(s string) (decimal.Decimal, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return decimal.Zero, true
	}
	return money.ParseDecimal(s)
}

// ParseDraft validates a draft for an org of country. Every problem comes
// back as an i18n id keyed by field ("valid_until", "lines.2.quantity", …);
// good lines are not dropped because another is bad. Tax rates must be in
// force today for the country, and products active in the org.
func ParseDraft(ctx context.Context, q *queries.Queries, orgID int64, country string, in DraftInput, today time.Time) (Draft, map[string]string, error) {
	errs := map[string]string{}
	var d Draft
	vu, err := time.Parse("2006-01-02", strings.TrimSpace(in.ValidUntil))
	switch {
	case err != nil:
		errs["valid_until"] = "validation.date"
	case vu.Before(calendar.Civil(today)):
		errs["valid_until"] = "quotes.valid_until_past"
	case vu.After(today.AddDate(1, 0, 0)):
		errs["valid_until"] = "quotes.valid_until_far"
	}
	d.ValidUntil = vu
	d.Terms = strings.TrimSpace(in.Terms)
	if len(d.Terms) > 5000 || !ident.CleanText(strings.ReplaceAll(strings.ReplaceAll(d.Terms, "\n", " "), "\r", "")) {
		errs["terms"] = "validation.text"
	}
	d.Recargo = in.Recargo && country == "ES" && !in.Customer.ZeroRated()
	d.IRPF = decimal.Zero
	if s := strings.TrimSpace(in.IRPF); s != "" && s != "0" {
		if country != "ES" {
			errs["irpf"] = "validation.choice"
		} else if r, ok := money.ParseDecimal(s); !ok || !(r.Equal(decimal.NewFromInt(15)) || r.Equal(decimal.NewFromInt(7))) {
			errs["irpf"] = "validation.choice"
		} else {
			d.IRPF = r
		}
	}
	if len(in.Lines) > MaxLines {
		errs["lines"] = "quotes.too_many_lines"
		return d, errs, nil
	}

	rates, err := tax.IVAOn(ctx, q, country, today)
	if err != nil {
		return d, nil, err
	}
	ivas := map[int64]tax.Rate{}
	var zero tax.Rate // the country's 0 % rate, for zero-rated customers
	for _, r := range rates {
		ivas[r.ID] = r
		if r.Rate.IsZero() {
			zero = r
		}
	}
	var calc []tax.Line
	for i, l := range in.Lines {
		key := "lines." + strconv.Itoa(i) + "."
		before := len(errs)
		p := queries.InsertQuoteLineParams{OrgID: orgID, Position: int32(len(d.Lines) + 1)}
		if s := strings.TrimSpace(l.ProductID); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				errs[key+"description"] = "quotes.product_gone"
			} else if _, err := q.GetActiveProduct(ctx, queries.GetActiveProductParams{OrgID: orgID, ID: id}); errors.Is(err, pgx.ErrNoRows) {
				errs[key+"description"] = "quotes.product_gone"
			} else if err != nil {
				return d, nil, err
			} else {
				p.ProductID = &id
			}
		}
		p.Description = strings.TrimSpace(l.Description)
		if p.Description == "" || len(p.Description) > 1000 || !ident.CleanText(strings.ReplaceAll(p.Description, "\n", " ")) {
			errs[key+"description"] = "quotes.description_required"
		}
		p.Unit = l.Unit
		if p.Unit == "" {
			p.Unit = "ud"
		}
		if !units[p.Unit] {
			errs[key+"unit"] = "validation.choice"
		}
		qty, ok := money.ParseDecimal(l.Quantity)
		if !ok || !qty.IsPositive() {
			errs[key+"quantity"] = "quotes.quantity_invalid"
		}
		price, err := money.ParseAmount(l.UnitPrice, country)
		if err != nil || price <= 0 {
			errs[key+"unit_price"] = "quotes.price_invalid"
		}
		disc, ok := parsePct(l.DiscountPct)
		if !ok || disc.IsNegative() || disc.GreaterThanOrEqual(decimal.NewFromInt(100)) || disc.Exponent() < -2 {
			errs[key+"discount"] = "quotes.discount_invalid"
		}
		rid, _ := strconv.ParseInt(strings.TrimSpace(l.TaxRateID), 10, 64)
		rate, ok := ivas[rid]
		if ok && in.Customer.ZeroRated() {
			rate, ok = zero, zero.ID != 0
		}
		if !ok {
			errs[key+"tax_rate_id"] = "quotes.tax_rate_unknown"
		}
		if len(errs) > before {
			continue
		}
		line := tax.Line{Quantity: qty, UnitPrice: price, DiscountPct: disc, TaxRate: rate.Rate, Withholding: d.IRPF}
		if d.Recargo {
			line.Surcharge = tax.RecargoFor(rate.Rate)
		}
		if f := tax.Validate(line); f != "" {
			// The form's names for Validate's fields; recargo and IRPF come
			// from the quote, not the line.
			field := map[string]string{"tax_rate": "tax_rate_id", "surcharge": "tax_rate_id", "withholding": "tax_rate_id"}[f]
			if field == "" {
				field = f
			}
			errs[key+field] = "quotes." + f + "_invalid"
			continue
		}
		p.Quantity, p.UnitPrice, p.DiscountPct = money.Numeric(qty), price, money.Numeric(disc)
		p.TaxRateID, p.TaxRate = rate.ID, money.Numeric(rate.Rate)
		p.Surcharge, p.Withholding = money.Numeric(line.Surcharge), money.Numeric(line.Withholding)
		d.Lines = append(d.Lines, p)
		calc = append(calc, line)
	}
	if len(errs) > 0 {
		return d, errs, nil
	}
	t, err := tax.Compute(calc)
	if err != nil {
		return d, nil, err
	}
	for i := range d.Lines {
		d.Lines[i].Amount = t.Lines[i]
	}
	d.Totals = t
	return d, nil, nil
}

// ErrConflict is returned when the quote changed since the editor loaded
// it (another tab, another person, or it was sent meanwhile).
var ErrConflict = errors.New("quotes: changed by someone else")

// SaveDraft stores d as the draft version n of quote id, if the quote is
// still at revision; it returns the new revision.
func SaveDraft(ctx context.Context, tx pgx.Tx, orgID, id int64, revision int32, n int32, d Draft) (int32, error) {
	q := queries.New(tx)
	qt, err := q.TouchQuote(ctx, queries.TouchQuoteParams{OrgID: orgID, ID: id, Revision: revision})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrConflict
	}
	if err != nil {
		return 0, err
	}
	if _, err := q.UpdateDraftVersion(ctx, queries.UpdateDraftVersionParams{OrgID: orgID, QuoteID: id, N: n,
		ValidUntil: pgtype.Date{Time: d.ValidUntil, Valid: true}, Terms: d.Terms, Recargo: d.Recargo, IrpfRate: money.Numeric(d.IRPF),
		Base: d.Totals.Base, Tax: d.Totals.Tax, Surcharge: d.Totals.Surcharge, Withheld: d.Totals.Withheld, Total: d.Totals.Total}); errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrConflict // the version was sent meanwhile
	} else if err != nil {
		return 0, err
	}
	if err := q.DeleteQuoteLines(ctx, queries.DeleteQuoteLinesParams{OrgID: orgID, QuoteID: id, VersionN: n}); err != nil {
		return 0, err
	}
	for _, l := range d.Lines {
		l.QuoteID, l.VersionN = id, n
		if err := q.InsertQuoteLine(ctx, l); err != nil {
			return 0, err
		}
	}
	return qt.Revision, nil
}

// LinesOf turns stored lines back into what Compute takes.
func LinesOf(rows []queries.QuoteLine) []tax.Line {
	out := make([]tax.Line, len(rows))
	for i, r := range rows {
		out[i] = tax.Line{Quantity: money.Decimal(r.Quantity), UnitPrice: r.UnitPrice, DiscountPct: money.Decimal(r.DiscountPct),
			TaxRate: money.Decimal(r.TaxRate), Surcharge: money.Decimal(r.Surcharge), Withholding: money.Decimal(r.Withholding)}
	}
	return out
}

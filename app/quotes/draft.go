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

	"pulso/app/customers"
	"pulso/app/web"
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
}

// Draft is a validated draft, ready to store and to total.
type Draft struct {
	ValidUntil time.Time
	Terms      string
	Recargo    bool
	IRPF       decimal.Decimal
	Lines      []queries.InsertQuoteLineParams
	Totals     Totals
}

// recargoFor is the recargo de equivalencia that goes with each IVA rate
// (Ley 37/1992, art. 161: 21 → 5,2; 10 → 1,4; 4 → 0,5; exempt lines none).
var recargoFor = map[string]string{"21": "5.2", "10": "1.4", "4": "0.5"}

// Units a line may be sold in (the catalog's).
var units = map[string]bool{"ud": true, "h": true, "kg": true, "m": true, "m2": true, "l": true, "servicio": true}

// ParseQuantity reads a quantity as typed on a phone: one decimal mark,
// comma or point, up to three decimals, no grouping.
func ParseQuantity(s string) (decimal.Decimal, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 16 || strings.Count(s, ",")+strings.Count(s, ".") > 1 {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(strings.Replace(s, ",", ".", 1))
	if err != nil || d.Exponent() < -3 {
		return decimal.Decimal{}, false
	}
	return d, true
}

func parsePct(s string) (decimal.Decimal, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return decimal.Zero, true
	}
	return ParseQuantity(s)
}

// Numeric converts an exact decimal for pgx.
func Numeric(d decimal.Decimal) pgtype.Numeric {
	return pgtype.Numeric{Int: d.Coefficient(), Exp: d.Exponent(), Valid: true}
}

// Decimal converts a numeric column (NULL reads as zero).
func Decimal(n pgtype.Numeric) decimal.Decimal {
	if !n.Valid || n.Int == nil {
		return decimal.Zero
	}
	return decimal.NewFromBigInt(n.Int, n.Exp)
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
	case vu.Before(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)):
		errs["valid_until"] = "quotes.valid_until_past"
	case vu.After(today.AddDate(1, 0, 0)):
		errs["valid_until"] = "quotes.valid_until_far"
	}
	d.ValidUntil = vu
	d.Terms = strings.TrimSpace(in.Terms)
	if len(d.Terms) > 5000 || !web.CleanText(strings.ReplaceAll(strings.ReplaceAll(d.Terms, "\n", " "), "\r", "")) {
		errs["terms"] = "validation.text"
	}
	d.Recargo = in.Recargo && country == "ES"
	d.IRPF = decimal.Zero
	if s := strings.TrimSpace(in.IRPF); s != "" && s != "0" {
		if country != "ES" {
			errs["irpf"] = "validation.choice"
		} else if r, ok := ParseQuantity(s); !ok || !(r.Equal(decimal.NewFromInt(15)) || r.Equal(decimal.NewFromInt(7))) {
			errs["irpf"] = "validation.choice"
		} else {
			d.IRPF = r
		}
	}
	if len(in.Lines) > MaxLines {
		errs["lines"] = "quotes.too_many_lines"
		return d, errs, nil
	}

	rates, err := RatesOn(ctx, q, country, today)
	if err != nil {
		return d, nil, err
	}
	ivas := map[int64]Rate{}
	for _, r := range rates {
		if r.Kind == "iva" {
			ivas[r.ID] = r
		}
	}
	var calc []Line
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
		if p.Description == "" || len(p.Description) > 1000 || !web.CleanText(strings.ReplaceAll(p.Description, "\n", " ")) {
			errs[key+"description"] = "quotes.description_required"
		}
		p.Unit = l.Unit
		if p.Unit == "" {
			p.Unit = "ud"
		}
		if !units[p.Unit] {
			errs[key+"unit"] = "validation.choice"
		}
		qty, ok := ParseQuantity(l.Quantity)
		if !ok || !qty.IsPositive() {
			errs[key+"quantity"] = "quotes.quantity_invalid"
		}
		price, err := customers.ParseAmount(l.UnitPrice, country)
		if err != nil || price <= 0 {
			errs[key+"unit_price"] = "quotes.price_invalid"
		}
		disc, ok := parsePct(l.DiscountPct)
		if !ok || disc.IsNegative() || disc.GreaterThanOrEqual(hundred) || disc.Exponent() < -2 {
			errs[key+"discount"] = "quotes.discount_invalid"
		}
		rid, _ := strconv.ParseInt(strings.TrimSpace(l.TaxRateID), 10, 64)
		rate, ok := ivas[rid]
		if !ok {
			errs[key+"tax_rate_id"] = "quotes.tax_rate_unknown"
		}
		if len(errs) > before {
			continue
		}
		line := Line{Quantity: qty, UnitPrice: price, DiscountPct: disc, TaxRate: rate.Rate, Withholding: d.IRPF}
		if r, ok := recargoFor[rate.Rate.String()]; ok && d.Recargo {
			line.Surcharge = decimal.RequireFromString(r)
		}
		if f := Validate(line); f != "" {
			// The form's names for Validate's fields; recargo and IRPF come
			// from the quote, not the line.
			field := map[string]string{"tax_rate": "tax_rate_id", "surcharge": "tax_rate_id", "withholding": "tax_rate_id"}[f]
			if field == "" {
				field = f
			}
			errs[key+field] = "quotes." + f + "_invalid"
			continue
		}
		p.Quantity, p.UnitPrice, p.DiscountPct = Numeric(qty), price, Numeric(disc)
		p.TaxRateID, p.TaxRate = rate.ID, Numeric(rate.Rate)
		p.Surcharge, p.Withholding = Numeric(line.Surcharge), Numeric(line.Withholding)
		d.Lines = append(d.Lines, p)
		calc = append(calc, line)
	}
	if len(errs) > 0 {
		return d, errs, nil
	}
	t, err := Compute(calc)
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
		ValidUntil: pgtype.Date{Time: d.ValidUntil, Valid: true}, Terms: d.Terms, Recargo: d.Recargo, IrpfRate: Numeric(d.IRPF),
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
func LinesOf(rows []queries.QuoteLine) []Line {
	out := make([]Line, len(rows))
	for i, r := range rows {
		out[i] = Line{Quantity: Decimal(r.Quantity), UnitPrice: r.UnitPrice, DiscountPct: Decimal(r.DiscountPct),
			TaxRate: Decimal(r.TaxRate), Surcharge: Decimal(r.Surcharge), Withholding: Decimal(r.Withholding)}
	}
	return out
}
